namespace Embeddings.Index;

/// <summary>Parameters of an <see cref="HnswIndex"/>; the defaults match hnswlib's where it has them.</summary>
internal sealed class HnswOptions
{
    /// <summary>The vector dimension (512 for the shipped model). Required.</summary>
    public required int Dimension { get; init; }

    /// <summary>Links per node on the upper layers (level 0 keeps twice as many). Higher: better recall, more memory, slower build.</summary>
    public int M { get; init; } = 16;

    /// <summary>Candidate list size while linking a new node. Higher: better graph, slower build.</summary>
    public int EfConstruction { get; init; } = 200;

    /// <summary>
    /// Default candidate list size of a search (raised to k when k is larger). 64 gives recall@10 of
    /// at least 0.95 on the clustered test and benchmark data (see BENCHMARKS.md for the curve).
    /// </summary>
    public int EfSearch { get; init; } = 64;

    /// <summary>Seed of the level draws: a given seed and insertion order on one thread build the same graph.</summary>
    public int Seed { get; init; } = 100;

    /// <summary>How vectors are compared; with <see cref="SimilarityMetric.Cosine"/> vectors and queries are scaled to unit length.</summary>
    public SimilarityMetric Metric { get; init; } = SimilarityMetric.Cosine;

    /// <summary>Identifies the model that made the vectors; saved in the file and checked on load.</summary>
    public string ModelFingerprint { get; init; } = "";

    /// <summary>Cores used by bulk adds and batch searches; 0 or less: all.</summary>
    public int MaxDegreeOfParallelism { get; init; }

    /// <summary>A filtered search is answered exactly (brute force over the allowed ids) when the filter allows at most this many ids.</summary>
    public int FilterExactMaxCount { get; init; } = 4096;

    /// <summary>... or when it allows at most this fraction of the index (a graph walk would visit too many rejected nodes).</summary>
    public double FilterExactMaxFraction { get; init; } = 0.02;

    /// <summary>Slots allocated up front; the index grows by doubling beyond it.</summary>
    public int InitialCapacity { get; init; } = 1024;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Dimension, 1, nameof(Dimension));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Dimension, 1 << 16, nameof(Dimension));
        ArgumentOutOfRangeException.ThrowIfLessThan(M, 2, nameof(M));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(M, 1024, nameof(M));
        ArgumentOutOfRangeException.ThrowIfLessThan(EfConstruction, 1, nameof(EfConstruction));
        ArgumentOutOfRangeException.ThrowIfLessThan(EfSearch, 1, nameof(EfSearch));
        ArgumentOutOfRangeException.ThrowIfNegative(FilterExactMaxCount, nameof(FilterExactMaxCount));
        ArgumentOutOfRangeException.ThrowIfNegative(FilterExactMaxFraction, nameof(FilterExactMaxFraction));
        ArgumentNullException.ThrowIfNull(ModelFingerprint, nameof(ModelFingerprint));
        if (!Enum.IsDefined(Metric))
        {
            throw new ArgumentOutOfRangeException(nameof(Metric), Metric, "Use Cosine or InnerProduct.");
        }
    }
}
