using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Embeddings.Corpus;

/// <summary>
/// Reads papers from daily-papers page dumps (<c>.txt</c>), JSONL and CSV files, each optionally gzip-compressed
/// (<c>.gz</c>). Streams: memory stays bounded by one record (plus, when <see cref="PaperReaderOptions.DetectDuplicateIds"/>
/// is on, a small entry per id seen in the file).
/// </summary>
internal static class PaperReader
{
    /// <summary>
    /// Reads the papers of one file in file order. A bad record throws <see cref="InputFormatException"/> naming file,
    /// line and field, or with <see cref="PaperReaderOptions.SkipBad"/> is reported through
    /// <see cref="PaperReaderOptions.OnIssue"/> and left out.
    /// </summary>
    /// <param name="path">The input file.</param>
    /// <param name="options">Format and error handling; <see cref="PaperReaderOptions.Default"/> when null.</param>
    /// <param name="cancellationToken">Stops the reading.</param>
    public static async IAsyncEnumerable<SourcedPaper> ReadAsync(
        string path,
        PaperReaderOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= PaperReaderOptions.Default;
        PaperFormat format = options.Format == PaperFormat.Auto ? DetectFormat(path) : options.Format;
        await foreach (SourcedPaper paper in ReadCoreAsync(OpenInput(path), path, format, options, cancellationToken).ConfigureAwait(false))
        {
            yield return paper;
        }
    }

    /// <summary>
    /// Reads the papers of a stream (an upload, a pipe) as if it were the file <paramref name="name"/>: its extension
    /// picks the format unless <see cref="PaperReaderOptions.Format"/> says it (a trailing <c>.gz</c> means the stream
    /// is gzip-compressed, decompressed with synchronous reads of it and its trailer checked), errors name it with the
    /// line, and <see cref="SourcedPaper.File"/> is it. The stream is disposed when the reading ends.
    /// </summary>
    public static async IAsyncEnumerable<SourcedPaper> ReadAsync(
        Stream stream,
        string name,
        PaperReaderOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        options ??= PaperReaderOptions.Default;
        PaperFormat format = options.Format == PaperFormat.Auto ? DetectFormat(name) : options.Format;
        Stream input = name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new VerifiedGzipStream(name, stream) : stream;
        await foreach (SourcedPaper paper in ReadCoreAsync(input, name, format, options, cancellationToken).ConfigureAwait(false))
        {
            yield return paper;
        }
    }

    /// <summary>The papers of <paramref name="input"/> (disposed at the end), read as the file <paramref name="path"/>.</summary>
    private static async IAsyncEnumerable<SourcedPaper> ReadCoreAsync(
        Stream input, string path, PaperFormat format, PaperReaderOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using Stream owned = input;
        var context = new ReadContext(path, options);
        (Stream? text, string? notText) = await TextSniffer.OpenAsync(input, cancellationToken).ConfigureAwait(false);
        if (text is null)
        {
            // Not a bad record but a bad file: an error, or with SkipBad one issue for the whole file.
            context.Bad(0, null, notText!);
            yield break;
        }
        await using Stream stream = text;
        var lines = new Utf8LineReader(stream, options.MaxRecordBytes);
        IAsyncEnumerable<SourcedPaper> records = format switch
        {
            PaperFormat.DailyPapers => ReadDailyPapersAsync(lines, context, cancellationToken),
            PaperFormat.Jsonl => ReadJsonlAsync(lines, context, cancellationToken),
            PaperFormat.Csv => ReadCsvAsync(lines, context, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(options), format, "unknown format"),
        };
        await foreach (SourcedPaper paper in records.ConfigureAwait(false))
        {
            yield return paper;
        }
    }

    /// <summary>Reads several files one after the other with the same options.</summary>
    public static async IAsyncEnumerable<SourcedPaper> ReadAllAsync(
        IEnumerable<string> paths,
        PaperReaderOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        foreach (string path in paths)
        {
            await foreach (SourcedPaper paper in ReadAsync(path, options, cancellationToken).ConfigureAwait(false))
            {
                yield return paper;
            }
        }
    }

