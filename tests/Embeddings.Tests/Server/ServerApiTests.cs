using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Embeddings.Corpus;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;
using Embeddings.Tests.Topics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Embeddings.Tests.Server;

/// <summary>
/// The HTTP API in process (ASP.NET Core's test server) over the hashing test encoder: shapes, errors as problem
/// details, limits (413, 429, 504), tokens, ingest, reads during an ingest, cancellation. No timing: gates decide.
/// </summary>
public sealed class ServerApiTests
{
    private const string Token = "s3cret-token";

    private static Paper[] Week(string prefix, int count, int seed) =>
        Synthetic.Papers(Enumerable.Range(0, count).Select(i => i % 4).ToArray(), seed, prefix);

    private static string Jsonl(IEnumerable<Paper> papers) =>
        string.Concat(papers.Select(p => JsonSerializer.Serialize(new { id = p.Id, title = p.Title, @abstract = p.Abstract, date = p.Date }) + "\n"));

    private static async Task<string> WriteJsonlAsync(TempDir dir, string name, IEnumerable<Paper> papers)
    {
        string path = dir.File(name);
        await File.WriteAllTextAsync(path, Jsonl(papers));
        return path;
    }

    private static StringContent JsonBody(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static StringContent JsonLinesBody(string jsonl) => new(jsonl, System.Text.Encoding.UTF8, "application/x-ndjson");

    private static HttpRequestMessage Ingest(string jsonl, string? token = Token, string query = "")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/papers" + query) { Content = JsonLinesBody(jsonl) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return request;
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Asserts a problem-details answer with <paramref name="status"/> whose detail contains every part.</summary>
    private static async Task<string> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, params string[] parts)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        string detail = problem.GetProperty("detail").GetString()!;
        foreach (string part in parts)
        {
            Assert.Contains(part, detail, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal); // never a stack trace
        return detail;
    }

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(x => x.GetSingle()).ToArray();

