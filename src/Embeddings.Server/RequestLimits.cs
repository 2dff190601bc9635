using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;

namespace Embeddings.Server;

/// <summary>
/// The limits of the endpoints that do model or search work, with ASP.NET Core's own machinery: one concurrency
/// limiter shared by all of them (429 with <c>Retry-After</c> past its queue), request timeouts (504), and the body
/// limit (413).
/// </summary>
internal static class RequestLimits
{
    /// <summary>The rate-limiter policy of every model or search endpoint.</summary>
    public const string ComputePolicy = "embeddings-compute";

    /// <summary>The request-timeout policy of reads and embeddings.</summary>
    public const string ReadPolicy = "embeddings-read";

    /// <summary>The request-timeout policy of topics and digests (clustering).</summary>
    public const string TopicsPolicy = "embeddings-topics";

    /// <summary>The partition every compute request shares: one limit for the whole server.</summary>
    private const string Partition = "compute";

    /// <summary>Applies the shared concurrency limit, a timeout policy and a body limit, and documents their answers.</summary>
    public static RouteHandlerBuilder WithComputeLimits(this RouteHandlerBuilder endpoint, string timeoutPolicy = ReadPolicy, BodyLimit body = BodyLimit.Json)
    {
        endpoint.RequireRateLimiting(ComputePolicy);
        endpoint.WithRequestTimeout(timeoutPolicy);
        return endpoint
            .WithMetadata(new BodyLimitMetadata(body))
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
    }

    /// <summary>
    /// Documents the request body as <typeparamref name="T"/>'s schema under <paramref name="contentType"/> (null
    /// <typeparamref name="T"/> = a string: JSON Lines). Only in the OpenAPI document: ASP.NET Core's
    /// <c>Accepts</c> would also make routing refuse other content types before the handler, which then could not
    /// say what to send.
    /// </summary>
    public static RouteHandlerBuilder WithBody<T>(this RouteHandlerBuilder endpoint, string contentType, string description)
    {
        endpoint.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            OpenApiSchema schema = typeof(T) == typeof(string)
                ? new OpenApiSchema { Type = JsonSchemaType.String }
                : await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken).ConfigureAwait(false);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType> { [contentType] = new() { Schema = schema } },
            };
        });
        return endpoint;
    }

    /// <summary>The limiter: <see cref="PaperLibraryServerOptions.MaxConcurrentRequests"/> at once, the queue behind, 429 past it.</summary>
    public static void Configure(RateLimiterOptions limiter, PaperLibraryServerOptions options)
    {
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.AddPolicy(ComputePolicy, _ => RateLimitPartition.GetConcurrencyLimiter(Partition, _ => new ConcurrencyLimiterOptions
        {
            PermitLimit = options.MaxConcurrentRequests,
            QueueLimit = options.QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        }));
        var report = new OverloadReport();
        limiter.OnRejected = (rejected, cancellationToken) =>
        {
            HttpContext context = rejected.HttpContext;
            report.Refused(context, options);
            context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return new ValueTask(HttpProblem.WriteAsync(context, StatusCodes.Status429TooManyRequests, string.Create(CultureInfo.InvariantCulture,
                $"The server is busy: {options.MaxConcurrentRequests} requests are being answered and {options.QueueLimit} are waiting (--max-concurrent-requests). Retry after {options.RetryAfterSeconds} s.")));
        };
    }

    /// <summary>The timeouts: <see cref="PaperLibraryServerOptions.RequestTimeout"/> for reads, <see cref="PaperLibraryServerOptions.TopicsTimeout"/> for clustering.</summary>
    public static void Configure(RequestTimeoutOptions timeouts, PaperLibraryServerOptions options)
    {
        timeouts.AddPolicy(ReadPolicy, Policy(options.RequestTimeout, "--request-timeout"));
        timeouts.AddPolicy(TopicsPolicy, Policy(options.TopicsTimeout, "the topics timeout"));
    }

    private static RequestTimeoutPolicy Policy(TimeSpan timeout, string setting) => new()
    {
        Timeout = timeout,
        TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
        WriteTimeoutResponse = context => HttpProblem.WriteAsync(context, StatusCodes.Status504GatewayTimeout, string.Create(CultureInfo.InvariantCulture,
            $"The request took longer than {timeout.TotalSeconds:0.###} s ({setting}) and was stopped. Send less per request, or retry when the server is less busy.")),
    };
}

/// <summary>
/// The log of 429s: under overload thousands of requests a second are refused, so one warning line at most every
/// <see cref="Seconds"/> s says how many were refused since the previous line (a flood of lines would cost the CPU
/// the limiter saves, and fill the disk).
/// </summary>
internal sealed class OverloadReport
{
    public const int Seconds = 10;

    private long _refused;
    private long _lastReport = Environment.TickCount64 - Seconds * 1000L;

    public void Refused(HttpContext context, PaperLibraryServerOptions options)
    {
        Interlocked.Increment(ref _refused);
        long now = Environment.TickCount64, last = Volatile.Read(ref _lastReport);
        if (now - last < Seconds * 1000L || Interlocked.CompareExchange(ref _lastReport, now, last) != last)
        {
            return;
        }
        ServerLog.Overloaded(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Embeddings.Server"),
            context.Request.Method, context.Request.Path, options.MaxConcurrentRequests, options.QueueLimit, Interlocked.Exchange(ref _refused, 0), Seconds);
    }
}
