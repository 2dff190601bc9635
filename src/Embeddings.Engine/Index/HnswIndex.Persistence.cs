using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Embeddings.IO;

namespace Embeddings.Index;

/// <summary>
/// The index file, format version 2, all numbers little-endian:
/// <code>
/// header  (32 bytes): magic "EMBHNSW\0" | u32 version | u32 reserved (0) | u64 payload length | u64 XxHash64 of the payload
/// payload: i32 dimension, M, maxM0, efConstruction, efSearch, seed, metric
///          i32 fingerprint byte count, UTF-8 model fingerprint
///          i32 covered count, slot count, live count, level-0 stride (bytes), vector offset (bytes); i64 packed entry point
///          i32 quantization (0 float32, 1 int8), i32 exact vectors (0 in the records, 1 own copy, 2 the caller's rows),
///          i32 links offset in the record (bytes)
///          int8 only: i32 vectors the ranges were fitted on, dimension x f32 low, dimension x f32 step
///          slot count x i32 id | slot count x u8 level | slot count x u8 state (0 live, 1 deleted, 2 free)
///          slot count x stride bytes: the level-0 records as they lie in memory (float32: [count][links][vector];
///          int8: [codes][count][links]; counts, links and floats are 4-byte words)
///          for each slot with level > 0: level x (1 + M) i32 upper link lists
///          own copy only: slot count x dimension f32 exact vectors
/// </code>
/// Version 1 (before int8 graphs) is version 2 without the three storage fields and the ranges, float32 only; it
/// still loads. Loading reads the big blocks straight into the native block (no parsing), then checks the checksum.
/// </summary>
internal sealed unsafe partial class HnswIndex
{
    /// <summary>The format version this build writes and the newest it reads.</summary>
    public const int FormatVersion = 2;

    /// <summary>The index file in the checksummed <see cref="Container"/> (version 1 was already this layout).</summary>
    internal static readonly ContainerFormat Format = ContainerFormat.Create("HNSW index", "EMBHNSW\0", FormatVersion, oldestVersion: 1,
        fix: "rebuild the index with `embeddings index build --rebuild --store DIR` (searches rebuild a damaged index by themselves)");

