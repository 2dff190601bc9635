using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Embeddings.Postgres;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings sync --store DIR --postgres CONN [--table papers] [--shards CONN1,CONN2] [--json]</c>: mirrors the store
/// into a PostgreSQL + pgvector table (only what changed; resumable; deletes what the store no longer has).
/// </summary>
internal static class SyncCommand
{
    internal static Option<string?> PostgresOption(bool required, string? description = null) => new("--postgres")
    {
        Description = description ?? "PostgreSQL connection: Host=H;Port=P;Database=D;Username=U[;Password=W] or postgresql://U:W@H:P/D.",
        Required = required,
    };

    internal static Option<string> TableOption() => new("--table") { Description = "Table name (NAME or SCHEMA.NAME).", DefaultValueFactory = _ => "papers" };

    internal static Option<string?> ShardsOption(string description) => new("--shards") { Description = description };

    internal static IReadOnlyList<string> SplitShards(string? value) =>
        value is null ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal static Command Create(CliConsole console)
    {
        var store = CommonOptions.Store();
        var postgres = PostgresOption(required: true);
        var table = TableOption();
        var shards = ShardsOption("When the table is new: create it hash-partitioned over these PostgreSQL servers (comma-separated connections; postgres_fdw foreign partitions on the --postgres coordinator).");
        var batch = new Option<int>("--batch-size") { Description = "Papers per transaction (a kill loses at most one batch).", DefaultValueFactory = _ => 500 };
        var json = CommonOptions.Json("Print {\"written\", \"deleted\", \"unchanged\", \"seconds\"}.");
        var quiet = CommonOptions.Quiet();
        var command = new Command("sync", "Mirror the store into a PostgreSQL + pgvector table: only changed papers are written, deleted ones removed; resumable.")
        {
            store, postgres, table, shards, batch, json, quiet,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            if (parse.GetValue(batch) < 1)
            {
                throw new UsageException("--batch-size must be at least 1");
            }
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            PostgresSyncSummary summary = await PostgresSync.SyncAsync(parse.GetValue(store)!, new PostgresSyncOptions
            {
                ConnectionString = parse.GetValue(postgres)!,
                Table = parse.GetValue(table)!,
                Shards = SplitShards(parse.GetValue(shards)),
                BatchSize = parse.GetValue(batch),
                Progress = progress,
            }, ct).ConfigureAwait(false);
            progress.Dispose();
            console.Out.WriteLine(parse.GetValue(json)
                ? JsonSerializer.Serialize(new { written = summary.Written, deleted = summary.Deleted, unchanged = summary.Unchanged, seconds = Math.Round(summary.Seconds, 3) })
                : string.Create(CultureInfo.InvariantCulture,
                    $"{summary.Written} written, {summary.Deleted} deleted, {summary.Unchanged} unchanged in {summary.Seconds:F1} s"));
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }
}
