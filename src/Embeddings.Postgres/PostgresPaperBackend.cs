using System.Runtime.CompilerServices;
using System.Text;
using Embeddings.Encoding;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Embeddings.Postgres;

/// <summary>
/// A PostgreSQL + pgvector table (made by a sync) as the backend of a <see cref="PaperLibrary"/>: status from the
/// table's catalog entry, similar papers from <see cref="PostgresPaperSearch"/> (the database alone, sharded or not),
/// papers and listings by SQL (filters as SQL conditions), and the model found among the local model folders by the
/// table's recorded fingerprint. Thread-safe: every call takes its own pooled connection.
/// </summary>
internal sealed class PostgresPaperBackend : IPaperBackend
{
    /// <summary>The columns of <see cref="PaperDetails"/>, in the order <see cref="ReadDetails"/> reads them.</summary>
    private const string DetailColumns =
        "p.id, p.title, p.abstract, p.authors, p.author_count, p.date, p.categories, p.sources, coalesce(p.first_seen, p.synced), p.revision, p.truncated, p.empty, p.url";

    private readonly PostgresPaperSearch _search;
    private readonly ILogger _logger;
    private volatile bool _currentLayout;

    private PostgresPaperBackend(PostgresPaperSearch search, ILogger logger)
    {
        _search = search;
        _logger = logger;
        _currentLayout = search.Info.FormatVersion >= PostgresTable.FormatVersion;
    }

    /// <summary>Connects to the table of <paramref name="options"/> and finds its shards.</summary>
    /// <exception cref="PostgresBackendException">No such table, or the server cannot be reached.</exception>
    public static async Task<PostgresPaperBackend> OpenAsync(PostgresLibraryOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        PostgresPaperSearch search = await PostgresPaperSearch.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        PaperLibraryLog.StoreOpened(logger, search.Table.Describe, Clamp(search.Info.Papers), search.Info.ModelFingerprint);
        return new PostgresPaperBackend(search, logger);
    }

    /// <inheritdoc/>
    public string Location => _search.Table.Describe;

    /// <inheritdoc/>
    public string? ModelFingerprint => _search.Info.ModelFingerprint;

    private PostgresTable Table => _search.Table;

