using Embeddings.Corpus;
using Embeddings.Progress;

namespace Embeddings.Store;

/// <summary>A paper as the store holds it: the latest revision with its bookkeeping.</summary>
/// <param name="Paper">Id, title, abstract and metadata of the latest revision.</param>
/// <param name="Sources">File names of the dumps the paper was read from, in the order they were first seen.</param>
/// <param name="FirstSeen">When the paper (any revision) first entered the store.</param>
/// <param name="Revision">1 for the first text; each changed title/abstract adds one.</param>
/// <param name="ContentHash">XxHash128 of title and abstract (<see cref="PaperIdentity.ContentHash(string, string)"/>).</param>
/// <param name="Flags">Whether the embedded text was truncated or empty.</param>
/// <param name="Row">The row of its vector in the store's vector file.</param>
public sealed record StoredPaper(
    Paper Paper,
    IReadOnlyList<string> Sources,
    DateTimeOffset FirstSeen,
    int Revision,
    UInt128 ContentHash,
    StoredPaperFlags Flags,
    int Row);

/// <summary>How to open a store.</summary>
public sealed class StoreOpenOptions
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

/// <summary>Which share of the input an ingest run takes: papers whose id hashes to <see cref="Index"/> modulo <see cref="Count"/>.</summary>
/// <param name="Index">0-based shard number, below <paramref name="Count"/>.</param>
/// <param name="Count">Number of shards.</param>
public readonly record struct ShardSpec(int Index, int Count)
{
    /// <summary>Parses <c>i/n</c> (for example <c>0/4</c>).</summary>
    /// <exception cref="ArgumentException">Not of that form, or i is not below n.</exception>
    public static ShardSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int i)
            || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)
            || n < 1 || i >= n)
        {
            throw new ArgumentException($"shard '{text}' must be i/n with 0 <= i < n, for example 0/4", nameof(text));
        }
        return new ShardSpec(i, n);
    }

    /// <summary>Whether the paper id belongs to this shard.</summary>
    public bool Contains(string id) => Count <= 1 || PaperIdentity.ShardOf(id, Count) == Index;

    /// <inheritdoc/>
    public override string ToString() => $"{Index}/{Count}";
}

/// <summary>How <see cref="PaperStore.IngestAsync"/> works.</summary>
public sealed class IngestOptions
{
    /// <summary>Texts per encoder call.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Embedded papers per commit; a crash loses at most this much work. Also bounds the memory held.</summary>
    public int CommitEvery { get; init; } = 2048;

    /// <summary>A commit also happens when this much time has passed since the last one, so slow models lose little work.</summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Classify and count only: nothing is embedded or written.</summary>
    public bool DryRun { get; init; }

    /// <summary>With file inputs: bad records are reported in the summary instead of stopping the run.</summary>
    public bool SkipBad { get; init; }

    /// <summary>Take only this share of the input (for several machines working on one dump).</summary>
    public ShardSpec? Shard { get; init; }

    /// <summary>Receives progress ("ingesting", papers read).</summary>
    public IProgress<WorkProgress>? Progress { get; init; }

    /// <summary>Reader settings for file inputs (caps); <see cref="SkipBad"/> and issue reporting are set by the ingest.</summary>
    public PaperReaderOptions? Reader { get; init; }
}

/// <summary>What an ingest run did.</summary>
/// <param name="Read">Papers read from the input.</param>
/// <param name="New">Papers not in the store before.</param>
/// <param name="Changed">Papers whose title or abstract changed: re-embedded as a new revision.</param>
/// <param name="Duplicate">Papers already stored with the same text (only their dump is recorded).</param>
/// <param name="Skipped">Bad records left out (with <see cref="IngestOptions.SkipBad"/>).</param>
/// <param name="SkippedReasons">Skipped records counted by reason.</param>
/// <param name="Issues">The first issues in full (skipped records and capped fields, at most 1000).</param>
/// <param name="Capped">Fields cut to the length cap (papers kept).</param>
/// <param name="OtherShard">Papers left to other shards.</param>
/// <param name="Embedded">Papers embedded (new + changed; 0 in a dry run).</param>
/// <param name="Truncated">Embedded papers whose text was cut by the model's token limit.</param>
/// <param name="Commits">Commits written.</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="DryRun">Whether nothing was written.</param>
public sealed record IngestSummary(
    long Read,
    long New,
    long Changed,
    long Duplicate,
    long Skipped,
    IReadOnlyDictionary<string, long> SkippedReasons,
    IReadOnlyList<PaperReadIssue> Issues,
    long Capped,
    long OtherShard,
    long Embedded,
    long Truncated,
    int Commits,
    double Seconds,
    bool DryRun)
{
    /// <summary>Papers read per second.</summary>
    public double PapersPerSecond => Seconds > 0 ? Read / Seconds : 0;
}
