using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Embeddings.Encoding;
using Embeddings.Postgres;
using Embeddings.Search;
using Embeddings.Store;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings similar --store DIR (--id ID | --text TEXT | --file F | --queries Q.jsonl)</c>: the papers most
/// similar to a stored paper, a text, or several examples; a table on a terminal, JSON with <c>--json</c>.
/// </summary>
internal static class SimilarCommand
{
    internal static Command Create()
    {
        var store = new Option<string?>("--store", "-s") { Description = "Store folder (made by `embeddings ingest`); or --postgres." };
        var postgres = new Option<string?>("--postgres") { Description = "Answer from a PostgreSQL table made by `embeddings sync` instead of a store (a connection string, as for sync)." };
        var table = SyncCommand.TableOption();
        var shards = SyncCommand.ShardsOption("With --postgres on a sharded table: connections of shards whose credentials differ from the coordinator's.");
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
        var json = new Option<bool>("--json") { Description = "Print {\"hits\": [{\"id\", \"title\", \"score\", \"why\"}]}." };
        var model = ModelOptions.ModelOption();
        var output = new Option<string?>("--output", "-o") { Description = "With --queries: write the answers here instead of stdout." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress output." };

        var command = new Command("similar", "Find the papers most similar to a stored paper, a text, or several examples.")
        {
            store, postgres, table, shards, id, text, file, queries, like, unlike, k, minScore, mode, fusion, filter, exact, ef, json, model, output, quiet,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(async ct =>
        {
            string? queryText = parse.GetValue(text);
            if (parse.GetValue(file) is { } path)
            {
                queryText = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
            }
            string? queriesPath = parse.GetValue(queries);
            var template = new SimilarQuery
            {
                PaperId = parse.GetValue(id),
                Text = queryText,
                Like = parse.GetValue(like) ?? [],
                Unlike = parse.GetValue(unlike) ?? [],
                K = parse.GetValue(k),
                MinScore = parse.GetValue(minScore),
                Mode = Enum.Parse<RankingMode>(parse.GetValue(mode)!, ignoreCase: true),
                Fusion = parse.GetValue(fusion) == "rrf" ? FusionMethod.ReciprocalRank : FusionMethod.WeightedMinMax,
                Filter = PaperFilter.Parse(parse.GetValue(filter) ?? []),
                Exact = parse.GetValue(exact),
                Ef = parse.GetValue(ef),
            };
            if (queriesPath is null && template.PaperId is null && string.IsNullOrWhiteSpace(template.Text) && template.Like.Count == 0)
            {
                Console.Error.WriteLine("embeddings: give one of --id, --text, --file, --queries or --like.");
                return CliRunner.BadInput;
            }

            string? storeDir = parse.GetValue(store);
            string? connection = parse.GetValue(postgres);
            if ((storeDir is null) == (connection is null))
            {
                Console.Error.WriteLine("embeddings: give one of --store DIR or --postgres CONN.");
                return CliRunner.BadInput;
            }
            if (connection is not null)
            {
                await using PostgresPaperSearch database = await PostgresPaperSearch.OpenAsync(new PostgresSearchOptions
                {
                    ConnectionString = connection,
                    Table = parse.GetValue(table)!,
                    Shards = SyncCommand.SplitShards(parse.GetValue(shards)),
                    ModelDirectory = parse.GetValue(model),
                }, ct).ConfigureAwait(false);
                return await AnswerAsync(database.SearchAsync, template, queriesPath, parse.GetValue(output), parse.GetValue(json), ct).ConfigureAwait(false);
            }

            using PaperStore paperStore = PaperStore.Open(storeDir!);
            bool needsEncoder = template.Mode != RankingMode.Lexical && (template.Text is not null || queriesPath is not null);
            using ISentenceEncoder? encoder = needsEncoder ? ModelOptions.LoadEncoder(parse.GetValue(model), new EncoderOptions(), parse.GetValue(store)) : null;
            if (needsEncoder && encoder is null)
            {
                return CliRunner.Failed;
            }
            using var progress = new ConsoleProgress(parse.GetValue(quiet));
            using PaperSearch search = await PaperSearch.OpenAsync(paperStore, encoder, null, progress, ct).ConfigureAwait(false);
            progress.Dispose();

            return await AnswerAsync(search.SearchAsync, template, queriesPath, parse.GetValue(output), parse.GetValue(json), ct).ConfigureAwait(false);
        }, cancellationToken));
        return command;
    }

    /// <summary>One query printed as a table or JSON, or every line of a --queries file; the same for a store and for PostgreSQL.</summary>
    private static async Task<int> AnswerAsync(Func<SimilarQuery, CancellationToken, Task<IReadOnlyList<SimilarHit>>> search, SimilarQuery template,
        string? queriesPath, string? output, bool json, CancellationToken ct)
    {
        if (queriesPath is not null)
        {
            return await AnswerQueriesAsync(search, template, queriesPath, output, ct).ConfigureAwait(false);
        }
        IReadOnlyList<SimilarHit> hits = await search(template, ct).ConfigureAwait(false);
        if (json)
        {
            Console.WriteLine(HitsJson(hits, queryId: null));
        }
        else
        {
            PrintTable(hits);
        }
        return CliRunner.Ok;
    }

    private static async Task<int> AnswerQueriesAsync(Func<SimilarQuery, CancellationToken, Task<IReadOnlyList<SimilarHit>>> search, SimilarQuery template,
        string path, string? output, CancellationToken ct)
    {
        TextWriter writer = output is null ? Console.Out : new StreamWriter(output, append: false, new UTF8Encoding(false));
        try
        {
            long line = 0;
            foreach (string raw in File.ReadLines(path))
            {
                line++;
                if (string.IsNullOrWhiteSpace(raw))
                {
                    continue;
                }
                (string queryId, string queryText) = ParseQueryLine(path, line, raw);
                IReadOnlyList<SimilarHit> hits = await search(template with { PaperId = null, Text = queryText }, ct).ConfigureAwait(false);
                await writer.WriteLineAsync(HitsJson(hits, queryId)).ConfigureAwait(false);
            }
        }
        finally
        {
            if (output is not null)
            {
                await writer.DisposeAsync().ConfigureAwait(false);
            }
        }
        return CliRunner.Ok;
    }

    private static (string Id, string Text) ParseQueryLine(string path, long line, string raw)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(raw);
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InputFormatException(path, line, null, "expected a JSON object {\"id\": ..., \"text\": ...}");
            }
            string id = root.TryGetProperty("id", out JsonElement idElement)
                ? idElement.ValueKind == JsonValueKind.String ? idElement.GetString()! : idElement.GetRawText()
                : throw new InputFormatException(path, line, "id", "missing");
            string text = root.TryGetProperty("text", out JsonElement textElement) && textElement.ValueKind == JsonValueKind.String
                ? textElement.GetString()!
                : throw new InputFormatException(path, line, "text", "missing or not a string");
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new InputFormatException(path, line, "text", "empty");
            }
            return (id, text);
        }
        catch (JsonException e)
        {
            throw new InputFormatException(path, line, null, "not valid JSON: " + e.Message);
        }
    }

    /// <summary>The JSON shape users' scripts read: {"hits": [...]} or, per query, {"query": id, "hits": [...]}.</summary>
    internal static string HitsJson(IReadOnlyList<SimilarHit> hits, string? queryId)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (queryId is not null)
            {
                w.WriteString("query", queryId);
            }
            w.WriteStartArray("hits");
            foreach (SimilarHit hit in hits)
            {
                w.WriteStartObject();
                w.WriteString("id", hit.Id);
                w.WriteString("title", hit.Title);
                w.WriteNumber("score", Math.Round(hit.Score, 6));
                w.WriteStartArray("why");
                foreach (string term in hit.Why)
                {
                    w.WriteStringValue(term);
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void PrintTable(IReadOnlyList<SimilarHit> hits)
    {
        if (hits.Count == 0)
        {
            Console.WriteLine("no similar papers found");
            return;
        }
        int width = Console.IsOutputRedirected ? 100 : Math.Max(60, Console.WindowWidth);
        int titleWidth = Math.Max(20, width - 60);
        Console.WriteLine($"{"#",3}  {"score",7}  {"title".PadRight(titleWidth)}  why");
        for (int i = 0; i < hits.Count; i++)
        {
            SimilarHit hit = hits[i];
            string title = hit.Title.Length > titleWidth ? hit.Title[..(titleWidth - 1)] + "…" : hit.Title;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i + 1,3}  {hit.Score,7:F3}  {title.PadRight(titleWidth)}  {string.Join(", ", hit.Why)}"));
            Console.WriteLine($"{"",14}{hit.Id}");
        }
    }
}
