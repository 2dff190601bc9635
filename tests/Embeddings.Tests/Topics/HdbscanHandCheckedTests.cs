using Embeddings.Topics;

namespace Embeddings.Tests.Topics;

/// <summary>HDBSCAN on tiny 1-D sets whose trees were worked out by hand (Euclidean distance, full graph).</summary>
public sealed class HdbscanHandCheckedTests
{
    private static KnnGraph FullGraph(double[] x)
    {
        int n = x.Length, k = n - 1;
        var nb = new int[n * k];
        var ds = new float[n * k];
        for (int i = 0; i < n; i++)
        {
            var others = Enumerable.Range(0, n).Where(j => j != i).OrderBy(j => Math.Abs(x[i] - x[j])).ThenBy(j => j).ToArray();
            for (int t = 0; t < k; t++)
            {
                nb[i * k + t] = others[t];
                ds[i * k + t] = (float)Math.Abs(x[i] - x[others[t]]);
            }
        }
        return KnnGraph.FromArrays(n, k, nb, ds);
    }

    [Fact]
    public void Two_groups_and_a_far_point()
    {
        // A = {0,1,2}, B = {10,11,12}, far point 30. minSamples 2: every core distance is 1 except 30's (18).
        // MST: four edges of 1, A-B at 8, B-30 at 18. The root loses 30 at lambda 1/18, splits into A and B at
        // lambda 1/8; each member leaves at lambda 1: stability(A) = stability(B) = 3 * (1 - 1/8) = 2.625.
        var trace = HdbscanClusterer.Run(FullGraph([0, 1, 2, 10, 11, 12, 30]), null,
            new HdbscanOptions { MinClusterSize = 2, MinSamples = 2 }, default);
        Assert.Equal([1, 1, 1, 1, 1, 1, 18], trace.CoreDistances);
        Assert.Equal([1, 1, 1, 1, 8, 18], trace.SpanningTree.Select(e => e.Weight).ToArray());
        Assert.Equal(3, trace.Condensed.ClusterCount);
        Assert.Equal(1.0 / 8, trace.Condensed.ClusterBirth[1], 12);
        Assert.Equal(2.625, trace.Stability[1], 9);
        Assert.Equal(2.625, trace.Stability[2], 9);
        Assert.Equal(1.0 / 18 + 6 * (1.0 / 8), trace.Stability[0], 9);
        Assert.Equal([0, 0, 0, 1, 1, 1, -1], trace.Assignment.Labels);
        Assert.Equal(0, trace.Assignment.Strengths[6]);
    }

    [Fact]
    public void Excess_of_mass_prefers_a_persistent_parent_and_leaf_splits_it()
    {
        // A = {0,1,2}, B = {3.5,4.5,5.5}, C = {100,101,102}. Root splits at 94.5 into C (cluster 1: its
        // node was formed first) and G = A+B (cluster 2), both born at 1/94.5; G splits at 1.5 into A and B
        // (born 2/3) whose members leave at 1: stability(A) = stability(B) = 3 * (1 - 2/3) = 1,
        // stability(G) = 6 * (2/3 - 1/94.5) = 3.937 > 2, so EOM keeps G; leaf selection keeps A, B and C.
        var graph = FullGraph([0, 1, 2, 3.5, 4.5, 5.5, 100, 101, 102]);
        var options = new HdbscanOptions { MinClusterSize = 2, MinSamples = 2 };
        var eom = HdbscanClusterer.Run(graph, null, options, default);
        Assert.Equal(5, eom.Condensed.ClusterCount);
        Assert.Equal(3 * (1 - 1.0 / 94.5), eom.Stability[1], 9);
        Assert.Equal(6 * (2.0 / 3 - 1.0 / 94.5), eom.Stability[2], 9);
        Assert.Equal(1.0, eom.Stability[3], 9);
        Assert.Equal(1.0, eom.Stability[4], 9);
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1], eom.Assignment.Labels);

        var leaf = HdbscanClusterer.Run(graph, null, options with { Selection = ClusterSelection.Leaf }, default);
        Assert.Equal([0, 0, 0, 1, 1, 1, 2, 2, 2], leaf.Assignment.Labels);
    }

    [Fact]
    public void Groups_below_min_cluster_size_are_noise()
    {
        var trace = HdbscanClusterer.Run(FullGraph([0, 1, 2, 10, 11, 12, 30]), null,
            new HdbscanOptions { MinClusterSize = 4, MinSamples = 2 }, default);
        Assert.All(trace.Assignment.Labels, l => Assert.Equal(-1, l));
        var single = HdbscanClusterer.Run(FullGraph([0, 1, 2, 10, 11, 12, 30]), null,
            new HdbscanOptions { MinClusterSize = 4, MinSamples = 2, AllowSingleCluster = true }, default);
        Assert.All(single.Assignment.Labels, l => Assert.Equal(0, l));
    }

    [Fact]
    public void Disconnected_graph_is_joined()
    {
        // k = 2 leaves {0,1,2} and {10,11,12} unconnected; the join links them above every graph edge.
        var full = FullGraph([0, 1, 2, 10, 11, 12]);
        int k = 2, n = 6;
        var nb = new int[n * k];
        var ds = new float[n * k];
        for (int i = 0; i < n; i++)
        {
            full.NeighborsOf(i)[..k].CopyTo(nb.AsSpan(i * k));
            full.DistancesOf(i)[..k].CopyTo(ds.AsSpan(i * k));
        }
        var trace = HdbscanClusterer.Run(KnnGraph.FromArrays(n, k, nb, ds), null, new HdbscanOptions { MinClusterSize = 2, MinSamples = 2 }, default);
        Assert.Equal(5, trace.SpanningTree.Length);
        Assert.Equal([0, 0, 0, 1, 1, 1], trace.Assignment.Labels);
    }
}
