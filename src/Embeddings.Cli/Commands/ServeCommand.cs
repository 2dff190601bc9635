using System.CommandLine;
using System.Globalization;
using Embeddings.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings serve --store DIR [--urls URL] [--token TOKEN] [--max-concurrent-requests N] [--max-batch-inputs N]
/// [--max-request-bytes N]</c>: the HTTP server (OpenAI- and TEI-compatible embeddings, the paper API, the web page)
/// over the store, on this machine only unless told otherwise, until Ctrl+C.
/// </summary>
internal static class ServeCommand
{
    internal static Command Create(CliConsole console)
    {
        var store = CommonOptions.Store("Store folder to serve (made by `embeddings ingest`; an empty folder is fine: POST /api/papers fills it).");
        var urls = new Option<string[]>("--urls")
        {
            Description = $"Addresses to listen on (default {PaperLibraryServer.DefaultUrl}: this machine only). Port 0 picks a free port.",
            AllowMultipleArgumentsPerToken = true,
        };
        var token = new Option<string?>("--token") { Description = "Bearer token that writes (POST /api/papers) need; without it the server takes no writes. Also read from $EMBEDDINGS_TOKEN." };
        var protectReads = new Option<bool>("--protect-reads") { Description = "Reads need the token too (the web page then needs a client that sends it)." };
        var defaults = new PaperLibraryServerOptions();
        var maxConcurrent = new Option<int>("--max-concurrent-requests")
        {
            Description = "Model and search requests answered at once; as many again wait, the rest get 429 with Retry-After.",
            DefaultValueFactory = _ => defaults.MaxConcurrentRequests,
        };
        var maxQueued = new Option<int?>("--max-queued-requests") { Description = "Requests that may wait for a slot (default: --max-concurrent-requests)." };
        var maxInputs = new Option<int>("--max-batch-inputs")
        {
            Description = "Most texts in one embedding request; more answer 413 naming the limit.",
            DefaultValueFactory = _ => defaults.MaxInputsPerRequest,
        };
        var maxBytes = new Option<long>("--max-request-bytes")
        {
            Description = "Largest JSON request body in bytes; larger answer 413.",
            DefaultValueFactory = _ => defaults.MaxRequestBytes,
        };
        var maxIngestBytes = new Option<long>("--max-ingest-bytes")
        {
            Description = "Largest ingest body (POST /api/papers) in bytes; it is streamed, never held whole.",
            DefaultValueFactory = _ => defaults.MaxIngestBytes,
        };
        var maxBatchTokens = new Option<int>("--max-batch-tokens")
        {
            Description = "Most tokens in one model batch when concurrent embedding requests are merged.",
            DefaultValueFactory = _ => defaults.Batching.MaxBatchTokens,
        };
        var timeout = new Option<double>("--request-timeout")
        {
            Description = "Seconds a read or embedding request may take before it answers 504.",
            DefaultValueFactory = _ => defaults.RequestTimeout.TotalSeconds,
        };
        var model = new ModelOptionSet();
        var command = new Command("serve", "Serve the store over HTTP: OpenAI- and TEI-compatible embeddings, similar papers, topics, ingest, and a web page.")
        {
            store, urls, token, protectReads, maxConcurrent, maxQueued, maxInputs, maxBytes, maxIngestBytes, maxBatchTokens, timeout,
        };
        model.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            string[] addresses = parse.GetValue(urls) is { Length: > 0 } given ? given : [PaperLibraryServer.DefaultUrl];
            string? secret = parse.GetValue(token) ?? (Environment.GetEnvironmentVariable("EMBEDDINGS_TOKEN") is { Length: > 0 } fromEnv ? fromEnv : null);
            double seconds = parse.GetValue(timeout);
            if (!(seconds > 0) || double.IsInfinity(seconds))
            {
                throw new UsageException($"--request-timeout must be a positive number of seconds, not {seconds.ToString(CultureInfo.InvariantCulture)}.");
            }
            WebApplication app = PaperLibraryServer.Build(
                library => model.Apply(parse, library).StoreDirectory = parse.GetValue(store)!,
                server =>
                {
                    server.Token = secret;
                    server.RequireTokenForReads = parse.GetValue(protectReads);
                    server.MaxConcurrentRequests = parse.GetValue(maxConcurrent);
                    server.MaxQueuedRequests = parse.GetValue(maxQueued);
                    server.MaxInputsPerRequest = parse.GetValue(maxInputs);
                    server.MaxRequestBytes = parse.GetValue(maxBytes);
                    server.MaxIngestBytes = parse.GetValue(maxIngestBytes);
                    server.Batching.MaxBatchTokens = parse.GetValue(maxBatchTokens);
                    server.RequestTimeout = TimeSpan.FromSeconds(seconds);
                },
                addresses,
                logging =>
                {
                    logging.AddProvider(new CliLoggerProvider(console));
                    // A start that fails is reported by StartAsync below as one line; the host's own "Hosting failed to start" would be a second.
                    logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
                });
            await using (app.ConfigureAwait(false))
            {
                await StartAsync(app, addresses, ct).ConfigureAwait(false);
                PaperLibrary library = app.Services.GetRequiredService<PaperLibrary>();
                LibraryStatus status = await library.GetStatusAsync(ct).ConfigureAwait(false);
                IReadOnlyList<string> listening = PaperLibraryServer.Addresses(app);
                console.Report(string.Create(CultureInfo.InvariantCulture,
                    $"serving {library.StoreDirectory} ({status.Papers} papers, model {library.Embeddings.Info.Name}) on {string.Join(", ", listening)}; Ctrl+C stops"));
                if (!PaperLibraryServer.LoopbackOnly(listening) && !parse.GetValue(protectReads))
                {
                    console.Report("warning: listening beyond this machine with open reads: anyone who reaches it can search the store (--protect-reads needs the token for reads too)");
                }
                if (secret is null)
                {
                    console.Report("no --token: the server takes no writes (POST /api/papers answers 403)");
                }
                try
                {
                    await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    // Ctrl+C: the host stops below.
                }
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }
            console.Report("stopped");
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>Validates the options, loads the model and the indexes, then listens; set-up errors become one line.</summary>
    private static async Task StartAsync(WebApplication app, string[] addresses, CancellationToken ct)
    {
        try
        {
            _ = app.Services.GetRequiredService<IOptions<PaperLibraryServerOptions>>().Value;
            _ = app.Services.GetRequiredService<IOptions<PaperLibraryOptions>>().Value;
            await PaperLibraryServer.WarmUpAsync(app, ct).ConfigureAwait(false);
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch (OptionsValidationException e)
        {
            throw new UsageException(string.Join(" ", e.Failures));
        }
        catch (IOException e)
        {
            throw new EmbeddingsException($"cannot listen on {string.Join(", ", addresses)}: {e.Message} (choose another port with --urls)");
        }
        catch (Exception e) when (e is FormatException or UriFormatException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            throw new UsageException($"--urls {string.Join(" ", addresses)}: {e.Message}");
        }
    }

    /// <summary>The host's warnings and errors as the CLI's <c>embeddings: ...</c> lines.</summary>
    private sealed class CliLoggerProvider(CliConsole console) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CliLogger(console);

        public void Dispose()
        {
        }
    }
}
