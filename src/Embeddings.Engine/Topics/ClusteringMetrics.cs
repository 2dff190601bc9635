namespace Embeddings.Topics;

/// <summary>External clustering scores against gold labels (outliers, -1, count as one more cluster).</summary>
public static class ClusteringMetrics
{
    /// <summary>V-measure (harmonic mean of homogeneity and completeness, Rosenberg and Hirschberg 2007), 0..1.</summary>
    public static double VMeasure(IReadOnlyList<int> gold, IReadOnlyList<int> predicted)
    {
        var (table, goldSizes, predSizes, n) = Contingency(gold, predicted);
        if (n == 0)
        {
            return 1;
        }
        double hGold = Entropy(goldSizes.Values, n), hPred = Entropy(predSizes.Values, n);
        double hGoldGivenPred = 0, hPredGivenGold = 0;
        foreach (var ((g, p), count) in table)
        {
            double joint = (double)count / n;
            hGoldGivenPred -= joint * Math.Log((double)count / predSizes[p]);
            hPredGivenGold -= joint * Math.Log((double)count / goldSizes[g]);
        }
        double homogeneity = hGold == 0 ? 1 : 1 - hGoldGivenPred / hGold;
        double completeness = hPred == 0 ? 1 : 1 - hPredGivenGold / hPred;
        return homogeneity + completeness == 0 ? 0 : 2 * homogeneity * completeness / (homogeneity + completeness);
    }

    /// <summary>Adjusted Rand index (Hubert and Arabie 1985): 1 = identical partitions, about 0 = chance.</summary>
    public static double AdjustedRandIndex(IReadOnlyList<int> gold, IReadOnlyList<int> predicted)
    {
        var (table, goldSizes, predSizes, n) = Contingency(gold, predicted);
        static double Pairs(long x) => x * (x - 1) / 2.0;
        double index = table.Values.Sum(c => Pairs(c));
        double a = goldSizes.Values.Sum(c => Pairs(c));
        double b = predSizes.Values.Sum(c => Pairs(c));
        double expected = n < 2 ? 0 : a * b / Pairs(n);
        double max = (a + b) / 2;
        return max == expected ? 1 : (index - expected) / (max - expected);
    }

    private static (Dictionary<(int, int), long> Table, Dictionary<int, long> Gold, Dictionary<int, long> Pred, long N) Contingency(
        IReadOnlyList<int> gold, IReadOnlyList<int> predicted)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        if (gold.Count != predicted.Count)
        {
            throw new ArgumentException($"gold has {gold.Count} labels, predicted {predicted.Count}");
        }
        var table = new Dictionary<(int, int), long>();
        var g = new Dictionary<int, long>();
        var p = new Dictionary<int, long>();
        for (int i = 0; i < gold.Count; i++)
        {
            table[(gold[i], predicted[i])] = table.GetValueOrDefault((gold[i], predicted[i])) + 1;
            g[gold[i]] = g.GetValueOrDefault(gold[i]) + 1;
            p[predicted[i]] = p.GetValueOrDefault(predicted[i]) + 1;
        }
        return (table, g, p, gold.Count);
    }

    private static double Entropy(IEnumerable<long> sizes, long n)
    {
        double h = 0;
        foreach (long s in sizes)
        {
            double q = (double)s / n;
            h -= q * Math.Log(q);
        }
        return h;
    }
}
