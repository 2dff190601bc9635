using Embeddings.Tests.Support;
using Npgsql;

namespace Embeddings.Tests.Postgres;

/// <summary>
/// Two PostgreSQL servers (<see cref="PostgresCluster"/>) started once per test run for the whole "postgres"
/// collection: server 0 holds single-node tables, coordinators and shard 0, server 1 holds shard 1. Each test makes
/// its own databases. Where PostgreSQL or pgvector is missing the tests are skipped with the reason.
/// </summary>
public sealed class PostgresServers : IAsyncLifetime
{
    private PostgresCluster? _cluster;
    private int _databases;

    public async Task InitializeAsync()
    {
        if (PostgresCluster.UnavailableReason is not null)
        {
            return;
        }
        _cluster = PostgresCluster.Start(2);
        for (int s = 0; s < 2; s++)
        {
            await using var connection = new NpgsqlConnection(ConnectionString(s, "postgres"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    public Task DisposeAsync()
    {
        _cluster?.Dispose();
        return Task.CompletedTask;
    }

    public string ConnectionString(int server, string database) => _cluster!.ConnectionString(server, database);

    /// <summary>A new empty database on <paramref name="server"/>; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(int server, string prefix)
    {
        string name = $"{prefix}_{Interlocked.Increment(ref _databases)}";
        await using var connection = new NpgsqlConnection(ConnectionString(server, "postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(server, name);
    }

    /// <summary>Rows returned by FETCH statements on <paramref name="server"/> since the last reset: what postgres_fdw cursors streamed.</summary>
    public async Task<long> FetchedRowsAsync(int server)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(server, "postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT coalesce(sum(rows), 0)::bigint FROM pg_stat_statements WHERE query LIKE 'FETCH %'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task ResetStatementStatisticsAsync()
    {
        for (int s = 0; s < 2; s++)
        {
            await using var connection = new NpgsqlConnection(ConnectionString(s, "postgres"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT pg_stat_statements_reset()", connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}

/// <summary>The tests that need <see cref="PostgresServers"/>: one collection, so the servers start once and tests run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServers>
{
    public const string Name = "postgres";
}

/// <summary>A fact that is skipped, saying why, where PostgreSQL with pgvector cannot run.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresCluster.UnavailableReason is { } reason)
        {
            Skip = $"PostgreSQL tests skipped: {reason}; scripts/setup-postgres.sh installs PostgreSQL 15 and pgvector.";
        }
    }
}
