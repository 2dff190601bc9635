using System.CommandLine;
using System.Globalization;

namespace Embeddings.Cli.Commands;

/// <summary><c>embeddings merge --store OUT &lt;shard stores...&gt;</c>: combines shard stores of one model into one store.</summary>
internal static class MergeCommand
{
    internal static Command Create(CliConsole console)
    {
        var store = CommonOptions.Store("Output store folder (created, or added to when it holds a store of the same model).");
        var shards = new InputList("shards", "Shard store folders.");
        var json = CommonOptions.Json("Print the summary as one JSON object on stdout (the ingest summary's shape, docs/formats.md).");
        var quiet = CommonOptions.Quiet();
        var command = new Command("merge", "Combine shard stores (from ingest --shard i/n) into one store; all must use the same model.")
        {
            store, json, quiet,
        };
        shards.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            string output = parse.GetValue(store)!;
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            IngestSummary s = await PaperLibrary.MergeAsync(output, shards.Read(parse, console), progress, ct).ConfigureAwait(false);

            progress.Dispose();
            console.Out.WriteLine(parse.GetValue(json) ? LibraryJson.Ingest(s, output) : string.Create(CultureInfo.InvariantCulture,
                $"merged {s.Read} papers: new {s.New}, changed {s.Changed}, duplicate {s.Duplicate} in {s.Seconds:F1} s; store {output}: {s.StorePapers} papers"));
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }
}
