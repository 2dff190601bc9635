using System.Diagnostics;
using System.Runtime.CompilerServices;
using Embeddings.Digests;
using Embeddings.Encoding;
using Embeddings.Index;
using Embeddings.Search;
using Embeddings.Store;
using Embeddings.Topics;
using Microsoft.Extensions.Logging;

namespace Embeddings;

/// <summary>
/// The store folder as a library backend. Reads go to a <see cref="StoreSnapshot"/>: a read-only view of the last
/// committed state with its search indexes, shared by concurrent calls and reference-counted. An ingest takes the
/// store's writer lock only while it runs, then opens a fresh snapshot (bringing the indexes up to date before it is
/// published) and swaps it in; calls that started on the old snapshot finish on it, and it is released after them.
/// </summary>
internal sealed class LocalStoreBackend : IPaperBackend
{
    private readonly PaperLibraryOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly Lock _swap = new();
    private StoreSnapshot? _current;
    private bool _disposed;

    private LocalStoreBackend(PaperLibraryOptions options, ILogger logger, StoreSnapshot? current)
    {
        _options = options;
        _logger = logger;
        _current = current;
        Location = options.StoreDirectory;
    }

    /// <inheritdoc/>
    public string Location { get; }

    /// <inheritdoc/>
    public string? ModelFingerprint
    {
        get
        {
            using SnapshotLease lease = Acquire();
            return lease.Snapshot?.Store.ModelFingerprint;
        }
    }

    /// <summary>Opens the store in <see cref="PaperLibraryOptions.StoreDirectory"/> (a full path) read-only, when there is one.</summary>
    public static LocalStoreBackend Open(PaperLibraryOptions options, ILogger logger)
    {
        StoreSnapshot? snapshot = null;
        if (PaperStore.Exists(options.StoreDirectory))
        {
            snapshot = new StoreSnapshot(PaperStore.Open(options.StoreDirectory, new StoreOpenOptions { VerifyVectors = options.VerifyOnOpen }));
            PaperLibraryLog.StoreOpened(logger, options.StoreDirectory, snapshot.Store.Count, snapshot.Store.ModelFingerprint);
        }
        else
        {
            PaperLibraryLog.StoreMissing(logger, options.StoreDirectory);
        }
        return new LocalStoreBackend(options, logger, snapshot);
    }

    // ------------------------------------------------------------------ reads

