using Embeddings.Corpus;

namespace Embeddings.Search;

/// <summary>How a <see cref="PaperFilter"/> applies to a paper.</summary>
internal static class PaperFilterMatching
{
    /// <summary>Whether <paramref name="paper"/> passes.</summary>
    public static bool Matches(this PaperFilter filter, Paper paper)
    {
        ArgumentNullException.ThrowIfNull(paper);
        if (filter.Ids is not null && !filter.Ids.Contains(paper.Id))
        {
            return false;
        }
        if (filter.DateFrom is not null || filter.DateTo is not null)
        {
            if (paper.Date is not { Length: > 0 } date)
            {
                return false;
            }
            if (filter.DateFrom is not null && string.CompareOrdinal(date, filter.DateFrom) < 0)
            {
                return false;
            }
            // A prefix bound ("2025-03") includes every date that starts with it.
            if (filter.DateTo is not null && string.CompareOrdinal(date, filter.DateTo) > 0 && !date.StartsWith(filter.DateTo, StringComparison.Ordinal))
            {
                return false;
            }
        }
        if (filter.Categories is not null)
        {
            if (paper.Categories is null)
            {
                return false;
            }
            bool any = false;
            foreach (string c in paper.Categories)
            {
                if (filter.Categories.Contains(c))
                {
                    any = true;
                    break;
                }
            }
            if (!any)
            {
                return false;
            }
        }
        return true;
    }
}
