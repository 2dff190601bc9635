using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Embeddings.IO;

namespace Embeddings.Index;

/// <summary>
/// The index file, format version 1, all numbers little-endian:
/// <code>
/// header  (32 bytes): magic "EMBHNSW\0" | u32 version | u32 reserved (0) | u64 payload length | u64 XxHash64 of the payload
/// payload: i32 dimension, M, maxM0, efConstruction, efSearch, seed, metric
///          i32 fingerprint byte count, UTF-8 model fingerprint
///          i32 covered count, slot count, live count, level-0 stride (bytes), vector offset (bytes); i64 packed entry point
///          slot count x i32 id | slot count x u8 level | slot count x u8 state (0 live, 1 deleted, 2 free)
///          slot count x stride bytes: the level-0 records as they lie in memory ([count][links][vector], 4-byte words)
///          for each slot with level > 0: level x (1 + M) i32 upper link lists
/// </code>
/// Loading reads the big blocks straight into the native block (no parsing), then checks the checksum.
/// </summary>
public sealed unsafe partial class HnswIndex
{
    /// <summary>The format version this build writes and the newest it reads.</summary>
    public const int FormatVersion = 1;

    private const int HeaderBytes = 32;
    private static ReadOnlySpan<byte> Magic => "EMBHNSW\0"u8;

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
            AtomicFile.Write(path, stream => WriteTo(stream, cancellationToken));
        }
        finally
        {
            _memoryLock.ExitWriteLock();
        }
    }

    private void WriteTo(Stream stream, CancellationToken cancellationToken)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        header.Clear();
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], FormatVersion);
        stream.Write(header);

        var writer = new HashingWriter(stream);
        int slots = _slotCount;
        byte[] fingerprint = System.Text.Encoding.UTF8.GetBytes(ModelFingerprint);
        writer.WriteInt32(_dimension);
        writer.WriteInt32(_m);
        writer.WriteInt32(_maxM0);
        writer.WriteInt32(_efConstruction);
        writer.WriteInt32(EfSearch);
        writer.WriteInt32(_seed);
        writer.WriteInt32((int)_metric);
        writer.WriteInt32(fingerprint.Length);
        writer.Write(fingerprint);
        writer.WriteInt32(_coveredCount);
        writer.WriteInt32(slots);
        writer.WriteInt32(_liveCount);
        writer.WriteInt32((int)_stride);
        writer.WriteInt32((int)_vectorOffset);
        writer.WriteInt64(_entry);
        writer.WriteWords(MemoryMarshal.AsBytes(_slotToId.AsSpan(0, slots)));
        writer.Write(_levels.AsSpan(0, slots));
        writer.Write(_states.AsSpan(0, slots));
        long total = (long)slots * _stride;
        const int Chunk = 1 << 24;
        for (long offset = 0; offset < total; offset += Chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            writer.WriteWords(new ReadOnlySpan<byte>(_level0 + offset, (int)Math.Min(Chunk, total - offset)));
        }
        for (int slot = 0; slot < slots; slot++)
        {
            int level = _levels[slot];
            if (level > 0)
            {
                writer.WriteWords(MemoryMarshal.AsBytes(_upper[slot].AsSpan(0, level * _upperListInts)));
            }
        }

        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], (ulong)writer.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], writer.Hash);
        stream.Position = 0;
        stream.Write(header);
        stream.Seek(0, SeekOrigin.End);
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
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        long fileLength = stream.Length;
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (fileLength < HeaderBytes)
        {
            ThrowHelper.Format(path, $"the file is {fileLength} bytes, too short for an index header: it is truncated; rebuild the index with `embeddings index build`.");
        }
        stream.ReadExactly(header);
        if (!header[..8].SequenceEqual(Magic))
        {
            ThrowHelper.Format(path, "not an HNSW index file (bad magic); pass the index file written by `embeddings index build`.");
        }
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version > FormatVersion)
        {
            ThrowHelper.Format(path, $"index format version {version} is newer than this build reads (up to {FormatVersion}); upgrade embeddings or rebuild the index.");
        }
        if (version == 0)
        {
            ThrowHelper.Format(path, "index format version 0 is invalid; the file is corrupt: rebuild the index.");
        }
        ulong payloadLength = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        ulong expectedHash = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
        if (payloadLength != (ulong)(fileLength - HeaderBytes))
        {
            ThrowHelper.Format(path, $"the header announces {payloadLength} payload bytes but the file holds {fileLength - HeaderBytes}: it is truncated or was not fully written; rebuild the index.");
        }

        var reader = new HashingReader(stream, path);
        int dimension = reader.ReadInt32();
        int m = reader.ReadInt32();
        int maxM0 = reader.ReadInt32();
        int efConstruction = reader.ReadInt32();
        int efSearch = reader.ReadInt32();
        int seed = reader.ReadInt32();
        int metric = reader.ReadInt32();
        int fingerprintLength = reader.ReadInt32();
        if (dimension is < 1 or > 1 << 16 || m is < 2 or > 1024 || maxM0 != 2 * m || efConstruction < 1 || efSearch < 1
            || !Enum.IsDefined((SimilarityMetric)metric) || fingerprintLength is < 0 or > 1 << 16)
        {
            ThrowHelper.Format(path, "the index parameters are out of range (dimension, M, ef, metric or fingerprint length): the file is corrupt; rebuild the index.");
        }
        byte[] fingerprintBytes = new byte[fingerprintLength];
        reader.Read(fingerprintBytes);
        string fingerprint = System.Text.Encoding.UTF8.GetString(fingerprintBytes);
        int coveredCount = reader.ReadInt32();
        int slots = reader.ReadInt32();
        int liveCount = reader.ReadInt32();
        int stride = reader.ReadInt32();
        int vectorOffset = reader.ReadInt32();
        long entry = reader.ReadInt64();

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
        });
        try
        {
            if (stride != index._stride || vectorOffset != index._vectorOffset || slots < 0 || liveCount < 0 || liveCount > slots
                || coveredCount < 0 || reader.Position + 6L * slots + (long)slots * stride > (long)payloadLength)
            {
                ThrowHelper.Format(path, "the index layout (slot count, stride) does not match its size: the file is corrupt or truncated; rebuild the index.");
            }
            index.Grow(Math.Max(slots, 16));
            reader.ReadWords(MemoryMarshal.AsBytes(index._slotToId.AsSpan(0, slots)));
            reader.Read(index._levels.AsSpan(0, slots));
            reader.Read(index._states.AsSpan(0, slots));
            long upperInts = 0;
            for (int slot = 0; slot < slots; slot++)
            {
                upperInts += (long)index._levels[slot] * index._upperListInts;
            }
            if (reader.Position + (long)slots * stride + upperInts * 4 != (long)payloadLength)
            {
                ThrowHelper.Format(path, "the index payload size does not match its slot levels: the file is corrupt; rebuild the index.");
            }
            long total = (long)slots * stride;
            const int Chunk = 1 << 24;
            for (long offset = 0; offset < total; offset += Chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                reader.ReadWords(new Span<byte>(index._level0 + offset, (int)Math.Min(Chunk, total - offset)));
            }
            for (int slot = 0; slot < slots; slot++)
            {
                int level = index._levels[slot];
                if (level > 0)
                {
                    int[] upper = GC.AllocateArray<int>(level * index._upperListInts, pinned: true);
                    reader.ReadWords(MemoryMarshal.AsBytes(upper.AsSpan()));
                    index._upper[slot] = upper;
                    index._upperPointers[slot] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(upper));
                }
            }
            if (reader.Hash != expectedHash)
            {
                ThrowHelper.Format(path, $"checksum mismatch (stored {expectedHash:x16}, computed {reader.Hash:x16}): the file is corrupt; rebuild the index with `embeddings index build`.");
            }
            if (expectedDimension > 0 && expectedDimension != dimension)
            {
                ThrowHelper.Format(path, $"the index holds {dimension}-dimensional vectors but the store has {expectedDimension}: it was built for another model; rebuild the index.");
            }
            if (expectedModelFingerprint is not null && !string.Equals(expectedModelFingerprint, fingerprint, StringComparison.Ordinal))
            {
                ThrowHelper.Format(path, $"the index was built for model '{fingerprint}' but the store's model is '{expectedModelFingerprint}'; rebuild the index with `embeddings index build`.");
            }
            index.RestoreBookkeeping(path, slots, liveCount, coveredCount, entry);
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
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

    /// <summary>Writes the payload, feeding every byte to the checksum; 4-byte words go out little-endian.</summary>
    private sealed class HashingWriter(Stream stream)
    {
        private readonly XxHash64 _hash = new();
        private byte[]? _swap;

        public long Length { get; private set; }

        public ulong Hash => _hash.GetCurrentHashAsUInt64();

        public void Write(ReadOnlySpan<byte> bytes)
        {
            _hash.Append(bytes);
            stream.Write(bytes);
            Length += bytes.Length;
        }

        public void WriteInt32(int value)
        {
            Span<byte> buffer = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(buffer, value);
            Write(buffer);
        }

        public void WriteInt64(long value)
        {
            Span<byte> buffer = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
            Write(buffer);
        }

        /// <summary>A block of 4-byte numbers (ints, floats): written as is on little-endian machines, swapped otherwise.</summary>
        public void WriteWords(ReadOnlySpan<byte> words)
        {
            if (BitConverter.IsLittleEndian)
            {
                Write(words);
                return;
            }
            _swap ??= new byte[1 << 16];
            for (int offset = 0; offset < words.Length; offset += _swap.Length)
            {
                ReadOnlySpan<byte> part = words.Slice(offset, Math.Min(_swap.Length, words.Length - offset));
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(part), MemoryMarshal.Cast<byte, int>(_swap.AsSpan(0, part.Length)));
                Write(_swap.AsSpan(0, part.Length));
            }
        }
    }

    /// <summary>Reads the payload, feeding every byte to the checksum; a short read is a truncated file.</summary>
    private sealed class HashingReader(Stream stream, string path)
    {
        private readonly XxHash64 _hash = new();

        public long Position { get; private set; }

        public ulong Hash => _hash.GetCurrentHashAsUInt64();

        public void Read(Span<byte> destination)
        {
            try
            {
                stream.ReadExactly(destination);
            }
            catch (EndOfStreamException)
            {
                ThrowHelper.Format(path, "the file ends early: it is truncated; rebuild the index.");
            }
            _hash.Append(destination);
            Position += destination.Length;
        }

        public int ReadInt32()
        {
            Span<byte> buffer = stackalloc byte[4];
            Read(buffer);
            return BinaryPrimitives.ReadInt32LittleEndian(buffer);
        }

        public long ReadInt64()
        {
            Span<byte> buffer = stackalloc byte[8];
            Read(buffer);
            return BinaryPrimitives.ReadInt64LittleEndian(buffer);
        }

        public void ReadWords(Span<byte> destination)
        {
            Read(destination);
            if (!BitConverter.IsLittleEndian)
            {
                Span<int> words = MemoryMarshal.Cast<byte, int>(destination);
                BinaryPrimitives.ReverseEndianness(words, words);
            }
        }
    }
}
