using System.Buffers;
using System.Runtime.CompilerServices;

namespace Embeddings.Tokenization;

/// <summary>
/// A growable list over an <see cref="ArrayPool{T}"/> array: the tokenizers' scratch space, so encoding a text
/// allocates nothing once the pool is warm. A mutable struct: pass it by <c>ref</c> and dispose it once.
/// </summary>
internal struct PooledBuffer<T> : IDisposable
{
    private T[] _items;
    private int _count;

    public PooledBuffer(int capacity)
    {
        _items = ArrayPool<T>.Shared.Rent(Math.Max(capacity, 16));
        _count = 0;
    }

    public readonly int Count => _count;

    public readonly Span<T> Span => _items.AsSpan(0, _count);

    public readonly T this[int index]
    {
        get => _items[index];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(T item)
    {
        if (_count == _items.Length)
        {
            Grow(_count + 1);
        }
        _items[_count++] = item;
    }

    /// <summary>Makes room for <paramref name="length"/> items at the end and returns them (count grows).</summary>
    public Span<T> AppendSpan(int length)
    {
        if (_count + length > _items.Length)
        {
            Grow(_count + length);
        }
        var span = _items.AsSpan(_count, length);
        _count += length;
        return span;
    }

    public void Clear() => _count = 0;

    public void Truncate(int count) => _count = count;

    private void Grow(int needed)
    {
        var bigger = ArrayPool<T>.Shared.Rent(Math.Max(needed, _items.Length * 2));
        _items.AsSpan(0, _count).CopyTo(bigger);
        ArrayPool<T>.Shared.Return(_items);
        _items = bigger;
    }

    public void Dispose()
    {
        if (_items is not null)
        {
            ArrayPool<T>.Shared.Return(_items);
            _items = null!;
        }
    }
}
