namespace Embeddings.Quality.Hybrid;

/// <summary>How BM25 and vector rankings are fused.</summary>
public enum FusionMethod
{
    /// <summary>Weighted sum of scores min-max normalised per query over the union of candidates.</summary>
    WeightedMinMax = 0,

    /// <summary>Reciprocal rank fusion: sum of weight / (k + rank).</summary>
    ReciprocalRank = 1,
}

/// <summary>Options of BM25 + vector fusion (see <see cref="ScoreFusion"/>).</summary>
public sealed record FusionOptions
{
    /// <summary>Fusion method. Default weighted min-max.</summary>
    public FusionMethod Method { get; init; } = FusionMethod.WeightedMinMax;

    /// <summary>Weight of the vector ranking; the lexical ranking gets 1 - this. Default <see cref="QualityDefaults.FusionVectorWeight"/>.</summary>
    public float VectorWeight { get; init; } = QualityDefaults.FusionVectorWeight;

    /// <summary>Candidates each ranker contributes. Default <see cref="QualityDefaults.FusionCandidates"/>.</summary>
    public int Candidates { get; init; } = QualityDefaults.FusionCandidates;

    /// <summary>k of reciprocal rank fusion. Default <see cref="QualityDefaults.RrfK"/>.</summary>
    public int RrfK { get; init; } = QualityDefaults.RrfK;
}

/// <summary>
/// Fuses rankings of the same documents by different rankers (BM25 and vector similarity).
/// </summary>
public static class ScoreFusion
{
    /// <summary>
    /// Weighted min-max fusion over candidates whose scores are known for every ranker:
    /// <paramref name="scores"/>[r][c] is ranker r's score of candidate c. Each ranker's scores are scaled to
    /// [0, 1] over the candidates (all equal -> 0), then summed with <paramref name="weights"/>.
    /// Returns the best <paramref name="k"/> candidates, best first (ties: lower candidate index first).
    /// </summary>
    public static ScoredDocument[] WeightedMinMax(IReadOnlyList<string> candidates, IReadOnlyList<float[]> scores,
        ReadOnlySpan<float> weights, int k)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        return Pick(candidates, WeightedMinMax(scores, weights, candidates.Count), k);
    }

    /// <summary>
    /// The fused score of every candidate (same rule as the ranking overload): each ranker's scores min-max scaled
    /// over the candidates (all equal -> 0), summed with <paramref name="weights"/>.
    /// </summary>
    public static float[] WeightedMinMax(IReadOnlyList<float[]> scores, ReadOnlySpan<float> weights, int candidateCount)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Count != weights.Length)
        {
            throw new ArgumentException("one weight per ranker");
        }
        var fused = new float[candidateCount];
        for (int r = 0; r < scores.Count; r++)
        {
            float[] s = scores[r];
            if (s.Length != candidateCount)
            {
                throw new ArgumentException($"ranker {r} scores {s.Length} candidates, expected {candidateCount}");
            }
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (float v in s)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            float range = max - min;
            for (int c = 0; c < s.Length; c++)
            {
                fused[c] += weights[r] * (range > 0 ? (s[c] - min) / range : 0);
            }
        }
        return fused;
    }

    /// <summary>
    /// Reciprocal rank fusion (Cormack, Clarke and Buettcher 2009): a document scores the sum over rankings of
    /// weight / (<paramref name="rrfK"/> + rank), rank 1-based; absent from a ranking adds nothing.
    /// </summary>
    public static ScoredDocument[] ReciprocalRank(IReadOnlyList<IReadOnlyList<ScoredDocument>> rankings,
        ReadOnlySpan<float> weights, int k, int rrfK = QualityDefaults.RrfK)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        if (rankings.Count != weights.Length)
        {
            throw new ArgumentException("one weight per ranking");
        }
        var order = new List<string>();
        var totals = new Dictionary<string, float>(StringComparer.Ordinal);
        for (int r = 0; r < rankings.Count; r++)
        {
            IReadOnlyList<ScoredDocument> ranking = rankings[r];
            for (int i = 0; i < ranking.Count; i++)
            {
                string id = ranking[i].Id;
                if (!totals.TryGetValue(id, out float total))
                {
                    order.Add(id);
                }
                totals[id] = total + (weights[r] / (rrfK + i + 1));
            }
        }
        var fused = new float[order.Count];
        for (int c = 0; c < order.Count; c++)
        {
            fused[c] = totals[order[c]];
        }
        return Pick(order, fused, k);
    }

    private static ScoredDocument[] Pick(IReadOnlyList<string> candidates, float[] fused, int k)
    {
        int[] best = TopK.Select(fused, k);
        var result = new ScoredDocument[best.Length];
        for (int i = 0; i < best.Length; i++)
        {
            result[i] = new ScoredDocument(candidates[best[i]], fused[best[i]]);
        }
        return result;
    }
}
