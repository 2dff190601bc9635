using System.Runtime.CompilerServices;
using System.Text.Json;
using Embeddings.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Embeddings;

/// <summary>
/// The engine in one object: a paper store with its model and search indexes. Ingest dumps (only new or changed papers
/// are embedded), find similar papers, fit topics, write a digest, export vectors, and embed any text with the store's
/// model through <see cref="Embeddings"/>, an <see cref="Microsoft.Extensions.AI.IEmbeddingGenerator{TInput, TEmbedding}"/>.
/// </summary>
/// <remarks>
/// <para>
/// Immutable and thread-safe: open it once and share it (hosts register it with
/// <c>services.AddPaperLibrary(...)</c>). Every call may run concurrently with any other. Reads answer from the last
/// committed state: while an ingest runs, searches keep answering from the state before it, and they see the new
/// papers once it has committed and the indexes are up to date. Ingests of one library run one at a time; another
/// process writing the same store is refused with <see cref="StoreLockedException"/>.
/// </para>
/// <para>
/// The model is loaded on first use (a free-text query, an ingest, <see cref="Embeddings"/>), so reading, listing,
/// topics and exports need no model. Every call takes a <see cref="CancellationToken"/>; large results are streamed.
/// Errors are <see cref="EmbeddingsException"/>s whose message says how to fix the problem.
/// </para>
/// </remarks>
public sealed class PaperLibrary : IAsyncDisposable, IDisposable
{
    private readonly PaperLibraryOptions _options;
    private readonly IPaperBackend _backend;
    private readonly ILogger _logger;
    private int _disposed;

    private PaperLibrary(PaperLibraryOptions options, IPaperBackend backend, ILogger logger)
    {
        _options = options;
        _backend = backend;
        _logger = logger;
        Embeddings = EmbeddingModel.Deferred(LoadModel, CheckModel, logger);
    }

    /// <summary>The store folder (full path); empty when the library answers from a database (see <see cref="Location"/>).</summary>
    public string StoreDirectory => _options.StoreDirectory;

    /// <summary>Where the papers are, for messages and a host's status page: the store folder, or a database table and its server.</summary>
    public string Location => _backend.Location;

    /// <summary>
    /// The store's model as an embedding generator: vectors equal to those stored for the same texts. Loaded on first use.
    /// </summary>
    public EmbeddingModel Embeddings { get; }

    /// <summary>
    /// Opens the library over <see cref="PaperLibraryOptions.StoreDirectory"/> (the store need not exist yet), or over the
    /// database the options name (<c>UsePostgres</c>), connecting to it.
    /// </summary>
    /// <exception cref="InvalidRequestException">The options are not valid (the message lists every problem).</exception>
    /// <exception cref="DataFormatException">The store is damaged, of an unknown format version, or not a store.</exception>
    /// <exception cref="EmbeddingsException">The database cannot be reached or holds no papers table (the backend's error, saying what to do).</exception>
    public static Task<PaperLibrary> OpenAsync(PaperLibraryOptions options, CancellationToken cancellationToken = default) =>
        OpenAsync(options, null, cancellationToken);

