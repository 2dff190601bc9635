using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

using Embeddings.IO;

namespace Embeddings.Encoding;

/// <summary>
/// Streams embedding records to a file. Nothing is visible under the final name until <see cref="Complete"/>:
/// records go to a temporary file beside it, which is flushed and renamed over the target at the end; disposing
/// without completing deletes the temporary file, so an interrupted run never leaves a torn output behind.
/// </summary>
internal interface IEmbeddingWriter : IDisposable
{
    /// <summary>Number of records written so far.</summary>
    long Count { get; }

    /// <summary>Appends one record.</summary>
    /// <param name="id">The paper id.</param>
    /// <param name="vector">Exactly the writer's dimension floats.</param>
    /// <param name="truncated">Whether part of the text did not reach the model.</param>
    /// <param name="isEmpty">Whether the text was empty (zero vector).</param>
    void Write(string id, ReadOnlySpan<float> vector, bool truncated, bool isEmpty);

    /// <summary>Finishes the file (header, checksum), flushes it to disk and publishes it under its final name.</summary>
    void Complete();
}

/// <summary>Creates embedding writers.</summary>
internal static class EmbeddingWriter
{
    /// <summary>Opens a writer of <paramref name="format"/> for <paramref name="path"/>.</summary>
    public static IEmbeddingWriter Create(EmbeddingFileFormat format, string path, int dimension, string fingerprint) => format switch
    {
        EmbeddingFileFormat.Jsonl => new JsonlEmbeddingWriter(path, dimension),
        EmbeddingFileFormat.Bin => new BinaryEmbeddingWriter(path, dimension, fingerprint),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>Parses <c>jsonl</c> or <c>bin</c>.</summary>
    public static EmbeddingFileFormat ParseFormat(string text) => text.ToLowerInvariant() switch
    {
        "jsonl" => EmbeddingFileFormat.Jsonl,
        "bin" => EmbeddingFileFormat.Bin,
        _ => throw new ArgumentException($"unknown format '{text}'; accepted: jsonl, bin", nameof(text)),
    };
}

/// <summary>
/// JSON Lines writer: <c>{"id":"...","vector":[...],"truncated":false}</c>, plus <c>"empty":true</c> on records of
/// empty texts. Floats are written in the shortest form that parses back to the same float (invariant culture).
/// </summary>
internal sealed class JsonlEmbeddingWriter : IEmbeddingWriter
{
    private static readonly byte[] NewLine = [(byte)'\n'];
    private readonly PendingFile _file;
    private readonly int _dimension;
    private readonly Utf8JsonWriter _json;

    public JsonlEmbeddingWriter(string path, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        _file = AtomicFile.BeginOutput(path);
        _dimension = dimension;
        _json = new Utf8JsonWriter(_file.Stream, new JsonWriterOptions { Indented = false, SkipValidation = true });
    }

    public long Count { get; private set; }

    public void Write(string id, ReadOnlySpan<float> vector, bool truncated, bool isEmpty)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (vector.Length != _dimension)
        {
            throw new ArgumentException($"vector has {vector.Length} floats, the file's dimension is {_dimension}", nameof(vector));
        }
        _json.WriteStartObject();
        _json.WriteString("id"u8, id);
        _json.WriteStartArray("vector"u8);
        foreach (float f in vector)
        {
            _json.WriteNumberValue(f);
        }
        _json.WriteEndArray();
        _json.WriteBoolean("truncated"u8, truncated);
        if (isEmpty)
        {
            _json.WriteBoolean("empty"u8, true);
        }
        _json.WriteEndObject();
        _json.Flush();
        _json.Reset();
        _file.Stream.Write(NewLine);
        Count++;
    }

    public void Complete()
    {
        _json.Dispose();
        _file.Publish();
    }

    public void Dispose()
    {
        // After Complete the JSON writer is already disposed (and disposing it again is a no-op); before, it holds
        // nothing unflushed that matters: the temporary file is deleted anyway.
        _json.Dispose();
        _file.Dispose();
    }
}

/// <summary>One record read back from an embedding file.</summary>
/// <param name="Id">The paper id.</param>
/// <param name="Vector">The vector.</param>
/// <param name="Truncated">Whether part of the text did not reach the model.</param>
/// <param name="IsEmpty">Whether the text was empty (zero vector).</param>
internal sealed record EmbeddingRecord(string Id, float[] Vector, bool Truncated, bool IsEmpty);

/// <summary>
/// Contents of a binary embedding file (docs/formats.md), checked on load: the vectors and flags of the embedded
/// texts as one <see cref="EmbeddingBatch"/>, with the paper id of each row and the fingerprint of the model.
/// </summary>
/// <param name="Fingerprint">Fingerprint of the model that made the vectors.</param>
/// <param name="Ids">Paper ids in file order, one per row of <paramref name="Batch"/>.</param>
/// <param name="Batch">The vectors and per-record flags.</param>
internal sealed record EmbeddingFileContents(string Fingerprint, IReadOnlyList<string> Ids, EmbeddingBatch Batch);

