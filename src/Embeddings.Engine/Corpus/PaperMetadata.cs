using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Embeddings.Corpus;

/// <summary>
/// How the metadata fields of an input record become a paper's metadata: dates (validated, normalised to ISO 8601 at
/// the precision written), lists of authors and categories (a JSON array, a Python-style list literal, or a separated
/// string), and links (a <c>url</c> field, or the arXiv abstract page of an arXiv id). One place, so every input format
/// and every reader of old stores applies the same rules.
/// </summary>
internal static partial class PaperMetadata
{
    private static readonly string[] MonthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>The date forms <see cref="TryParseDate"/> accepts, for error messages.</summary>
    public const string AcceptedDates = "YYYY-MM-DD (optionally with a time), YYYY-MM, YYYY, 'Mar 14, 2024', '14 March 2024' or 'Thu, 14 Mar 2024 10:00:00 GMT'";

    /// <summary>What <see cref="TryParseDate"/> found.</summary>
    public enum DateKind
    {
        /// <summary>Not a date.</summary>
        Invalid,

        /// <summary>A date with a year: <c>iso</c> holds it as YYYY-MM-DD, YYYY-MM or YYYY (the precision written).</summary>
        Dated,

        /// <summary>A month and day without a year ("Mar 14", as the daily-papers pages write them): no date can be stored.</summary>
        Yearless,
    }

