using Embeddings.Index;
using Embeddings.Numerics;

namespace Embeddings.Tests.Index;

public sealed class HnswIndexTests
{
    private static IndexTestData Data => IndexTestData.Shared;

    [Fact]
    public void Recall_at_10_is_at_least_095_at_default_ef_on_clustered_vectors()
    {
        Neighbor[][] found = Data.Index.SearchBatch(Data.Queries, 10);
        double recall = SyntheticVectors.Recall(found, Data.Truth, 10);
        Assert.True(recall >= 0.95, $"recall@10 {recall:F4}");
        Assert.Equal(IndexTestData.Count, Data.Index.Count);
        for (int q = 0; q < 20; q++)
        {
            Neighbor[] hits = found[q];
            Assert.Equal(10, hits.Length);
            for (int i = 0; i < hits.Length; i++)
            {
                // Scores are the exact cosine of the returned id, best first.
                Assert.Equal(Data.Exact.Search(Data.Query(q), 1, IdFilter.FromIds([hits[i].Id]))[0].Score, hits[i].Score, 1e-5);
                Assert.True(i == 0 || hits[i - 1].Score >= hits[i].Score);
            }
        }
    }

    [Fact]
    public void Recall_at_10_is_at_least_095_at_dimension_512()
    {
        float[] vectors = SyntheticVectors.Clustered(4_200, 512, clusters: 40, seed: 11);
        HnswRecall.AssertAtLeast(vectors, 512);
    }

    [Fact]
    public void Recall_grows_with_ef_and_finds_indexed_vectors_themselves()
    {
        double low = SyntheticVectors.Recall(Data.Index.SearchBatch(Data.Queries, 10, ef: 10), Data.Truth, 10);
        double high = SyntheticVectors.Recall(Data.Index.SearchBatch(Data.Queries, 10, ef: 256), Data.Truth, 10);
        Assert.True(high >= low && high >= 0.99, $"ef 10: {low:F4}, ef 256: {high:F4}");
        int self = 0;
        for (int id = 0; id < 500; id++)
        {
            self += Data.Index.Search(Data.Vector(id * 7), 1)[0].Id == id * 7 ? 1 : 0;
        }
        Assert.True(self >= 495, $"{self}/500 vectors find themselves first");
    }

    [Fact]
    public void Same_seed_and_order_on_one_thread_builds_the_same_index()
    {
        using var dir = new Support.TempDir();
        ReadOnlyMemory<float> part = Data.Vectors[..(2000 * IndexTestData.Dimension)];
        var options = new HnswOptions { Dimension = IndexTestData.Dimension, Seed = 5, MaxDegreeOfParallelism = 1 };
        using (HnswIndex a = HnswIndex.Build(part, options))
        using (HnswIndex b = HnswIndex.Build(part, options))
        {
            a.Save(dir.File("a.hnsw"));
            b.Save(dir.File("b.hnsw"));
            Assert.Equal(a.Search(Data.Query(0), 10), b.Search(Data.Query(0), 10));
        }
        Assert.Equal(File.ReadAllBytes(dir.File("a.hnsw")), File.ReadAllBytes(dir.File("b.hnsw")));
    }