/// <summary>
/// The binary embedding format, all numbers little-endian (details in docs/formats.md). Version 2, written by this
/// build, is the payload below in the checksummed <see cref="Container"/> (magic "EMBVEC\r\n"):
/// <code>
/// payload: dimension u32 | flags u32 (0) | fingerprint length u32 | fingerprint UTF-8 | zero padding so the vectors
///          start at a file offset that is a multiple of 8 | vectors f32[count * dimension]
///          | ids: count x (byte length u32, UTF-8) | record flags u8[count] (bit 0 truncated, bit 1 empty) | count u64
/// </code>
/// Vectors come first so a reader can map them without parsing the ids; the count closes the payload because the
/// streaming writer learns it last. Version 1 files (their own header and body checksums, see docs/formats.md) are
/// still read.
/// </summary>
internal static class EmbeddingBinaryFormat
{
    /// <summary>First 8 bytes of every file.</summary>
    public static ReadOnlySpan<byte> Magic => "EMBVEC\r\n"u8;

    /// <summary>Last 8 bytes of a complete version 1 file.</summary>
    public static ReadOnlySpan<byte> EndMagic => "EMBVEND\n"u8;

    /// <summary>The version this build writes; it reads this one and version 1.</summary>
    public const uint Version = 2;

    /// <summary>Longest fingerprint accepted (bytes of UTF-8).</summary>
    public const int MaxFingerprintBytes = 1024;

    internal const byte FlagTruncated = 1;
    internal const byte FlagEmpty = 2;

    internal static readonly ContainerFormat Format = ContainerFormat.Create("embeddings binary file", "EMBVEC\r\n", Version, oldestVersion: 2,
        fix: "write it again with `embeddings embed --format bin`");

    /// <summary>Reads and checks a whole file (version 1 or 2).</summary>
    /// <exception cref="DataFormatException">Bad magic, unknown version, size or checksum mismatch.</exception>
    public static EmbeddingFileContents Read(string path)
    {
        Span<byte> head = stackalloc byte[12];
        using (var probe = File.OpenRead(path))
        {
            if (probe.Length >= 12)
            {
                probe.ReadExactly(head);
                if (head[..8].SequenceEqual(Magic) && BinaryPrimitives.ReadUInt32LittleEndian(head[8..]) == 1)
                {
                    return ReadVersion1(path);
                }
            }
        }
        return Container.Read(path, Format, ReadPayload);
    }

