using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Index;
using Embeddings.Postgres;
using Embeddings.Store;
using Embeddings.Tests.Support;
using Npgsql;
using Pgvector;
using Pgvector.Npgsql;

namespace Embeddings.Bench;

/// <summary>
/// PostgreSQL + pgvector against our own store and HNSW, on one machine, in one run: sync rate of a 100k-paper store
/// into a fresh throw-away server (started here like the tests' fixture), then on the same vectors pgvector's HNSW
/// and ours with the same M/efConstruction: build time, queries/s over 1 and 8 connections (ours: 1 and 8 threads),
/// recall@10 against the exact index at equal ef. Rounds alternate and the best of each is kept.
/// Usage: postgres [--n 100000] [--dim 384] [--queries 1000] [--m 16] [--ef-construction 200] [--rounds 2] [--out bench/results].
/// </summary>
internal static class PostgresBench
{
    private static readonly int[] EfValues = [40, 100, 200];

    public static async Task<int> RunAsync(string[] args)
    {
        int n = BenchHost.IntArg(args, "--n", 100_000);
        int dim = BenchHost.IntArg(args, "--dim", 384);
        int nq = BenchHost.IntArg(args, "--queries", 1000);
        int m = BenchHost.IntArg(args, "--m", 16);
        int efc = BenchHost.IntArg(args, "--ef-construction", 200);
        int rounds = BenchHost.IntArg(args, "--rounds", 2);
        string outDir = BenchHost.Arg(args, "--out") ?? Path.Combine(BenchHost.RepoRoot(), "bench", "results");
        Directory.CreateDirectory(outDir);
        string loadAtStart = BenchHost.LoadAverages();
        Console.WriteLine($"postgres benchmark: n={n} dim={dim} queries={nq} M={m} efConstruction={efc}; load average {loadAtStart}");

        float[] all = SyntheticVectors.Clustered(n + nq, dim, Math.Max(10, n / 100), 42);
        var data = new ReadOnlyMemory<float>(all, 0, n * dim);
        var queries = new ReadOnlyMemory<float>(all, n * dim, nq * dim);
        Neighbor[][] truth = ExactIndex.Create(data, dim, SimilarityMetric.InnerProduct).SearchBatch(queries, 10);

        // A store of n papers whose vectors are the synthetic rows (real abstracts for the text, so the tsvector
        // work of a sync is real).
        string work = Path.Combine(Path.GetTempPath(), "emb-pgbench-" + Environment.ProcessId);
        Directory.CreateDirectory(work);
        string storeDir = Path.Combine(work, "store");
        var encoder = new RowEncoder(all, dim);
        string[] abstracts = LoadAbstracts();
        using (PaperStore store = PaperStore.Create(storeDir, encoder.Fingerprint, dim))
        {
            await store.IngestAsync(Papers(n, abstracts), encoder, new IngestOptions { CommitEvery = 20_000 });
        }

        // Two parallel maintenance workers' worth: the leader and one worker, as our build uses 2 threads here.
        using PostgresCluster cluster = PostgresCluster.Start(1, "-c max_parallel_workers=2 -c max_parallel_maintenance_workers=1 -c shared_buffers=1GB");
        string connection = cluster.ConnectionString(0, "postgres");

        var report = new Dictionary<string, object>();
        SyncSummary sync;
        double noopSeconds;
        using (PaperStore store = PaperStore.Open(storeDir))
        {
            sync = await PostgresSync.SyncAsync(store, new PostgresSyncOptions { ConnectionString = connection, HnswM = m, HnswEfConstruction = efc });
            Console.WriteLine($"sync: {sync.Written} papers in {sync.Seconds:F1} s = {sync.PapersPerSecond:F0} papers/s (rows, tsvector, HNSW + GIN build)");
            SyncSummary again = await PostgresSync.SyncAsync(store, new PostgresSyncOptions { ConnectionString = connection });
            Console.WriteLine($"no-op re-sync: written {again.Written} in {again.Seconds:F1} s");
            noopSeconds = again.Seconds;
            report["sync"] = new { papers = sync.Written, seconds = sync.Seconds, papersPerSecond = sync.PapersPerSecond, noopResyncSeconds = again.Seconds };
        }

        var builder = new NpgsqlDataSourceBuilder(connection + ";Maximum Pool Size=20");
        builder.UseVector();
        await using NpgsqlDataSource source = builder.Build();
        var buildOurs = new List<double>();
        var buildPg = new List<double>();
        HnswIndex? ours = null;
        for (int round = 0; round < rounds; round++)
        {
            ours?.Dispose();
            var sw = Stopwatch.StartNew();
            ours = HnswIndex.Build(data, new HnswOptions { Dimension = dim, M = m, EfConstruction = efc, Metric = SimilarityMetric.InnerProduct, MaxDegreeOfParallelism = 2 });
            buildOurs.Add(sw.Elapsed.TotalSeconds);
            await using (NpgsqlConnection c = await source.OpenConnectionAsync())
            {
                await Execute(c, "DROP INDEX IF EXISTS papers_embedding_hnsw");
                await Execute(c, "SET maintenance_work_mem = '1GB'");
                sw.Restart();
                await Execute(c, $"CREATE INDEX papers_embedding_hnsw ON papers USING hnsw (embedding vector_cosine_ops) WITH (m = {m}, ef_construction = {efc})");
                buildPg.Add(sw.Elapsed.TotalSeconds);
            }
            Console.WriteLine($"build round {round + 1}: ours {buildOurs[^1]:F1} s, pgvector {buildPg[^1]:F1} s");
        }

        var rows = new List<object>();
        var table = new StringBuilder();
        foreach (int ef in EfValues)
        {
            double oursQps1 = 0, oursQps8 = 0, pgQps1 = 0, pgQps8 = 0, oursRecall = 0, pgRecall = 0;
            for (int round = 0; round < rounds; round++)
            {
                var sw = Stopwatch.StartNew();
                Neighbor[][] single = ours!.SearchBatch(queries, 10, ef, maxDegreeOfParallelism: 1);
                oursQps1 = Math.Max(oursQps1, nq / sw.Elapsed.TotalSeconds);
                oursRecall = SyntheticVectors.Recall(single, truth, 10);
                sw.Restart();
                ours.SearchBatch(queries, 10, ef, maxDegreeOfParallelism: 8);
                oursQps8 = Math.Max(oursQps8, nq / sw.Elapsed.TotalSeconds);

                sw.Restart();
                int[][] pg = await PgSearchAsync(source, queries, dim, ef, 1);
                pgQps1 = Math.Max(pgQps1, nq / sw.Elapsed.TotalSeconds);
                pgRecall = Recall(pg, truth);
                sw.Restart();
                await PgSearchAsync(source, queries, dim, ef, 8);
                pgQps8 = Math.Max(pgQps8, nq / sw.Elapsed.TotalSeconds);
            }
            Console.WriteLine($"ef={ef}: recall ours {oursRecall:F4} pgvector {pgRecall:F4}; q/s 1: ours {oursQps1:F0} pgvector {pgQps1:F0}; q/s 8: ours {oursQps8:F0} pgvector {pgQps8:F0}");
            rows.Add(new { ef, oursRecall, pgvectorRecall = pgRecall, oursQps1, pgvectorQps1 = pgQps1, oursQps8, pgvectorQps8 = pgQps8 });
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {ef} | {oursRecall:F4} | {pgRecall:F4} | {oursQps1:F0} | {pgQps1:F0} | {pgQps1 / oursQps1:F2} | {oursQps8:F0} | {pgQps8:F0} | {pgQps8 / oursQps8:F2} |");
        }
        long pgIndexBytes;
        await using (NpgsqlConnection c = await source.OpenConnectionAsync())
        await using (var size = new NpgsqlCommand("SELECT pg_relation_size('papers_embedding_hnsw')", c))
        {
            pgIndexBytes = (long)(await size.ExecuteScalarAsync())!;
        }
        string loadAtEnd = BenchHost.LoadAverages();
        report["machine"] = $"{Environment.ProcessorCount} cores; load average at start {loadAtStart}, at end {loadAtEnd}";
        report["command"] = $"dotnet run -c Release --project bench/Embeddings.Bench -- postgres --n {n} --dim {dim} --queries {nq} --m {m} --ef-construction {efc} --rounds {rounds}";
        report["build"] = new { oursSeconds = buildOurs.Min(), pgvectorSeconds = buildPg.Min(), oursMiB = ours!.MemoryBytes / 1048576.0, pgvectorIndexMiB = pgIndexBytes / 1048576.0 };
        report["search"] = rows;
        File.WriteAllText(Path.Combine(outDir, $"postgres-{n}.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"### PostgreSQL 15 + pgvector 0.8.6 vs our HNSW, n = {n:N0}, dim = {dim}, {nq} queries, M = {m}, efConstruction = {efc}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {report["machine"]}. Best of {rounds} alternated rounds.");
        md.AppendLine(CultureInfo.InvariantCulture, $"Sync: {sync.Written:N0} papers in {sync.Seconds:F1} s = {sync.PapersPerSecond:F0} papers/s (COPY, tsvector, then HNSW + GIN build); no-op re-sync {noopSeconds:F1} s.");
        md.AppendLine(CultureInfo.InvariantCulture, $"Build (2 threads each): ours {buildOurs.Min():F1} s, pgvector {buildPg.Min():F1} s (pgvector/ours {buildPg.Min() / buildOurs.Min():F2}); index size ours {ours.MemoryBytes / 1048576.0:F0} MiB, pgvector {pgIndexBytes / 1048576.0:F0} MiB.");
        md.AppendLine();
        md.AppendLine("| ef | recall@10 ours | recall@10 pgvector | q/s 1 thread ours | q/s 1 connection pgvector | ratio pg/ours | q/s 8 threads ours | q/s 8 connections pgvector | ratio pg/ours |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        md.Append(table);
        File.WriteAllText(Path.Combine(outDir, $"postgres-{n}.md"), md.ToString());
        Console.WriteLine(md.ToString());
        ours.Dispose();
        Directory.Delete(work, recursive: true);
        return 0;
    }

    /// <summary>Top-10 ids of every query through pgvector's HNSW, split over <paramref name="connections"/> connections at once.</summary>
    private static async Task<int[][]> PgSearchAsync(NpgsqlDataSource source, ReadOnlyMemory<float> queries, int dim, int ef, int connections)
    {
        int nq = queries.Length / dim;
        var result = new int[nq][];
        int next = -1;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            await using NpgsqlConnection c = await source.OpenConnectionAsync();
            await Execute(c, $"SET hnsw.ef_search = {ef}");
            await using var command = new NpgsqlCommand("SELECT id FROM papers ORDER BY embedding <=> $1 LIMIT 10", c);
            var parameter = new NpgsqlParameter { Value = new Vector(new float[dim]) };
            command.Parameters.Add(parameter);
            await command.PrepareAsync();
            for (int q = Interlocked.Increment(ref next); q < nq; q = Interlocked.Increment(ref next))
            {
                parameter.Value = new Vector(queries.Slice(q * dim, dim));
                var ids = new List<int>(10);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    ids.Add(int.Parse(reader.GetString(0).AsSpan(1), CultureInfo.InvariantCulture));
                }
                result[q] = [.. ids];
            }
        }));
        return result;
    }

    private static double Recall(int[][] found, Neighbor[][] truth)
    {
        long hits = 0;
        for (int q = 0; q < truth.Length; q++)
        {
            var expected = new HashSet<int>(truth[q].Take(10).Select(t => t.Id));
            hits += found[q].Count(expected.Contains);
        }
        return hits / (10.0 * truth.Length);
    }

    private static async Task Execute(NpgsqlConnection c, string sql)
    {
        await using var command = new NpgsqlCommand(sql, c);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync();
    }

    private static async IAsyncEnumerable<SourcedPaper> Papers(int n, string[] abstracts)
    {
        for (int i = 0; i < n; i++)
        {
            yield return new SourcedPaper(new Paper("p" + i.ToString(CultureInfo.InvariantCulture), "row " + i.ToString(CultureInfo.InvariantCulture),
                abstracts[i % abstracts.Length], Categories: ["math.X" + (i % 30).ToString(CultureInfo.InvariantCulture)]), "bench", i + 1);
        }
        await Task.CompletedTask;
    }

    private static string[] LoadAbstracts()
    {
        string path = Path.Combine(BenchHost.RepoRoot(), "..", "shared", "eval-dev", "arxiv_math_2025", "arxiv_data.csv");
        var parser = new CsvRecordParser();
        var result = new List<string>();
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            if (parser.Feed(line))
            {
                result.Add(parser.TakeFields()[4]);
            }
        }
        return [.. result];
    }

    /// <summary>BENCHMARK DOUBLE, not a model: the "embedding" of paper "row i" is synthetic row i, so the store holds exactly the benchmark's vectors.</summary>
    private sealed class RowEncoder(float[] rows, int dimension) : ISentenceEncoder
    {
        public string Fingerprint => "bench:synthetic-rows:" + dimension.ToString(CultureInfo.InvariantCulture);

        public int Dimension => dimension;

        public Task<EmbeddingBatch> EncodeAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
        {
            var vectors = new float[texts.Count * dimension];
            for (int t = 0; t < texts.Count; t++)
            {
                // The embedded text is "row i.\n<abstract>".
                string text = texts[t];
                int row = int.Parse(text.AsSpan(4, text.IndexOf('.', StringComparison.Ordinal) - 4), CultureInfo.InvariantCulture);
                Array.Copy(rows, (long)row * dimension, vectors, (long)t * dimension, dimension);
            }
            return Task.FromResult(new EmbeddingBatch(dimension, vectors, new bool[texts.Count], new bool[texts.Count]));
        }

        public void Dispose()
        {
        }
    }
}
