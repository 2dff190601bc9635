using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Embeddings.Store;

/// <summary>
/// <c>vectors.f32</c>: a 64-byte header (magic "EMBVECF1", u32 format version, u32 dimension, u64 XxHash64 of the model
/// fingerprint, zeros) then row after row of <c>dimension</c> float32 values, little-endian, append-only. Only the
/// first <c>rows</c> rows named by the manifest are committed; bytes after them are leftovers of an interrupted commit,
/// cut off when a writer opens the store. numpy: <c>np.memmap(path, '&lt;f4', offset=64).reshape(-1, dim)[:rows]</c>.
/// </summary>
internal static class VectorFile
{
    public const string FileName = "vectors.f32";
    public const int HeaderBytes = 64;
    public const int Version = 1;
    private static ReadOnlySpan<byte> Magic => "EMBVECF1"u8;

    public static string PathIn(string dir) => Path.Combine(dir, FileName);

    public static ulong FingerprintHash(string fingerprint) => XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(fingerprint));

    public static byte[] Header(int dimension, string fingerprint)
    {
        byte[] header = new byte[HeaderBytes];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), Version);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), dimension);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), FingerprintHash(fingerprint));
        return header;
    }

    /// <summary>Checks the header and that the committed rows are all there.</summary>
    public static void Check(string path, int dimension, string fingerprint, long rows)
    {
        using var stream = OpenRead(path);
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (stream.Length < HeaderBytes)
        {
            throw new DataFormatException(path, "vector file shorter than its header: the file is torn");
        }
        stream.ReadExactly(header);
        if (!header[..8].SequenceEqual(Magic))
        {
            throw new DataFormatException(path, "not a store vector file (bad magic)");
        }
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        int dim = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        ulong fp = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
        if (version != Version || dim != dimension || fp != FingerprintHash(fingerprint))
        {
            throw new DataFormatException(path, $"vector file header (version {version}, dimension {dim}) does not match the manifest (dimension {dimension}, model fingerprint)");
        }
        long need = HeaderBytes + rows * dimension * 4L;
        if (stream.Length < need)
        {
            throw new DataFormatException(path, $"vector file is {stream.Length} bytes but {rows} committed rows need {need}: the file is torn");
        }
    }

    public static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        }
        catch (FileNotFoundException)
        {
            throw new DataFormatException(path, "vector file missing: the store is incomplete");
        }
    }

    /// <summary>XxHash64 of the bytes of rows [first, first+count).</summary>
    public static ulong HashRows(SafeHandleReader reader, long firstRow, int rows, int dimension)
    {
        var hash = new XxHash64();
        long offset = HeaderBytes + firstRow * dimension * 4L;
        long remaining = rows * dimension * 4L;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            while (remaining > 0)
            {
                int n = reader.Read(buffer.AsSpan(0, (int)Math.Min(buffer.Length, remaining)), offset);
                if (n == 0)
                {
                    throw new EndOfStreamException();
                }
                hash.Append(buffer.AsSpan(0, n));
                offset += n;
                remaining -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return hash.GetCurrentHashAsUInt64();
    }

    public static ReadOnlySpan<byte> AsBytes(ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("the store's vector file is little-endian; big-endian machines are not supported");
        }
        return MemoryMarshal.AsBytes(values);
    }
}

/// <summary>Positional reads of a file shared with a writer.</summary>
internal sealed class SafeHandleReader(string path) : IDisposable
{
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle =
        File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

    public string Path { get; } = path;

    public int Read(Span<byte> buffer, long offset) => RandomAccess.Read(_handle, buffer, offset);

    public void ReadExactly(Span<byte> buffer, long offset)
    {
        while (buffer.Length > 0)
        {
            int n = RandomAccess.Read(_handle, buffer, offset);
            if (n == 0)
            {
                throw new DataFormatException(Path, $"unexpected end of file at byte {offset}: the file is torn");
            }
            buffer = buffer[n..];
            offset += n;
        }
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>The committed rows of <c>vectors.f32</c>, memory-mapped read-only, as one <see cref="Memory{T}"/>.</summary>
internal sealed unsafe class MappedVectors : MemoryManager<float>
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private readonly int _length;

    public MappedVectors(string path, long rows, int dimension)
    {
        long floats = rows * dimension;
        if (floats > int.MaxValue)
        {
            throw new NotSupportedException($"{rows} rows of {dimension} floats exceed one span ({int.MaxValue} floats); read rows one by one with GetVector");
        }
        _length = (int)floats;
        long committed = VectorFile.HeaderBytes + floats * 4;
        FileStream stream = VectorFile.OpenRead(path);
        // The file may be longer than the committed rows (a writer is appending the next commit, or one was killed
        // before its manifest): map the file as it is (capacity 0) and view only the committed bytes. A capacity
        // below the file's length is refused by the runtime, which made readers fail during every commit.
        _file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        _view = _file.CreateViewAccessor(0, committed, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _pointer = p + _view.PointerOffset + VectorFile.HeaderBytes;
    }

    public override Span<float> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + ((long)elementIndex * sizeof(float)));

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }
}
