using System.Collections.Concurrent;
using Embeddings.Encoding;
using Embeddings.Server;
using Embeddings.Tests.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Embeddings.Tests.Server;

/// <summary>
/// The server as a user hosts it in an app of their own (AddPaperLibrary, AddPaperLibraryServer, UsePaperLibraryServer,
/// MapPaperLibrary), in process: on ASP.NET Core's test server (Microsoft.AspNetCore.Mvc.Testing's TestHost), or on
/// Kestrel on a free loopback port for clients that need a real socket (a browser). Captures the log.
/// </summary>
internal sealed class ServerHost : IAsyncDisposable
{
    public const string TestFingerprint = "test-double:hashing-words:64";

    private readonly WebApplication _app;

    private ServerHost(WebApplication app, HttpClient client, Uri address, ConcurrentQueue<(LogLevel Level, EventId Event, string Message)> log)
    {
        _app = app;
        Client = client;
        Address = address;
        Log = log;
    }

    public HttpClient Client { get; }

    /// <summary>Where the server answers (the test server's or Kestrel's address).</summary>
    public Uri Address { get; }

    public ConcurrentQueue<(LogLevel Level, EventId Event, string Message)> Log { get; }

    public PaperLibrary Library => _app.Services.GetRequiredService<PaperLibrary>();

    public IServiceProvider Services => _app.Services;

    /// <summary>A server over <paramref name="store"/> with the hashing test encoder (or <paramref name="encoder"/>); no model files needed.</summary>
    public static Task<ServerHost> StartAsync(string store, Action<PaperLibraryServerOptions>? server = null, Func<ISentenceEncoder>? encoder = null, bool kestrel = false) =>
        StartAsync(o =>
        {
            o.StoreDirectory = store;
            o.EncoderFactory = encoder ?? (() => new HashingTestEncoder(64, TestFingerprint));
        }, server, kestrel);

    public static async Task<ServerHost> StartAsync(Action<PaperLibraryOptions> library, Action<PaperLibraryServerOptions>? server = null, bool kestrel = false)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        if (kestrel)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }
        var log = new ConcurrentQueue<(LogLevel, EventId, string)>();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new CapturingLoggerProvider(log));
        builder.Services.AddPaperLibrary(library);
        builder.Services.AddPaperLibraryServer(server);
        WebApplication app = builder.Build();
        app.UsePaperLibraryServer();
        app.MapPaperLibrary();
        await app.StartAsync();
        if (kestrel)
        {
            var address = new Uri(PaperLibraryServer.Addresses(app)[0]);
            return new ServerHost(app, new HttpClient { BaseAddress = address }, address, log);
        }
        HttpClient client = app.GetTestClient();
        return new ServerHost(app, client, client.BaseAddress!, log);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<(LogLevel, EventId, string)> log) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(log);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<(LogLevel, EventId, string)> log) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                log.Enqueue((logLevel, eventId, formatter(state, exception)));
        }
    }
}
