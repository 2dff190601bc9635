using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Embeddings.IO;

/// <summary>Output format of <c>embeddings embed</c>.</summary>
public enum EmbeddingFileFormat
{
    /// <summary>One JSON object per line: <c>{"id": ..., "vector": [...], "truncated": bool}</c>.</summary>
    Jsonl,

    /// <summary>The binary format of docs/formats.md (<see cref="EmbeddingBinaryFormat"/>).</summary>
    Bin,
}

/// <summary>
/// Streams embedding records to a file. Nothing is visible under the final name until <see cref="Complete"/>:
/// records go to a temporary file beside it, which is flushed and renamed over the target at the end; disposing
/// without completing deletes the temporary file, so an interrupted run never leaves a torn output behind.
/// </summary>
public interface IEmbeddingWriter : IDisposable
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
public static class EmbeddingWriter
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

/// <summary>A temporary file beside the target, published by rename; shared by both writers.</summary>
internal sealed class PendingFile : IDisposable
{
    private readonly string _target;
    private readonly string _temp;
    private bool _published;

    public PendingFile(string path)
    {
        _target = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(_target)!;
        Directory.CreateDirectory(dir);
        _temp = Path.Combine(dir, $".{Path.GetFileName(_target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Stream = new FileStream(_temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
    }

    public FileStream Stream { get; }

    public void Publish()
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_temp, _target, overwrite: true);
        AtomicFile.FlushDirectory(Path.GetDirectoryName(_target)!);
        _published = true;
    }

    public void Dispose()
    {
        if (_published)
        {
            return;
        }
        Stream.Dispose();
        try
        {
            File.Delete(_temp);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
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
        _file = new PendingFile(path);
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
public sealed record EmbeddingRecord(string Id, float[] Vector, bool Truncated, bool IsEmpty);

/// <summary>Contents of a binary embedding file (docs/formats.md), checked on load.</summary>
public sealed class EmbeddingFileContents
{
    internal EmbeddingFileContents(string fingerprint, int dimension, string[] ids, float[] vectors, bool[] truncated, bool[] isEmpty)
    {
        Fingerprint = fingerprint;
        Dimension = dimension;
        Ids = ids;
        Vectors = vectors;
        Truncated = truncated;
        IsEmpty = isEmpty;
    }

    /// <summary>Fingerprint of the model that made the vectors.</summary>
    public string Fingerprint { get; }

    /// <summary>Vector length.</summary>
    public int Dimension { get; }

    /// <summary>Number of records.</summary>
    public int Count => Ids.Count;

    /// <summary>Paper ids in file order.</summary>
    public IReadOnlyList<string> Ids { get; }

    /// <summary>Row-major vectors, <see cref="Count"/> x <see cref="Dimension"/>.</summary>
    public float[] Vectors { get; }

    /// <summary>Per-record truncation flags.</summary>
    public IReadOnlyList<bool> Truncated { get; }

    /// <summary>Per-record empty-text flags.</summary>
    public IReadOnlyList<bool> IsEmpty { get; }

    /// <summary>The vector of record <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> this[int index] => Vectors.AsSpan(index * Dimension, Dimension);
}

/// <summary>
/// The binary embedding format (version 1), all integers and floats little-endian. Layout (details in docs/formats.md):
/// <code>
/// header:  magic "EMBVEC\r\n" (8) | version u32 | dimension u32 | count u64 | flags u32 | fingerprint length u32
///          | fingerprint UTF-8 | zero padding to a multiple of 8 | header checksum u64 (XxHash64 of the header bytes before it)
/// body:    vectors f32[count * dimension] | ids: count x (byte length u32, UTF-8) | record flags u8[count] (bit 0 truncated, bit 1 empty)
/// trailer: body checksum u64 (XxHash64 of the body) | end magic "EMBVEND\n" (8)
/// </code>
/// Vectors come first so that a reader can map them without parsing the ids; the count is patched into the header
/// when the writer completes, which is why header and body carry separate checksums.
/// </summary>
public static class EmbeddingBinaryFormat
{
    /// <summary>First 8 bytes of every file.</summary>
    public static ReadOnlySpan<byte> Magic => "EMBVEC\r\n"u8;

    /// <summary>Last 8 bytes of every complete file.</summary>
    public static ReadOnlySpan<byte> EndMagic => "EMBVEND\n"u8;

    /// <summary>The version this build writes and reads.</summary>
    public const uint Version = 1;

    /// <summary>Longest fingerprint accepted (bytes of UTF-8).</summary>
    public const int MaxFingerprintBytes = 1024;

    internal const byte FlagTruncated = 1;
    internal const byte FlagEmpty = 2;

    /// <summary>Reads and checks a whole file.</summary>
    /// <exception cref="DataFormatException">Bad magic, unknown version, size or checksum mismatch.</exception>
    public static EmbeddingFileContents Read(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        ReadOnlySpan<byte> span = data;
        if (span.Length < 40 || !span[..8].SequenceEqual(Magic))
        {
            ThrowHelper.Format(path, "not an embeddings binary file (bad magic); expected a file written by `embeddings embed --format bin`");
        }
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
        if (version != Version)
        {
            ThrowHelper.Format(path, $"format version {version} is not supported by this build (it reads version {Version})");
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
        var truncated = new bool[n];
        var isEmpty = new bool[n];
        for (int i = 0; i < n; i++)
        {
            byte f = body[pos + i];
            truncated[i] = (f & FlagTruncated) != 0;
            isEmpty[i] = (f & FlagEmpty) != 0;
        }
        string fingerprint = System.Text.Encoding.UTF8.GetString(span.Slice(32, (int)fpLength));
        return new EmbeddingFileContents(fingerprint, (int)dimension, ids, vectors, truncated, isEmpty);
    }

    internal static int Align8(int n) => (n + 7) & ~7;
}

/// <summary>Streaming writer of <see cref="EmbeddingBinaryFormat"/>: vectors go to disk as they come; ids and flags are kept until the end.</summary>
internal sealed class BinaryEmbeddingWriter : IEmbeddingWriter
{
    private readonly PendingFile _file;
    private readonly int _dimension;
    private readonly byte[] _fingerprint;
    private readonly int _headerLength;
    private readonly XxHash64 _bodyHash = new();
    private readonly List<string> _ids = [];
    private readonly List<byte> _flags = [];
    private byte[] _vectorBytes;

    public BinaryEmbeddingWriter(string path, int dimension, string fingerprint)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentNullException.ThrowIfNull(fingerprint);
        _fingerprint = System.Text.Encoding.UTF8.GetBytes(fingerprint);
        if (_fingerprint.Length > EmbeddingBinaryFormat.MaxFingerprintBytes)
        {
            throw new ArgumentException("fingerprint too long", nameof(fingerprint));
        }
        _dimension = dimension;
        _vectorBytes = new byte[dimension * sizeof(float)];
        _file = new PendingFile(path);
        _headerLength = EmbeddingBinaryFormat.Align8(32 + _fingerprint.Length);
        // Reserve the header (+ its checksum); it is written for real, with the final count, in Complete.
        _file.Stream.Write(new byte[_headerLength + 8]);
    }

    public long Count => _ids.Count;

    public void Write(string id, ReadOnlySpan<float> vector, bool truncated, bool isEmpty)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (vector.Length != _dimension)
        {
            throw new ArgumentException($"vector has {vector.Length} floats, the file's dimension is {_dimension}", nameof(vector));
        }
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(vector).CopyTo(_vectorBytes);
        }
        else
        {
            for (int i = 0; i < vector.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(_vectorBytes.AsSpan(i * 4), vector[i]);
            }
        }
        _file.Stream.Write(_vectorBytes);
        _bodyHash.Append(_vectorBytes);
        _ids.Add(id);
        _flags.Add((byte)((truncated ? EmbeddingBinaryFormat.FlagTruncated : 0) | (isEmpty ? EmbeddingBinaryFormat.FlagEmpty : 0)));
    }

    public void Complete()
    {
        Stream s = _file.Stream;
        byte[] lengthBytes = new byte[4];
        foreach (string id in _ids)
        {
            byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(id);
            BinaryPrimitives.WriteUInt32LittleEndian(lengthBytes, (uint)utf8.Length);
            s.Write(lengthBytes);
            s.Write(utf8);
            _bodyHash.Append(lengthBytes);
            _bodyHash.Append(utf8);
        }
        byte[] flags = _flags.ToArray();
        s.Write(flags);
        _bodyHash.Append(flags);
        byte[] trailer = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, _bodyHash.GetCurrentHashAsUInt64());
        EmbeddingBinaryFormat.EndMagic.CopyTo(trailer.AsSpan(8));
        s.Write(trailer);

        byte[] header = new byte[_headerLength + 8];
        EmbeddingBinaryFormat.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), EmbeddingBinaryFormat.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), (uint)_dimension);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), (ulong)_ids.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(24), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(28), (uint)_fingerprint.Length);
        _fingerprint.CopyTo(header.AsSpan(32));
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(_headerLength), XxHash64.HashToUInt64(header.AsSpan(0, _headerLength)));
        s.Position = 0;
        s.Write(header);
        _file.Publish();
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>Reads the JSON Lines embedding format written by <c>embeddings embed --format jsonl</c>.</summary>
public static class EmbeddingJsonl
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