    [Fact]
    public void Small_indexes_and_bad_arguments()
    {
        using HnswIndex index = HnswIndex.Create(new HnswOptions { Dimension = 3, Metric = SimilarityMetric.InnerProduct });
        Assert.Empty(index.Search([1f, 0, 0], 5));
        index.Add(4, [1f, 0, 0]);
        index.Add(9, [0f, 1, 0]);
        index.Add(2, [0.6f, 0.8f, 0]);
        Neighbor[] hits = index.Search([1f, 0, 0], 5);
        Assert.Equal([4, 2, 9], hits.Select(h => h.Id));
        Assert.Equal(10, index.CoveredCount);
        Assert.Throws<InvalidOperationException>(() => index.Add(4, [0f, 0, 1]));
        Assert.Throws<ArgumentException>(() => index.Add(5, [0f, 1]));
        Assert.Throws<ArgumentException>(() => index.Search([0f, 1], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => HnswIndex.Create(new HnswOptions { Dimension = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HnswIndex.Create(new HnswOptions { Dimension = 8, M = 1 }));
    }

    [Fact]
    public void Cosine_metric_normalises_vectors_and_queries()
    {
        using HnswIndex index = HnswIndex.Create(new HnswOptions { Dimension = 2 });
        index.Add(0, [10f, 0]);
        index.Add(1, [3f, 4f]);
        Neighbor[] hits = index.Search([0f, 2f], 2);
        Assert.Equal(1, hits[0].Id);
        Assert.Equal(0.8f, hits[0].Score, 1e-6);
        Assert.Equal(0f, hits[1].Score, 1e-6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Delete_hides_ids_readd_reuses_slots_and_compaction_keeps_recall(bool int8)
    {
        HnswQuantization quantization = int8 ? HnswQuantization.Int8 : HnswQuantization.None;
        int n = 5000;
        int dim = IndexTestData.Dimension;
        ReadOnlyMemory<float> part = Data.Vectors[..(n * dim)];
        using HnswIndex index = HnswIndex.Build(part, new HnswOptions { Dimension = dim, Seed = 3, Quantization = quantization });
        var deleted = new HashSet<int>();
        for (int id = 0; id < n; id += 5)
        {
            Assert.True(index.Delete(id));
            deleted.Add(id);
        }
        Assert.False(index.Delete(0));
        Assert.False(index.Delete(123_456));
        Assert.Equal(n - deleted.Count, index.Count);
        Assert.Equal(deleted.Count, index.DeletedCount);

        var exact = ExactIndex.Create(part, dim);
        var live = IdFilter.FromPredicate(id => !deleted.Contains(id));
        Neighbor[][] truth = Batch(exact, live);
        Neighbor[][] found = index.SearchBatch(Data.Queries, 10);
        Assert.DoesNotContain(found.SelectMany(r => r), h => deleted.Contains(h.Id));
        double recallTombstones = SyntheticVectors.Recall(found, truth, 10);
        Assert.True(recallTombstones >= 0.95, $"recall with tombstones {recallTombstones:F4}");

        // Re-add half of the deleted ids with their vectors: slots are reused, not appended.
        int slotsBefore = index.SlotCount;
        int[] readd = [.. deleted.Where(id => id % 10 == 0)];
        foreach (int id in readd)
        {
            index.Add(id, Data.Vector(id));
            deleted.Remove(id);
        }
        Assert.Equal(slotsBefore, index.SlotCount);
        Assert.Equal(n - deleted.Count, index.Count);
        Assert.True(index.Contains(readd[0]));
        Neighbor[][] afterReadd = index.SearchBatch(Data.Queries, 10);
        Assert.DoesNotContain(afterReadd.SelectMany(r => r), h => deleted.Contains(h.Id));
        double recallReadd = SyntheticVectors.Recall(afterReadd, Batch(exact, live), 10);
        Assert.True(recallReadd >= 0.95, $"recall after re-adding {recallReadd:F4}");
        int selfFound = readd.Count(id => index.Search(Data.Vector(id), 1)[0].Id == id);
        Assert.True(selfFound >= readd.Length * 0.98, $"{selfFound}/{readd.Length} re-added vectors find themselves");

        // Compaction: deleted nodes leave the graph, recall holds, later adds fill the freed slots.
        index.Compact();
        Assert.Equal(deleted.Count, index.DeletedCount);
        double recallCompacted = SyntheticVectors.Recall(index.SearchBatch(Data.Queries, 10), Batch(exact, live), 10);
        Assert.True(recallCompacted >= 0.95, $"recall after compaction {recallCompacted:F4}");
        int fresh = deleted.Count;
        for (int i = 0; i < fresh; i++)
        {
            index.Add(n + i, Data.Vector(n + i));
        }
        Assert.Equal(slotsBefore, index.SlotCount);
        Assert.Equal(0, index.DeletedCount);
        var grown = ExactIndex.Create(Data.Vectors[..((n + fresh) * dim)], dim);
        double recallRefilled = SyntheticVectors.Recall(index.SearchBatch(Data.Queries, 10), Batch(grown, live), 10);
        Assert.True(recallRefilled >= 0.95, $"recall after refilling freed slots {recallRefilled:F4}");
    }

    private static Neighbor[][] Batch(ExactIndex exact, IdFilter filter) => exact.SearchBatch(Data.Queries, 10, filter);

    [Fact]
    public void Filters_return_only_allowed_ids_and_fall_back_to_exact_when_selective()
    {
        HnswIndex index = Data.Index;
        // Half the ids: the graph walk with a filter.
        var even = IdFilter.FromPredicate(id => id % 2 == 0, IndexTestData.Count / 2);
        Neighbor[][] found = index.SearchBatch(Data.Queries, 10, filter: even);
        Assert.All(found.SelectMany(r => r), h => Assert.Equal(0, h.Id % 2));
        double recall = SyntheticVectors.Recall(found, Data.Exact.SearchBatch(Data.Queries, 10, even), 10);
        Assert.True(recall >= 0.95, $"filtered recall {recall:F4}");

        // One paper: exactly that paper, with its exact score.
        Neighbor[] single = index.Search(Data.Query(0), 10, IdFilter.FromIds([4321]));
        Assert.Single(single);
        Assert.Equal(4321, single[0].Id);
        Assert.Equal(Data.Exact.Search(Data.Query(0), 1, IdFilter.FromIds([4321]))[0].Score, single[0].Score, 1e-5);

        // Selective filters (explicit ids, a bitset, a predicate without a count) are answered exactly.
        int[] some = [.. Enumerable.Range(0, 150).Select(i => i * 61)];
        var bits = new ulong[(IndexTestData.Count + 63) / 64];
        foreach (int id in some)
        {
            bits[id >> 6] |= 1UL << id;
        }
        foreach (IdFilter filter in new[] { IdFilter.FromIds(some), IdFilter.FromBitset(bits), IdFilter.FromPredicate(id => id % 61 == 0 && id < 150 * 61) })
        {
            for (int q = 0; q < 10; q++)
            {
                Assert.Equal(Data.Exact.Search(Data.Query(q), 10, filter).Select(h => h.Id), index.Search(Data.Query(q), 10, filter).Select(h => h.Id));
            }
        }
        Assert.Empty(index.Search(Data.Query(0), 10, IdFilter.FromIds(ReadOnlySpan<int>.Empty)));
    }

    /// <summary>For int8 graphs the writer also crosses a refit of the ranges (at twice the initial count).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Searches_running_while_a_writer_adds_see_only_complete_nodes(bool int8)
    {
        HnswQuantization quantization = int8 ? HnswQuantization.Int8 : HnswQuantization.None;
        int dim = IndexTestData.Dimension;
        int initial = 2000;
        int total = 5000;
        using HnswIndex index = HnswIndex.Build(Data.Vectors[..(initial * dim)], new HnswOptions { Dimension = dim, InitialCapacity = 16, Quantization = quantization });
        int added = initial;
        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        long searches = 0;
        Task[] readers = [.. Enumerable.Range(0, 2).Select(r => StartReader(() =>
        {
            int q = r;
            while (!stop.IsCancellationRequested)
            {
                ReadOnlySpan<float> query = Data.Query(q % IndexTestData.QueryCount);
                Neighbor[] hits = index.Search(query, 10);
                int limit = Volatile.Read(ref added);
                Interlocked.Increment(ref searches);
                for (int i = 0; i < hits.Length; i++)
                {
                    Neighbor h = hits[i];
                    // A returned id was added (or is being added), and its score is the one of its full vector.
                    if (h.Id < 0 || h.Id > limit)
                    {
                        failures.Enqueue($"id {h.Id} beyond added {limit}");
                    }
                    float expected = VectorMath.Dot(query, Data.Vector(h.Id)) / Norm(query);
                    if (Math.Abs(expected - h.Score) > 1e-4 || (i > 0 && hits[i - 1].Score < h.Score))
                    {
                        failures.Enqueue($"id {h.Id} score {h.Score} expected {expected}");
                    }
                }
                if (hits.Length != 10)
                {
                    failures.Enqueue($"{hits.Length} hits");
                }
                q++;
            }
        }))];
        // The writer grows the index past its capacity several times while readers search.
        for (int id = initial; id < total; id++)
        {
            if (id % 250 == 0)
            {
                AwaitReaderProgress(ref searches, readers);
            }
            index.Add(id, Data.Vector(id));
            Volatile.Write(ref added, id + 1);
        }
        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.Empty(failures);
        Assert.True(searches > 10, $"only {searches} concurrent searches ran");
        Assert.Equal(total, index.Count);
        var exact = ExactIndex.Create(Data.Vectors[..(total * dim)], dim);
        double recall = SyntheticVectors.Recall(index.SearchBatch(Data.Queries, 10), exact.SearchBatch(Data.Queries, 10), 10);
        Assert.True(recall >= 0.95, $"recall after concurrent adds {recall:F4}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Searches_running_while_a_writer_deletes_and_reuses_never_return_deleted_ids(bool int8)
    {
        HnswQuantization quantization = int8 ? HnswQuantization.Int8 : HnswQuantization.None;
        int dim = IndexTestData.Dimension;
        using HnswIndex index = HnswIndex.Build(Data.Vectors[..(3000 * dim)], new HnswOptions { Dimension = dim, Quantization = quantization });
        int deletedUpTo = 0; // ids 0, 2, ..., below this watermark are deleted
        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        long searches = 0;
        Task[] readers = [.. Enumerable.Range(0, 2).Select(r => StartReader(() =>
        {
            int q = r;
            while (!stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref searches);
                int watermark = Volatile.Read(ref deletedUpTo);
                foreach (Neighbor h in index.Search(Data.Query(q++ % IndexTestData.QueryCount), 10))
                {
                    if (h.Id % 2 == 0 && h.Id < watermark)
                    {
                        failures.Enqueue($"deleted id {h.Id} returned (watermark {watermark})");
                    }
                    if (h.Id >= 3000 + 1500)
                    {
                        failures.Enqueue($"unknown id {h.Id}");
                    }
                }
            }
        }))];
        for (int id = 0; id < 3000; id += 2)
        {
            if (id % 200 == 0)
            {
                AwaitReaderProgress(ref searches, readers);
            }
            index.Delete(id);
            Volatile.Write(ref deletedUpTo, id + 1);
            // New vectors under new ids take the freed slots while readers search.
            if (id % 4 == 0)
            {
                index.Add(3000 + id / 2, Data.Vector(3000 + id / 2));
            }
        }
        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.Empty(failures);
        Assert.Equal(3000 - 1500 + 750, index.Count);
    }

    /// <summary>Readers run on their own threads so a busy thread pool cannot keep them from starting.</summary>
    private static Task StartReader(Action read) =>
        Task.Factory.StartNew(read, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// Holds the writer until the readers have searched again, so reads interleave with every stretch of writes however
    /// the machine schedules threads (no timing involved). A reader that died ends the wait; its fault surfaces later.
    /// </summary>
    private static void AwaitReaderProgress(ref long searches, Task[] readers)
    {
        long seen = Interlocked.Read(ref searches);
        var spin = new SpinWait();
        while (Interlocked.Read(ref searches) < seen + 2 && !readers.Any(t => t.IsCompleted))
        {
            spin.SpinOnce();
        }
    }

    private static float Norm(ReadOnlySpan<float> v) => MathF.Sqrt(VectorMath.Dot(v, v));

    [Fact]
    public void Build_reports_progress_and_can_be_cancelled()
    {
        int dim = IndexTestData.Dimension;
        var reports = new List<WorkProgress>();
        var progress = new SyncProgress(reports.Add);
        using (HnswIndex index = HnswIndex.Build(Data.Vectors[..(1000 * dim)], new HnswOptions { Dimension = dim }, progress))
        {
            Assert.Equal(1000, index.Count);
        }
        Assert.Equal(new WorkProgress("linking graph", 1000, 1000, "vectors"), reports[^1]);

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => HnswIndex.Build(Data.Vectors[..(1000 * dim)], new HnswOptions { Dimension = dim }, null, cts.Token));
    }

    private sealed class SyncProgress(Action<WorkProgress> report) : IProgress<WorkProgress>
    {
        private readonly Lock _gate = new();

        public void Report(WorkProgress value)
        {
            lock (_gate)
            {
                report(value);
            }
        }
    }
}
