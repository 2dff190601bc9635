using Embeddings.Topics;

namespace Embeddings.Evaluation;

/// <summary>Correlation coefficients for STS evaluation.</summary>
internal static class Correlation
{
    /// <summary>Pearson's r of two equally long samples (NaN when either is constant).</summary>
    public static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("samples must have the same length");
        }
        int n = x.Length;
        if (n == 0)
        {
            return double.NaN;
        }
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++)
        {
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>Spearman's rho: Pearson's r of the ranks, tied values sharing their average rank.</summary>
    public static double Spearman(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("samples must have the same length");
        }
        return Pearson(AverageRanks(x), AverageRanks(y));
    }

    /// <summary>1-based ranks, ties getting the mean of the ranks they span (scipy's "average").</summary>
    public static double[] AverageRanks(ReadOnlySpan<double> values)
    {
        int n = values.Length;
        int[] order = new int[n];
        double[] keys = values.ToArray();
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        Array.Sort(keys, order);
        double[] ranks = new double[n];
        for (int i = 0; i < n;)
        {
            int j = i + 1;
            while (j < n && keys[j] == keys[i])
            {
                j++;
            }
            double rank = (i + 1 + j) / 2.0;
            for (int m = i; m < j; m++)
            {
                ranks[order[m]] = rank;
            }
            i = j;
        }
        return ranks;
    }
}

/// <summary>
/// Retrieval metrics with the definitions of trec_eval/pytrec_eval as used by BEIR: linear gains
/// (the qrels grade), log2 discount, ideal DCG from the query's qrels; a document is relevant when its
/// grade is positive.
/// </summary>
internal static class RetrievalMetrics
{
    /// <summary>nDCG@k of a ranking (best first) against graded or binary judgements.</summary>
    public static double Ndcg(IReadOnlyList<string> ranking, IReadOnlyDictionary<string, int> judgements, int k)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(judgements);
        double dcg = 0;
        int depth = Math.Min(k, ranking.Count);
        for (int i = 0; i < depth; i++)
        {
            if (judgements.TryGetValue(ranking[i], out int grade) && grade > 0)
            {
                dcg += grade / Math.Log2(i + 2);
            }
        }
        int[] ideal = judgements.Values.Where(g => g > 0).OrderByDescending(g => g).Take(k).ToArray();
        double idcg = 0;
        for (int i = 0; i < ideal.Length; i++)
        {
            idcg += ideal[i] / Math.Log2(i + 2);
        }
        return idcg == 0 ? 0 : dcg / idcg;
    }

    /// <summary>Share of the relevant documents found in the first <paramref name="k"/>.</summary>
    public static double Recall(IReadOnlyList<string> ranking, IReadOnlyDictionary<string, int> judgements, int k)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(judgements);
        int relevant = judgements.Values.Count(g => g > 0);
        if (relevant == 0)
        {
            return 0;
        }
        int found = 0;
        int depth = Math.Min(k, ranking.Count);
        for (int i = 0; i < depth; i++)
        {
            if (judgements.TryGetValue(ranking[i], out int grade) && grade > 0)
            {
                found++;
            }
        }
        return (double)found / relevant;
    }

    /// <summary>Reciprocal rank of the first relevant document within the first <paramref name="k"/> (0 if none).</summary>
    public static double ReciprocalRank(IReadOnlyList<string> ranking, IReadOnlyDictionary<string, int> judgements, int k)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(judgements);
        int depth = Math.Min(k, ranking.Count);
        for (int i = 0; i < depth; i++)
        {
            if (judgements.TryGetValue(ranking[i], out int grade) && grade > 0)
            {
                return 1.0 / (i + 1);
            }
        }
        return 0;
    }
}

/// <summary>V-measure and its parts (scikit-learn definitions, natural logarithm).</summary>
/// <param name="Homogeneity">1 - H(class | cluster) / H(class).</param>
/// <param name="Completeness">1 - H(cluster | class) / H(cluster).</param>
/// <param name="VMeasure">Harmonic mean of homogeneity and completeness.</param>
internal readonly record struct VMeasureResult(double Homogeneity, double Completeness, double VMeasure);

/// <summary>External clustering metrics comparing predicted clusters with gold labels.</summary>
internal static class ClusteringMetrics
{
    /// <summary>Homogeneity, completeness and V-measure (beta 1), as sklearn computes them.</summary>
    public static VMeasureResult VMeasure(ReadOnlySpan<int> gold, ReadOnlySpan<int> predicted)
    {
        var (table, goldTotals, predTotals, n) = Contingency(gold, predicted);
        if (n == 0)
        {
            return new VMeasureResult(1, 1, 1);
        }
        double hGold = Entropy(goldTotals, n);
        double hPred = Entropy(predTotals, n);
        // Mutual information from the contingency table: sum n_ij/n * ln(n * n_ij / (a_i b_j)).
        double mi = 0;
        foreach (var ((g, p), count) in table)
        {
            mi += count / (double)n * Math.Log((double)n * count / ((double)goldTotals[g] * predTotals[p]));
        }
        double homogeneity = hGold == 0 ? 1 : mi / hGold;
        double completeness = hPred == 0 ? 1 : mi / hPred;
        double v = homogeneity + completeness == 0 ? 0 : 2 * homogeneity * completeness / (homogeneity + completeness);
        return new VMeasureResult(homogeneity, completeness, v);
    }

    /// <summary>Adjusted Rand index (Hubert and Arabie), 1 for identical partitions, ~0 for chance.</summary>
    public static double AdjustedRandIndex(ReadOnlySpan<int> gold, ReadOnlySpan<int> predicted)
    {
        var (table, goldTotals, predTotals, n) = Contingency(gold, predicted);
        // sklearn's special cases: one cluster each, or every sample alone, agree perfectly.
        if (goldTotals.Count == predTotals.Count && (goldTotals.Count <= 1 || goldTotals.Count == n))
        {
            return 1.0;
        }
        double index = 0;
        foreach (int count in table.Values)
        {
            index += Comb2(count);
        }
        double sumGold = goldTotals.Values.Sum(Comb2);
        double sumPred = predTotals.Values.Sum(Comb2);
        double expected = sumGold * sumPred / Comb2(n);
        double max = (sumGold + sumPred) / 2;
        return max == expected ? 1.0 : (index - expected) / (max - expected);
    }

    private static double Comb2(int n) => n * (n - 1.0) / 2;

    private static double Entropy(Dictionary<int, int> totals, int n)
    {
        double h = 0;
        foreach (int c in totals.Values)
        {
            if (c > 0)
            {
                double p = (double)c / n;
                h -= p * Math.Log(p);
            }
        }
        return h;
    }

    private static (Dictionary<(int, int), int> Table, Dictionary<int, int> Gold, Dictionary<int, int> Pred, int N)
        Contingency(ReadOnlySpan<int> gold, ReadOnlySpan<int> predicted)
    {
        if (gold.Length != predicted.Length)
        {
            throw new ArgumentException("gold and predicted labels must have the same length");
        }
        var table = new Dictionary<(int, int), int>();
        var g = new Dictionary<int, int>();
        var p = new Dictionary<int, int>();
        for (int i = 0; i < gold.Length; i++)
        {
            table[(gold[i], predicted[i])] = table.GetValueOrDefault((gold[i], predicted[i])) + 1;
            g[gold[i]] = g.GetValueOrDefault(gold[i]) + 1;
            p[predicted[i]] = p.GetValueOrDefault(predicted[i]) + 1;
        }
        return (table, g, p, gold.Length);
    }
}
