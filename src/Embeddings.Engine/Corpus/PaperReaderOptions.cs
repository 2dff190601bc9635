namespace Embeddings.Corpus;

/// <summary>Input formats <see cref="PaperReader"/> understands.</summary>
internal enum PaperFormat
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

/// <summary>How <see cref="PaperReader"/> reads a file.</summary>
internal sealed class PaperReaderOptions
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
