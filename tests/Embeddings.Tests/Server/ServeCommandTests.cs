using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Embeddings.Cli;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Server;

/// <summary>
/// <c>embeddings serve</c> as a user starts it: the CLI in process with the default model, on a free loopback port,
/// over a store folder that does not exist yet; filled through the API with the token, searched, then stopped as
/// Ctrl+C stops it. Bad settings stop it before it listens with one line naming the option.
/// </summary>
public sealed partial class ServeCommandTests
{
    [Fact]
    public async Task Serve_listens_on_loopback_takes_an_ingest_with_the_token_answers_and_stops_when_cancelled()
    {
        using var dir = new TempDir();
        var error = new WatchedWriter("serving ");
        using var stop = new CancellationTokenSource();
        Task<int> serve = Program.RunAsync(["serve", "--store", dir.File("store"), "--urls", "http://127.0.0.1:0", "--token", "t0ken", "--max-batch-inputs", "4"],
            new CliConsole(new StringWriter(), error), stop.Token);
        Task first = await Task.WhenAny(serve, error.Seen);
        Assert.True(first == error.Seen, $"serve ended before listening: {error}");

        Match listening = ListeningLine().Match(error.ToString());
        Assert.True(listening.Success, error.ToString());
        var address = new Uri(listening.Groups[1].Value);
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(address.Host)));
        Assert.Contains("0 papers", error.ToString(), StringComparison.Ordinal);

        using var client = new HttpClient { BaseAddress = address };
        Assert.Equal("ok", JsonDocument.Parse(await client.GetStringAsync("/health")).RootElement.GetProperty("status").GetString());
        string jsonl = "{\"id\": \"p1\", \"title\": \"Sparse attention for long documents\", \"abstract\": \"We study sparse attention patterns that let transformers read long documents.\"}\n" +
            "{\"id\": \"p2\", \"title\": \"Weight quantization\", \"abstract\": \"We quantize the weights of large language models to four bits.\"}\n";
        var ingest = new HttpRequestMessage(HttpMethod.Post, "/api/papers") { Content = new StringContent(jsonl, System.Text.Encoding.UTF8, "application/x-ndjson") };
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(ingest)).StatusCode);
        ingest = new HttpRequestMessage(HttpMethod.Post, "/api/papers") { Content = new StringContent(jsonl, System.Text.Encoding.UTF8, "application/x-ndjson") };
        ingest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "t0ken");
        HttpResponseMessage ingested = await client.SendAsync(ingest);
        Assert.True(ingested.IsSuccessStatusCode, await ingested.Content.ReadAsStringAsync());
        Assert.Equal(2, JsonDocument.Parse(await ingested.Content.ReadAsStringAsync()).RootElement.GetProperty("new").GetInt32());

        JsonElement hits = JsonDocument.Parse(await client.GetStringAsync("/api/similar?text=quantized+language+model+weights&k=1")).RootElement.GetProperty("hits");
        Assert.Equal("p2", hits[0].GetProperty("id").GetString());
        JsonElement info = JsonDocument.Parse(await client.GetStringAsync("/info")).RootElement;
        Assert.Equal((2, 4), (info.GetProperty("papers").GetInt32(), info.GetProperty("limits").GetProperty("maxInputsPerRequest").GetInt32()));
        HttpResponseMessage tooMany = await client.PostAsync("/v1/embeddings", new StringContent("""{"input": ["a", "b", "c", "d", "e"]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);
        Assert.Contains("at most 4", await tooMany.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await stop.CancelAsync();
        Assert.Equal(0, await serve);
        Assert.EndsWith("embeddings: stopped" + Environment.NewLine, error.ToString(), StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("/health"));
    }

    [Theory]
    [InlineData("--max-concurrent-requests", "0", "MaxConcurrentRequests must be at least 1")]
    [InlineData("--request-timeout", "-1", "--request-timeout must be a positive number")]
    [InlineData("--urls", "not-a-url", "--urls not-a-url")]
    public async Task Bad_settings_stop_serve_before_it_listens_with_one_line(string option, string value, string message)
    {
        using var dir = new TempDir();
        var (exit, _, err) = await CliHarness.RunAsync("serve", "--store", dir.File("store"), option, value);
        Assert.Equal(2, exit); // a usage error under the CLI's exit rule
        Assert.Contains(message, err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_already_taken_is_an_environment_error_in_one_line()
    {
        using var dir = new TempDir();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var (exit, _, err) = await CliHarness.RunAsync("serve", "--store", dir.File("store"), "--urls", $"http://127.0.0.1:{port}");
        Assert.Equal(1, exit);
        Assert.Contains($"cannot listen on http://127.0.0.1:{port}", err, StringComparison.Ordinal);
        Assert.Contains("--urls", err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [GeneratedRegex(@"on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();

    /// <summary>A thread-safe writer that completes <see cref="Seen"/> once a line containing a marker was written.</summary>
    private sealed class WatchedWriter(string marker) : TextWriter
    {
        private readonly StringBuilder _text = new();
        private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Seen => _seen.Task;

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_text)
            {
                _text.Append(value);
                if (value == '\n' && _text.ToString().Contains(marker, StringComparison.Ordinal))
                {
                    _seen.TrySetResult();
                }
            }
        }

        public override void Write(string? value)
        {
            foreach (char c in value ?? "")
            {
                Write(c);
            }
        }

        public override string ToString()
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }
}
