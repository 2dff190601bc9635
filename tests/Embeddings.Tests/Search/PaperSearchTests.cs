using Embeddings.Index;
using Embeddings.Search;
using Embeddings.Store;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Search;

/// <summary>In the console collection because one test runs the CLI in-process.</summary>
public sealed partial class PaperSearchTests(SearchFixture fixture) : IClassFixture<SearchFixture>
{
    [Fact]
    public async Task Similar_by_id_excludes_the_paper_and_ranks_best_first_with_shared_terms()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        string id = store.IdOfRow(0);
        foreach (RankingMode mode in Enum.GetValues<RankingMode>())
        {
            IReadOnlyList<SimilarHit> hits = await search.SearchAsync(new SimilarQuery { PaperId = id, K = 10, Mode = mode });
            Assert.Equal(10, hits.Count);
            Assert.DoesNotContain(hits, h => h.Id == id);
            Assert.Equal(hits.Count, hits.Select(h => h.Id).Distinct().Count());
            for (int i = 1; i < hits.Count; i++)
            {
                Assert.True(hits[i - 1].Score >= hits[i].Score, $"{mode}: hits not sorted at {i}");
            }
            Assert.All(hits, h => Assert.Equal(store.GetPaper(h.Id)!.Paper.Title, h.Title));
            // The best lexical and hybrid hits share vocabulary with the query paper.
            if (mode != RankingMode.Vector)
            {
                Assert.NotEmpty(hits[0].Why);
            }
        }
    }

    [Fact]
    public async Task Hnsw_recall_at_10_on_the_real_dump_embeddings_is_at_least_095()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        int found = 0, expected = 0;
        for (int row = 0; row < store.RowCount; row++)
        {
            string id = store.IdOfRow(row);
            var query = new SimilarQuery { PaperId = id, K = 10, Mode = RankingMode.Vector, ExcludeDuplicates = false, Explain = false };
            IReadOnlyList<SimilarHit> approximate = await search.SearchAsync(query);
            IReadOnlyList<SimilarHit> exact = await search.SearchAsync(query with { Exact = true });
            var truth = exact.Select(h => h.Id).ToHashSet();
            expected += truth.Count;
            found += approximate.Count(h => truth.Contains(h.Id));
        }
        double recall = (double)found / expected;
        Assert.True(recall >= 0.95, $"recall@10 {recall:F3} on {store.RowCount} real embeddings");
    }

    [Fact]
    public async Task Exact_vector_scores_are_the_cosines_of_the_stored_vectors()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        string id = store.IdOfRow(3);
        float[] q = store.GetVector(id)!;
        IReadOnlyList<SimilarHit> hits = await search.SearchAsync(new SimilarQuery { PaperId = id, Mode = RankingMode.Vector, Exact = true, K = 5 });
        foreach (SimilarHit hit in hits)
        {
            float[] v = store.GetVector(hit.Id)!;
            Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Dot(q, v), hit.Score, 5);
        }
        // Nothing scores higher than the best hit among the papers that are not the query or its copies.
        float best = hits[0].Score;
        await foreach (StoredPaper p in store.ReadPapersAsync())
        {
            if (p.Paper.Id != id && p.ContentHash != store.GetPaper(id)!.ContentHash)
            {
                Assert.True(System.Numerics.Tensors.TensorPrimitives.Dot(q, store.GetVector(p.Paper.Id)!) <= best + 1e-6f);
            }
        }
    }

    [Fact]
    public async Task A_pasted_abstract_of_a_stored_paper_finds_other_papers_not_itself()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        StoredPaper paper = store.GetPaper(store.IdOfRow(5))!;
        IReadOnlyList<SimilarHit> hits = await search.SearchAsync(new SimilarQuery { Text = paper.Paper.EmbeddingText, K = 10 });
        Assert.DoesNotContain(hits, h => h.Id == paper.Paper.Id);
        IReadOnlyList<SimilarHit> withCopies = await search.SearchAsync(new SimilarQuery { Text = paper.Paper.EmbeddingText, K = 10, ExcludeDuplicates = false });
        Assert.Equal(paper.Paper.Id, withCopies[0].Id);
    }

    [Fact]
    public async Task A_filter_that_keeps_a_single_paper_returns_only_that_paper()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        string query = store.IdOfRow(0);
        string only = store.IdOfRow(store.RowCount - 1);
        foreach (RankingMode mode in Enum.GetValues<RankingMode>())
        {
            IReadOnlyList<SimilarHit> hits = await search.SearchAsync(new SimilarQuery
            {
                PaperId = query,
                Mode = mode,
                Filter = PaperFilter.Parse([$"id={only}"]),
            });
            // Lexical mode may find no shared term; the others always return the one allowed paper.
            Assert.True(hits.Count <= 1);
            if (mode != RankingMode.Lexical)
            {
                Assert.Equal(only, Assert.Single(hits).Id);
            }
        }
    }

    [Fact]
    public async Task Date_filters_keep_only_papers_in_the_range()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        var dates = new List<string>();
        await foreach (StoredPaper p in store.ReadPapersAsync())
        {
            if (p.Paper.Date is { } d)
            {
                dates.Add(d);
            }
        }
        Assert.NotEmpty(dates);
        string day = dates.Order(StringComparer.Ordinal).First();
        IReadOnlyList<SimilarHit> hits = await search.SearchAsync(new SimilarQuery
        {
            PaperId = store.IdOfRow(0),
            K = 50,
            Filter = PaperFilter.Parse([$"date>={day}", $"date<={day}"]),
        });
        Assert.NotEmpty(hits);
        Assert.All(hits, h => Assert.Equal(day, store.GetPaper(h.Id)!.Paper.Date));
    }

    [Fact]
    public async Task Like_and_unlike_examples_are_never_returned_and_steer_the_ranking()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        string a = store.IdOfRow(0), b = store.IdOfRow(1), c = store.IdOfRow(2);
        IReadOnlyList<SimilarHit> liked = await search.SearchAsync(new SimilarQuery { Like = [a, b], K = 20, Mode = RankingMode.Vector, Exact = true });
        Assert.DoesNotContain(liked, h => h.Id == a || h.Id == b);
        IReadOnlyList<SimilarHit> steered = await search.SearchAsync(new SimilarQuery { Like = [a, b], Unlike = [c], K = 20, Mode = RankingMode.Vector, Exact = true });
        Assert.DoesNotContain(steered, h => h.Id == a || h.Id == b || h.Id == c);
        // Pushing away from c lowers the rank of the papers most like c.
        float[] cv = store.GetVector(c)!;
        double SimToC(IReadOnlyList<SimilarHit> hits) =>
            hits.Average(h => System.Numerics.Tensors.TensorPrimitives.Dot(cv, store.GetVector(h.Id)!));
        Assert.True(SimToC(steered) < SimToC(liked));
    }

    [Fact]
    public async Task Indexes_persist_and_reopening_after_a_new_dump_adds_only_the_new_papers()
    {
        using var dir = new TempDir();
        string[] dumps = StoreTestHelpers.DumpFiles();
        string storeDir = dir.File("store");
        using (PaperStore store = PaperStore.Create(storeDir, EncoderFixtures.UseLite.Fingerprint, EncoderFixtures.UseLite.Dimension))
        {
            await store.IngestFilesAsync(dumps[..2], EncoderFixtures.UseLite);
        }
        int firstCount;
        using (PaperStore store = PaperStore.Open(storeDir))
        using (PaperSearch search = await PaperSearch.OpenAsync(store, EncoderFixtures.UseLite))
        {
            firstCount = store.RowCount;
            Assert.Contains("built", search.Indexes.Status, StringComparison.Ordinal);
        }
        Assert.True(File.Exists(SearchIndexes.HnswPath(storeDir)));
        using (PaperStore store = PaperStore.Open(storeDir, new StoreOpenOptions { Writable = true }))
        {
            await store.IngestFilesAsync(dumps[2..3], EncoderFixtures.UseLite);
        }
        using (PaperStore store = PaperStore.Open(storeDir))
        using (PaperSearch search = await PaperSearch.OpenAsync(store, EncoderFixtures.UseLite))
        {
            int added = store.RowCount - firstCount;
            Assert.Contains($"HNSW loaded, {added} vectors added", search.Indexes.Status, StringComparison.Ordinal);
            Assert.Equal(store.RowCount, search.Indexes.Hnsw!.CoveredCount);
            Assert.Equal(store.Count, search.Indexes.Bm25.Count);
            // The grown index answers like one built from scratch over the same store.
            using PaperSearch fresh = await PaperSearch.OpenAsync(store, EncoderFixtures.UseLite, new SearchIndexOptions { Rebuild = true, Persist = false });
            string id = store.IdOfRow(store.RowCount - 1);
            var query = new SimilarQuery { PaperId = id, K = 5, Mode = RankingMode.Lexical };
            Assert.Equal((await fresh.SearchAsync(query)).Select(h => h.Id), (await search.SearchAsync(query)).Select(h => h.Id));
        }
        using (PaperStore store = PaperStore.Open(storeDir))
        using (PaperSearch search = await PaperSearch.OpenAsync(store, EncoderFixtures.UseLite))
        {
            Assert.Equal("BM25 loaded, 0 papers added; HNSW loaded, 0 vectors added, 0 replaced", search.Indexes.Status);
        }
    }

    [Fact]
    public async Task A_corrupted_index_file_is_reported_by_name_and_rebuilt()
    {
        using var dir = new TempDir();
        string storeDir = dir.File("store");
        using (PaperStore store = PaperStore.Create(storeDir, EncoderFixtures.UseLite.Fingerprint, EncoderFixtures.UseLite.Dimension))
        {
            await store.IngestFilesAsync(StoreTestHelpers.DumpFiles()[..1], EncoderFixtures.UseLite);
        }
        using (PaperStore store = PaperStore.Open(storeDir))
        using (await PaperSearch.OpenAsync(store, EncoderFixtures.UseLite))
        {
        }
        string path = SearchIndexes.HnswPath(storeDir);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
        // The indexes are derived data: a damaged one is named in the status and rebuilt, so the search still answers
        // (the advice to rebuild by hand used to fail until --rebuild was added).
        using (PaperStore store = PaperStore.Open(storeDir))
        using (PaperSearch search = await PaperSearch.OpenAsync(store, EncoderFixtures.UseLite))
        {
            Assert.Contains("HNSW rebuilt", search.Indexes.Status, StringComparison.Ordinal);
            Assert.Contains("vectors.hnsw", search.Indexes.Status, StringComparison.Ordinal);
            Assert.Contains("checksum", search.Indexes.Status, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(store.Count, search.Indexes.Hnsw!.Count);
        }
    }

    [Fact]
    public async Task Cli_similar_json_index_build_and_info_have_the_documented_shape()
    {
        string id;
        using (PaperStore store = PaperStore.Open(fixture.StoreDir))
        {
            id = store.IdOfRow(7);
        }
        var (exit, stdout, stderr) = await CliHarness.RunAsync("index", "build", "--store", fixture.StoreDir, "--quiet");
        Assert.True(exit == 0, stderr);
        Assert.Contains("papers", stdout, StringComparison.Ordinal);
        (exit, stdout, stderr) = await CliHarness.RunAsync("index", "info", "--store", fixture.StoreDir);
        Assert.True(exit == 0, stderr);
        Assert.Contains("M / efConstruction / efSearch: 16 / 200", stdout, StringComparison.Ordinal);
        Assert.Contains("storage:         int8", stdout, StringComparison.Ordinal);
        (exit, stdout, stderr) = await CliHarness.RunAsync("index", "info", "--store", fixture.StoreDir, "--json");
        Assert.True(exit == 0, stderr);
        using (var info = System.Text.Json.JsonDocument.Parse(stdout))
        {
            Assert.Equal("int8", info.RootElement.GetProperty("hnsw").GetProperty("storage").GetString());
        }
        (exit, _, stderr) = await CliHarness.RunAsync("index", "build", "--store", fixture.StoreDir, "--storage", "fp16", "--quiet");
        Assert.NotEqual(0, exit);
        Assert.Contains("fp16", stderr, StringComparison.Ordinal);

        (exit, stdout, stderr) = await CliHarness.RunAsync("similar", "--store", fixture.StoreDir, "--id", id, "-k", "3", "--json", "--quiet");
        Assert.True(exit == 0, stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        var hits = doc.RootElement.GetProperty("hits");
        Assert.Equal(3, hits.GetArrayLength());
        double previous = double.MaxValue;
        foreach (var hit in hits.EnumerateArray())
        {
            Assert.NotEqual(id, hit.GetProperty("id").GetString());
            Assert.False(string.IsNullOrEmpty(hit.GetProperty("title").GetString()));
            double score = hit.GetProperty("score").GetDouble();
            Assert.True(score <= previous);
            previous = score;
            Assert.Equal(System.Text.Json.JsonValueKind.Array, hit.GetProperty("why").ValueKind);
        }

        using var dir = new TempDir();
        string queries = dir.File("q.jsonl");
        File.WriteAllLines(queries, ["{\"id\": \"q1\", \"text\": \"pruning large language models\"}", "", "{\"id\": 2, \"text\": \"grokking\"}"]);
        (exit, stdout, stderr) = await CliHarness.RunAsync("similar", "--store", fixture.StoreDir, "--queries", queries, "--mode", "lexical", "-k", "2", "--quiet");
        Assert.True(exit == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var first = System.Text.Json.JsonDocument.Parse(lines[0]);
        Assert.Equal("q1", first.RootElement.GetProperty("query").GetString());
        Assert.Equal(2, first.RootElement.GetProperty("hits").GetArrayLength());

        File.WriteAllText(queries, "{\"id\": \"q1\"}\n");
        (exit, _, stderr) = await CliHarness.RunAsync("similar", "--store", fixture.StoreDir, "--queries", queries, "--mode", "lexical", "--quiet");
        Assert.Equal(2, exit);
        Assert.Contains("q.jsonl:1: field 'text'", stderr, StringComparison.Ordinal);

        (exit, _, stderr) = await CliHarness.RunAsync("similar", "--store", fixture.StoreDir, "--id", "no-such-paper", "--quiet");
        Assert.Equal(2, exit); // a user error (an id the store does not hold), not a failure of the machine
        Assert.Contains("no-such-paper", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Filter_expressions_parse_and_bad_ones_name_the_expression()
    {
        PaperFilter filter = PaperFilter.Parse(["date>=2025-03-01", "date<=2025-03", "category=cs.CL,cs.LG"])!;
        Assert.True(filter.Matches(new Embeddings.Corpus.Paper("a", "t", "x", Date: "2025-03-31", Categories: ["cs.LG"])));
        Assert.False(filter.Matches(new Embeddings.Corpus.Paper("a", "t", "x", Date: "2025-04-01", Categories: ["cs.LG"])));
        Assert.False(filter.Matches(new Embeddings.Corpus.Paper("a", "t", "x", Date: "2025-03-02", Categories: ["math.AG"])));
        Assert.False(filter.Matches(new Embeddings.Corpus.Paper("a", "t", "x", Categories: ["cs.LG"])));
        var error = Assert.Throws<ArgumentException>(() => PaperFilter.Parse(["colour=blue"]));
        Assert.Contains("colour=blue", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => PaperFilter.Parse(["date>=March"]));
    }
}
