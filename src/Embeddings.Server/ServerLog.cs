using Microsoft.Extensions.Logging;

namespace Embeddings.Server;

/// <summary>The server's log messages (source-generated; event ids are stable and follow the library's, which end below 100).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "{Method} {Path} failed with {Status}")]
    public static partial void RequestFailed(ILogger logger, string method, string path, int status, Exception error);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "{Method} {Path} refused with 429: {Limit} requests are running and {Queue} waiting")]
    public static partial void Overloaded(ILogger logger, string method, string path, int limit, int queue);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Ingest of {Source} through the API: {New} new, {Changed} changed, {Duplicate} duplicate; the store has {Papers} papers")]
    public static partial void Ingested(ILogger logger, string source, long @new, long changed, long duplicate, int? papers);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Serving the store {Store} with the model {Model} on {Urls}")]
    public static partial void Serving(ILogger logger, string store, string model, string urls);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Listening on {Urls}, beyond this machine, with reads open to anyone who reaches it (--protect-reads makes them need the token)")]
    public static partial void OpenToNetwork(ILogger logger, string urls);
}