    /// <summary>Opens the library, logging through <paramref name="logger"/>.</summary>
    /// <inheritdoc cref="OpenAsync(PaperLibraryOptions, CancellationToken)"/>
    public static async Task<PaperLibrary> OpenAsync(PaperLibraryOptions options, ILogger? logger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        if (options.Backend is null)
        {
            return LibraryErrors.Guard(() => Open(options, logger));
        }
        return await LibraryErrors.Guard(async () =>
        {
            options.ThrowIfInvalid("The library options");
            PaperLibraryOptions copy = options.Copy();
            ILogger log = logger ?? NullLogger.Instance;
            IPaperBackend backend = await copy.Backend!.OpenAsync(copy, log, cancellationToken).ConfigureAwait(false);
            return new PaperLibrary(copy, backend, log);
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The synchronous open behind <see cref="OpenAsync(PaperLibraryOptions, ILogger?, CancellationToken)"/> (for DI
    /// factories, which cannot await: a database backend is connected to on the calling thread).
    /// </summary>
    internal static PaperLibrary Open(PaperLibraryOptions options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Backend is not null)
        {
            return Task.Run(() => OpenAsync(options, logger, CancellationToken.None)).GetAwaiter().GetResult();
        }
        options.ThrowIfInvalid("The library options");
        PaperLibraryOptions copy = options.Copy();
        copy.StoreDirectory = Path.GetFullPath(options.StoreDirectory);
        PaperStore.ThrowIfFile(copy.StoreDirectory);
        logger ??= NullLogger.Instance;
        return new PaperLibrary(copy, LocalStoreBackend.Open(copy, logger), logger);
    }

    /// <summary>
    /// A library over another backend (PostgreSQL): status, search, papers and listing come from it; the model is the
    /// one <paramref name="options"/> names (it must be the model the backend's vectors came from). Ingest, topics,
    /// digests, exports and index builds need the local store and are refused with <see cref="InvalidRequestException"/>.
    /// </summary>
    internal static PaperLibrary Open(PaperLibraryOptions options, IPaperBackend backend, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backend);
        options.ThrowIfInvalid("The library options");
        return new PaperLibrary(options.Copy(), backend, logger ?? NullLogger.Instance);
    }

    /// <summary>Counts, the model the store is bound to, and the persisted index.</summary>
    public Task<LibraryStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return LibraryErrors.Guard(() => _backend.GetStatusAsync(cancellationToken));
    }

    /// <summary>
    /// Adds the papers of <paramref name="files"/> (daily-papers dumps, JSONL, CSV, optionally .gz) to the store, creating
    /// it on first use: only new or changed papers are embedded; papers already stored with the same text only record the
    /// dump. Commits in batches, so a crash or a cancel keeps every batch committed before it, and running again resumes.
    /// </summary>
    /// <exception cref="InputFormatException">A record is malformed (file, line and field named).</exception>
    /// <exception cref="StoreLockedException">Another process is writing the store.</exception>
    public Task<IngestSummary> IngestAsync(IReadOnlyList<string> files, CancellationToken cancellationToken = default) =>
        IngestAsync(files, new IngestOptions(), cancellationToken);

    /// <summary>Ingests <paramref name="files"/> with <paramref name="options"/> (batching, dry run, skipping bad records, sharding, progress).</summary>
    /// <inheritdoc cref="IngestAsync(IReadOnlyList{string}, CancellationToken)"/>
    public Task<IngestSummary> IngestAsync(IReadOnlyList<string> files, IngestOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfDisposed();
        if (options.BatchSize < 1 || options.CommitEvery < 1)
        {
            throw new InvalidRequestException("The ingest batch size and the papers per commit must be at least 1 (--batch, --commit-every).");
        }
        if (files.Count == 0)
        {
            throw new InvalidRequestException("Give at least one input file to ingest.");
        }
        return IngestCoreAsync(IngestInput.FromFiles(files), options, cancellationToken);
    }

    /// <summary>
    /// Adds the papers read from <paramref name="input"/> (an upload, a pipe) to the store, as
    /// <see cref="IngestAsync(IReadOnlyList{string}, IngestOptions, CancellationToken)"/> does for files. The stream is
    /// read as if it were the file <paramref name="sourceName"/>: its extension picks the format (<c>.jsonl</c> or
    /// <c>.ndjson</c>, <c>.csv</c>, <c>.txt</c> for a daily-papers dump; a trailing <c>.gz</c> for gzip, which is read from
    /// the stream synchronously), the store records
    /// it as the papers' dump (what <see cref="DigestRequest.Dump"/> selects), and errors name it with the line. Read as
    /// it arrives, never held whole; not disposed.
    /// </summary>
    /// <exception cref="InputFormatException">A record is malformed (<paramref name="sourceName"/>, line and field named), or the name has no known extension.</exception>
    /// <exception cref="StoreLockedException">Another process is writing the store.</exception>
    public Task<IngestSummary> IngestAsync(Stream input, string sourceName, IngestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ThrowIfDisposed();
        if (string.IsNullOrWhiteSpace(sourceName) || sourceName.IndexOfAny(['/', '\\']) >= 0)
        {
            throw new InvalidRequestException($"The source name of a stream ingest must be a file name such as 'upload-2025-03-14.jsonl' (no folders), not '{sourceName}'.");
        }
        options ??= new IngestOptions();
        if (options.BatchSize < 1 || options.CommitEvery < 1)
        {
            throw new InvalidRequestException("The ingest batch size and the papers per commit must be at least 1 (--batch, --commit-every).");
        }
        return IngestCoreAsync(IngestInput.FromStream(input, sourceName), options, cancellationToken);
    }

    private Task<IngestSummary> IngestCoreAsync(IngestInput input, IngestOptions options, CancellationToken cancellationToken)
    {
        IngestOptions logged = options with
        {
            OnIssue = issue =>
            {
                PaperLibraryLog.InputIssue(_logger, issue.ToString());
                options.OnIssue?.Invoke(issue);
            },
        };
        // A failure of the caller's own stream (a client gone, a body over a host's limit) is the caller's exception, not a storage error.
        return LibraryErrors.Guard(() => Local("ingest").IngestAsync(input, Embeddings, logged, cancellationToken), input.IsSourceFailure);
    }

    /// <summary>The stored papers most similar to a paper, a text, or liked and unliked examples; best first.</summary>
    /// <exception cref="InvalidRequestException">The query asks for nothing (no id, text or liked paper) or is out of range.</exception>
    /// <exception cref="PaperNotFoundException">A paper id of the query is not stored.</exception>
    public Task<SimilarResult> SimilarAsync(SimilarQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ThrowIfDisposed();
        Validate(query);
        return LibraryErrors.Guard(() => _backend.SimilarAsync(query, Embeddings, cancellationToken));
    }

    /// <summary>
    /// Answers every query of a JSONL file of <c>{"id", "text"}</c> objects with <paramref name="template"/>'s settings
    /// (k, mode, filter, ...), streamed in file order.
    /// </summary>
    /// <exception cref="InputFormatException">A line is not such an object (file, line and field named).</exception>
    public IAsyncEnumerable<SimilarAnswer> SimilarForQueriesAsync(string queriesPath, SimilarQuery template,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queriesPath);
        ArgumentNullException.ThrowIfNull(template);
        ThrowIfDisposed();
        return LibraryErrors.Guard(SimilarForQueriesCoreAsync(queriesPath, template, cancellationToken), cancellationToken);
    }

