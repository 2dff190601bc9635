using System.Globalization;
using System.Text;
using Embeddings.Evaluation;
using Embeddings.Lexical;
using Embeddings.Tests.Support;
using Npgsql;

namespace Embeddings.Bench;

/// <summary>
/// Lexical ranking in PostgreSQL against our BM25 on SciFact train (809 queries, 5,183 abstracts): nDCG@10 and
/// recall@100 of ts_rank / ts_rank_cd variants over the same tsvector column `embeddings sync` makes (English
/// configuration, title and abstract), each query's lexemes OR-ed as `similar --postgres` does. Chooses the ranking
/// expression of PostgresPaperSearch. Usage: postgres-quality [--scifact DIR].
/// </summary>
internal static class PostgresQualityBench
{
    private static readonly (string Name, string Sql)[] Rankers =
    [
        ("ts_rank", "ts_rank(tsv, q)"),
        ("ts_rank, /(1+log length)", "ts_rank(tsv, q, 1)"),
        ("ts_rank, /length", "ts_rank(tsv, q, 2)"),
        ("ts_rank_cd", "ts_rank_cd(tsv, q)"),
        ("ts_rank_cd, /(1+log length)", "ts_rank_cd(tsv, q, 1)"),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        int i = Array.IndexOf(args, "--scifact");
        string dir = i >= 0 ? args[i + 1] : Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/eval-dev/scifact");
        RetrievalDataset data = EvalDatasets.LoadBeir(Path.GetFullPath(dir), "train");
        string[] queryIds = [.. data.Queries.Keys.Where(data.Judgements.ContainsKey).Order(StringComparer.Ordinal)];
        Console.WriteLine($"SciFact train: {queryIds.Length} queries, {data.Corpus.Count} documents; load average {File.ReadAllText("/proc/loadavg")[..14]}");

        var bm25 = Bm25Index.Create();
        foreach (RetrievalDocument d in data.Corpus)
        {
            bm25.Add(d.Id, d.FullText);
        }
        Report("BM25 (ours, the local lexical side)", queryIds.Select(q => (q, bm25.Search(data.Queries[q], 100).Select(h => h.Id).ToList())), data);

        using PostgresCluster cluster = PostgresCluster.Start(1);
        await using var c = new NpgsqlConnection(cluster.ConnectionString(0, "postgres"));
        await c.OpenAsync();
        await Execute(c, "CREATE TABLE d (id text PRIMARY KEY, tsv tsvector NOT NULL)");
        await using (var insert = new NpgsqlCommand("INSERT INTO d SELECT x.id, to_tsvector('english', x.t) FROM unnest($1::text[], $2::text[]) AS x(id, t)", c))
        {
            insert.Parameters.AddWithValue(data.Corpus.Select(d => d.Id).ToArray());
            insert.Parameters.AddWithValue(data.Corpus.Select(d => d.Title + ".\n" + d.Text).ToArray());
            await insert.ExecuteNonQueryAsync();
        }
        await Execute(c, "CREATE INDEX ON d USING gin (tsv)");
        await Execute(c, "ANALYZE d");
        foreach ((string name, string sql) in Rankers)
        {
            var rankings = new List<(string, List<string>)>();
            await using var command = new NpgsqlCommand(
                $"""
                WITH q AS (SELECT coalesce(string_agg('''' || replace(replace(l, '\', '\\'), '''', '''''') || '''', ' | '), '')::tsquery AS q
                           FROM unnest(tsvector_to_array(to_tsvector('english', $1))) l)
                SELECT id FROM d, q WHERE tsv @@ q ORDER BY {sql} DESC, id LIMIT 100
                """, c);
            var parameter = command.Parameters.AddWithValue("");
            foreach (string q in queryIds)
            {
                parameter.Value = data.Queries[q];
                var ids = new List<string>();
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    ids.Add(reader.GetString(0));
                }
                rankings.Add((q, ids));
            }
            Report($"PostgreSQL {name}", rankings, data);
        }
        return 0;
    }

    private static void Report(string name, IEnumerable<(string Query, List<string> Ranking)> rankings, RetrievalDataset data)
    {
        double ndcg = 0, recall = 0;
        int n = 0;
        foreach ((string q, List<string> ranking) in rankings)
        {
            IReadOnlyDictionary<string, int> j = data.Judgements[q];
            ndcg += RetrievalMetrics.Ndcg(ranking, j, 10);
            recall += ranking.Take(100).Count(id => j.TryGetValue(id, out int g) && g > 0) / (double)j.Values.Count(g => g > 0);
            n++;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {100 * ndcg / n:F1} | {100 * recall / n:F1} |"));
    }

    private static async Task Execute(NpgsqlConnection c, string sql)
    {
        await using var command = new NpgsqlCommand(sql, c);
        await command.ExecuteNonQueryAsync();
    }
}
