using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Embeddings.Numerics;

namespace Embeddings.Index;

/// <summary>
/// Int8 graphs: fitting the code ranges, writing a slot's vector, preparing queries, and the exact float vectors
/// the final candidates are re-scored against (the index's own copy, or the caller's rows).
/// </summary>
internal sealed unsafe partial class HnswIndex
{
    /// <summary>Where the exact float vectors live.</summary>
    internal enum ExactStorage
    {
        /// <summary>Float graphs: the vectors in the records are exact.</summary>
        InRecords = 0,

        /// <summary>Int8 graphs: a native block of Dimension floats per slot, kept by the index.</summary>
        OwnCopy = 1,

        /// <summary>Int8 graphs: the caller's rows (row i = id i), pinned while attached; not in the index file.</summary>
        CallerRows = 2,
    }

    /// <summary>The caller's exact rows, pinned.</summary>
    private sealed class CallerRows(ReadOnlyMemory<float> rows, int dimension) : IDisposable
    {
        private MemoryHandle _pin = rows.Pin();

        public float* Pointer => (float*)_pin.Pointer;

        public int Count { get; } = rows.Length / dimension;

        public void Dispose() => _pin.Dispose();
    }

    /// <summary>
    /// Re-score an int8 index against <paramref name="rows"/> (row-major, row <c>i</c> holds id <c>i</c>), for example
    /// a store's memory-mapped vectors, instead of a copy kept by the index: call it after <see cref="Load"/> of an index
    /// saved that way, and again whenever the rows grow, before adding the new ones. An index with its own copy drops it
    /// (saving 4 x Dimension bytes per vector). The rows must hold every id in the index, unchanged: a sample of them
    /// is checked against the stored codes. Searches and adds wait while it runs.
    /// </summary>
    /// <exception cref="InvalidOperationException">The index is not int8.</exception>
    /// <exception cref="ArgumentException">The rows are not a multiple of the dimension, miss ids, or hold other vectors.</exception>
    public void UseExactVectors(ReadOnlyMemory<float> rows)
    {
        ThrowIfDisposed();
        if (_quantizer is null)
        {
            throw new InvalidOperationException("A float index (HnswQuantization.None) re-scores nothing: its graph already holds the exact vectors.");
        }
        _memoryLock.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            AttachCallerRows(rows);
            if (_exactStorage == ExactStorage.OwnCopy)
            {
                FreeOwnCopy();
                _exactStorage = ExactStorage.CallerRows;
            }
        }
        finally
        {
            _memoryLock.ExitWriteLock();
        }
    }

    /// <summary>Checks and pins the caller's rows and computes the inverse norms of every slot; caller excludes other access.</summary>
    private void AttachCallerRows(ReadOnlyMemory<float> rows)
    {
        if (rows.Length % _dimension != 0)
        {
            throw new ArgumentException($"The exact vectors hold {rows.Length} floats, not a multiple of the dimension {_dimension}.", nameof(rows));
        }
        int count = rows.Length / _dimension;
        if (count < _coveredCount)
        {
            throw new ArgumentException($"The exact vectors hold {count} rows but the index covers ids up to {_coveredCount - 1}; pass every row (the store's vectors).", nameof(rows));
        }
        var attached = new CallerRows(rows, _dimension);
        try
        {
            int slots = _slotCount;
            if (_inverseNorms.Length < _capacity)
            {
                Array.Resize(ref _inverseNorms, _capacity);
            }
            float[] buffer = new float[_dimension];
            byte[] codes = new byte[_quantizer!.CodeLength];
            int checkEvery = Math.Max(1, slots / 64);
            for (int slot = 0; slot < slots; slot++)
            {
                if (_states[slot] == StateFree)
                {
                    continue;
                }
                var row = new ReadOnlySpan<float>(attached.Pointer + (nint)_slotToId[slot] * _dimension, _dimension);
                _inverseNorms[slot] = InverseNorm(row);
                if (slot % checkEvery == 0 && _states[slot] == StateLive)
                {
                    TensorPrimitives.Multiply(row, _inverseNorms[slot], buffer);
                    fixed (byte* c = codes)
                    {
                        _quantizer.Encode(buffer, c);
                    }
                    byte* stored = VectorBytes(slot);
                    for (int d = 0; d < _dimension; d++)
                    {
                        if (Math.Abs(codes[d] - stored[d]) > 1)
                        {
                            throw new ArgumentException($"Row {_slotToId[slot]} of the exact vectors is not the vector the index holds under that id (dimension {d} differs): pass the rows the index was built from.", nameof(rows));
                        }
                    }
                }
            }
        }
        catch
        {
            attached.Dispose();
            throw;
        }
        _callerRows?.Dispose();
        _callerRows = attached;
    }

    private float InverseNorm(ReadOnlySpan<float> row) =>
        _metric == SimilarityMetric.Cosine ? VectorMath.InverseNorm(row) : 1f;

    private void FreeOwnCopy()
    {
        if (_exact is not null)
        {
            NativeMemory.AlignedFree(_exact);
            GC.RemoveMemoryPressure((long)_capacity * _dimension * sizeof(float));
            _exact = null;
        }
    }

    /// <summary>The exact score of slot against a (normalised) float query.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float ExactScore(float* q, int slot)
    {
        switch (_exactStorage)
        {
            case ExactStorage.InRecords:
                return VectorMath.Dot(q, Vector(slot), _dimension);
            case ExactStorage.OwnCopy:
                return VectorMath.Dot(q, _exact + (nint)slot * _dimension, _dimension);
            default:
                return VectorMath.Dot(q, _callerRows!.Pointer + (nint)_slotToId[slot] * _dimension, _dimension) * _inverseNorms[slot];
        }
    }

    /// <summary>Throws when an int8 index that re-scores against the caller's rows has none attached.</summary>
    private void ThrowIfExactVectorsMissing()
    {
        if (_exactStorage == ExactStorage.CallerRows && _callerRows is null)
        {
            throw new InvalidOperationException("This int8 index re-scores against the caller's vectors and none are attached: call UseExactVectors(rows) after loading it (for an index over a store: the store's rows).");
        }
    }

    /// <summary>Throws when ids beyond the caller's rows are about to be added.</summary>
    private void ThrowIfBeyondCallerRows(long lastId)
    {
        if (_exactStorage == ExactStorage.CallerRows && (_callerRows is null || lastId >= _callerRows.Count))
        {
            throw new InvalidOperationException($"Id {lastId} is beyond the {_callerRows?.Count ?? 0} exact rows attached: call UseExactVectors with rows that hold it before adding it.");
        }
    }

    /// <summary>
    /// Writes a slot's vector: into the record (float graphs, normalised for cosine), or as codes plus the exact copy
    /// or inverse norm (int8 graphs). Leaves the normalised vector in <c>ctx.Floats</c> and returns it as the query that links the slot.
    /// </summary>
    private HnswQuery WriteVector(HnswSearchContext ctx, int slot, ReadOnlySpan<float> vector)
    {
        if (_quantizer is null)
        {
            var span = new Span<float>(Vector(slot), _dimension);
            vector.CopyTo(span);
            if (_metric == SimilarityMetric.Cosine)
            {
                VectorMath.Normalize(span);
            }
            return new HnswQuery { Floats = Vector(slot), Length = _dimension };
        }
        var unit = new Span<float>(ctx.Floats, _dimension);
        vector.CopyTo(unit);
        float inverseNorm = InverseNorm(vector);
        if (_metric == SimilarityMetric.Cosine)
        {
            TensorPrimitives.Multiply(unit, inverseNorm, unit);
        }
        _quantizer.Encode(unit, VectorBytes(slot));
        if (_exactStorage == ExactStorage.OwnCopy)
        {
            unit.CopyTo(new Span<float>(_exact + (nint)slot * _dimension, _dimension));
        }
        else
        {
            _inverseNorms[slot] = inverseNorm;
        }
        return _quantizer.Prepare(unit, ctx.QueryWeights, ctx.Scratch);
    }

    /// <summary>A float query (already normalised, in <paramref name="q"/>) as the walk scores it.</summary>
    private HnswQuery PrepareQuery(HnswSearchContext ctx, float* q) =>
        _quantizer is null
            ? new HnswQuery { Floats = q, Length = _dimension }
            : _quantizer.Prepare(new ReadOnlySpan<float>(q, _dimension), ctx.QueryWeights, ctx.Scratch);

    /// <summary>A stored vector as a query (the heuristic and pruning compare stored vectors with each other).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private HnswQuery StoredAsQuery<TSpace>(HnswSearchContext ctx, int slot, sbyte* weights)
        where TSpace : struct, IHnswSpace =>
        typeof(TSpace) == typeof(FloatSpace)
            ? new HnswQuery { Floats = Vector(slot), Length = _dimension }
            : _quantizer!.PrepareStored(VectorBytes(slot), weights, ctx.Scratch);

    /// <summary>
    /// Fits the int8 ranges before the first vectors go in, and refits them (re-encoding every node from its exact
    /// vector) each time the index has doubled since, until a fit has seen <see cref="ScalarQuantizer.RefitLimit"/>
    /// vectors: ranges fitted on the first few vectors would clip later ones. Min and max per dimension, over the
    /// nodes and the incoming rows.
    /// </summary>
    private void EnsureQuantizerFitted(ReadOnlySpan<float> incoming)
    {
        if (_quantizer is null)
        {
            return;
        }
        int incomingCount = incoming.Length / _dimension;
        if (incomingCount == 0 || !_quantizer.NeedsFit(Count, incomingCount))
        {
            return;
        }
        _memoryLock.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            if (!_quantizer.NeedsFit(_liveCount, incomingCount))
            {
                return;
            }
            var min = new float[_dimension];
            var max = new float[_dimension];
            min.AsSpan().Fill(float.PositiveInfinity);
            max.AsSpan().Fill(float.NegativeInfinity);
            var unit = new float[_dimension];
            void Observe(ReadOnlySpan<float> v, float inverseNorm)
            {
                TensorPrimitives.Multiply(v, inverseNorm, unit);
                TensorPrimitives.Min(min, unit, min);
                TensorPrimitives.Max(max, unit, max);
            }
            int slots = _slotCount;
            for (int slot = 0; slot < slots; slot++)
            {
                if (_states[slot] == StateLive)
                {
                    Observe(ExactRow(slot, out float inverseNorm), inverseNorm);
                }
            }
            for (int i = 0; i < incomingCount; i++)
            {
                ReadOnlySpan<float> row = incoming.Slice(i * _dimension, _dimension);
                Observe(row, InverseNorm(row));
            }
            _quantizer.SetRanges(min, max, _liveCount + incomingCount);
            for (int slot = 0; slot < slots; slot++)
            {
                if (_states[slot] != StateFree && (_exactStorage == ExactStorage.OwnCopy || _slotToId[slot] < (_callerRows?.Count ?? 0)))
                {
                    TensorPrimitives.Multiply(ExactRow(slot, out float inverseNorm), inverseNorm, unit);
                    _quantizer.Encode(unit, VectorBytes(slot));
                }
            }
        }
        finally
        {
            _memoryLock.ExitWriteLock();
        }
    }

    /// <summary>A slot's exact vector as stored (own copy: normalised; caller's row: as given, with its inverse norm).</summary>
    private ReadOnlySpan<float> ExactRow(int slot, out float inverseNorm)
    {
        if (_exactStorage == ExactStorage.OwnCopy)
        {
            inverseNorm = 1f;
            return new ReadOnlySpan<float>(_exact + (nint)slot * _dimension, _dimension);
        }
        inverseNorm = _inverseNorms[slot];
        return new ReadOnlySpan<float>(_callerRows!.Pointer + (nint)_slotToId[slot] * _dimension, _dimension);
    }
}
