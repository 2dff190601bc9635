using Embeddings.Index;

namespace Embeddings.Tests.Index;

/// <summary>Seeded clustered unit vectors shared by the index tests (built once per test run).</summary>
internal sealed class IndexTestData
{
    public const int Dimension = 128;
    public const int Count = 10_000;
    public const int QueryCount = 200;

    private static readonly Lazy<IndexTestData> SharedLazy = new(() => new IndexTestData());

    private IndexTestData()
    {
        float[] all = SyntheticVectors.Clustered(Count + QueryCount, Dimension, clusters: 100, seed: 7);
        Vectors = all.AsMemory(0, Count * Dimension);
        Queries = all.AsMemory(Count * Dimension, QueryCount * Dimension);
        Exact = ExactIndex.Create(Vectors, Dimension);
        Truth = Exact.SearchBatch(Queries, 10);
        Index = HnswIndex.Build(Vectors, new HnswOptions { Dimension = Dimension, Seed = 1 });
    }

    public static IndexTestData Shared => SharedLazy.Value;

    public ReadOnlyMemory<float> Vectors { get; }

    public ReadOnlyMemory<float> Queries { get; }

    public ExactIndex Exact { get; }

    public Neighbor[][] Truth { get; }

    /// <summary>Built once with default parameters; tests must not modify it.</summary>
    public HnswIndex Index { get; }

    public ReadOnlySpan<float> Query(int i) => Queries.Span.Slice(i * Dimension, Dimension);

    public ReadOnlySpan<float> Vector(int id) => Vectors.Span.Slice(id * Dimension, Dimension);
}

/// <summary>
/// Recall of an HNSW index against the exact oracle on any vectors. The real-embeddings test is one call:
/// <c>HnswRecall.AssertAtLeast(storeVectors, dimension, 0.95)</c>.
/// </summary>
internal static class HnswRecall
{
    /// <summary>
    /// Builds an HNSW index (default parameters) over all but the last <paramref name="queryCount"/> rows,
    /// uses those rows as queries, and returns recall@k at the default ef against the exact index.
    /// </summary>
    public static double Measure(ReadOnlyMemory<float> vectors, int dimension, int queryCount = 200, int k = 10,
        HnswOptions? options = null)
    {
        int n = vectors.Length / dimension - queryCount;
        ReadOnlyMemory<float> data = vectors[..(n * dimension)];
        ReadOnlyMemory<float> queries = vectors.Slice(n * dimension, queryCount * dimension);
        Neighbor[][] truth = ExactIndex.Create(data, dimension).SearchBatch(queries, k);
        using HnswIndex index = HnswIndex.Build(data, options ?? new HnswOptions { Dimension = dimension });
        Neighbor[][] found = index.SearchBatch(queries, k);
        return SyntheticVectors.Recall(found, truth, k);
    }

    /// <summary>Asserts recall@10 of the default HNSW index on these vectors is at least <paramref name="minimum"/>.</summary>
    public static void AssertAtLeast(ReadOnlyMemory<float> vectors, int dimension, double minimum = 0.95, int queryCount = 200)
    {
        double recall = Measure(vectors, dimension, queryCount);
        Assert.True(recall >= minimum, $"recall@10 {recall:F4} is below {minimum:F2} on {vectors.Length / dimension} vectors of dimension {dimension}");
    }
}
