using System.Text.Json;
using Embeddings.Corpus;
using Embeddings.IO;
using Embeddings.Index;
using Embeddings.Lexical;
using Embeddings.Store;

namespace Embeddings.Search;

/// <summary>Options of the indexes kept beside a store.</summary>
internal sealed record SearchIndexOptions
{
    /// <summary>HNSW links per node (M).</summary>
    public int M { get; init; } = 16;

    /// <summary>HNSW build breadth.</summary>
    public int EfConstruction { get; init; } = 200;

    /// <summary>Threads for building; 0 = all cores.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// How the HNSW graph stores vectors. <see cref="HnswQuantization.Int8"/>: one byte per dimension in the graph,
    /// final candidates re-scored against the store's memory-mapped rows, so the index holds no second copy of the
    /// vectors (BENCHMARKS.md: faster searches and less memory at the float graph's recall). Null (default): a new
    /// graph is int8 and an index already on disk keeps its storage (a reader never rebuilds an older float index
    /// just because the default changed); set, an index on disk with the other storage is rebuilt, as a change of M is.
    /// </summary>
    public HnswQuantization? Quantization { get; init; }

    /// <summary>Throw the persisted indexes away and build them again (after changing M, say).</summary>
    public bool Rebuild { get; init; }

    /// <summary>Save the indexes after bringing them up to date (needs write access to the store folder).</summary>
    public bool Persist { get; init; } = true;
}

/// <summary>
/// The HNSW and BM25 indexes of a store, persisted in <c>STORE/indexes/</c> with the count of store rows they
/// cover. Opening loads them (binary, no text parsing for the vector index), checks they belong to the store's
/// model, then adds only the rows the store gained and drops rows that a newer revision replaced.
/// </summary>
internal sealed class SearchIndexes : IDisposable
{
    /// <summary>Folder inside the store holding the indexes.</summary>
    public const string FolderName = "indexes";

    private const string HnswFile = "vectors.hnsw";
    private const string Bm25File = "lexical.bm25";
    private const string StateFile = "state.bin";
    private const string LegacyStateFile = "state.json";

    private readonly PaperStore _store;
    private Paper[] _paperOfRow = [];
    private UInt128[] _hashOfRow = [];
    private int[] _rowOfSlot = [];
    private Dictionary<string, int> _rowById = new(StringComparer.Ordinal);

    private SearchIndexes(PaperStore store, Bm25Index bm25)
    {
        _store = store;
        Bm25 = bm25;
    }

    /// <summary>The vector index; null for an empty store.</summary>
    public HnswIndex? Hnsw { get; private set; }

    /// <summary>The lexical index over title and abstract of the live papers.</summary>
    public Bm25Index Bm25 { get; private set; }

    /// <summary>Rows of the store's vector file holding the latest revision of a paper.</summary>
    public bool[] LiveRows { get; private set; } = [];

    /// <summary>Number of live rows (papers).</summary>
    public int LiveCount { get; private set; }

    /// <summary>Whether any live paper has categories (a category filter over a store without any matches nothing).</summary>
    public bool AnyCategories { get; private set; }

    /// <summary>What opening had to do, for reports ("loaded; added 12 papers").</summary>
    public string Status { get; private set; } = "";

    /// <summary>Path of the HNSW file of a store.</summary>
    public static string HnswPath(string storeDirectory) => Path.Combine(storeDirectory, FolderName, HnswFile);

    private static string StorageName(HnswQuantization quantization) => quantization == HnswQuantization.Int8 ? "int8" : "float32";

