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
                if (context.TryBuild(titleLine, PageRecord(title, abstractText, date, authorCount), out Paper? paper))
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
            if (context.TryBuild(titleLine, PageRecord(title, abstractText, date, authorCount), out Paper? paper))
            {
                yield return new SourcedPaper(paper, context.File, titleLine);
            }
        }
        else if (title is not null)
        {
            context.Bad(titleLine, "abstract", "title without abstract at the end of the file (empty abstract)");
        }
    }

    /// <summary>A daily-papers record: no id, the page's date line as written (validated like any date: no year, no date).</summary>
    private static RecordFields PageRecord(string? title, string abstractText, string? date, int? authorCount) =>
        new() { Title = title, Text = abstractText, Date = date, AuthorCount = authorCount };

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
    /// Gives the date without the count; <see cref="PaperMetadata.TryParseDate"/> then makes it ISO 8601 when it has a
    /// year, and keeps a date without one ("Mar 14") as wording only.
    /// </summary>
    private static bool TryParsePageDate(string line, out string? date)
    {
        date = null;
        string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 2 or > 4 || Array.IndexOf(MonthNames, parts[0]) < 0)
        {
            return false;
        }
        bool hasComma = parts[1].EndsWith(',');
        if (!int.TryParse(parts[1].AsSpan().TrimEnd(','), NumberStyles.None, CultureInfo.InvariantCulture, out int day) || day is < 1 or > 31)
        {
            return false;
        }
        int rest = 2;
        if (hasComma)
        {
            if (parts.Length < 3 || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int year) || year is < 1900 or > 2200)
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
        string written = string.Join(' ', parts, 0, rest);
        if (PaperMetadata.TryParseDate(written, out _) == PaperMetadata.DateKind.Invalid)
        {
            return false; // "Feb 30, 2024": not a date line
        }
        date = written;
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
                || !TryGetString(root, "arxiv_id", line, context, allowNumber: false, out string? arxivId)
                || !TryGetString(root, "index", line, context, allowNumber: true, out string? index)
                || !TryGetString(root, "title", line, context, allowNumber: false, out string? title)
                || !TryGetString(root, "abstract", line, context, allowNumber: false, out string? abstractText)
                || !TryGetString(root, "text", line, context, allowNumber: false, out string? text)
                || !TryGetString(root, "url", line, context, allowNumber: false, out string? url)
                || !TryGetList(root, "authors", line, context, PaperMetadata.SplitAuthors, out IReadOnlyList<string>? authors)
                || !TryGetList(root, "categories", line, context, PaperMetadata.SplitCategories, out IReadOnlyList<string>? categories)
                || !TryGetList(root, "tags", line, context, PaperMetadata.SplitCategories, out IReadOnlyList<string>? tags))
            {
                return false;
            }
            string dateField = "date";
            string? date = null;
            foreach (string name in DateFields)
            {
                if (!TryGetString(root, name, line, context, allowNumber: false, out date))
                {
                    return false;
                }
                if (date is not null)
                {
                    dateField = name;
                    break;
                }
            }
            return context.TryBuild(line, Record(id, arxivId, index, title, abstractText, text, authors, date, dateField, categories ?? tags,
                categories is null && tags is not null ? "tags" : "categories", url), out paper);
        }
    }

    /// <summary>Fields that may hold a paper's date, in order of preference (arXiv metadata has <c>update_date</c>, the arXiv API <c>published</c>).</summary>
    private static readonly string[] DateFields = ["date", "published", "update_date"];

    /// <summary>
    /// The record fields of a JSONL object or a CSV row. The id is <c>id</c>, else <c>arxiv_id</c>, else <c>index</c>
    /// unless that is a bare row number (pandas writes one, and row numbers repeat across files).
    /// </summary>
    private static RecordFields Record(string? id, string? arxivId, string? index, string? title, string? abstractText, string? text,
        IReadOnlyList<string>? authors, string? date, string dateField, IReadOnlyList<string>? categories, string categoriesField, string? url)
    {
        bool rowNumber = index is not null && index.AsSpan().Trim().IndexOfAnyExceptInRange('0', '9') < 0;
        return new RecordFields
        {
            Id = !string.IsNullOrWhiteSpace(id) ? id : !string.IsNullOrWhiteSpace(arxivId) ? arxivId : rowNumber ? null : index,
            ArxivId = arxivId,
            Title = title,
            Text = abstractText ?? text,
            TextField = abstractText is null && text is not null ? "text" : "abstract",
            Authors = authors,
            Date = date,
            DateField = dateField,
            Categories = categories,
            CategoriesField = categoriesField,
            Url = url,
        };
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

    /// <summary>
    /// A list field: an array of strings (or of objects with a <c>name</c>, as Semantic Scholar lists authors), or one
    /// string holding a list literal or separated items.
    /// </summary>
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
            return TrySplit(text, name, line, context, split, out value);
        }
        if (element.ValueKind == JsonValueKind.Array)
        {
            var list = new List<string>(element.GetArrayLength());
            foreach (JsonElement item in element.EnumerateArray())
            {
                JsonElement text = item;
                if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("name", out JsonElement named))
                {
                    text = named;
                }
                if (text.ValueKind != JsonValueKind.String)
                {
                    context.Bad(line, name, $"expected an array of strings, found an item of kind {item.ValueKind.ToString().ToLowerInvariant()}");
                    return false;
                }
                if (!JsonInput.TryGetString(text, out string? itemText, out string? problem))
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

    /// <summary>A list written as one string (a JSON string or a CSV cell); a malformed list literal is a bad field.</summary>
    private static bool TrySplit(string raw, string name, long line, ReadContext context, Func<string, List<string>> split, out IReadOnlyList<string>? value)
    {
        if (!PaperMetadata.TrySplitList(raw, split, out List<string> items, out string? problem))
        {
            value = null;
            context.Bad(line, name, problem!);
            return false;
        }
        value = items;
        return true;
    }

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
                        "the CSV header has no 'abstract' (or 'text') column; the first line must name the columns: id,title,abstract[,authors,date,categories,url]");
                }
                if (!columns.ContainsKey("id") && !columns.ContainsKey("arxiv_id") && !columns.ContainsKey("index") && !columns.ContainsKey("title"))
                {
                    throw new InputFormatException(context.File, headerLine, null,
                        "the CSV header has no 'id' (or 'arxiv_id', 'index') and no 'title' column; one of them identifies a paper");
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
        paper = null;
        string? Get(string name) => columns.TryGetValue(name, out int i) && i >= 0 && fields[i].Length > 0 ? fields[i] : null;
        IReadOnlyList<string>? authors = null, categories = null;
        string categoriesField = Get("categories") is null && Get("tags") is not null ? "tags" : "categories";
        if ((Get("authors") is { } a && !TrySplit(a, "authors", line, context, PaperMetadata.SplitAuthors, out authors))
            || (Get(categoriesField) is { } c && !TrySplit(c, categoriesField, line, context, PaperMetadata.SplitCategories, out categories)))
        {
            return false;
        }
        string dateField = Array.Find(DateFields, f => Get(f) is not null) ?? "date";
        return context.TryBuild(line, Record(Get("id"), Get("arxiv_id"), Get("index"), Get("title"), Get("abstract"), Get("text"),
            authors, Get(dateField), dateField, categories, categoriesField, Get("url")), out paper);
    }
}
