using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Embeddings.Index;

/// <summary>
/// Per-thread scratch of a search or an insert: visited epochs, heaps, buffers. Never shrinks. The vector buffers
/// are pinned, so the hot loops take their addresses once (<see cref="EnsureVectors"/>) instead of fixing them.
/// </summary>
internal sealed unsafe class HnswSearchContext
{
    private ScoredId[] _sorted = new ScoredId[256];
    private ScoredId[] _selected = new ScoredId[64];
    private ScoredId[] _prune = new ScoredId[128];
    private ScoredId[] _kept = new ScoredId[128];
    private HnswQuery[] _pivots = new HnswQuery[64];
    private float[] _floats = [];
    private float[] _scratch = [];
    private sbyte[] _weights = [];
    private int _codeLength;

    public ushort[] Visited { get; private set; } = [];

    public ushort Epoch { get; private set; }

    public MaxHeap Candidates { get; } = new(256);

    public MinHeap Results { get; } = new(256);

    public int[] LinkCopy { get; private set; } = new int[64];

    /// <summary>The query (or the vector being linked) as floats: Dimension floats, after <see cref="EnsureVectors"/>.</summary>
    public float* Floats { get; private set; }

    /// <summary>Working floats of <see cref="ScalarQuantizer.Prepare"/>: 2 x Dimension.</summary>
    public Span<float> Scratch => _scratch;

    /// <summary>int8 weights of the query (or the vector being linked).</summary>
    public sbyte* QueryWeights { get; private set; }

    /// <summary>int8 weights of the node whose list is pruned or repaired.</summary>
    public sbyte* BaseWeights { get; private set; }

    /// <summary>The neighbours kept so far by the heuristic, prepared as queries.</summary>
    public Span<HnswQuery> Pivots => _pivots;

    /// <summary>int8 weights of pivot <paramref name="j"/>.</summary>
    public sbyte* PivotWeights(int j) => BaseWeights + (nint)(j + 1) * WeightBytes;

    /// <summary>Bytes of one prepared query's weights: two halves of the code length.</summary>
    private int WeightBytes => 2 * _codeLength;

    /// <summary>Sizes the vector buffers for an index: its dimension, int8 code length (0 for float graphs), and list size.</summary>
    public void EnsureVectors(int dimension, int codeLength, int maxLinks)
    {
        if (_floats.Length < dimension)
        {
            _floats = GC.AllocateArray<float>(dimension, pinned: true);
            _scratch = GC.AllocateArray<float>(2 * dimension, pinned: true);
            Floats = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_floats));
        }
        if (_pivots.Length < maxLinks + 1)
        {
            _pivots = new HnswQuery[maxLinks + 1];
        }
        // Query, base, then one block per pivot; each block holds both halves of the weights.
        if (codeLength > 0 && (_codeLength < codeLength || _weights.Length < 2L * _codeLength * (_pivots.Length + 2)))
        {
            _codeLength = Math.Max(_codeLength, codeLength);
            _weights = GC.AllocateArray<sbyte>(WeightBytes * (_pivots.Length + 2), pinned: true);
            QueryWeights = (sbyte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_weights));
            BaseWeights = QueryWeights + WeightBytes;
        }
    }

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

    private static Span<ScoredId> Ensure(ref ScoredId[] buffer, int n)
    {
        if (buffer.Length < n)
        {
            buffer = new ScoredId[Math.Max(n, buffer.Length * 2)];
        }
        return buffer.AsSpan(0, n);
    }
}
