using Embeddings.Lexical;
using Embeddings.Quality;

namespace Embeddings.Search;

/// <summary>Options of BM25 + vector fusion (see <see cref="ScoreFusion"/>).</summary>
internal sealed record FusionOptions
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
internal static class ScoreFusion
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
    /// The fixed-scale fused score: (1 - <paramref name="vectorWeight"/>) x the lexical match (BM25 divided by the
    /// query's <see cref="Bm25Index.MaxAttainableScore"/>) + <paramref name="vectorWeight"/> x the cosine, each clamped
    /// to [0, 1]. Unlike min-max scaling it does not depend on the other candidates, so a score means the same for
    /// every query (an off-topic query scores low instead of its best hit scoring 1).
    /// </summary>
    public static float FixedScale(float lexical, float cosine, float vectorWeight) =>
        ((1 - vectorWeight) * Math.Clamp(lexical, 0f, 1f)) + (vectorWeight * Math.Clamp(cosine, 0f, 1f));

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

    /// <summary>
    /// The default similar-paper fusion of a lexical ranking (BM25) and a vector ranking (cosine), each cut to
    /// <see cref="FusionOptions.Candidates"/>. For weighted min-max, a candidate missing from one list gets its exact
    /// score from <paramref name="lexicalScore"/>/<paramref name="vectorScore"/> when given, else that list's
    /// lowest score. Returns the best <paramref name="k"/>, best first.
    /// </summary>
    public static ScoredDocument[] Fuse(IReadOnlyList<ScoredDocument> lexical, IReadOnlyList<ScoredDocument> vector, int k,
        FusionOptions? options = null, Func<string, float>? lexicalScore = null, Func<string, float>? vectorScore = null)
    {
        ArgumentNullException.ThrowIfNull(lexical);
        ArgumentNullException.ThrowIfNull(vector);
        options ??= new FusionOptions();
        float w = options.VectorWeight;
        IReadOnlyList<ScoredDocument> lex = lexical.Take(options.Candidates).ToArray();
        IReadOnlyList<ScoredDocument> vec = vector.Take(options.Candidates).ToArray();
        if (options.Method == FusionMethod.ReciprocalRank)
        {
            return ReciprocalRank([lex, vec], [1 - w, w], k, options.RrfK);
        }
        var candidates = new List<string>();
        var lexicalMap = new Dictionary<string, float>(StringComparer.Ordinal);
        var vectorMap = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (ScoredDocument d in lex)
        {
            if (lexicalMap.TryAdd(d.Id, d.Score))
            {
                candidates.Add(d.Id);
            }
        }
        foreach (ScoredDocument d in vec)
        {
            if (vectorMap.TryAdd(d.Id, d.Score) && !lexicalMap.ContainsKey(d.Id))
            {
                candidates.Add(d.Id);
            }
        }
        float lexicalFloor = lex.Count > 0 ? lex.Min(d => d.Score) : 0;
        float vectorFloor = vec.Count > 0 ? vec.Min(d => d.Score) : 0;
        var a = new float[candidates.Count];
        var b = new float[candidates.Count];
        for (int c = 0; c < candidates.Count; c++)
        {
            string id = candidates[c];
            a[c] = lexicalMap.TryGetValue(id, out float x) ? x : lexicalScore?.Invoke(id) ?? lexicalFloor;
            b[c] = vectorMap.TryGetValue(id, out float y) ? y : vectorScore?.Invoke(id) ?? vectorFloor;
        }
        return WeightedMinMax(candidates, [a, b], [1 - w, w], k);
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
