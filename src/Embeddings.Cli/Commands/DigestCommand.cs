using System.CommandLine;
using System.Globalization;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings digest --store DIR [--since DATE | --dump FILE] [--topics N] [--format md|html|json] -o OUT</c>:
/// the topics of the selected papers as a readable digest.
/// </summary>
internal static class DigestCommand
{
    internal static Command Create(CliConsole console)
    {
        var store = CommonOptions.Store();
        var since = new Option<string?>("--since") { Description = "Only papers dated (or first stored) on or after this date (ISO 8601)." };
        var dump = new Option<string?>("--dump") { Description = "Only papers read from this dump file (as ingested)." };
        var format = new Option<string>("--format") { Description = "md, html (self-contained page with a map) or json. Default: from the output's extension, else md." };
        format.AcceptOnlyFromAmong("md", "html", "json");
        var output = CommonOptions.Output("Output file.");
        var topicOptions = new TopicOptionSet();
        var quiet = CommonOptions.Quiet();
        var command = new Command("digest", "Write a topic digest of recent papers: labels, keywords, sizes, top papers, new/growing topics, similar earlier papers, a map.")
        {
            store, since, dump, format, output, quiet,
        };
        topicOptions.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            var target = new OutputTarget(parse.GetValue(output)!);
            DigestFormat digestFormat = parse.GetValue(format) switch
            {
                "md" => DigestFormat.Markdown,
                "html" => DigestFormat.Html,
                "json" => DigestFormat.Json,
                _ => Path.GetExtension(target.Value).ToLowerInvariant() switch { ".html" or ".htm" => DigestFormat.Html, ".json" => DigestFormat.Json, _ => DigestFormat.Markdown },
            };
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            var request = new DigestRequest
            {
                Since = parse.GetValue(since) is { } date ? ParseDate(date) : null,
                Dump = parse.GetValue(dump),
                Topics = topicOptions.Request(parse, progress),
            };
            await using PaperLibrary library = await PaperLibrary.OpenAsync(new PaperLibraryOptions { StoreDirectory = parse.GetValue(store)! },
                new CliLogger(console), ct).ConfigureAwait(false);
            Digest digest = await library.DigestAsync(request, ct).ConfigureAwait(false);

            progress.Dispose();
            if (digest.PaperCount == 0)
            {
                console.Report($"no papers match ({digest.Selection}); the store holds {digest.StorePaperCount}");
            }
            await using (CommandOutput writer = CommandOutput.Open(console, target.Value))
            {
                await writer.Text.WriteAsync(digest.Render(digestFormat)).ConfigureAwait(false);
                writer.Complete();
            }
            console.Report($"{digest.PaperCount} papers, {digest.Topics.Count} topics, {digest.Outliers.Count} outliers -> {target.Name}");
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    private static DateTimeOffset ParseDate(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date)
            ? date
            : throw new UsageException($"--since '{text}' is not a date; use ISO 8601, e.g. 2024-03-01");
}
