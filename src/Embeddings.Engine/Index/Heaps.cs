using System.Runtime.CompilerServices;

namespace Embeddings.Index;

/// <summary>A (score, id) pair as the heaps hold it: 8 bytes, so a heap is one flat array.</summary>
internal struct ScoredId
{
    public float Score;
    public int Id;

    public ScoredId(float score, int id)
    {
        Score = score;
        Id = id;
    }
}

/// <summary>
/// Binary heap whose top is the LOWEST score: the result set of a search (the top is the worst hit,
/// the one to evict) and the bounded top-k of the exact index. Reused across searches, never shrinks.
/// </summary>
internal sealed class MinHeap
{
    private ScoredId[] _items;

    public MinHeap(int capacity) => _items = new ScoredId[Math.Max(capacity, 4)];

    public int Count { get; private set; }

    public float TopScore
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _items[0].Score;
    }

    public int TopId => _items[0].Id;

    public void Clear() => Count = 0;

    public void Push(float score, int id)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }
        ScoredId[] items = _items;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (items[parent].Score <= score)
            {
                break;
            }
            items[i] = items[parent];
            i = parent;
        }
        items[i] = new ScoredId(score, id);
    }

    /// <summary>Keeps the best <paramref name="k"/>: adds when not full, else replaces the worst if better.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PushBounded(float score, int id, int k)
    {
        if (Count < k)
        {
            Push(score, id);
        }
        else if (score > _items[0].Score)
        {
            ReplaceTop(score, id);
        }
    }

    public void Pop()
    {
        int last = --Count;
        if (last > 0)
        {
            SiftDown(_items[last]);
        }
    }

    public void ReplaceTop(float score, int id) => SiftDown(new ScoredId(score, id));

    private void SiftDown(ScoredId item)
    {
        ScoredId[] items = _items;
        int n = Count;
        int i = 0;
        while (true)
        {
            int child = (i << 1) + 1;
            if (child >= n)
            {
                break;
            }
            if (child + 1 < n && items[child + 1].Score < items[child].Score)
            {
                child++;
            }
            if (items[child].Score >= item.Score)
            {
                break;
            }
            items[i] = items[child];
            i = child;
        }
        items[i] = item;
    }

    /// <summary>The entries in heap order (not sorted).</summary>
    public ReadOnlySpan<ScoredId> Items => _items.AsSpan(0, Count);

    /// <summary>Empties the heap into <paramref name="destination"/>, best first; returns how many were written.</summary>
    public int DrainDescending(Span<ScoredId> destination)
    {
        int n = Count;
        for (int i = n - 1; i >= 0; i--)
        {
            destination[i] = _items[0];
            Pop();
        }
        return n;
    }
}

/// <summary>Binary heap whose top is the HIGHEST score: the candidate queue of a graph search.</summary>
internal sealed class MaxHeap
{
    private ScoredId[] _items;

    public MaxHeap(int capacity) => _items = new ScoredId[Math.Max(capacity, 4)];

    public int Count { get; private set; }

    public float TopScore
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _items[0].Score;
    }

    public int TopId => _items[0].Id;

    public void Clear() => Count = 0;

    public ScoredId this[int index] => _items[index];

    public void Push(float score, int id)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }
        ScoredId[] items = _items;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (items[parent].Score >= score)
            {
                break;
            }
            items[i] = items[parent];
            i = parent;
        }
        items[i] = new ScoredId(score, id);
    }

    public void Pop()
    {
        int n = --Count;
        if (n == 0)
        {
            return;
        }
        ScoredId item = _items[n];
        ScoredId[] items = _items;
        int i = 0;
        while (true)
        {
            int child = (i << 1) + 1;
            if (child >= n)
            {
                break;
            }
            if (child + 1 < n && items[child + 1].Score > items[child].Score)
            {
                child++;
            }
            if (items[child].Score <= item.Score)
            {
                break;
            }
            items[i] = items[child];
            i = child;
        }
        items[i] = item;
    }
}
