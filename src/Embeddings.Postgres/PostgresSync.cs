using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using Embeddings.Store;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace Embeddings.Postgres;

/// <summary>How <see cref="PostgresPaperLibrary.SyncToPostgresAsync"/> (<c>embeddings sync</c>) works.</summary>
public sealed record PostgresSyncOptions
{
    /// <summary>The PostgreSQL server (the coordinator of a sharded table): Npgsql <c>Host=...</c> form or a <c>postgresql://</c> URI.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>Table to sync into (<c>name</c> or <c>schema.name</c>). Default <c>papers</c>.</summary>
    public string Table { get; init; } = "papers";

    /// <summary>
    /// When the table does not exist yet: create it hash-partitioned over these servers (postgres_fdw foreign
    /// partitions, one per shard). An existing sharded table is checked to have as many shards.
    /// </summary>
    public IReadOnlyList<string> Shards { get; init; } = [];

    /// <summary>Papers per transaction: a kill loses at most one batch of work, and the next sync resumes after the last one committed.</summary>
    public int BatchSize { get; init; } = 500;

    /// <summary>HNSW links per node (pgvector <c>m</c>); the same default as our own index.</summary>
    public int HnswM { get; init; } = 16;

    /// <summary>HNSW build breadth (pgvector <c>ef_construction</c>); the same default as our own index.</summary>
    public int HnswEfConstruction { get; init; } = 200;

    /// <summary>Receives progress ("syncing", papers written or deleted).</summary>
    public IProgress<WorkProgress>? Progress { get; init; }
}

/// <summary>
/// Mirrors a paper store into a PostgreSQL table with pgvector: creates the schema when missing (or upgrades an older
/// layout), then compares record hashes (the content hash with the paper's dumps, revision and flags) and writes only
/// what changed, in batches, each one transaction (delete the old rows, copy the new ones in binary, compute the
/// tsvector in the database), then deletes the rows whose paper the store no longer has. The comparison is made
/// against what the table really holds, so a sync killed at any point resumes where the last committed batch ended,
/// and a second sync of an unchanged store writes nothing.
/// </summary>
internal static class PostgresSync
{
    /// <summary>Crash point for the tests (see <c>CrashPoints</c>): reached after each committed batch.</summary>
    internal const string BatchCommittedPoint = "postgres-batch-committed";