    /// <inheritdoc/>
    public async Task<LibraryStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using SnapshotLease lease = Acquire();
        if (lease.Snapshot is not { } snapshot)
        {
            return new LibraryStatus { StoreDirectory = Location, StoreExists = false, Papers = 0, VectorRows = 0 };
        }
        PaperStore store = snapshot.Store;
        HnswIndexStatus? hnsw = null;
        string path = SearchIndexes.HnswPath(store.Directory);
        if (!_options.ReadOnly && snapshot.OpenedSearch?.Indexes.Hnsw is { } loaded && File.Exists(path))
        {
            // The index in memory is the one saved (or about to be): no need to read the file again.
            hnsw = new HnswIndexStatus(path, new FileInfo(path).Length, loaded.M, loaded.EfConstruction, loaded.EfSearch, loaded.Dimension,
                loaded.CoveredCount, loaded.Count, loaded.DeletedCount, StorageOf(loaded));
        }
        else if (File.Exists(path))
        {
            hnsw = await Task.Run(() =>
            {
                using HnswIndex index = HnswIndex.Load(path, store.ModelFingerprint, store.Dimension);
                return new HnswIndexStatus(path, new FileInfo(path).Length, index.M, index.EfConstruction, index.EfSearch, index.Dimension,
                    index.CoveredCount, index.Count, index.DeletedCount, StorageOf(index));
            }, cancellationToken).ConfigureAwait(false);
        }
        return new LibraryStatus
        {
            StoreDirectory = store.Directory,
            StoreExists = true,
            Papers = store.Count,
            VectorRows = store.RowCount,
            ModelFingerprint = store.ModelFingerprint,
            Dimension = store.Dimension,
            Commits = store.SegmentCount,
            Hnsw = hnsw,
        };
    }

    /// <inheritdoc/>
    public async Task<SimilarResult> SimilarAsync(SimilarQuery query, EmbeddingModel model, CancellationToken cancellationToken)
    {
        using SnapshotLease lease = Acquire();
        StoreSnapshot snapshot = RequireStore(lease);
        PaperSearch search = await snapshot.SearchAsync(IndexOptions(rebuild: false), null, _logger, cancellationToken).ConfigureAwait(false);
        ISentenceEncoder? encoder = SimilarQueryModel.EncoderFor(query, model, _logger);
        return await search.SearchAsync(query, encoder, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task<PaperDetails?> GetPaperAsync(string id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using SnapshotLease lease = Acquire();
        StoredPaper? paper = lease.Snapshot?.Store.GetPaper(id);
        return Task.FromResult(paper is null ? null : Details(paper));
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<PaperDetails> ListPapersAsync(PaperFilter? filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using SnapshotLease lease = Acquire();
        if (lease.Snapshot is not { } snapshot)
        {
            yield break;
        }
        bool anyCategories = false;
        Func<Corpus.Paper, bool>? matches = filter?.Matcher();
        await foreach (StoredPaper paper in snapshot.Store.ReadPapersAsync(cancellationToken).ConfigureAwait(false))
        {
            anyCategories |= paper.Paper.Categories is not null;
            if (matches is null || matches(paper.Paper))
            {
                yield return Details(paper);
            }
        }
        if (filter?.Categories is not null && !anyCategories)
        {
            PaperLibraryLog.FilterWarning(_logger, PaperSearch.NoCategoriesWarning(filter));
        }
    }

    /// <summary>Runs <paramref name="body"/> over the current committed state; it stays open until the body is done.</summary>
    public async Task<T> ReadStoreAsync<T>(Func<PaperStore, Task<T>> body)
    {
        using SnapshotLease lease = Acquire();
        return await body(RequireStore(lease).Store).ConfigureAwait(false);
    }

    /// <summary>Topics of every stored paper.</summary>
    public async Task<TopicModel> TopicsAsync(TopicsRequest request, CancellationToken cancellationToken)
    {
        using SnapshotLease lease = Acquire();
        PaperStore store = RequireStore(lease).Store;
        TopicModel model = await StoreTopics.FitAsync(store, request, Writable(request.History), cancellationToken).ConfigureAwait(false);
        PaperLibraryLog.TopicsFitted(_logger, Location, model.Topics.Count, model.Method, model.PaperIds.Count);
        return model;
    }

    /// <summary>A read-only library compares with the topic history but never records a run.</summary>
    private TopicHistoryMode Writable(TopicHistoryMode mode) => _options.ReadOnly && mode == TopicHistoryMode.Record ? TopicHistoryMode.Compare : mode;

    /// <summary>The digest of the selected papers.</summary>
    public async Task<Digest> DigestAsync(DigestRequest request, CancellationToken cancellationToken)
    {
        using SnapshotLease lease = Acquire();
        PaperStore store = RequireStore(lease).Store;
        Digest digest = await StoreTopics.DigestAsync(store, request, Writable(request.History), cancellationToken).ConfigureAwait(false);
        PaperLibraryLog.DigestBuilt(_logger, digest.Selection, digest.PaperCount, digest.Topics.Count);
        return digest;
    }

    /// <summary>Writes every latest vector in an interchange format.</summary>
    public async Task<ExportSummary> ExportAsync(ExportRequest request, CancellationToken cancellationToken)
    {
        if ((request.OutputPath is null) == (request.OutputStream is null))
        {
            throw new InvalidRequestException("Give the export output as a file path or as a stream (exactly one of them).");
        }
        if (request.Format == ExportFormat.Npy && request.OutputPath is null)
        {
            throw new InvalidRequestException("The npy export writes its ids to a second file beside the matrix, so it needs a file path, not a stream; use jsonl or bin for a stream.");
        }
        using SnapshotLease lease = Acquire();
        PaperStore store = RequireStore(lease).Store;
        long count = await StreamOutput.WriteAsync(request.OutputPath, request.OutputStream, path => request.Format switch
        {
            ExportFormat.Jsonl => StoreExport.WriteJsonlAsync(store, path, cancellationToken),
            ExportFormat.Npy => Task.Run(() => StoreExport.WriteNpy(store, path, cancellationToken), cancellationToken),
            ExportFormat.Bin => StoreExport.WriteBinAsync(store, path, cancellationToken),
            _ => throw new InvalidRequestException($"Unknown export format {request.Format}; use Jsonl, Bin or Npy."),
        }, cancellationToken).ConfigureAwait(false);
        PaperLibraryLog.Exported(_logger, Location, count, request.Format.ToString().ToLowerInvariant());
        return new ExportSummary(count, store.Dimension, store.ModelFingerprint,
            request.Format == ExportFormat.Npy ? StoreExport.IdsPathFor(request.OutputPath!) : null);
    }

    /// <summary>Brings the search indexes up to date with the store (or rebuilds them) and publishes them.</summary>
    public async Task<IndexSummary> BuildIndexesAsync(IndexBuildOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (!options.Rebuild)
        {
            using SnapshotLease lease = Acquire();
            StoreSnapshot snapshot = RequireStore(lease);
            PaperSearch search = await snapshot.SearchAsync(IndexOptions(rebuild: false), options.Progress, _logger, cancellationToken).ConfigureAwait(false);
            return new IndexSummary(search.Indexes.Status, search.Indexes.LiveCount, clock.Elapsed.TotalSeconds);
        }
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using (SnapshotLease lease = Acquire())
            {
                RequireStore(lease);
            }
            StoreSnapshot fresh = OpenSnapshot();
            try
            {
                PaperSearch search = await fresh.SearchAsync(IndexOptions(rebuild: true), options.Progress, _logger, cancellationToken).ConfigureAwait(false);
                Publish(fresh);
                return new IndexSummary(search.Indexes.Status, search.Indexes.LiveCount, clock.Elapsed.TotalSeconds);
            }
            catch
            {
                fresh.Release();
                throw;
            }
        }
        finally
        {
            _writer.Release();
        }
    }

    // ------------------------------------------------------------------ writes

    /// <summary>
    /// Ingests <paramref name="input"/> (files or a stream) with the library's model (creating the store on first use), then publishes the
    /// new state. One ingest at a time per library; another process writing the store is refused with
    /// <see cref="StoreLockedException"/>.
    /// </summary>
    public async Task<IngestSummary> IngestAsync(IngestInput input, EmbeddingModel model, IngestOptions options, CancellationToken cancellationToken)
    {
        if (_options.ReadOnly && !options.DryRun)
        {
            throw new InvalidRequestException($"The library over '{Location}' was opened read-only ({nameof(PaperLibraryOptions.ReadOnly)}); open it writable to ingest.");
        }
        ISentenceEncoder encoder = model.Encoder();
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (options.DryRun)
            {
                return await PaperStore.DryRunAsync(Location, input, encoder, options, cancellationToken).ConfigureAwait(false);
            }
            IngestSummary summary;
            int count;
            try
            {
                using PaperStore store = PaperStore.OpenOrCreate(Location, encoder, model.Info.Directory); // records the model folder
                if (store.TookOverStaleLockFrom is { } stale)
                {
                    PaperLibraryLog.StaleLockTakenOver(_logger, Location, stale);
                }
                summary = await store.IngestInputAsync(input, encoder, options, cancellationToken).ConfigureAwait(false);
                count = store.Count;
            }
            finally
            {
                // Whatever was committed (all of it, or the batches before an error or a cancel) becomes visible.
                if (PaperStore.Exists(Location))
                {
                    await RefreshCoreAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            PaperLibraryLog.Ingested(_logger, Location, summary.Read, summary.New, summary.Changed, summary.Duplicate, summary.Skipped, summary.Embedded, summary.Seconds);
            return summary with { StorePapers = count };
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Picks up what other processes committed since this library last looked.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (PaperStore.Exists(Location))
            {
                await RefreshCoreAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Releases the current snapshot; calls still running on it finish first.</summary>
    public void Dispose()
    {
        StoreSnapshot? current;
        lock (_swap)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            current = _current;
            _current = null;
        }
        current?.Release();
    }

    // ------------------------------------------------------------------ snapshots

    private async Task RefreshCoreAsync(CancellationToken cancellationToken)
    {
        StoreSnapshot fresh = OpenSnapshot();
        try
        {
            bool searched;
            using (SnapshotLease lease = Acquire())
            {
                searched = lease.Snapshot?.HasSearch == true;
            }
            if (searched)
            {
                // Searches keep answering from the old state until the new indexes are ready.
                await fresh.SearchAsync(IndexOptions(rebuild: false), null, _logger, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            fresh.Release();
            throw;
        }
        Publish(fresh);
        PaperLibraryLog.Refreshed(_logger, Location, fresh.Store.Count);
    }

    private StoreSnapshot OpenSnapshot() =>
        // Segments are always checked on open; the vectors were checked when this library (or the writer) saw them.
        new(PaperStore.Open(Location, new StoreOpenOptions { VerifyVectors = false }));

    private void Publish(StoreSnapshot fresh)
    {
        StoreSnapshot? old;
        lock (_swap)
        {
            if (_disposed)
            {
                old = fresh;
            }
            else
            {
                old = _current;
                _current = fresh;
            }
        }
        old?.Release();
    }

    private SnapshotLease Acquire()
    {
        lock (_swap)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_current is null && PaperStore.Exists(Location))
            {
                // Another process made the store after this library opened.
                _current = OpenSnapshot();
            }
            _current?.AddReference();
            return new SnapshotLease(_current);
        }
    }

    private StoreSnapshot RequireStore(SnapshotLease lease) =>
        lease.Snapshot ?? throw new DataFormatException(Location,
            "no store here yet: ingest papers first (`embeddings ingest --store DIR <files>`, or PaperLibrary.IngestAsync)");

    private SearchIndexOptions IndexOptions(bool rebuild) => new()
    {
        M = _options.HnswM,
        EfConstruction = _options.HnswEfConstruction,
        Quantization = _options.HnswStorage switch
        {
            HnswStorage.Int8 => HnswQuantization.Int8,
            HnswStorage.Float32 => HnswQuantization.None,
            _ => null,
        },
        Threads = _options.IndexThreads,
        Rebuild = rebuild,
        Persist = !_options.ReadOnly,
    };

    private static HnswStorage StorageOf(HnswIndex index) => index.Quantization == HnswQuantization.Int8 ? HnswStorage.Int8 : HnswStorage.Float32;

    private static PaperDetails Details(StoredPaper stored)
    {
        Corpus.Paper p = stored.Paper;
        return new PaperDetails
        {
            Id = p.Id,
            Title = p.Title,
            Abstract = p.Abstract,
            Authors = p.Authors,
            AuthorCount = p.Authors?.Count ?? p.AuthorCount,
            Date = p.Date,
            DateText = p.DateText,
            Categories = p.Categories,
            Url = p.Url,
            Sources = stored.Sources,
            SourceFile = stored.SourceFile,
            SourceLine = stored.SourceLine,
            FirstSeen = stored.FirstSeen,
            Revision = stored.Revision,
            Truncated = (stored.Flags & StoredPaperFlags.Truncated) != 0,
            Empty = (stored.Flags & StoredPaperFlags.Empty) != 0,
        };
    }

    /// <summary>A counted reference to a snapshot (or to no store), released on dispose.</summary>
    private readonly struct SnapshotLease(StoreSnapshot? snapshot) : IDisposable
    {
        public StoreSnapshot? Snapshot { get; } = snapshot;

        public void Dispose() => Snapshot?.Release();
    }
}

/// <summary>
/// One committed state of the store, read-only, with its search indexes opened on first need. Reference-counted:
/// the backend holds one reference while the snapshot is current, each call holds one while it runs; the files are
/// released when the last goes.
/// </summary>
internal sealed class StoreSnapshot
{
    private readonly Lock _gate = new();
    private Task<PaperSearch>? _search;
    private int _references = 1;

    public StoreSnapshot(PaperStore store)
    {
        Store = store;
    }

    public PaperStore Store { get; }

    /// <summary>Whether search indexes were opened on this snapshot.</summary>
    public bool HasSearch
    {
        get
        {
            lock (_gate)
            {
                return _search is { IsCompletedSuccessfully: true };
            }
        }
    }

    /// <summary>The search, when it has been opened on this snapshot; null otherwise.</summary>
    public PaperSearch? OpenedSearch
    {
        get
        {
            lock (_gate)
            {
                return _search is { IsCompletedSuccessfully: true } done ? done.Result : null;
            }
        }
    }

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0)
        {
            return;
        }
        Task<PaperSearch>? search;
        lock (_gate)
        {
            search = _search;
        }
        if (search is { IsCompletedSuccessfully: true })
        {
            search.Result.Dispose();
        }
        Store.Dispose();
    }

    /// <summary>
    /// The search over this snapshot, opened once and shared. The opening is not tied to the first caller's
    /// cancellation (a cancelled caller stops waiting; the next one finds the indexes ready); a failed opening is
    /// retried by the next caller.
    /// </summary>
    public Task<PaperSearch> SearchAsync(SearchIndexOptions options, IProgress<WorkProgress>? progress, ILogger logger, CancellationToken cancellationToken)
    {
        Task<PaperSearch> task;
        lock (_gate)
        {
            if (_search is null || _search.IsFaulted || _search.IsCanceled)
            {
                _search = OpenSearchAsync(options, progress, logger);
            }
            task = _search;
        }
        return task.WaitAsync(cancellationToken);
    }

    private async Task<PaperSearch> OpenSearchAsync(SearchIndexOptions options, IProgress<WorkProgress>? progress, ILogger logger)
    {
        await Task.Yield();
        PaperSearch search = await PaperSearch.OpenAsync(Store, null, options, progress, CancellationToken.None).ConfigureAwait(false);
        PaperLibraryLog.IndexesReady(logger, Store.Directory, search.Indexes.Status);
        return search;
    }
}
