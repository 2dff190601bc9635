
namespace Embeddings;

/// <summary>What kind of problem a <see cref="PaperReadIssue"/> reports.</summary>
public enum PaperIssueKind
{
    /// <summary>The record was bad and was left out (only reported when skipping bad records was asked for).</summary>
    Skipped,

    /// <summary>A field was longer than the reader's cap; it was cut to the cap and the paper kept.</summary>
    Capped,
}

/// <summary>A problem met while reading, reported instead of thrown.</summary>
/// <param name="File">The input file.</param>
/// <param name="Line">The 1-based line where the record starts (0 when the problem concerns the whole file).</param>
/// <param name="Field">The field at fault, when one is.</param>
/// <param name="Problem">What is wrong.</param>
/// <param name="Kind">Whether the record was skipped or a field was capped.</param>
public sealed record PaperReadIssue(string File, long Line, string? Field, string Problem, PaperIssueKind Kind)
{
    /// <summary>The issue as one line: <c>file:line: field 'f': problem</c> (<c>file: problem</c> for the whole file, line 0).</summary>
    public override string ToString()
    {
        string where = Line > 0 ? $"{File}:{Line}" : File;
        return Field is null ? $"{where}: {Problem}" : $"{where}: field '{Field}': {Problem}";
    }
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

    /// <inheritdoc/>
    public override string ToString() => $"{Index}/{Count}";
}

/// <summary>How an ingest run works (<see cref="PaperLibrary.IngestAsync(IReadOnlyList{string}, IngestOptions, CancellationToken)"/>).</summary>
public sealed record IngestOptions
{
    /// <summary>
    /// Texts per encoder call. The encoder sorts a call's windows by length before it packs them into model runs, so
    /// larger calls pad less: the 236 papers of the shared dumps ingest in 9.8-10.4 s as one call and in 11.3-12.0 s in
    /// calls of 64 (all-MiniLM-L6-v2, quiet 2-core machine, 3 alternated rounds; BENCHMARKS.md, ingest). Progress moves
    /// once per call, so this stays far below <see cref="CommitEvery"/>.
    /// </summary>
    public int BatchSize { get; init; } = 256;

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

    /// <summary>
    /// Called for every bad record skipped (with <see cref="SkipBad"/>) and every over-long field capped, as it is met,
    /// so a host can report it at once; the summary counts them too. Called from the ingesting thread.
    /// </summary>
    public Action<PaperReadIssue>? OnIssue { get; init; }
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

    /// <summary>Papers in the store after the run (null in a dry run, or when the run did not report it).</summary>
    public int? StorePapers { get; init; }
}