    private async IAsyncEnumerable<SimilarAnswer> SimilarForQueriesCoreAsync(string queriesPath, SimilarQuery template,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach ((string id, string text) in ReadQueries(queriesPath))
        {
            SimilarResult hits = await SimilarAsync(template with { PaperId = null, Text = text }, cancellationToken).ConfigureAwait(false);
            yield return new SimilarAnswer(id, hits);
        }
    }

    /// <summary>The (id, text) queries of a JSONL query file, in file order; blank lines skipped.</summary>
    /// <exception cref="InputFormatException">A line is not a <c>{"id", "text"}</c> object (file, line and field named).</exception>
    internal static IEnumerable<(string Id, string Text)> ReadQueries(string queriesPath)
    {
        if (Directory.Exists(queriesPath))
        {
            throw new InputFormatException(queriesPath, 0, null, "is a directory, not a query file: give a JSONL file of {\"id\", \"text\"} lines");
        }
        if (!File.Exists(queriesPath))
        {
            throw new InputFormatException(queriesPath, 0, null, "query file not found");
        }
        long line = 0;
        foreach (string raw in File.ReadLines(queriesPath))
        {
            line++;
            if (!string.IsNullOrWhiteSpace(raw))
            {
                yield return ParseQueryLine(queriesPath, line, raw);
            }
        }
    }

