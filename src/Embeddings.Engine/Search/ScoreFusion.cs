namespace Embeddings.Search;

/// <summary>Fusion of two score lists over the same candidates (BM25 and vector similarity).</summary>
public static class ScoreFusion
{
    /// <summary>
    /// (1 - w) x minmax(first) + w x minmax(second), min-max taken over the candidates of one query so that
    /// unbounded BM25 scores and cosines share one 0..1 scale. A list with all values equal contributes 0.
    /// </summary>
    public static float[] WeightedMinMax(ReadOnlySpan<float> first, ReadOnlySpan<float> second, float secondWeight)
    {
        if (first.Length != second.Length)
        {
            throw new ArgumentException("Both score lists must cover the same candidates.");
        }
        var fused = new float[first.Length];
        AddMinMax(first, 1 - secondWeight, fused);
        AddMinMax(second, secondWeight, fused);
        return fused;
    }

    /// <summary>Reciprocal rank fusion: sum over both lists of 1 / (k + rank), ranks 1-based, ties share the better rank.</summary>
    public static float[] ReciprocalRank(ReadOnlySpan<float> first, ReadOnlySpan<float> second, int k)
    {
        if (first.Length != second.Length)
        {
            throw new ArgumentException("Both score lists must cover the same candidates.");
        }
        var fused = new float[first.Length];
        AddReciprocalRanks(first, k, fused);
        AddReciprocalRanks(second, k, fused);
        return fused;
    }

    private static void AddMinMax(ReadOnlySpan<float> scores, float weight, Span<float> into)
    {
        if (scores.Length == 0)
        {
            return;
        }
        float min = System.Numerics.Tensors.TensorPrimitives.Min(scores);
        float max = System.Numerics.Tensors.TensorPrimitives.Max(scores);
        float range = max - min;
        if (range <= 0)
        {
            return;
        }
        for (int i = 0; i < scores.Length; i++)
        {
            into[i] += weight * (scores[i] - min) / range;
        }
    }

    private static void AddReciprocalRanks(ReadOnlySpan<float> scores, int k, Span<float> into)
    {
        int[] order = new int[scores.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        float[] keys = scores.ToArray();
        Array.Sort(order, (a, b) => keys[b] != keys[a] ? keys[b].CompareTo(keys[a]) : a.CompareTo(b));
        int rank = 0;
        for (int i = 0; i < order.Length; i++)
        {
            if (i == 0 || keys[order[i]] != keys[order[i - 1]])
            {
                rank = i + 1;
            }
            into[order[i]] += 1f / (k + rank);
        }
    }
}