    [Fact]
    public async Task Embeddings_answer_in_the_OpenAI_and_TEI_shapes_with_the_models_vectors()
    {
        using var dir = new TempDir();
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"));
        string[] texts = ["sparse attention for long documents", "quantization of LLM weights"];

        JsonElement list = await JsonAsync(await host.Client.PostAsync("/v1/embeddings",
            JsonBody("""{"input": ["sparse attention for long documents", "quantization of LLM weights"], "model": "text-embedding-3-small"}""")));
        Assert.Equal("list", list.GetProperty("object").GetString());
        string model = host.Library.Embeddings.Info.Name;
        Assert.Equal(model, list.GetProperty("model").GetString());
        JsonElement[] data = list.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(2, data.Length);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal("embedding", data[i].GetProperty("object").GetString());
            Assert.Equal(i, data[i].GetProperty("index").GetInt32());
            Assert.Equal(HashingTestEncoder.Embed(texts[i], 64), Floats(data[i].GetProperty("embedding")));
        }
        JsonElement usage = list.GetProperty("usage");
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt64(), usage.GetProperty("total_tokens").GetInt64());

        // base64: the little-endian float32 bytes of the same vector; a single string input gives one vector.
        JsonElement encoded = await JsonAsync(await host.Client.PostAsync("/v1/embeddings",
            JsonBody("""{"input": "quantization of LLM weights", "encoding_format": "base64"}""")));
        byte[] bytes = Convert.FromBase64String(encoded.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        float[] decoded = Enumerable.Range(0, bytes.Length / 4).Select(i => System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))).ToArray();
        Assert.Equal(HashingTestEncoder.Embed(texts[1], 64), decoded);

        // TEI: a bare array of arrays.
        JsonElement tei = await JsonAsync(await host.Client.PostAsync("/embed", JsonBody("""{"inputs": ["sparse attention for long documents"], "truncate": true}""")));
        Assert.Equal(JsonValueKind.Array, tei.ValueKind);
        Assert.Equal(HashingTestEncoder.Embed(texts[0], 64), Floats(tei[0]));

        JsonElement models = await JsonAsync(await host.Client.GetAsync("/v1/models"));
        Assert.Equal(model, models.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal("model", models.GetProperty("data")[0].GetProperty("object").GetString());
    }

    [Theory]
    [InlineData("/v1/embeddings", "{\"input\": [\"a\", 3]}", 400, "input[1]", "token ids are not accepted")]
    [InlineData("/v1/embeddings", "{\"input\": {\"text\": \"a\"}}", 400, "'input'", "not an object")]
    [InlineData("/v1/embeddings", "{\"model\": \"m\"}", 400, "'input': missing")]
    [InlineData("/v1/embeddings", "{\"input\": []}", 422, "'input': empty")]
    [InlineData("/v1/embeddings", "{\"input\": [\"fine\", \"  \"]}", 422, "input[1]", "empty")]
    [InlineData("/v1/embeddings", "{\"input\": \"a\", \"encoding_format\": \"int8\"}", 400, "encoding_format", "float, base64")]
    [InlineData("/v1/embeddings", "{\"input\": \"a\", \"dimensions\": 32}", 400, "64-dimensional", "32 dimensions")]
    [InlineData("/v1/embeddings", "{\"input\": \"a\",\n \"dimensions\": \"x\"}", 400, "line 2", "dimensions")]
    [InlineData("/v1/embeddings", "{\"input\": \"a\"", 400, "not the JSON this endpoint takes")]
    [InlineData("/embed", "{\"inputs\": \"a\", \"normalize\": false}", 422, "normalize")]
    [InlineData("/embed", "{\"inputs\": []}", 422, "'inputs': empty")]
    [InlineData("/api/similar", "{\"k\": 3}", 422, "Give text")]
    [InlineData("/api/similar", "{\"text\": \"a\", \"k\": 0}", 400, "'k'", "between 1 and")]
    [InlineData("/api/similar", "{\"text\": \"a\", \"mode\": \"fuzzy\"}", 400, "'mode'", "hybrid, vector, lexical")]
    [InlineData("/api/similar", "{\"text\": \"a\", \"filter\": [\"colour=red\"]}", 400, "'filter'")]
    [InlineData("/api/similar", "{\"like\": [\"w1-00000\"], \"like_ranking\": \"svm\"}", 400, "'like_ranking'", "classifier, rocchio")]
    public async Task Bad_requests_answer_problem_details_that_say_what_to_fix(string path, string body, int status, params string[] parts)
    {
        using var dir = new TempDir();
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"));
        await host.Library.IngestAsync([await WriteJsonlAsync(dir, "w1.jsonl", Week("w1-", 8, 1))]);
        await ProblemAsync(await host.Client.PostAsync(path, JsonBody(body)), (HttpStatusCode)status, parts);
    }

    [Fact]
    public async Task The_server_registration_tells_the_library_its_callers_are_concurrent()
    {
        // AddPaperLibraryServer sets ConcurrentCallers, so the model runs one thread per run, side by side, whatever
        // host composes the server; the library's own settings (the store) are kept.
        using var dir = new TempDir();
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"));
        PaperLibraryOptions options = host.Services.GetRequiredService<IOptions<PaperLibraryOptions>>().Value;
        Assert.True(options.ConcurrentCallers);
        Assert.Equal(dir.File("store"), options.StoreDirectory);
    }

    [Fact]
    public async Task Too_many_inputs_and_too_large_bodies_answer_413_naming_the_limit()
    {
        using var dir = new TempDir();
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"), o =>
        {
            o.MaxInputsPerRequest = 3;
            o.MaxRequestBytes = 4096;
            o.MaxIngestBytes = 2048;
            o.MaxTextLength = 100;
            o.Token = Token;
        });
        string four = JsonSerializer.Serialize(new { input = new[] { "a", "b", "c", "d" } });
        await ProblemAsync(await host.Client.PostAsync("/v1/embeddings", JsonBody(four)), HttpStatusCode.RequestEntityTooLarge, "4 texts", "at most 3", "--max-batch-inputs");
        await ProblemAsync(await host.Client.PostAsync("/embed", JsonBody("""{"inputs": ["a", "b", "c", "d"]}""")), HttpStatusCode.RequestEntityTooLarge, "at most 3");
        await ProblemAsync(await host.Client.PostAsync("/embed", JsonBody(JsonSerializer.Serialize(new { inputs = new string('x', 101) }))),
            HttpStatusCode.RequestEntityTooLarge, "101 characters", "at most 100");

        // Declared too large: refused before reading.
        string big = JsonSerializer.Serialize(new { input = new string('x', 5000) });
        await ProblemAsync(await host.Client.PostAsync("/v1/embeddings", JsonBody(big)), HttpStatusCode.RequestEntityTooLarge, "5012 bytes", "at most 4096", "--max-request-bytes");

        // Streamed without a length: cut off once past the limit.
        var streamed = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(big)));
        streamed.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = streamed };
        request.Headers.TransferEncodingChunked = true;
        await ProblemAsync(await host.Client.SendAsync(request), HttpStatusCode.RequestEntityTooLarge, "at most 4096");

        // An ingest streamed past its own limit: 413 naming that limit, nothing stored.
        var ingest = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Jsonl(Week("big-", 40, 3)))));
        ingest.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        var upload = new HttpRequestMessage(HttpMethod.Post, "/api/papers") { Content = ingest };
        upload.Headers.TransferEncodingChunked = true;
        upload.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        await ProblemAsync(await host.Client.SendAsync(upload), HttpStatusCode.RequestEntityTooLarge, "at most 2048", "--max-ingest-bytes");

        // The server still answers.
        await JsonAsync(await host.Client.PostAsync("/v1/embeddings", JsonBody("""{"input": "still here"}""")));
    }

    [Fact]
    public async Task Writes_need_the_token_and_reads_need_none_unless_configured()
    {
        using var dir = new TempDir();
        string paper = Jsonl(Week("w1-", 2, 1));
        await using (ServerHost host = await ServerHost.StartAsync(dir.File("store"), o => o.Token = Token))
        {
            HttpResponseMessage none = await host.Client.SendAsync(Ingest(paper, token: null));
            await ProblemAsync(none, HttpStatusCode.Unauthorized, "Authorization: Bearer");
            Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
            await ProblemAsync(await host.Client.SendAsync(Ingest(paper, token: "not-it")), HttpStatusCode.Forbidden, "not this server's");
            Assert.Equal(2, (await JsonAsync(await host.Client.SendAsync(Ingest(paper)))).GetProperty("new").GetInt32());
            await JsonAsync(await host.Client.GetAsync("/api/papers/w1-00000"));
            await JsonAsync(await host.Client.PostAsync("/v1/embeddings", JsonBody("""{"input": "a"}""")));
        }
        await using (ServerHost host = await ServerHost.StartAsync(dir.File("store")))
        {
            await ProblemAsync(await host.Client.SendAsync(Ingest(paper)), HttpStatusCode.Forbidden, "takes no writes", "--token");
        }
        await using (ServerHost host = await ServerHost.StartAsync(dir.File("store"), o => { o.Token = Token; o.RequireTokenForReads = true; }))
        {
            await ProblemAsync(await host.Client.GetAsync("/api/papers/w1-00000"), HttpStatusCode.Unauthorized, "token");
            await ProblemAsync(await host.Client.PostAsync("/v1/embeddings", JsonBody("""{"input": "a"}""")), HttpStatusCode.Unauthorized, "token");
            var read = new HttpRequestMessage(HttpMethod.Get, "/api/papers/w1-00000");
            read.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            await JsonAsync(await host.Client.SendAsync(read));
            Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/health")).StatusCode);
        }
    }

    [Fact]
    public async Task An_ingest_adds_the_papers_of_a_JSON_Lines_body_and_names_a_bad_line()
    {
        using var dir = new TempDir();
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"), o => o.Token = Token);
        Paper[] week = Week("w1-", 12, 1);
        JsonElement summary = await JsonAsync(await host.Client.SendAsync(Ingest(Jsonl(week), query: "?source=week-1")));
        Assert.Equal((12, 12, 12), (summary.GetProperty("read").GetInt32(), summary.GetProperty("new").GetInt32(), summary.GetProperty("count").GetInt32()));
        JsonElement paper = await JsonAsync(await host.Client.GetAsync("/api/papers/w1-00003"));
        Assert.Equal(week[3].Title, paper.GetProperty("title").GetString());
        Assert.Equal("week-1.jsonl", paper.GetProperty("sources")[0].GetString());

        // Again: nothing new is embedded.
        summary = await JsonAsync(await host.Client.SendAsync(Ingest(Jsonl(week), query: "?source=week-1")));
        Assert.Equal((0, 12), (summary.GetProperty("new").GetInt32(), summary.GetProperty("duplicate").GetInt32()));

        string bad = Jsonl(Week("w2-", 2, 2)) + "{\"id\": \"x\", \"title\": 5}\n";
        await ProblemAsync(await host.Client.SendAsync(Ingest(bad, query: "?source=week-2.jsonl")), HttpStatusCode.UnprocessableEntity, "week-2.jsonl:3", "title");
        summary = await JsonAsync(await host.Client.SendAsync(Ingest(bad, query: "?source=week-2.jsonl&skipBad=true")));
        Assert.Equal(1, summary.GetProperty("skipped").GetInt32());

        var wrongType = new HttpRequestMessage(HttpMethod.Post, "/api/papers") { Content = JsonBody("[]") };
        wrongType.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        await ProblemAsync(await host.Client.SendAsync(wrongType), HttpStatusCode.UnsupportedMediaType, "application/x-ndjson");
    }

    [Fact]
    public async Task Searches_answer_from_the_last_committed_state_while_an_ingest_runs()
    {
        using var dir = new TempDir();
        var encoder = new GatedEncoder(new HashingTestEncoder(64, ServerHost.TestFingerprint));
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"), o => o.Token = Token, () => encoder);
        await host.Library.IngestAsync([await WriteJsonlAsync(dir, "week1.jsonl", Week("w1-", 40, 1))]);
        string before = await host.Client.GetStringAsync("/api/similar?id=w1-00000&k=10");

        encoder.Close();
        Task<HttpResponseMessage> ingest = host.Client.SendAsync(Ingest(Jsonl(Week("w2-", 30, 2))));
        await encoder.Entered;
        // The ingest is inside the model: reads answer from week 1, as before.
        Assert.Equal(before, await host.Client.GetStringAsync("/api/similar?id=w1-00000&k=10"));
        await ProblemAsync(await host.Client.GetAsync("/api/papers/w2-00000"), HttpStatusCode.NotFound, "w2-00000");
        Assert.Equal(40, (await JsonAsync(await host.Client.GetAsync("/info"))).GetProperty("papers").GetInt32());
        Assert.Equal(40, (await host.Client.GetStringAsync("/api/papers")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.False(ingest.IsCompleted);

        encoder.Open();
        Assert.Equal(70, (await JsonAsync(await ingest)).GetProperty("count").GetInt32());
        await JsonAsync(await host.Client.GetAsync("/api/papers/w2-00000"));
        JsonElement after = await JsonAsync(await host.Client.GetAsync("/api/similar?id=w2-00000&k=70"));
        Assert.Contains(after.GetProperty("hits").EnumerateArray(), h => h.GetProperty("id").GetString()!.StartsWith("w2-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Over_the_concurrency_limit_requests_get_429_with_Retry_After_and_nothing_fails()
    {
        using var dir = new TempDir();
        var encoder = new GatedEncoder(new HashingTestEncoder(64, ServerHost.TestFingerprint));
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"), o =>
        {
            o.MaxConcurrentRequests = 1;
            o.MaxQueuedRequests = 0;
            o.RetryAfterSeconds = 2;
        }, () => encoder);
        _ = host.Library.Embeddings.Info; // load the model before closing the gate
        encoder.Close();
        Task<HttpResponseMessage> first = host.Client.PostAsync("/v1/embeddings", JsonBody("""{"input": "held at the gate"}"""));
        await encoder.Entered;

        HttpResponseMessage refused = await host.Client.PostAsync("/v1/embeddings", JsonBody("""{"input": "one too many"}"""));
        await ProblemAsync(refused, HttpStatusCode.TooManyRequests, "busy", "Retry after 2 s");
        Assert.Equal(TimeSpan.FromSeconds(2), refused.Headers.RetryAfter?.Delta);
        await ProblemAsync(await host.Client.GetAsync("/api/similar?text=x"), HttpStatusCode.TooManyRequests, "busy");
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/health")).StatusCode); // never limited

        encoder.Open();
        await JsonAsync(await first);
        await JsonAsync(await host.Client.PostAsync("/v1/embeddings", JsonBody("""{"input": "room again"}""")));
        Assert.DoesNotContain(host.Log, e => e.Level >= LogLevel.Error);
        Assert.Contains(host.Log, e => e.Event.Id == 102); // the 429 was logged as a warning
    }

    [Fact]
    public async Task A_request_past_its_time_answers_504_and_the_model_work_stops()
    {
        using var dir = new TempDir();
        var encoder = new GatedEncoder(new HashingTestEncoder(64, ServerHost.TestFingerprint));
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"), o => o.RequestTimeout = TimeSpan.FromMilliseconds(50), () => encoder);
        _ = host.Library.Embeddings.Info;
        encoder.Close(); // never opened: the request can only end by its timeout
        await ProblemAsync(await host.Client.PostAsync("/v1/embeddings", JsonBody("""{"input": "never answered"}""")), HttpStatusCode.GatewayTimeout, "0.05 s");
        await encoder.Cancelled;
    }

    [Fact]
    public async Task A_client_that_goes_away_cancels_its_model_work()
    {
        using var dir = new TempDir();
        var encoder = new GatedEncoder(new HashingTestEncoder(64, ServerHost.TestFingerprint));
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"), encoder: () => encoder);
        _ = host.Library.Embeddings.Info;
        encoder.Close();
        using var gone = new CancellationTokenSource();
        Task<HttpResponseMessage> request = host.Client.PostAsync("/v1/embeddings", JsonBody("""{"input": "nobody waits for this"}"""), gone.Token);
        await encoder.Entered;
        await gone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await encoder.Cancelled; // the model call saw the cancellation: its batch had no one left
        encoder.Open();
        await JsonAsync(await host.Client.PostAsync("/v1/embeddings", JsonBody("""{"input": "next one"}""")));
        Assert.DoesNotContain(host.Log, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Similar_papers_and_papers_answer_with_the_librarys_json_contracts()
    {
        using var dir = new TempDir();
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"));
        Paper[] week = Week("w1-", 24, 3);
        await host.Library.IngestAsync([await WriteJsonlAsync(dir, "w1.jsonl", week)]);
        string text = week[5].Abstract;

        string expected = LibraryJson.Hits(await host.Library.SimilarAsync(new SimilarQuery { Text = text, K = 4 }));
        Assert.Equal(expected, await host.Client.GetStringAsync("/api/similar?k=4&text=" + Uri.EscapeDataString(text)));
        Assert.Equal(expected, await (await host.Client.PostAsync("/api/similar", JsonBody(JsonSerializer.Serialize(new { text, k = 4 })))).Content.ReadAsStringAsync());

        var liking = new SimilarQuery { Like = ["w1-00001", "w1-00005"], Unlike = ["w1-00002"], K = 5, Mode = RankingMode.Vector };
        Assert.Equal(LibraryJson.Hits(await host.Library.SimilarAsync(liking)),
            await host.Client.GetStringAsync("/api/similar?like=w1-00001&like=w1-00005&unlike=w1-00002&k=5&mode=vector"));

        Assert.Equal(LibraryJson.Paper((await host.Library.GetPaperAsync("w1-00007"))!), await host.Client.GetStringAsync("/api/papers/w1-00007"));
        await ProblemAsync(await host.Client.GetAsync("/api/papers/nope"), HttpStatusCode.NotFound, "'nope'");
        await ProblemAsync(await host.Client.GetAsync("/api/similar?id=nope"), HttpStatusCode.NotFound, "'nope'");
        await ProblemAsync(await host.Client.GetAsync("/api/similar?text=a&k=ten"), HttpStatusCode.BadRequest, "'k'", "'ten'");
        await ProblemAsync(await host.Client.GetAsync("/api/nothing-here"), HttpStatusCode.NotFound, "/openapi/v1.json");

        HttpResponseMessage listed = await host.Client.GetAsync("/api/papers?filter=" + Uri.EscapeDataString("id=w1-00001,w1-00002"));
        Assert.Equal("application/x-ndjson", listed.Content.Headers.ContentType?.MediaType);
        string[] lines = (await listed.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["w1-00001", "w1-00002"], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()!).Order().ToArray());
        Assert.Equal(3, (await host.Client.GetStringAsync("/api/papers?limit=3")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Topics_and_digests_come_from_the_library_once_per_store_state()
    {
        using var dir = new TempDir();
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"), o => o.Token = Token);
        await host.Library.IngestAsync([await WriteJsonlAsync(dir, "w1.jsonl", Week("w1-", 48, 4))]);

        string topics = await host.Client.GetStringAsync("/api/topics");
        JsonElement model = JsonDocument.Parse(topics).RootElement;
        Assert.Equal(48, model.GetProperty("topics").EnumerateArray().Sum(t => t.GetProperty("size").GetInt32()) + model.GetProperty("outliers").GetArrayLength());
        Assert.Equal(topics, await host.Client.GetStringAsync("/api/topics")); // kept: the same answer, not a second clustering (whose trends would differ)

        JsonElement digest = await JsonAsync(await host.Client.GetAsync("/api/digest"));
        Assert.Equal(48, digest.GetProperty("papers").GetInt32());
        HttpResponseMessage html = await host.Client.GetAsync("/api/digest?format=html&dump=w1.jsonl");
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<svg", await html.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("text/markdown", (await host.Client.GetAsync("/api/digest?format=md")).Content.Headers.ContentType?.MediaType);
        await ProblemAsync(await host.Client.GetAsync("/api/digest?since=yesterday"), HttpStatusCode.BadRequest, "'since'");
        await ProblemAsync(await host.Client.GetAsync("/api/digest?format=pdf"), HttpStatusCode.BadRequest, "json, html, md");

        // A commit makes a new state: the digest covers the new papers.
        await JsonAsync(await host.Client.SendAsync(Ingest(Jsonl(Week("w2-", 8, 5)))));
        Assert.Equal(56, (await JsonAsync(await host.Client.GetAsync("/api/digest"))).GetProperty("papers").GetInt32());
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_every_endpoint()
    {
        using var dir = new TempDir();
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"));
        JsonElement doc = await JsonAsync(await host.Client.GetAsync("/openapi/v1.json"));
        Assert.StartsWith("3.", doc.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        JsonElement paths = doc.GetProperty("paths");
        foreach (string path in new[] { "/health", "/info", "/v1/embeddings", "/v1/models", "/embed", "/api/similar", "/api/papers/{id}", "/api/papers", "/api/topics", "/api/digest", "/", "/paper", "/topics" })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is not in the OpenAPI document");
        }
        Assert.True(paths.GetProperty("/api/papers").TryGetProperty("post", out JsonElement ingest));
        Assert.True(ingest.GetProperty("responses").TryGetProperty("401", out _));
        JsonElement embeddings = paths.GetProperty("/v1/embeddings").GetProperty("post");
        Assert.True(embeddings.GetProperty("responses").TryGetProperty("429", out _));
        JsonElement request = embeddings.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        if (request.TryGetProperty("$ref", out JsonElement reference))
        {
            request = doc.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]);
        }
        Assert.True(request.GetProperty("properties").TryGetProperty("encoding_format", out _));
        Assert.True(ingest.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/x-ndjson", out _));
    }
}
