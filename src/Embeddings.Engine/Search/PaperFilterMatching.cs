using Embeddings.Corpus;

namespace Embeddings.Search;

/// <summary>How a <see cref="PaperFilter"/> applies to a paper.</summary>
internal static class PaperFilterMatching
{
    /// <summary>Whether <paramref name="paper"/> passes.</summary>
    public static bool Matches(this PaperFilter filter, Paper paper) => filter.Matcher()(paper);

    /// <summary>
    /// The filter as a test, with its bounds read once (for testing every stored paper). A date bound lets a paper
    /// through only when its whole date does: <c>date&gt;=2025-03-01</c> passes 2025-03-14 and 2025-04 but not 2025
    /// (which may be January) nor a paper without a date (a daily-papers "Mar 14" has no year, so no date).
    /// </summary>
    public static Func<Paper, bool> Matcher(this PaperFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        DateOnly? from = Bound(filter.DateFrom, last: false);
        DateOnly? to = Bound(filter.DateTo, last: true);
        IReadOnlySet<string>? ids = filter.Ids;
        IReadOnlySet<string>? categories = filter.Categories;
        return paper =>
        {
            ArgumentNullException.ThrowIfNull(paper);
            if (ids is not null && !ids.Contains(paper.Id))
            {
                return false;
            }
            if (from is not null || to is not null)
            {
                if (paper.Date is not { } date || !PaperMetadata.TryGetDateRange(date, out DateOnly first, out DateOnly last))
                {
                    return false;
                }
                if ((from is { } f && first < f) || (to is { } t && last > t))
                {
                    return false;
                }
            }
            if (categories is not null)
            {
                if (paper.Categories is null)
                {
                    return false;
                }
                foreach (string c in paper.Categories)
                {
                    if (categories.Contains(c))
                    {
                        return true;
                    }
                }
                return false;
            }
            return true;
        };
    }

    /// <summary>The first (or last) day of a bound such as 2025, 2025-03 or 2025-03-14.</summary>
    private static DateOnly? Bound(string? value, bool last)
    {
        if (value is null)
        {
            return null;
        }
        if (!PaperMetadata.TryGetDateRange(value, out DateOnly first, out DateOnly end))
        {
            throw new ArgumentException($"'{value}' is not a date bound; use YYYY-MM-DD, YYYY-MM or YYYY.");
        }
        return last ? end : first;
    }
}
