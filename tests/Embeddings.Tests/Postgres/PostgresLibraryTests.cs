using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Embeddings.Corpus;
using Embeddings.Postgres;
using Embeddings.Store;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Embeddings.Tests.Postgres;

/// <summary>
/// <see cref="PaperLibrary"/> over PostgreSQL (<c>UsePostgres</c>) against the library over the store the table was
/// synced from, on a real server: the same similar papers (vector mode exact: identical ids and cosines), the same
/// papers and listings (filters as SQL), the same status; and what the facade refuses or reports.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresLibraryTests(PostgresServers servers)
{
    private const string Fingerprint = "test-double:hashing-words:64";

    /// <summary>
    /// 300 arXiv abstracts with dates (some missing, some empty), ingested as two dumps: a.jsonl has papers 0-199,
    /// b.jsonl has 150-299, where 150-189 repeat a.jsonl's text (they gain a source) and 190-199 are revised (revision 2).
    /// </summary>
    private static readonly Lazy<Task<(string AfterFirst, string AfterSecond)>> DatedStores = new(BuildDatedStoresAsync);

    private static Paper Dated(Paper p, int i) => p with
    {
        Date = (i % 10) switch
        {
            0 => null,
            1 => "",
            _ => string.Create(CultureInfo.InvariantCulture, $"2025-{(i % 12) + 1:D2}-{(i % 28) + 1:D2}"),
        },
    };

    private static async Task<(string, string)> BuildDatedStoresAsync()
    {
        Paper[] papers = [.. PostgresTestData.ArxivPapers().Take(300).Select(Dated)];
        string first = Path.Combine(PostgresTestData.TempFolder("dated"), "store");
        using (PaperStore store = PaperStore.Create(first, Fingerprint, 64))
        {
            await store.IngestAsync(StoreTestHelpers.Papers("a.jsonl", papers[..200]), new HashingTestEncoder(64, Fingerprint));
        }
        string second = Path.Combine(PostgresTestData.TempFolder("dated"), "store");
        PostgresTestData.CopyDirectory(first, second);
        Paper[] next = [.. papers[150..300].Select((p, i) => i is >= 40 and < 50 ? p with { Abstract = p.Abstract + " Revised." } : p)];
        using (PaperStore store = PaperStore.Open(second, new StoreOpenOptions { Writable = true }))
        {
            await store.IngestAsync(StoreTestHelpers.Papers("b.jsonl", next), new HashingTestEncoder(64, Fingerprint));
        }
        return (first, second);
    }

    private static Task<PaperLibrary> OpenStoreAsync(string store) => PaperLibrary.OpenAsync(new PaperLibraryOptions
    {
        StoreDirectory = store,
        ReadOnly = true,
        EncoderFactory = () => new HashingTestEncoder(64, Fingerprint),
    });

    private static Task<PaperLibrary> OpenDatabaseAsync(string connection) =>
        PaperLibrary.OpenAsync(new PaperLibraryOptions { EncoderFactory = () => new HashingTestEncoder(64, Fingerprint) }.UsePostgres(connection));

    private static async Task<List<string>> ListAsync(PaperLibrary library, PaperFilter? filter = null)
    {
        var lines = new List<string>();
        await foreach (PaperDetails p in library.ListPapersAsync(filter))
        {
            // Where the text was read and a yearless date's wording are kept by the store only (docs/formats.md).
            lines.Add(LibraryJson.Paper(p with { SourceFile = null, SourceLine = 0, DateText = null }));
        }
        return lines;
    }

    private static List<string> ById(List<string> papers) => [.. papers.Order(StringComparer.Ordinal)];

    [PostgresFact]
    public async Task The_library_over_postgres_answers_as_the_library_over_the_store_it_was_synced_from()
    {
        (string afterFirst, string afterSecond) = await DatedStores.Value;
        string db = await servers.CreateDatabaseAsync(0, "library");
        await using (PaperLibrary first = await OpenStoreAsync(afterFirst))
        {
            SyncSummary initial = await first.SyncToPostgresAsync(new PostgresSyncOptions { ConnectionString = db, BatchSize = 64 });
            Assert.Equal((200L, 0L, 0L), (initial.Written, initial.Deleted, initial.Unchanged));
        }
        await using PaperLibrary local = await OpenStoreAsync(afterSecond);
        // 100 new papers, 10 revised, and 40 known texts met in b.jsonl: they gained a source, so their rows are rewritten too.
        SyncSummary second = await local.SyncToPostgresAsync(new PostgresSyncOptions { ConnectionString = db, BatchSize = 64 });
        Assert.Equal((150L, 0L, 150L), (second.Written, second.Deleted, second.Unchanged));
        Assert.Equal(0, (await local.SyncToPostgresAsync(new PostgresSyncOptions { ConnectionString = db })).Written);

        await using PaperLibrary database = await OpenDatabaseAsync(db);
        Assert.Equal("", database.StoreDirectory);
        Assert.Contains("table 'papers'", database.Location, StringComparison.Ordinal);
        LibraryStatus localStatus = await local.GetStatusAsync(), databaseStatus = await database.GetStatusAsync();
        Assert.Equal((300, localStatus.ModelFingerprint, 64, true), (databaseStatus.Papers, databaseStatus.ModelFingerprint, databaseStatus.Dimension, databaseStatus.StoreExists));
        Assert.Equal(database.Location, databaseStatus.StoreDirectory);

        // Every paper, as the store shows it: text, metadata, dumps, first seen, revision, flags.
        List<string> all = ById(await ListAsync(local));
        Assert.Equal(300, all.Count);
        Assert.Equal(all, await ListAsync(database)); // id order
        PaperDetails revised = (await database.GetPaperAsync(PostgresTestData.ArxivPapers()[195].Id))!;
        Assert.Equal(2, revised.Revision);
        Assert.Equal(["a.jsonl", "b.jsonl"], revised.Sources);
        foreach (string line in all.Where((_, i) => i % 7 == 0))
        {
            string id = System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("id").GetString()!;
            Assert.Equal(line, LibraryJson.Paper((await database.GetPaperAsync(id))!));
        }
        Assert.Null(await database.GetPaperAsync("no-such-paper"));

        // Filters are SQL and let through exactly what they let through locally (undated and empty dates fail a date bound).
        string[][] filters =
        [
            ["date>=2025-03-01"], ["date<=2025-06"], ["date=2025-05"], ["date>=2025-02-10", "date<=2025-09-30", "category=math.AG,math.NT"],
            ["category=math.CO"], ["id=" + string.Join(',', PostgresTestData.ArxivPapers().Take(20).Select(p => p.Id)) + ",no-such-id"],
        ];
        foreach (string[] expressions in filters)
        {
            PaperFilter filter = PaperFilter.Parse(expressions)!;
            List<string> expected = ById(await ListAsync(local, filter));
            Assert.True(expected.Count is > 0 and < 300, string.Join(" ", expressions) + ": " + expected.Count);
            Assert.Equal(expected, await ListAsync(database, filter));
        }

        // Similar papers, exact vector mode: the same ids, cosines and titles (AssertSameRanking), for an id, a text, liked and unliked papers, and a filter.
        string[] ids = [.. PostgresTestData.ArxivPapers().Take(300).Where((_, i) => i % 29 == 3).Select(p => p.Id)];
        var queries = new List<SimilarQuery>();
        queries.AddRange(ids.Select(id => new SimilarQuery { PaperId = id, K = 10, Mode = RankingMode.Vector, Exact = true }));
        queries.Add(new SimilarQuery { Text = "cohomology of moduli spaces of curves", K = 10, Mode = RankingMode.Vector, Exact = true });
        // A table ranks liked papers by Rocchio (SimilarQuery.LikeRanking): compared with the store's Rocchio.
        queries.Add(new SimilarQuery { Like = [ids[0], ids[1]], Unlike = [ids[2]], K = 10, Mode = RankingMode.Vector, Exact = true, LikeRanking = LikeRanking.Rocchio });
        queries.Add(new SimilarQuery { Text = "prime numbers", Like = [ids[3]], K = 10, Mode = RankingMode.Vector, Exact = true, LikeRanking = LikeRanking.Rocchio });
        queries.Add(new SimilarQuery { PaperId = ids[4], K = 10, Mode = RankingMode.Vector, Exact = true, Filter = PaperFilter.Parse(["date>=2025-04-01", "date<=2025-10"]) });
        // A stored paper's text pasted: both recognise the paper by its vector, and hide it unless asked not to.
        PaperDetails pastedPaper = (await database.GetPaperAsync(ids[5]))!;
        string pasted = pastedPaper.Title + ".\n" + pastedPaper.Abstract;
        queries.Add(new SimilarQuery { Text = pasted, K = 10, Mode = RankingMode.Vector, Exact = true });
        queries.Add(new SimilarQuery { Text = pasted, K = 10, Mode = RankingMode.Vector, Exact = true, ExcludeDuplicates = false });
        foreach (SimilarQuery query in queries)
        {
            SimilarResult expected = await local.SimilarAsync(query), actual = await database.SimilarAsync(query);
            Assert.Equal(expected.QueryPaper, actual.QueryPaper);
            Assert.Equal(expected.HiddenDuplicates, actual.HiddenDuplicates);
            Assert.Equal(10, expected.Count);
            AssertSameRanking(expected, actual);
            // Vectors decided: each hit is explained by the same closest sentence, embedded by the same model.
            Assert.All(expected, h => Assert.False(string.IsNullOrEmpty(h.ClosestSentence)));
            Assert.Equal(expected.Select(h => h.ClosestSentence), actual.Select(h => h.ClosestSentence));
        }
        SimilarResult pastedAnswer = await database.SimilarAsync(queries[^2]), pastedShown = await database.SimilarAsync(queries[^1]);
        Assert.Equal(new QueryPaper(pastedPaper.Id, pastedPaper.Title), pastedAnswer.QueryPaper);
        Assert.Equal(1, pastedAnswer.HiddenDuplicates);
        Assert.DoesNotContain(pastedAnswer, h => h.Id == pastedPaper.Id);
        Assert.Equal((pastedPaper.Id, 0), (pastedShown[0].Id, pastedShown.HiddenDuplicates));
        Assert.Equal(new QueryPaper(ids[0], (await database.GetPaperAsync(ids[0]))!.Title), (await database.SimilarAsync(queries[0])).QueryPaper);
        IReadOnlyList<SimilarHit> hybrid = await database.SimilarAsync(new SimilarQuery { Text = "cohomology of moduli spaces of curves", K = 5 });
        Assert.Equal(5, hybrid.Count);

        // A query file (`similar --queries`): the same answers, in file order ("why" words come from each side's own
        // text analysis, so ids and cosines are compared).
        string queryFile = Path.Combine(PostgresTestData.TempFolder("queries"), "q.jsonl");
        await File.WriteAllLinesAsync(queryFile, ["{\"id\": \"q1\", \"text\": \"elliptic curves over finite fields\"}", "", "{\"id\": \"q2\", \"text\": \"random graphs\"}"]);
        var template = new SimilarQuery { K = 10, Mode = RankingMode.Vector, Exact = true };
        List<SimilarAnswer> localAnswers = [], databaseAnswers = [];
        await foreach (SimilarAnswer answer in local.SimilarForQueriesAsync(queryFile, template))
        {
            localAnswers.Add(answer);
        }
        await foreach (SimilarAnswer answer in database.SimilarForQueriesAsync(queryFile, template))
        {
            databaseAnswers.Add(answer);
        }
        Assert.Equal(["q1", "q2"], localAnswers.Select(a => a.QueryId));
        Assert.Equal(localAnswers.Select(a => a.QueryId), databaseAnswers.Select(a => a.QueryId));
        foreach ((SimilarAnswer expected, SimilarAnswer actual) in localAnswers.Zip(databaseAnswers))
        {
            Assert.Equal(10, expected.Hits.Count);
            AssertSameRanking(expected.Hits, actual.Hits);
        }

        // The facade's errors, named for the table.
        var missing = await Assert.ThrowsAsync<PaperNotFoundException>(() => database.SimilarAsync(new SimilarQuery { PaperId = "no-such-paper" }));
        Assert.Contains("table 'papers'", missing.Message, StringComparison.Ordinal);
        var localOnly = await Assert.ThrowsAsync<InvalidRequestException>(() => database.TopicsAsync());
        Assert.Contains("need the local store folder", localOnly.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidRequestException>(() => database.SyncToPostgresAsync(new PostgresSyncOptions { ConnectionString = db }));
    }

    [PostgresFact]
    public async Task A_host_serves_from_the_database_with_one_option()
    {
        (_, string store) = await DatedStores.Value;
        string db = await servers.CreateDatabaseAsync(0, "host");
        await using (PaperLibrary local = await OpenStoreAsync(store))
        {
            await local.SyncToPostgresAsync(new PostgresSyncOptions { ConnectionString = db });
        }
        var services = new ServiceCollection();
        services.AddPaperLibrary(o => o.UsePostgres(db));
        await using ServiceProvider provider = services.BuildServiceProvider(validateScopes: true);
        PaperLibrary library = provider.GetRequiredService<PaperLibrary>();
        Assert.Equal(300, (await library.GetStatusAsync()).Papers);
        string id = PostgresTestData.ArxivPapers()[7].Id;
        Assert.Equal(10, (await library.SimilarAsync(new SimilarQuery { PaperId = id, K = 10 })).Count);
        Assert.Equal(id, (await library.GetPaperAsync(id))!.Id);
    }

    [PostgresFact]
    public async Task A_table_of_layout_1_is_searchable_and_the_next_sync_upgrades_it()
    {
        (_, string store) = await DatedStores.Value;
        string db = await servers.CreateDatabaseAsync(0, "upgrade");
        await using PaperLibrary local = await OpenStoreAsync(store);
        await local.SyncToPostgresAsync(new PostgresSyncOptions { ConnectionString = db });
        // What a sync of layout 1 left: no dumps, first-seen, revision, flags or record hash.
        await ExecuteAsync(db, "ALTER TABLE papers DROP COLUMN sources, DROP COLUMN first_seen, DROP COLUMN revision, DROP COLUMN truncated, " +
            "DROP COLUMN empty, DROP COLUMN record_hash; UPDATE embeddings_tables SET format_version = 1");

        await using PaperLibrary database = await OpenDatabaseAsync(db);
        string id = PostgresTestData.ArxivPapers()[11].Id;
        var query = new SimilarQuery { PaperId = id, K = 10, Mode = RankingMode.Vector, Exact = true };
        Assert.Equal((await local.SimilarAsync(query)).Select(h => h.Id), (await database.SimilarAsync(query)).Select(h => h.Id));
        var old = await Assert.ThrowsAsync<PostgresBackendException>(() => database.GetPaperAsync(id));
        Assert.Contains("embeddings sync", old.Message, StringComparison.Ordinal);

        SyncSummary upgrade = await local.SyncToPostgresAsync(new PostgresSyncOptions { ConnectionString = db });
        Assert.Equal((300L, 0L), (upgrade.Written, upgrade.Unchanged)); // every row gains the new columns
        Assert.Equal(ById(await ListAsync(local)), await ListAsync(database)); // the open library sees the upgrade
        Assert.Equal(0, (await local.SyncToPostgresAsync(new PostgresSyncOptions { ConnectionString = db })).Written);
    }

    /// <summary>Tolerance of a cosine computed by pgvector (double sums) against ours (float SIMD sums).</summary>
    private const float CosineTolerance = 1e-5f;

    /// <summary>
    /// Two exact answers are the same: equal cosines position by position, and the same papers (with their titles),
    /// except that papers whose cosines tie (within <see cref="CosineTolerance"/>, where float and double sums may
    /// order them either way) may come in any order among themselves; a tie at the end, cut by K, may be filled by
    /// any of the tied papers, each of which has the cosine checked.
    /// </summary>
    private static void AssertSameRanking(IReadOnlyList<SimilarHit> expected, IReadOnlyList<SimilarHit> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Score, actual[i].Score, CosineTolerance);
        }
        Dictionary<string, string> titles = expected.ToDictionary(h => h.Id, h => h.Title, StringComparer.Ordinal);
        Assert.All(actual.Where(h => titles.ContainsKey(h.Id)), h => Assert.Equal(titles[h.Id], h.Title));
        for (int start = 0; start < expected.Count;)
        {
            int end = start + 1;
            while (end < expected.Count && expected[start].Score - expected[end].Score <= CosineTolerance)
            {
                end++;
            }
            if (end < expected.Count)
            {
                Assert.Equal(expected.Skip(start).Take(end - start).Select(h => h.Id).Order(StringComparer.Ordinal),
                    actual.Skip(start).Take(end - start).Select(h => h.Id).Order(StringComparer.Ordinal));
            }
            start = end;
        }
    }

    private static async Task ExecuteAsync(string connection, string sql)
    {
        await using var c = new NpgsqlConnection(connection);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(sql, c);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>What the facade and the CLI say when PostgreSQL is misconfigured or cannot be reached (no server needed).</summary>
public sealed class PostgresErrorTests
{
    /// <summary>A loopback port nothing listens on (taken from the system, then released).</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task An_unreachable_server_is_one_line_naming_it_and_what_to_check()
    {
        int port = ClosedPort();
        string connection = $"Host=127.0.0.1;Port={port};Database=papers;Username=app;Timeout=5";
        var error = await Assert.ThrowsAsync<PostgresBackendException>(() => PaperLibrary.OpenAsync(new PaperLibraryOptions().UsePostgres(connection)));
        Assert.StartsWith($"cannot connect to PostgreSQL at 127.0.0.1:{port}/papers: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("--postgres", error.Message, StringComparison.Ordinal);

        using var dir = new TempDir();
        using (PaperStore store = PaperStore.Create(dir.File("store"), "test-double:hashing-words:16", 16))
        {
        }
        foreach (string[] args in new[]
        {
            new[] { "similar", "--postgres", connection, "--id", "x", "--json" },
            new[] { "sync", "--store", dir.File("store"), "--postgres", connection, "--quiet" },
        })
        {
            var (exit, stdout, stderr) = await CliHarness.RunAsync(args);
            Assert.Equal(1, exit);
            Assert.Equal("", stdout);
            string line = Assert.Single(stderr.Trim().Split('\n'));
            Assert.StartsWith($"embeddings: cannot connect to PostgreSQL at 127.0.0.1:{port}/papers: ", line, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Options_over_postgres_need_no_store_and_are_validated()
    {
        var error = await Assert.ThrowsAsync<InvalidRequestException>(() => PaperLibrary.OpenAsync(new PaperLibraryOptions().UsePostgres("", "Bad-Name")));
        Assert.Contains("connection string", error.Message, StringComparison.Ordinal);
        Assert.Contains("Bad-Name", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(PaperLibraryOptions.StoreDirectory), error.Message, StringComparison.Ordinal);

        var both = await Assert.ThrowsAsync<InvalidRequestException>(() =>
            PaperLibrary.OpenAsync(new PaperLibraryOptions { StoreDirectory = "out/store" }.UsePostgres("Host=localhost;Database=papers")));
        Assert.Contains("exclusive", both.Message, StringComparison.Ordinal);

        var services = new ServiceCollection();
        services.AddPaperLibrary(o => o.UsePostgres("Host=localhost;Database=papers;Nonsense=1"));
        using ServiceProvider provider = services.BuildServiceProvider();
        var invalid = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PaperLibraryOptions>>().Value);
        Assert.Contains(invalid.Failures, f => f.Contains("not a PostgreSQL connection string", StringComparison.Ordinal));
    }
}
