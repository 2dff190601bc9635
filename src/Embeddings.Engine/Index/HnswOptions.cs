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

    /// <summary>
    /// How the graph stores vectors. <see cref="HnswQuantization.None"/> (default): float32, as the vectors came.
    /// <see cref="HnswQuantization.Int8"/>: one byte per dimension, per-dimension ranges fitted on the vectors (and
    /// refitted as the index doubles, up to 65,536 vectors); searches walk the compact graph and re-score their final
    /// candidates with the exact float vectors, so returned scores are exact and recall stays within a few thousandths
    /// of the float graph at the same ef. See <see cref="ExactVectors"/> for where the float vectors live.
    /// </summary>
    public HnswQuantization Quantization { get; init; }

    /// <summary>
    /// With <see cref="HnswQuantization.Int8"/>: the caller's float rows (row-major, row <c>i</c> holds id <c>i</c>)
    /// that final candidates are re-scored against, instead of a copy of every vector kept by the index
    /// (4 x <see cref="Dimension"/> bytes per vector saved). An index over a store passes the store's
    /// memory-mapped rows. They must hold every id that is added, unchanged, for as long as the index uses them;
    /// when they grow, pass the new rows to <see cref="HnswIndex.UseExactVectors"/> before adding. The index file
    /// then holds the graph and the codes but not the floats: after <see cref="HnswIndex.Load"/>, call
    /// <see cref="HnswIndex.UseExactVectors"/> before searching. Empty (default): the index keeps its own copy.
    /// </summary>
    public ReadOnlyMemory<float> ExactVectors { get; init; }

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
        if (!Enum.IsDefined(Quantization))
        {
            throw new ArgumentOutOfRangeException(nameof(Quantization), Quantization, "Use None or Int8.");
        }
        if (!ExactVectors.IsEmpty && Quantization != HnswQuantization.Int8)
        {
            throw new ArgumentException("ExactVectors are for int8 indexes (Quantization = HnswQuantization.Int8): a float index keeps exact vectors in its graph.", nameof(ExactVectors));
        }
    }
}
