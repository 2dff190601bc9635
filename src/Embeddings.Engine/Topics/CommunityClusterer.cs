using Embeddings.Numerics;

namespace Embeddings.Topics;

/// <summary>Options of <see cref="CommunityClusterer"/>.</summary>
internal sealed record CommunityOptions
{
    /// <summary>Cosine similarity at or above which two papers count as neighbours (0.75 = tight groups, 0.95 = near-duplicates).</summary>
    public float Threshold { get; init; } = 0.75f;

    /// <summary>Smallest community reported (counting its centre).</summary>
    public int MinCommunitySize { get; init; } = 3;

    /// <summary>Neighbours looked at per paper; also the largest community size minus one.</summary>
    public int MaxNeighbors { get; init; } = 100;

    /// <summary>Where the k-NN graph comes from; null = exact search up to 15,000 vectors, HNSW above.</summary>
    public IKnnGraphBuilder? GraphBuilder { get; init; }
}

/// <summary>
/// Fast threshold community detection (sentence-transformers' <c>community_detection</c>): every paper with at
/// least MinCommunitySize - 1 neighbours above the threshold is a candidate centre; candidates are taken by
/// descending neighbour count (ties by index), each keeps the members not already taken, and is kept when that
/// leaves at least MinCommunitySize. Everything else is an outlier. Finds near-duplicates and tight groups.
/// </summary>
internal sealed class CommunityClusterer : IClusterer
{
    /// <summary>Creates the clusterer.</summary>
    public CommunityClusterer(CommunityOptions? options = null) => Options = options ?? new CommunityOptions();

    /// <summary>The options.</summary>
    public CommunityOptions Options { get; }

    /// <inheritdoc/>
    public string Name => "communities";

    /// <inheritdoc/>
    public ClusterAssignment Cluster(VectorSet vectors, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        int n = vectors.Count;
        if (n == 0)
        {
            return new ClusterAssignment([], 0);
        }
        var graph = (Options.GraphBuilder ?? AutoKnnGraphBuilder.Instance).Build(vectors, Math.Min(n - 1, Options.MaxNeighbors), cancellationToken);
        return Detect(graph, Options.Threshold, Options.MinCommunitySize);
    }

    /// <summary>The algorithm over a k-NN graph of cosine distances.</summary>
    internal static ClusterAssignment Detect(KnnGraph graph, float threshold, int minSize)
    {
        int n = graph.Count;
        float maxDistance = 1f - threshold;
        var counts = new int[n];
        for (int i = 0; i < n; i++)
        {
            var nb = graph.NeighborsOf(i);
            var ds = graph.DistancesOf(i);
            int c = 0;
            while (c < nb.Length && nb[c] >= 0 && ds[c] <= maxDistance)
            {
                c++;
            }
            counts[i] = c;
        }
        var order = new List<int>();
        for (int i = 0; i < n; i++)
        {
            if (counts[i] + 1 >= minSize)
            {
                order.Add(i);
            }
        }
        order.Sort((a, b) => counts[a] != counts[b] ? counts[b].CompareTo(counts[a]) : a.CompareTo(b));
        var labels = new int[n];
        Array.Fill(labels, -1);
        var strengths = new float[n];
        int next = 0;
        var members = new List<int>();
        foreach (int centre in order)
        {
            members.Clear();
            if (labels[centre] < 0)
            {
                members.Add(centre);
            }
            var nb = graph.NeighborsOf(centre);
            for (int t = 0; t < counts[centre]; t++)
            {
                if (labels[nb[t]] < 0)
                {
                    members.Add(nb[t]);
                }
            }
            if (members.Count < minSize)
            {
                continue;
            }
            var ds = graph.DistancesOf(centre);
            foreach (int p in members)
            {
                labels[p] = next;
                strengths[p] = 1f;
            }
            for (int t = 0; t < counts[centre]; t++)
            {
                if (labels[nb[t]] == next)
                {
                    strengths[nb[t]] = Math.Clamp(1f - ds[t], 0f, 1f);
                }
            }
            next++;
        }
        return new ClusterAssignment(labels, next, strengths);
    }
}
