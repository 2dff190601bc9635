using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Embeddings.Index;

/// <summary>Adding vectors: slot allocation, level draws, and linking a node into every layer (hnswlib's addPoint).</summary>
internal sealed unsafe partial class HnswIndex
{
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
        ThrowIfBeyondCallerRows(id);
        EnsureQuantizerFitted(vector);
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
        if (n > 0)
        {
            ThrowIfBeyondCallerRows(firstId + n - 1L);
        }
        EnsureCapacity(SlotCount + n);
        EnsureIdCapacity(firstId + n);
        EnsureQuantizerFitted(vectors.Span);

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
                    HnswSearchContext ctx = Context();
                    HnswQuery q = InitSlot(ctx, slot, id, level, vector);
                    Link(ctx, slot, level, q);
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

    /// <summary>Writes a slot's vector, level and id and marks it live; returns the vector as the query that links it.</summary>
    private HnswQuery InitSlot(HnswSearchContext ctx, int slot, int id, int level, ReadOnlySpan<float> vector)
    {
        HnswQuery q = WriteVector(ctx, slot, vector);
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
        return q;
    }

    /// <summary>Links a written slot into the graph, scoring in the graph's space.</summary>
    private void Link(HnswSearchContext ctx, int slot, int level, in HnswQuery q)
    {
        if (_quantizer is null)
        {
            Link<FloatSpace>(ctx, slot, level, q);
        }
        else
        {
            Link<Int8Space>(ctx, slot, level, q);
        }
    }

    /// <summary>Links a written slot into the graph (hnswlib's addPoint after the data copy).</summary>
    private void Link<TSpace>(HnswSearchContext ctx, int slot, int level, in HnswQuery q)
        where TSpace : struct, IHnswSpace
    {
        ctx.EnsureLinkCopy(_maxM0 + 1);
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
            float currentScore = TSpace.Score(q, VectorBytes(current));
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
                        float score = TSpace.Score(q, VectorBytes(candidate));
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
                SearchLayerForInsert<TSpace>(ctx, q, current, lev, slot);
                Span<ScoredId> layer = chosen.Slice(lev * _m, _m);
                chosenCounts[lev] = ChooseNeighbours<TSpace>(ctx, layer);
                if (chosenCounts[lev] > 0)
                {
                    current = layer[0].Id;
                }
            }
            for (int lev = 0; lev <= top; lev++)
            {
                ConnectNewNode<TSpace>(ctx, slot, lev, chosen.Slice(lev * _m, chosenCounts[lev]));
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
    private void SearchLayerForInsert<TSpace>(HnswSearchContext ctx, in HnswQuery q, int entry, int level, int self)
        where TSpace : struct, IHnswSpace
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

        float score = TSpace.Score(q, VectorBytes(entry));
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
                        Sse.Prefetch0(VectorBytes(candidate));
                        Sse.Prefetch0(VectorBytes(candidate) + 64);
                    }
                }
            }
            for (int j = 0; j < freshCount; j++)
            {
                int candidate = links[j];
                float s = TSpace.Score(q, VectorBytes(candidate));
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
    private int ChooseNeighbours<TSpace>(HnswSearchContext ctx, Span<ScoredId> chosen)
        where TSpace : struct, IHnswSpace
    {
        int count = ctx.Results.Count;
        Span<ScoredId> sorted = ctx.Sorted(count);
        ctx.Results.DrainDescending(sorted);
        return SelectByHeuristic<TSpace>(ctx, sorted[..count], _m, chosen);
    }

    /// <summary>
    /// hnswlib's mutuallyConnectNewElement: writes the new node's list on one layer, then adds the node to
    /// each chosen neighbour's list (pruning it with the heuristic when full).
    /// </summary>
    private void ConnectNewNode<TSpace>(HnswSearchContext ctx, int slot, int level, ReadOnlySpan<ScoredId> selected)
        where TSpace : struct, IHnswSpace
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
                HnswQuery otherQuery = StoredAsQuery<TSpace>(ctx, other, ctx.BaseWeights);
                pool[0] = new ScoredId(TSpace.Score(otherQuery, VectorBytes(slot)), slot);
                for (int j = 0; j < size; j++)
                {
                    int link = list[1 + j];
                    pool[1 + j] = new ScoredId(TSpace.Score(otherQuery, VectorBytes(link)), link);
                }
                Span<ScoredId> candidates = pool[..(size + 1)];
                SortDescending(candidates);
                Span<ScoredId> kept = ctx.KeptBuffer(maxLinks);
                int keptCount = SelectByHeuristic<TSpace>(ctx, candidates, maxLinks, kept);
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
    /// Each kept neighbour is prepared once as a query (int8 graphs: decoded and rounded to weights),
    /// so every later candidate costs one kernel call per kept neighbour.
    /// </summary>
    private int SelectByHeuristic<TSpace>(HnswSearchContext ctx, ReadOnlySpan<ScoredId> sortedCandidates, int limit, Span<ScoredId> selected)
        where TSpace : struct, IHnswSpace
    {
        if (sortedCandidates.Length <= limit)
        {
            sortedCandidates.CopyTo(selected);
            return sortedCandidates.Length;
        }
        Span<HnswQuery> kept = ctx.Pivots;
        int count = 0;
        foreach (ScoredId candidate in sortedCandidates)
        {
            byte* v = VectorBytes(candidate.Id);
            bool good = true;
            for (int j = 0; j < count; j++)
            {
                if (TSpace.Score(kept[j], v) > candidate.Score)
                {
                    good = false;
                    break;
                }
            }
            if (good)
            {
                selected[count] = candidate;
                if (count + 1 == limit)
                {
                    return limit;
                }
                kept[count] = StoredAsQuery<TSpace>(ctx, candidate.Id, ctx.PivotWeights(count));
                count++;
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
}
