using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.IO;

namespace Embeddings.Store;

/// <summary>
/// A directory holding papers and their vectors for one model, grown by incremental, crash-safe ingestion.
/// <list type="bullet">
/// <item><c>manifest.json</c>: format version, model fingerprint, dimension, counts, and the committed segments with
/// lengths and checksums. Replaced atomically; it is the commit point.</item>
/// <item><c>seg-NNNNNN.papers</c>: the paper records of one commit (see <see cref="PaperSegment"/>), never modified.</item>
/// <item><c>vectors.f32</c>: contiguous float32 rows, little-endian, append-only, memory-mappable.</item>
/// <item><c>writer.lock</c>/<c>writer.json</c>: the single-writer lock and its holder.</item>
/// </list>
/// A changed paper gets a new row (revision); the id → latest row map is rebuilt on open. Readers open without a lock
/// and see the last committed state while a writer works. Instances are not thread-safe while ingesting.
/// </summary>
internal sealed partial class PaperStore : IDisposable
{
    /// <summary>
    /// The store format this build writes: version 3 (paper records with a link, the source line and validated dates;
    /// segments in the checksummed container). Version 1 and 2 stores are read as they are (their dates validated on
    /// reading); the first commit into one adds version 3 segments and marks it version 3.
    /// </summary>
    public const int FormatVersion = 3;

    /// <summary>The oldest store format read without a migration step.</summary>
    private const int OldestReadVersion = 1;

    /// <summary>
    /// Upgrades of older formats, keyed by the version they start from: each rewrites the directory (under the writer
    /// lock) into the next version. Empty while version 1 is the only format; a read-only open of an older store goes
    /// through the same steps in memory.
    /// </summary>
    private static readonly Dictionary<int, Action<string>> Migrations = [];

    private readonly Lock _gate = new();
    private readonly StoreLock? _writerLock;
    private readonly Dictionary<string, PaperEntry> _byId = new(StringComparer.Ordinal);
    private readonly List<string> _rowIds = [];
    private readonly List<string> _sourceNames = [];
    private readonly Dictionary<string, int> _sourceIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<int, SafeHandleReader> _segmentReaders = [];
    private readonly List<int> _segmentVersions = [];
    private readonly List<MappedVectors> _maps = [];
    private StoreManifest _manifest;
    private FileStream? _vectorWriter;
    private SafeHandleReader? _vectorReader;
    private MappedVectors? _currentMap;
    private bool _disposed;

    private sealed class PaperEntry
    {
        public int Row;
        public int Segment;
        public long Offset;
        public UInt128 Hash;
        public int Revision;
        public long FirstSeenMs;
        public StoredPaperFlags Flags;
        public int[] Sources = [];

        /// <summary>Content hashes of earlier revisions (null for the usual single-revision paper).</summary>
        public UInt128[]? EarlierHashes;
    }

    private PaperStore(string directory, StoreManifest manifest, StoreLock? writerLock)
    {
        Directory = directory;
        _manifest = manifest;
        _writerLock = writerLock;
    }

    /// <summary>The store directory.</summary>
    public string Directory { get; }

    /// <summary>Fingerprint of the model the vectors came from.</summary>
    public string ModelFingerprint => _manifest.ModelFingerprint;

    /// <summary>Vector length.</summary>
    public int Dimension => _manifest.Dimension;

    /// <summary>
    /// The model folder the store was made with (full path), as recorded when it was created or last written with a
    /// known folder; null for stores that never recorded one. <see cref="StoreModel.ResolveModelDirectory"/> uses it.
    /// </summary>
    public string? ModelFolder => _manifest.ModelFolder;

    /// <summary>Whether this instance holds the writer lock.</summary>
    public bool IsWritable => _writerLock is not null;

    /// <summary>When this writer replaced a lock whose holder had died: who that was; otherwise null.</summary>
    public string? TookOverStaleLockFrom => _writerLock?.TookOverFrom;