    /// <summary>
    /// Reads a date as an input writes it. Dates with a year become ISO 8601 at the precision given ("2024-03-14",
    /// "2024-03", "2024"); a month and day without a year is <see cref="DateKind.Yearless"/>: the year is unknown and
    /// is never guessed.
    /// </summary>
    public static DateKind TryParseDate(string value, out string? iso)
    {
        ArgumentNullException.ThrowIfNull(value);
        iso = null;
        string s = value.Trim();
        if (s.Length == 0)
        {
            return DateKind.Invalid;
        }
        Match m = IsoDate().Match(s);
        if (m.Success)
        {
            int year = int.Parse(m.Groups["y"].ValueSpan, CultureInfo.InvariantCulture);
            if (!m.Groups["m"].Success)
            {
                return Dated(year, 0, 0, out iso);
            }
            int month = int.Parse(m.Groups["m"].ValueSpan, CultureInfo.InvariantCulture);
            int day = m.Groups["d"].Success ? int.Parse(m.Groups["d"].ValueSpan, CultureInfo.InvariantCulture) : 0;
            if (m.Groups["t"].Success && day == 0)
            {
                return DateKind.Invalid; // a time needs a day
            }
            return Dated(year, month, day, out iso);
        }
        // Written forms: "Mar 14, 2024", "March 14 2024", "14 Mar 2024", "Mar 2024", "Thu, 14 Mar 2024 10:00:00 GMT", "Mar 14".
        string[] words = s.Replace(",", " ", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int at = 0;
        if (words.Length > 0 && IsWeekday(words[0]))
        {
            at = 1;
        }
        int rest = words.Length - at;
        if (rest < 2)
        {
            return DateKind.Invalid;
        }
        int monthFirst = Month(words[at]);
        int dayFirst = monthFirst == 0 ? Day(words[at]) : 0;
        if (monthFirst > 0)
        {
            // Mar 14[, 2024] | Mar 2024
            int dayOrYear = Number(words[at + 1]);
            if (dayOrYear < 0)
            {
                return DateKind.Invalid;
            }
            if (rest == 2 && dayOrYear >= 1000)
            {
                return Dated(dayOrYear, monthFirst, 0, out iso);
            }
            if (dayOrYear is < 1 or > 31)
            {
                return DateKind.Invalid;
            }
            if (rest == 2)
            {
                return DateTime.DaysInMonth(2000, monthFirst) >= dayOrYear ? DateKind.Yearless : DateKind.Invalid;
            }
            return Dated(Number(words[at + 2]), monthFirst, dayOrYear, out iso, TrailingTime(words, at + 3));
        }
        if (dayFirst > 0 && rest == 2)
        {
            // 14 Mar
            int month = Month(words[at + 1]);
            return month > 0 && DateTime.DaysInMonth(2000, month) >= dayFirst ? DateKind.Yearless : DateKind.Invalid;
        }
        if (dayFirst > 0 && rest >= 3)
        {
            // 14 Mar 2024 [10:00:00 GMT]
            int month = Month(words[at + 1]);
            return month == 0 ? DateKind.Invalid : Dated(Number(words[at + 2]), month, dayFirst, out iso, TrailingTime(words, at + 3));
        }
        return DateKind.Invalid;
    }

    private static DateKind Dated(int year, int month, int day, out string? iso, bool valid = true)
    {
        iso = null;
        if (!valid || year is < 1000 or > 9999 || month is < 0 or > 12 || (month == 0 && day != 0))
        {
            return DateKind.Invalid;
        }
        if (day != 0 && (day < 1 || day > DateTime.DaysInMonth(year, month)))
        {
            return DateKind.Invalid;
        }
        iso = month == 0
            ? year.ToString("D4", CultureInfo.InvariantCulture)
            : day == 0
                ? string.Create(CultureInfo.InvariantCulture, $"{year:D4}-{month:D2}")
                : string.Create(CultureInfo.InvariantCulture, $"{year:D4}-{month:D2}-{day:D2}");
        return DateKind.Dated;
    }

    /// <summary>Words after a written date may be a time and a zone ("10:00:00 GMT", "+0000") and nothing else.</summary>
    private static bool TrailingTime(string[] words, int from)
    {
        for (int i = from; i < words.Length; i++)
        {
            string w = words[i];
            bool time = TimeOfDay().IsMatch(w);
            bool zone = w is "GMT" or "UTC" or "Z" || ZoneOffset().IsMatch(w);
            if (!time && !zone)
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsWeekday(string word) =>
        word.Length >= 3 && Array.Exists(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], d => word.StartsWith(d, StringComparison.OrdinalIgnoreCase))
        && Month(word) == 0;

    /// <summary>1-12 for "Mar", "March", "mar." and so on; 0 otherwise.</summary>
    private static int Month(string word)
    {
        string w = word.TrimEnd('.');
        if (w.Length < 3)
        {
            return 0;
        }
        for (int i = 0; i < MonthNames.Length; i++)
        {
            string full = CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(i + 1);
            if (w.Equals(MonthNames[i], StringComparison.OrdinalIgnoreCase) || w.Equals(full, StringComparison.OrdinalIgnoreCase)
                || (w.Length == 4 && w.Equals("Sept", StringComparison.OrdinalIgnoreCase) && i == 8))
            {
                return i + 1;
            }
        }
        return 0;
    }

    private static int Day(string word)
    {
        int n = Number(word);
        return n is >= 1 and <= 31 ? n : 0;
    }

    private static int Number(string word) =>
        word.Length is > 0 and <= 4 && int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1;

    [GeneratedRegex(@"^(?<y>\d{4})(-(?<m>\d{2})(-(?<d>\d{2})(?<t>[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDate();

    [GeneratedRegex(@"^\d{1,2}:\d{2}(:\d{2})?$", RegexOptions.CultureInvariant)]
    private static partial Regex TimeOfDay();

    [GeneratedRegex(@"^[+-]\d{4}$", RegexOptions.CultureInvariant)]
    private static partial Regex ZoneOffset();

    /// <summary>
    /// The first and last day an ISO date of any precision stands for ("2024" is 2024-01-01 .. 2024-12-31), or false when
    /// <paramref name="iso"/> is not one.
    /// </summary>
    public static bool TryGetDateRange(string iso, out DateOnly first, out DateOnly last)
    {
        ArgumentNullException.ThrowIfNull(iso);
        first = last = default;
        // Stored dates are always in one of the three shapes: read them without a regex (filters test every paper).
        if (iso.Length is not (4 or 7 or 10) || !Digits(iso, 0, 4, out int year) || year < 1000)
        {
            return false;
        }
        if (iso.Length == 4)
        {
            (first, last) = (new DateOnly(year, 1, 1), new DateOnly(year, 12, 31));
            return true;
        }
        if (iso[4] != '-' || !Digits(iso, 5, 2, out int month) || month is < 1 or > 12)
        {
            return false;
        }
        if (iso.Length == 7)
        {
            (first, last) = (new DateOnly(year, month, 1), new DateOnly(year, month, DateTime.DaysInMonth(year, month)));
            return true;
        }
        if (iso[7] != '-' || !Digits(iso, 8, 2, out int day) || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }
        first = last = new DateOnly(year, month, day);
        return true;
    }

    private static bool Digits(string s, int start, int count, out int value)
    {
        value = 0;
        for (int i = start; i < start + count; i++)
        {
            int d = s[i] - '0';
            if ((uint)d > 9)
            {
                return false;
            }
            value = (value * 10) + d;
        }
        return true;
    }

    /// <summary>
    /// Splits a list written as one string: a list literal (<c>['math.ST', 'stat.ML']</c>, as Python and pandas write
    /// lists into CSV cells, or a JSON array), else by <paramref name="separators"/>. Returns false with a
    /// <paramref name="problem"/> when the value starts like a list literal but is not a well-formed one.
    /// </summary>
    public static bool TrySplitList(string value, Func<string, List<string>> separators, out List<string> items, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(separators);
        string s = value.Trim();
        if (s.StartsWith('['))
        {
            return TryParseListLiteral(s, out items, out problem);
        }
        items = separators(s);
        problem = null;
        return true;
    }

    /// <summary>
    /// A list literal of quoted strings: <c>['a', "b's", 'c\'d']</c> (Python's repr, single or double quotes with
    /// backslash escapes) or a JSON array of strings; empty items are dropped.
    /// </summary>
    private static bool TryParseListLiteral(string s, out List<string> items, out string? problem)
    {
        items = [];
        problem = null;
        int i = 1;
        var item = new StringBuilder();
        while (true)
        {
            while (i < s.Length && char.IsWhiteSpace(s[i]))
            {
                i++;
            }
            if (i >= s.Length)
            {
                problem = "a list literal that does not end with ']'";
                return false;
            }
            if (s[i] == ']' && items.Count == 0 && item.Length == 0)
            {
                i++;
                break;
            }
            char quote = s[i];
            if (quote is not ('\'' or '"'))
            {
                problem = $"list literal item at character {i + 1} is not a quoted string (write ['a', 'b'])";
                return false;
            }
            i++;
            item.Clear();
            bool closed = false;
            while (i < s.Length)
            {
                char c = s[i++];
                if (c == quote)
                {
                    closed = true;
                    break;
                }
                if (c != '\\' || i >= s.Length)
                {
                    item.Append(c);
                    continue;
                }
                char e = s[i++];
                switch (e)
                {
                    case 'n': item.Append(' '); break;
                    case 't': item.Append(' '); break;
                    case 'u' when i + 4 <= s.Length && int.TryParse(s.AsSpan(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code):
                        item.Append((char)code);
                        i += 4;
                        break;
                    default: item.Append(e); break;
                }
            }
            if (!closed)
            {
                problem = "a list literal with an unterminated quoted item";
                return false;
            }
            string text = ReadContext.CollapseWhitespace(item.ToString());
            if (text.Length > 0)
            {
                items.Add(text);
            }
            while (i < s.Length && char.IsWhiteSpace(s[i]))
            {
                i++;
            }
            if (i < s.Length && s[i] == ',')
            {
                i++;
                continue;
            }
            if (i < s.Length && s[i] == ']')
            {
                i++;
                break;
            }
            problem = i >= s.Length ? "a list literal that does not end with ']'" : "a list literal whose items are not separated by commas";
            return false;
        }
        if (i != s.Length)
        {
            problem = "text after the end of a list literal";
            return false;
        }
        return true;
    }

    /// <summary>Authors written as one string: "A, B and C", "A; B; C" (arXiv metadata writes them so).</summary>
    public static List<string> SplitAuthors(string value)
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

    /// <summary>Categories written as one string: "cs.LG stat.ML" (arXiv) or "cs.LG, stat.ML".</summary>
    public static List<string> SplitCategories(string value) =>
        [.. value.Split([' ', ',', ';', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>
    /// The arXiv identifier in <paramref name="id"/> ("2505.24868", "2505.24868v2", "arXiv:2505.24868", old-style
    /// "math.ST/0601001" or "hep-th/9901001"), without the "arXiv:" prefix; null when it is not one.
    /// </summary>
    public static string? ArxivId(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return null;
        }
        string s = id.Trim();
        if (s.StartsWith("arxiv:", StringComparison.OrdinalIgnoreCase))
        {
            s = s[6..];
        }
        Match m = NewStyleArxivId().Match(s);
        if (m.Success)
        {
            int month = int.Parse(m.Groups["mm"].ValueSpan, CultureInfo.InvariantCulture);
            return month is >= 1 and <= 12 ? s : null;
        }
        return OldStyleArxivId().IsMatch(s) ? s : null;
    }

    /// <summary>The arXiv abstract page of an arXiv id (see <see cref="ArxivId"/>), or null.</summary>
    public static string? ArxivAbsUrl(string? id) =>
        ArxivId(id) is { } arxiv ? "https://arxiv.org/abs/" + arxiv : null;

    /// <summary>Whether <paramref name="value"/> is an absolute http or https URL (what a link may be).</summary>
    public static bool IsWebUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && !value.Any(char.IsWhiteSpace);

    [GeneratedRegex(@"^\d{2}(?<mm>\d{2})\.\d{4,5}(v\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NewStyleArxivId();

    [GeneratedRegex(@"^[a-z]+(-[a-z]+)*(\.[A-Z]{2})?/\d{7}(v\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex OldStyleArxivId();
}
