using System.CommandLine;
using System.Globalization;

namespace Embeddings.Cli.Commands;

/// <summary><c>embeddings embed &lt;files...&gt; -o &lt;out&gt;</c>: papers in, one vector per paper out.</summary>
internal static class EmbedCommand
{
    internal static Command Create(CliConsole console)
    {
        var files = new InputList("files", "Input files: daily-papers dumps (.txt), JSONL or CSV, optionally .gz.");
        var output = CommonOptions.Output("Output file.");
        var model = new ModelOptionSet();
        var format = new Option<string?>("--format")
        {
            Description = "jsonl (one {\"id\",\"vector\",\"truncated\"} object per line) or bin (docs/formats.md). Default: bin when the output ends in .bin, else jsonl.",
        };
        format.AcceptOnlyFromAmong("jsonl", "bin");
        var skipBad = new Option<bool>("--skip-bad") { Description = "Report bad input records on stderr and go on, instead of stopping at the first." };
        var noWindowing = new Option<bool>("--no-windowing") { Description = "Cut long texts to the model's token limit instead of embedding sentence windows." };
        var json = CommonOptions.Json("Print the summary as one JSON object on stdout (not with -o -).");
        var quiet = CommonOptions.Quiet();

        var command = new Command("embed", "Embed the papers of the input files (title + abstract) with a sentence encoder.")
        {
            output, format, skipBad, noWindowing, json, quiet,
        };
        files.AddTo(command);
        model.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            IReadOnlyList<string> inputs = files.Read(parse, console);
            var target = new OutputTarget(parse.GetValue(output)!);
            if (target.IsStdout && parse.GetValue(json))
            {
                throw new UsageException("--json and -o - would both write to stdout; write the vectors to a file, or drop --json.");
            }
            EmbeddingModelOptions options = model.Apply(parse, new EmbeddingModelOptions { Windowing = parse.GetValue(noWindowing) ? false : null });
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            using EmbeddingModel encoder = await EmbeddingModel.LoadAsync(options, new CliLogger(console), ct).ConfigureAwait(false);
            await using Stream? stdout = target.IsStdout ? console.OpenStandardOutput() : null;
            EmbedSummary s = await encoder.EmbedFilesAsync(inputs, new EmbedOptions
            {
                OutputPath = target.Path,
                OutputStream = stdout,
                Format = parse.GetValue(format) switch { "bin" => EmbeddingFileFormat.Bin, "jsonl" => EmbeddingFileFormat.Jsonl, _ => null },
                SkipBad = parse.GetValue(skipBad),
                OnIssue = issue => console.Report((issue.Kind == PaperIssueKind.Skipped ? "skipped " : "") + issue),
                Progress = progress,
            }, ct).ConfigureAwait(false);

            progress.Dispose();
            if (parse.GetValue(json))
            {
                console.Out.WriteLine(LibraryJson.Embed(s, target.Name));
            }
            console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"embedded {s.Embedded} papers ({s.Truncated} truncated, {s.Empty} empty, {s.Skipped} skipped, {s.RepeatedIds} repeated ids left out) in {s.Seconds:F1} s " +
                $"({s.PapersPerSecond:F1} papers/s) -> {target.Name} [{s.Format.ToString().ToLowerInvariant()}, {s.Dimension}-d, {s.Fingerprint}, {s.Provider}]"));
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }
}
