using System.CommandLine;
using System.Globalization;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings digest --store DIR [--dump FILE | --since DATE | --days N] [--dry-run | --no-history] [--format md|html|json] -o OUT</c>:
/// the selected papers under the store's topics as a readable digest; the run is recorded in the topic history.
/// </summary>
internal static class DigestCommand
{
    internal static Command Create(CliConsole console)
    {
        var store = CommonOptions.Store();
        var since = new Option<string?>("--since") { Description = "Only papers dated (or first stored) on or after this date (ISO 8601)." };
        var dump = new Option<string?>("--dump") { Description = "Only the papers new in this dump file (as ingested; papers an earlier dump brought are not new)." };
        var days = new Option<int?>("--days") { Description = "Only papers of the last N days (dated, or first stored when the date has no year)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Compare with the topic history but do not record this digest in it." };
        var noHistory = new Option<bool>("--no-history") { Description = "Neither read nor write the topic history (ids 0..n-1, no new/growing marks)." };
        var format = new Option<string>("--format") { Description = "md, html (self-contained page with a map) or json. Default: from the output's extension, else md." };
        format.AcceptOnlyFromAmong("md", "html", "json");
        var output = CommonOptions.Output("Output file.");
        var topicOptions = new TopicOptionSet();
        var quiet = CommonOptions.Quiet();
        var command = new Command("digest", "Write a topic digest of recent papers: labels, keywords, sizes, top papers, new/growing topics, similar earlier papers, a map.")
        {
            store, since, dump, days, format, output, quiet, dryRun, noHistory,
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
            int selections = (parse.GetValue(since) is null ? 0 : 1) + (parse.GetValue(dump) is null ? 0 : 1) + (parse.GetValue(days) is null ? 0 : 1);
            if (selections > 1)
            {
                throw new UsageException("give one of --dump, --since and --days");
            }
            if (parse.GetValue(dryRun) && parse.GetValue(noHistory))
            {
                throw new UsageException("--dry-run reads the topic history and --no-history ignores it: give one of them");
            }
            if (parse.GetValue(days) is int d && d <= 0)
            {
                throw new UsageException($"--days {d}: give a positive number of days");
            }
            var request = new DigestRequest
            {
                Since = parse.GetValue(since) is { } date ? ParseDate(date)
                    : parse.GetValue(days) is int n ? new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-n) : null,
                Dump = parse.GetValue(dump),
                Topics = topicOptions.Request(parse, progress),
                History = parse.GetValue(noHistory) ? TopicHistoryMode.Ignore : parse.GetValue(dryRun) ? TopicHistoryMode.Compare : TopicHistoryMode.Record,
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