    /// <inheritdoc/>
    /// <remarks>Papers as of the last complete sync (the catalog's count, not a scan of the table).</remarks>
    public Task<LibraryStatus> GetStatusAsync(CancellationToken cancellationToken) => Table.Guard(async () =>
    {
        await using NpgsqlConnection c = await Table.Coordinator.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"SELECT papers FROM public.{PostgresTable.CatalogTable} WHERE table_name = $1", c);
        command.Parameters.AddWithValue(Table.Table.Display);
        object? papers = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        int count = papers is long n ? Clamp(n) : 0;
        return new LibraryStatus
        {
            StoreDirectory = Location,
            StoreExists = true,
            Papers = count,
            VectorRows = count,
            ModelFingerprint = _search.Info.ModelFingerprint,
            Dimension = _search.Info.Dimension,
        };
    });

    /// <inheritdoc/>
    public async Task<SimilarResult> SimilarAsync(SimilarQuery query, EmbeddingModel model, CancellationToken cancellationToken)
    {
        ISentenceEncoder? encoder = SimilarQueryModel.EncoderFor(query, model, _logger);
        return await _search.SearchAsync(query, encoder, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<PaperDetails?> GetPaperAsync(string id, CancellationToken cancellationToken)
    {
        await RequireCurrentLayoutAsync(cancellationToken).ConfigureAwait(false);
        return await Table.Guard(async () =>
        {
            await using NpgsqlConnection c = await Table.Coordinator.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"SELECT {DetailColumns} FROM {Table.Table.Sql} p WHERE p.id = @id", c);
            command.Parameters.AddWithValue("id", id);
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadDetails(reader) : null;
        }).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>In id order, streamed from the coordinator (which merges the shards of a sharded table).</remarks>
    public async IAsyncEnumerable<PaperDetails> ListPapersAsync(PaperFilter? filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await RequireCurrentLayoutAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlConnection c = await Table.Guard(() => Table.Coordinator.OpenConnectionAsync(cancellationToken).AsTask()).ConfigureAwait(false);
        await using (c.ConfigureAwait(false))
        {
            await using var command = new NpgsqlCommand { Connection = c };
            var sql = new StringBuilder($"SELECT {DetailColumns} FROM {Table.Table.Sql} p WHERE TRUE");
            if (filter is not null)
            {
                PostgresPaperSearch.AppendFilter(sql, filter, command.Parameters);
            }
            command.CommandText = sql.Append(" ORDER BY p.id").ToString();
            NpgsqlDataReader reader = await Table.Guard(() => command.ExecuteReaderAsync(cancellationToken)).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await Table.Guard(() => reader.ReadAsync(cancellationToken)).ConfigureAwait(false))
                {
                    yield return ReadDetails(reader);
                }
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A model folder the options name is the library's to load (and refuse, by <see cref="ModelMismatchException"/>, when
    /// it is not the table's model: an explicit model is never swapped for another); otherwise the local folder whose
    /// model has the table's fingerprint (<see cref="ModelFolders.FindByFingerprint"/>, the lookup a store that did not
    /// record its model folder uses).
    /// </remarks>
    /// <exception cref="ModelLoadException">No local model folder has the table's fingerprint.</exception>
    public (ISentenceEncoder Encoder, string? Directory)? LoadModel(EmbeddingModelOptions options)
    {
        if (options.ModelDirectory is not null)
        {
            return null;
        }
        string fingerprint = _search.Info.ModelFingerprint;
        string directory = ModelFolders.FindByFingerprint(fingerprint) ?? throw new ModelLoadException(
            $"no local model folder has the model fingerprint {fingerprint} of {Table.Describe}: pass --model with the folder the store " +
            "was ingested with, or use --id/--like or --mode lexical, which need no model.");
        return (LibraryModels.Load(directory, options), directory);
    }

    /// <summary>Closes the connection pools.</summary>
    public void Dispose() => _search.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// Papers and listings need the columns of the current layout; a table of an older one is searchable but is
    /// upgraded by the next sync (checked again here, so a library opened before that sync sees the upgrade).
    /// </summary>
    private async Task RequireCurrentLayoutAsync(CancellationToken cancellationToken)
    {
        if (_currentLayout)
        {
            return;
        }
        int version = await Table.Guard(async () =>
        {
            await using NpgsqlConnection c = await Table.Coordinator.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"SELECT format_version FROM public.{PostgresTable.CatalogTable} WHERE table_name = $1", c);
            command.Parameters.AddWithValue(Table.Table.Display);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int v ? v : 0;
        }).ConfigureAwait(false);
        if (version < PostgresTable.FormatVersion)
        {
            throw new PostgresBackendException(
                $"{Table.Describe} has layout version {version}, from before the table kept each paper's dumps and revision, so it can be searched " +
                $"but its papers cannot be listed; run `embeddings sync --store DIR --postgres CONN --table {Table.Table.Display}` once to upgrade it.");
        }
        _currentLayout = true;
    }

    private static PaperDetails ReadDetails(NpgsqlDataReader r) => new()
    {
        Id = r.GetString(0),
        Title = r.GetString(1),
        Abstract = r.GetString(2),
        Authors = r.IsDBNull(3) ? null : r.GetFieldValue<string[]>(3),
        AuthorCount = r.IsDBNull(4) ? null : r.GetInt32(4),
        Date = r.IsDBNull(5) ? null : r.GetString(5),
        Categories = r.IsDBNull(6) ? null : r.GetFieldValue<string[]>(6),
        Sources = r.GetFieldValue<string[]>(7),
        FirstSeen = r.GetFieldValue<DateTimeOffset>(8),
        Revision = r.GetInt32(9),
        Truncated = r.GetBoolean(10),
        Empty = r.GetBoolean(11),
        Url = r.IsDBNull(12) ? null : r.GetString(12),
    };

    private static int Clamp(long n) => (int)Math.Min(n, int.MaxValue);
}
