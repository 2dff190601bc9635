using System.Globalization;
using Npgsql;

namespace Embeddings.Postgres;

/// <summary>What <c>embeddings_tables</c> records about a synced table.</summary>
/// <param name="FormatVersion">Schema version of the table (<see cref="PostgresTable.FormatVersion"/>).</param>
/// <param name="ModelFingerprint">Fingerprint of the model every vector of the table came from.</param>
/// <param name="Dimension">Vector length.</param>
/// <param name="TextSearchConfig">PostgreSQL text search configuration of the <c>tsv</c> column.</param>
/// <param name="ShardCount">0 for a plain table; otherwise the number of hash partitions (foreign tables on the shards).</param>
/// <param name="LastSync">End of the last complete sync, or null.</param>
/// <param name="Papers">Rows after the last complete sync.</param>
internal sealed record PostgresTableInfo(int FormatVersion, string ModelFingerprint, int Dimension, string TextSearchConfig, int ShardCount,
    DateTimeOffset? LastSync, long Papers);

/// <summary>One place a share of the table's rows lives: the table itself on a single node, or one shard.</summary>
internal sealed class TableEndpoint(NpgsqlConnectionStringBuilder server, NpgsqlDataSource source, TableName table, bool ownsSource) : IAsyncDisposable
{
    public NpgsqlConnectionStringBuilder Server { get; } = server;

    public NpgsqlDataSource Source { get; } = source;

    public TableName Table { get; } = table;

    public string Describe => $"{PostgresConnection.Describe(Server)} {Table.Display}";

    public Task<T> Guard<T>(Func<Task<T>> body) => PostgresConnection.Guard(Server, body);

    public ValueTask DisposeAsync() => ownsSource ? Source.DisposeAsync() : ValueTask.CompletedTask;
}

/// <summary>
/// A papers table in PostgreSQL: its schema (created here), its entry in the <c>embeddings_tables</c> catalog (model
/// fingerprint, dimension, layout), and where its rows live. A plain table is one endpoint; a sharded table is a
/// hash-partitioned parent on the coordinator whose partitions are postgres_fdw foreign tables, one per shard, and
/// each shard is an endpoint the library reads directly (writes go through the coordinator, which routes them).
/// </summary>
internal sealed class PostgresTable : IAsyncDisposable
{
    /// <summary>
    /// Version of the table layout this build writes. 2 added what a library shows of a stored paper (its dumps, when
    /// first seen, revision, flags) and the record hash sync compares; a version 1 table is searchable and is upgraded
    /// in place by the next sync (<see cref="UpgradeAsync"/>).
    /// </summary>
    public const int FormatVersion = 2;

    /// <summary>The columns version 2 added, with the values a version 1 row gets until it is rewritten.</summary>
    private const string Version2Columns = """
        ADD COLUMN IF NOT EXISTS sources text[] NOT NULL DEFAULT '{}',
        ADD COLUMN IF NOT EXISTS first_seen timestamptz,
        ADD COLUMN IF NOT EXISTS revision integer NOT NULL DEFAULT 1,
        ADD COLUMN IF NOT EXISTS truncated boolean NOT NULL DEFAULT false,
        ADD COLUMN IF NOT EXISTS empty boolean NOT NULL DEFAULT false,
        ADD COLUMN IF NOT EXISTS record_hash bytea
        """;

    /// <summary>Name of the catalog table, beside the papers tables on the coordinator.</summary>
    public const string CatalogTable = "embeddings_tables";

    /// <summary>Text search configuration of the lexical column (English stemming and stop words).</summary>
    public const string TextSearchConfig = "english";

    private readonly List<TableEndpoint> _endpoints = [];

    private PostgresTable(NpgsqlConnectionStringBuilder server, NpgsqlDataSource coordinator, TableName table)
    {
        Server = server;
        Coordinator = coordinator;
        Table = table;
    }

    public NpgsqlConnectionStringBuilder Server { get; }

