using System.Globalization;

namespace Embeddings;

/// <summary>
/// Restricts similar-paper hits by date range, categories and/or an id set. Parsed from the CLI's
/// <c>--filter</c> expressions: <c>date&gt;=2025-03-01</c>, <c>date&lt;=2025-03-31</c>, <c>date=2025-03</c> (the whole
/// month), <c>category=cs.CL</c> (several categories: any of them), <c>id=ID1,ID2</c>. Several expressions combine with
/// AND. Dates compare as dates: a paper passes a date bound only when its whole date does (a paper dated 2025 does not
/// pass <c>date&gt;=2025-03-01</c>), and a paper without a date (a daily-papers "Mar 14" has no year) passes none.
/// </summary>
public sealed record PaperFilter
{
    /// <summary>Earliest date allowed (inclusive): YYYY-MM-DD, or YYYY-MM / YYYY for the first day of that month or year.</summary>
    public string? DateFrom { get; init; }

    /// <summary>Latest date allowed (inclusive): YYYY-MM-DD, or YYYY-MM / YYYY for the last day of that month or year.</summary>
    public string? DateTo { get; init; }

    /// <summary>Allowed categories (a paper passes if it has any of them); null = any.</summary>
    public IReadOnlySet<string>? Categories { get; init; }

    /// <summary>Allowed paper ids; null = any.</summary>
    public IReadOnlySet<string>? Ids { get; init; }

    /// <summary>Parses <c>--filter</c> expressions; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public static PaperFilter? Parse(IEnumerable<string> expressions)
    {
        ArgumentNullException.ThrowIfNull(expressions);
        PaperFilter? filter = null;
        foreach (string raw in expressions)
        {
            filter ??= new PaperFilter();
            string e = raw.Trim();
            if (TrySplit(e, ">=", out string key, out string value) && key == "date")
            {
                filter = filter with { DateFrom = CheckDate(raw, value) };
            }
            else if (TrySplit(e, "<=", out key, out value) && key == "date")
            {
                filter = filter with { DateTo = CheckDate(raw, value) };
            }
            else if (TrySplit(e, "=", out key, out value))
            {
                string[] items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                switch (key)
                {
                    case "date":
                        filter = filter with { DateFrom = CheckDate(raw, value), DateTo = CheckDate(raw, value) };
                        break;
                    case "category":
                    case "categories":
                        filter = filter with { Categories = Union(filter.Categories, items) };
                        break;
                    case "id":
                    case "ids":
                        filter = filter with { Ids = Union(filter.Ids, items) };
                        break;
                    default:
                        throw Bad(raw);
                }
            }
            else
            {
                throw Bad(raw);
            }
        }
        return filter;
    }

    private static bool TrySplit(string e, string op, out string key, out string value)
    {
        int at = e.IndexOf(op, StringComparison.Ordinal);
        if (at <= 0)
        {
            key = value = "";
            return false;
        }
        key = e[..at].Trim().ToLowerInvariant();
        value = e[(at + op.Length)..].Trim();
        return value.Length > 0;
    }

    private static string CheckDate(string raw, string value)
    {
        string[] formats = ["yyyy-MM-dd", "yyyy-MM", "yyyy"];
        if (value.Length is not (4 or 7 or 10) || !DateTime.TryParseExact(value, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            throw new ArgumentException($"Filter '{raw}': '{value}' is not a date; use YYYY-MM-DD, YYYY-MM or YYYY.");
        }
        return value;
    }

    private static HashSet<string> Union(IReadOnlySet<string>? existing, string[] items)
    {
        var set = existing is null ? new HashSet<string>(StringComparer.Ordinal) : new HashSet<string>(existing, StringComparer.Ordinal);
        set.UnionWith(items);
        return set;
    }

    private static ArgumentException Bad(string raw) => new(
        $"Filter '{raw}' is not understood. Use date>=YYYY-MM-DD, date<=YYYY-MM-DD, date=YYYY-MM, category=NAME[,NAME] or id=ID[,ID].");
}
