namespace Embeddings;

/// <summary>
/// A snapshot of long work, reported through <see cref="IProgress{T}"/> by the engine's long operations
/// (embedding, ingest, index build, clustering). Hosts decide how to show it.
/// </summary>
/// <param name="Stage">What is being done, in a few words ("embedding", "linking graph").</param>
/// <param name="Done">Units finished so far.</param>
/// <param name="Total">Units in all, or null when unknown (streamed input).</param>
/// <param name="Unit">What a unit is ("papers", "vectors").</param>
public readonly record struct WorkProgress(string Stage, long Done, long? Total, string Unit);
