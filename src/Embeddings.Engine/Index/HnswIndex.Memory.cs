using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Embeddings.Index;

/// <summary>Memory: the level-0 record layout, upper-level lists, node locks, and growth of the native block.</summary>
public sealed unsafe partial class HnswIndex
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float* Vector(int slot) => (float*)(_level0 + slot * _stride + _vectorOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int* Links0(int slot) => (int*)(_level0 + slot * _stride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int* Links(int slot, int level) =>
        level == 0 ? (int*)(_level0 + slot * _stride) : (int*)_upperPointers[slot] + (level - 1) * _upperListInts;

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
        Array.Resize(ref _upper, capacity);
        Array.Resize(ref _upperPointers, capacity);
        Array.Resize(ref _levels, capacity);
        Array.Resize(ref _states, capacity);
        Array.Resize(ref _slotToId, capacity);
        Array.Resize(ref _nodeLocks, capacity);
        Volatile.Write(ref _capacity, capacity);
    }
}
