using Embeddings;
using Embeddings.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The HTTP endpoints of a <see cref="PaperLibrary"/>, for any ASP.NET Core app (what <c>embeddings serve</c> runs):
/// <code>
/// builder.Services.AddPaperLibrary(o =&gt; o.StoreDirectory = "out/store");
/// builder.Services.AddPaperLibraryServer(o =&gt; o.Token = "secret");
/// WebApplication app = builder.Build();
/// app.UsePaperLibraryServer();   // limits: concurrency (429), timeouts (504), body size (413)
/// app.MapPaperLibrary();         // the APIs, /openapi/v1.json and the web page at /
/// </code>
/// </summary>
public static class PaperLibraryServerExtensions
{
    /// <summary>
    /// Registers the server's options (validated when the host starts), the <see cref="EmbeddingBatcher"/> over the
    /// library's model, the concurrency limiter, the request timeouts, problem details and the OpenAPI document, and
    /// sets <see cref="EmbeddingModelOptions.ConcurrentCallers"/> on the library's options. Needs <c>AddPaperLibrary</c> too.
    /// </summary>
    public static IServiceCollection AddPaperLibraryServer(this IServiceCollection services, Action<PaperLibraryServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<PaperLibraryServerOptions> options = services.AddOptions<PaperLibraryServerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PaperLibraryServerOptions>, ServerOptionsValidator>());
        // Requests arrive side by side: one thread per model run serves them better than all threads on one run
        // (8 connections, 1 text: 916 against 694 requests/s, p99 18 against 26 ms; BENCHMARKS.md, server runs 6 and 7).
        services.AddOptions<PaperLibraryOptions>().Configure(library => library.ConcurrentCallers = true);
        services.TryAddSingleton(provider => new EmbeddingBatcher(
            provider.GetRequiredService<PaperLibrary>().Embeddings,
            provider.GetRequiredService<IOptions<PaperLibraryServerOptions>>().Value.Batching));
        services.TryAddSingleton<LibraryCache>();
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = HttpProblem.AddOpenAiError);
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<PaperLibraryServerOptions>>((limiter, server) => RequestLimits.Configure(limiter, server.Value));
        services.AddRequestTimeouts();
        services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<PaperLibraryServerOptions>>((timeouts, server) => RequestLimits.Configure(timeouts, server.Value));
        services.AddOpenApi(document => document.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Embeddings";
            doc.Info.Version = ServiceEndpoints.Version;
            doc.Info.Description = "Sentence embeddings (OpenAI- and TEI-compatible), similar-paper search, topics and digests over a paper store. " +
                "Errors are RFC 7807 problem details whose detail says what to change.";
            return Task.CompletedTask;
        }));
        return services;
    }

    /// <summary>
    /// Adds the middleware the endpoints' limits need: the concurrency limiter (429 with <c>Retry-After</c>), request
    /// timeouts (504) and the body limit (413 naming it). Call it after routing (a <c>WebApplication</c> routes first
    /// by itself) and before <see cref="MapPaperLibrary"/>'s endpoints run.
    /// </summary>
    public static IApplicationBuilder UsePaperLibraryServer(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseRateLimiter();
        app.UseRequestTimeouts();
        app.Use((context, next) => RequestBody.LimitAsync(context, () => next(context)));
        return app;
    }

    /// <summary>
    /// Maps the endpoints: <c>/health</c>, <c>/info</c>, <c>/v1/embeddings</c>, <c>/v1/models</c>, <c>/embed</c>,
    /// <c>/api/...</c> (similar, papers, topics, digest, ingest), the OpenAPI document at <c>/openapi/v1.json</c> and the
    /// web page at <c>/</c>. Reads need no token unless <see cref="PaperLibraryServerOptions.RequireTokenForReads"/>;
    /// writes need <see cref="PaperLibraryServerOptions.Token"/>. Returns the group of every endpoint but the OpenAPI
    /// document, for further conventions (CORS, authorization).
    /// </summary>
    public static RouteGroupBuilder MapPaperLibrary(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        RouteGroupBuilder all = endpoints.MapGroup("");
        all.AddEndpointFilter(HttpProblem.CatchAsync);
        RouteGroupBuilder reads = all.MapGroup("").AddEndpointFilter(TokenAuthorization.ReadAsync);
        RouteGroupBuilder writes = all.MapGroup("").AddEndpointFilter(TokenAuthorization.WriteAsync);
        ServiceEndpoints.Map(all, reads);
        EmbeddingEndpoints.Map(reads);
        LibraryEndpoints.Map(reads, writes);
        PageEndpoints.Map(reads);
        all.MapFallback("/api/{**path}", NotFound).ExcludeFromDescription();
        all.MapFallback("/v1/{**path}", NotFound).ExcludeFromDescription();
        endpoints.MapOpenApi();
        return all;
    }

    private static IResult NotFound(HttpContext context) =>
        HttpProblem.Result(StatusCodes.Status404NotFound, $"There is no endpoint {context.Request.Method} {context.Request.Path}; /openapi/v1.json lists them.");

    private sealed class ServerOptionsValidator : IValidateOptions<PaperLibraryServerOptions>
    {
        public ValidateOptionsResult Validate(string? name, PaperLibraryServerOptions options)
        {
            IReadOnlyList<string> problems = options.Validate();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
