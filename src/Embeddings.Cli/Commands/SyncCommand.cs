using System.CommandLine;
using System.Globalization;
using Embeddings.Postgres;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings sync --store DIR --postgres CONN [--table papers] [--shards CONN1,CONN2] [--json]</c>: mirrors the store
/// into a PostgreSQL + pgvector table (only what changed; resumable; deletes what the store no longer has).
/// </summary>
internal static class SyncCommand
{
    internal static Command Create(CliConsole console)
    {
        var store = CommonOptions.Store();
        var postgres = new PostgresOptionSet(required: true, "The PostgreSQL server to sync into (the coordinator of a sharded table).",
            "When the table is new: create it hash-partitioned over these PostgreSQL servers (comma-separated connections; postgres_fdw foreign partitions on the --postgres coordinator).");
        var batch = new Option<int>("--batch-size") { Description = "Papers per transaction (a kill loses at most one batch).", DefaultValueFactory = _ => 500 };
        var json = CommonOptions.Json("Print {\"written\", \"deleted\", \"unchanged\", \"seconds\"} (docs/formats.md).");
        var quiet = CommonOptions.Quiet();
        var command = new Command("sync", "Mirror the store into a PostgreSQL + pgvector table: only changed papers are written, deleted ones removed; resumable.")
        {
            store, batch, json, quiet,
        };
        postgres.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            if (parse.GetValue(batch) < 1)
            {
                throw new UsageException("--batch-size must be at least 1");
            }
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            await using PaperLibrary library = await PaperLibrary.OpenAsync(new PaperLibraryOptions { StoreDirectory = parse.GetValue(store)!, ReadOnly = true },
                new CliLogger(console), ct).ConfigureAwait(false);
            SyncSummary summary = await library.SyncToPostgresAsync(new PostgresSyncOptions
            {
                ConnectionString = parse.GetValue(postgres.Connection)!,
                Table = parse.GetValue(postgres.Table)!,
                Shards = postgres.ShardsOf(parse),
                BatchSize = parse.GetValue(batch),
                Progress = progress,
            }, ct).ConfigureAwait(false);

            progress.Dispose();
            console.Out.WriteLine(parse.GetValue(json) ? LibraryJson.Sync(summary)
                : string.Create(CultureInfo.InvariantCulture, $"{summary.Written} written, {summary.Deleted} deleted, {summary.Unchanged} unchanged in {summary.Seconds:F1} s"));
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }
}
