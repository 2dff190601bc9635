namespace Embeddings.Index;

/// <summary>Deleting: tombstones, slot reuse, and compaction that relinks the graph around deleted nodes.</summary>
internal sealed unsafe partial class HnswIndex
{
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
                    HnswSearchContext ctx = Context();
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
    private void RepairLinks(HnswSearchContext ctx, int slot, int level)
    {
        if (_quantizer is null)
        {
            RepairLinks<FloatSpace>(ctx, slot, level);
        }
        else
        {
            RepairLinks<Int8Space>(ctx, slot, level);
        }
    }

    private void RepairLinks<TSpace>(HnswSearchContext ctx, int slot, int level)
        where TSpace : struct, IHnswSpace
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
        HnswQuery v = StoredAsQuery<TSpace>(ctx, slot, ctx.BaseWeights);
        for (int j = 1; j <= size; j++)
        {
            int link = list[j];
            if (_states[link] == StateLive)
            {
                if (visited[link] != epoch)
                {
                    visited[link] = epoch;
                    pool.Push(TSpace.Score(v, VectorBytes(link)), link);
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
                    pool.Push(TSpace.Score(v, VectorBytes(candidate)), candidate);
                }
            }
        }
        int count = pool.Count;
        Span<ScoredId> sorted = ctx.Sorted(count);
        pool.DrainDescending(sorted);
        Span<ScoredId> kept = ctx.KeptBuffer(maxLinks);
        int keptCount = SelectByHeuristic<TSpace>(ctx, sorted[..count], maxLinks, kept);
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
        HnswSearchContext ctx = Context();
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
        HnswQuery q = InitSlot(ctx, slot, id, level, vector);
        Link(ctx, slot, level, q);
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
}