    private static EmbeddingFileContents ReadPayload(ContainerReader c)
    {
        BinaryReader r = c.Binary;
        uint dimension = r.ReadUInt32();
        r.ReadUInt32(); // flags, reserved
        uint fpLength = r.ReadUInt32();
        if (dimension == 0 || dimension > 1 << 20 || fpLength > MaxFingerprintBytes)
        {
            throw new InvalidDataException($"header fields out of range (dimension {dimension}, fingerprint length {fpLength})");
        }
        string fingerprint = System.Text.Encoding.UTF8.GetString(r.ReadBytes((int)fpLength));
        r.ReadBytes(Padding((int)fpLength));
        // What follows is count x (4 D vector bytes + id + 1 flag byte), then the count itself (the last 8 bytes).
        long rest = c.Length - c.Position - 8;
        if (rest < 0)
        {
            throw new InvalidDataException("payload too short for its count");
        }
        long maxCount = rest / ((4L * dimension) + 5);
        var all = new byte[rest];
        c.ReadExactly(all);
        ulong count = r.ReadUInt64();
        if (count > (ulong)maxCount)
        {
            throw new InvalidDataException($"count {count} does not fit the payload");
        }
        int n = (int)count;
        long vectorBytes = (long)n * dimension * sizeof(float);
        var vectors = new float[(long)n * dimension];
        ReadOnlySpan<byte> body = all;
        body[..(int)vectorBytes].CopyTo(MemoryMarshal.AsBytes(vectors.AsSpan()));
        if (!BitConverter.IsLittleEndian)
        {
            Span<int> words = MemoryMarshal.Cast<float, int>(vectors.AsSpan());
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        var ids = new string[n];
        int pos = (int)vectorBytes;
        for (int i = 0; i < n; i++)
        {
            if (pos + 4 > body.Length)
            {
                throw new InvalidDataException($"id {i} runs past the end of the payload");
            }
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(body[pos..]);
            pos += 4;
            if (len < 0 || pos + len > body.Length)
            {
                throw new InvalidDataException($"id {i} runs past the end of the payload");
            }
            ids[i] = System.Text.Encoding.UTF8.GetString(body.Slice(pos, len));
            pos += len;
        }
        if (pos + n != body.Length)
        {
            throw new InvalidDataException("payload length does not match its ids and flags");
        }
        (bool[] truncated, bool[] isEmpty) = ReadFlags(body.Slice(pos, n));
        return new EmbeddingFileContents(fingerprint, ids, new EmbeddingBatch((int)dimension, vectors, truncated, isEmpty));
    }

    /// <summary>Zero bytes after a fingerprint of <paramref name="fingerprintBytes"/> so the vectors start 8-byte aligned in the file.</summary>
    internal static int Padding(int fingerprintBytes) => Align8(Container.HeaderBytes + 12 + fingerprintBytes) - (Container.HeaderBytes + 12 + fingerprintBytes);

    /// <summary>Reads a version 1 file (own header and body checksums, end magic), as written before the container.</summary>
    private static EmbeddingFileContents ReadVersion1(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        ReadOnlySpan<byte> span = data;
        if (span.Length < 40 || !span[..8].SequenceEqual(Magic))
        {
            ThrowHelper.Format(path, "not an embeddings binary file (bad magic); expected a file written by `embeddings embed --format bin`");
        }
        uint dimension = BinaryPrimitives.ReadUInt32LittleEndian(span[12..]);
        ulong count = BinaryPrimitives.ReadUInt64LittleEndian(span[16..]);
        uint fpLength = BinaryPrimitives.ReadUInt32LittleEndian(span[28..]);
        if (fpLength > MaxFingerprintBytes)
        {
            ThrowHelper.Format(path, $"header is corrupt (fingerprint length {fpLength})");
        }
        int headerLength = Align8(32 + (int)fpLength);
        if (span.Length < headerLength + 8 + 16)
        {
            ThrowHelper.Format(path, "file is truncated (header incomplete)");
        }
        ulong headerSum = BinaryPrimitives.ReadUInt64LittleEndian(span[headerLength..]);
        if (XxHash64.HashToUInt64(span[..headerLength]) != headerSum)
        {
            ThrowHelper.Format(path, "header checksum mismatch: the file is corrupt");
        }
        if (dimension == 0 || dimension > 1 << 20 || count > int.MaxValue)
        {
            ThrowHelper.Format(path, $"header is corrupt (dimension {dimension}, count {count})");
        }
        int bodyStart = headerLength + 8;
        int trailerStart = span.Length - 16;
        if (!span[(trailerStart + 8)..].SequenceEqual(EndMagic))
        {
            ThrowHelper.Format(path, "file is truncated or was not completed (end marker missing)");
        }
        ReadOnlySpan<byte> body = span[bodyStart..trailerStart];
        ulong bodySum = BinaryPrimitives.ReadUInt64LittleEndian(span[trailerStart..]);
        if (XxHash64.HashToUInt64(body) != bodySum)
        {
            ThrowHelper.Format(path, "body checksum mismatch: the file is corrupt");
        }
        long vectorBytes = (long)count * dimension * sizeof(float);
        if (vectorBytes + (long)count * 5 > body.Length)
        {
            ThrowHelper.Format(path, "body is shorter than the header's count and dimension");
        }
        var vectors = new float[(long)count * dimension];
        ReadOnlySpan<byte> vectorSpan = body[..(int)vectorBytes];
        if (BitConverter.IsLittleEndian)
        {
            vectorSpan.CopyTo(MemoryMarshal.AsBytes(vectors.AsSpan()));
        }
        else
        {
            for (int i = 0; i < vectors.Length; i++)
            {
                vectors[i] = BinaryPrimitives.ReadSingleLittleEndian(vectorSpan[(i * 4)..]);
            }
        }
        int n = (int)count;
        var ids = new string[n];
        int pos = (int)vectorBytes;
        for (int i = 0; i < n; i++)
        {
            if (pos + 4 > body.Length)
            {
                ThrowHelper.Format(path, $"id {i} runs past the end of the body");
            }
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(body[pos..]);
            pos += 4;
            if (len < 0 || pos + len > body.Length)
            {
                ThrowHelper.Format(path, $"id {i} runs past the end of the body");
            }
            ids[i] = System.Text.Encoding.UTF8.GetString(body.Slice(pos, len));
            pos += len;
        }
        if (pos + n != body.Length)
        {
            ThrowHelper.Format(path, "body length does not match its ids and flags");
        }
        (bool[] truncated, bool[] isEmpty) = ReadFlags(body.Slice(pos, n));
        string fingerprint = System.Text.Encoding.UTF8.GetString(span.Slice(32, (int)fpLength));
        return new EmbeddingFileContents(fingerprint, ids, new EmbeddingBatch((int)dimension, vectors, truncated, isEmpty));
    }

    internal static int Align8(int n) => (n + 7) & ~7;

    /// <summary>The per-text flag bytes that end both layouts' bodies.</summary>
    private static (bool[] Truncated, bool[] IsEmpty) ReadFlags(ReadOnlySpan<byte> flags)
    {
        var truncated = new bool[flags.Length];
        var isEmpty = new bool[flags.Length];
        for (int i = 0; i < flags.Length; i++)
        {
            truncated[i] = (flags[i] & FlagTruncated) != 0;
            isEmpty[i] = (flags[i] & FlagEmpty) != 0;
        }
        return (truncated, isEmpty);
    }
}

/// <summary>Streaming writer of <see cref="EmbeddingBinaryFormat"/>: vectors go to disk as they come; ids and flags are kept until the end.</summary>
internal sealed class BinaryEmbeddingWriter : IEmbeddingWriter
{
    private readonly PendingFile _file;
    private readonly ContainerStreamWriter _container;
    private readonly int _dimension;
    private readonly List<string> _ids = [];
    private readonly List<byte> _flags = [];

