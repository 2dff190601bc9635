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
/// Ids are the caller's (for an index over a store: the row numbers, 0..n-1); internally each vector
/// occupies a slot. Searches are thread-safe and may run while other threads add: a node becomes reachable
/// only after its vector and links are written. Deleted vectors are tombstones: searches skip them but
/// still walk through them, later adds reuse their slots, and <see cref="Compact"/> relinks the graph
/// around them.
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

    // Level-0 record of a slot: [count][maxM0 links][pad to 32 B][dimension floats][pad to 32 B].
    private readonly nint _stride;
    private readonly nint _vectorOffset;
    private readonly int _upperListInts;

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
    private static SearchContext? t_context;

    private HnswIndex(HnswOptions options)
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
        _vectorOffset = Align32((1 + _maxM0) * sizeof(int));
        _stride = _vectorOffset + Align32(_dimension * sizeof(float));
        _upperListInts = 1 + _maxM;
        Grow(Math.Max(options.InitialCapacity, 16));
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

    /// <summary>
    /// One more than the highest id ever added: for an index over a store, the number of leading store rows
    /// it covers. When the store has grown, add the rest with <c>AddRange(rows from CoveredCount, CoveredCount)</c>.
    /// </summary>
    public int CoveredCount => Volatile.Read(ref _coveredCount);

    /// <summary>Vectors deleted and not yet reused (tombstones plus slots freed by <see cref="Compact"/>).</summary>
    public int DeletedCount => Volatile.Read(ref _notLiveCount);

    /// <summary>Slots in use, live or deleted.</summary>
    internal int SlotCount => Volatile.Read(ref _slotCount);

    /// <summary>Bytes of native and managed memory held by the graph and the vectors (approximate).</summary>
    public long MemoryBytes
    {
        get
        {
            long bytes = (long)_capacity * (_stride + 1 + 1 + 4 + 4 + 8 + 8) + (long)_idToSlot.Length * 4;
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

    // ------------------------------------------------------------------ adding

    /// <summary>
    /// Adds one vector under <paramref name="id"/> (a non-negative int not already present). Thread-safe:
    /// several threads may add at once, and searches may run meanwhile.
    /// </summary>
    public void Add(int id, ReadOnlySpan<float> vector)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        if (vector.Length != _dimension)
        {
            throw new ArgumentException($"The vector has {vector.Length} dimensions but the index holds {_dimension}-dimensional vectors.", nameof(vector));
        }
        AddOne(id, vector);
    }

    /// <summary>
    /// Adds the rows of <paramref name="vectors"/> (row-major, <c>n x Dimension</c>) under ids
    /// <c>firstId .. firstId + n - 1</c>, linking them in parallel on the configured cores.
    /// On cancellation the rows added so far stay in the index, which remains consistent.
    /// </summary>
    public void AddRange(ReadOnlyMemory<float> vectors, int firstId,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(firstId);
        if (vectors.Length % _dimension != 0)
        {
            throw new ArgumentException($"The vector block holds {vectors.Length} floats, not a multiple of the dimension {_dimension}.", nameof(vectors));
        }
        int n = vectors.Length / _dimension;
        if ((long)firstId + n > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(firstId), "Ids must stay below int.MaxValue.");
        }
        EnsureCapacity(SlotCount + n);
        EnsureIdCapacity(firstId + n);

        int done = 0;
        int next = -1;
        int reportEvery = Math.Max(1, Math.Min(10_000, n / 100));
        progress?.Report(new WorkProgress("linking graph", 0, n, "vectors"));
        void Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < n)
            {
                cancellationToken.ThrowIfCancellationRequested();
                AddOne(firstId + i, vectors.Span.Slice(i * _dimension, _dimension));
                int finished = Interlocked.Increment(ref done);
                if (progress is not null && finished % reportEvery == 0)
                {
                    progress.Report(new WorkProgress("linking graph", finished, n, "vectors"));
                }
            }
        }

        int workers = Math.Min(_maxDegreeOfParallelism, Math.Max(1, n / 64));
        if (workers <= 1)
        {
            Worker();
        }
        else
        {
            var threads = new Task[workers];
            for (int w = 0; w < workers; w++)
            {
                threads[w] = Task.Factory.StartNew(Worker, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
            try
            {
                Task.WaitAll(threads, CancellationToken.None);
            }
            catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException!).Throw();
            }
        }
        progress?.Report(new WorkProgress("linking graph", n, n, "vectors"));
    }

    private void AddOne(int id, ReadOnlySpan<float> vector)
    {
        // Reusing a deleted slot rewires its neighbourhood: done alone, with searches held off, so no
        // reader ever walks through a record that is half old and half new.
        if (Volatile.Read(ref _notLiveCount) > 0)
        {
            _memoryLock.EnterWriteLock();
            try
            {
                ThrowIfDisposed();
                int reused = -1;
                lock (_idLock)
                {
                    if (_reusableSlots.Count > 0)
                    {
                        ClaimId(id, _reusableSlots.Peek());
                        reused = _reusableSlots.Pop();
                    }
                }
                if (reused >= 0)
                {
                    ReuseSlot(reused, id, vector);
                    return;
                }
            }
            finally
            {
                _memoryLock.ExitWriteLock();
            }
        }

        while (true)
        {
            _memoryLock.EnterReadLock();
            try
            {
                ThrowIfDisposed();
                int slot = -1;
                lock (_idLock)
                {
                    if (_slotCount < _capacity)
                    {
                        slot = _slotCount;
                        ClaimId(id, slot);
                        _slotCount = slot + 1;
                    }
                }
                if (slot >= 0)
                {
                    int level = DrawLevel(slot);
                    InitSlot(slot, id, level, vector);
                    Link(slot, level);
                    Interlocked.Increment(ref _liveCount);
                    return;
                }
            }
            finally
            {
                _memoryLock.ExitReadLock();
            }
            EnsureCapacity(Math.Max(16, _capacity * 2));
        }
    }

    /// <summary>Records id -> slot; caller holds <see cref="_idLock"/>.</summary>
    private void ClaimId(int id, int slot)
    {
        if (id >= _idToSlot.Length)
        {
            GrowIdMap(id + 1);
        }
        if (_idToSlot[id] >= 0)
        {
            throw new InvalidOperationException($"Id {id} is already in the index; delete it first to replace its vector.");
        }
        _idToSlot[id] = slot;
        if (id >= _coveredCount)
        {
            Volatile.Write(ref _coveredCount, id + 1);
        }
    }

    private void EnsureIdCapacity(int size)
    {
        lock (_idLock)
        {
            if (size > _idToSlot.Length)
            {
                GrowIdMap(size);
            }
        }
    }

    private void GrowIdMap(int size)
    {
        int newSize = Math.Max(size, (int)Math.Min(int.MaxValue, _idToSlot.Length * 2L));
        var map = new int[newSize];
        _idToSlot.CopyTo(map, 0);
        map.AsSpan(_idToSlot.Length).Fill(-1);
        Volatile.Write(ref _idToSlot, map);
    }

    /// <summary>Level of a slot: a pure function of the seed and the slot, so parallel builds draw the same levels.</summary>
    private int DrawLevel(int slot)
    {
        ulong z = unchecked((ulong)_seed * 0x9E3779B97F4A7C15UL + (ulong)slot * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        double uniform = (z >> 11) * (1.0 / (1UL << 53));
        return Math.Min(MaxLevel, (int)(-Math.Log(1.0 - uniform) * _levelMultiplier));
    }

    private void InitSlot(int slot, int id, int level, ReadOnlySpan<float> vector)
    {
        float* dst = Vector(slot);
        var span = new Span<float>(dst, _dimension);
        vector.CopyTo(span);
        if (_metric == SimilarityMetric.Cosine)
        {
            VectorMath.Normalize(span);
        }
        *Links0(slot) = 0;
        _levels[slot] = (byte)level;
        if (level > 0)
        {
            int[]? upper = _upper[slot];
            if (upper is null || upper.Length < level * _upperListInts)
            {
                upper = GC.AllocateArray<int>(level * _upperListInts, pinned: true);
                _upper[slot] = upper;
                _upperPointers[slot] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(upper));
            }
            else
            {
                for (int lev = 1; lev <= level; lev++)
                {
                    upper[(lev - 1) * _upperListInts] = 0;
                }
            }
        }
        _slotToId[slot] = id;
        Volatile.Write(ref _states[slot], StateLive);
    }

    /// <summary>Links a written slot into the graph (hnswlib's addPoint after the data copy).</summary>
    private void Link(int slot, int level)
    {
        SearchContext ctx = Context();
        ctx.EnsureLinkCopy(_maxM0 + 1);
        float* q = Vector(slot);
        long entry = Volatile.Read(ref _entry);
        bool holdsEntryLock = false;
        if (entry == NoEntry || EntryLevel(entry) < level)
        {
            _entryLock.Enter();
            holdsEntryLock = true;
            entry = _entry;
            if (entry == NoEntry)
            {
                Volatile.Write(ref _entry, PackEntry(slot, level));
                _entryLock.Exit();
                return;
            }
            if (EntryLevel(entry) >= level)
            {
                _entryLock.Exit();
                holdsEntryLock = false;
            }
        }
        try
        {
            int current = EntrySlot(entry);
            int maxLevel = EntryLevel(entry);
            float currentScore = VectorMath.Dot(q, Vector(current), _dimension);
            for (int lev = maxLevel; lev > level; lev--)
            {
                bool changed = true;
                while (changed)
                {
                    changed = false;
                    int n = CopyLinks(current, lev, ctx.LinkCopy);
                    for (int j = 0; j < n; j++)
                    {
                        int candidate = ctx.LinkCopy[j];
                        float score = VectorMath.Dot(q, Vector(candidate), _dimension);
                        if (score > currentScore)
                        {
                            currentScore = score;
                            current = candidate;
                            changed = true;
                        }
                    }
                }
            }
            // Choose the neighbours top-down (each layer's closest is the next layer's entry), then
            // publish bottom-up: a reader that reaches the node on some layer always finds its lists on
            // every layer below complete, so no search ever starts from a half-linked node.
            int top = Math.Min(level, maxLevel);
            Span<ScoredId> chosen = ctx.ChosenBuffer((top + 1) * _m);
            Span<int> chosenCounts = stackalloc int[top + 1];
            for (int lev = top; lev >= 0; lev--)
            {
                SearchLayerForInsert(ctx, q, current, lev, slot);
                Span<ScoredId> layer = chosen.Slice(lev * _m, _m);
                chosenCounts[lev] = ChooseNeighbours(ctx, layer);
                if (chosenCounts[lev] > 0)
                {
                    current = layer[0].Id;
                }
            }
            for (int lev = 0; lev <= top; lev++)
            {
                ConnectNewNode(ctx, slot, lev, chosen.Slice(lev * _m, chosenCounts[lev]));
            }
            if (holdsEntryLock)
            {
                Volatile.Write(ref _entry, PackEntry(slot, level));
            }
        }
        finally
        {
            if (holdsEntryLock)
            {
                _entryLock.Exit();
            }
        }
    }

    /// <summary>
    /// hnswlib's searchBaseLayer: best <c>efConstruction</c> nodes near <paramref name="q"/> on one layer,
    /// left in <c>ctx.Results</c>. Reads neighbour lists under their node locks (writers change them).
    /// </summary>
    private void SearchLayerForInsert(SearchContext ctx, float* q, int entry, int level, int self)
    {
        ctx.NewEpoch(_capacity);
        ushort[] visited = ctx.Visited;
        ushort epoch = ctx.Epoch;
        MaxHeap candidates = ctx.Candidates;
        MinHeap results = ctx.Results;
        candidates.Clear();
        results.Clear();
        int ef = _efConstruction;
        bool checkState = Volatile.Read(ref _notLiveCount) > 0;

        float score = VectorMath.Dot(q, Vector(entry), _dimension);
        float lowerBound = float.NegativeInfinity;
        if (entry != self && (!checkState || _states[entry] == StateLive))
        {
            results.Push(score, entry);
            lowerBound = score;
        }
        candidates.Push(score, entry);
        visited[entry] = epoch;
        visited[self] = epoch;
        int[] links = ctx.LinkCopy;
        while (candidates.Count > 0)
        {
            float top = candidates.TopScore;
            if (top < lowerBound && results.Count == ef)
            {
                break;
            }
            int node = candidates.TopId;
            candidates.Pop();
            int n = CopyLinks(node, level, links);
            int freshCount = 0;
            for (int j = 0; j < n; j++)
            {
                int candidate = links[j];
                if (visited[candidate] != epoch)
                {
                    visited[candidate] = epoch;
                    links[freshCount++] = candidate;
                    if (Sse.IsSupported)
                    {
                        Sse.Prefetch0(Vector(candidate));
                        Sse.Prefetch0((byte*)Vector(candidate) + 64);
                    }
                }
            }
            for (int j = 0; j < freshCount; j++)
            {
                int candidate = links[j];
                float s = VectorMath.Dot(q, Vector(candidate), _dimension);
                if (results.Count < ef || s > lowerBound)
                {
                    candidates.Push(s, candidate);
                    if (!checkState || _states[candidate] == StateLive)
                    {
                        results.Push(s, candidate);
                        if (results.Count > ef)
                        {
                            results.Pop();
                        }
                    }
                    if (results.Count > 0)
                    {
                        lowerBound = results.TopScore;
                    }
                }
            }
        }
    }

    /// <summary>Picks up to M neighbours from <c>ctx.Results</c> with the heuristic, best first; returns how many.</summary>
    private int ChooseNeighbours(SearchContext ctx, Span<ScoredId> chosen)
    {
        int count = ctx.Results.Count;
        Span<ScoredId> sorted = ctx.Sorted(count);
        ctx.Results.DrainDescending(sorted);
        return SelectByHeuristic(sorted[..count], _m, chosen);
    }

    /// <summary>
    /// hnswlib's mutuallyConnectNewElement: writes the new node's list on one layer, then adds the node to
    /// each chosen neighbour's list (pruning it with the heuristic when full).
    /// </summary>
    private void ConnectNewNode(SearchContext ctx, int slot, int level, ReadOnlySpan<ScoredId> selected)
    {
        int maxLinks = level == 0 ? _maxM0 : _maxM;
        int selectedCount = selected.Length;
        int* own = Links(slot, level);
        LockNode(slot);
        for (int i = 0; i < selectedCount; i++)
        {
            own[1 + i] = selected[i].Id;
        }
        Volatile.Write(ref *own, selectedCount);
        UnlockNode(slot);

        for (int i = 0; i < selectedCount; i++)
        {
            int other = selected[i].Id;
            int* list = Links(other, level);
            LockNode(other);
            try
            {
                int size = *list;
                if (size < maxLinks)
                {
                    list[1 + size] = slot;
                    Volatile.Write(ref *list, size + 1);
                    continue;
                }
                // Full: keep the best maxLinks of (old links + new node) by the heuristic.
                Span<ScoredId> pool = ctx.PruneBuffer(size + 1);
                float* otherVector = Vector(other);
                pool[0] = new ScoredId(VectorMath.Dot(otherVector, Vector(slot), _dimension), slot);
                for (int j = 0; j < size; j++)
                {
                    int link = list[1 + j];
                    pool[1 + j] = new ScoredId(VectorMath.Dot(otherVector, Vector(link), _dimension), link);
                }
                Span<ScoredId> candidates = pool[..(size + 1)];
                SortDescending(candidates);
                Span<ScoredId> kept = ctx.KeptBuffer(maxLinks);
                int keptCount = SelectByHeuristic(candidates, maxLinks, kept);
                for (int j = 0; j < keptCount; j++)
                {
                    list[1 + j] = kept[j].Id;
                }
                Volatile.Write(ref *list, keptCount);
            }
            finally
            {
                UnlockNode(other);
            }
        }
    }

    /// <summary>
    /// The neighbour selection heuristic (Algorithm 4, no kept pruned connections, as hnswlib):
    /// walking candidates from the closest, keep one only if it is closer to the base than to every
    /// neighbour kept so far, so links spread in different directions. Input sorted best first.
    /// </summary>
    private int SelectByHeuristic(ReadOnlySpan<ScoredId> sortedCandidates, int limit, Span<ScoredId> selected)
    {
        if (sortedCandidates.Length <= limit)
        {
            sortedCandidates.CopyTo(selected);
            return sortedCandidates.Length;
        }
        int count = 0;
        foreach (ScoredId candidate in sortedCandidates)
        {
            float* v = Vector(candidate.Id);
            bool good = true;
            for (int j = 0; j < count; j++)
            {
                if (VectorMath.Dot(v, Vector(selected[j].Id), _dimension) > candidate.Score)
                {
                    good = false;
                    break;
                }
            }
            if (good)
            {
                selected[count++] = candidate;
                if (count == limit)
                {
                    break;
                }
            }
        }
        return count;
    }

    private static void SortDescending(Span<ScoredId> items)
    {
        // Insertion sort: at most maxM0 + 1 items, nearly sorted after the first.
        for (int i = 1; i < items.Length; i++)
        {
            ScoredId item = items[i];
            int j = i - 1;
            while (j >= 0 && items[j].Score < item.Score)
            {
                items[j + 1] = items[j];
                j--;
            }
            items[j + 1] = item;
        }
    }

    // ------------------------------------------------------------------ searching

    /// <inheritdoc/>
    public Neighbor[] Search(ReadOnlySpan<float> query, int k, IdFilter? filter = null) => Search(query, k, 0, filter);

    /// <summary>
    /// Finds the <paramref name="k"/> nearest ids, best first, with candidate list size
    /// <paramref name="ef"/> (0: <see cref="EfSearch"/>; raised to k), keeping only ids the filter allows.
    /// </summary>
    public Neighbor[] Search(ReadOnlySpan<float> query, int k, int ef, IdFilter? filter = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        Span<Neighbor> buffer = k <= 128 ? stackalloc Neighbor[k] : new Neighbor[k];
        int n = Search(query, buffer, ef, filter);
        return buffer[..n].ToArray();
    }

    /// <summary>
    /// Writes the <c>destination.Length</c> nearest ids into <paramref name="destination"/>, best first;
    /// returns how many were written. Allocation-free; thread-safe.
    /// </summary>
    public int Search(ReadOnlySpan<float> query, Span<Neighbor> destination, int ef = 0, IdFilter? filter = null)
    {
        ThrowIfDisposed();
        if (query.Length != _dimension)
        {
            throw new ArgumentException($"The query has {query.Length} dimensions but the index holds {_dimension}-dimensional vectors.", nameof(query));
        }
        int k = destination.Length;
        if (k == 0)
        {
            return 0;
        }
        ef = Math.Max(ef <= 0 ? EfSearch : ef, k);
        SearchContext ctx = Context();
        Span<float> q = ctx.Query(_dimension);
        query.CopyTo(q);
        if (_metric == SimilarityMetric.Cosine)
        {
            VectorMath.Normalize(q);
        }
        _memoryLock.EnterReadLock();
        try
        {
            // Checked again under the lock: Dispose takes the write side, so the block cannot vanish mid-search.
            ThrowIfDisposed();
            fixed (float* pq = q)
            {
                if (filter is not null && ShouldSearchExactly(filter))
                {
                    SearchExactFiltered(ctx, pq, k, filter);
                }
                else
                {
                    SearchGraph(ctx, pq, ef, filter);
                }
            }
            MinHeap results = ctx.Results;
            while (results.Count > k)
            {
                results.Pop();
            }
            int n = results.Count;
            Span<ScoredId> sorted = ctx.Sorted(n);
            results.DrainDescending(sorted);
            for (int i = 0; i < n; i++)
            {
                destination[i] = new Neighbor(_slotToId[sorted[i].Id], sorted[i].Score);
            }
            return n;
        }
        finally
        {
            _memoryLock.ExitReadLock();
        }
    }

    /// <summary>
    /// Answers many queries (row-major, <c>n x Dimension</c>) in parallel; one array per query, best first.
    /// </summary>
    public Neighbor[][] SearchBatch(ReadOnlyMemory<float> queries, int k, int ef = 0, IdFilter? filter = null,
        int maxDegreeOfParallelism = 0, CancellationToken cancellationToken = default)
    {
        if (queries.Length % _dimension != 0)
        {
            throw new ArgumentException($"The query block holds {queries.Length} floats, not a multiple of the dimension {_dimension}.", nameof(queries));
        }
        int nq = queries.Length / _dimension;
        var results = new Neighbor[nq][];
        var options = new ParallelOptions
        {
            MaxDegreeOfParallelism = maxDegreeOfParallelism <= 0 ? _maxDegreeOfParallelism : maxDegreeOfParallelism,
            CancellationToken = cancellationToken,
        };
        if (options.MaxDegreeOfParallelism == 1)
        {
            for (int i = 0; i < nq; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                results[i] = Search(queries.Span.Slice(i * _dimension, _dimension), k, ef, filter);
            }
            return results;
        }
        Parallel.For(0, nq, options, i => results[i] = Search(queries.Span.Slice(i * _dimension, _dimension), k, ef, filter));
        return results;
    }

    /// <summary>Greedy descent through the upper levels, then the ef-search on level 0 into <c>ctx.Results</c>.</summary>
    private void SearchGraph(SearchContext ctx, float* q, int ef, IdFilter? filter)
    {
        ctx.Results.Clear();
        long entry = Volatile.Read(ref _entry);
        if (entry == NoEntry)
        {
            return;
        }
        int current = EntrySlot(entry);
        float currentScore = VectorMath.Dot(q, Vector(current), _dimension);
        for (int lev = EntryLevel(entry); lev > 0; lev--)
        {
            bool changed = true;
            while (changed)
            {
                changed = false;
                int* list = Links(current, lev);
                int n = Math.Min(Volatile.Read(ref *list), _maxM);
                for (int j = 1; j <= n; j++)
                {
                    int candidate = list[j];
                    float score = VectorMath.Dot(q, Vector(candidate), _dimension);
                    if (score > currentScore)
                    {
                        currentScore = score;
                        current = candidate;
                        changed = true;
                    }
                }
            }
        }
        if (filter is null && Volatile.Read(ref _notLiveCount) == 0)
        {
            SearchLevel0<NoCheck>(ctx, q, current, currentScore, ef, null);
        }
        else
        {
            SearchLevel0<Check>(ctx, q, current, currentScore, ef, filter);
        }
    }

    private interface ICheckMode;

    private readonly struct NoCheck : ICheckMode;

    private readonly struct Check : ICheckMode;

    /// <summary>
    /// hnswlib's searchBaseLayerST. The <typeparamref name="TMode"/> type argument compiles two loops:
    /// a bare one when nothing is deleted or filtered, and one that still walks through rejected nodes
    /// but only keeps allowed ones (and keeps going until it has ef of them).
    /// </summary>
    private void SearchLevel0<TMode>(SearchContext ctx, float* q, int entry, float entryScore, int ef, IdFilter? filter)
        where TMode : struct, ICheckMode
    {
        ctx.NewEpoch(_capacity);
        ushort[] visited = ctx.Visited;
        ushort epoch = ctx.Epoch;
        MaxHeap candidates = ctx.Candidates;
        MinHeap results = ctx.Results;
        candidates.Clear();
        results.Clear();
        byte* level0 = _level0;
        nint stride = _stride;
        nint vectorOffset = _vectorOffset;
        int dim = _dimension;
        int maxM0 = _maxM0;

        float lowerBound = float.PositiveInfinity;
        if (typeof(TMode) == typeof(NoCheck) || IsAllowed(entry, filter))
        {
            results.Push(entryScore, entry);
            lowerBound = entryScore;
        }
        candidates.Push(entryScore, entry);
        int* fresh = stackalloc int[maxM0];
        fixed (ushort* marks = visited)
        {
            marks[entry] = epoch;
            while (candidates.Count > 0)
            {
                float top = candidates.TopScore;
                if (top < lowerBound && (results.Count == ef || typeof(TMode) == typeof(NoCheck)))
                {
                    break;
                }
                int node = candidates.TopId;
                candidates.Pop();
                int* list = (int*)(level0 + node * stride);
                int n = Math.Min(Volatile.Read(ref *list), maxM0);

                // Pass 1: mark the unvisited neighbours and start fetching their vectors, so the memory
                // loads overlap instead of stalling one after another (hnswlib's _mm_prefetch, batched).
                int freshCount = 0;
                for (int j = 1; j <= n; j++)
                {
                    int candidate = list[j];
                    if (marks[candidate] != epoch)
                    {
                        marks[candidate] = epoch;
                        fresh[freshCount++] = candidate;
                        if (Sse.IsSupported)
                        {
                            byte* v = level0 + candidate * stride + vectorOffset;
                            Sse.Prefetch0(v);
                            Sse.Prefetch0(v + 64);
                        }
                    }
                }
                if (Sse.IsSupported && candidates.Count > 0)
                {
                    Sse.Prefetch0(level0 + candidates.TopId * stride);
                }

                // Pass 2: score them.
                for (int i = 0; i < freshCount; i++)
                {
                    int candidate = fresh[i];
                    float s = VectorMath.Dot(q, (float*)(level0 + candidate * stride + vectorOffset), dim);
                    if (results.Count < ef)
                    {
                        candidates.Push(s, candidate);
                        if (typeof(TMode) == typeof(NoCheck) || IsAllowed(candidate, filter))
                        {
                            results.Push(s, candidate);
                            lowerBound = results.TopScore;
                        }
                    }
                    else if (s > lowerBound)
                    {
                        candidates.Push(s, candidate);
                        if (typeof(TMode) == typeof(NoCheck) || IsAllowed(candidate, filter))
                        {
                            results.ReplaceTop(s, candidate);
                            lowerBound = results.TopScore;
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsAllowed(int slot, IdFilter? filter) =>
        _states[slot] == StateLive && (filter is null || filter.Allows(_slotToId[slot]));

    private bool ShouldSearchExactly(IdFilter filter)
    {
        int live = Count;
        double allowed = filter.Count ?? EstimateAllowed(filter);
        return allowed <= _filterExactMaxCount || allowed <= _filterExactMaxFraction * live;
    }

    /// <summary>Estimates how many live ids a predicate allows from a fixed sample of slots.</summary>
    private double EstimateAllowed(IdFilter filter)
    {
        int slots = SlotCount;
        if (slots == 0)
        {
            return 0;
        }
        const int Samples = 1024;
        int step = Math.Max(1, slots / Samples);
        int seen = 0;
        int allowed = 0;
        for (int slot = 0; slot < slots; slot += step)
        {
            seen++;
            if (IsAllowed(slot, filter))
            {
                allowed++;
            }
        }
        return (double)allowed / seen * slots;
    }

    /// <summary>Brute force over the ids the filter allows: exact, and fast when they are few.</summary>
    private void SearchExactFiltered(SearchContext ctx, float* q, int k, IdFilter filter)
    {
        MinHeap results = ctx.Results;
        results.Clear();
        if (filter.HasKnownIds)
        {
            int[] map = Volatile.Read(ref _idToSlot);
            foreach (int id in filter.KnownIds)
            {
                if ((uint)id < (uint)map.Length && map[id] is int slot and >= 0 && _states[slot] == StateLive)
                {
                    results.PushBounded(VectorMath.Dot(q, Vector(slot), _dimension), slot, k);
                }
            }
            return;
        }
        int slots = SlotCount;
        for (int slot = 0; slot < slots; slot++)
        {
            if (IsAllowed(slot, filter))
            {
                results.PushBounded(VectorMath.Dot(q, Vector(slot), _dimension), slot, k);
            }
        }
    }

    // ------------------------------------------------------------------ deleting and compaction

    /// <summary>
    /// Deletes <paramref name="id"/>: searches stop returning it at once (its node stays in the graph as a
    /// waypoint), and its slot is reused by a later add. Returns false when the id is not in the index.
    /// </summary>
    public bool Delete(int id)
    {
        // The read side keeps deletes out of Compact and slot reuse, which need the states to hold still.
        _memoryLock.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            return DeleteCore(id);
        }
        finally
        {
            _memoryLock.ExitReadLock();
        }
    }

    private bool DeleteCore(int id)
    {
        lock (_idLock)
        {
            if ((uint)id >= (uint)_idToSlot.Length || _idToSlot[id] < 0)
            {
                return false;
            }
            int slot = _idToSlot[id];
            _idToSlot[id] = -1;
            Volatile.Write(ref _states[slot], StateDeleted);
            _reusableSlots.Push(slot);
            Interlocked.Increment(ref _notLiveCount);
            Interlocked.Decrement(ref _liveCount);
            return true;
        }
    }

    /// <summary>
    /// Repairs the graph around deleted vectors: every live node that links to a deleted one gets its list
    /// rebuilt (heuristic over its live links plus the live links of its deleted neighbours), so deleted
    /// nodes drop out of the graph and their slots are reused cleanly. Blocks searches and adds while it runs.
    /// </summary>
    public void Compact(IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        _memoryLock.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            int slots = _slotCount;
            if (_notLiveCount == 0)
            {
                return;
            }
            int done = 0;
            progress?.Report(new WorkProgress("repairing graph", 0, slots, "nodes"));
            Parallel.For(0, slots, new ParallelOptions { MaxDegreeOfParallelism = _maxDegreeOfParallelism, CancellationToken = cancellationToken }, slot =>
            {
                if (_states[slot] == StateLive)
                {
                    SearchContext ctx = Context();
                    for (int lev = 0; lev <= _levels[slot]; lev++)
                    {
                        RepairLinks(ctx, slot, lev);
                    }
                }
                int finished = Interlocked.Increment(ref done);
                if (progress is not null && finished % 65536 == 0)
                {
                    progress.Report(new WorkProgress("repairing graph", finished, slots, "nodes"));
                }
            });
            for (int slot = 0; slot < slots; slot++)
            {
                if (_states[slot] == StateDeleted)
                {
                    _states[slot] = StateFree;
                    for (int lev = 0; lev <= _levels[slot]; lev++)
                    {
                        *Links(slot, lev) = 0;
                    }
                }
            }
            long entry = _entry;
            if (entry != NoEntry && _states[EntrySlot(entry)] != StateLive)
            {
                _entry = FindEntryExcept(-1);
            }
            progress?.Report(new WorkProgress("repairing graph", slots, slots, "nodes"));
        }
        finally
        {
            _memoryLock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Rebuilds one node's list at one level when it links to a node that is not live: candidates are its
    /// live links and the live links of its dead links, pruned with the heuristic. Writes only this node's list.
    /// </summary>
    private void RepairLinks(SearchContext ctx, int slot, int level)
    {
        int* list = Links(slot, level);
        int size = *list;
        bool broken = false;
        for (int j = 1; j <= size; j++)
        {
            if (_states[list[j]] != StateLive)
            {
                broken = true;
                break;
            }
        }
        if (!broken)
        {
            return;
        }
        int maxLinks = level == 0 ? _maxM0 : _maxM;
        ctx.NewEpoch(_capacity);
        ushort[] visited = ctx.Visited;
        ushort epoch = ctx.Epoch;
        visited[slot] = epoch;
        MinHeap pool = ctx.Results;
        pool.Clear();
        float* v = Vector(slot);
        for (int j = 1; j <= size; j++)
        {
            int link = list[j];
            if (_states[link] == StateLive)
            {
                if (visited[link] != epoch)
                {
                    visited[link] = epoch;
                    pool.Push(VectorMath.Dot(v, Vector(link), _dimension), link);
                }
                continue;
            }
            int* second = Links(link, level);
            int secondSize = *second;
            for (int i = 1; i <= secondSize; i++)
            {
                int candidate = second[i];
                if (visited[candidate] != epoch && _states[candidate] == StateLive)
                {
                    visited[candidate] = epoch;
                    pool.Push(VectorMath.Dot(v, Vector(candidate), _dimension), candidate);
                }
            }
        }
        int count = pool.Count;
        Span<ScoredId> sorted = ctx.Sorted(count);
        pool.DrainDescending(sorted);
        Span<ScoredId> kept = ctx.KeptBuffer(maxLinks);
        int keptCount = SelectByHeuristic(sorted[..count], maxLinks, kept);
        for (int j = 0; j < keptCount; j++)
        {
            list[1 + j] = kept[j].Id;
        }
        *list = keptCount;
    }

    /// <summary>
    /// Puts a new vector into a deleted slot (caller holds the write lock): first repairs the lists that
    /// link to the slot through its own neighbours (hnswlib's updatePoint idea), then links it afresh
    /// at the slot's existing level.
    /// </summary>
    private void ReuseSlot(int slot, int id, ReadOnlySpan<float> vector)
    {
        int level = _levels[slot];
        SearchContext ctx = Context();
        if (_states[slot] == StateDeleted)
        {
            for (int lev = 0; lev <= level; lev++)
            {
                int* list = Links(slot, lev);
                int size = *list;
                for (int j = 1; j <= size; j++)
                {
                    int neighbour = list[j];
                    if (_states[neighbour] == StateLive)
                    {
                        RepairLinks(ctx, neighbour, lev);
                    }
                }
            }
        }
        if (_entry != NoEntry && EntrySlot(_entry) == slot)
        {
            _entry = FindEntryExcept(slot);
        }
        for (int lev = 1; lev <= level; lev++)
        {
            *Links(slot, lev) = 0;
        }
        Interlocked.Decrement(ref _notLiveCount);
        // InitSlot marks the slot live; searches are held off, so the order does not matter here,
        // but the insert search must not pick the slot itself: it is excluded explicitly.
        InitSlot(slot, id, level, vector);
        Link(slot, level);
        Interlocked.Increment(ref _liveCount);
    }

    /// <summary>The live node with the highest level (other than <paramref name="except"/>), as a packed entry.</summary>
    private long FindEntryExcept(int except)
    {
        int best = -1;
        int bestLevel = -1;
        for (int slot = 0; slot < _slotCount; slot++)
        {
            if (slot != except && _states[slot] == StateLive && _levels[slot] > bestLevel)
            {
                best = slot;
                bestLevel = _levels[slot];
            }
        }
        return best < 0 ? NoEntry : PackEntry(best, bestLevel);
    }

    // ------------------------------------------------------------------ memory

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float* Vector(int slot) => (float*)(_level0 + slot * _stride + _vectorOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int* Links0(int slot) => (int*)(_level0 + slot * _stride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int* Links(int slot, int level) =>
        level == 0 ? (int*)(_level0 + slot * _stride) : (int*)_upperPointers[slot] + (level - 1) * _upperListInts;

    /// <summary>Copies a node's list under its lock; returns the link count.</summary>
    private int CopyLinks(int slot, int level, int[] destination)
    {
        int* list = Links(slot, level);
        LockNode(slot);
        int n = *list;
        for (int j = 0; j < n; j++)
        {
            destination[j] = list[1 + j];
        }
        UnlockNode(slot);
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LockNode(int slot)
    {
        ref int word = ref _nodeLocks[slot];
        if (Interlocked.CompareExchange(ref word, 1, 0) != 0)
        {
            SpinUntilLocked(ref word);
        }
    }

    private static void SpinUntilLocked(ref int word)
    {
        var spinner = new SpinWait();
        do
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        while (Volatile.Read(ref word) != 0 || Interlocked.CompareExchange(ref word, 1, 0) != 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void UnlockNode(int slot) => Volatile.Write(ref _nodeLocks[slot], 0);

    private static long PackEntry(int slot, int level) => ((long)level << 32) | (uint)slot;

    private static int EntrySlot(long entry) => (int)(entry & 0xFFFFFFFF);

    private static int EntryLevel(long entry) => (int)(entry >> 32);

    private static nint Align32(int bytes) => (bytes + 31) & ~31;

    private void EnsureCapacity(int capacity)
    {
        if (capacity <= Volatile.Read(ref _capacity))
        {
            return;
        }
        _memoryLock.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            if (capacity > _capacity)
            {
                Grow(Math.Max(capacity, (int)Math.Min(int.MaxValue, _capacity + (long)_capacity / 2)));
            }
        }
        finally
        {
            _memoryLock.ExitWriteLock();
        }
    }

    /// <summary>Reallocates every per-slot array to <paramref name="capacity"/>; caller excludes all other access.</summary>
    private void Grow(int capacity)
    {
        nuint bytes = (nuint)capacity * (nuint)_stride;
        var block = (byte*)NativeMemory.AlignedAlloc(bytes, 64);
        nuint used = (nuint)_slotCount * (nuint)_stride;
        if (_level0 is not null)
        {
            Buffer.MemoryCopy(_level0, block, bytes, used);
            NativeMemory.AlignedFree(_level0);
        }
        NativeMemory.Clear(block + used, bytes - used);
        _level0 = block;
        long added = (long)(bytes - (nuint)_capacity * (nuint)_stride);
        if (added > 0)
        {
            GC.AddMemoryPressure(added);
        }
        Array.Resize(ref _upper, capacity);
        Array.Resize(ref _upperPointers, capacity);
        Array.Resize(ref _levels, capacity);
        Array.Resize(ref _states, capacity);
        Array.Resize(ref _slotToId, capacity);
        Array.Resize(ref _nodeLocks, capacity);
        Volatile.Write(ref _capacity, capacity);
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
        _disposed = true;
    }

    /// <summary>Frees the native block if the index was never disposed.</summary>
    ~HnswIndex()
    {
        FreeNative();
    }

    private static SearchContext Context() => t_context ??= new SearchContext();

    /// <summary>Per-thread scratch of a search or an insert: visited epochs, heaps, buffers. Never shrinks.</summary>
    private sealed class SearchContext
    {
        private ScoredId[] _sorted = new ScoredId[256];
        private ScoredId[] _selected = new ScoredId[64];
        private ScoredId[] _prune = new ScoredId[128];
        private ScoredId[] _kept = new ScoredId[128];
        private float[] _query = new float[512];

        public ushort[] Visited { get; private set; } = [];

        public ushort Epoch { get; private set; }

        public MaxHeap Candidates { get; } = new(256);

        public MinHeap Results { get; } = new(256);

        public int[] LinkCopy { get; private set; } = new int[64];

        public void EnsureLinkCopy(int n)
        {
            if (LinkCopy.Length < n)
            {
                LinkCopy = new int[n];
            }
        }

        /// <summary>Starts a fresh visited set: bumps the epoch, clearing the marks only when it wraps.</summary>
        public void NewEpoch(int capacity)
        {
            if (Visited.Length < capacity)
            {
                Visited = new ushort[capacity];
                Epoch = 0;
            }
            if (++Epoch == 0)
            {
                Array.Clear(Visited);
                Epoch = 1;
            }
        }

        public Span<ScoredId> Sorted(int n) => Ensure(ref _sorted, n);

        public Span<ScoredId> ChosenBuffer(int n) => Ensure(ref _selected, n);

        public Span<ScoredId> PruneBuffer(int n) => Ensure(ref _prune, n);

        public Span<ScoredId> KeptBuffer(int n) => Ensure(ref _kept, n);

        public Span<float> Query(int n)
        {
            if (_query.Length < n)
            {
                _query = new float[n];
            }
            return _query.AsSpan(0, n);
        }

        private static Span<ScoredId> Ensure(ref ScoredId[] buffer, int n)
        {
            if (buffer.Length < n)
            {
                buffer = new ScoredId[Math.Max(n, buffer.Length * 2)];
            }
            return buffer.AsSpan(0, n);
        }
    }
}
