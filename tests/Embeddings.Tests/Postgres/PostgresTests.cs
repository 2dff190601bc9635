using System.Text.Json;
using Embeddings.Postgres;
using Embeddings.Search;
using Embeddings.Store;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Support;
using Npgsql;
using Pgvector;
using Pgvector.Npgsql;

namespace Embeddings.Tests.Postgres;

/// <summary>
/// Sync and search against real PostgreSQL servers with pgvector (<see cref="PostgresServers"/>): counts, idempotence,
/// incremental sync, deletes, a kill mid-sync and resume, the model check, recall against our exact search, and a
/// sharded table (two servers, postgres_fdw) answering as one table.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresTests(PostgresServers servers, Xunit.Abstractions.ITestOutputHelper output)
{
    private static PostgresSyncOptions Options(string connection, int batch = 500) => new() { ConnectionString = connection, BatchSize = batch };

    private static async Task<SyncSummary> SyncAsync(string storeDir, string connection, IReadOnlyList<string>? shards = null)
    {
        using PaperStore store = PaperStore.Open(storeDir);
        return await PostgresSync.SyncAsync(store, Options(connection) with { Shards = shards ?? [] });
    }

    private static async Task<T> ScalarAsync<T>(string connection, string sql)
    {
        await using var c = new NpgsqlConnection(connection);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(sql, c);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Everything a table holds, as one digest (ids, hashes, vectors, lexemes, metadata), to compare tables.</summary>
    private static Task<string> TableDigestAsync(string connection) => ScalarAsync<string>(connection,
        "SELECT md5(string_agg(id || md5(content_hash::text) || md5(embedding::text) || tsv::text || coalesce(array_to_string(categories, ','), '') " +
        "|| model_fingerprint, ';' ORDER BY id)) FROM papers");

    [PostgresFact]
    public async Task Sync_writes_every_paper_then_nothing_then_only_what_changed_and_removes_what_the_store_lost()
    {
        (string first, string second) = await PostgresTestData.ArxivStores;
        string db = await servers.CreateDatabaseAsync(0, "sync");

        SyncSummary initial = await SyncAsync(first, db);
        Assert.Equal((PostgresTestData.FirstDump, 0L, 0L), (initial.Written, initial.Deleted, initial.Unchanged));
        Assert.Equal(PostgresTestData.FirstDump, await ScalarAsync<long>(db, "SELECT count(*) FROM papers"));

        SyncSummary again = await SyncAsync(first, db);
        Assert.Equal((0L, 0L, (long)PostgresTestData.FirstDump), (again.Written, again.Deleted, again.Unchanged));

        // The second dump: 397 new papers and 3 revised abstracts.
        SyncSummary incremental = await SyncAsync(second, db);
        Assert.Equal((397L + PostgresTestData.Revised, 0L, (long)PostgresTestData.FirstDump - PostgresTestData.Revised),
            (incremental.Written, incremental.Deleted, incremental.Unchanged));
        Assert.Equal(3397, await ScalarAsync<long>(db, "SELECT count(*) FROM papers"));

        // Rows hold the store's papers exactly: text, metadata, vector, hash, model.
        using (PaperStore store = PaperStore.Open(second))
        {
            StoredPaper revised = store.GetPaper("2505.24868")!; // the first row: one of the revised papers
            var sourceBuilder = new NpgsqlDataSourceBuilder(db);
            sourceBuilder.UseVector();
            await using NpgsqlDataSource source = sourceBuilder.Build();
            await using NpgsqlCommand command = source.CreateCommand(
                "SELECT title, abstract, authors, categories, url, content_hash, model_fingerprint, embedding, tsv @@ 'theorem'::tsquery FROM papers WHERE id = $1");
            command.Parameters.AddWithValue(revised.Paper.Id);
            await using NpgsqlDataReader row = await command.ExecuteReaderAsync();
            Assert.True(await row.ReadAsync());
            Assert.Equal(revised.Paper.Title, row.GetString(0));
            Assert.Equal(revised.Paper.Abstract, row.GetString(1));
            Assert.Equal(revised.Paper.Authors, row.GetFieldValue<string[]>(2));
            Assert.Equal(revised.Paper.Categories, row.GetFieldValue<string[]>(3));
            Assert.Equal("https://arxiv.org/abs/" + revised.Paper.Id, row.GetString(4));
            Assert.Equal(PostgresSync.HashToBytes(revised.ContentHash), row.GetFieldValue<byte[]>(5));
            Assert.Equal(store.ModelFingerprint, row.GetString(6));
            Assert.Equal(store.GetVector(revised.Paper.Id), row.GetFieldValue<Vector>(7).ToArray());
        }
        Assert.Equal(PostgresTestData.Revised, await ScalarAsync<long>(db, "SELECT count(*) FROM papers WHERE abstract LIKE '%Revised: we correct%'"));
        Assert.True(await ScalarAsync<bool>(db, "SELECT count(*) = 1 FROM pg_indexes WHERE tablename = 'papers' AND indexdef LIKE '%hnsw%vector_cosine_ops%'"));
        Assert.True(await ScalarAsync<bool>(db, "SELECT count(*) = 1 FROM pg_indexes WHERE tablename = 'papers' AND indexdef LIKE '%gin (tsv)%'"));

        // Back to the first store: its 397 missing papers are deleted, the 3 abstracts reverted.
        SyncSummary back = await SyncAsync(first, db);
        Assert.Equal((PostgresTestData.Revised, 397L, (long)PostgresTestData.FirstDump - PostgresTestData.Revised), (back.Written, back.Deleted, back.Unchanged));
        string fresh = await servers.CreateDatabaseAsync(0, "fresh");
        await SyncAsync(first, fresh);
        Assert.Equal(await TableDigestAsync(fresh), await TableDigestAsync(db));
    }

    [PostgresFact]
    public async Task A_sync_killed_after_two_batches_keeps_them_and_the_next_sync_writes_exactly_the_rest()
    {
        (_, string second) = await PostgresTestData.ArxivStores;
        string db = await servers.CreateDatabaseAsync(0, "kill");
        string[] sync = ["sync", "--store", second, "--postgres", db, "--batch-size", "400", "--json", "--quiet"];

        var (exit, _, err) = CliProcess.Run(PostgresSync.BatchCommittedPoint + ":2", sync);
        Assert.Equal(137, exit); // SIGKILL, as a power cut or OOM kill
        Assert.Contains("crash injected", err, StringComparison.Ordinal);
        Assert.Equal(800, await ScalarAsync<long>(db, "SELECT count(*) FROM papers"));

        var (exit2, out2, err2) = CliProcess.Run(null, sync);
        Assert.True(exit2 == 0, err2);
        using JsonDocument resumed = JsonDocument.Parse(out2);
        Assert.Equal(3397 - 800, resumed.RootElement.GetProperty("written").GetInt64());
        Assert.Equal(800, resumed.RootElement.GetProperty("unchanged").GetInt64());
        Assert.Equal(0, resumed.RootElement.GetProperty("deleted").GetInt64());

        var (_, out3, _) = CliProcess.Run(null, sync);
        using JsonDocument idle = JsonDocument.Parse(out3);
        Assert.Equal(0, idle.RootElement.GetProperty("written").GetInt64());

        string clean = await servers.CreateDatabaseAsync(0, "clean");
        await SyncAsync(second, clean);
        Assert.Equal(await TableDigestAsync(clean), await TableDigestAsync(db));
    }

    [PostgresFact]
    public async Task A_table_of_another_model_is_refused_with_what_to_do()
    {
        (string first, _) = await PostgresTestData.ArxivStores;
        string db = await servers.CreateDatabaseAsync(0, "model");
        await SyncAsync(first, db);
        string other = PostgresTestData.TempFolder("other-model");
        var encoder = new Store.HashingTestEncoder(64, "test-double:another-model:64");
        using (PaperStore store = PaperStore.Create(Path.Combine(other, "store"), encoder.Fingerprint, encoder.Dimension))
        {
            await store.IngestAsync(Store.StoreTestHelpers.Papers("x.jsonl", [.. PostgresTestData.ArxivPapers().Take(5)]), encoder);
        }

        var (exit, stdout, stderr) = CliProcess.Run(null, "sync", "--store", Path.Combine(other, "store"), "--postgres", db, "--quiet");
        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        string line = Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("test-double:hashing-words:64", line, StringComparison.Ordinal);
        Assert.Contains("--table", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Equal(PostgresTestData.FirstDump, await ScalarAsync<long>(db, "SELECT count(*) FROM papers"));
    }

    [PostgresFact]
    public async Task Similar_over_postgres_finds_what_our_exact_search_finds()
    {
        (_, string second) = await PostgresTestData.ArxivStores;
        string db = await servers.CreateDatabaseAsync(0, "recall");
        await SyncAsync(second, db);
        using PaperStore store = PaperStore.Open(second);
        using PaperSearch local = await PaperSearch.OpenAsync(store, null, new SearchIndexOptions { Persist = false });
        await using PostgresPaperSearch database = await PostgresPaperSearch.OpenAsync(new PostgresLibraryOptions { ConnectionString = db });
        Assert.Equal(store.ModelFingerprint, database.Info.ModelFingerprint);

        string[] queries = [.. PostgresTestData.ArxivPapers().Where((_, i) => i % 85 == 0).Select(p => p.Id)];
        Assert.Equal(40, queries.Length);
        double found = 0;
        foreach (string id in queries)
        {
            var query = new SimilarQuery { PaperId = id, K = 10, Mode = RankingMode.Vector, Explain = false };
            IReadOnlyList<SimilarHit> oracle = await local.SearchAsync(query with { Exact = true });
            IReadOnlyList<SimilarHit> hnsw = await database.SearchAsync(query);
            IReadOnlyList<SimilarHit> exact = await database.SearchAsync(query with { Exact = true });
            Assert.Equal(10, hnsw.Count);
            found += hnsw.Select(h => h.Id).Intersect(oracle.Select(h => h.Id)).Count();
            // The database's exact answer is ours: same papers, same cosines.
            Assert.Equal(oracle.Select(h => h.Id), exact.Select(h => h.Id));
            Assert.All(oracle.Zip(exact), p => Assert.Equal(p.First.Score, p.Second.Score, 1e-5f));
            Assert.Equal(oracle.Select(h => h.Title), exact.Select(h => h.Title));
        }
        double recall = found / (queries.Length * 10);
        output.WriteLine($"recall@10 of similar --postgres (pgvector HNSW, default ef) against our exact search over {queries.Length} queries: {recall:F3}");
        Assert.True(recall >= 0.9, $"recall@10 of similar --postgres against the exact search: {recall:F3}");

        // Filters are SQL and mean what they mean locally.
        var filtered = new SimilarQuery
        {
            PaperId = queries[3], K = 10, Mode = RankingMode.Vector, Exact = true,
            Filter = PaperFilter.Parse(["category=math.AG,math.NT"]),
        };
        IReadOnlyList<SimilarHit> localFiltered = await local.SearchAsync(filtered);
        IReadOnlyList<SimilarHit> databaseFiltered = await database.SearchAsync(filtered);
        Assert.Equal(10, databaseFiltered.Count);
        Assert.Equal(localFiltered.Select(h => h.Id), databaseFiltered.Select(h => h.Id));
        Assert.All(databaseFiltered, h => Assert.True(store.GetPaper(h.Id)!.Paper.Categories!.Intersect(["math.AG", "math.NT"]).Any()));
        IReadOnlyList<SimilarHit> approximateFiltered = await database.SearchAsync(filtered with { Exact = false });
        Assert.Equal(10, approximateFiltered.Count); // iterative index scans go on past rows the filter drops

        // Hybrid: fused candidates, the query paper and its copies excluded, a "why" from shared terms.
        IReadOnlyList<SimilarHit> hybrid = await database.SearchAsync(new SimilarQuery { PaperId = queries[0], K = 10 });
        Assert.Equal(10, hybrid.Count);
        Assert.DoesNotContain(hybrid, h => h.Id == queries[0]);
        Assert.True(hybrid.Count(h => h.Why.Count > 0) >= 8);
        Assert.True(hybrid.Zip(hybrid.Skip(1)).All(p => p.First.Score >= p.Second.Score));
    }

    [PostgresFact]
    public async Task A_table_sharded_over_two_servers_answers_as_one_table_and_each_shard_streams_only_its_top_candidates()
    {
        (_, string second) = await PostgresTestData.ArxivStores;
        string single = await servers.CreateDatabaseAsync(0, "single");
        string coordinator = await servers.CreateDatabaseAsync(0, "coordinator");
        string shard0 = await servers.CreateDatabaseAsync(0, "shard");
        string shard1 = await servers.CreateDatabaseAsync(1, "shard");
        await SyncAsync(second, single);
        SyncSummary sharded = await SyncAsync(second, coordinator, [shard0, shard1]);
        Assert.Equal(3397, sharded.Written);
        long rows0 = await ScalarAsync<long>(shard0, "SELECT count(*) FROM papers"), rows1 = await ScalarAsync<long>(shard1, "SELECT count(*) FROM papers");
        Assert.Equal(3397, rows0 + rows1);
        Assert.InRange(rows0, 1400, 2000); // hash partitioning spreads the ids
        Assert.Equal(3397, await ScalarAsync<long>(coordinator, "SELECT count(*) FROM papers")); // the parent table is the whole table
        Assert.Equal(await TableDigestAsync(single), await TableDigestAsync(coordinator));
        Assert.Equal(0, (await SyncAsync(second, coordinator)).Written);

        await using PostgresPaperSearch one = await PostgresPaperSearch.OpenAsync(new PostgresLibraryOptions { ConnectionString = single });
        await using PostgresPaperSearch two = await PostgresPaperSearch.OpenAsync(new PostgresLibraryOptions { ConnectionString = coordinator });
        Assert.Equal(2, two.Info.ShardCount);
        string[] queries = [.. PostgresTestData.ArxivPapers().Where((_, i) => i % 170 == 0).Select(p => p.Id)];
        double overlap = 0;
        foreach (string id in queries)
        {
            foreach (RankingMode mode in new[] { RankingMode.Vector, RankingMode.Hybrid })
            {
                var exact = new SimilarQuery { PaperId = id, K = 10, Mode = mode, Exact = true };
                IReadOnlyList<SimilarHit> a = await one.SearchAsync(exact);
                IReadOnlyList<SimilarHit> b = await two.SearchAsync(exact);
                Assert.Equal(a.Select(h => h.Id), b.Select(h => h.Id));
                Assert.All(a.Zip(b), p => Assert.Equal(p.First.Score, p.Second.Score, 1e-5f));
            }
            var approximate = new SimilarQuery { PaperId = id, K = 10, Mode = RankingMode.Vector };
            overlap += (await one.SearchAsync(approximate)).Select(h => h.Id).Intersect((await two.SearchAsync(approximate)).Select(h => h.Id)).Count() / 10.0;
            // Fanned out: each shard sent its own top candidates, never more (K, the query paper, a margin of 5).
            Assert.Equal(2, two.LastQueryRows.Count);
            Assert.All(two.LastQueryRows, r => Assert.InRange(r.Rows, 10, 16));
        }
        output.WriteLine($"HNSW top-10 overlap sharded vs single: {overlap / queries.Length:F3}");
        Assert.True(overlap / queries.Length >= 0.9, $"HNSW top-10 of the sharded table vs one table: {overlap / queries.Length:F3}");

        // The parent table through postgres_fdw: the ORDER BY is shipped, the LIMIT is not, so each shard streams
        // rows until its fetch batch (100) or its index scan (the shard's own ef_search, 40) runs out, for a top-10,
        // at an ef the query cannot set. That is why search fans out instead.
        await servers.ResetStatementStatisticsAsync();
        Assert.Equal(10, await ScalarAsync<long>(coordinator,
            $"SELECT count(*) FROM (SELECT id FROM papers ORDER BY embedding <=> (SELECT embedding FROM papers WHERE id = '{queries[1]}') LIMIT 10) s"));
        long streamed0 = await servers.FetchedRowsAsync(0), streamed1 = await servers.FetchedRowsAsync(1);
        output.WriteLine($"rows streamed per shard for a top-10 over the parent table: {streamed0}, {streamed1}; fanned out: " +
            string.Join(", ", two.LastQueryRows.Select(r => r.Rows)));
        Assert.True(streamed0 > 10 && streamed1 > 10, $"rows streamed through the parent table: {streamed0}, {streamed1}");

        // The CLI over the coordinator prints what it prints over one server.
        string[] args = ["similar", "--id", queries[2], "--mode", "vector", "--exact", "-k", "10", "--json"];
        var (e1, o1, x1) = CliProcess.Run(null, [.. args, "--postgres", single]);
        var (e2, o2, x2) = CliProcess.Run(null, [.. args, "--postgres", coordinator]);
        Assert.True(e1 == 0 && e2 == 0, x1 + x2);
        Assert.Equal(Ids(o1), Ids(o2));
    }

    [PostgresFact]
    public async Task Free_text_search_in_the_database_uses_the_tables_model_found_by_fingerprint_and_matches_the_store()
    {
        string storeDir = await PostgresTestData.UseLiteStore;
        string db = await servers.CreateDatabaseAsync(0, "text");
        await SyncAsync(storeDir, db);
        const string text = "Continual learning without forgetting: prompts for pretrained vision transformers";
        string[] common = ["similar", "--text", text, "--mode", "vector", "--exact", "-k", "5", "--json", "--quiet"];

        // No --model: the table's fingerprint picks models/use-lite among the local model folders.
        var (exit, stdout, stderr) = CliProcess.Run(null, [.. common, "--postgres", db]);
        Assert.True(exit == 0, stderr);
        var (localExit, localOut, localErr) = CliProcess.Run(null, [.. common, "--store", storeDir, "--model", EncoderFixtures.UseLiteDir]);
        Assert.True(localExit == 0, localErr);
        Assert.Equal(Ids(localOut), Ids(stdout));
        using JsonDocument a = JsonDocument.Parse(localOut), b = JsonDocument.Parse(stdout);
        foreach ((JsonElement x, JsonElement y) in a.RootElement.GetProperty("hits").EnumerateArray().Zip(b.RootElement.GetProperty("hits").EnumerateArray()))
        {
            Assert.Equal(x.GetProperty("score").GetDouble(), y.GetProperty("score").GetDouble(), 1e-5);
            Assert.Equal(x.GetProperty("title").GetString(), y.GetProperty("title").GetString());
            Assert.Equal(JsonValueKind.Array, y.GetProperty("why").ValueKind);
        }

        // A --model that is not the table's model is an error that says so, not a silent search with another model.
        var (wrongExit, _, wrongErr) = CliProcess.Run(null, [.. common, "--postgres", db, "--model", EncoderFixtures.TinyBertDir]);
        Assert.Equal(2, wrongExit); // a --model that does not fit the table is the caller's to fix: a usage error (exit 2)
        Assert.Contains("is not the model of", wrongErr, StringComparison.Ordinal);
        Assert.Single(wrongErr.Trim().Split('\n'));

        var (hybridExit, hybridOut, hybridErr) = CliProcess.Run(null, "similar", "--postgres", db, "--text", text, "-k", "5", "--json");
        Assert.True(hybridExit == 0, hybridErr);
        using JsonDocument hybrid = JsonDocument.Parse(hybridOut);
        Assert.Equal(5, hybrid.RootElement.GetProperty("hits").GetArrayLength());
        Assert.Contains(hybrid.RootElement.GetProperty("hits").EnumerateArray(), h => h.GetProperty("why").EnumerateArray().Any(w => w.GetString() == "continual"));

        var (missing, _, missingErr) = CliProcess.Run(null, "similar", "--postgres", db, "--table", "nosuch", "--id", "x");
        Assert.Equal(1, missing);
        Assert.Contains("embeddings sync", missingErr, StringComparison.Ordinal);
    }

    private static string[] Ids(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("id").GetString()!)];
    }
}
