using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Unicode;

namespace Embeddings.Corpus;

/// <summary>
/// The fields of one input record as a format parser found them, before validation (<see cref="ReadContext.TryBuild"/>).
/// </summary>
internal sealed class RecordFields
{
    /// <summary>The record's id (from <c>id</c>, <c>arxiv_id</c> or <c>index</c>); null to derive one from the title.</summary>
    public string? Id { get; init; }

    /// <summary>An arXiv id given beside another id (<c>arxiv_id</c>), for the link.</summary>
    public string? ArxivId { get; init; }

    public string? Title { get; init; }

    /// <summary>The abstract (or the whole text).</summary>
    public string? Text { get; init; }

    /// <summary>The field <see cref="Text"/> came from, for messages.</summary>
    public string TextField { get; init; } = "abstract";

    public IReadOnlyList<string>? Authors { get; init; }

    public int? AuthorCount { get; init; }

    /// <summary>The date as written; validated by <see cref="ReadContext.TryBuild"/>.</summary>
    public string? Date { get; init; }

    /// <summary>The field <see cref="Date"/> came from, for messages.</summary>
    public string DateField { get; init; } = "date";

    public IReadOnlyList<string>? Categories { get; init; }

    /// <summary>The field <see cref="Categories"/> came from (<c>categories</c> or <c>tags</c>), for messages.</summary>
    public string CategoriesField { get; init; } = "categories";

    /// <summary>The link as written; checked by <see cref="ReadContext.TryBuild"/>.</summary>
    public string? Url { get; init; }
}

