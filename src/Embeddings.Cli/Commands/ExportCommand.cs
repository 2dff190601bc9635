using System.CommandLine;

namespace Embeddings.Cli.Commands;

/// <summary><c>embeddings export --store DIR --format jsonl|bin|npy -o OUT</c>: the latest vectors of a store for other tools.</summary>
internal static class ExportCommand
{
    internal static Command Create(CliConsole console)
    {
        var store = CommonOptions.Store();
        var format = new Option<string>("--format", "-f")
        {
            Description = "jsonl (one {\"id\",\"title\",\"abstract\",\"authors\"?,\"date\"?,\"categories\"?,\"url\"?,\"vector\"} per line, readable again by embed and ingest), bin (the embed command's binary format, docs/formats.md) or npy (float32 matrix; ids in OUT with extension .ids.txt).",
            Required = true,
        };
        format.AcceptOnlyFromAmong("jsonl", "bin", "npy");
        var output = CommonOptions.Output("Output file (not stdout for npy, whose ids go to a second file).");
        var json = CommonOptions.Json("Print the summary as one JSON object on stdout (not with -o -).");
        var quiet = CommonOptions.Quiet();
        var command = new Command("export", "Write a store's papers and vectors as JSONL, the binary embedding format, or numpy .npy.")
        {
            store, format, output, json, quiet,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            var target = new OutputTarget(parse.GetValue(output)!);
            if (target.IsStdout && parse.GetValue(json))
            {
                throw new UsageException("--json and -o - would both write to stdout; export to a file, or drop --json.");
            }
            ExportFormat exportFormat = Enum.Parse<ExportFormat>(parse.GetValue(format)!, ignoreCase: true);
            await using PaperLibrary library = await PaperLibrary.OpenAsync(new PaperLibraryOptions { StoreDirectory = parse.GetValue(store)! },
                new CliLogger(console), ct).ConfigureAwait(false);
            await using Stream? stdout = target.IsStdout ? console.OpenStandardOutput() : null;
            ExportSummary s = await library.ExportAsync(new ExportRequest { Format = exportFormat, OutputPath = target.Path, OutputStream = stdout }, ct).ConfigureAwait(false);

            if (parse.GetValue(json))
            {
                console.Out.WriteLine(LibraryJson.Export(s, target.Name));
            }
            if (s.IdsPath is { } ids)
            {
                console.Report($"ids in {ids}");
            }
            console.Report($"exported {s.Count} papers ({s.Dimension}-d, {s.Fingerprint}) -> {target.Name}");
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }
}
