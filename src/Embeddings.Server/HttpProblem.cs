using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Embeddings.Server;

/// <summary>A request the server answers with an error: an HTTP status and a detail that says what to change.</summary>
internal sealed class HttpProblemException(int status, string detail) : Exception(detail)
{
    public int Status { get; } = status;
}

/// <summary>
/// Errors as RFC 7807 problem details (<c>application/problem+json</c>: <c>type</c>, <c>title</c>, <c>status</c>,
/// <c>detail</c>), one mapping from the engine's typed errors to statuses, and never a stack trace in an answer.
/// </summary>
internal static class HttpProblem
{
    public static HttpProblemException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, detail);

    public static HttpProblemException Unprocessable(string detail) => new(StatusCodes.Status422UnprocessableEntity, detail);

    public static HttpProblemException TooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, detail);

    /// <summary>The status and detail for <paramref name="error"/>, or null when it is not an error to answer (a cancellation).</summary>
    public static (int Status, string Detail)? Map(Exception error) => error switch
    {
        HttpProblemException p => (p.Status, p.Message),
        BadHttpRequestException b => (b.StatusCode, b.StatusCode == StatusCodes.Status413PayloadTooLarge
            ? "The request body is larger than this server takes: " + b.Message
            : b.Message),
        InputFormatException => (StatusCodes.Status422UnprocessableEntity, error.Message),
        DimensionsNotSupportedException => (StatusCodes.Status400BadRequest, error.Message),
        InvalidRequestException => (StatusCodes.Status400BadRequest, error.Message),
        PaperNotFoundException => (StatusCodes.Status404NotFound, error.Message),
        StoreLockedException => (StatusCodes.Status409Conflict, error.Message),
        // The server's own set-up (a damaged store, a missing or wrong model): the detail says what the operator must do.
        EmbeddingsException => (StatusCodes.Status503ServiceUnavailable, error.Message),
        OperationCanceledException => null,
        _ => (StatusCodes.Status500InternalServerError, "The server failed to answer this request; its log has the details."),
    };

    /// <summary>The problem-details answer for a status and detail.</summary>
    public static IResult Result(int status, string detail) => Results.Problem(new ProblemDetails
    {
        Status = status,
        Title = Title(status),
        Detail = detail,
        Type = "https://datatracker.ietf.org/doc/html/rfc9110#status." + status,
    });

    /// <summary>
    /// On the OpenAI-compatible endpoints (<c>/v1/...</c>), the problem also carries OpenAI's error member
    /// (<c>"error": {"message", "type", "param", "code"}</c>), the shape OpenAI clients read their error message from
    /// (without it the official client reports only "Service request failed"); the problem-details members stay.
    /// </summary>
    public static void AddOpenAiError(ProblemDetailsContext problem)
    {
        if (!problem.HttpContext.Request.Path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        int status = problem.ProblemDetails.Status ?? problem.HttpContext.Response.StatusCode;
        problem.ProblemDetails.Extensions["error"] = new OpenAiError(
            problem.ProblemDetails.Detail ?? problem.ProblemDetails.Title ?? Title(status),
            status switch
            {
                401 or 403 => "authentication_error",
                429 => "rate_limit_error",
                >= 500 => "server_error",
                _ => "invalid_request_error",
            },
            null,
            status.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Writes the problem-details answer for a status and detail (from middleware, before any body was written).</summary>
    public static Task WriteAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        return Result(status, detail).ExecuteAsync(context);
    }

    /// <summary>
    /// The endpoint filter that turns errors thrown by a handler into problem answers (unexpected ones logged, never
    /// shown); an answer already being streamed cannot change its status, so its connection is aborted instead.
    /// </summary>
    public static async ValueTask<object?> CatchAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        HttpContext context = invocation.HttpContext;
        try
        {
            return await next(invocation).ConfigureAwait(false);
        }
        catch (Exception e) when (Map(e) is { } problem)
        {
            ILogger logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Embeddings.Server");
            if (problem.Status >= 500)
            {
                ServerLog.RequestFailed(logger, context.Request.Method, context.Request.Path, problem.Status, e);
            }
            if (context.Response.HasStarted)
            {
                context.Abort();
                return null;
            }
            return Result(problem.Status, problem.Detail);
        }
    }

    private static string Title(int status) => status switch
    {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict",
        413 => "Content too large",
        415 => "Unsupported media type",
        422 => "Unprocessable content",
        429 => "Too many requests",
        500 => "Internal server error",
        503 => "Service unavailable",
        504 => "Gateway timeout",
        _ => "Error",
    };
}

/// <summary>OpenAI's error object (<c>{"message", "type", "param", "code"}</c>).</summary>
internal sealed record OpenAiError(
    [property: System.Text.Json.Serialization.JsonPropertyName("message")] string Message,
    [property: System.Text.Json.Serialization.JsonPropertyName("type")] string Type,
    [property: System.Text.Json.Serialization.JsonPropertyName("param")] string? Param,
    [property: System.Text.Json.Serialization.JsonPropertyName("code")] string Code);