/// <summary>Per-file reading state shared by the format parsers: error policy, field checks, duplicate ids.</summary>
internal sealed class ReadContext(string file, PaperReaderOptions options)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // id hash -> (content hash, first line): enough to tell "same paper twice" from "same id, other text".
    private readonly Dictionary<ulong, (ulong Content, long Line)>? _seen = options.DetectDuplicateIds ? [] : null;

    public string File { get; } = file;

    public PaperReaderOptions Options { get; } = options;

    /// <summary>A bad record: throws, or reports it when skipping bad records.</summary>
    public void Bad(long line, string? field, string problem)
    {
        if (!Options.SkipBad)
        {
            throw new InputFormatException(File, line, field, problem);
        }
        Options.OnIssue?.Invoke(new PaperReadIssue(File, line, field, problem, PaperIssueKind.Skipped));
    }

    /// <summary>Checks that the bytes are text: no control bytes (binary data is named as such first), valid UTF-8.</summary>
    public bool CheckUtf8(ReadOnlySpan<byte> bytes, long line)
    {
        int control = bytes.IndexOfAnyInRange((byte)0, (byte)0x1F);
        while (control >= 0 && bytes[control] == (byte)'\t')
        {
            int next = bytes[(control + 1)..].IndexOfAnyInRange((byte)0, (byte)0x1F);
            control = next < 0 ? -1 : control + 1 + next;
        }
        if (control >= 0 || bytes.Contains((byte)0x7F))
        {
            byte b = control >= 0 ? bytes[control] : (byte)0x7F;
            Bad(line, null, $"binary data: control byte 0x{b:X2} in the line (not a text file?)");
            return false;
        }
        if (!Utf8.IsValid(bytes))
        {
            int at = FirstInvalidUtf8(bytes);
            Bad(line, null, $"invalid UTF-8 at byte {at.ToString(CultureInfo.InvariantCulture)} of the line (is the file UTF-8 text?)");
            return false;
        }
        return true;
    }

    /// <summary>Decodes a checked line.</summary>
    public bool TryDecode(ReadOnlyMemory<byte> bytes, long line, [NotNullWhen(true)] out string? text)
    {
        text = null;
        if (!CheckUtf8(bytes.Span, line))
        {
            return false;
        }
        text = StrictUtf8.GetString(bytes.Span);
        return true;
    }

    /// <summary>
    /// Validates and normalises one record: identity, non-empty text, caps, control characters, duplicate ids, and the
    /// metadata (dates validated, links checked or derived from an arXiv id). Returns false (after reporting) for a bad record.
    /// </summary>
    public bool TryBuild(long line, RecordFields fields, [NotNullWhen(true)] out Paper? paper)
    {
        paper = null;
        string title = CollapseWhitespace(fields.Title ?? "");
        string abstractText = CollapseWhitespace(fields.Text ?? "");
        string textField = fields.TextField;
        string? id = fields.Id?.Trim();
        if (string.IsNullOrEmpty(id))
        {
            if (title.Length == 0)
            {
                Bad(line, "id", "missing: a record needs an 'id' (or 'arxiv_id', 'index') or a 'title' to be identified");
                return false;
            }
            id = null;
        }
        else if (id.Length > Options.MaxIdLength)
        {
            Bad(line, "id", $"longer than {Options.MaxIdLength} characters ({id.Length}); ids cannot be cut without changing identity");
            return false;
        }
        if (abstractText.Length == 0)
        {
            Bad(line, textField, "missing or empty: a paper needs its abstract to be embedded");
            return false;
        }
        if (!CheckText(line, "id", id) || !CheckText(line, "title", title) || !CheckText(line, textField, abstractText)
            || !CheckText(line, fields.DateField, fields.Date) || !CheckText(line, "url", fields.Url))
        {
            return false;
        }
        if (!TryReadDate(line, fields, out string? date, out string? dateText) || !TryReadUrl(line, fields, out string? url))
        {
            return false;
        }
        // A bad author or category makes the record bad, like a bad title: never "skipped" in the report yet stored.
        if (!TryCapList(line, "authors", fields.Authors, out IReadOnlyList<string>? authors)
            || !TryCapList(line, fields.CategoriesField, fields.Categories, out IReadOnlyList<string>? categories))
        {
            return false;
        }
        title = Cap(line, "title", title);
        abstractText = Cap(line, textField, abstractText);
        id ??= PaperIdentity.IdFromTitle(title);

        if (_seen is not null)
        {
            ulong idHash = XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(id));
            ulong content = (ulong)PaperIdentity.ContentHash(title, abstractText);
            if (_seen.TryGetValue(idHash, out var first))
            {
                if (first.Content != content)
                {
                    Bad(line, "id", $"duplicate id '{id}' with different text (first seen at line {first.Line.ToString(CultureInfo.InvariantCulture)}); ids must be unique within a file");
                    return false;
                }
            }
            else
            {
                _seen.Add(idHash, (content, line));
            }
        }
        paper = new Paper(id, title, abstractText, authors is { Count: > 0 } ? authors : null, date,
            categories is { Count: > 0 } ? categories : null, fields.AuthorCount ?? (authors is { Count: > 0 } ? authors.Count : null),
            url ?? PaperMetadata.ArxivAbsUrl(fields.ArxivId) ?? PaperMetadata.ArxivAbsUrl(id), dateText);
        return true;
    }

    /// <summary>A date with a year becomes ISO 8601; a month and day without a year is kept as wording only; anything else is bad.</summary>
    private bool TryReadDate(long line, RecordFields fields, out string? date, out string? dateText)
    {
        date = dateText = null;
        string raw = CollapseWhitespace(fields.Date ?? "");
        if (raw.Length == 0)
        {
            return true;
        }
        switch (PaperMetadata.TryParseDate(raw, out date))
        {
            case PaperMetadata.DateKind.Dated:
                return true;
            case PaperMetadata.DateKind.Yearless:
                dateText = raw.Length <= 64 ? raw : raw[..64];
                return true;
            default:
                Bad(line, fields.DateField, $"'{Shorten(raw)}' is not a date; write {PaperMetadata.AcceptedDates} (or leave the field empty)");
                return false;
        }
    }

    private bool TryReadUrl(long line, RecordFields fields, out string? url)
    {
        url = null;
        string raw = (fields.Url ?? "").Trim();
        if (raw.Length == 0)
        {
            return true;
        }
        if (raw.Length > Options.MaxFieldLength || !PaperMetadata.IsWebUrl(raw))
        {
            Bad(line, "url", $"'{Shorten(raw)}' is not an http(s) link; give the paper's web address, or leave the field empty");
            return false;
        }
        url = raw;
        return true;
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "...";

    private bool CheckText(long line, string field, string? value)
    {
        if (value is null)
        {
            return true;
        }
        // One rule for every control character: C0 (U+0000-U+001F, line breaks and tabs aside, which became spaces),
        // DEL and C1 (U+0080-U+009F) are refused alike; none belongs in a title or an abstract.
        foreach (char c in value)
        {
            if (c < ' ' || c == '\u007F')
            {
                Bad(line, field, $"contains control character U+{(int)c:X4} (binary data?)");
                return false;
            }
            if (c is >= '\u0080' and <= '\u009F')
            {
                Bad(line, field, $"contains control character U+{(int)c:X4} (C1; text decoded as Latin-1 that was Windows-1252?)");
                return false;
            }
        }
        return true;
    }

    private string Cap(long line, string field, string value)
    {
        if (value.Length <= Options.MaxFieldLength)
        {
            return value;
        }
        int cut = Options.MaxFieldLength;
        if (char.IsHighSurrogate(value[cut - 1]))
        {
            cut--;
        }
        Options.OnIssue?.Invoke(new PaperReadIssue(File, line, field,
            $"{value.Length} characters, cut to {cut} (cap {Options.MaxFieldLength})", PaperIssueKind.Capped));
        return value[..cut];
    }

    private bool TryCapList(long line, string field, IReadOnlyList<string>? values, out IReadOnlyList<string>? capped)
    {
        capped = null;
        if (values is null)
        {
            return true;
        }
        var result = new List<string>(values.Count);
        foreach (string value in values)
        {
            string v = CollapseWhitespace(value);
            if (!CheckText(line, field, v))
            {
                return false;
            }
            if (v.Length > 0)
            {
                result.Add(Cap(line, field, v));
            }
        }
        capped = result;
        return true;
    }

    /// <summary>Trims and turns every run of white space (line breaks included) into one space.</summary>
    public static string CollapseWhitespace(string value)
    {
        ReadOnlySpan<char> s = value.AsSpan().Trim();
        bool clean = true;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsWhiteSpace(s[i]) && (s[i] != ' ' || (i + 1 < s.Length && char.IsWhiteSpace(s[i + 1]))))
            {
                clean = false;
                break;
            }
        }
        if (clean)
        {
            return s.Length == value.Length ? value : s.ToString();
        }
        var sb = new StringBuilder(s.Length);
        bool space = false;
        foreach (char c in s)
        {
            if (char.IsWhiteSpace(c))
            {
                space = true;
                continue;
            }
            if (space)
            {
                sb.Append(' ');
                space = false;
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[i..], out _, out int consumed) != System.Buffers.OperationStatus.Done)
            {
                return i;
            }
            i += consumed;
        }
        return bytes.Length;
    }
}
