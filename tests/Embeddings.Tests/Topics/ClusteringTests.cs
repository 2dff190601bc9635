using Embeddings.Evaluation;
using Embeddings.Numerics;
using Embeddings.Topics;

namespace Embeddings.Tests.Topics;

public sealed class ClusteringTests
{
    [Fact]
    public void KMeans_recovers_blobs_with_given_k()
    {
        var (v, gold) = Synthetic.Blobs(60, 5, 32, noise: 1.5f, seed: 1);
        var result = new KMeansClusterer(new KMeansOptions { K = 5 }).Cluster(VectorSet.Normalized(v, 32), seed: 7);
        Assert.Equal(5, result.ClusterCount);
        Assert.True(ClusteringMetrics.AdjustedRandIndex([.. gold], [.. result.Labels]) > 0.98);
        Assert.True(ClusteringMetrics.VMeasure([.. gold], [.. result.Labels]).VMeasure > 0.95);
    }

    [Fact]
    public void KMeans_silhouette_search_finds_the_number_of_blobs()
    {
        var (v, _) = Synthetic.Blobs(40, 6, 32, noise: 1.0f, seed: 2);
        int k = KMeansClusterer.ChooseK(VectorSet.Normalized(v, 32), new KMeansOptions { MinK = 2, MaxK = 15, Selection = KSelection.Silhouette }, seed: 3);
        Assert.Equal(6, k);
        int elbow = KMeansClusterer.ChooseK(VectorSet.Normalized(v, 32), new KMeansOptions { MinK = 2, MaxK = 15, Selection = KSelection.Elbow }, seed: 3);
        Assert.InRange(elbow, 4, 8);
    }

    [Fact]
    public void KMeans_mini_batch_path_recovers_blobs()
    {
        var (v, gold) = Synthetic.Blobs(400, 8, 24, noise: 1.5f, seed: 4);
        var options = new KMeansOptions { K = 8, MiniBatchThreshold = 1000, BatchSize = 256, Restarts = 2 };
        var result = new KMeansClusterer(options).Cluster(VectorSet.Normalized(v, 24), seed: 5);
        Assert.True(ClusteringMetrics.VMeasure([.. gold], [.. result.Labels]).VMeasure > 0.95);
    }

    [Fact]
    public void Hdbscan_recovers_blobs_and_flags_scattered_points()
    {
        var (v, gold) = Synthetic.Blobs(50, 4, 32, noise: 1.2f, seed: 8, outliers: 10);
        var result = new HdbscanClusterer(new HdbscanOptions { MinClusterSize = 10, MinSamples = 5 }).Cluster(VectorSet.Normalized(v, 32), seed: 0);
        Assert.Equal(4, result.ClusterCount);
        Assert.True(ClusteringMetrics.VMeasure([.. gold], [.. result.Labels]).VMeasure > 0.9, ClusteringMetrics.VMeasure([.. gold], [.. result.Labels]).VMeasure.ToString());
        for (int i = 0; i < 200; i++)
        {
            Assert.True(result.Labels[i] >= 0, $"blob point {i} flagged as outlier");
        }
        int scatteredFlagged = 0;
        for (int i = 200; i < 210; i++)
        {
            scatteredFlagged += result.Labels[i] < 0 ? 1 : 0;
        }
        // Scattered points that happen to hang below a split stay members (as in the hdbscan library); the
        // pipeline's centroid rule flags the rest (see TopicPipelineTests).
        Assert.True(scatteredFlagged >= 4, scatteredFlagged.ToString());
    }

    [Fact]
    public void Hdbscan_with_pca_recovers_blobs_in_high_dimension()
    {
        var (v, gold) = Synthetic.Blobs(50, 5, 256, noise: 1.5f, seed: 9);
        var unit = VectorSet.Normalized(v, 256);
        var reduced = new PcaReducer(16).Fit(unit, seed: 1).Transform(unit);
        Assert.Equal(16, reduced.Dimension);
        var result = new HdbscanClusterer(new HdbscanOptions { MinClusterSize = 10 }).Cluster(reduced, seed: 0);
        Assert.True(ClusteringMetrics.VMeasure([.. gold], [.. result.Labels]).VMeasure > 0.9);
    }

    [Fact]
    public void Communities_find_near_duplicate_groups()
    {
        var (v, gold) = Synthetic.Blobs(8, 3, 32, noise: 0.3f, seed: 10, outliers: 20);
        var result = new CommunityClusterer(new CommunityOptions { Threshold = 0.9f, MinCommunitySize = 3 }).Cluster(VectorSet.Normalized(v, 32), seed: 0);
        Assert.Equal(3, result.ClusterCount);
        Assert.Equal(1.0, ClusteringMetrics.VMeasure([.. gold], [.. result.Labels]).VMeasure, 6);
    }

