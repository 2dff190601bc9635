using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Embeddings.Index;

/// <summary>
/// Approximate nearest neighbours with a hierarchical navigable small-world graph (Malkov &amp; Yashunin),
/// laid out like hnswlib for speed: every node's level-0 link list and its vector share one fixed-stride
/// record in a single native block (one cache-friendly read per visited node), upper levels live in
/// small per-node arrays, visited marks are epoch-stamped per thread, and distances are SIMD inner products.
/// <para>
/// With <see cref="HnswQuantization.Int8"/> the records hold one byte per dimension instead of four: the walk
/// scores with integer dot products on a quarter of the memory, and the final candidates are re-scored with the
/// exact float vectors (the index's own copy, or the caller's rows: <see cref="HnswOptions.ExactVectors"/>).
/// </para>
/// <para>
/// Ids are the caller's (for an index over a store: the row numbers, 0..n-1); internally each vector
/// occupies a slot. Searches are thread-safe and may run while other threads add: a node becomes reachable
/// only after its vector and links are written. Deleted vectors are tombstones: searches skip them but
/// still walk through them, later adds reuse their slots, and <see cref="Compact"/> relinks the graph
/// around them.
/// </para>
/// <para>
/// The class is split by concern: HnswIndex.Insert.cs (adding and linking), HnswIndex.Search.cs,
/// HnswIndex.Delete.cs (tombstones, reuse, compaction), HnswIndex.Exact.cs (int8 ranges and the exact vectors),
/// HnswIndex.Memory.cs (record layout, locks, growth), HnswIndex.Persistence.cs (the file format).
/// </para>
/// </summary>
internal sealed unsafe partial class HnswIndex : IVectorIndex, IDisposable
{
    private const byte StateLive = 0;
    private const byte StateDeleted = 1;
    private const byte StateFree = 2;
    private const int MaxLevel = 30;
    private const long NoEntry = -1;

    private readonly int _dimension;
    private readonly int _m;
    private readonly int _maxM;
    private readonly int _maxM0;
    private readonly int _efConstruction;
    private readonly double _levelMultiplier;
    private readonly int _seed;
    private readonly SimilarityMetric _metric;
    private readonly int _filterExactMaxCount;
    private readonly double _filterExactMaxFraction;
    private readonly int _maxDegreeOfParallelism;

    // Level-0 record of a slot. Float graphs: [count][maxM0 links][pad to 32 B][dimension floats][pad to 32 B].
    // Int8 graphs: [codes, dimension rounded up to 16 B][count][maxM0 links][pad to 32 B] (codes first: aligned loads).
    private readonly nint _stride;
    private readonly nint _vectorOffset;
    private readonly nint _linksOffset;
    private readonly int _upperListInts;

    // Int8 graphs only: the ranges of the codes, and where the exact vectors for re-scoring live.
    private readonly ScalarQuantizer? _quantizer;
    private ExactStorage _exactStorage;
    private float* _exact;
    private CallerRows? _callerRows;
    private float[] _inverseNorms = [];

    private byte* _level0;
    private int _capacity;
    private int[]?[] _upper = [];
    private nint[] _upperPointers = [];
    private byte[] _levels = [];
    private byte[] _states = [];
    private int[] _slotToId = [];
    private int[] _nodeLocks = [];
    private int[] _idToSlot = [];
    private readonly Stack<int> _reusableSlots = new();

    private int _slotCount;
    private int _liveCount;
    private int _notLiveCount;
    private int _coveredCount;
    private int _efSearch;
    private long _entry = NoEntry;
    private bool _disposed;

    // Growth swaps the native block: it takes the write side; searches and inserts hold the read side.
    private readonly ReaderWriterLockSlim _memoryLock = new(LockRecursionPolicy.NoRecursion);
    private readonly Lock _entryLock = new();
    private readonly Lock _idLock = new();

    [ThreadStatic]
    private static HnswSearchContext? t_context;

    private HnswIndex(HnswOptions options, ExactStorage? exactStorage = null)
    {
        options.Validate();
        _dimension = options.Dimension;
        _m = options.M;
        _maxM = options.M;
        _maxM0 = options.M * 2;
        _efConstruction = Math.Max(options.EfConstruction, options.M);
        _levelMultiplier = 1.0 / Math.Log(options.M);
        _seed = options.Seed;
        _metric = options.Metric;
        _efSearch = options.EfSearch;
        _filterExactMaxCount = options.FilterExactMaxCount;
        _filterExactMaxFraction = options.FilterExactMaxFraction;
        _maxDegreeOfParallelism = options.MaxDegreeOfParallelism <= 0 ? Environment.ProcessorCount : options.MaxDegreeOfParallelism;
        ModelFingerprint = options.ModelFingerprint;
        _upperListInts = 1 + _maxM;
        int linkBytes = (1 + _maxM0) * sizeof(int);
        if (options.Quantization == HnswQuantization.Int8)
        {
            _quantizer = new ScalarQuantizer(_dimension);
            _exactStorage = exactStorage ?? (options.ExactVectors.IsEmpty ? ExactStorage.OwnCopy : ExactStorage.CallerRows);
            _vectorOffset = 0;
            _linksOffset = _quantizer.CodeLength;
            _stride = Align32(_quantizer.CodeLength + linkBytes);
        }
        else
        {
            _exactStorage = ExactStorage.InRecords;
            _vectorOffset = Align32(linkBytes);
            _linksOffset = 0;
            _stride = _vectorOffset + Align32(_dimension * sizeof(float));
        }
        Grow(Math.Max(options.InitialCapacity, 16));
        if (!options.ExactVectors.IsEmpty)
        {
            AttachCallerRows(options.ExactVectors);
        }
    }