    public BinaryEmbeddingWriter(string path, int dimension, string fingerprint)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentNullException.ThrowIfNull(fingerprint);
        byte[] fingerprintBytes = System.Text.Encoding.UTF8.GetBytes(fingerprint);
        if (fingerprintBytes.Length > EmbeddingBinaryFormat.MaxFingerprintBytes)
        {
            throw new ArgumentException("fingerprint too long", nameof(fingerprint));
        }
        _dimension = dimension;
        _file = AtomicFile.BeginOutput(path);
        _container = Container.Begin(_file.Stream, EmbeddingBinaryFormat.Format);
        BinaryWriter w = _container.Payload;
        w.Write((uint)dimension);
        w.Write(0u);
        w.Write((uint)fingerprintBytes.Length);
        w.Write(fingerprintBytes);
        w.Write(new byte[EmbeddingBinaryFormat.Padding(fingerprintBytes.Length)]);
    }

    public long Count => _ids.Count;

    public void Write(string id, ReadOnlySpan<float> vector, bool truncated, bool isEmpty)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (vector.Length != _dimension)
        {
            throw new ArgumentException($"vector has {vector.Length} floats, the file's dimension is {_dimension}", nameof(vector));
        }
        _container.Payload.WriteWords(vector);
        _ids.Add(id);
        _flags.Add((byte)((truncated ? EmbeddingBinaryFormat.FlagTruncated : 0) | (isEmpty ? EmbeddingBinaryFormat.FlagEmpty : 0)));
    }

    public void Complete()
    {
        BinaryWriter w = _container.Payload;
        foreach (string id in _ids)
        {
            byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(id);
            w.Write((uint)utf8.Length);
            w.Write(utf8);
        }
        w.Write(_flags.ToArray());
        w.Write((ulong)_ids.Count);
        _container.Complete();
        _file.Publish();
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>Reads the JSON Lines embedding format written by <c>embeddings embed --format jsonl</c>.</summary>
internal static class EmbeddingJsonl
{
    /// <summary>Streams the records of <paramref name="path"/>.</summary>
    /// <exception cref="InputFormatException">A line is not a valid record; names the line and field.</exception>
    public static IEnumerable<EmbeddingRecord> Read(string path)
    {
        long lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            yield return Parse(path, lineNumber, line);
        }
    }

    private static EmbeddingRecord Parse(string path, long lineNumber, string line)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new InputFormatException(path, lineNumber, null, "not valid JSON: " + e.Message);
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InputFormatException(path, lineNumber, null, "expected a JSON object");
            }
            if (!root.TryGetProperty("id", out JsonElement id) || id.ValueKind != JsonValueKind.String)
            {
                throw new InputFormatException(path, lineNumber, "id", "missing or not a string");
            }
            if (!root.TryGetProperty("vector", out JsonElement vec) || vec.ValueKind != JsonValueKind.Array)
            {
                throw new InputFormatException(path, lineNumber, "vector", "missing or not an array");
            }
            var vector = new float[vec.GetArrayLength()];
            int i = 0;
            foreach (JsonElement v in vec.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetSingle(out vector[i]))
                {
                    throw new InputFormatException(path, lineNumber, "vector", $"element {i} is not a number");
                }
                i++;
            }
            bool truncated = root.TryGetProperty("truncated", out JsonElement t) && t.ValueKind == JsonValueKind.True;
            bool empty = root.TryGetProperty("empty", out JsonElement e) && e.ValueKind == JsonValueKind.True;
            return new EmbeddingRecord(id.GetString()!, vector, truncated, empty);
        }
    }
}