    /// <summary>
    /// The format of <paramref name="path"/> by its extension, looking through a trailing <c>.gz</c>:
    /// <c>.txt</c> daily-papers, <c>.jsonl</c>/<c>.ndjson</c>/<c>.json</c> JSONL, <c>.csv</c> CSV.
    /// </summary>
    /// <exception cref="InputFormatException">The extension is none of these.</exception>
    public static PaperFormat DetectFormat(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = Path.GetFileName(path).ToLowerInvariant();
        if (name.EndsWith(".gz", StringComparison.Ordinal))
        {
            name = name[..^3];
        }
        string ext = Path.GetExtension(name);
        return ext switch
        {
            ".txt" => PaperFormat.DailyPapers,
            ".jsonl" or ".ndjson" or ".json" => PaperFormat.Jsonl,
            ".csv" => PaperFormat.Csv,
            _ => throw new InputFormatException(path, 0, null,
                $"unknown input format '{ext}': use .txt (daily-papers dump), .jsonl or .csv, optionally gzip-compressed (.gz)"),
        };
    }

    private static Stream OpenInput(string path)
    {
        if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        // Decompression is CPU work read synchronously; the trailer of every member is checked (truncation is an error).
        return new VerifiedGzipStream(path, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan));
    }

    // ---------------------------------------------------------------- daily-papers dumps

    private static readonly HashSet<string> Boilerplate = new(StringComparer.Ordinal)
    {
        "new",
        "Get trending papers in your email inbox!",
        "Subscribe",
        "Daily Papers",
        "byAK and the research community",
    };

    private static readonly string[] MonthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private static async IAsyncEnumerable<SourcedPaper> ReadDailyPapersAsync(
        Utf8LineReader lines, ReadContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // A record is: title, abstract, and on some pages "• N authors" followed by a date line.
        string? title = null;
        long titleLine = 0;
        string? abstractText = null;
        int? authorCount = null;
        string? date = null;
        bool expectDate = false;

        while (await lines.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (lines.Overlong)
            {
                context.Bad(lines.LineNumber, null, $"line longer than {context.Options.MaxRecordBytes} bytes (binary data?)");
                title = abstractText = null;
                continue;
            }
            if (!context.TryDecode(lines.Line, lines.LineNumber, out string? text))
            {
                // The record around the bad line is lost: drop what was gathered for it.
                if (abstractText is null)
                {
                    title = null;
                }
                continue;
            }
            string line = text.Trim();
            if (line.Length == 0)
            {
                continue;
            }
            if (abstractText is not null)
            {
                if (TryParseAuthorCount(line, out int count))
                {
                    authorCount = count;
                    expectDate = true;
                    continue;
                }
                if (expectDate && TryParsePageDate(line, out string? parsed))
                {
                    date = parsed;
                    expectDate = false;
                    continue;
                }
                if (context.TryBuild(titleLine, null, title, abstractText, "abstract", null, date, null, authorCount, out Paper? paper))
                {
                    yield return new SourcedPaper(paper, context.File, titleLine);
                }
                title = abstractText = date = null;
                authorCount = null;
                expectDate = false;
            }
            if (title is null)
            {
                if (Boilerplate.Contains(line) || TryParsePageDate(line, out _) || TryParseAuthorCount(line, out _))
                {
                    continue; // page header, listing date, or metadata whose record was dropped
                }
                title = line;
                titleLine = lines.LineNumber;
                continue;
            }
            if (TryParseAuthorCount(line, out _) || TryParsePageDate(line, out _))
            {
                context.Bad(titleLine, "abstract", "title without abstract (empty abstract)");
                title = null;
                continue;
            }
            abstractText = line;
        }
        if (abstractText is not null)
        {
            if (context.TryBuild(titleLine, null, title, abstractText, "abstract", null, date, null, authorCount, out Paper? paper))
            {
                yield return new SourcedPaper(paper, context.File, titleLine);
            }
        }
        else if (title is not null)
        {
            context.Bad(titleLine, "abstract", "title without abstract at the end of the file (empty abstract)");
        }
    }

    /// <summary>"• 4 authors" (also "1 author").</summary>
    private static bool TryParseAuthorCount(string line, out int count)
    {
        count = 0;
        ReadOnlySpan<char> s = line.AsSpan().Trim();
        if (s.Length == 0 || s[0] != '\u2022')
        {
            return false;
        }
        s = s[1..].Trim();
        int space = s.IndexOf(' ');
        if (space <= 0)
        {
            return false;
        }
        ReadOnlySpan<char> word = s[(space + 1)..].Trim();
        return (word is "authors" or "author")
            && int.TryParse(s[..space], NumberStyles.None, CultureInfo.InvariantCulture, out count);
    }

    /// <summary>
    /// Page dates: "Mar 14", "Feb 1, 2024", with an optional trailing up-vote count ("Aug 28, 2024 3", "Mar 3 3").
    /// A date with a year becomes ISO 8601 (2024-02-01); one without keeps its page wording ("Mar 14").
    /// </summary>
    private static bool TryParsePageDate(string line, out string? date)
    {
        date = null;
        string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 2 or > 4)
        {
            return false;
        }
        int month = Array.IndexOf(MonthNames, parts[0]) + 1;
        if (month == 0)
        {
            return false;
        }
        bool hasComma = parts[1].EndsWith(',');
        if (!int.TryParse(parts[1].AsSpan().TrimEnd(','), NumberStyles.None, CultureInfo.InvariantCulture, out int day) || day is < 1 or > 31)
        {
            return false;
        }
        int year = 0;
        int rest = 2;
        if (hasComma)
        {
            if (parts.Length < 3 || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out year) || year is < 1900 or > 2200)
            {
                return false;
            }
            rest = 3;
        }
        for (int i = rest; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out _) || i > rest)
            {
                return false; // at most one trailing number (the up-vote count)
            }
        }
        date = year > 0 && day <= DateTime.DaysInMonth(year, month)
            ? new DateOnly(year, month, day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : $"{parts[0]} {day.ToString(CultureInfo.InvariantCulture)}";
        return true;
    }

    // ---------------------------------------------------------------- JSONL

    private static async IAsyncEnumerable<SourcedPaper> ReadJsonlAsync(
        Utf8LineReader lines, ReadContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await lines.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (lines.Overlong)
            {
                context.Bad(lines.LineNumber, null, $"record longer than {context.Options.MaxRecordBytes} bytes (binary data, or a missing line break?)");
                continue;
            }
            if (lines.Line.Span.Trim(" \t"u8).IsEmpty)
            {
                continue;
            }
            if (TryParseJsonRecord(lines.Line, lines.LineNumber, context, out Paper? paper))
            {
                yield return new SourcedPaper(paper, context.File, lines.LineNumber);
            }
        }
    }

    private static bool TryParseJsonRecord(ReadOnlyMemory<byte> bytes, long line, ReadContext context, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Paper? paper)
    {
        paper = null;
        if (!context.CheckUtf8(bytes.Span, line))
        {
            return false;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, JsonInput.LineOptions);
        }
        catch (JsonException e)
        {
            context.Bad(line, DuplicateKey(e), "malformed JSON: " + JsonInput.Describe(e) + " (each line must be one JSON object)");
            return false;
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                context.Bad(line, null, $"expected a JSON object, found {root.ValueKind.ToString().ToLowerInvariant()}");
                return false;
            }
            if (!TryGetString(root, "id", line, context, allowNumber: true, out string? id)
                || !TryGetString(root, "title", line, context, allowNumber: false, out string? title)
                || !TryGetString(root, "abstract", line, context, allowNumber: false, out string? abstractText)
                || !TryGetString(root, "text", line, context, allowNumber: false, out string? text)
                || !TryGetString(root, "date", line, context, allowNumber: false, out string? date)
                || !TryGetList(root, "authors", line, context, SplitAuthors, out IReadOnlyList<string>? authors)
                || !TryGetList(root, "categories", line, context, SplitCategories, out IReadOnlyList<string>? categories))
            {
                return false;
            }
            if (date is null && !TryGetString(root, "update_date", line, context, allowNumber: false, out date))
            {
                return false;
            }
            string textField = abstractText is null && text is not null ? "text" : "abstract";
            return context.TryBuild(line, id, title, abstractText ?? text, textField, authors, date, categories, null, out paper);
        }
    }

    /// <summary>The key a "duplicate property" complaint names, so the message can name the field; else null.</summary>
    private static string? DuplicateKey(JsonException e)
    {
        const string marker = "Duplicate property '";
        int at = e.Message.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return null;
        }
        int start = at + marker.Length;
        int end = e.Message.IndexOf('\'', start);
        return end > start ? e.Message[start..end] : null;
    }

    private static bool TryGetString(JsonElement root, string name, long line, ReadContext context, bool allowNumber, out string? value)
    {
        value = null;
        if (!root.TryGetProperty(name, out JsonElement element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }
        if (element.ValueKind == JsonValueKind.String)
        {
            if (!JsonInput.TryGetString(element, out value, out string? problem))
            {
                context.Bad(line, name, problem);
                return false;
            }
            return true;
        }
        if (allowNumber && element.ValueKind == JsonValueKind.Number)
        {
            value = element.GetRawText();
            return true;
        }
        context.Bad(line, name, $"expected a string{(allowNumber ? " or a number" : "")}, found {element.ValueKind.ToString().ToLowerInvariant()}");
        return false;
    }

    private static bool TryGetList(JsonElement root, string name, long line, ReadContext context, Func<string, List<string>> split, out IReadOnlyList<string>? value)
    {
        value = null;
        if (!root.TryGetProperty(name, out JsonElement element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }
        if (element.ValueKind == JsonValueKind.String)
        {
            if (!JsonInput.TryGetString(element, out string? text, out string? problem))
            {
                context.Bad(line, name, problem);
                return false;
            }
            value = split(text);
            return true;
        }
        if (element.ValueKind == JsonValueKind.Array)
        {
            var list = new List<string>(element.GetArrayLength());
            foreach (JsonElement item in element.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                {
                    context.Bad(line, name, $"expected an array of strings, found an item of kind {item.ValueKind.ToString().ToLowerInvariant()}");
                    return false;
                }
                if (!JsonInput.TryGetString(item, out string? itemText, out string? problem))
                {
                    context.Bad(line, name, problem);
                    return false;
                }
                string s = itemText.Trim();
                if (s.Length > 0)
                {
                    list.Add(s);
                }
            }
            value = list;
            return true;
        }
        context.Bad(line, name, $"expected a string or an array of strings, found {element.ValueKind.ToString().ToLowerInvariant()}");
        return false;
    }

    /// <summary>"A, B and C" or "A; B; C" (arXiv metadata writes authors as one string).</summary>
    internal static List<string> SplitAuthors(string value)
    {
        string[] parts = value.Contains(';', StringComparison.Ordinal)
            ? value.Split(';')
            : value.Replace(" and ", ",", StringComparison.Ordinal).Split(',');
        var list = new List<string>(parts.Length);
        foreach (string part in parts)
        {
            string s = ReadContext.CollapseWhitespace(part);
            if (s.Length > 0)
            {
                list.Add(s);
            }
        }
        return list;
    }

    /// <summary>"cs.LG stat.ML" (arXiv) or "cs.LG, stat.ML".</summary>
    internal static List<string> SplitCategories(string value) =>
        [.. value.Split([' ', ',', ';', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    // ---------------------------------------------------------------- CSV

    private static async IAsyncEnumerable<SourcedPaper> ReadCsvAsync(
        Utf8LineReader lines, ReadContext context, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var parser = new CsvRecordParser();
        Dictionary<string, int>? columns = null;
        long headerLine = 0;
        // The lines of the record being read. A record that spans lines and then turns out bad (its quote never closes,
        // it grows past the record cap, or its field count is wrong) most likely swallowed the rows after an unclosed
        // quote: it is reported at its first line and the lines after that one are read again as rows of their own.
        var record = new List<(long Line, string Text)>();
        var replay = new Queue<(long Line, string Text)>();
        long recordBytes = 0;
        bool broken = false; // the current record already failed; skip its remaining lines
        while (true)
        {
            long lineNumber;
            string? text;
            if (replay.Count > 0)
            {
                (lineNumber, text) = replay.Dequeue();
            }
            else if (await lines.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                lineNumber = lines.LineNumber;
                text = null;
                if (lines.Overlong)
                {
                    if (!broken)
                    {
                        context.Bad(parser.InRecord ? record[0].Line : lineNumber, null,
                            $"record longer than {context.Options.MaxRecordBytes} bytes (binary data, or an unterminated quote?)");
                    }
                    broken = parser.InRecord;
                    parser.Reset();
                    record.Clear();
                    continue;
                }
                if (!context.TryDecode(lines.Line, lineNumber, out text))
                {
                    broken = parser.InRecord;
                    parser.Reset();
                    record.Clear();
                    continue;
                }
            }
            else
            {
                if (parser.InRecord && !broken && record.Count > 0)
                {
                    context.Bad(record[0].Line, ColumnName(columns, parser.FieldCount),
                        $"unterminated quoted field: the quote opened on line {record[0].Line} is never closed{Rereading(record)}");
                    Replay(record, replay);
                    parser.Reset();
                    continue;
                }
                break;
            }

            if (!parser.InRecord)
            {
                broken = false;
                recordBytes = 0;
                record.Clear();
                if (text.AsSpan().Trim(" \t").IsEmpty)
                {
                    continue;
                }
            }
            if (broken)
            {
                if (parser.Feed(text))
                {
                    parser.TakeFields();
                }
                continue;
            }
            record.Add((lineNumber, text));
            recordBytes += System.Text.Encoding.UTF8.GetByteCount(text) + 1;
            if (recordBytes > context.Options.MaxRecordBytes)
            {
                context.Bad(record[0].Line, ColumnName(columns, parser.FieldCount),
                    $"record longer than {context.Options.MaxRecordBytes} bytes (an unterminated quote opened on line {record[0].Line}?){Rereading(record)}");
                parser.Reset();
                Replay(record, replay);
                continue;
            }
            if (!parser.Feed(text))
            {
                continue; // a quoted field goes on on the next line
            }
            List<string> fields = parser.TakeFields();
            long recordLine = record[0].Line;
            if (columns is null)
            {
                headerLine = recordLine;
                columns = ReadHeader(fields);
                if (!columns.ContainsKey("abstract") && !columns.ContainsKey("text"))
                {
                    throw new InputFormatException(context.File, headerLine, null,
                        "the CSV header has no 'abstract' (or 'text') column; the first line must name the columns: id,title,abstract[,authors,date,categories]");
                }
                if (!columns.ContainsKey("id") && !columns.ContainsKey("title"))
                {
                    throw new InputFormatException(context.File, headerLine, null,
                        "the CSV header has neither an 'id' nor a 'title' column; one of them identifies a paper");
                }
                continue;
            }
            if (fields.Count != columns.Count)
            {
                context.Bad(recordLine, null, $"expected {columns.Count} fields as in the header (line {headerLine}), found {fields.Count}" +
                    (record.Count > 1 ? $" in a record spanning lines {recordLine}-{record[^1].Line} (an unclosed quote?){Rereading(record)}" : ""));
                Replay(record, replay);
                continue;
            }
            if (TryBuildCsvRecord(fields, columns, recordLine, context, out Paper? paper))
            {
                yield return new SourcedPaper(paper, context.File, recordLine);
            }
        }
    }

    /// <summary>What the report says when the lines after a bad record's first are read again.</summary>
    private static string Rereading(List<(long Line, string Text)> record) =>
        record.Count > 1 ? $"; lines {record[1].Line}-{record[^1].Line} are read again as rows of their own" : "";

    /// <summary>Queues the lines after the first of a bad multi-line record to be parsed again, before any new line.</summary>
    private static void Replay(List<(long Line, string Text)> record, Queue<(long Line, string Text)> replay)
    {
        if (record.Count > 1)
        {
            var again = new Queue<(long Line, string Text)>(record.Skip(1).Concat(replay));
            replay.Clear();
            foreach (var line in again)
            {
                replay.Enqueue(line);
            }
        }
        record.Clear();
    }

    /// <summary>The header's name of column <paramref name="index"/>, when known.</summary>
    private static string? ColumnName(Dictionary<string, int>? columns, int index)
    {
        if (columns is null)
        {
            return null;
        }
        foreach (var (name, i) in columns)
        {
            if (i == index && !name.StartsWith('\0'))
            {
                return name;
            }
        }
        return null;
    }

    private static Dictionary<string, int> ReadHeader(List<string> fields)
    {
        var columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < fields.Count; i++)
        {
            columns.TryAdd(fields[i].Trim(), i);
        }
        // Count every field, named or not, so rows are checked against the header's width.
        if (columns.Count != fields.Count)
        {
            for (int i = 0; columns.Count < fields.Count; i++)
            {
                columns.TryAdd("\0unnamed" + i.ToString(CultureInfo.InvariantCulture), -1);
            }
        }
        return columns;
    }

    private static bool TryBuildCsvRecord(List<string> fields, Dictionary<string, int> columns, long line, ReadContext context, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Paper? paper)
    {
        string? Get(string name) => columns.TryGetValue(name, out int i) && i >= 0 && fields[i].Length > 0 ? fields[i] : null;
        string? abstractText = Get("abstract");
        string? text = Get("text");
        string? authors = Get("authors");
        string? categories = Get("categories");
        string textField = abstractText is null && text is not null ? "text" : "abstract";
        return context.TryBuild(line, Get("id"), Get("title"), abstractText ?? text, textField,
            authors is null ? null : SplitAuthors(authors), Get("date"),
            categories is null ? null : SplitCategories(categories), null, out paper);
    }
}
