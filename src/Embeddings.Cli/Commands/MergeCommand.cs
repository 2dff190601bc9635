using System.CommandLine;
using System.Globalization;
using Embeddings.Store;

namespace Embeddings.Cli.Commands;

/// <summary><c>embeddings merge --store OUT &lt;shard stores...&gt;</c>: combines shard stores of one model into one store.</summary>
internal static class MergeCommand
{
    internal static Command Create()
    {
        var store = new Option<string>("--store", "-s") { Description = "Output store directory (created, or added to when it holds a store of the same model).", Required = true };
        var shards = new Argument<string[]>("shards") { Description = "Shard store directories.", Arity = ArgumentArity.OneOrMore };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress output." };
        var command = new Command("merge", "Combine shard stores (from ingest --shard i/n) into one store; all must use the same model.")
        {
            store, shards, quiet,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(async ct =>
        {
            string output = parse.GetValue(store)!;
            using var progress = new ConsoleProgress(parse.GetValue(quiet));
            IngestSummary s = await PaperStore.MergeAsync(output, parse.GetValue(shards)!, progress, cancellationToken: ct).ConfigureAwait(false);
            progress.Dispose();
            using PaperStore merged = PaperStore.Open(output, new StoreOpenOptions { VerifyVectors = false });
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"merged {s.Read} papers: new {s.New}, changed {s.Changed}, duplicate {s.Duplicate} in {s.Seconds:F1} s; store {output}: {merged.Count} papers"));
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }
}
