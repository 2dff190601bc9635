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
        var likeRanking = new Option<string>("--like-ranking")
        {
            Description = "How --like/--unlike rank: classifier (default: a linear SVM trained for the request on the liked papers against the unliked ones and a background of stored papers; the best measured, see QUALITY.md) or rocchio (the liked papers' centre minus half the unliked ones'; a PostgreSQL table always uses it).",
            DefaultValueFactory = _ => "classifier",
        };
        likeRanking.AcceptOnlyFromAmong("classifier", "rocchio");
        var k = new Option<int>("-k", "--k") { Description = "Number of hits.", DefaultValueFactory = _ => 10 };
        var minScore = new Option<float?>("--min-score") { Description = "Drop hits scoring below this (scores mean the same for every query, except with --fusion weighted or rrf)." };
        var mode = new Option<string>("--mode")
        {
            Description = "vector, lexical or hybrid (default: hybrid, the best on the development data; see QUALITY.md).",
            DefaultValueFactory = _ => "hybrid",
        };
        mode.AcceptOnlyFromAmong("vector", "lexical", "hybrid");
        var fusion = new Option<string>("--fusion")
        {
            Description = "Hybrid fusion: fixed (default: scores in [0, 1] that mean the same for every query, so --min-score separates relevant from irrelevant; the best measured, see QUALITY.md), weighted (min-max per query: the best hit always scores near 1) or rrf.",
            DefaultValueFactory = _ => "fixed",
        };
        fusion.AcceptOnlyFromAmong("fixed", "weighted", "rrf");
        var includeDuplicates = new Option<bool>("--include-duplicates")
        {
            Description = "Show copies of the query among the hits (the same text under another id, or the stored paper a pasted text is); hidden and counted by default.",
        };
        var filter = new Option<string[]>("--filter")
        {
            Description = "Restrict hits: date>=YYYY-MM-DD, date<=YYYY-MM-DD, date=YYYY-MM, category=NAME[,NAME], id=ID[,ID]. Repeat to combine.",
        };
        var exact = new Option<bool>("--exact") { Description = "Use the exact index (brute force, the oracle) instead of HNSW." };
        var ef = new Option<int>("--ef") { Description = "HNSW search breadth (default: the index's).", DefaultValueFactory = _ => 0 };
        var json = CommonOptions.Json("Print {\"queryPaper\"?, \"hiddenDuplicates\"?, \"hits\": [{\"id\", \"title\", \"score\", \"lexical\"?, \"vector\"?, ..., \"why\"}]} (docs/formats.md).");
        var model = new ModelOptionSet();
        var output = CommonOptions.OptionalOutput("Write the answers (JSON with --json or --queries, else the table) to this file instead of stdout.");
        var quiet = CommonOptions.Quiet();

        var command = new Command("similar", "Find the papers most similar to a stored paper, a text, or several examples.")
        {
            store, id, text, file, queries, like, unlike, likeRanking, k, minScore, mode, fusion, includeDuplicates, filter, exact, ef, json, output, quiet,
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
                LikeRanking = Enum.Parse<LikeRanking>(parse.GetValue(likeRanking)!, ignoreCase: true),
                K = parse.GetValue(k),
                MinScore = parse.GetValue(minScore),
                Mode = Enum.Parse<RankingMode>(parse.GetValue(mode)!, ignoreCase: true),
                Fusion = parse.GetValue(fusion) switch
                {
                    "rrf" => FusionMethod.ReciprocalRank,
                    "weighted" => FusionMethod.WeightedMinMax,
                    _ => FusionMethod.FixedScale,
                },
                ExcludeDuplicates = !parse.GetValue(includeDuplicates),
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
            string? outputPath = parse.GetValue(output);
            bool terminal = console.OutputIsTerminal && (outputPath is null || outputPath == CommonOptions.Stdout);
            await using CommandOutput writer = CommandOutput.Open(console, outputPath);

            if (queriesPath is not null)
            {
                await foreach (SimilarAnswer answer in library.SimilarForQueriesAsync(queriesPath, query, ct).ConfigureAwait(false))
                {
                    await writer.Text.WriteLineAsync(LibraryJson.Hits(answer.Hits, answer.QueryId)).ConfigureAwait(false);
                }
                writer.Complete();
                return CliRunner.Ok;
            }
            SimilarResult hits = await library.SimilarAsync(query, ct).ConfigureAwait(false);
            await WriteAsync(writer, console, hits, parse.GetValue(json), terminal).ConfigureAwait(false);
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>Writes one answer: JSON, or the table (with what the search found about the query on stderr when piped).</summary>
    private static async Task WriteAsync(CommandOutput writer, CliConsole console, SimilarResult hits, bool json, bool terminal)
    {
        foreach (string warning in hits.Warnings)
        {
            console.Report("warning: " + warning);
        }
        if (json)
        {
            await writer.Text.WriteAsync(LibraryJson.Hits(hits) + "\n").ConfigureAwait(false);
        }
        else
        {
            if (!terminal)
            {
                // Tab-separated lines stay data only; what the search found about the query goes to stderr.
                foreach (string line in QueryLines(hits))
                {
                    console.Report(line);
                }
            }
            await writer.Text.WriteAsync(Table(hits, terminal, console.Width)).ConfigureAwait(false);
        }
        writer.Complete();
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

    private static readonly TableColumn[] Columns =
        [new("#", RightAligned: true), new("score", RightAligned: true), new("id"), new("title", Share: 3), new("why", Share: 1)];

    /// <summary>
    /// The hits as a table: on a terminal, the query paper and the hidden copies on header lines, then labelled
    /// columns fitted to the width with whole titles wrapped between words; elsewhere one tab-separated line per hit
    /// (rank, score, id, title, why). "why" is the shared words, or, where vectors decided (vector mode, --like), the
    /// hit's sentence closest to the query in quotes.
    /// </summary>
    internal static string Table(SimilarResult hits, bool terminal, int width)
    {
        var text = new StringBuilder();
        if (terminal)
        {
            foreach (string line in QueryLines(hits))
            {
                text.Append(TextTable.Wrap(line, width, 2)).Append('\n');
            }
            if (hits.Count == 0)
            {
                return text.Append("no similar papers found\n").ToString();
            }
        }
        var rows = new List<string[]>(hits.Count);
        for (int i = 0; i < hits.Count; i++)
        {
            SimilarHit hit = hits[i];
            rows.Add([(i + 1).ToString(CultureInfo.InvariantCulture), hit.Score.ToString("F3", CultureInfo.InvariantCulture), hit.Id,
                hit.Title, hit.ClosestSentence is { } sentence ? "\u201C" + sentence + "\u201D" : string.Join(", ", hit.Why)]);
        }
        return text.Append(TextTable.Render(Columns, rows, terminal, width)).ToString();
    }

    /// <summary>What the search found about the query: which stored paper it is, and how many of its copies were hidden.</summary>
    internal static IEnumerable<string> QueryLines(SimilarResult hits)
    {
        if (hits.QueryPaper is { } paper)
        {
            yield return $"query: {paper.Id}  {paper.Title}";
        }
        if (hits.HiddenDuplicates > 0)
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{hits.HiddenDuplicates} {(hits.HiddenDuplicates == 1 ? "copy" : "copies")} of the query hidden (--include-duplicates shows them)");
        }
    }
}
