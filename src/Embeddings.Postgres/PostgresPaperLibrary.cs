using Embeddings.Store;

namespace Embeddings.Postgres;

/// <summary>Which PostgreSQL table a library answers from (<see cref="PostgresPaperLibrary.UsePostgres(PaperLibraryOptions, PostgresLibraryOptions)"/>).</summary>
public sealed record PostgresLibraryOptions
{
    /// <summary>The server holding the table (the coordinator of a sharded table): Npgsql's <c>Host=...;Database=...</c> form or a <c>postgresql://</c> URI.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The table made by a sync (<c>name</c> or <c>schema.name</c>). Default <c>papers</c>.</summary>
    public string Table { get; init; } = "papers";

    /// <summary>
    /// Connection strings of shards whose credentials differ from the coordinator's (matched to partitions by host,
    /// port and database). Shards not named are reached with the coordinator's user and password.
    /// </summary>
    public IReadOnlyList<string> Shards { get; init; } = [];
}

/// <summary>
/// <see cref="PaperLibrary"/> over PostgreSQL + pgvector: mirror a store into a table
/// (<see cref="SyncToPostgresAsync"/>), then open libraries that answer from the table alone
/// (<see cref="UsePostgres(PaperLibraryOptions, string, string)"/>), on any machine that can reach the database.
/// </summary>
/// <example>
/// <code>
/// // Mirror the store (only what changed since the last sync is written):
/// await using (PaperLibrary store = await PaperLibrary.OpenAsync(new PaperLibraryOptions { StoreDirectory = "out/store", ReadOnly = true }, ct))
/// {
///     SyncSummary synced = await store.SyncToPostgresAsync(new PostgresSyncOptions { ConnectionString = "Host=db;Database=papers;Username=app" }, ct);
/// }
/// // Search it from anywhere: the same SimilarAsync, GetPaperAsync, ListPapersAsync and GetStatusAsync as over a store.
/// await using PaperLibrary library = await PaperLibrary.OpenAsync(new PaperLibraryOptions().UsePostgres("Host=db;Database=papers;Username=app"), ct);
/// IReadOnlyList&lt;SimilarHit&gt; hits = await library.SimilarAsync(new SimilarQuery { Text = "sparse attention", K = 5 }, ct);
/// // A host: services.AddPaperLibrary(o =&gt; o.UsePostgres(configuration.GetConnectionString("papers")!));
/// </code>
/// </example>
public static class PostgresPaperLibrary
{
    /// <summary>
    /// Makes the library answer from the PostgreSQL table <paramref name="table"/> (made by a sync) instead of a store
    /// folder: leave <see cref="PaperLibraryOptions.StoreDirectory"/> empty. Opening connects and reads the table's
    /// model fingerprint; the model for free-text queries is <see cref="EmbeddingModelOptions.ModelDirectory"/> when set
    /// (refused with <see cref="ModelMismatchException"/> when it is not the table's model), else the local model folder
    /// with that fingerprint (the default model folder, then the folders beside it), run with the options' threads and
    /// device. Ingest, topics, digests, exports and index builds need a store
    /// folder and are refused with <see cref="InvalidRequestException"/>.
    /// </summary>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    public static PaperLibraryOptions UsePostgres(this PaperLibraryOptions options, string connectionString, string table = "papers") =>
        options.UsePostgres(new PostgresLibraryOptions { ConnectionString = connectionString, Table = table });

    /// <summary>Makes the library answer from the PostgreSQL table of <paramref name="postgres"/> (a sharded one, with shard credentials).</summary>
    /// <inheritdoc cref="UsePostgres(PaperLibraryOptions, string, string)"/>
    public static PaperLibraryOptions UsePostgres(this PaperLibraryOptions options, PostgresLibraryOptions postgres)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(postgres);
        options.Backend = new PostgresBackendProvider(postgres);
        return options;
    }

    /// <summary>
    /// Mirrors the library's store into the PostgreSQL table of <paramref name="options"/>: creates the schema when
    /// missing (pgvector HNSW with cosine, a GIN-indexed tsvector), writes only the papers that are new or changed
    /// since the last sync, deletes the rows of papers the store no longer has; batches are transactions, so a killed
    /// sync resumes where it stopped. Reads the last committed state of the store; an ingest may run meanwhile.
    /// </summary>
    /// <exception cref="PostgresBackendException">The server cannot be used, or the table holds another model's vectors.</exception>
    /// <exception cref="InvalidRequestException">The library answers from a database itself, or a setting is out of range.</exception>
    /// <exception cref="DataFormatException">There is no store in the library's folder yet.</exception>
    public static Task<SyncSummary> SyncToPostgresAsync(this PaperLibrary library, PostgresSyncOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(options);
        return library.ReadStoreAsync("syncs into PostgreSQL", (PaperStore store) => PostgresSync.SyncAsync(store, options, cancellationToken));
    }

    /// <summary>Opens <see cref="PostgresPaperBackend"/> for <see cref="PaperLibrary.OpenAsync(PaperLibraryOptions, CancellationToken)"/>.</summary>
    private sealed class PostgresBackendProvider(PostgresLibraryOptions postgres) : IPaperBackendProvider
    {
        public string Name => "UsePostgres";

        public IReadOnlyList<string> Validate()
        {
            var problems = new List<string>();
            if (string.IsNullOrWhiteSpace(postgres.ConnectionString))
            {
                problems.Add("The PostgreSQL connection string (UsePostgres) is empty: give Host=H;Port=P;Database=D;Username=U or postgresql://U@H:P/D.");
            }
            else
            {
                try
                {
                    PostgresConnection.Parse(postgres.ConnectionString);
                }
                catch (PostgresBackendException e)
                {
                    problems.Add(e.Message);
                }
            }
            try
            {
                TableName.Parse(postgres.Table);
            }
            catch (ArgumentException e)
            {
                problems.Add("The PostgreSQL " + e.Message.Split(" (Parameter", 2)[0]);
            }
            return problems;
        }

        public async Task<IPaperBackend> OpenAsync(PaperLibraryOptions options, Microsoft.Extensions.Logging.ILogger logger, CancellationToken cancellationToken) =>
            await PostgresPaperBackend.OpenAsync(postgres, logger, cancellationToken).ConfigureAwait(false);
    }
}
