using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;

namespace Embeddings.Server;

/// <summary>
/// A ready host for the endpoints (what <c>embeddings serve</c> runs): Kestrel on the given addresses (loopback by
/// default) with <c>AddPaperLibrary</c>, <c>AddPaperLibraryServer</c>, <c>UsePaperLibraryServer</c> and
/// <c>MapPaperLibrary</c>. An app of your own composes those four calls instead.
/// </summary>
public static class PaperLibraryServer
{
    /// <summary>The address served when none is given: this machine only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5000";

    /// <summary>
    /// Builds the host. <paramref name="configureLibrary"/> sets the store and model (as for <c>AddPaperLibrary</c>),
    /// <paramref name="configureServer"/> the token and limits; <paramref name="logging"/> replaces the default console log.
    /// </summary>
    public static WebApplication Build(Action<PaperLibraryOptions> configureLibrary, Action<PaperLibraryServerOptions>? configureServer = null,
        IReadOnlyList<string>? urls = null, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(configureLibrary);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls([.. urls is { Count: > 0 } ? urls : [DefaultUrl]]);
        // The body limits are the endpoints' own (413 naming them); Kestrel's default of 30 MB would cut an ingest short.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null);
        builder.Logging.ClearProviders();
        if (logging is not null)
        {
            logging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        }
        builder.Services.AddPaperLibrary(configureLibrary);
        builder.Services.AddPaperLibraryServer(configureServer);
        WebApplication app = builder.Build();
        app.UsePaperLibraryServer();
        app.MapPaperLibrary();
        return app;
    }

    /// <summary>
    /// Loads the model and opens the search indexes (building them when the store has none yet), so the first request
    /// answers as fast as the next, and a bad model or store fails here with its message instead of in a request.
    /// </summary>
    public static async Task WarmUpAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        PaperLibrary library = app.Services.GetRequiredService<PaperLibrary>();
        _ = library.Embeddings.Info;
        if ((await library.GetStatusAsync(cancellationToken).ConfigureAwait(false)).StoreExists)
        {
            await library.BuildIndexesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The addresses the started host listens on (with the ports chosen, for a port 0).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
    }

    /// <summary>Whether every address is on this machine (loopback), so nobody else can reach the server.</summary>
    public static bool LoopbackOnly(IEnumerable<string> addresses) => addresses.All(address =>
        Uri.TryCreate(address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out Uri? uri)
        && (uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out IPAddress? ip) && IPAddress.IsLoopback(ip))));
}