    /// <summary>Syncs <paramref name="store"/> into the table of <paramref name="options"/>.</summary>
    /// <exception cref="PostgresBackendException">The server cannot be used, or the table holds another model's vectors.</exception>
    public static async Task<SyncSummary> SyncAsync(PaperStore store, PostgresSyncOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        if (options.BatchSize < 1)
        {
            throw new InvalidRequestException($"The papers per transaction of a sync ({nameof(PostgresSyncOptions.BatchSize)}, --batch-size) must be at least 1, not {options.BatchSize}.");
        }
        var clock = Stopwatch.StartNew();
        await using PostgresTable table = await PostgresTable.ConnectAsync(options.ConnectionString, options.Table, cancellationToken).ConfigureAwait(false);
        await using NpgsqlConnection writer = await table.Guard(() => table.Coordinator.OpenConnectionAsync(cancellationToken).AsTask()).ConfigureAwait(false);
        await LockAsync(table, writer, cancellationToken).ConfigureAwait(false);

        await table.ReadInfoAsync(cancellationToken).ConfigureAwait(false);
        if (table.Info is null)
        {
            await table.CreateAsync(store.ModelFingerprint, store.Dimension, options.Shards, cancellationToken).ConfigureAwait(false);
            // The vector type may be new on this server: the pool learns it before the first COPY.
            await table.Guard(() => writer.ReloadTypesAsync(cancellationToken)).ConfigureAwait(false);
        }
        PostgresTableInfo info = table.Info!;
        if (info.ModelFingerprint != store.ModelFingerprint || info.Dimension != store.Dimension)
        {
            throw new PostgresBackendException(
                $"{table.Describe} holds vectors of model {info.ModelFingerprint} ({info.Dimension} dimensions), not of the store's model " +
                $"{store.ModelFingerprint} ({store.Dimension} dimensions). Vectors of different models cannot be mixed: sync into another table " +
                $"(--table NAME), or drop this one (DROP TABLE {table.Table.Display}; DELETE FROM {PostgresTable.CatalogTable} WHERE table_name = '{table.Table.Display}') and sync again.");
        }
        if (options.Shards.Count > 0 && options.Shards.Count != info.ShardCount)
        {
            throw new PostgresBackendException(
                $"{table.Describe} already exists with {info.ShardCount} shards, not {options.Shards.Count}; resharding is not done by sync: sync into a new --table.");
        }
        await table.ResolveEndpointsAsync(options.Shards, cancellationToken).ConfigureAwait(false);
        if (info.FormatVersion < PostgresTable.FormatVersion)
        {
            // The new columns are added empty: every row's record hash then differs, so this sync rewrites them all.
            await table.UpgradeAsync(cancellationToken).ConfigureAwait(false);
        }

        Dictionary<string, UInt128> inTable = await ReadTableHashesAsync(table, cancellationToken).ConfigureAwait(false);
        long toDo = inTable.Count == 0 ? store.Count : -1; // unknown until the store has been read
        long written = 0, unchanged = 0, deleted = 0;
        var storeIds = new HashSet<string>(StringComparer.Ordinal);
        var batch = new List<StoredPaper>(options.BatchSize);
        await using (NpgsqlCommand stage = new(StageSql(store.Dimension), writer))
        {
            await table.Guard(() => stage.ExecuteNonQueryAsync(cancellationToken)).ConfigureAwait(false);
        }
        await foreach (StoredPaper paper in store.ReadPapersAsync(cancellationToken).ConfigureAwait(false))
        {
            storeIds.Add(paper.Paper.Id);
            if (inTable.TryGetValue(paper.Paper.Id, out UInt128 hash) && hash == RecordHash(paper))
            {
                unchanged++;
                continue;
            }
            batch.Add(paper);
            if (batch.Count == options.BatchSize)
            {
                written += await WriteBatchAsync(table, writer, store, batch, cancellationToken).ConfigureAwait(false);
                batch.Clear();
                options.Progress?.Report(new WorkProgress("syncing", written, toDo < 0 ? null : toDo, "papers"));
            }
        }
        if (batch.Count > 0)
        {
            written += await WriteBatchAsync(table, writer, store, batch, cancellationToken).ConfigureAwait(false);
            options.Progress?.Report(new WorkProgress("syncing", written, toDo < 0 ? null : toDo, "papers"));
        }

        List<string> gone = [.. inTable.Keys.Where(id => !storeIds.Contains(id))];
        for (int start = 0; start < gone.Count; start += options.BatchSize)
        {
            string[] ids = [.. gone.Skip(start).Take(options.BatchSize)];
            deleted += await table.Guard(async () =>
            {
                await using var delete = new NpgsqlCommand($"DELETE FROM {table.Table.Sql} WHERE id = ANY($1)", writer);
                delete.Parameters.AddWithValue(ids);
                return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
            options.Progress?.Report(new WorkProgress("deleting", deleted, gone.Count, "papers"));
        }

        // Indexes once the rows are in (built in one go after the first load, kept up to date by later inserts),
        // fresh planner and lexeme statistics where anything changed, then the catalog.
        if (written > 0 || deleted > 0 || table.Info!.LastSync is null)
        {
            options.Progress?.Report(new WorkProgress("indexing", 0, table.Endpoints.Count, "tables"));
            await Task.WhenAll(table.Endpoints.Select(e => PostgresTable.CreateIndexesAsync(e, options.HnswM, options.HnswEfConstruction, cancellationToken)))
                .ConfigureAwait(false);
            options.Progress?.Report(new WorkProgress("indexing", table.Endpoints.Count, table.Endpoints.Count, "tables"));
        }
        await table.Guard(async () =>
        {
            await using var update = new NpgsqlCommand(
                $"UPDATE public.{PostgresTable.CatalogTable} SET last_sync = now(), last_store = $2, papers = $3 WHERE table_name = $1", writer);
            update.Parameters.AddWithValue(table.Table.Display);
            update.Parameters.AddWithValue(store.Directory);
            update.Parameters.AddWithValue((long)storeIds.Count);
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return new SyncSummary(written, deleted, unchanged, clock.Elapsed.TotalSeconds);
    }

    /// <summary>One sync per table at a time: a session advisory lock on the coordinator, released when the connection closes.</summary>
    private static Task LockAsync(PostgresTable table, NpgsqlConnection connection, CancellationToken cancellationToken) => table.Guard(async () =>
    {
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended('embeddings sync ' || $1, 0))", connection);
        command.Parameters.AddWithValue(table.Table.Display);
        if (!(bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
        {
            throw new PostgresBackendException($"another `embeddings sync` into {table.Describe} is running; wait for it to finish.");
        }
    });

    /// <summary>Every (id, record hash) the table holds, read from each endpoint at once (zero for a row of an older layout).</summary>
    private static async Task<Dictionary<string, UInt128>> ReadTableHashesAsync(PostgresTable table, CancellationToken cancellationToken)
    {
        var parts = await Task.WhenAll(table.Endpoints.Select(endpoint => endpoint.Guard(async () =>
        {
            var result = new List<(string, UInt128)>();
            await using NpgsqlConnection c = await endpoint.Source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"SELECT id, record_hash FROM {endpoint.Table.Sql}", c);
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                result.Add((reader.GetString(0), reader.IsDBNull(1) ? UInt128.Zero : HashFromBytes(reader.GetFieldValue<byte[]>(1))));
            }
            return result;
        }))).ConfigureAwait(false);
        var all = new Dictionary<string, UInt128>(parts.Sum(p => p.Count), StringComparer.Ordinal);
        foreach (List<(string Id, UInt128 Hash)> part in parts)
        {
            foreach ((string id, UInt128 hash) in part)
            {
                all[id] = hash;
            }
        }
        return all;
    }

    private static string StageSql(int dimension) =>
        $"""
        CREATE TEMP TABLE IF NOT EXISTS embeddings_stage (
            id text, title text, abstract text, authors text[], author_count integer, date text, categories text[], url text,
            content_hash bytea, embedding vector({dimension}),
            sources text[], first_seen timestamptz, revision integer, truncated boolean, empty boolean, record_hash bytea
        ) ON COMMIT DELETE ROWS
        """;

    /// <summary>
    /// One transaction: the batch copied (binary) into the session's staging table, the old rows of its ids deleted,
    /// the new rows inserted with the tsvector computed by the database (through the coordinator, which routes each row
    /// to its shard).
    /// </summary>
    private static async Task<int> WriteBatchAsync(PostgresTable table, NpgsqlConnection connection, PaperStore store,
        List<StoredPaper> batch, CancellationToken cancellationToken)
    {
        var vector = new float[store.Dimension];
        string[] ids = [.. batch.Select(p => p.Paper.Id)];
        await table.Guard(async () =>
        {
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (NpgsqlBinaryImporter copy = await connection.BeginBinaryImportAsync(
                "COPY embeddings_stage (id, title, abstract, authors, author_count, date, categories, url, content_hash, embedding, " +
                "sources, first_seen, revision, truncated, empty, record_hash) FROM STDIN (FORMAT BINARY)",
                cancellationToken).ConfigureAwait(false))
            {
                foreach (StoredPaper stored in batch)
                {
                    Corpus.Paper p = stored.Paper;
                    store.ReadRow(stored.Row, vector);
                    await copy.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(p.Id, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(p.Title, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(p.Abstract, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await WriteNullable(copy, p.Authors is null ? null : (object)p.Authors.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await WriteNullable(copy, p.Authors?.Count ?? p.AuthorCount, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                    await WriteNullable(copy, p.Date, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await WriteNullable(copy, p.Categories is null ? null : (object)p.Categories.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await WriteNullable(copy, p.Url, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(HashToBytes(stored.ContentHash), NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(new Vector(vector.ToArray()), "vector", cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(stored.Sources.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(stored.FirstSeen.ToUniversalTime(), NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(stored.Revision, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync((stored.Flags & StoredPaperFlags.Truncated) != 0, NpgsqlDbType.Boolean, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync((stored.Flags & StoredPaperFlags.Empty) != 0, NpgsqlDbType.Boolean, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(HashToBytes(RecordHash(stored)), NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
                }
                await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            await using (var delete = new NpgsqlCommand($"DELETE FROM {table.Table.Sql} WHERE id = ANY($1)", connection, transaction))
            {
                delete.Parameters.AddWithValue(ids);
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await using (var insert = new NpgsqlCommand(
                $"""
                INSERT INTO {table.Table.Sql} (id, title, abstract, authors, author_count, date, categories, url, content_hash, model_fingerprint, embedding, tsv,
                                               sources, first_seen, revision, truncated, empty, record_hash)
                SELECT id, title, abstract, authors, author_count, date, categories, url, content_hash, $1, embedding,
                       to_tsvector('{PostgresTable.TextSearchConfig}', title || E'.\n' || abstract),
                       sources, first_seen, revision, truncated, empty, record_hash
                FROM embeddings_stage
                """, connection, transaction))
            {
                insert.Parameters.AddWithValue(store.ModelFingerprint);
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        CrashPoints.Hit(BatchCommittedPoint);
        return batch.Count;
    }

    private static Task WriteNullable(NpgsqlBinaryImporter copy, object? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(value, type, cancellationToken);

    /// <summary>
    /// XxHash128 of everything the row holds from the store that can change: the content hash (title and abstract), the
    /// revision, when the paper was first seen, its flags and its dumps (a known text met in a new dump gains a source
    /// without a new revision). Equal record hashes mean the row is up to date.
    /// </summary>
    internal static UInt128 RecordHash(StoredPaper paper)
    {
        var hash = new XxHash128();
        Span<byte> fixedPart = stackalloc byte[16 + 4 + 8 + 4];
        BinaryPrimitives.WriteUInt128BigEndian(fixedPart, paper.ContentHash);
        BinaryPrimitives.WriteInt32BigEndian(fixedPart[16..], paper.Revision);
        BinaryPrimitives.WriteInt64BigEndian(fixedPart[20..], paper.FirstSeen.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt32BigEndian(fixedPart[28..], (int)paper.Flags);
        hash.Append(fixedPart);
        foreach (string source in paper.Sources)
        {
            hash.Append(System.Text.Encoding.UTF8.GetBytes(source));
            hash.Append([0]); // cannot occur in a file name: keeps ("ab", "c") and ("a", "bc") apart
        }
        return hash.GetCurrentHashAsUInt128();
    }

    /// <summary>The content hash as 16 big-endian bytes (bytea sorts and prints in the same order as the number).</summary>
    internal static byte[] HashToBytes(UInt128 hash)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, hash);
        return bytes;
    }

    internal static UInt128 HashFromBytes(byte[] bytes) => bytes.Length == 16 ? BinaryPrimitives.ReadUInt128BigEndian(bytes) : UInt128.Zero;
}
