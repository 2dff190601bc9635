using System.Buffers.Binary;
using Embeddings.Index;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Index;

public sealed class HnswPersistenceTests
{
    private const string Fingerprint = "test-model/sha256:0123abcd";
    private static IndexTestData Data => IndexTestData.Shared;

    private static HnswIndex SmallIndex(int n = 1500)
    {
        int dim = IndexTestData.Dimension;
        HnswIndex index = HnswIndex.Build(Data.Vectors[..(n * dim)], new HnswOptions { Dimension = dim, ModelFingerprint = Fingerprint, EfSearch = 40, M = 12 });
        index.Delete(7);
        index.Delete(700);
        return index;
    }

    [Fact]
    public void Save_and_load_give_the_same_results_and_parameters()
    {
        using var dir = new TempDir();
        string path = dir.File("papers.hnsw");
        using HnswIndex original = SmallIndex();
        original.Save(path);
        using HnswIndex loaded = HnswIndex.Load(path, Fingerprint, IndexTestData.Dimension);
        Assert.Equal(original.Count, loaded.Count);
        Assert.Equal(original.DeletedCount, loaded.DeletedCount);
        Assert.Equal(original.CoveredCount, loaded.CoveredCount);
        Assert.Equal((12, 40, Fingerprint, SimilarityMetric.Cosine), (loaded.M, loaded.EfSearch, loaded.ModelFingerprint, loaded.Metric));
        for (int q = 0; q < IndexTestData.QueryCount; q++)
        {
            Assert.Equal(original.Search(Data.Query(q), 10), loaded.Search(Data.Query(q), 10));
        }
        Assert.False(loaded.Contains(7));
        Assert.True(loaded.Contains(8));

        // Saving the loaded index reproduces the file byte for byte.
        loaded.Save(dir.File("again.hnsw"));
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(dir.File("again.hnsw")));
    }

    [Fact]
    public void A_grown_store_adds_only_the_missing_vectors()
    {
        using var dir = new TempDir();
        string path = dir.File("papers.hnsw");
        int dim = IndexTestData.Dimension;
        using (HnswIndex index = HnswIndex.Build(Data.Vectors[..(3000 * dim)], new HnswOptions { Dimension = dim, ModelFingerprint = Fingerprint }))
        {
            index.Save(path);
        }
        int storeCount = 4000;
        using HnswIndex loaded = HnswIndex.Load(path, Fingerprint, dim);
        Assert.Equal(3000, loaded.CoveredCount);
        loaded.AddRange(Data.Vectors[(loaded.CoveredCount * dim)..(storeCount * dim)], loaded.CoveredCount);
        Assert.Equal(storeCount, loaded.Count);
        Assert.Equal(storeCount, loaded.CoveredCount);
        var exact = ExactIndex.Create(Data.Vectors[..(storeCount * dim)], dim);
        double recall = SyntheticVectors.Recall(loaded.SearchBatch(Data.Queries, 10), exact.SearchBatch(Data.Queries, 10), 10);
        Assert.True(recall >= 0.95, $"recall {recall:F4}");
    }

    [Fact]
    public void A_flipped_byte_is_a_checksum_error_naming_the_file()
    {
        using var dir = new TempDir();
        string path = dir.File("papers.hnsw");
        using (HnswIndex index = SmallIndex())
        {
            index.Save(path);
        }
        byte[] bytes = File.ReadAllBytes(path);
        foreach (int offset in new[] { bytes.Length / 2, bytes.Length - 1 })
        {
            byte[] corrupt = (byte[])bytes.Clone();
            corrupt[offset] ^= 0x10;
            File.WriteAllBytes(path, corrupt);
            var e = Assert.Throws<DataFormatException>(() => HnswIndex.Load(path));
            Assert.Equal(path, e.Path);
            Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Truncated_newer_and_foreign_files_are_rejected_with_reasons()
    {
        using var dir = new TempDir();
        string path = dir.File("papers.hnsw");
        using (HnswIndex index = SmallIndex(300))
        {
            index.Save(path);
        }
        byte[] bytes = File.ReadAllBytes(path);

        string Error(byte[] content, string? fingerprint = null, int dimension = 0)
        {
            string file = dir.File("case.hnsw");
            File.WriteAllBytes(file, content);
            return Assert.Throws<DataFormatException>(() => HnswIndex.Load(file, fingerprint, dimension)).Message;
        }

        Assert.Contains("truncated", Error(bytes[..(bytes.Length - 100)]), StringComparison.Ordinal);
        Assert.Contains("truncated", Error(bytes[..20]), StringComparison.Ordinal);
        Assert.Contains("bad magic", Error([.. "NOTANIDX"u8, .. bytes[8..]]), StringComparison.Ordinal);
        byte[] newer = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(newer.AsSpan(8), HnswIndex.FormatVersion + 1);
        Assert.Contains("newer", Error(newer), StringComparison.Ordinal);
        Assert.Contains("'other-model'", Error(bytes, "other-model"), StringComparison.Ordinal);
        Assert.Contains("384-dimensional", Error(bytes, Fingerprint, 384).Replace("store has 384", "384-dimensional", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => HnswIndex.Load(dir.File("missing.hnsw")));
    }

    /// <summary>
    /// A small version-1 file committed to the repository must keep loading in later builds.
    /// Regenerate (only when the format version changes) with EMBEDDINGS_WRITE_GOLDEN=1.
    /// </summary>
    [Fact]
    public void Committed_version_1_file_still_loads()
    {
        string golden = Path.Combine(TestPaths.RepoRoot, "tests", "Embeddings.Tests", "Index", "Data", "hnsw-v1.bin");
        float[] vectors = SyntheticVectors.Clustered(300, 16, clusters: 5, seed: 21);
        if (Environment.GetEnvironmentVariable("EMBEDDINGS_WRITE_GOLDEN") == "1")
        {
            using HnswIndex fresh = HnswIndex.Build(vectors, new HnswOptions { Dimension = 16, M = 8, ModelFingerprint = "golden", MaxDegreeOfParallelism = 1 });
            fresh.Delete(3);
            fresh.Save(golden);
        }
        using HnswIndex index = HnswIndex.Load(golden, "golden", 16);
        Assert.Equal(299, index.Count);
        var exact = ExactIndex.Create(vectors, 16);
        for (int q = 0; q < 20; q++)
        {
            ReadOnlySpan<float> query = vectors.AsSpan(q * 16, 16);
            Neighbor[] hits = index.Search(query, 1, ef: 300);
            Assert.Equal(exact.Search(query, 2, IdFilter.FromPredicate(id => id != 3))[0], hits[0], NeighborComparer.Instance);
        }
    }

    /// <summary>
    /// A small version-2 int8 file (own copy of the vectors) committed to the repository must keep loading in later
    /// builds. Regenerate (only when the format version changes) with EMBEDDINGS_WRITE_GOLDEN=1.
    /// </summary>
    [Fact]
    public void Committed_version_2_int8_file_still_loads()
    {
        string golden = Path.Combine(TestPaths.RepoRoot, "tests", "Embeddings.Tests", "Index", "Data", "hnsw-v2-int8.bin");
        float[] vectors = SyntheticVectors.Clustered(300, 16, clusters: 5, seed: 21);
        if (Environment.GetEnvironmentVariable("EMBEDDINGS_WRITE_GOLDEN") == "1")
        {
            using HnswIndex fresh = HnswIndex.Build(vectors, new HnswOptions
            {
                Dimension = 16, M = 8, ModelFingerprint = "golden", MaxDegreeOfParallelism = 1, Quantization = HnswQuantization.Int8,
            });
            fresh.Delete(3);
            fresh.Save(golden);
        }
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(golden).AsSpan(8)));
        using HnswIndex index = HnswIndex.Load(golden, "golden", 16);
        Assert.Equal((299, HnswQuantization.Int8), (index.Count, index.Quantization));
        var exact = ExactIndex.Create(vectors, 16);
        for (int q = 0; q < 20; q++)
        {
            ReadOnlySpan<float> query = vectors.AsSpan(q * 16, 16);
            Neighbor[] hits = index.Search(query, 1, ef: 300);
            Assert.Equal(exact.Search(query, 2, IdFilter.FromPredicate(id => id != 3))[0], hits[0], NeighborComparer.Instance);
        }
    }

    private sealed class NeighborComparer : IEqualityComparer<Neighbor>
    {
        public static readonly NeighborComparer Instance = new();

        public bool Equals(Neighbor x, Neighbor y) => x.Id == y.Id && Math.Abs(x.Score - y.Score) < 1e-5;

        public int GetHashCode(Neighbor obj) => obj.Id;
    }
}