    /// <summary>Creates an empty index.</summary>
    public static HnswIndex Create(HnswOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new HnswIndex(options);
    }

    /// <summary>
    /// Builds an index over <paramref name="vectors"/> (row-major, <c>n x Dimension</c>; row <c>i</c> gets id <c>i</c>)
    /// on all cores (<see cref="HnswOptions.MaxDegreeOfParallelism"/>).
    /// </summary>
    public static HnswIndex Build(ReadOnlyMemory<float> vectors, HnswOptions options,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        HnswIndex index = Create(options);
        try
        {
            index.AddRange(vectors, 0, progress, cancellationToken);
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public int Dimension => _dimension;

    /// <inheritdoc/>
    public int Count => Volatile.Read(ref _liveCount);

    /// <summary>Links per node on upper levels.</summary>
    public int M => _m;

    /// <summary>Candidate list size used while linking.</summary>
    public int EfConstruction => _efConstruction;

    /// <summary>Default candidate list size of a search; may be changed at any time.</summary>
    public int EfSearch
    {
        get => Volatile.Read(ref _efSearch);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref _efSearch, value);
        }
    }

    /// <summary>The seed of the level draws.</summary>
    public int Seed => _seed;

    /// <summary>How vectors are compared.</summary>
    public SimilarityMetric Metric => _metric;

    /// <summary>Identifies the model that made the vectors (saved and checked on load).</summary>
    public string ModelFingerprint { get; }

    /// <summary>How the graph stores the vectors it walks.</summary>
    public HnswQuantization Quantization => _quantizer is null ? HnswQuantization.None : HnswQuantization.Int8;

    /// <summary>
    /// Whether an int8 index re-scores against the caller's rows (<see cref="HnswOptions.ExactVectors"/>,
    /// <see cref="UseExactVectors"/>) rather than a copy of its own; false for float indexes.
    /// </summary>
    public bool UsesCallerVectors => _exactStorage == ExactStorage.CallerRows;

    /// <summary>
    /// One more than the highest id ever added: for an index over a store, the number of leading store rows
    /// it covers. When the store has grown, add the rest with <c>AddRange(rows from CoveredCount, CoveredCount)</c>.
    /// </summary>
    public int CoveredCount => Volatile.Read(ref _coveredCount);

    /// <summary>Vectors deleted and not yet reused (tombstones plus slots freed by <see cref="Compact"/>).</summary>
    public int DeletedCount => Volatile.Read(ref _notLiveCount);

    /// <summary>Slots in use, live or deleted.</summary>
    internal int SlotCount => Volatile.Read(ref _slotCount);

    /// <summary>
    /// Bytes of native and managed memory held by the graph and the vectors (approximate); the caller's rows that an
    /// int8 index re-scores against (<see cref="UsesCallerVectors"/>) are the caller's and not counted.
    /// </summary>
    public long MemoryBytes
    {
        get
        {
            long bytes = (long)_capacity * (_stride + 1 + 1 + 4 + 4 + 8 + 8) + (long)_idToSlot.Length * 4;
            bytes += _exact is null ? 0 : (long)_capacity * _dimension * sizeof(float);
            bytes += (long)_inverseNorms.Length * sizeof(float) + (_quantizer is null ? 0 : 3L * _dimension * sizeof(float));
            foreach (int[]? upper in _upper)
            {
                bytes += upper is null ? 0 : 16 + upper.Length * 4L;
            }
            return bytes;
        }
    }

    /// <summary>Whether <paramref name="id"/> is in the index and not deleted.</summary>
    public bool Contains(int id)
    {
        int[] map = Volatile.Read(ref _idToSlot);
        return (uint)id < (uint)map.Length && map[id] >= 0;
    }


    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Frees the native block holding the graph and the vectors.</summary>
    public void Dispose()
    {
        _memoryLock.EnterWriteLock();
        try
        {
            FreeNative();
        }
        finally
        {
            _memoryLock.ExitWriteLock();
        }
        GC.SuppressFinalize(this);
    }

    private void FreeNative()
    {
        if (_level0 is not null)
        {
            NativeMemory.AlignedFree(_level0);
            if (_capacity > 0)
            {
                GC.RemoveMemoryPressure((long)_capacity * _stride);
            }
            _level0 = null;
        }
        FreeOwnCopy();
        _callerRows?.Dispose();
        _callerRows = null;
        _disposed = true;
    }

    /// <summary>Frees the native block if the index was never disposed.</summary>
    ~HnswIndex()
    {
        FreeNative();
    }

    /// <summary>This thread's scratch, sized for this index.</summary>
    private HnswSearchContext Context()
    {
        HnswSearchContext ctx = t_context ??= new HnswSearchContext();
        ctx.EnsureVectors(_dimension, _quantizer?.CodeLength ?? 0, _maxM0);
        return ctx;
    }
}
