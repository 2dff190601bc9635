using Embeddings.Evaluation;


namespace Embeddings.Tests.Quality;

public sealed class MetricsTests
{
    [Fact]
    public void Spearman_uses_average_ranks_for_ties()
    {
        Assert.Equal([1, 2.5, 2.5, 4], Correlation.AverageRanks([1, 2, 2, 3]));
        // scipy.stats.spearmanr
        Assert.Equal(0.9486832980505139, Correlation.Spearman([1, 2, 2, 3], [1, 3, 2, 4]), 12);
        Assert.Equal(0.19885368120992467, Correlation.Spearman([3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8]), 12);
        Assert.Equal(0.7745966692414834, Correlation.Pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]), 12);
    }

    [Fact]
    public void Ndcg_recall_and_mrr_follow_trec_eval()
    {
        var binary = new Dictionary<string, int> { ["d2"] = 1, ["d3"] = 1, ["d9"] = 1 };
        string[] ranking = ["d1", "d2", "d3"];
        // DCG = 1/log2(3) + 1/log2(4); IDCG = 1 + 1/log2(3) + 1/log2(4)
        double dcg = (1 / Math.Log2(3)) + 0.5;
        Assert.Equal(dcg / (1 + dcg), RetrievalMetrics.Ndcg(ranking, binary, 10), 12);
        Assert.Equal(1 / Math.Log2(3) / (1 + (1 / Math.Log2(3))), RetrievalMetrics.Ndcg(ranking, binary, 2), 12);
        Assert.Equal(2.0 / 3, RetrievalMetrics.Recall(ranking, binary, 100), 12);
        Assert.Equal(0.5, RetrievalMetrics.ReciprocalRank(ranking, binary, 10), 12);
        Assert.Equal(0, RetrievalMetrics.ReciprocalRank(ranking, binary, 1), 12);

        // Graded, linear gains: DCG = 1 + 2/log2(3); IDCG = 3 + 2/log2(3) + 1/log2(4)
        var graded = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 0, ["d"] = 3 };
        double expected = (1 + (2 / Math.Log2(3))) / (3 + (2 / Math.Log2(3)) + 0.5);
        Assert.Equal(expected, RetrievalMetrics.Ndcg(["a", "b", "c"], graded, 10), 12);
        Assert.Equal(0.474998, RetrievalMetrics.Ndcg(["a", "b", "c"], graded, 10), 5);
    }

    [Fact]
    public void V_measure_and_ari_match_sklearn()
    {
        var v = ClusteringMetrics.VMeasure([0, 0, 1, 1], [0, 0, 1, 2]);
        Assert.Equal(1, v.Homogeneity, 12);
        Assert.Equal(2.0 / 3, v.Completeness, 12);
        Assert.Equal(0.8, v.VMeasure, 12);
        Assert.Equal(0.5588730382170326, ClusteringMetrics.VMeasure([0, 0, 0, 1, 1, 1, 2, 2], [1, 1, 0, 0, 0, 2, 2, 2]).VMeasure, 12);
        Assert.Equal(0.24242424242424243, ClusteringMetrics.AdjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]), 12);
        Assert.Equal(0.23809523809523808, ClusteringMetrics.AdjustedRandIndex([0, 0, 0, 1, 1, 1, 2, 2], [1, 1, 0, 0, 0, 2, 2, 2]), 12);
        Assert.Equal(1, ClusteringMetrics.AdjustedRandIndex([5, 5, 7], [1, 1, 0]), 12);
        Assert.Equal(1, ClusteringMetrics.VMeasure([5, 5, 7], [1, 1, 0]).VMeasure, 12);
    }
}
