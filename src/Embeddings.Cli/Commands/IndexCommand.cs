using System.CommandLine;
using System.Globalization;
using Embeddings.Index;
using Embeddings.Search;
using Embeddings.Store;

namespace Embeddings.Cli.Commands;

/// <summary><c>embeddings index build|info --store DIR</c>: the similar-paper indexes kept beside a store.</summary>
internal static class IndexCommand
{
    internal static Command Create()
    {
        var command = new Command("index", "Build or describe the HNSW and BM25 indexes kept in STORE/indexes/.");
        command.Subcommands.Add(CreateBuild());
        command.Subcommands.Add(CreateInfo());
        return command;
    }

    internal static Option<string> StoreOption() => new("--store", "-s") { Description = "Store folder (made by `embeddings ingest`).", Required = true };

    private static Command CreateBuild()
    {
        var store = StoreOption();
        var m = new Option<int>("--m") { Description = "HNSW links per node (M).", DefaultValueFactory = _ => 16 };
        var efConstruction = new Option<int>("--ef-construction") { Description = "HNSW build breadth.", DefaultValueFactory = _ => 200 };
        var threads = new Option<int>("--threads", "-t") { Description = "Build threads (default: all cores).", DefaultValueFactory = _ => 0 };
        var rebuild = new Option<bool>("--rebuild") { Description = "Build from scratch instead of adding the papers the store gained." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress output." };
        var command = new Command("build", "Bring the indexes up to date with the store (only new papers are added) and save them.")
        {
            store, m, efConstruction, threads, rebuild, quiet,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(async ct =>
        {
            using PaperStore paperStore = PaperStore.Open(parse.GetValue(store)!);
            using var progress = new ConsoleProgress(parse.GetValue(quiet));
            var started = System.Diagnostics.Stopwatch.StartNew();
            using SearchIndexes indexes = await SearchIndexes.OpenAsync(paperStore, new SearchIndexOptions
            {
                M = parse.GetValue(m),
                EfConstruction = parse.GetValue(efConstruction),
                Threads = parse.GetValue(threads),
                Rebuild = parse.GetValue(rebuild),
            }, progress, ct).ConfigureAwait(false);
            progress.Dispose();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{indexes.Status} ({indexes.LiveCount} papers, {started.Elapsed.TotalSeconds:F1} s)"));
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    private static Command CreateInfo()
    {
        var store = StoreOption();
        var command = new Command("info", "Describe the persisted indexes: parameters, model fingerprint, coverage, sizes.") { store };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(ct =>
        {
            using PaperStore paperStore = PaperStore.Open(parse.GetValue(store)!);
            string path = SearchIndexes.HnswPath(paperStore.Directory);
            Console.WriteLine($"store:             {paperStore.Directory}");
            Console.WriteLine($"papers:            {paperStore.Count} ({paperStore.RowCount} vector rows)");
            Console.WriteLine($"model fingerprint: {paperStore.ModelFingerprint}");
            if (!File.Exists(path))
            {
                Console.WriteLine("hnsw index:        none (run `embeddings index build --store DIR`)");
                return Task.FromResult(CliRunner.Ok);
            }
            using HnswIndex hnsw = HnswIndex.Load(path, paperStore.ModelFingerprint, paperStore.Dimension);
            Console.WriteLine($"hnsw index:        {path} ({new FileInfo(path).Length / (1024.0 * 1024.0):F1} MiB)");
            Console.WriteLine($"  M / efConstruction / efSearch: {hnsw.M} / {hnsw.EfConstruction} / {hnsw.EfSearch}");
            Console.WriteLine($"  dimension:       {hnsw.Dimension}");
            Console.WriteLine($"  covers rows:     {hnsw.CoveredCount} of {paperStore.RowCount}" +
                (hnsw.CoveredCount < paperStore.RowCount ? " (the next search or index build adds the rest)" : ""));
            Console.WriteLine($"  live / deleted:  {hnsw.Count} / {hnsw.DeletedCount}");
            return Task.FromResult(CliRunner.Ok);
        }, cancellationToken));
        return command;
    }
}