    /// <summary>The stored paper with id <paramref name="id"/>, or null when there is none.</summary>
    public Task<PaperDetails?> GetPaperAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ThrowIfDisposed();
        return LibraryErrors.Guard(() => _backend.GetPaperAsync(id, cancellationToken));
    }

    /// <summary>The stored papers that pass <paramref name="filter"/> (every paper when null), streamed in storage order.</summary>
    public IAsyncEnumerable<PaperDetails> ListPapersAsync(PaperFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return LibraryErrors.Guard(_backend.ListPapersAsync(filter, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Clusters every stored paper into labelled topics with keywords. Topic ids stay stable across runs: each run is
    /// matched to the last recorded run of its configuration (<see cref="TopicsRequest.History"/>; only
    /// <see cref="TopicHistoryMode.Record"/> writes, and never a read-only library).
    /// </summary>
    public Task<TopicModel> TopicsAsync(TopicsRequest? request = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        TopicsRequest topics = request ?? new TopicsRequest();
        topics.Validate();
        return LibraryErrors.Guard(() => Local("topics").TopicsAsync(topics, cancellationToken));
    }

    /// <summary>
    /// A digest of the papers <paramref name="request"/> selects (the papers new in a dump, papers since a date, or all):
    /// every one of them under the store's topics (labels, keywords, sizes), with links, authors and dates where known,
    /// a one-sentence summary and similar earlier papers; new and growing topics; and a map. The digest records its run
    /// in the topic history (<see cref="DigestRequest.History"/>), so next week's digest marks what is new.
    /// Render it with <see cref="DigestExtensions.Render"/>.
    /// </summary>
    /// <exception cref="InvalidRequestException">Both a date and a dump were given, or no stored paper came from the dump.</exception>
    public Task<Digest> DigestAsync(DigestRequest? request = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        DigestRequest digest = request ?? new DigestRequest();
        digest.Topics.Validate();
        return LibraryErrors.Guard(() => Local("digests").DigestAsync(digest, cancellationToken));
    }

    /// <summary>Writes every stored paper's latest vector as JSONL, the binary vector file, or a numpy matrix.</summary>
    public Task<ExportSummary> ExportAsync(ExportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ThrowIfDisposed();
        return LibraryErrors.Guard(() =>
        {
            if (request.OutputPath is { } path)
            {
                OutputFile.CheckNotInStore(path);
                if (request.Format == ExportFormat.Npy)
                {
                    OutputFile.CheckNotInStore(Store.StoreExport.IdsPathFor(path));
                }
            }
            return Local("exports").ExportAsync(request, cancellationToken);
        });
    }

    /// <summary>
    /// Brings the HNSW and BM25 indexes up to date with the store (adding only the papers it gained) and saves them in the
    /// store folder; searches do this on first need too, so this is for doing it ahead of time (or rebuilding).
    /// </summary>
    public Task<IndexSummary> BuildIndexesAsync(IndexBuildOptions? options = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return LibraryErrors.Guard(() => Local("index builds").BuildIndexesAsync(options ?? new IndexBuildOptions(), cancellationToken));
    }

    /// <summary>Picks up what other processes committed to the store since this library last looked.</summary>
    public Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return _backend is LocalStoreBackend local ? LibraryErrors.Guard(() => local.RefreshAsync(cancellationToken)) : Task.CompletedTask;
    }

    /// <summary>
    /// Combines shard stores (made by ingesting with <see cref="IngestOptions.Shard"/>) into the store at
    /// <paramref name="outputStore"/> (created, or added to when it holds a store of the same model). Vectors are copied,
    /// not re-embedded; resumable after a crash.
    /// </summary>
    /// <exception cref="DataFormatException">The shards are bound to different models.</exception>
    public static Task<IngestSummary> MergeAsync(string outputStore, IReadOnlyList<string> shardStores,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default) =>
        LibraryErrors.Guard(() => MergeCoreAsync(outputStore, shardStores, progress, cancellationToken));

    private static async Task<IngestSummary> MergeCoreAsync(string outputStore, IReadOnlyList<string> shardStores,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputStore);
        ArgumentNullException.ThrowIfNull(shardStores);
        if (shardStores.Count == 0)
        {
            throw new InvalidRequestException("Give at least one shard store to merge.");
        }
        IngestSummary summary = await PaperStore.MergeAsync(outputStore, shardStores, progress, cancellationToken: cancellationToken).ConfigureAwait(false);
        using PaperStore merged = PaperStore.Open(outputStore, new StoreOpenOptions { VerifyVectors = false });
        return summary with { StorePapers = merged.Count };
    }

    /// <summary>Releases the model, the store's files and the indexes; calls still running finish first.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _backend.Dispose();
        Embeddings.Dispose();
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The library's model: the folder the options name, else the one the store recorded when it was made (so a store
    /// made with another model needs no <see cref="EmbeddingModelOptions.ModelDirectory"/> later), else the default model;
    /// a backend that records only its model's fingerprint (a database table) finds that model itself
    /// (<see cref="IPaperBackend.LoadModel"/>).
    /// </summary>
    private (Encoding.ISentenceEncoder, string?) LoadModel() =>
        _options.EncoderFactory is { } factory ? (factory(), null)
            : _backend.LoadModel(_options) ?? EmbeddingModel.LoadEncoder(_options, _backend is LocalStoreBackend ? StoreDirectory : null);

    private void CheckModel(Encoding.ISentenceEncoder encoder)
    {
        if (_backend.ModelFingerprint is { } stored && stored != encoder.Fingerprint)
        {
            throw _backend is LocalStoreBackend
                ? new ModelMismatchException(StoreDirectory, stored, encoder.Fingerprint)
                : ModelMismatchException.ForLocation(_backend.Location, stored, encoder.Fingerprint);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> over the last committed state of the local store (kept open for it while an ingest
    /// publishes a newer one): for engine extensions that read a whole store, such as a sync into a database.
    /// </summary>
    /// <exception cref="InvalidRequestException">The library answers from another backend.</exception>
    /// <exception cref="DataFormatException">There is no store yet.</exception>
    internal Task<T> ReadStoreAsync<T>(string what, Func<PaperStore, Task<T>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ThrowIfDisposed();
        return Local(what).ReadStoreAsync(body);
    }

    private static void Validate(SimilarQuery query)
    {
        try
        {
            query.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidRequestException(LibraryErrors.Quote(e.Message.Split(" (Parameter", 2)[0]) + ".", e);
        }
        if (query.PaperId is null && query.Like.Count == 0 && query.Text is { } text && Tokenization.TextAnalyzer.Create().Terms(text).Count == 0)
        {
            // Every model embeds any string, so "the of and" would return hits that mean nothing.
            throw new InvalidRequestException(
                $"The query text has no words to search for (only stop words, single letters or punctuation): '{(text.Length > 60 ? text[..60] + "..." : text)}'; give a few content words.");
        }
    }

    private LocalStoreBackend Local(string what) => _backend as LocalStoreBackend ?? throw new InvalidRequestException(
        $"This library answers from {_backend.Location}; {what} need the local store folder: open a library over the store instead.");

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private static (string Id, string Text) ParseQueryLine(string path, long line, string raw)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(raw, Corpus.JsonInput.LineOptions);
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InputFormatException(path, line, null, "expected a JSON object {\"id\": ..., \"text\": ...}");
            }
            string id = root.TryGetProperty("id", out JsonElement idElement)
                ? idElement.ValueKind == JsonValueKind.String ? QueryString(path, line, "id", idElement) : idElement.GetRawText()
                : throw new InputFormatException(path, line, "id", "missing");
            string text = root.TryGetProperty("text", out JsonElement textElement) && textElement.ValueKind == JsonValueKind.String
                ? QueryString(path, line, "text", textElement)
                : throw new InputFormatException(path, line, "text", "missing or not a string");
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new InputFormatException(path, line, "text", "empty");
            }
            return (id, text);
        }
        catch (JsonException e)
        {
            throw new InputFormatException(path, line, null, "not valid JSON: " + Corpus.JsonInput.Describe(e));
        }
    }

    private static string QueryString(string path, long line, string field, JsonElement element) =>
        Corpus.JsonInput.TryGetString(element, out string? value, out string? problem)
            ? value
            : throw new InputFormatException(path, line, field, problem);
}
