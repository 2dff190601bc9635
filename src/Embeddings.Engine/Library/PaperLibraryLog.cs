using Microsoft.Extensions.Logging;

namespace Embeddings;

/// <summary>The library's log messages (source-generated: no formatting cost when the level is off). Event ids are stable.</summary>
internal static partial class PaperLibraryLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Opened the store {Store}: {Papers} papers, model {Fingerprint}")]
    public static partial void StoreOpened(ILogger logger, string store, int papers, string fingerprint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "No store in {Store} yet; the first ingest creates it")]
    public static partial void StoreMissing(ILogger logger, string store);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Loaded the model {Name} ({Kind}, {Dimension} dimensions, fingerprint {Fingerprint}) on {Provider}")]
    public static partial void ModelLoaded(ILogger logger, string name, string kind, int dimension, string fingerprint, string provider);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "The model does not run as asked: {Warning}")]
    public static partial void ModelWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Search indexes of {Store} ready: {Status}")]
    public static partial void IndexesReady(ILogger logger, string store, string status);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information,
        Message = "Ingested into {Store}: read {Read}, new {New}, changed {Changed}, duplicate {Duplicate}, skipped {Skipped}, embedded {Embedded} in {Seconds:F1} s")]
    public static partial void Ingested(ILogger logger, string store, long read, long @new, long changed, long duplicate, long skipped, long embedded, double seconds);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Input problem: {Issue}")]
    public static partial void InputIssue(ILogger logger, string issue);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Store {Store} refreshed: {Papers} papers")]
    public static partial void Refreshed(ILogger logger, string store, int papers);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "Fitted {Topics} topics ({Method}) over {Papers} papers of {Store}")]
    public static partial void TopicsFitted(ILogger logger, string store, int topics, string method, int papers);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Digest of {Selection}: {Papers} papers, {Topics} topics")]
    public static partial void DigestBuilt(ILogger logger, string selection, int papers, int topics);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Exported {Count} papers of {Store} as {Format}")]
    public static partial void Exported(ILogger logger, string store, long count, string format);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "The writer lock of {Store} was taken over from a dead writer: {Holder}")]
    public static partial void StaleLockTakenOver(ILogger logger, string store, string holder);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void FilterWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "Hits are not explained by their closest sentence (the store's model is needed): {Reason}")]
    public static partial void NoSentenceExplanations(ILogger logger, string reason);
}
