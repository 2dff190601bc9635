using System.CommandLine;
using System.Globalization;
using System.Text;
using Embeddings.Postgres;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings similar (--store DIR | --postgres CONN) (--id ID | --text TEXT | --file F | --queries Q.jsonl | --like ...)</c>:
/// the papers most similar to a stored paper, a text, or several examples, from a store or from a PostgreSQL table made
/// by <c>sync</c> (the same library calls and output either way); a table on a terminal, JSON with <c>--json</c>.
/// </summary>
internal static class SimilarCommand
{
    internal static Command Create(CliConsole console)
    {
        var store = CommonOptions.OptionalStore("Store folder (made by `embeddings ingest`); or --postgres.");
        var postgres = new PostgresOptionSet(required: false, "Answer from a PostgreSQL table made by `embeddings sync` instead of a store.",
            "With --postgres on a sharded table: connections of shards whose credentials differ from the coordinator's.");
        var id = new Option<string?>("--id") { Description = "Id of a stored paper to find neighbours of." };
        var text = new Option<string?>("--text") { Description = "Free text (title and/or abstract)." };
        var file = new Option<string?>("--file") { Description = "A file whose text is the query." };
        var queries = new Option<string?>("--queries") { Description = "JSONL of {\"id\", \"text\"} queries; writes one {\"query\", \"hits\"} line per query." };
        var like = new Option<string[]>("--like") { Description = "Stored paper ids the hits should resemble.", AllowMultipleArgumentsPerToken = true };
        var unlike = new Option<string[]>("--unlike") { Description = "Stored paper ids the hits should not resemble.", AllowMultipleArgumentsPerToken = true };
        var k = new Option<int>("-k", "--k") { Description = "Number of hits.", DefaultValueFactory = _ => 10 };
        var minScore = new Option<float?>("--min-score") { Description = "Drop hits scoring below this." };
        var mode = new Option<string>("--mode")
        {
            Description = "vector, lexical or hybrid (default: hybrid, the best on the development data; see QUALITY.md).",
            DefaultValueFactory = _ => "hybrid",
        };
        mode.AcceptOnlyFromAmong("vector", "lexical", "hybrid");
        var fusion = new Option<string>("--fusion") { Description = "Hybrid fusion: weighted (default) or rrf.", DefaultValueFactory = _ => "weighted" };
        fusion.AcceptOnlyFromAmong("weighted", "rrf");
        var filter = new Option<string[]>("--filter")
        {
            Description = "Restrict hits: date>=YYYY-MM-DD, date<=YYYY-MM-DD, date=YYYY-MM, category=NAME[,NAME], id=ID[,ID]. Repeat to combine.",
        };
        var exact = new Option<bool>("--exact") { Description = "Use the exact index (brute force, the oracle) instead of HNSW." };
        var ef = new Option<int>("--ef") { Description = "HNSW search breadth (default: the index's).", DefaultValueFactory = _ => 0 };
        var json = CommonOptions.Json("Print {\"hits\": [{\"id\", \"title\", \"score\", \"why\"}]} (docs/formats.md).");
        var model = new ModelOptionSet();
        var output = CommonOptions.OptionalOutput("Write the answers (JSON with --json or --queries, else the table) to this file instead of stdout.");
        var quiet = CommonOptions.Quiet();

        var command = new Command("similar", "Find the papers most similar to a stored paper, a text, or several examples.")
        {
            store, id, text, file, queries, like, unlike, k, minScore, mode, fusion, filter, exact, ef, json, output, quiet,
        };
        model.AddTo(command);
        postgres.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            string? queryText = parse.GetValue(text);
            if (parse.GetValue(file) is { } path)
            {
                queryText = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
            }
            string? queriesPath = parse.GetValue(queries);
            var query = new SimilarQuery
            {
                PaperId = parse.GetValue(id),
                Text = queryText,
                Like = parse.GetValue(like) ?? [],
                Unlike = parse.GetValue(unlike) ?? [],
                K = parse.GetValue(k),
                MinScore = parse.GetValue(minScore),
                Mode = Enum.Parse<RankingMode>(parse.GetValue(mode)!, ignoreCase: true),
                Fusion = parse.GetValue(fusion) == "rrf" ? FusionMethod.ReciprocalRank : FusionMethod.WeightedMinMax,
                Filter = ParseFilter(parse.GetValue(filter) ?? []),
                Exact = parse.GetValue(exact),
                Ef = parse.GetValue(ef),
            };
            if (queriesPath is null && query.PaperId is null && string.IsNullOrWhiteSpace(query.Text) && query.Like.Count == 0)
            {
                throw new UsageException("give one of --id, --text, --file, --queries or --like.");
            }
            string? storeDir = parse.GetValue(store);
            PostgresLibraryOptions? database = postgres.LibraryOptions(parse);
            if ((storeDir is null) == (database is null))
            {
                throw new UsageException("give one of --store DIR or --postgres CONN.");
            }
            PaperLibraryOptions options = model.Apply(parse, new PaperLibraryOptions { StoreDirectory = storeDir ?? "" });
            if (database is not null)
            {
                options.UsePostgres(database);
            }
            await using PaperLibrary library = await PaperLibrary.OpenAsync(options, new CliLogger(console), ct).ConfigureAwait(false);
            await using CommandOutput writer = CommandOutput.Open(console, parse.GetValue(output));

            if (queriesPath is not null)
            {
                await foreach (SimilarAnswer answer in library.SimilarForQueriesAsync(queriesPath, query, ct).ConfigureAwait(false))
                {
                    await writer.Text.WriteLineAsync(LibraryJson.Hits(answer.Hits, answer.QueryId)).ConfigureAwait(false);
                }
                writer.Complete();
                return CliRunner.Ok;
            }
            IReadOnlyList<SimilarHit> hits = await library.SimilarAsync(query, ct).ConfigureAwait(false);
            await writer.Text.WriteAsync(parse.GetValue(json) ? LibraryJson.Hits(hits) + "\n" : Table(hits, console.Width)).ConfigureAwait(false);
            writer.Complete();
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    internal static PaperFilter? ParseFilter(string[] expressions)
    {
        try
        {
            return PaperFilter.Parse(expressions);
        }
        catch (ArgumentException e)
        {
            throw new UsageException("--filter: " + e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    private static string Table(IReadOnlyList<SimilarHit> hits, int width)
    {
        if (hits.Count == 0)
        {
            return "no similar papers found\n";
        }
        var text = new StringBuilder();
        int titleWidth = Math.Max(20, width - 60);
        text.Append(CultureInfo.InvariantCulture, $"{"#",3}  {"score",7}  {"title".PadRight(titleWidth)}  why\n");
        for (int i = 0; i < hits.Count; i++)
        {
            SimilarHit hit = hits[i];
            string title = hit.Title.Length > titleWidth ? hit.Title[..(titleWidth - 1)] + "…" : hit.Title;
            text.Append(CultureInfo.InvariantCulture, $"{i + 1,3}  {hit.Score,7:F3}  {title.PadRight(titleWidth)}  {string.Join(", ", hit.Why)}\n");
            text.Append(CultureInfo.InvariantCulture, $"{"",14}{hit.Id}\n");
        }
        return text.ToString();
    }
}
