using Embeddings.Index;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Index;

/// <summary>Int8 graphs against the exact oracle and the float graph: recall, exact scores, persistence, caller's rows.</summary>
public sealed class HnswInt8Tests
{
    private static IndexTestData Data => IndexTestData.Shared;

    /// <summary>
    /// Spread-out clusters (noise twice the centre), so low ef values miss neighbours and a worse int8 graph would
    /// show: both graphs are built on one thread (deterministic), then compared against the exact index at every ef.
    /// </summary>
    [Fact]
    public void Int8_recall_is_never_more_than_0005_below_the_float_graph_at_the_same_ef()
    {
        const int dim = 64, n = 8000, nq = 500;
        float[] all = SyntheticVectors.Clustered(n + nq, dim, clusters: 80, seed: 17, spread: 2.0f);
        ReadOnlyMemory<float> data = all.AsMemory(0, n * dim);
        ReadOnlyMemory<float> queries = all.AsMemory(n * dim, nq * dim);
        Neighbor[][] truth = ExactIndex.Create(data, dim).SearchBatch(queries, 10);
        var options = new HnswOptions { Dimension = dim, M = 12, EfConstruction = 100, Seed = 4, MaxDegreeOfParallelism = 1 };
        using HnswIndex floats = HnswIndex.Build(data, options);
        using HnswIndex int8 = HnswIndex.Build(data, new HnswOptions
        {
            Dimension = dim, M = 12, EfConstruction = 100, Seed = 4, MaxDegreeOfParallelism = 1, Quantization = HnswQuantization.Int8,
        });
        Assert.Equal(HnswQuantization.Int8, int8.Quantization);
        Assert.False(int8.UsesCallerVectors);
        var report = new List<string>();
        bool worse = false;
        foreach (int ef in new[] { 10, 16, 24, 32, 48, 64, 128 })
        {
            double recallFloat = SyntheticVectors.Recall(floats.SearchBatch(queries, 10, ef, maxDegreeOfParallelism: 1), truth, 10);
            double recallInt8 = SyntheticVectors.Recall(int8.SearchBatch(queries, 10, ef, maxDegreeOfParallelism: 1), truth, 10);
            report.Add($"ef {ef}: float {recallFloat:F4}, int8 {recallInt8:F4}");
            worse |= recallInt8 < recallFloat - 0.005;
        }
        Assert.False(worse, string.Join("; ", report));
        // The low end really is below 1, or the comparison would prove nothing.
        Assert.True(SyntheticVectors.Recall(floats.SearchBatch(queries, 10, 10), truth, 10) < 0.97, string.Join("; ", report));
    }

    [Fact]
    public void Int8_search_returns_exact_scores_best_first_and_exact_answers_for_selective_filters()
    {
        int dim = IndexTestData.Dimension;
        ReadOnlyMemory<float> part = Data.Vectors[..(5000 * dim)];
        var exact = ExactIndex.Create(part, dim);
        using HnswIndex index = HnswIndex.Build(part, new HnswOptions { Dimension = dim, Seed = 1, Quantization = HnswQuantization.Int8 });
        Neighbor[][] found = index.SearchBatch(Data.Queries, 10);
        double recall = SyntheticVectors.Recall(found, exact.SearchBatch(Data.Queries, 10), 10);
        Assert.True(recall >= 0.95, $"recall@10 {recall:F4}");
        for (int q = 0; q < 20; q++)
        {
            for (int i = 0; i < found[q].Length; i++)
            {
                Neighbor hit = found[q][i];
                Assert.Equal(exact.Search(Data.Query(q), 1, IdFilter.FromIds([hit.Id]))[0].Score, hit.Score, 1e-5);
                Assert.True(i == 0 || found[q][i - 1].Score >= hit.Score);
            }
        }
        IdFilter few = IdFilter.FromIds([.. Enumerable.Range(0, 100).Select(i => i * 47)]);
        for (int q = 0; q < 10; q++)
        {
            Neighbor[] expected = exact.Search(Data.Query(q), 10, few);
            Neighbor[] actual = index.Search(Data.Query(q), 10, few);
            Assert.Equal(expected.Select(h => h.Id), actual.Select(h => h.Id));
            Assert.All(expected.Zip(actual), p => Assert.Equal(p.First.Score, p.Second.Score, 1e-5));
        }
    }

    [Fact]
    public void Vectors_added_one_at_a_time_refit_the_ranges_as_the_index_grows()
    {
        int dim = IndexTestData.Dimension;
        const int n = 3000;
        using HnswIndex index = HnswIndex.Create(new HnswOptions { Dimension = dim, Quantization = HnswQuantization.Int8, InitialCapacity = 16 });
        for (int id = 0; id < n; id++)
        {
            index.Add(id, Data.Vector(id));
        }
        var exact = ExactIndex.Create(Data.Vectors[..(n * dim)], dim);
        double recall = SyntheticVectors.Recall(index.SearchBatch(Data.Queries, 10), exact.SearchBatch(Data.Queries, 10), 10);
        Assert.True(recall >= 0.95, $"recall@10 {recall:F4} after one-at-a-time adds");
    }

