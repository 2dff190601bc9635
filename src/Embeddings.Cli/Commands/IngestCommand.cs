using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Store;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings ingest --store DIR &lt;files...&gt;</c>: adds the papers of new dumps to a store, embedding only new or
/// changed papers, committing in batches so an interrupted run loses at most one batch and resumes by running again.
/// </summary>
internal static class IngestCommand
{
    internal static Command Create()
    {
        var store = new Option<string>("--store", "-s") { Description = "Store directory (created on first use).", Required = true };
        var files = new Argument<string[]>("files")
        {
            Description = "Input files: daily-papers dumps (.txt), JSONL or CSV, optionally .gz.",
            Arity = ArgumentArity.OneOrMore,
        };
        var model = ModelOptions.ModelOption();
        var batch = new Option<int>("--batch", "-b") { Description = "Papers per encoder call.", DefaultValueFactory = _ => 64 };
        var commitEvery = new Option<int>("--commit-every") { Description = "Embedded papers per commit (a crash loses at most this much work).", DefaultValueFactory = _ => 2048 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Report what would be embedded; write nothing." };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON object on stdout." };
        var skipBad = new Option<bool>("--skip-bad") { Description = "Report bad input records and go on, instead of stopping at the first." };
        var shard = new Option<string?>("--shard") { Description = "Take only share i of n (for example 0/4): papers whose id hashes to i modulo n." };
        var threads = ModelOptions.ThreadsOption();
        var device = ModelOptions.DeviceOption();
        var fallback = ModelOptions.FallbackOption();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress output." };
        var command = new Command("ingest", "Add the papers of dumps to a store; only new or changed papers are embedded.")
        {
            store, files, model, batch, commitEvery, dryRun, json, skipBad, shard, threads, device, fallback, quiet,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(async ct =>
        {
            ShardSpec? shardSpec = null;
            if (parse.GetValue(shard) is { } shardText)
            {
                try
                {
                    shardSpec = ShardSpec.Parse(shardText);
                }
                catch (ArgumentException e)
                {
                    Console.Error.WriteLine("embeddings: --shard: " + e.Message.Split(" (Parameter", 2)[0]);
                    return CliRunner.BadInput;
                }
            }
            if (parse.GetValue(batch) < 1 || parse.GetValue(commitEvery) < 1)
            {
                Console.Error.WriteLine("embeddings: --batch and --commit-every must be at least 1");
                return CliRunner.BadInput;
            }
            foreach (string file in parse.GetValue(files)!)
            {
                if (!File.Exists(file))
                {
                    throw new FileNotFoundException($"input file '{file}' does not exist.", file);
                }
                PaperReader.DetectFormat(file);
            }
            var encoderOptions = new EncoderOptions
            {
                Threads = parse.GetValue(threads),
                Device = ModelOptions.ParseDevice(parse.GetValue(device)!),
                AllowCpuFallback = parse.GetValue(fallback),
            };
            string modelDir = ModelOptions.ResolveModelDirectory(parse.GetValue(model), parse.GetValue(store));
            using ISentenceEncoder? encoder = ModelOptions.LoadEncoder(modelDir, encoderOptions);
            if (encoder is null)
            {
                return CliRunner.Failed;
            }
            return await RunAsync(parse.GetValue(store)!, parse.GetValue(files)!, encoder, parse.GetValue(batch), parse.GetValue(commitEvery),
                parse.GetValue(dryRun), parse.GetValue(json), parse.GetValue(skipBad), shardSpec, parse.GetValue(quiet), ct, modelDir).ConfigureAwait(false);
        }, cancellationToken));
        return command;
    }

    internal static async Task<int> RunAsync(string storeDir, string[] files, ISentenceEncoder encoder, int batch, int commitEvery,
        bool dryRun, bool json, bool skipBad, ShardSpec? shard, bool quiet, CancellationToken cancellationToken, string? modelFolder = null)
    {
        using var progress = new ConsoleProgress(quiet);
        var options = new IngestOptions
        {
            BatchSize = batch,
            CommitEvery = commitEvery,
            DryRun = dryRun,
            SkipBad = skipBad,
            Shard = shard,
            Progress = progress,
            Reader = new PaperReaderOptions
            {
                OnIssue = issue => Console.Error.WriteLine("embeddings: " + (issue.Kind == PaperIssueKind.Skipped ? "skipped " : "") + issue),
            },
        };
        IngestSummary summary;
        int count;
        if (dryRun)
        {
            summary = await PaperStore.DryRunAsync(storeDir, files, encoder, options, cancellationToken).ConfigureAwait(false);
            count = -1;
        }
        else
        {
            using PaperStore store = PaperStore.OpenOrCreate(storeDir, encoder, modelFolder);
            if (store.TookOverStaleLockFrom is { } stale)
            {
                Console.Error.WriteLine($"embeddings: took over the writer lock of {stale}");
            }
            summary = await store.IngestFilesAsync(files, encoder, options, cancellationToken).ConfigureAwait(false);
            count = store.Count;
        }
        progress.Dispose();
        if (json)
        {
            Console.Out.WriteLine(ToJson(summary, storeDir, count));
        }
        else
        {
            Console.Out.WriteLine(Describe(summary, storeDir, count));
        }
        return CliRunner.Ok;
    }

    internal static string Describe(IngestSummary s, string storeDir, int count)
    {
        var text = new System.Text.StringBuilder();
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
        if (count >= 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"\nstore {storeDir}: {count} papers, {s.Commits} commit(s) this run");
        }
        return text.ToString();
    }

    internal static string ToJson(IngestSummary s, string storeDir, int count)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("read", s.Read);
            w.WriteNumber("new", s.New);
            w.WriteNumber("changed", s.Changed);
            w.WriteNumber("duplicate", s.Duplicate);
            w.WriteNumber("skipped", s.Skipped);
            w.WriteNumber("embedded", s.Embedded);
            w.WriteNumber("seconds", Math.Round(s.Seconds, 3));
            w.WriteNumber("papersPerSecond", Math.Round(s.PapersPerSecond, 1));
            w.WriteStartObject("skippedReasons");
            foreach (var (reason, n) in s.SkippedReasons)
            {
                w.WriteNumber(reason, n);
            }
            w.WriteEndObject();
            w.WriteNumber("otherShard", s.OtherShard);
            w.WriteNumber("truncated", s.Truncated);
            w.WriteNumber("capped", s.Capped);
            w.WriteNumber("commits", s.Commits);
            w.WriteBoolean("dryRun", s.DryRun);
            w.WriteString("store", storeDir);
            if (count >= 0)
            {
                w.WriteNumber("count", count);
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
