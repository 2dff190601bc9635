using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Embeddings.Numerics;

namespace Embeddings.Index;

/// <summary>Searching: greedy descent, the ef-search on level 0, filters and the exact fallback for selective filters.</summary>
internal sealed unsafe partial class HnswIndex
{
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
        HnswSearchContext ctx = Context();
        float* q = ctx.Floats;
        var unit = new Span<float>(q, _dimension);
        query.CopyTo(unit);
        if (_metric == SimilarityMetric.Cosine)
        {
            VectorMath.Normalize(unit);
        }
        _memoryLock.EnterReadLock();
        try
        {
            // Checked again under the lock: Dispose takes the write side, so the block cannot vanish mid-search.
            ThrowIfDisposed();
            ThrowIfExactVectorsMissing();
            if (filter is not null && ShouldSearchExactly(filter))
            {
                SearchExactFiltered(ctx, q, k, filter);
            }
            else if (_quantizer is null)
            {
                SearchGraph<FloatSpace>(ctx, PrepareQuery(ctx, q), ef, filter);
            }
            else
            {
                // Under the lock: a refit of the ranges (write side) changes how queries are prepared. The walk keeps
                // a quarter more candidates than ef (Int8Candidates): all are re-scored exactly, and the extra ones
                // bring back true neighbours that the approximate scores ranked just outside the list.
                SearchGraph<Int8Space>(ctx, PrepareQuery(ctx, q), Int8Candidates(ef), filter);
                Rescore(ctx, q, k);
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

    /// <summary>
    /// The candidate list of an int8 walk for a search at <paramref name="ef"/>: ef plus a quarter. Without it, the int8
    /// graph's recall at small ef fell up to 0.006 below the float graph's at the same ef (GloVe-100, 340k rows, ef 32:
    /// 0.8011 against 0.8074), past the 0.005 allowed; the walk costs about half the float one, so the extra quarter
    /// still leaves it far ahead at equal recall (BENCHMARKS.md, HNSW on GloVe-100).
    /// </summary>
    internal static int Int8Candidates(int ef) => ef + (ef >> 2);

    /// <summary>
    /// Replaces the approximate scores of the int8 walk's candidates (all <see cref="Int8Candidates"/> of them) by exact ones and keeps the
    /// best <paramref name="k"/>: the ranking that is returned is the float one.
    /// </summary>
    private void Rescore(HnswSearchContext ctx, float* q, int k)
    {
        MinHeap results = ctx.Results;
        int n = results.Count;
        Span<ScoredId> candidates = ctx.Sorted(n);
        results.Items.CopyTo(candidates);
        results.Clear();
        if (Sse.IsSupported && _exactStorage == ExactStorage.CallerRows)
        {
            // The caller's rows are cold: start every row's first line before the first dot product.
            float* rows = _callerRows!.Pointer;
            for (int i = 0; i < n; i++)
            {
                Sse.Prefetch0(rows + (nint)_slotToId[candidates[i].Id] * _dimension);
            }
        }
        for (int i = 0; i < n; i++)
        {
            int slot = candidates[i].Id;
            results.PushBounded(ExactScore(q, slot), slot, k);
        }
    }

    /// <summary>Greedy descent through the upper levels, then the ef-search on level 0 into <c>ctx.Results</c>.</summary>
    private void SearchGraph<TSpace>(HnswSearchContext ctx, in HnswQuery q, int ef, IdFilter? filter)
        where TSpace : struct, IHnswSpace
    {
        ctx.Results.Clear();
        long entry = Volatile.Read(ref _entry);
        if (entry == NoEntry)
        {
            return;
        }
        int current = EntrySlot(entry);
        float currentScore = TSpace.Score(q, VectorBytes(current));
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
        if (filter is null && Volatile.Read(ref _notLiveCount) == 0)
        {
            SearchLevel0<TSpace, NoCheck>(ctx, q, current, currentScore, ef, null);
        }
        else
        {
            SearchLevel0<TSpace, Check>(ctx, q, current, currentScore, ef, filter);
        }
    }

    private interface ICheckMode;

    private readonly struct NoCheck : ICheckMode;

    private readonly struct Check : ICheckMode;

    /// <summary>
    /// hnswlib's searchBaseLayerST. The <typeparamref name="TMode"/> type argument compiles two loops:
    /// a bare one when nothing is deleted or filtered, and one that still walks through rejected nodes
    /// but only keeps allowed ones (and keeps going until it has ef of them); <typeparamref name="TSpace"/>
    /// compiles the float and the int8 scoring.
    /// </summary>
    private void SearchLevel0<TSpace, TMode>(HnswSearchContext ctx, in HnswQuery q, int entry, float entryScore, int ef, IdFilter? filter)
        where TSpace : struct, IHnswSpace
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
        nint linksOffset = _linksOffset;
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
                int* list = (int*)(level0 + node * stride + linksOffset);
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
                    Sse.Prefetch0(level0 + candidates.TopId * stride + linksOffset);
                }

                // Pass 2: score them.
                for (int i = 0; i < freshCount; i++)
                {
                    int candidate = fresh[i];
                    float s = TSpace.Score(q, level0 + candidate * stride + vectorOffset);
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
    private void SearchExactFiltered(HnswSearchContext ctx, float* q, int k, IdFilter filter)
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
                    results.PushBounded(ExactScore(q, slot), slot, k);
                }
            }
            return;
        }
        int slots = SlotCount;
        for (int slot = 0; slot < slots; slot++)
        {
            if (IsAllowed(slot, filter))
            {
                results.PushBounded(ExactScore(q, slot), slot, k);
            }
        }
    }
}
