namespace Embeddings.Corpus;

/// <summary>Input formats <see cref="PaperReader"/> understands.</summary>
public enum PaperFormat
{
    /// <summary>Chosen from the file extension (<c>.txt</c>, <c>.jsonl</c>/<c>.ndjson</c>, <c>.csv</c>, each optionally <c>.gz</c>).</summary>
    Auto = 0,

    /// <summary>A daily-papers page dump: a title line, a blank line, an abstract, with page boilerplate around.</summary>
    DailyPapers,

    /// <summary>One JSON object per line: <c>id</c>, <c>title</c>, <c>abstract</c> (or <c>id</c> + <c>text</c>) and optional metadata.</summary>
    Jsonl,

    /// <summary>RFC 4180 CSV with a header naming the same columns as the JSONL fields.</summary>
    Csv,
}

/// <summary>What kind of problem a <see cref="PaperReadIssue"/> reports.</summary>
public enum PaperIssueKind
{
    /// <summary>The record was bad and was left out (only reported when <see cref="PaperReaderOptions.SkipBad"/> is set).</summary>
    Skipped,

    /// <summary>A field was longer than <see cref="PaperReaderOptions.MaxFieldLength"/>; it was cut to the cap and the paper kept.</summary>
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
    /// <summary>The issue as one line: <c>file:line: field 'f': problem</c>.</summary>
    public override string ToString() =>
        Field is null ? $"{File}:{Line}: {Problem}" : $"{File}:{Line}: field '{Field}': {Problem}";
}

/// <summary>How <see cref="PaperReader"/> reads a file.</summary>
public sealed class PaperReaderOptions
{
    /// <summary>Default options: format from the extension, bad records are errors.</summary>
    public static PaperReaderOptions Default { get; } = new();

    /// <summary>The input format; <see cref="PaperFormat.Auto"/> picks it from the extension.</summary>
    public PaperFormat Format { get; init; } = PaperFormat.Auto;

    /// <summary>
    /// When true, a bad record is reported through <see cref="OnIssue"/> and reading goes on; when false
    /// (the default) it throws <see cref="InputFormatException"/> naming file, line and field.
    /// </summary>
    public bool SkipBad { get; init; }

    /// <summary>Receives skipped records and capped fields. Called on the reading thread.</summary>
    public Action<PaperReadIssue>? OnIssue { get; init; }

    /// <summary>
    /// Longest title, abstract, author or category value kept, in characters; longer values are cut to this
    /// length and reported as <see cref="PaperIssueKind.Capped"/>. Real abstracts stay far below the default.
    /// </summary>
    public int MaxFieldLength { get; init; } = 32_768;

    /// <summary>Longest id accepted, in characters; a longer id is a bad record (an id cannot be cut without changing identity).</summary>
    public int MaxIdLength { get; init; } = 512;

    /// <summary>
    /// Longest record accepted, in UTF-8 bytes (a JSONL line, a CSV record). Longer records are bad records,
    /// skipped without being held in memory, so binary garbage without newlines cannot exhaust memory.
    /// </summary>
    public int MaxRecordBytes { get; init; } = 4 << 20;

    /// <summary>
    /// Whether an id met twice in one file with different text is an error. Costs about 40 bytes of memory
    /// per paper in the file; turn off for enormous files that are known to be clean.
    /// </summary>
    public bool DetectDuplicateIds { get; init; } = true;
}
