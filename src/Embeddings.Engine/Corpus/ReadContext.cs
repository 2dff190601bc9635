using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Unicode;

namespace Embeddings.Corpus;

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
    /// Validates and normalises one record: identity, non-empty text, caps, control characters, duplicate ids.
    /// Returns false (after reporting) for a bad record.
    /// </summary>
    public bool TryBuild(
        long line,
        string? id,
        string? title,
        string? abstractText,
        string textField,
        IReadOnlyList<string>? authors,
        string? date,
        IReadOnlyList<string>? categories,
        int? authorCount,
        [NotNullWhen(true)] out Paper? paper)
    {
        paper = null;
        title = CollapseWhitespace(title ?? "");
        abstractText = CollapseWhitespace(abstractText ?? "");
        id = id?.Trim();
        if (string.IsNullOrEmpty(id))
        {
            if (title.Length == 0)
            {
                Bad(line, "id", "missing: a record needs an 'id' or a 'title' to be identified");
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
        if (!CheckText(line, "id", id) || !CheckText(line, "title", title) || !CheckText(line, textField, abstractText) || !CheckText(line, "date", date))
        {
            return false;
        }
        // A bad author or category makes the record bad, like a bad title: never "skipped" in the report yet stored.
        if (!TryCapList(line, "authors", authors, out authors) || !TryCapList(line, "categories", categories, out categories))
        {
            return false;
        }
        title = Cap(line, "title", title);
        abstractText = Cap(line, textField, abstractText);
        date = date is null ? null : Cap(line, "date", date.Trim());
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
        paper = new Paper(id, title, abstractText, authors is { Count: > 0 } ? authors : null, string.IsNullOrEmpty(date) ? null : date,
            categories is { Count: > 0 } ? categories : null, authorCount ?? (authors is { Count: > 0 } ? authors.Count : null));
        return true;
    }

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