    /// <summary>
    /// Writes the index to <paramref name="path"/> atomically (readers see the old file or the complete new one).
    /// Adds, deletes and searches wait while it runs.
    /// </summary>
    public void Save(string path, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        _memoryLock.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            Container.Write(path, Format, writer => WritePayload(writer, cancellationToken));
        }
        finally
        {
            _memoryLock.ExitWriteLock();
        }
    }

    private void WritePayload(BinaryWriter writer, CancellationToken cancellationToken)
    {
        int slots = _slotCount;
        byte[] fingerprint = System.Text.Encoding.UTF8.GetBytes(ModelFingerprint);
        writer.Write(_dimension);
        writer.Write(_m);
        writer.Write(_maxM0);
        writer.Write(_efConstruction);
        writer.Write(EfSearch);
        writer.Write(_seed);
        writer.Write((int)_metric);
        writer.Write(fingerprint.Length);
        writer.Write(fingerprint);
        writer.Write(_coveredCount);
        writer.Write(slots);
        writer.Write(_liveCount);
        writer.Write((int)_stride);
        writer.Write((int)_vectorOffset);
        writer.Write(_entry);
        writer.Write((int)Quantization);
        writer.Write((int)_exactStorage);
        writer.Write((int)_linksOffset);
        if (_quantizer is not null)
        {
            writer.Write(_quantizer.FittedOn);
            writer.WriteWords<float>(_quantizer.Low);
            writer.WriteWords<float>(_quantizer.Step);
        }
        writer.WriteWords<int>(_slotToId.AsSpan(0, slots));
        writer.Write(_levels.AsSpan(0, slots));
        writer.Write(_states.AsSpan(0, slots));
        long total = (long)slots * _stride;
        const int Chunk = 1 << 24;
        for (long offset = 0; offset < total; offset += Chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            writer.WriteWords<byte>(new ReadOnlySpan<byte>(_level0 + offset, (int)Math.Min(Chunk, total - offset)));
        }
        for (int slot = 0; slot < slots; slot++)
        {
            int level = _levels[slot];
            if (level > 0)
            {
                writer.WriteWords<int>(_upper[slot].AsSpan(0, level * _upperListInts));
            }
        }
        if (_exactStorage == ExactStorage.OwnCopy)
        {
            long floats = (long)slots * _dimension;
            const int ChunkFloats = Chunk / sizeof(float);
            for (long offset = 0; offset < floats; offset += ChunkFloats)
            {
                cancellationToken.ThrowIfCancellationRequested();
                writer.WriteWords<float>(new ReadOnlySpan<float>(_exact + offset, (int)Math.Min(ChunkFloats, floats - offset)));
            }
        }
    }

    /// <summary>
    /// Loads an index saved by <see cref="Save"/>. Checks the magic, the format version, the size, the
    /// checksum and the link structure, then that the index was built for <paramref name="expectedModelFingerprint"/>
    /// and <paramref name="expectedDimension"/> (when given); any failure is a <see cref="DataFormatException"/>
    /// naming the file and saying what to do. The vectors and links are bulk-read, not parsed.
    /// If the store has grown since, add its rows from <see cref="CoveredCount"/> on with <see cref="AddRange"/>.
    /// </summary>
    /// <param name="path">The index file.</param>
    /// <param name="expectedModelFingerprint">The store's model fingerprint, or null to accept any.</param>
    /// <param name="expectedDimension">The store's vector dimension, or 0 to accept any.</param>
    /// <param name="maxDegreeOfParallelism">Cores for later bulk adds and batch searches; 0: all.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    public static HnswIndex Load(string path, string? expectedModelFingerprint = null, int expectedDimension = 0,
        int maxDegreeOfParallelism = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        HnswIndex? index = null;
        try
        {
            (int slots, int liveCount, int coveredCount, long entry) = Container.Read(path, Format,
                reader => ReadPayload(reader, maxDegreeOfParallelism, out index, cancellationToken));
            if (expectedDimension > 0 && expectedDimension != index!._dimension)
            {
                ThrowHelper.Format(path, $"the index holds {index._dimension}-dimensional vectors but the store has {expectedDimension}: it was built for another model; rebuild the index.");
            }
            if (expectedModelFingerprint is not null && !string.Equals(expectedModelFingerprint, index!.ModelFingerprint, StringComparison.Ordinal))
            {
                ThrowHelper.Format(path, $"the index was built for model '{index.ModelFingerprint}' but the store's model is '{expectedModelFingerprint}'; rebuild the index with `embeddings index build`.");
            }
            index!.RestoreBookkeeping(path, slots, liveCount, coveredCount, entry);
            return index;
        }
        catch
        {
            index?.Dispose();
            throw;
        }
    }

    private static (int Slots, int LiveCount, int CoveredCount, long Entry) ReadPayload(ContainerReader reader, int maxDegreeOfParallelism,
        out HnswIndex? created, CancellationToken cancellationToken)
    {
        created = null;
        string path = reader.Path;
        BinaryReader r = reader.Binary;
        int dimension = r.ReadInt32();
        int m = r.ReadInt32();
        int maxM0 = r.ReadInt32();
        int efConstruction = r.ReadInt32();
        int efSearch = r.ReadInt32();
        int seed = r.ReadInt32();
        int metric = r.ReadInt32();
        int fingerprintLength = r.ReadInt32();
        if (dimension is < 1 or > 1 << 16 || m is < 2 or > 1024 || maxM0 != 2 * m || efConstruction < 1 || efSearch < 1
            || !Enum.IsDefined((SimilarityMetric)metric) || fingerprintLength is < 0 or > 1 << 16)
        {
            ThrowHelper.Format(path, "the index parameters are out of range (dimension, M, ef, metric or fingerprint length): the file is corrupt; rebuild the index.");
        }
        string fingerprint = System.Text.Encoding.UTF8.GetString(r.ReadBytes(fingerprintLength));
        int coveredCount = r.ReadInt32();
        int slots = r.ReadInt32();
        int liveCount = r.ReadInt32();
        int stride = r.ReadInt32();
        int vectorOffset = r.ReadInt32();
        long entry = r.ReadInt64();
        int quantization = 0, exactStorage = 0, linksOffset = 0, fittedOn = 0;
        if (reader.Version >= 2)
        {
            quantization = r.ReadInt32();
            exactStorage = r.ReadInt32();
            linksOffset = r.ReadInt32();
            bool valid = quantization == (int)HnswQuantization.None
                ? exactStorage == (int)ExactStorage.InRecords
                : quantization == (int)HnswQuantization.Int8 && exactStorage is (int)ExactStorage.OwnCopy or (int)ExactStorage.CallerRows;
            if (!valid)
            {
                ThrowHelper.Format(path, $"unknown vector storage (quantization {quantization}, exact vectors {exactStorage}): the file is corrupt or from a newer build; rebuild the index with `embeddings index build`.");
            }
        }
        float[]? low = null, step = null;
        if (quantization == (int)HnswQuantization.Int8)
        {
            fittedOn = r.ReadInt32();
            low = new float[dimension];
            step = new float[dimension];
            reader.ReadWords<float>(low);
            reader.ReadWords<float>(step);
            for (int d = 0; d < dimension; d++)
            {
                if (!float.IsFinite(low[d]) || !(step[d] > 0) || !float.IsFinite(step[d]))
                {
                    ThrowHelper.Format(path, $"the int8 range of dimension {d} is invalid: the file is corrupt; rebuild the index.");
                }
            }
        }

        var index = new HnswIndex(new HnswOptions
        {
            Dimension = dimension,
            M = m,
            EfConstruction = efConstruction,
            EfSearch = efSearch,
            Seed = seed,
            Metric = (SimilarityMetric)metric,
            ModelFingerprint = fingerprint,
            MaxDegreeOfParallelism = maxDegreeOfParallelism,
            InitialCapacity = 16,
            Quantization = (HnswQuantization)quantization,
        }, (ExactStorage)exactStorage);
        created = index;
        index._quantizer?.Restore(low, step, fittedOn);
        if (stride != index._stride || vectorOffset != index._vectorOffset || linksOffset != index._linksOffset || slots < 0 || liveCount < 0 || liveCount > slots
            || coveredCount < 0 || reader.Position + 6L * slots + (long)slots * stride > reader.Length)
        {
            ThrowHelper.Format(path, "the index layout (slot count, stride) does not match its size: the file is corrupt or truncated; rebuild the index.");
        }
        index.Grow(Math.Max(slots, 16));
        reader.ReadWords<int>(index._slotToId.AsSpan(0, slots));
        reader.ReadExactly(index._levels.AsSpan(0, slots));
        reader.ReadExactly(index._states.AsSpan(0, slots));
        long upperInts = 0;
        for (int slot = 0; slot < slots; slot++)
        {
            upperInts += (long)index._levels[slot] * index._upperListInts;
        }
        long exactFloats = index._exactStorage == ExactStorage.OwnCopy ? (long)slots * dimension : 0;
        if (reader.Position + (long)slots * stride + upperInts * 4 + exactFloats * sizeof(float) != reader.Length)
        {
            ThrowHelper.Format(path, "the index payload size does not match its slot levels: the file is corrupt; rebuild the index.");
        }
        long total = (long)slots * stride;
        const int Chunk = 1 << 24;
        for (long offset = 0; offset < total; offset += Chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            reader.ReadWords<byte>(new Span<byte>(index._level0 + offset, (int)Math.Min(Chunk, total - offset)));
        }
        for (int slot = 0; slot < slots; slot++)
        {
            int level = index._levels[slot];
            if (level > 0)
            {
                int[] upper = GC.AllocateArray<int>(level * index._upperListInts, pinned: true);
                reader.ReadWords<int>(upper);
                index._upper[slot] = upper;
                index._upperPointers[slot] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(upper));
            }
        }
        const int ChunkFloats = Chunk / sizeof(float);
        for (long offset = 0; offset < exactFloats; offset += ChunkFloats)
        {
            cancellationToken.ThrowIfCancellationRequested();
            reader.ReadWords<float>(new Span<float>(index._exact + offset, (int)Math.Min(ChunkFloats, exactFloats - offset)));
        }
        return (slots, liveCount, coveredCount, entry);
    }

    /// <summary>Rebuilds the id map and free list after a load, and checks that every link points inside the index.</summary>
    private void RestoreBookkeeping(string path, int slots, int liveCount, int coveredCount, long entry)
    {
        int live = 0;
        int maxId = coveredCount - 1;
        for (int slot = 0; slot < slots; slot++)
        {
            if (_states[slot] > StateFree || _levels[slot] > MaxLevel || _slotToId[slot] < 0)
            {
                ThrowHelper.Format(path, $"slot {slot} has an invalid state, level or id: the file is corrupt; rebuild the index.");
            }
            for (int lev = 0; lev <= _levels[slot]; lev++)
            {
                int* list = Links(slot, lev);
                int n = *list;
                if (n < 0 || n > (lev == 0 ? _maxM0 : _maxM))
                {
                    ThrowHelper.Format(path, $"slot {slot} has {n} links on level {lev}: the file is corrupt; rebuild the index.");
                }
                for (int j = 1; j <= n; j++)
                {
                    if ((uint)list[j] >= (uint)slots || _levels[list[j]] < lev)
                    {
                        ThrowHelper.Format(path, $"slot {slot} links to missing node {list[j]} on level {lev}: the file is corrupt; rebuild the index.");
                    }
                }
            }
            if (_states[slot] == StateLive)
            {
                live++;
                maxId = Math.Max(maxId, _slotToId[slot]);
            }
        }
        if (live != liveCount)
        {
            ThrowHelper.Format(path, $"the header counts {liveCount} live vectors but the slots hold {live}: the file is corrupt; rebuild the index.");
        }
        if (entry != NoEntry && ((uint)EntrySlot(entry) >= (uint)slots || EntryLevel(entry) != _levels[EntrySlot(entry)]))
        {
            ThrowHelper.Format(path, "the entry point is invalid: the file is corrupt; rebuild the index.");
        }
        _idToSlot = new int[Math.Max(maxId + 1, 16)];
        _idToSlot.AsSpan().Fill(-1);
        for (int slot = slots - 1; slot >= 0; slot--)
        {
            if (_states[slot] == StateLive)
            {
                if (_idToSlot[_slotToId[slot]] >= 0)
                {
                    ThrowHelper.Format(path, $"id {_slotToId[slot]} appears twice: the file is corrupt; rebuild the index.");
                }
                _idToSlot[_slotToId[slot]] = slot;
            }
            else
            {
                _reusableSlots.Push(slot);
            }
        }
        _slotCount = slots;
        _liveCount = live;
        _notLiveCount = slots - live;
        _coveredCount = Math.Max(coveredCount, maxId + 1);
        _entry = entry;
    }
}
