using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Embeddings.Cli.Commands;

/// <summary><c>embeddings index build|info --store DIR</c>: the similar-paper indexes kept beside a store.</summary>
internal static class IndexCommand
{
    internal static Command Create(CliConsole console)
    {
        var command = new Command("index", "Build or describe the HNSW and BM25 indexes kept in STORE/indexes/.");
        command.Subcommands.Add(CreateBuild(console));
        command.Subcommands.Add(CreateInfo(console));
        return command;
    }

    private static Command CreateBuild(CliConsole console)
    {
        var store = CommonOptions.Store();
        var m = new Option<int>("--m") { Description = "HNSW links per node (M).", DefaultValueFactory = _ => 16 };
        var efConstruction = new Option<int>("--ef-construction") { Description = "HNSW build breadth.", DefaultValueFactory = _ => 200 };
        var storage = new Option<string?>("--storage")
        {
            Description = "How the HNSW graph holds vectors: int8 (one byte per dimension, exact re-scoring against the store's rows) or float32. "
                + "Default: int8 for a new index; an existing index keeps its own. Changing it rebuilds the index.",
        };
        storage.AcceptOnlyFromAmong("int8", "float32");
        var threads = CommonOptions.Threads("Build threads (default: all cores).");
        var rebuild = new Option<bool>("--rebuild") { Description = "Build from scratch instead of adding the papers the store gained." };
        var json = CommonOptions.Json("Print {\"status\", \"papers\", \"seconds\"} on stdout.");
        var quiet = CommonOptions.Quiet();
        var command = new Command("build", "Bring the indexes up to date with the store (only new papers are added) and save them.")
        {
            store, m, efConstruction, storage, threads, rebuild, json, quiet,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            var options = new PaperLibraryOptions
            {
                StoreDirectory = parse.GetValue(store)!,
                HnswM = parse.GetValue(m),
                HnswEfConstruction = parse.GetValue(efConstruction),
                HnswStorage = parse.GetValue(storage) is { } name ? Enum.Parse<HnswStorage>(name, ignoreCase: true) : null,
                IndexThreads = parse.GetValue(threads),
            };
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            await using PaperLibrary library = await PaperLibrary.OpenAsync(options, new CliLogger(console), ct).ConfigureAwait(false);
            IndexSummary s = await library.BuildIndexesAsync(new IndexBuildOptions { Rebuild = parse.GetValue(rebuild), Progress = progress }, ct).ConfigureAwait(false);

            progress.Dispose();
            console.Out.WriteLine(parse.GetValue(json) ? LibraryJson.Index(s)
                : string.Create(CultureInfo.InvariantCulture, $"{s.Status} ({s.Papers} papers, {s.Seconds:F1} s)"));
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command CreateInfo(CliConsole console)
    {
        var store = CommonOptions.Store();
        var json = CommonOptions.Json("Print the store and index state as one JSON object (docs/formats.md).");
        var command = new Command("info", "Describe the persisted indexes: parameters, model fingerprint, coverage, sizes.") { store, json };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            await using PaperLibrary library = await PaperLibrary.OpenAsync(new PaperLibraryOptions { StoreDirectory = parse.GetValue(store)!, ReadOnly = true },
                new CliLogger(console), ct).ConfigureAwait(false);
            LibraryStatus status = await library.GetStatusAsync(ct).ConfigureAwait(false);
            if (!status.StoreExists)
            {
                throw new DataFormatException(status.StoreDirectory, "no store here: create one with `embeddings ingest --store DIR <files>`");
            }

            console.Out.Write(parse.GetValue(json) ? LibraryJson.Status(status) + "\n" : Describe(status));
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    private static string Describe(LibraryStatus s)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"store:             {s.StoreDirectory}\n");
        text.Append(inv, $"papers:            {s.Papers} ({s.VectorRows} vector rows)\n");
        text.Append(inv, $"model fingerprint: {s.ModelFingerprint}\n");
        if (s.Hnsw is not { } h)
        {
            text.Append("hnsw index:        none (run `embeddings index build --store DIR`)\n");
            return text.ToString();
        }
        text.Append(inv, $"hnsw index:        {h.Path} ({h.Bytes / (1024.0 * 1024.0):F1} MiB)\n");
        text.Append(inv, $"  M / efConstruction / efSearch: {h.M} / {h.EfConstruction} / {h.EfSearch}\n");
        text.Append(inv, $"  dimension:       {h.Dimension}\n");
        text.Append(inv, $"  storage:         {(h.Storage == HnswStorage.Int8 ? "int8 (exact re-scoring against the store's rows)" : "float32")}\n");
        text.Append(inv, $"  covers rows:     {h.CoveredRows} of {s.VectorRows}");
        text.Append(h.CoveredRows < s.VectorRows ? " (the next search or index build adds the rest)\n" : "\n");
        text.Append(inv, $"  live / deleted:  {h.Live} / {h.Deleted}\n");
        return text.ToString();
    }
}