    [Fact]
    public void Communities_take_largest_first_and_never_overlap()
    {
        // Hand-made graph over 6 points: 0 sees 1,2,3 above the threshold; 4 sees 3,5; 5 sees 4.
        int[] nb = [1, 2, 3, 0, 2, 3, 0, 1, 4, 0, 4, 1, 3, 5, 0, 4, 0, 1];
        float[] ds = [0.1f, 0.1f, 0.1f, 0.1f, 0.5f, 0.5f, 0.1f, 0.5f, 0.5f, 0.1f, 0.15f, 0.9f, 0.15f, 0.2f, 0.9f, 0.2f, 0.9f, 0.9f];
        var graph = KnnGraph.FromArrays(6, 3, nb, ds);
        var r = CommunityClusterer.Detect(graph, threshold: 0.75f, minSize: 3);
        Assert.Equal([0, 0, 0, 0, -1, -1], r.Labels);
        var r2 = CommunityClusterer.Detect(graph, threshold: 0.75f, minSize: 2);
        Assert.Equal([0, 0, 0, 0, 1, 1], r2.Labels);
    }

    [Fact]
    public void Exact_knn_graph_is_sorted_and_excludes_self()
    {
        var (v, _) = Synthetic.Blobs(10, 2, 8, noise: 1f, seed: 11);
        var set = VectorSet.Normalized(v, 8);
        var g = ExactKnnGraphBuilder.Instance.Build(set, 5);
        for (int i = 0; i < set.Count; i++)
        {
            Assert.DoesNotContain(i, g.NeighborsOf(i).ToArray());
            var d = g.DistancesOf(i);
            for (int t = 1; t < d.Length; t++)
            {
                Assert.True(d[t - 1] <= d[t]);
            }
            // The 5th neighbour is no farther than any non-neighbour.
            for (int j = 0; j < set.Count; j++)
            {
                if (j != i && !g.NeighborsOf(i).Contains(j))
                {
                    Assert.True(1 - System.Numerics.Tensors.TensorPrimitives.Dot(set[i], set[j]) >= d[^1] - 1e-6);
                }
            }
        }
    }

    [Fact]
    public void Pca_finds_the_dominant_axis()
    {
        // Points spread along (1,1,0,...) with small noise: the first component is that axis.
        var rng = new Random(3);
        int n = 200, d = 10;
        var v = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            float t = (float)(rng.NextDouble() * 2 - 1);
            for (int j = 0; j < d; j++)
            {
                v[i * d + j] = (j < 2 ? t : 0) + (float)(rng.NextDouble() - 0.5) * 0.01f + (j == 2 ? 5 : 0);
            }
        }
        var pca = (PcaReduction)new PcaReducer(2).Fit(VectorSet.Wrap(v, d), seed: 1);
        var p = pca.Project(VectorSet.Wrap(v, d));
        // First coordinate tracks t*sqrt(2) (up to sign), second is tiny.
        double corr = 0, second = 0;
        for (int i = 0; i < n; i++)
        {
            corr += Math.Abs(p[i * 2] - (v[i * d] - Mean(v, d, 0)) * Math.Sqrt(2));
            second += Math.Abs(p[i * 2 + 1]);
        }
        Assert.True(corr / n < 0.02, (corr / n).ToString());
        Assert.True(second / n < 0.02);
    }

    private static double Mean(float[] v, int d, int col)
    {
        double s = 0;
        int n = v.Length / d;
        for (int i = 0; i < n; i++)
        {
            s += v[i * d + col];
        }
        return s / n;
    }

    [Fact]
    public void Metrics_match_hand_computed_values()
    {
        Assert.Equal(1.0, ClusteringMetrics.VMeasure([0, 0, 1, 1], [5, 5, 3, 3]).VMeasure, 9);
        Assert.Equal(1.0, ClusteringMetrics.AdjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]), 9);
        // sklearn: adjusted_rand_score([0,0,1,1],[0,0,1,2]) = 0.5714285714; v_measure_score = 0.8
        Assert.Equal(0.5714285714, ClusteringMetrics.AdjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2]), 8);
        Assert.Equal(0.8, ClusteringMetrics.VMeasure([0, 0, 1, 1], [0, 0, 1, 2]).VMeasure, 8);
    }
}

public sealed class HnswGraphTests
{
    [Fact]
    public void Hnsw_graph_agrees_with_exact_graph_and_is_reproducible()
    {
        var (v, gold) = Synthetic.Blobs(150, 4, 16, noise: 2f, seed: 61);
        var set = VectorSet.Normalized(v, 16);
        var exact = ExactKnnGraphBuilder.Instance.Build(set, 10);
        var approx = new HnswKnnGraphBuilder(seed: 3).Build(set, 10);
        var again = new HnswKnnGraphBuilder(seed: 3).Build(set, 10);
        int hits = 0;
        for (int i = 0; i < set.Count; i++)
        {
            var truth = exact.NeighborsOf(i).ToArray();
            hits += approx.NeighborsOf(i).ToArray().Count(truth.Contains);
            Assert.Equal(approx.NeighborsOf(i).ToArray(), again.NeighborsOf(i).ToArray());
        }
        Assert.True(hits / (10.0 * set.Count) > 0.95, $"recall@10 {hits / (10.0 * set.Count)}");
        var viaHnsw = new HdbscanClusterer(new HdbscanOptions { MinClusterSize = 20, GraphBuilder = new HnswKnnGraphBuilder() }).Cluster(set, 0);
        Assert.True(ClusteringMetrics.VMeasure([.. gold], [.. viaHnsw.Labels]).VMeasure > 0.9);
    }
}
