using Embeddings.Index;
using Embeddings.Numerics;

namespace Embeddings.Topics;

/// <summary>
/// k-NN graph from an <see cref="HnswIndex"/> over the vectors: each row's k + 1 nearest (itself dropped).
/// By default the index is linked on one thread, because a parallel build links nodes in a timing-dependent
/// order and the topics must be identical run to run; the searches (read-only) still run in parallel.
/// </summary>
internal sealed class HnswKnnGraphBuilder : IKnnGraphBuilder
{
    /// <summary>Creates the builder.</summary>
    /// <param name="seed">Seed of the index's level draws.</param>
    /// <param name="deterministic">Link on one thread so the graph (and the topics) never vary between runs.</param>
    /// <param name="efSearch">Candidate list size of the searches (recall/speed).</param>
    public HnswKnnGraphBuilder(int seed = 100, bool deterministic = true, int efSearch = 64)
    {
        Seed = seed;
        Deterministic = deterministic;
        EfSearch = efSearch;
    }

    /// <summary>Seed of the index.</summary>
    public int Seed { get; }

    /// <summary>Whether the index is linked on one thread (reproducible).</summary>
    public bool Deterministic { get; }

    /// <summary>Search candidate list size.</summary>
    public int EfSearch { get; }

    /// <inheritdoc/>
    public KnnGraph Build(VectorSet vectors, int k, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        int n = vectors.Count;
        k = Math.Max(0, Math.Min(k, n - 1));
        if (k == 0)
        {
            return KnnGraph.FromArrays(n, 0, [], []);
        }
        var options = new HnswOptions
        {
            Dimension = vectors.Dimension,
            M = 16,
            EfConstruction = 100,
            EfSearch = Math.Max(EfSearch, k + 1),
            Seed = Seed,
            Metric = SimilarityMetric.InnerProduct,
            MaxDegreeOfParallelism = Deterministic ? 1 : 0,
            InitialCapacity = n,
        };
        var data = vectors.RawData.AsMemory(0, n * vectors.Dimension);
        using var index = HnswIndex.Build(data, options, cancellationToken: cancellationToken);
        return KnnGraph.FromSearchResults(index.SearchBatch(data, k + 1, cancellationToken: cancellationToken), k);
    }
}

/// <summary>The default graph source: exact search up to <see cref="ExactLimit"/> vectors, HNSW above.</summary>
internal sealed class AutoKnnGraphBuilder : IKnnGraphBuilder
{
    /// <summary>The shared instance.</summary>
    public static AutoKnnGraphBuilder Instance { get; } = new();

    /// <summary>Largest set searched exactly.</summary>
    public int ExactLimit { get; init; } = 15_000;

    /// <inheritdoc/>
    public KnnGraph Build(VectorSet vectors, int k, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        return vectors.Count <= ExactLimit
            ? ExactKnnGraphBuilder.Instance.Build(vectors, k, cancellationToken)
            : new HnswKnnGraphBuilder().Build(vectors, k, cancellationToken);
    }
}
