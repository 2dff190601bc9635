using Microsoft.Extensions.Logging;

namespace Embeddings.Server;

/// <summary>The server's log messages (source-generated; event ids are stable and follow the library's, which end below 100).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "{Method} {Path} failed with {Status}")]
    public static partial void RequestFailed(ILogger logger, string method, string path, int status, Exception error);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "{Method} {Path} refused with 429: {Limit} requests are running and {Queue} waiting ({Refused} refused since the last such line; at most one every {Seconds} s)")]
    public static partial void Overloaded(ILogger logger, string method, string path, int limit, int queue, long refused, int seconds);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Ingest of {Source} through the API: {New} new, {Changed} changed, {Duplicate} duplicate; the store has {Papers} papers")]
    public static partial void Ingested(ILogger logger, string source, long @new, long changed, long duplicate, int? papers);

}