    /// <summary>The coordinator (the only server of a plain table).</summary>
    public NpgsqlDataSource Coordinator { get; }

    public TableName Table { get; }

    /// <summary>The catalog entry, or null while the table is not made.</summary>
    public PostgresTableInfo? Info { get; private set; }

    /// <summary>Where the rows live (after <see cref="ResolveEndpointsAsync"/>).</summary>
    public IReadOnlyList<TableEndpoint> Endpoints => _endpoints;

    public string Describe => $"table '{Table.Display}' on {PostgresConnection.Describe(Server)}";

    public static async Task<PostgresTable> ConnectAsync(string connection, string table, CancellationToken cancellationToken)
    {
        TableName name;
        try
        {
            name = TableName.Parse(table);
        }
        catch (ArgumentException e)
        {
            throw new PostgresBackendException(e.Message);
        }
        NpgsqlConnectionStringBuilder server = PostgresConnection.Parse(connection);
        NpgsqlDataSource coordinator = PostgresConnection.Open(server);
        var result = new PostgresTable(server, coordinator, name);
        try
        {
            await result.ReadInfoAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task<T> Guard<T>(Func<Task<T>> body) => PostgresConnection.Guard(Server, body);

    public Task Guard(Func<Task> body) => PostgresConnection.Guard(Server, body);

    /// <summary>Reads the catalog entry (null when the catalog or the entry does not exist).</summary>
    public Task ReadInfoAsync(CancellationToken cancellationToken) => Guard(async () =>
    {
        await using NpgsqlConnection connection = await Coordinator.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var exists = new NpgsqlCommand("SELECT to_regclass('public.embeddings_tables') IS NOT NULL", connection);
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
        {
            Info = null;
            return;
        }
        await using var command = new NpgsqlCommand(
            "SELECT format_version, model_fingerprint, dimension, text_search_config::text, shard_count, last_sync, papers " +
            "FROM public.embeddings_tables WHERE table_name = $1", connection);
        command.Parameters.AddWithValue(Table.Display);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        Info = await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new PostgresTableInfo(reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), reader.GetInt64(6))
            : null;
        if (Info is { FormatVersion: > FormatVersion })
        {
            throw new PostgresBackendException(
                $"{Describe} has layout version {Info.FormatVersion}, newer than this program understands ({FormatVersion}); upgrade embeddings.");
        }
    });

    /// <summary>
    /// Finds where the rows live: the table itself, or each partition's shard (host, port and database from its
    /// foreign server; user and password from the coordinator connection unless <paramref name="shardConnections"/>
    /// names that shard explicitly).
    /// </summary>
    public Task ResolveEndpointsAsync(IReadOnlyList<string>? shardConnections, CancellationToken cancellationToken) => Guard(async () =>
    {
        await DisposeEndpointsAsync().ConfigureAwait(false);
        if (Info is null || Info.ShardCount == 0)
        {
            _endpoints.Add(new TableEndpoint(Server, Coordinator, Table, ownsSource: false));
            return;
        }
        List<NpgsqlConnectionStringBuilder> explicitShards = [.. (shardConnections ?? []).Select(PostgresConnection.Parse)];
        await using NpgsqlConnection connection = await Coordinator.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            """
            SELECT c.relname, s.srvoptions, ft.ftoptions
            FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            LEFT JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
            LEFT JOIN pg_foreign_server s ON s.oid = ft.ftserver
            WHERE i.inhparent = $1::regclass
            ORDER BY c.relname
            """, connection);
        command.Parameters.AddWithValue(Table.Sql);
        var partitions = new List<(string Name, string[]? Server, string[]? Table)>();
        await using (NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                partitions.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<string[]>(1),
                    reader.IsDBNull(2) ? null : reader.GetFieldValue<string[]>(2)));
            }
        }
        if (partitions.Count != Info.ShardCount)
        {
            throw new PostgresBackendException(
                $"{Describe} is recorded with {Info.ShardCount} shards but has {partitions.Count} partitions; fix the partitions or re-create the table with `embeddings sync --shards`.");
        }
        foreach ((string partition, string[]? serverOptions, string[]? tableOptions) in partitions)
        {
            if (serverOptions is null)
            {
                // A local partition lives on the coordinator itself.
                _endpoints.Add(new TableEndpoint(Server, Coordinator, TableName.Remote(Table.Schema, partition), ownsSource: false));
                continue;
            }
            Dictionary<string, string> so = Options(serverOptions);
            Dictionary<string, string> to = Options(tableOptions ?? []);
            var shard = new NpgsqlConnectionStringBuilder(Server.ConnectionString)
            {
                Host = so.GetValueOrDefault("host", "localhost"),
                Port = int.Parse(so.GetValueOrDefault("port", "5432"), CultureInfo.InvariantCulture),
                Database = so.GetValueOrDefault("dbname", Server.Database ?? ""),
            };
            NpgsqlConnectionStringBuilder? given = explicitShards.FirstOrDefault(b =>
                string.Equals(b.Host, shard.Host, StringComparison.OrdinalIgnoreCase) && b.Port == shard.Port && b.Database == shard.Database);
            NpgsqlConnectionStringBuilder use = given ?? shard;
            _endpoints.Add(new TableEndpoint(use, PostgresConnection.Open(use),
                TableName.Remote(to.GetValueOrDefault("schema_name", Table.Schema), to.GetValueOrDefault("table_name", Table.Name)), ownsSource: true));
        }
    });

    private static Dictionary<string, string> Options(string[] options)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string option in options)
        {
            int eq = option.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                result[option[..eq]] = option[(eq + 1)..];
            }
        }
        return result;
    }

    // ------------------------------------------------------------------ schema

    /// <summary>The papers table of one server (a plain table or a shard's share).</summary>
    public static string PapersTableSql(TableName table, int dimension) =>
        $"CREATE TABLE {table.Sql} (id text PRIMARY KEY, {OtherColumns(dimension)})";

    /// <summary>The coordinator's parent of a sharded table: the same columns, hash-partitioned by id, no local rows.</summary>
    private static string ParentTableSql(TableName table, int dimension) =>
        $"CREATE TABLE {table.Sql} (id text NOT NULL, {OtherColumns(dimension)}) PARTITION BY HASH (id)";

    private static string OtherColumns(int dimension) => $$"""
        title text NOT NULL,
        abstract text NOT NULL,
        authors text[],
        author_count integer,
        date text COLLATE "C",
        categories text[],
        url text,
        content_hash bytea NOT NULL,
        model_fingerprint text NOT NULL,
        embedding vector({{dimension.ToString(CultureInfo.InvariantCulture)}}) NOT NULL,
        tsv tsvector NOT NULL,
        synced timestamptz NOT NULL DEFAULT now(),
        sources text[] NOT NULL DEFAULT '{}',
        first_seen timestamptz,
        revision integer NOT NULL DEFAULT 1,
        truncated boolean NOT NULL DEFAULT false,
        empty boolean NOT NULL DEFAULT false,
        record_hash bytea
        """;

    private const string CatalogSql = """
        CREATE TABLE IF NOT EXISTS public.embeddings_tables (
            table_name text PRIMARY KEY,
            format_version integer NOT NULL,
            model_fingerprint text NOT NULL,
            dimension integer NOT NULL,
            text_search_config regconfig NOT NULL,
            shard_count integer NOT NULL,
            created timestamptz NOT NULL DEFAULT now(),
            last_sync timestamptz,
            last_store text,
            papers bigint NOT NULL DEFAULT 0
        )
        """;

    /// <summary>
    /// Creates the table (plain, or sharded over <paramref name="shards"/>) and its catalog entry. Indexes come after
    /// the first load (<see cref="CreateIndexesAsync"/>): building HNSW once over loaded rows is much faster than
    /// growing it row by row.
    /// </summary>
    public Task CreateAsync(string modelFingerprint, int dimension, IReadOnlyList<string> shards, CancellationToken cancellationToken) => Guard(async () =>
    {
        var shardServers = new List<NpgsqlConnectionStringBuilder>();
        foreach (string shard in shards)
        {
            NpgsqlConnectionStringBuilder builder = PostgresConnection.Parse(shard);
            shardServers.Add(builder);
            await using NpgsqlDataSource source = PostgresConnection.Open(builder);
            await PostgresConnection.Guard(builder, async () =>
            {
                await using NpgsqlConnection c = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(c, "CREATE EXTENSION IF NOT EXISTS vector", cancellationToken).ConfigureAwait(false);
                await using var probe = new NpgsqlCommand($"SELECT to_regclass('{Table.Sql}') IS NOT NULL", c);
                if ((bool)(await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
                {
                    await using var count = new NpgsqlCommand($"SELECT count(*) FROM {Table.Sql}", c);
                    long rows = (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                    if (rows > 0)
                    {
                        throw new PostgresBackendException(
                            $"shard {PostgresConnection.Describe(builder)} already has a table '{Table.Display}' with {rows} rows that no coordinator records; " +
                            "drop it there, or sync into another --table.");
                    }
                    await ExecuteAsync(c, $"DROP TABLE {Table.Sql}", cancellationToken).ConfigureAwait(false);
                }
                await ExecuteAsync(c, PapersTableSql(Table, dimension), cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }

        await using NpgsqlConnection connection = await Coordinator.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "CREATE EXTENSION IF NOT EXISTS vector", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, CatalogSql, cancellationToken).ConfigureAwait(false);
        await using (var probe = new NpgsqlCommand($"SELECT to_regclass('{Table.Sql}') IS NOT NULL", connection))
        {
            if ((bool)(await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                throw new PostgresBackendException(
                    $"{Describe} exists but was not made by `embeddings sync` (no entry in {CatalogTable}); sync into another --table, or drop it.");
            }
        }
        if (shardServers.Count == 0)
        {
            await ExecuteAsync(connection, PapersTableSql(Table, dimension), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await ExecuteAsync(connection, "CREATE EXTENSION IF NOT EXISTS postgres_fdw", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, ParentTableSql(Table, dimension), cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < shardServers.Count; i++)
            {
                NpgsqlConnectionStringBuilder shard = shardServers[i];
                string server = Table.Related("shard_" + i.ToString(CultureInfo.InvariantCulture));
                // extensions 'vector' lets postgres_fdw ship <=> to the shard; async_capable lets an Append over the
                // partitions run the shards at once; batch_size groups routed inserts.
                await ExecuteAsync(connection,
                    $"CREATE SERVER {server} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host {Literal(shard.Host ?? "localhost")}, " +
                    $"port {Literal(shard.Port.ToString(CultureInfo.InvariantCulture))}, dbname {Literal(shard.Database ?? shard.Username ?? "postgres")}, " +
                    "extensions 'vector', async_capable 'true', batch_size '200')", cancellationToken).ConfigureAwait(false);
                string credentials = $"user {Literal(shard.Username ?? Server.Username ?? "postgres")}" +
                    (shard.Password is { Length: > 0 } password ? $", password {Literal(password)}" : "");
                await ExecuteAsync(connection, $"CREATE USER MAPPING FOR CURRENT_USER SERVER {server} OPTIONS ({credentials})", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection,
                    $"CREATE FOREIGN TABLE \"{Table.Schema}\".{server} PARTITION OF {Table.Sql} " +
                    $"FOR VALUES WITH (MODULUS {shardServers.Count.ToString(CultureInfo.InvariantCulture)}, REMAINDER {i.ToString(CultureInfo.InvariantCulture)}) " +
                    $"SERVER {server} OPTIONS (schema_name {Literal(Table.Schema)}, table_name {Literal(Table.Name)})", cancellationToken).ConfigureAwait(false);
            }
        }
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO public.embeddings_tables (table_name, format_version, model_fingerprint, dimension, text_search_config, shard_count) " +
            "VALUES ($1, $2, $3, $4, $5::regconfig, $6)", connection))
        {
            insert.Parameters.AddWithValue(Table.Display);
            insert.Parameters.AddWithValue(FormatVersion);
            insert.Parameters.AddWithValue(modelFingerprint);
            insert.Parameters.AddWithValue(dimension);
            insert.Parameters.AddWithValue(TextSearchConfig);
            insert.Parameters.AddWithValue(shardServers.Count);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        await ReadInfoAsync(cancellationToken).ConfigureAwait(false);
    });

    /// <summary>
    /// Brings a table of an older layout to <see cref="FormatVersion"/>: the new columns on every shard's table, then on
    /// the coordinator's parent (which passes them to its foreign partitions), then the catalog. Call after
    /// <see cref="ResolveEndpointsAsync"/>; the caller holds the sync lock.
    /// </summary>
    public async Task UpgradeAsync(CancellationToken cancellationToken)
    {
        foreach (TableEndpoint endpoint in _endpoints)
        {
            if (Info!.ShardCount > 0 && ReferenceEquals(endpoint.Source, Coordinator))
            {
                continue; // a local partition: it takes the columns from its parent below
            }
            await endpoint.Guard(async () =>
            {
                await using NpgsqlConnection c = await endpoint.Source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(c, $"ALTER TABLE {endpoint.Table.Sql} {Version2Columns}", cancellationToken).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);
        }
        await Guard(async () =>
        {
            await using NpgsqlConnection c = await Coordinator.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (Info!.ShardCount > 0)
            {
                await ExecuteAsync(c, $"ALTER TABLE {Table.Sql} {Version2Columns}", cancellationToken).ConfigureAwait(false);
            }
            await using var update = new NpgsqlCommand($"UPDATE public.{CatalogTable} SET format_version = $2 WHERE table_name = $1", c);
            update.Parameters.AddWithValue(Table.Display);
            update.Parameters.AddWithValue(FormatVersion);
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        await ReadInfoAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>HNSW (cosine), GIN over tsv and categories, and a date index, on one endpoint; those that exist are kept.</summary>
    public static Task CreateIndexesAsync(TableEndpoint endpoint, int m, int efConstruction, CancellationToken cancellationToken) => endpoint.Guard(async () =>
    {
        await using NpgsqlConnection c = await endpoint.Source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        TableName t = endpoint.Table;
        // pgvector builds far faster when the graph fits in maintenance_work_mem.
        await ExecuteAsync(c, "SET maintenance_work_mem = '512MB'", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(c,
            $"CREATE INDEX IF NOT EXISTS {t.Related("embedding_hnsw")} ON {t.Sql} USING hnsw (embedding vector_cosine_ops) " +
            $"WITH (m = {m.ToString(CultureInfo.InvariantCulture)}, ef_construction = {efConstruction.ToString(CultureInfo.InvariantCulture)})",
            cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(c, $"CREATE INDEX IF NOT EXISTS {t.Related("tsv_gin")} ON {t.Sql} USING gin (tsv)", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(c, $"CREATE INDEX IF NOT EXISTS {t.Related("categories_gin")} ON {t.Sql} USING gin (categories)", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(c, $"CREATE INDEX IF NOT EXISTS {t.Related("date")} ON {t.Sql} (date)", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(c, $"ANALYZE {t.Sql}", cancellationToken).ConfigureAwait(false);
        return true;
    });

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A SQL string literal (DDL options cannot take parameters).</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private async Task DisposeEndpointsAsync()
    {
        foreach (TableEndpoint endpoint in _endpoints)
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
        }
        _endpoints.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeEndpointsAsync().ConfigureAwait(false);
        await Coordinator.DisposeAsync().ConfigureAwait(false);
    }
}
