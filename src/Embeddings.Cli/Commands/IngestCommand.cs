using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings ingest --store DIR &lt;files...&gt;</c>: adds the papers of new dumps to a store, embedding only new or
/// changed papers, committing in batches so an interrupted run loses at most one batch and resumes by running again.
/// </summary>
internal static class IngestCommand
{
    internal static Command Create(CliConsole console)
    {
        var store = CommonOptions.Store("Store folder (created on first use).");
        var files = new InputList("files", "Input files: daily-papers dumps (.txt), JSONL or CSV, optionally .gz.");
        var model = new ModelOptionSet();
        var batch = new Option<int>("--batch", "-b") { Description = "Papers per encoder call.", DefaultValueFactory = _ => new IngestOptions().BatchSize };
        var commitEvery = new Option<int>("--commit-every") { Description = "Embedded papers per commit (a crash loses at most this much work).", DefaultValueFactory = _ => new IngestOptions().CommitEvery };
        var dryRun = new Option<bool>("--dry-run") { Description = "Report what would be embedded; write nothing." };
        var json = CommonOptions.Json("Print the summary as one JSON object on stdout (docs/formats.md).");
        var skipBad = new Option<bool>("--skip-bad") { Description = "Report bad input records and go on, instead of stopping at the first." };
        var shard = new Option<string?>("--shard") { Description = "Take only share i of n (for example 0/4): papers whose id hashes to i modulo n." };
        var quiet = CommonOptions.Quiet();
        var command = new Command("ingest", "Add the papers of dumps to a store; only new or changed papers are embedded.")
        {
            store, batch, commitEvery, dryRun, json, skipBad, shard, quiet,
        };
        files.AddTo(command);
        model.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            IReadOnlyList<string> inputs = files.Read(parse, console);
            ShardSpec? shardSpec = parse.GetValue(shard) is { } text ? ParseShard(text) : null;
            PaperLibraryOptions options = model.Apply(parse, new PaperLibraryOptions { StoreDirectory = parse.GetValue(store)! });
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            var ingest = new IngestOptions
            {
                BatchSize = parse.GetValue(batch),
                CommitEvery = parse.GetValue(commitEvery),
                DryRun = parse.GetValue(dryRun),
                SkipBad = parse.GetValue(skipBad),
                Shard = shardSpec,
                Progress = progress,
                OnIssue = issue => console.Report((issue.Kind == PaperIssueKind.Skipped ? "skipped " : "") + issue),
            };

            await using PaperLibrary library = await PaperLibrary.OpenAsync(options, new CliLogger(console), ct).ConfigureAwait(false);
            IngestSummary summary = await library.IngestAsync(inputs, ingest, ct).ConfigureAwait(false);

            progress.Dispose();
            console.Out.WriteLine(parse.GetValue(json) ? LibraryJson.Ingest(summary, parse.GetValue(store)!) : Describe(summary, parse.GetValue(store)!));
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    private static ShardSpec ParseShard(string text)
    {
        try
        {
            return ShardSpec.Parse(text);
        }
        catch (ArgumentException e)
        {
            throw new UsageException("--shard: " + e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    private static string Describe(IngestSummary s, string storeDir)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{(s.DryRun ? "dry run: " : "")}read {s.Read}, new {s.New}, changed {s.Changed}, duplicate {s.Duplicate}, skipped {s.Skipped}, " +
            $"embedded {s.Embedded}{(s.DryRun ? $" (would embed {s.New + s.Changed})" : "")} in {s.Seconds:F1} s ({s.PapersPerSecond:F1} papers/s)");
        if (s.OtherShard > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {s.OtherShard} left to other shards");
        }
        if (s.Truncated > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {s.Truncated} truncated by the model's token limit");
        }
        if (s.Capped > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $", {s.Capped} over-long fields capped");
        }
        foreach (var (reason, n) in s.SkippedReasons.OrderByDescending(kv => kv.Value))
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  skipped {n}: {reason}");
        }
        if (s.StorePapers is int count)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nstore {storeDir}: {count} papers, {s.Commits} commit(s) this run");
        }
        return text.ToString();
    }
}
