using System.Numerics;
using System.Runtime.CompilerServices;
using Embeddings.Topics;

namespace Embeddings.Tokenization;

/// <summary>
/// Immutable prefix tree over UTF-16 strings, stored flat: every edge (parent node, char) lives in one
/// open-addressing hash table, so a step is one multiply and (almost always) one probe, and the whole tree is
/// three arrays however many pieces it holds. Walking it never allocates.
/// </summary>
internal sealed class CharTrie
{
    /// <summary>The root node id.</summary>
    public const int Root = 0;

    // Key and child side by side: one cache line per probe. Key = (node << 16) | char, -1 when empty.
    private readonly Edge[] _edges;
    private readonly int[] _values;      // per node: the stored value, or -1
    private readonly int[] _rootAscii;   // children of the root for chars below 128 (every walk starts there)
    private readonly int _shift;

    private struct Edge
    {
        public long Key;
        public int Child;
    }

    private CharTrie(Edge[] edges, int[] values, int shift)
    {
        _edges = edges;
        _values = values;
        _shift = shift;
        _rootAscii = new int[128];
        for (int c = 0; c < 128; c++)
        {
            _rootAscii[c] = Probe(((long)Root << 16) | (uint)c);
        }
    }

    /// <summary>Number of nodes, root included.</summary>
    public int NodeCount => _values.Length;

    /// <summary>Builds the tree; a key seen twice keeps the value given last.</summary>
    public static CharTrie Build(IReadOnlyList<(string Key, int Value)> entries)
    {
        // First pass: a growable dictionary of edges; then pack it into the flat table.
        var edges = new Dictionary<long, int>();
        var values = new List<int> { -1 };
        foreach (var (key, value) in entries)
        {
            int node = Root;
            foreach (char c in key)
            {
                long edge = ((long)node << 16) | c;
                if (!edges.TryGetValue(edge, out int child))
                {
                    child = values.Count;
                    values.Add(-1);
                    edges.Add(edge, child);
                }
                node = child;
            }
            values[node] = value;
        }

        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, edges.Count * 3 / 2));
        int shift = 64 - BitOperations.Log2((uint)capacity);
        var table = new Edge[capacity];
        table.AsSpan().Fill(new Edge { Key = -1L, Child = -1 });
        int mask = capacity - 1;
        foreach (var (edge, child) in edges)
        {
            int slot = Slot(edge, shift);
            while (table[slot].Key != -1L)
            {
                slot = (slot + 1) & mask;
            }
            table[slot] = new Edge { Key = edge, Child = child };
        }
        return new CharTrie(table, [.. values], shift);
    }

    /// <summary>The child of <paramref name="node"/> along <paramref name="c"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Next(int node, char c)
    {
        if (node == Root && c < 128)
        {
            return _rootAscii[c];
        }
        return Probe(((long)node << 16) | c);
    }

    private int Probe(long edge)
    {
        Edge[] table = _edges;
        int mask = table.Length - 1;
        int slot = Slot(edge, _shift);
        while (true)
        {
            ref readonly Edge e = ref table[slot];
            long k = e.Key;
            if (k == edge)
            {
                return e.Child;
            }
            if (k == -1L)
            {
                return -1;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// <summary>The value stored at <paramref name="node"/>, or -1 when no key ends there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ValueAt(int node) => _values[node];

    /// <summary>Follows <paramref name="key"/> from the root; the node reached, or -1.</summary>
    public int Find(ReadOnlySpan<char> key)
    {
        int node = Root;
        foreach (char c in key)
        {
            node = Next(node, c);
            if (node < 0)
            {
                return -1;
            }
        }
        return node;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Slot(long edge, int shift) => (int)((ulong)(edge * -7046029254386353131L) >> shift);
}
