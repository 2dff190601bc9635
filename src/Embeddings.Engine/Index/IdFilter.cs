using System.Numerics;

namespace Embeddings.Index;

/// <summary>
/// Which ids a search may return (date range, category, an id set...). Build it from an explicit id
/// set or a bitset when the allowed ids are known up front: then the index knows how many there are and
/// can answer a very selective filter exactly by looking only at those ids. A predicate is the most
/// general form; give <c>expectedCount</c> when you know it, otherwise the index estimates it by sampling.
/// </summary>
internal sealed class IdFilter
{
    private readonly Func<int, bool>? _predicate;
    private readonly ulong[]? _bits;
    private readonly int[]? _ids;

    private IdFilter(Func<int, bool>? predicate, ulong[]? bits, int[]? ids, int? count)
    {
        _predicate = predicate;
        _bits = bits;
        _ids = ids;
        Count = count;
    }

    /// <summary>How many ids the filter allows, when known (ids, bitset, or a predicate's stated count).</summary>
    public int? Count { get; }

    /// <summary>A filter allowing exactly <paramref name="ids"/> (duplicates and negative ids are ignored).</summary>
    public static IdFilter FromIds(ReadOnlySpan<int> ids)
    {
        int max = -1;
        foreach (int id in ids)
        {
            max = Math.Max(max, id);
        }
        var bits = new ulong[(max >> 6) + 1];
        int count = 0;
        foreach (int id in ids)
        {
            if (id >= 0 && (bits[id >> 6] & (1UL << id)) == 0)
            {
                bits[id >> 6] |= 1UL << id;
                count++;
            }
        }
        return new IdFilter(null, bits, ToSortedIds(bits, count), count);
    }

    /// <summary>A filter allowing exactly <paramref name="ids"/>.</summary>
    public static IdFilter FromIds(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return FromIds([.. ids]);
    }

    /// <summary>A filter from a bitset: id <c>i</c> is allowed when bit <c>i % 64</c> of word <c>i / 64</c> is set.
    /// The array is copied.</summary>
    public static IdFilter FromBitset(ReadOnlySpan<ulong> bits)
    {
        ulong[] copy = bits.ToArray();
        int count = 0;
        foreach (ulong word in copy)
        {
            count += BitOperations.PopCount(word);
        }
        return new IdFilter(null, copy, count <= 1 << 16 ? ToSortedIds(copy, count) : null, count);
    }

    /// <summary>A filter asking <paramref name="allows"/> for each candidate id; it must be thread-safe and fast.</summary>
    /// <param name="allows">Returns true for ids the search may return.</param>
    /// <param name="expectedCount">How many ids it allows, if known; used to choose exact search for selective filters.</param>
    public static IdFilter FromPredicate(Func<int, bool> allows, int? expectedCount = null)
    {
        ArgumentNullException.ThrowIfNull(allows);
        return new IdFilter(allows, null, null, expectedCount);
    }

    /// <summary>Whether the search may return <paramref name="id"/>.</summary>
    public bool Allows(int id)
    {
        if (_bits is not null)
        {
            int word = id >> 6;
            return (uint)word < (uint)_bits.Length && (_bits[word] & (1UL << id)) != 0;
        }
        return _predicate!(id);
    }

    /// <summary>The allowed ids in ascending order when the filter holds them explicitly; else empty.</summary>
    internal ReadOnlySpan<int> KnownIds => _ids;

    /// <summary>Whether <see cref="KnownIds"/> lists every allowed id.</summary>
    internal bool HasKnownIds => _ids is not null;

    private static int[] ToSortedIds(ulong[] bits, int count)
    {
        var ids = new int[count];
        int n = 0;
        for (int w = 0; w < bits.Length; w++)
        {
            ulong word = bits[w];
            while (word != 0)
            {
                ids[n++] = (w << 6) + BitOperations.TrailingZeroCount(word);
                word &= word - 1;
            }
        }
        return ids;
    }
}