    /// <summary>Opens (loads, brings up to date, saves) the indexes of <paramref name="store"/>.</summary>
    public static async Task<SearchIndexes> OpenAsync(PaperStore store, SearchIndexOptions options,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        string folder = Path.Combine(store.Directory, FolderName);
        var status = new List<string>();
        IndexState? state = null;
        if (!options.Rebuild)
        {
            try
            {
                state = IndexState.TryLoad(folder, store.ModelFingerprint);
                if (state is not null && state.Distrust(store, folder) is { } reason)
                {
                    status.Add($"indexes rebuilt: {reason}");
                    state = null;
                }
            }
            catch (DataFormatException e)
            {
                // The indexes are derived from the store: a damaged one is rebuilt, not a reason to refuse searching.
                status.Add($"indexes rebuilt: {e.Message}");
                state = null;
            }
        }

        var indexes = new SearchIndexes(store, Bm25Index.Create());
        await indexes.LoadPapersAsync(progress, cancellationToken).ConfigureAwait(false);

        // Lexical index: load, then add papers whose latest row is beyond what it covered (new or changed text).
        int bm25Covered = 0;
        if (state is not null && File.Exists(Path.Combine(folder, Bm25File)))
        {
            try
            {
                Bm25Index loaded = Bm25Index.Load(Path.Combine(folder, Bm25File));
                if (state.StoreTie is null && LegacyCoverageProblem(store, state.Bm25Rows, loaded) is { } problem)
                {
                    status.Add($"BM25 rebuilt: {problem}");
                }
                else
                {
                    indexes.Bm25 = loaded;
                    bm25Covered = state.Bm25Rows;
                }
            }
            catch (DataFormatException e)
            {
                status.Add($"BM25 rebuilt: {e.Message}");
            }
        }
        int lexicalAdded = indexes.UpdateLexical(bm25Covered, progress, cancellationToken);
        status.Add(bm25Covered == 0 ? $"BM25 built over {indexes.LiveCount} papers" : $"BM25 loaded, {lexicalAdded} papers added");

        // Vector index: load (checks magic, version, checksum, fingerprint), add the missing rows, drop replaced ones.
        int rows = store.RowCount;
        string hnswPath = Path.Combine(folder, HnswFile);
        if (rows > 0)
        {
            HnswIndex? hnsw = null;
            if (state is not null && File.Exists(hnswPath))
            {
                try
                {
                    hnsw = HnswIndex.Load(hnswPath, store.ModelFingerprint, store.Dimension);
                }
                catch (DataFormatException e)
                {
                    status.Add($"HNSW rebuilt: {e.Message}");
                }
                if (hnsw is not null && hnsw.CoveredCount > rows)
                {
                    status.Add($"HNSW covers {hnsw.CoveredCount} rows but the store holds {rows}: rebuilt");
                    hnsw.Dispose();
                    hnsw = null;
                }
                if (hnsw is not null && (hnsw.M != options.M || hnsw.EfConstruction != options.EfConstruction))
                {
                    status.Add($"HNSW parameters changed (M {hnsw.M} -> {options.M}, efConstruction {hnsw.EfConstruction} -> {options.EfConstruction}): rebuilt");
                    hnsw.Dispose();
                    hnsw = null;
                }
                else if (hnsw is not null && options.Quantization is { } wanted && hnsw.Quantization != wanted)
                {
                    status.Add($"HNSW storage changed ({StorageName(hnsw.Quantization)} -> {StorageName(wanted)}): rebuilt");
                    hnsw.Dispose();
                    hnsw = null;
                }
            }
            // An int8 graph re-scores against the store's rows (memory-mapped), attached again on every open.
            ReadOnlyMemory<float> storeRows = store.GetAllRows();
            if (hnsw is { UsesCallerVectors: true })
            {
                try
                {
                    hnsw.UseExactVectors(storeRows);
                }
                catch (ArgumentException e)
                {
                    status.Add($"HNSW does not match the store's vectors ({e.Message}): rebuilt");
                    hnsw.Dispose();
                    hnsw = null;
                }
            }
            int covered = hnsw?.CoveredCount ?? 0;
            HnswQuantization quantization = options.Quantization ?? HnswQuantization.Int8;
            hnsw ??= HnswIndex.Create(new HnswOptions
            {
                Dimension = store.Dimension,
                M = options.M,
                EfConstruction = options.EfConstruction,
                ModelFingerprint = store.ModelFingerprint,
                MaxDegreeOfParallelism = options.Threads,
                InitialCapacity = Math.Max(rows, 1024),
                Quantization = quantization,
                ExactVectors = quantization == HnswQuantization.Int8 ? storeRows : default,
            });
            if (covered < rows)
            {
                hnsw.AddRange(storeRows[(covered * store.Dimension)..], covered, progress, cancellationToken);
            }
            int dropped = 0;
            for (int row = 0; row < rows; row++)
            {
                if (!indexes.LiveRows[row] && hnsw.Contains(row) && hnsw.Delete(row))
                {
                    dropped++;
                }
            }
            indexes.Hnsw = hnsw;
            status.Add(covered == 0 ? $"HNSW built over {rows} vectors" : $"HNSW loaded, {rows - covered} vectors added, {dropped} replaced");
            if (options.Persist && (covered < rows || dropped > 0 || lexicalAdded > 0 || state is null))
            {
                try
                {
                    indexes.Save(folder);
                }
                catch (Exception e) when (e is UnauthorizedAccessException or IOException)
                {
                    // A read-only store is still searchable; the indexes are just rebuilt next time.
                    status.Add($"indexes not saved ({e.Message})");
                }
            }
        }
        indexes.Status = string.Join("; ", status);
        return indexes;
    }

