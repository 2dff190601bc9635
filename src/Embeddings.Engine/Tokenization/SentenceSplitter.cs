namespace Embeddings.Tokenization;

/// <summary>
/// Splits scientific prose (paper abstracts) into sentences, for building sentence-aligned windows when a
/// text is longer than the model reads. Rule: a sentence ends at <c>.</c>, <c>!</c> or <c>?</c> (plus any
/// closing quotes/brackets) followed by whitespace and then an upper-case letter or a digit (possibly after an
/// opening quote/bracket), unless the period closes a known abbreviation (e.g., i.e., et al., Fig., Eq., vs.,
/// cf. ...) or a dotted acronym; a blank line always ends a sentence. Periods inside numbers (3.5) never split
/// because no whitespace follows them. Deterministic, culture-independent, allocation-free apart from the result.
/// </summary>
internal static class SentenceSplitter
{
    // Compared case-insensitively with the word right before the period.
    private static readonly string[] Abbreviations =
    [
        "al", "approx", "cf", "ch", "chap", "def", "dr", "eq", "eqn", "eqs", "esp", "fig", "figs", "inc",
        "jr", "lem", "mr", "mrs", "ms", "no", "nos", "pp", "prof", "prop", "ref", "refs", "resp", "sec", "sect",
        "sr", "st", "tab", "thm", "viz", "vol", "vs", "wrt",
    ];

    /// <summary>The sentences of <paramref name="text"/> as ranges (start inclusive, end exclusive), trimmed of whitespace.</summary>
    public static Range[] Split(ReadOnlySpan<char> text)
    {
        var ranges = new List<Range>();
        Split(text, ranges);
        return [.. ranges];
    }

    /// <summary>Appends the sentence ranges of <paramref name="text"/> to <paramref name="ranges"/>.</summary>
    public static void Split(ReadOnlySpan<char> text, ICollection<Range> ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        int start = SkipWhitespace(text, 0);
        int i = start;
        while (i < text.Length)
        {
            char c = text[i];
            if (c is '.' or '!' or '?')
            {
                int end = i + 1;
                while (end < text.Length && (text[end] is '.' or '!' or '?' || IsCloser(text[end])))
                {
                    end++;
                }
                if (end < text.Length && char.IsWhiteSpace(text[end]))
                {
                    int next = SkipWhitespace(text, end);
                    if (next < text.Length && StartsSentence(text, next) && !(c == '.' && EndsAbbreviation(text, i)))
                    {
                        ranges.Add(new Range(start, end));
                        start = next;
                    }
                    i = next;
                    continue;
                }
                i = end;
                continue;
            }
            if (c == '\n' && IsBlankLineAt(text, i, out int after) && after < text.Length)
            {
                int end = TrimEnd(text, start, i);
                if (end > start)
                {
                    ranges.Add(new Range(start, end));
                }
                start = after;
                i = after;
                continue;
            }
            i++;
        }
        int last = TrimEnd(text, start, text.Length);
        if (last > start)
        {
            ranges.Add(new Range(start, last));
        }
    }

    /// <summary>
    /// The first sentence of <paramref name="text"/> (by <see cref="Split(ReadOnlySpan{char})"/>) with runs of white space
    /// collapsed, at most <paramref name="maxLength"/> characters (cut at a word, with an ellipsis): a snippet for
    /// listings such as the digest.
    /// </summary>
    public static string FirstSentence(string text, int maxLength = 240)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        ReadOnlySpan<char> span = text;
        var ranges = new List<Range>(4);
        Split(span, ranges);
        string s = ranges.Count == 0 ? "" : string.Join(' ', span[ranges[0]].ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (s.Length > maxLength)
        {
            int cut = s.LastIndexOf(' ', maxLength - 1);
            s = s[..(cut > maxLength / 2 ? cut : maxLength - 1)].TrimEnd(',', ';', ':') + "\u2026";
        }
        return s;
    }

    private static bool StartsSentence(ReadOnlySpan<char> text, int at)
    {
        while (at < text.Length && IsOpener(text[at]))
        {
            at++;
        }
        return at < text.Length && (char.IsUpper(text[at]) || char.IsDigit(text[at]));
    }

    /// <summary>Is the period at <paramref name="dot"/> the end of an abbreviation or a dotted acronym (e.g., U.S.)?</summary>
    private static bool EndsAbbreviation(ReadOnlySpan<char> text, int dot)
    {
        int wordStart = dot;
        while (wordStart > 0 && (char.IsLetter(text[wordStart - 1]) || text[wordStart - 1] == '.'))
        {
            wordStart--;
        }
        var word = text[wordStart..dot];
        if (word.IsEmpty)
        {
            return false;
        }
        if (word.Contains('.'))
        {
            return true; // e.g, i.e, U.S, a.k.a
        }
        foreach (string abbreviation in Abbreviations)
        {
            if (word.Equals(abbreviation, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsBlankLineAt(ReadOnlySpan<char> text, int newline, out int after)
    {
        int j = newline + 1;
        while (j < text.Length && text[j] is ' ' or '\t' or '\r')
        {
            j++;
        }
        if (j < text.Length && text[j] == '\n')
        {
            after = SkipWhitespace(text, j);
            return true;
        }
        after = newline + 1;
        return false;
    }

    private static bool IsCloser(char c) => c is '"' or '\'' or ')' or ']' or '}' or '\u201D' or '\u2019' or '\u00BB';

    private static bool IsOpener(char c) => c is '"' or '\'' or '(' or '[' or '{' or '\u201C' or '\u2018' or '\u00AB';

    private static int SkipWhitespace(ReadOnlySpan<char> text, int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }
        return i;
    }

    private static int TrimEnd(ReadOnlySpan<char> text, int start, int end)
    {
        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }
        return end;
    }
}
