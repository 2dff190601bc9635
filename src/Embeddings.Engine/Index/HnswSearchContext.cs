namespace Embeddings.Index;

/// <summary>Per-thread scratch of a search or an insert: visited epochs, heaps, buffers. Never shrinks.</summary>
internal sealed class HnswSearchContext
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
