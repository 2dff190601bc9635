using System.Buffers;
using Embeddings.Numerics;

namespace Embeddings.Index;

/// <summary>
/// Brute-force nearest neighbours over a flat row-major block of vectors (row <c>i</c> has id <c>i</c>):
/// the correctness oracle for <see cref="HnswIndex"/>, and the right choice for small stores and very
/// selective filters. Every row is compared with SIMD inner products; large scans are split into chunks
/// searched on all cores, each with its own bounded top-k heap, merged at the end.
/// Thread-safe for concurrent searches; the vectors must not change while it is in use.
/// </summary>
internal sealed unsafe class ExactIndex : IVectorIndex
{
    private const int RowsPerChunk = 8192;
    private const int QueriesPerBlock = 8;

    private readonly ReadOnlyMemory<float> _vectors;
    private readonly float[]? _inverseNorms;
    private readonly int _maxDegreeOfParallelism;

    private ExactIndex(ReadOnlyMemory<float> vectors, int dimension, SimilarityMetric metric, int maxDegreeOfParallelism)
    {
        _vectors = vectors;
        Dimension = dimension;
        Metric = metric;
        Count = vectors.Length / dimension;
        _maxDegreeOfParallelism = maxDegreeOfParallelism <= 0 ? Environment.ProcessorCount : maxDegreeOfParallelism;
        if (metric == SimilarityMetric.Cosine)
        {
            _inverseNorms = new float[Count];
            ReadOnlySpan<float> all = vectors.Span;
            for (int i = 0; i < Count; i++)
            {
                _inverseNorms[i] = VectorMath.InverseNorm(all.Slice(i * dimension, dimension));
            }
        }
    }

    /// <summary>
    /// Creates the index over <paramref name="vectors"/> (<c>Count x dimension</c> floats, row-major; not copied).
    /// </summary>
    /// <param name="vectors">The rows; the length must be a multiple of <paramref name="dimension"/>.</param>
    /// <param name="dimension">The vector dimension.</param>
    /// <param name="metric">Cosine (rows and queries compared after scaling to unit length) or raw inner product.</param>
    /// <param name="maxDegreeOfParallelism">Cores to use for one search or a batch; 0 or less: all.</param>
    public static ExactIndex Create(ReadOnlyMemory<float> vectors, int dimension,
        SimilarityMetric metric = SimilarityMetric.Cosine, int maxDegreeOfParallelism = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (vectors.Length % dimension != 0)
        {
            throw new ArgumentException(
                $"The vector block holds {vectors.Length} floats, not a multiple of the dimension {dimension}.", nameof(vectors));
        }
        return new ExactIndex(vectors, dimension, metric, maxDegreeOfParallelism);
    }

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <inheritdoc/>
    public int Count { get; }

    /// <summary>How similarity is measured.</summary>
    public SimilarityMetric Metric { get; }

    /// <inheritdoc/>
    public Neighbor[] Search(ReadOnlySpan<float> query, int k, IdFilter? filter = null)
    {
        var result = new Neighbor[Math.Min(k, Count)];
        int n = Search(query, result, filter);
        return n == result.Length ? result : result[..n];
    }

