namespace Embeddings.Lexical;

/// <summary>A document and its score for a query (higher is better).</summary>
/// <param name="Id">The document's id.</param>
/// <param name="Score">The ranker's score.</param>
internal readonly record struct ScoredDocument(string Id, float Score);

/// <summary>A term's share of a BM25 query-document score: the "why" of a lexical match.</summary>
/// <param name="Term">The analysed (stemmed) term.</param>
/// <param name="Score">Its contribution to the score.</param>
internal readonly record struct TermContribution(string Term, float Score);

/// <summary>Top-k selection over dense score arrays with a deterministic tie order (lower index first).</summary>
internal static class TopK
{
    /// <summary>
    /// The indexes of the <paramref name="k"/> best scores, best first. Entries whose score is
    /// <see cref="float.NegativeInfinity"/> are never selected (callers use it to exclude).
    /// </summary>
    public static int[] Select(ReadOnlySpan<float> scores, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        k = Math.Min(k, scores.Length);
        if (k == 0)
        {
            return [];
        }
        // Min-heap of the current best k: the root is the worst kept entry.
        int[] heap = new int[k];
        int size = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            float s = scores[i];
            if (float.IsNegativeInfinity(s) || float.IsNaN(s))
            {
                continue;
            }
            if (size < k)
            {
                heap[size] = i;
                SiftUp(heap, size, scores);
                size++;
            }
            else if (Better(i, heap[0], scores))
            {
                heap[0] = i;
                SiftDown(heap, 0, size, scores);
            }
        }
        var pairs = new (float Score, int Index)[size];
        for (int i = 0; i < size; i++)
        {
            pairs[i] = (scores[heap[i]], heap[i]);
        }
        Array.Sort(pairs, static (x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Index.CompareTo(y.Index));
        int[] result = new int[size];
        for (int i = 0; i < size; i++)
        {
            result[i] = pairs[i].Index;
        }
        return result;
    }

    private static bool Better(int a, int b, ReadOnlySpan<float> scores) =>
        scores[a] > scores[b] || (scores[a] == scores[b] && a < b);

    private static void SiftUp(int[] heap, int i, ReadOnlySpan<float> scores)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Better(heap[parent], heap[i], scores))
            {
                break;
            }
            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(int[] heap, int i, int size, ReadOnlySpan<float> scores)
    {
        while (true)
        {
            int left = (2 * i) + 1;
            if (left >= size)
            {
                return;
            }
            int worst = left;
            int right = left + 1;
            if (right < size && Better(heap[left], heap[right], scores))
            {
                worst = right;
            }
            if (!Better(heap[i], heap[worst], scores))
            {
                return;
            }
            (heap[i], heap[worst]) = (heap[worst], heap[i]);
            i = worst;
        }
    }
}