    /// <summary>Writes both indexes and the state file atomically.</summary>
    public void Save(string? folder = null)
    {
        folder ??= Path.Combine(_store.Directory, FolderName);
        Directory.CreateDirectory(folder);
        Hnsw?.Save(Path.Combine(folder, HnswFile));
        Bm25.Save(Path.Combine(folder, Bm25File));
        // The state file goes last, tied to this store's commits and to the exact index files just written: indexes
        // copied from another store, left from a re-created one, or restored from another time are rebuilt, not trusted.
        (int segments, ulong tie) = _store.CommitTie();
        new IndexState(IndexState.CurrentVersion, _store.ModelFingerprint, _store.RowCount)
        {
            Segments = segments,
            StoreTie = Hex(tie),
            Bm25Checksum = Container.HeaderChecksum(Path.Combine(folder, Bm25File)) is { } bm25 ? Hex(bm25) : null,
            HnswChecksum = Hnsw is null ? null : Container.HeaderChecksum(Path.Combine(folder, HnswFile)) is { } hnsw ? Hex(hnsw) : null,
        }.Save(folder);
    }

    /// <summary>
    /// Why an untied (older) index state's row count cannot be right for <paramref name="bm25"/>, or null: the BM25
    /// index must hold exactly the distinct papers of the rows the state says it covers. A count changed by hand or by
    /// a fault would otherwise leave the papers after it out of lexical search for good.
    /// </summary>
    private static string? LegacyCoverageProblem(PaperStore store, int coveredRows, Bm25Index bm25)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int row = 0; row < coveredRows; row++)
        {
            ids.Add(store.IdOfRow(row));
        }
        return ids.Count == bm25.Count ? null
            : $"the index state says it covers {coveredRows} rows ({ids.Count} papers), but lexical.bm25 holds {bm25.Count} papers";
    }

    /// <summary>The paper whose latest revision is in <paramref name="row"/>.</summary>
    public Paper PaperOfRow(int row) => _paperOfRow[row];

    /// <summary>The live row of paper <paramref name="id"/>.</summary>
    public int RowOf(string id) => _rowById[id];

    /// <summary>Content hash of the paper in <paramref name="row"/>.</summary>
    public UInt128 ContentHashOfRow(int row) => _hashOfRow[row];

    /// <summary>The live row of BM25 document <paramref name="slot"/>, or -1 when that document was removed.</summary>
    public int RowOfLexicalSlot(int slot) => slot < _rowOfSlot.Length ? _rowOfSlot[slot] : -1;

    /// <summary>The BM25 document number of the paper in <paramref name="row"/>, or -1.</summary>
    public int LexicalSlotOfRow(int row) => Bm25.DocumentSlot(_paperOfRow[row].Id);

    /// <inheritdoc />
    public void Dispose() => Hnsw?.Dispose();

    private async Task LoadPapersAsync(IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        int rows = _store.RowCount;
        var live = new bool[rows];
        var papers = new Paper[rows];
        var hashes = new UInt128[rows];
        var rowById = new Dictionary<string, int>(_store.Count, StringComparer.Ordinal);
        int count = 0;
        bool anyCategories = false;
        await foreach (StoredPaper p in _store.ReadPapersAsync(cancellationToken).ConfigureAwait(false))
        {
            anyCategories |= p.Paper.Categories is not null;
            live[p.Row] = true;
            papers[p.Row] = p.Paper;
            hashes[p.Row] = p.ContentHash;
            rowById[p.Paper.Id] = p.Row;
            if (++count % 10_000 == 0)
            {
                progress?.Report(new WorkProgress("reading papers", count, _store.Count, "papers"));
            }
        }
        LiveRows = live;
        LiveCount = count;
        AnyCategories = anyCategories;
        _paperOfRow = papers;
        _hashOfRow = hashes;
        _rowById = rowById;
    }

    private int UpdateLexical(int coveredRows, IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        int added = 0;
        for (int row = coveredRows; row < LiveRows.Length; row++)
        {
            if (!LiveRows[row])
            {
                continue;
            }
            cancellationToken.ThrowIfCancellationRequested();
            Paper paper = _paperOfRow[row];
            Bm25.Remove(paper.Id);
            Bm25.Add(paper);
            if (++added % 10_000 == 0)
            {
                progress?.Report(new WorkProgress("lexical index", added, LiveRows.Length - coveredRows, "papers"));
            }
        }
        var rowOfSlot = new int[Bm25.DocumentSlots];
        for (int slot = 0; slot < rowOfSlot.Length; slot++)
        {
            rowOfSlot[slot] = _rowById.TryGetValue(Bm25.DocumentId(slot), out int row) ? row : -1;
        }
        _rowOfSlot = rowOfSlot;
        return added;
    }

    /// <summary>
    /// What the saved indexes cover: <c>indexes/state.bin</c>, UTF-8 JSON <c>{"Version", "ModelFingerprint", "Bm25Rows"}</c>
    /// in the checksummed <see cref="Container"/> (format version 2). Version 1 was the same JSON as a bare
    /// <c>indexes/state.json</c>; it is still read, and replaced by the next save.
    /// </summary>
    private static string Hex(ulong value) => value.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    private sealed record IndexState(int Version, string ModelFingerprint, int Bm25Rows)
    {
        public const int CurrentVersion = 2;

        /// <summary>Store segments the indexes were built from (0 in states written before indexes were tied to their store).</summary>
        public int Segments { get; init; }

        /// <summary>Hex tie of those segments (<see cref="PaperStore.CommitTie"/>); null in older states.</summary>
        public string? StoreTie { get; init; }

        /// <summary>Hex payload checksum of the BM25 file saved with this state.</summary>
        public string? Bm25Checksum { get; init; }

        /// <summary>Hex payload checksum of the HNSW file saved with this state (null without vectors).</summary>
        public string? HnswChecksum { get; init; }

        /// <summary>Why these indexes cannot be trusted for <paramref name="store"/>, or null when they can.</summary>
        public string? Distrust(PaperStore store, string folder)
        {
            if (StoreTie is null)
            {
                // Written before indexes were tied to their store (version 1, or version 2 before the tie): still used,
                // with the row count it claims checked against the BM25 index itself (LegacyCoverageProblem).
                return Bm25Rows < 0 || Bm25Rows > store.RowCount ? $"the index state says {Bm25Rows} rows, the store holds {store.RowCount}" : null;
            }
            if (store.TieAt(Segments) is not { } tie || Hex(tie.Tie) != StoreTie)
            {
                return "they were built from another store, or from papers this store no longer holds";
            }
            if (tie.Rows != Bm25Rows)
            {
                return $"the index state says {Bm25Rows} rows, its store segments hold {tie.Rows}";
            }
            if (Bm25Checksum != (Container.HeaderChecksum(Path.Combine(folder, Bm25File)) is { } bm25 ? Hex(bm25) : null))
            {
                return "lexical.bm25 is not the file saved with the index state";
            }
            if (HnswChecksum is not null && HnswChecksum != (Container.HeaderChecksum(Path.Combine(folder, HnswFile)) is { } hnsw ? Hex(hnsw) : null))
            {
                return "vectors.hnsw is not the file saved with the index state";
            }
            return null;
        }

        public static readonly ContainerFormat Format = ContainerFormat.Create("index state", "EMBIDXST", CurrentVersion, oldestVersion: 2,
            fix: "run `embeddings index build --rebuild --store DIR` (searches also rebuild damaged indexes by themselves)");

        public static IndexState? TryLoad(string folder, string fingerprint)
        {
            string path = Path.Combine(folder, StateFile);
            string legacy = Path.Combine(folder, LegacyStateFile);
            IndexState? state;
            if (File.Exists(path))
            {
                byte[] json = Container.Read(path, Format, c => c.Binary.ReadBytes((int)c.Length));
                state = Parse(path, json);
            }
            else if (File.Exists(legacy))
            {
                state = Parse(legacy, File.ReadAllBytes(legacy));
                if (state is not null && state.Version != 1)
                {
                    throw new DataFormatException(legacy, $"index state version {state.Version} in a bare JSON file is not understood; {Format.Fix}.");
                }
            }
            else
            {
                return null;
            }
            if (state is null || state.Version > CurrentVersion)
            {
                throw new DataFormatException(path, $"index state version {state?.Version} is newer than this program understands ({CurrentVersion}); upgrade, or {Format.Fix}.");
            }
            // Indexes of another model are rebuilt rather than mixed.
            return state.ModelFingerprint == fingerprint ? state : null;
        }

        private static IndexState? Parse(string path, byte[] json)
        {
            try
            {
                return JsonSerializer.Deserialize<IndexState>(json);
            }
            catch (JsonException e)
            {
                throw new DataFormatException(path, $"unreadable index state ({e.Message}); {Format.Fix}.");
            }
        }

        public void Save(string folder)
        {
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(this);
            Container.Write(Path.Combine(folder, StateFile), Format, w => w.Write(json));
            // The version 1 file would be stale from now on; older builds without it just rebuild their indexes.
            string legacy = Path.Combine(folder, LegacyStateFile);
            if (File.Exists(legacy))
            {
                File.Delete(legacy);
            }
        }
    }
}