    /// <summary>
    /// Writes the <c>destination.Length</c> best hits into <paramref name="destination"/>, best first;
    /// returns how many were written (fewer when the index or the filter holds fewer).
    /// </summary>
    public int Search(ReadOnlySpan<float> query, Span<Neighbor> destination, IdFilter? filter = null)
    {
        CheckQuery(query.Length);
        int k = destination.Length;
        if (k == 0 || Count == 0)
        {
            return 0;
        }
        float[] q = PrepareQueries(query, 1);
        try
        {
            MinHeap heap;
            using MemoryHandle pin = _vectors.Pin();
            fixed (float* pq = q)
            {
                var rows = (float*)pin.Pointer;
                int candidates = filter is { HasKnownIds: true } ? filter.KnownIds.Length : Count;
                if (candidates <= RowsPerChunk * 2 || _maxDegreeOfParallelism == 1)
                {
                    heap = new MinHeap(k);
                    ScanChunk(rows, pq, 1, 0, candidates, [heap], k, filter);
                }
                else
                {
                    heap = ParallelScan(rows, (nint)pq, candidates, k, filter);
                }
            }
            return Drain(heap, destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(q);
        }
    }

    /// <summary>
    /// Answers many queries (<paramref name="queries"/>: <c>n x Dimension</c> floats, row-major) on all
    /// cores; query blocks share each pass over the rows, so memory traffic is a fraction of one-by-one.
    /// Returns one array per query, best first.
    /// </summary>
    public Neighbor[][] SearchBatch(ReadOnlyMemory<float> queries, int k, IdFilter? filter = null,
        CancellationToken cancellationToken = default)
    {
        CheckQuery(queries.Length % Dimension == 0 ? Dimension : -1);
        int nq = queries.Length / Dimension;
        var results = new Neighbor[nq][];
        int blocks = (nq + QueriesPerBlock - 1) / QueriesPerBlock;
        var options = new ParallelOptions { MaxDegreeOfParallelism = _maxDegreeOfParallelism, CancellationToken = cancellationToken };
        using MemoryHandle pin = _vectors.Pin();
        nint rows = (nint)pin.Pointer;
        Parallel.For(0, blocks, options, block =>
        {
            int first = block * QueriesPerBlock;
            int count = Math.Min(QueriesPerBlock, nq - first);
            float[] q = PrepareQueries(queries.Span.Slice(first * Dimension, count * Dimension), count);
            try
            {
                var heaps = new MinHeap[count];
                for (int i = 0; i < count; i++)
                {
                    heaps[i] = new MinHeap(k);
                }
                int candidates = filter is { HasKnownIds: true } ? filter.KnownIds.Length : Count;
                fixed (float* pq = q)
                {
                    ScanChunk((float*)rows, pq, count, 0, candidates, heaps, k, filter);
                }
                for (int i = 0; i < count; i++)
                {
                    var hits = new Neighbor[heaps[i].Count];
                    Drain(heaps[i], hits);
                    results[first + i] = hits;
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(q);
            }
        });
        return results;
    }

    private MinHeap ParallelScan(float* rows, nint query, int candidates, int k, IdFilter? filter)
    {
        int chunks = (candidates + RowsPerChunk - 1) / RowsPerChunk;
        var merged = new MinHeap(k);
        var gate = new Lock();
        nint rowsAddress = (nint)rows;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = _maxDegreeOfParallelism },
            () => new MinHeap(k),
            (chunk, _, local) =>
            {
                int start = chunk * RowsPerChunk;
                ScanChunk((float*)rowsAddress, (float*)query, 1, start, Math.Min(candidates, start + RowsPerChunk), [local], k, filter);
                return local;
            },
            local =>
            {
                lock (gate)
                {
                    foreach (ScoredId item in local.Items)
                    {
                        merged.PushBounded(item.Score, item.Id, k);
                    }
                }
            });
        return merged;
    }

    /// <summary>
    /// Scans candidate positions [start, end): row numbers, or indexes into the filter's id list when it
    /// has one. Each row is compared with every query of the block while it is in cache.
    /// </summary>
    private void ScanChunk(float* rows, float* queries, int nq, int start, int end, MinHeap[] heaps, int k, IdFilter? filter)
    {
        int dim = Dimension;
        bool listed = filter is { HasKnownIds: true };
        ReadOnlySpan<int> ids = listed ? filter!.KnownIds : default;
        float[]? inverseNorms = _inverseNorms;
        for (int pos = start; pos < end; pos++)
        {
            int row = listed ? ids[pos] : pos;
            if (listed ? row >= Count : filter is not null && !filter.Allows(row))
            {
                continue;
            }
            float* r = rows + (nint)row * dim;
            float scale = inverseNorms is null ? 1f : inverseNorms[row];
            for (int qi = 0; qi < nq; qi++)
            {
                float score = VectorMath.Dot(queries + qi * dim, r, dim) * scale;
                heaps[qi].PushBounded(score, row, k);
            }
        }
    }

    private float[] PrepareQueries(ReadOnlySpan<float> queries, int count)
    {
        float[] q = ArrayPool<float>.Shared.Rent(count * Dimension);
        queries.CopyTo(q);
        if (Metric == SimilarityMetric.Cosine)
        {
            for (int i = 0; i < count; i++)
            {
                VectorMath.Normalize(q.AsSpan(i * Dimension, Dimension));
            }
        }
        return q;
    }

    private static int Drain(MinHeap heap, Span<Neighbor> destination)
    {
        int n = heap.Count;
        Span<ScoredId> sorted = n <= 256 ? stackalloc ScoredId[n] : new ScoredId[n];
        heap.DrainDescending(sorted);
        for (int i = 0; i < n; i++)
        {
            destination[i] = new Neighbor(sorted[i].Id, sorted[i].Score);
        }
        return n;
    }

    private void CheckQuery(int length)
    {
        if (length != Dimension)
        {
            throw new ArgumentException($"The query has {length} dimensions but the index holds {Dimension}-dimensional vectors.");
        }
    }
}
