using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Embeddings.Index;

/// <summary>Memory: the level-0 record layout, upper-level lists, node locks, and growth of the native block.</summary>
internal sealed unsafe partial class HnswIndex
{
    /// <summary>The vector the graph walk reads: float32 in float graphs, int8 codes in int8 graphs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* VectorBytes(int slot) => _level0 + slot * _stride + _vectorOffset;

    /// <summary>The float vector of a float graph's record.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float* Vector(int slot) => (float*)(_level0 + slot * _stride + _vectorOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int* Links0(int slot) => (int*)(_level0 + slot * _stride + _linksOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int* Links(int slot, int level) =>
        level == 0 ? (int*)(_level0 + slot * _stride + _linksOffset) : (int*)_upperPointers[slot] + (level - 1) * _upperListInts;

    /// <summary>Copies a node's list under its lock; returns the link count.</summary>
    private int CopyLinks(int slot, int level, int[] destination)
    {
        int* list = Links(slot, level);
        LockNode(slot);
        int n = *list;
        for (int j = 0; j < n; j++)
        {
            destination[j] = list[1 + j];
        }
        UnlockNode(slot);
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LockNode(int slot)
    {
        ref int word = ref _nodeLocks[slot];
        if (Interlocked.CompareExchange(ref word, 1, 0) != 0)
        {
            SpinUntilLocked(ref word);
        }
    }

    private static void SpinUntilLocked(ref int word)
    {
        var spinner = new SpinWait();
        do
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        while (Volatile.Read(ref word) != 0 || Interlocked.CompareExchange(ref word, 1, 0) != 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void UnlockNode(int slot) => Volatile.Write(ref _nodeLocks[slot], 0);

    private static long PackEntry(int slot, int level) => ((long)level << 32) | (uint)slot;

    private static int EntrySlot(long entry) => (int)(entry & 0xFFFFFFFF);

    private static int EntryLevel(long entry) => (int)(entry >> 32);

    private static nint Align32(int bytes) => (bytes + 31) & ~31;

    private void EnsureCapacity(int capacity)
    {
        if (capacity <= Volatile.Read(ref _capacity))
        {
            return;
        }
        _memoryLock.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            if (capacity > _capacity)
            {
                Grow(Math.Max(capacity, (int)Math.Min(int.MaxValue, _capacity + (long)_capacity / 2)));
            }
        }
        finally
        {
            _memoryLock.ExitWriteLock();
        }
    }

    /// <summary>Reallocates every per-slot array to <paramref name="capacity"/>; caller excludes all other access.</summary>
    private void Grow(int capacity)
    {
        nuint bytes = (nuint)capacity * (nuint)_stride;
        var block = (byte*)NativeMemory.AlignedAlloc(bytes, 64);
        nuint used = (nuint)_slotCount * (nuint)_stride;
        if (_level0 is not null)
        {
            Buffer.MemoryCopy(_level0, block, bytes, used);
            NativeMemory.AlignedFree(_level0);
        }
        NativeMemory.Clear(block + used, bytes - used);
        _level0 = block;
        long added = (long)(bytes - (nuint)_capacity * (nuint)_stride);
        if (added > 0)
        {
            GC.AddMemoryPressure(added);
        }
        if (_exactStorage == ExactStorage.OwnCopy)
        {
            nuint exactBytes = (nuint)capacity * (nuint)_dimension * sizeof(float);
            var exact = (float*)NativeMemory.AlignedAlloc(exactBytes, 64);
            if (_exact is not null)
            {
                Buffer.MemoryCopy(_exact, exact, exactBytes, (nuint)_slotCount * (nuint)_dimension * sizeof(float));
                NativeMemory.AlignedFree(_exact);
            }
            GC.AddMemoryPressure((long)(exactBytes - (nuint)_capacity * (nuint)_dimension * sizeof(float)));
            _exact = exact;
        }
        if (_exactStorage == ExactStorage.CallerRows)
        {
            Array.Resize(ref _inverseNorms, capacity);
        }
        Array.Resize(ref _upper, capacity);
        Array.Resize(ref _upperPointers, capacity);
        Array.Resize(ref _levels, capacity);
        Array.Resize(ref _states, capacity);
        Array.Resize(ref _slotToId, capacity);
        Array.Resize(ref _nodeLocks, capacity);
        Volatile.Write(ref _capacity, capacity);
    }
}
