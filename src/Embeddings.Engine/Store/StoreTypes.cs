using Embeddings.Corpus;

namespace Embeddings.Store;

/// <summary>A paper as the store holds it: the latest revision with its bookkeeping.</summary>
/// <param name="Paper">Id, title, abstract and metadata of the latest revision.</param>
/// <param name="Sources">File names of the dumps the paper was read from, in the order they were first seen.</param>
/// <param name="FirstSeen">When the paper (any revision) first entered the store.</param>
/// <param name="Revision">1 for the first text; each changed title/abstract adds one.</param>
/// <param name="ContentHash">XxHash128 of title and abstract (<see cref="PaperIdentity.ContentHash(string, string)"/>).</param>
/// <param name="Flags">Whether the embedded text was truncated or empty.</param>
/// <param name="Row">The row of its vector in the store's vector file.</param>
/// <param name="SourceFile">The dump this revision's text was read from (a name in <paramref name="Sources"/>); null in stores of format 1 and 2.</param>
/// <param name="SourceLine">The 1-based line of its record in <paramref name="SourceFile"/>; 0 when unknown.</param>
internal sealed record StoredPaper(
    Paper Paper,
    IReadOnlyList<string> Sources,
    DateTimeOffset FirstSeen,
    int Revision,
    UInt128 ContentHash,
    StoredPaperFlags Flags,
    int Row,
    string? SourceFile = null,
    long SourceLine = 0);

/// <summary>How to open a store.</summary>
internal sealed class StoreOpenOptions
{
    /// <summary>Read-only, verifying every checksum.</summary>
    public static StoreOpenOptions Default { get; } = new();

    /// <summary>Take the writer lock, clean up leftovers of an interrupted commit, and allow ingesting.</summary>
    public bool Writable { get; init; }

    /// <summary>When set, opening a store bound to another model fingerprint fails instead of mixing vectors.</summary>
    public string? ExpectedFingerprint { get; init; }

    /// <summary>
    /// Check the XxHash64 of every committed vector range on open (reads the whole vector file once). Papers segments
    /// are always checked, because opening reads them anyway.
    /// </summary>
    public bool VerifyVectors { get; init; } = true;
}

/// <summary>Which papers a <see cref="ShardSpec"/> takes.</summary>
internal static class ShardSpecs
{
    /// <summary>Whether the paper id belongs to this shard: its id hashes to the shard's index modulo the shard count.</summary>
    public static bool Contains(this ShardSpec shard, string id) => shard.Count <= 1 || PaperIdentity.ShardOf(id, shard.Count) == shard.Index;
}