    [Fact]
    public void An_int8_index_with_its_own_copy_saves_and_loads_to_the_same_results_and_bytes()
    {
        using var dir = new TempDir();
        string path = dir.File("int8.hnsw");
        int dim = IndexTestData.Dimension;
        using HnswIndex original = HnswIndex.Build(Data.Vectors[..(2000 * dim)], new HnswOptions
        {
            Dimension = dim, M = 12, ModelFingerprint = "m", Quantization = HnswQuantization.Int8,
        });
        original.Delete(5);
        original.Save(path);
        using HnswIndex loaded = HnswIndex.Load(path, "m", dim);
        Assert.Equal((HnswQuantization.Int8, false, original.Count), (loaded.Quantization, loaded.UsesCallerVectors, loaded.Count));
        for (int q = 0; q < 50; q++)
        {
            Assert.Equal(original.Search(Data.Query(q), 10), loaded.Search(Data.Query(q), 10));
        }
        loaded.Save(dir.File("again.hnsw"));
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(dir.File("again.hnsw")));
    }

    [Fact]
    public void An_index_over_the_callers_rows_keeps_no_floats_and_needs_the_rows_again_after_loading()
    {
        using var dir = new TempDir();
        string path = dir.File("caller.hnsw");
        int dim = IndexTestData.Dimension;
        float[] rows = Data.Vectors[..(4000 * dim)].ToArray();
        // Rows that are not unit length: cosine scores must still come out exact.
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] *= 1 + (i / dim % 7);
        }
        ReadOnlyMemory<float> first = rows.AsMemory(0, 3000 * dim);
        var options = new HnswOptions { Dimension = dim, ModelFingerprint = "m", Quantization = HnswQuantization.Int8, ExactVectors = first };
        var exact = ExactIndex.Create(first, dim);
        Neighbor[][] before;
        using (HnswIndex index = HnswIndex.Build(first, options))
        {
            Assert.True(index.UsesCallerVectors);
            // Codes and links take less than the float vectors alone would.
            Assert.True(index.MemoryBytes < 3000L * dim * sizeof(float), $"{index.MemoryBytes} bytes");
            before = index.SearchBatch(Data.Queries, 10);
            double recall = SyntheticVectors.Recall(before, exact.SearchBatch(Data.Queries, 10), 10);
            Assert.True(recall >= 0.95, $"recall@10 {recall:F4}");
            Assert.Equal(exact.Search(Data.Query(0), 1, IdFilter.FromIds([before[0][0].Id]))[0].Score, before[0][0].Score, 1e-5);
            index.Save(path);
        }
        Assert.True(new FileInfo(path).Length < 3000L * dim * sizeof(float), "the file holds codes, not floats");

        using HnswIndex loaded = HnswIndex.Load(path, "m", dim);
        var missing = Assert.Throws<InvalidOperationException>(() => loaded.Search(Data.Query(0), 10));
        Assert.Contains("UseExactVectors", missing.Message, StringComparison.Ordinal);
        // Other rows than the ones the index was built from are refused.
        var wrong = Assert.Throws<ArgumentException>(() => loaded.UseExactVectors(rows.AsMemory(dim, 3000 * dim)));
        Assert.Contains("not the vector the index holds", wrong.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => loaded.UseExactVectors(rows.AsMemory(0, 2000 * dim)));
        loaded.UseExactVectors(first);
        Assert.Equal(before, loaded.SearchBatch(Data.Queries, 10));

        // The rows grow: ids beyond them are refused until the grown rows are attached.
        Assert.Throws<InvalidOperationException>(() => loaded.AddRange(rows.AsMemory(3000 * dim, 1000 * dim), 3000));
        loaded.UseExactVectors(rows);
        loaded.AddRange(rows.AsMemory(3000 * dim, 1000 * dim), 3000);
        var grown = ExactIndex.Create(rows, dim);
        double recallGrown = SyntheticVectors.Recall(loaded.SearchBatch(Data.Queries, 10), grown.SearchBatch(Data.Queries, 10), 10);
        Assert.True(recallGrown >= 0.95, $"recall@10 {recallGrown:F4} after growing");
    }

    [Fact]
    public void An_own_copy_index_can_switch_to_the_callers_rows()
    {
        int dim = IndexTestData.Dimension;
        using HnswIndex index = HnswIndex.Build(Data.Vectors[..(1000 * dim)], new HnswOptions { Dimension = dim, Quantization = HnswQuantization.Int8 });
        Neighbor[] before = index.Search(Data.Query(3), 10);
        long bytes = index.MemoryBytes;
        index.UseExactVectors(Data.Vectors[..(1000 * dim)]);
        Assert.True(index.UsesCallerVectors);
        Assert.True(index.MemoryBytes < bytes);
        Assert.Equal(before.Select(h => h.Id), index.Search(Data.Query(3), 10).Select(h => h.Id));
    }

    [Fact]
    public void Misused_options_and_calls_fail_with_reasons()
    {
        var e = Assert.Throws<ArgumentException>(() => HnswIndex.Create(new HnswOptions { Dimension = 4, ExactVectors = new float[8] }));
        Assert.Contains("Int8", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => HnswIndex.Create(new HnswOptions { Dimension = 4, Quantization = (HnswQuantization)7 }));
        using HnswIndex floats = HnswIndex.Create(new HnswOptions { Dimension = 4 });
        Assert.Throws<InvalidOperationException>(() => floats.UseExactVectors(new float[8]));
        using HnswIndex int8 = HnswIndex.Create(new HnswOptions { Dimension = 4, Quantization = HnswQuantization.Int8, ExactVectors = new float[8] });
        Assert.Throws<ArgumentException>(() => int8.UseExactVectors(new float[7]));
        int8.Add(1, [1f, 0, 0, 0]);
        Assert.Throws<InvalidOperationException>(() => int8.Add(2, [0f, 1, 0, 0]));
    }
}
