using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Embeddings.Server;

/// <summary>
/// The bearer-token rule: writes always need <see cref="PaperLibraryServerOptions.Token"/>, reads only with
/// <see cref="PaperLibraryServerOptions.RequireTokenForReads"/>. 401 (with <c>WWW-Authenticate: Bearer</c>) without a
/// token, 403 with a wrong one, 403 for any write when the server has no token. Tokens are compared in constant time.
/// </summary>
internal static class TokenAuthorization
{
    /// <summary>The endpoint filter of writes.</summary>
    public static ValueTask<object?> WriteAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next) =>
        CheckAsync(invocation, next, write: true);

    /// <summary>The endpoint filter of reads.</summary>
    public static ValueTask<object?> ReadAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next) =>
        CheckAsync(invocation, next, write: false);

    private static ValueTask<object?> CheckAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next, bool write)
    {
        HttpContext context = invocation.HttpContext;
        PaperLibraryServerOptions options = context.RequestServices.GetRequiredService<IOptions<PaperLibraryServerOptions>>().Value;
        if (!write && !options.RequireTokenForReads)
        {
            return next(invocation);
        }
        if (options.Token is not { } token)
        {
            return ValueTask.FromResult<object?>(HttpProblem.Result(StatusCodes.Status403Forbidden,
                "This server takes no writes: start it with a token (embeddings serve --token TOKEN) and send Authorization: Bearer TOKEN."));
        }
        string? header = context.Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return ValueTask.FromResult<object?>(HttpProblem.Result(StatusCodes.Status401Unauthorized,
                (write ? "Writes" : "Requests") + " need the server's token: send Authorization: Bearer TOKEN."));
        }
        byte[] given = System.Text.Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        if (!CryptographicOperations.FixedTimeEquals(given, System.Text.Encoding.UTF8.GetBytes(token)))
        {
            return ValueTask.FromResult<object?>(HttpProblem.Result(StatusCodes.Status403Forbidden,
                "The token sent is not this server's: send Authorization: Bearer with the token the server was started with."));
        }
        return next(invocation);
    }
}
