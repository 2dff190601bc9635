using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Embeddings.Server;

/// <summary><c>GET /health</c> (liveness, never limited, never needs a token) and <c>GET /info</c> (model, store, version, limits).</summary>
internal static class ServiceEndpoints
{
    /// <summary>The engine's version (its informational version, from the build).</summary>
    public static readonly string Version =
        typeof(PaperLibrary).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+', 2)[0]
        ?? typeof(PaperLibrary).Assembly.GetName().Version?.ToString() ?? "0";

    public static void Map(IEndpointRouteBuilder open, RouteGroupBuilder reads)
    {
        open.MapGet("/health", () => TypedResults.Json(new HealthAnswer("ok"), ServerJson.Default.HealthAnswer))
            .WithName("Health")
            .WithTags("Service")
            .WithSummary("Liveness: 200 {\"status\": \"ok\"} while the server runs (no token, no limit).")
            .Produces<HealthAnswer>();
        reads.MapGet("/info", InfoAsync)
            .WithName("Info")
            .WithTags("Service")
            .WithSummary("The model (LibraryJson.Model), the store (LibraryJson.Status: size, index), the version and the limits.")
            .Produces(StatusCodes.Status200OK, contentType: "application/json");
    }

    private static async Task<IResult> InfoAsync(HttpContext context, PaperLibrary library, EmbeddingBatcher batcher, IOptions<PaperLibraryServerOptions> options)
    {
        LibraryStatus status = await library.GetStatusAsync(context.RequestAborted).ConfigureAwait(false);
        ModelInfo model = batcher.Model.Info;
        PaperLibraryServerOptions o = options.Value;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("version", Version);
            w.WriteString("model", model.Name);
            w.WriteNumber("dimension", model.Dimension);
            w.WriteNumber("papers", status.Papers);
            w.WritePropertyName("modelInfo");
            w.WriteRawValue(LibraryJson.Model(model));
            w.WritePropertyName("store");
            w.WriteRawValue(LibraryJson.Status(status));
            w.WriteStartObject("limits");
            w.WriteNumber("maxConcurrentRequests", o.MaxConcurrentRequests);
            w.WriteNumber("maxQueuedRequests", o.QueueLimit);
            w.WriteNumber("maxInputsPerRequest", o.MaxInputsPerRequest);
            w.WriteNumber("maxRequestBytes", o.MaxRequestBytes);
            w.WriteNumber("maxIngestBytes", o.MaxIngestBytes);
            w.WriteNumber("maxTextLength", o.MaxTextLength);
            w.WriteNumber("maxBatchTokens", o.Batching.MaxBatchTokens);
            w.WriteNumber("requestTimeoutSeconds", o.RequestTimeout.TotalSeconds);
            w.WriteEndObject();
            w.WriteBoolean("writable", o.Token is not null);
            w.WriteEndObject();
        }
        return Results.Text(System.Text.Encoding.UTF8.GetString(buffer.ToArray()), "application/json", System.Text.Encoding.UTF8);
    }
}