    /// <summary>Number of distinct papers (latest revisions).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byId.Count;
            }
        }
    }

    /// <summary>Number of vector rows, old revisions included (rows ≥ <see cref="Count"/>).</summary>
    public int RowCount
    {
        get
        {
            lock (_gate)
            {
                return _rowIds.Count;
            }
        }
    }

    /// <summary>Number of commits (segments).</summary>
    public int SegmentCount => _manifest.Segments.Count;

    // ------------------------------------------------------------------ open / create

    /// <summary>
    /// Creates an empty store bound to a model and opens it for writing. The directory must not hold a store yet.
    /// </summary>
    /// <param name="directory">An empty or new directory.</param>
    /// <param name="modelFingerprint">The fingerprint of the model whose vectors the store keeps.</param>
    /// <param name="dimension">Their length.</param>
    /// <param name="modelFolder">The model's folder, recorded so later commands find the model without --model.</param>
    public static PaperStore Create(string directory, string modelFingerprint, int dimension, string? modelFolder = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(modelFingerprint);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        string dir = Path.GetFullPath(directory);
        ThrowIfFile(dir);
        System.IO.Directory.CreateDirectory(dir);
        StoreLock writerLock = StoreLock.Acquire(dir);
        try
        {
            if (File.Exists(StoreManifest.PathIn(dir)))
            {
                throw new EmbeddingsException($"{dir}: a store already exists here; open it instead, or choose an empty directory");
            }
            if (HoldsPapers(dir))
            {
                // A lost manifest must not turn into an empty store written over the papers still in the segments.
                int segments = System.IO.Directory.EnumerateFiles(dir, "seg-*.papers").Count();
                throw new DataFormatException(dir,
                    $"the folder holds a store's files ({(File.Exists(VectorFile.PathIn(dir)) ? "vectors.f32, " : "")}{segments} segment file(s)) but no manifest.json, " +
                    "so it was not opened and nothing was changed: restore manifest.json from a backup, or move these files away to start a new store here");
            }
            foreach (string leftover in System.IO.Directory.EnumerateFiles(dir, ".*.tmp"))
            {
                File.Delete(leftover); // of a create that was interrupted
            }
            // The vector file first, the manifest last: a crash in between leaves no manifest, i.e. no store.
            AtomicFile.WriteAllBytes(VectorFile.PathIn(dir), VectorFile.Header(dimension, modelFingerprint));
            DateTimeOffset now = DateTimeOffset.UtcNow;
            var manifest = new StoreManifest(FormatVersion, modelFingerprint, dimension, 0, 0, 1, [], now, now,
                modelFolder is null ? null : Path.GetFullPath(modelFolder));
            manifest.Write(dir);
            var store = new PaperStore(dir, manifest, writerLock);
            store.OpenWriter();
            return store;
        }
        catch
        {
            writerLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a store: reads the manifest, checks format version, model and every checksum (a problem is a
    /// <see cref="DataFormatException"/> naming the file), and builds the id → latest row map.
    /// </summary>
    public static PaperStore Open(string directory, StoreOpenOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= StoreOpenOptions.Default;
        string dir = Path.GetFullPath(directory);
        ThrowIfFile(dir);
        if (!System.IO.Directory.Exists(dir))
        {
            throw new DataFormatException(dir, "no store here (directory missing): create one with `embeddings ingest --store DIR <files>`");
        }
        StoreLock? writerLock = options.Writable ? StoreLock.Acquire(dir) : null;
        try
        {
            StoreManifest manifest = StoreManifest.Read(dir, FormatVersion);
            if (manifest.FormatVersion < OldestReadVersion)
            {
                manifest = Migrate(dir, manifest, writerLock is not null);
            }
            if (options.ExpectedFingerprint is { } expected && expected != manifest.ModelFingerprint)
            {
                throw new DataFormatException(StoreManifest.PathIn(dir),
                    $"the store is bound to model fingerprint {manifest.ModelFingerprint} (dimension {manifest.Dimension}), not to the model in use ({expected}). " +
                    "Vectors of different models cannot be mixed: use the store's model (--model) or another store directory.");
            }
            var store = new PaperStore(dir, manifest, writerLock);
            try
            {
                store.Load(options.VerifyVectors);
                if (writerLock is not null)
                {
                    store.CleanLeftovers();
                    store.OpenWriter();
                }
            }
            catch
            {
                store._writerLock?.Dispose();
                store.DisposeReaders();
                throw;
            }
            return store;
        }
        catch when (writerLock is not null)
        {
            writerLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the store in <paramref name="directory"/> for writing, creating it for <paramref name="encoder"/>'s model if
    /// there is none; <paramref name="modelFolder"/> (the encoder's folder) is recorded in the store.
    /// </summary>
    public static PaperStore OpenOrCreate(string directory, ISentenceEncoder encoder, string? modelFolder = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        PaperStore store = OpenOrCreate(directory, encoder.Fingerprint, encoder.Dimension, modelFolder);
        if (modelFolder is not null)
        {
            store.RecordModelFolder(modelFolder);
        }
        return store;
    }

    /// <summary>
    /// Records <paramref name="modelFolder"/> as the store's model folder (an atomic manifest rewrite; nothing when it is
    /// already the recorded one). Only on a store opened for writing, with that model's vectors.
    /// </summary>
    public void RecordModelFolder(string modelFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelFolder);
        if (_writerLock is null)
        {
            throw new InvalidOperationException("the store was opened read-only; open it with Writable = true to record its model");
        }
        string full = Path.GetFullPath(modelFolder);
        lock (_gate)
        {
            if (_manifest.ModelFolder == full)
            {
                return;
            }
            StoreManifest next = _manifest with { ModelFolder = full, Updated = DateTimeOffset.UtcNow };
            next.Write(Directory);
            _manifest = next;
        }
    }

    /// <summary>Opens the store for writing, checking it is bound to <paramref name="modelFingerprint"/>, or creates it.</summary>
    public static PaperStore OpenOrCreate(string directory, string modelFingerprint, int dimension, string? modelFolder = null)
    {
        return File.Exists(StoreManifest.PathIn(Path.GetFullPath(directory)))
            ? Open(directory, new StoreOpenOptions { Writable = true, ExpectedFingerprint = modelFingerprint })
            : Create(directory, modelFingerprint, dimension, modelFolder);
    }

    /// <summary>Whether <paramref name="directory"/> holds a store (has a manifest).</summary>
    public static bool Exists(string directory) => File.Exists(StoreManifest.PathIn(Path.GetFullPath(directory)));

    /// <summary>
    /// Whether <paramref name="directory"/> holds a store's files, with or without its manifest: the manifest, a vector
    /// file or a segment. No output is ever written into a folder like that.
    /// </summary>
    public static bool HasStoreFiles(string directory)
    {
        string dir = Path.GetFullPath(directory);
        try
        {
            return System.IO.Directory.Exists(dir)
                && (File.Exists(StoreManifest.PathIn(dir)) || File.Exists(VectorFile.PathIn(dir)) || System.IO.Directory.EnumerateFiles(dir, "seg-*.papers").Any());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // a folder we cannot list is not one we write a store into either
        }
    }

    /// <summary>
    /// Whether a folder without a manifest still holds papers: a segment, or vector rows after the vector file's header.
    /// A create killed before its manifest leaves only the bare header, which holds nothing and is written over.
    /// </summary>
    private static bool HoldsPapers(string dir)
    {
        string vectors = VectorFile.PathIn(dir);
        return System.IO.Directory.EnumerateFiles(dir, "seg-*.papers").Any()
            || (File.Exists(vectors) && new FileInfo(vectors).Length > VectorFile.HeaderBytes);
    }

    /// <summary>
    /// What ties derived files (the search indexes) to the exact state of this store they were built from: the number
    /// of committed segments and a hash of their entries (names, rows, checksums of papers and vectors). Another store,
    /// or this folder re-created with other papers, gives another tie even for the same model.
    /// </summary>
    public (int Segments, ulong Tie) CommitTie() => (_manifest.Segments.Count, TieOf(_manifest.Segments, _manifest.Segments.Count));

    /// <summary>The tie of the first <paramref name="segments"/> segments and the rows they hold; null when the store has fewer.</summary>
    public (ulong Tie, long Rows)? TieAt(int segments)
    {
        IReadOnlyList<SegmentEntry> all = _manifest.Segments;
        if (segments < 0 || segments > all.Count)
        {
            return null;
        }
        long rows = segments == 0 ? 0 : all[segments - 1].FirstRow + all[segments - 1].Rows;
        return (TieOf(all, segments), rows);
    }

    private static ulong TieOf(IReadOnlyList<SegmentEntry> segments, int count)
    {
        var hash = new XxHash64();
        Span<byte> numbers = stackalloc byte[32];
        for (int i = 0; i < count; i++)
        {
            SegmentEntry s = segments[i];
            hash.Append(System.Text.Encoding.UTF8.GetBytes(s.File));
            BinaryPrimitives.WriteInt64LittleEndian(numbers, s.FirstRow);
            BinaryPrimitives.WriteInt64LittleEndian(numbers[8..], s.Rows);
            BinaryPrimitives.WriteUInt64LittleEndian(numbers[16..], s.XxHash64);
            BinaryPrimitives.WriteUInt64LittleEndian(numbers[24..], s.VectorsXxHash64);
            hash.Append(numbers);
        }
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>A store is a folder: a path naming a file (its manifest, say) is refused before anything is written.</summary>
    internal static void ThrowIfFile(string dir)
    {
        if (File.Exists(dir))
        {
            throw new InvalidRequestException($"the store path '{dir}' is a file, not a folder: give the store's folder (the one holding manifest.json).");
        }
    }

    private static StoreManifest Migrate(string dir, StoreManifest manifest, bool writable)
    {
        for (int v = manifest.FormatVersion; v < OldestReadVersion; v++)
        {
            if (!Migrations.TryGetValue(v, out Action<string>? step))
            {
                throw new DataFormatException(StoreManifest.PathIn(dir), $"no migration from store format {v}; this build cannot read it");
            }
            if (!writable)
            {
                throw new DataFormatException(StoreManifest.PathIn(dir), $"store format {v} must be upgraded once: open it for writing (for example run `embeddings ingest` on it)");
            }
            step(dir);
        }
        return StoreManifest.Read(dir, FormatVersion);
    }

    private void Load(bool verifyVectors)
    {
        string vectorsPath = VectorFile.PathIn(Directory);
        VectorFile.Check(vectorsPath, _manifest.Dimension, _manifest.ModelFingerprint, _manifest.Rows);
        _vectorReader = new SafeHandleReader(vectorsPath);
        long expectedRow = 0;
        for (int s = 0; s < _manifest.Segments.Count; s++)
        {
            SegmentEntry entry = _manifest.Segments[s];
            string path = Path.Combine(Directory, entry.File);
            if (entry.FirstRow != expectedRow)
            {
                throw new DataFormatException(StoreManifest.PathIn(Directory), $"segment {entry.File} starts at row {entry.FirstRow}, expected {expectedRow}");
            }
            int segment = s;
            int rowsSeen = 0;
            _segmentVersions.Add(PaperSegment.Scan(path, entry, head =>
            {
                if (head.Kind == RecordKind.Paper)
                {
                    if (head.Row != _rowIds.Count)
                    {
                        throw new DataFormatException(path, $"record at byte {head.Offset} has row {head.Row}, expected {_rowIds.Count}");
                    }
                    rowsSeen++;
                    ApplyPaper(head, segment);
                }
                else
                {
                    ApplySighting(head.Id, head.Sources[0]);
                }
            }));
            if (rowsSeen != entry.Rows)
            {
                throw new DataFormatException(path, $"holds {rowsSeen} paper rows, the manifest says {entry.Rows}");
            }
            if (verifyVectors && entry.Rows > 0)
            {
                ulong hash = VectorFile.HashRows(_vectorReader, entry.FirstRow, entry.Rows, Dimension);
                if (hash != entry.VectorsXxHash64)
                {
                    throw new DataFormatException(vectorsPath,
                        $"checksum mismatch in rows {entry.FirstRow}..{entry.FirstRow + entry.Rows - 1} (committed by {entry.File}): the vector file is corrupted");
                }
            }
            expectedRow += entry.Rows;
        }
        if (_rowIds.Count != _manifest.Rows || _byId.Count != _manifest.Count)
        {
            throw new DataFormatException(StoreManifest.PathIn(Directory),
                $"manifest says {_manifest.Count} papers in {_manifest.Rows} rows, the segments hold {_byId.Count} in {_rowIds.Count}");
        }
    }

    private void ApplyPaper(RecordHead head, int segment)
    {
        if (!_byId.TryGetValue(head.Id, out PaperEntry? entry))
        {
            entry = new PaperEntry { FirstSeenMs = head.FirstSeenMs };
            _byId.Add(head.Id, entry);
        }
        else if (entry.Hash != head.Hash)
        {
            entry.EarlierHashes = [.. entry.EarlierHashes ?? [], entry.Hash];
        }
        entry.Row = (int)head.Row;
        entry.Segment = segment;
        entry.Offset = head.Offset;
        entry.Hash = head.Hash;
        entry.Revision = head.Revision;
        entry.Flags = head.Flags;
        entry.FirstSeenMs = Math.Min(entry.FirstSeenMs, head.FirstSeenMs);
        foreach (string source in head.Sources)
        {
            AddSource(entry, source);
        }
        _rowIds.Add(head.Id);
    }

    private void ApplySighting(string id, string source)
    {
        if (_byId.TryGetValue(id, out PaperEntry? entry))
        {
            AddSource(entry, source);
        }
    }

    private void AddSource(PaperEntry entry, string source)
    {
        if (!_sourceIndex.TryGetValue(source, out int index))
        {
            index = _sourceNames.Count;
            _sourceNames.Add(source);
            _sourceIndex.Add(source, index);
        }
        if (Array.IndexOf(entry.Sources, index) < 0)
        {
            entry.Sources = [.. entry.Sources, index];
        }
    }

    private bool HasSource(PaperEntry entry, string source) =>
        _sourceIndex.TryGetValue(source, out int index) && Array.IndexOf(entry.Sources, index) >= 0;

    /// <summary>Removes what an interrupted commit left: unlisted segments, temporary manifests, vector rows past the committed end.</summary>
    private void CleanLeftovers()
    {
        var listed = new HashSet<string>(_manifest.Segments.Select(s => s.File), StringComparer.Ordinal);
        foreach (string path in System.IO.Directory.EnumerateFiles(Directory))
        {
            string name = Path.GetFileName(path);
            bool orphanSegment = name.StartsWith("seg-", StringComparison.Ordinal) && name.EndsWith(".papers", StringComparison.Ordinal) && !listed.Contains(name);
            bool tempFile = name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal);
            if (orphanSegment || tempFile)
            {
                File.Delete(path);
            }
        }
    }

    private void OpenWriter()
    {
        _vectorWriter = new FileStream(VectorFile.PathIn(Directory), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        long committed = VectorFile.HeaderBytes + (long)_manifest.Rows * Dimension * 4;
        if (_vectorWriter.Length != committed)
        {
            _vectorWriter.SetLength(committed);
            _vectorWriter.Flush(flushToDisk: true);
        }
        _vectorReader ??= new SafeHandleReader(VectorFile.PathIn(Directory));
    }

    // ------------------------------------------------------------------ reading

    /// <summary>Whether a paper with this id is stored.</summary>
    public bool Contains(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_gate)
        {
            return _byId.ContainsKey(id);
        }
    }

    /// <summary>Copies the vector of paper <paramref name="id"/> (latest revision) into <paramref name="destination"/>; false when not stored.</summary>
    public bool TryGetVector(string id, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (destination.Length < Dimension)
        {
            throw new ArgumentException($"destination holds {destination.Length} floats, the store's vectors have {Dimension}", nameof(destination));
        }
        int row;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_byId.TryGetValue(id, out PaperEntry? entry))
            {
                return false;
            }
            row = entry.Row;
        }
        ReadRow(row, destination[..Dimension]);
        return true;
    }

    /// <summary>The vector of paper <paramref name="id"/>, or null when it is not stored.</summary>
    public float[]? GetVector(string id)
    {
        float[] vector = new float[Dimension];
        return TryGetVector(id, vector) ? vector : null;
    }

    /// <summary>Copies vector row <paramref name="row"/> (any revision) into <paramref name="destination"/>.</summary>
    public void ReadRow(int row, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, RowCount);
        Span<byte> bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination[..Dimension]);
        _vectorReader!.ReadExactly(bytes, VectorFile.HeaderBytes + (long)row * Dimension * 4);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("big-endian machines are not supported");
        }
    }

    /// <summary>The latest revision of paper <paramref name="id"/>, or null when it is not stored.</summary>
    public StoredPaper? GetPaper(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_byId.TryGetValue(id, out PaperEntry? entry))
            {
                return null;
            }
            SafeHandleReader reader = SegmentReader(entry.Segment);
            Span<byte> lengthBytes = stackalloc byte[4];
            reader.ReadExactly(lengthBytes, entry.Offset);
            byte[] payload = new byte[BinaryPrimitives.ReadInt32LittleEndian(lengthBytes)];
            reader.ReadExactly(payload, entry.Offset + 4);
            (Paper paper, _, string? file, long line) = PaperSegment.ReadPaper(payload, entry.Offset, _segmentVersions[entry.Segment]);
            return ToStored(paper, entry, file, line);
        }
    }

    /// <summary>
    /// Every stored paper (latest revisions) in row order, streamed from the segments; what was committed when the
    /// enumeration starts.
    /// </summary>
    public async IAsyncEnumerable<StoredPaper> ReadPapersAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IReadOnlyList<SegmentEntry> segments = _manifest.Segments;
        for (int s = 0; s < segments.Count; s++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string path = Path.Combine(Directory, segments[s].File);
            byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            foreach (StoredPaper paper in LivePapersIn(bytes, path))
            {
                yield return paper;
            }
        }
    }

    private List<StoredPaper> LivePapersIn(byte[] bytes, string path)
    {
        var result = new List<StoredPaper>();
        (int records, _, _, int recordsStart, int version) = PaperSegment.Layout(path, bytes);
        long pos = recordsStart;
        lock (_gate)
        {
            for (int i = 0; i < records; i++)
            {
                int length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)pos, 4));
                ReadOnlySpan<byte> payload = bytes.AsSpan((int)pos + 4, length);
                if ((RecordKind)payload[0] == RecordKind.Paper)
                {
                    try
                    {
                        (Paper paper, RecordHead head, string? file, long line) = PaperSegment.ReadPaper(payload, pos, version);
                        if (_byId.TryGetValue(head.Id, out PaperEntry? entry) && entry.Row == head.Row)
                        {
                            result.Add(ToStored(paper, entry, file, line));
                        }
                    }
                    catch (FormatException e)
                    {
                        throw new DataFormatException(path, $"malformed record at byte {pos}: {e.Message}");
                    }
                }
                pos += 4 + length;
            }
        }
        return result;
    }

    private StoredPaper ToStored(Paper paper, PaperEntry entry, string? sourceFile, long sourceLine)
    {
        string[] sources = new string[entry.Sources.Length];
        for (int i = 0; i < sources.Length; i++)
        {
            sources[i] = _sourceNames[entry.Sources[i]];
        }
        return new StoredPaper(paper, sources, DateTimeOffset.FromUnixTimeMilliseconds(entry.FirstSeenMs), entry.Revision, entry.Hash, entry.Flags, entry.Row,
            sourceFile, sourceLine);
    }

    /// <summary>The id of the paper vector row <paramref name="row"/> belongs to (old revisions included).</summary>
    public string IdOfRow(int row)
    {
        lock (_gate)
        {
            return _rowIds[row];
        }
    }

    /// <summary>
    /// The rows holding latest revisions, ascending: the rows to index. Equals 0..<see cref="Count"/>-1 unless papers
    /// changed. Pair with <see cref="GetAllRows"/> and <see cref="IdOfRow"/>.
    /// </summary>
    public int[] GetLiveRows()
    {
        lock (_gate)
        {
            var rows = new List<int>(_byId.Count);
            for (int r = 0; r < _rowIds.Count; r++)
            {
                if (_byId[_rowIds[r]].Row == r)
                {
                    rows.Add(r);
                }
            }
            return [.. rows];
        }
    }

    /// <summary>
    /// All committed vector rows (<see cref="RowCount"/> x <see cref="Dimension"/>, row-major) memory-mapped read-only,
    /// without copying. Valid until the store is disposed.
    /// </summary>
    public ReadOnlyMemory<float> GetAllRows()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int rows = _rowIds.Count;
            if (rows == 0)
            {
                return ReadOnlyMemory<float>.Empty;
            }
            if (_currentMap is null || _currentMap.Memory.Length != rows * Dimension)
            {
                // Keep earlier maps alive: callers may still hold memory from them.
                _currentMap = new MappedVectors(VectorFile.PathIn(Directory), rows, Dimension);
                _maps.Add(_currentMap);
            }
            return _currentMap.Memory;
        }
    }

    private SafeHandleReader SegmentReader(int segment)
    {
        if (!_segmentReaders.TryGetValue(segment, out SafeHandleReader? reader))
        {
            reader = new SafeHandleReader(Path.Combine(Directory, _manifest.Segments[segment].File));
            _segmentReaders.Add(segment, reader);
        }
        return reader;
    }

    /// <summary>Re-reads every file and checks every checksum, as opening does; throws <see cref="DataFormatException"/> naming the bad file.</summary>
    public void Verify()
    {
        using PaperStore copy = Open(Directory, new StoreOpenOptions { VerifyVectors = true });
    }

    // ------------------------------------------------------------------ committing

    /// <summary>A paper revision waiting to be committed.</summary>
    internal sealed class PendingRow
    {
        public required StoredPaper Paper;
        public float[]? Vector;
    }

    /// <summary>
    /// Commits rows (all with vectors) and sightings atomically: vectors appended and flushed, a new segment written and
    /// flushed, then the manifest replaced. Crash points mark each step for the crash tests.
    /// </summary>
    internal void Commit(IReadOnlyList<PendingRow> rows, IReadOnlyList<(string Id, string Source, long TimeMs)> sightings)
    {
        if (_writerLock is null || _vectorWriter is null)
        {
            throw new InvalidOperationException("the store was opened read-only; open it with Writable = true to ingest");
        }
        if (rows.Count == 0 && sightings.Count == 0)
        {
            return;
        }
        int firstRow = _rowIds.Count;
        int dim = Dimension;

        // 1. vectors, appended after the committed end
        var vectorHash = new XxHash64();
        _vectorWriter.Position = VectorFile.HeaderBytes + (long)firstRow * dim * 4;
        foreach (PendingRow row in rows)
        {
            ReadOnlySpan<byte> bytes = VectorFile.AsBytes(row.Vector.AsSpan(0, dim));
            vectorHash.Append(bytes);
            _vectorWriter.Write(bytes);
        }
        _vectorWriter.Flush(flushToDisk: false);
        CrashPoints.Hit("vectors-written");
        _vectorWriter.Flush(flushToDisk: true);
        CrashPoints.Hit("vectors-synced");

        // 2. the segment
        int number = _manifest.NextSegment;
        string name = PaperSegment.FileName(number);
        string path = Path.Combine(Directory, name);
        var writer = new RecordWriter();
        writer.WriteZeros(PaperSegment.HeaderBytes); // room for the header, sealed below
        var offsets = new long[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            offsets[i] = writer.Length;
            PaperSegment.AppendPaper(writer, firstRow + i, rows[i].Paper);
        }
        foreach (var (id, source, time) in sightings)
        {
            PaperSegment.AppendSighting(writer, id, time, source);
        }
        byte[] segmentBytes = writer.Written.ToArray();
        PaperSegment.Seal(segmentBytes, rows.Count + sightings.Count, firstRow, rows.Count);
        using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read))
        {
            stream.Write(segmentBytes);
            stream.Flush(flushToDisk: false);
            CrashPoints.Hit("segment-written");
            stream.Flush(flushToDisk: true);
        }
        AtomicFile.FlushDirectory(Directory);
        CrashPoints.Hit("segment-synced");

        // 3. the manifest: the commit point
        var entry = new SegmentEntry(name, firstRow, rows.Count, rows.Count + sightings.Count, segmentBytes.Length,
            XxHash64.HashToUInt64(segmentBytes), vectorHash.GetCurrentHashAsUInt64());
        int segmentIndex = _manifest.Segments.Count;
        lock (_gate)
        {
            int newIds = 0;
            var fresh = new HashSet<string>(StringComparer.Ordinal);
            foreach (PendingRow row in rows)
            {
                if (!_byId.ContainsKey(row.Paper.Paper.Id) && fresh.Add(row.Paper.Paper.Id))
                {
                    newIds++;
                }
            }
            StoreManifest next = _manifest with
            {
                FormatVersion = FormatVersion, // the segment just written is of this version
                Count = _byId.Count + newIds,
                Rows = firstRow + rows.Count,
                NextSegment = number + 1,
                Segments = [.. _manifest.Segments, entry],
                Updated = DateTimeOffset.UtcNow,
            };
            next.Write(Directory);
            _manifest = next;
            _segmentVersions.Add(PaperSegment.Version);
            for (int i = 0; i < rows.Count; i++)
            {
                StoredPaper p = rows[i].Paper;
                var head = new RecordHead
                {
                    Kind = RecordKind.Paper,
                    Row = firstRow + i,
                    Id = p.Paper.Id,
                    Revision = p.Revision,
                    FirstSeenMs = p.FirstSeen.ToUnixTimeMilliseconds(),
                    Hash = p.ContentHash,
                    Flags = p.Flags,
                    Sources = [.. p.Sources],
                    Offset = offsets[i],
                };
                ApplyPaper(head, segmentIndex);
            }
            foreach (var (id, source, _) in sightings)
            {
                ApplySighting(id, source);
            }
        }
    }

    /// <summary>Releases the files and, for a writer, the lock.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        _vectorWriter?.Dispose();
        DisposeReaders();
        _writerLock?.Dispose();
    }

    private void DisposeReaders()
    {
        _vectorReader?.Dispose();
        foreach (SafeHandleReader reader in _segmentReaders.Values)
        {
            reader.Dispose();
        }
        _segmentReaders.Clear();
        foreach (MappedVectors map in _maps)
        {
            ((IDisposable)map).Dispose();
        }
        _maps.Clear();
    }
}
