using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using Embeddings.IO;

namespace Embeddings.IO;

/// <summary>
/// The layout every quality artefact uses: 8-byte magic, little-endian u32 format version, the body, and
/// a trailing little-endian XxHash64 of everything before it. Written atomically; on load the checksum is
/// verified over the whole file before any byte of the body is trusted.
/// </summary>
internal static class ChecksummedFile
{
    public static void Write(string path, ReadOnlySpan<byte> magic, uint version, Action<BinaryWriter> writeBody)
    {
        if (magic.Length != 8)
        {
            throw new ArgumentException("magic must be 8 bytes", nameof(magic));
        }
        byte[] magicBytes = magic.ToArray();
        AtomicFile.Write(path, stream =>
        {
            // Not disposed: disposing would close the stream AtomicFile still has to flush.
            var buffered = new BufferedStream(stream, 1 << 16);
            var hashing = new HashingWriteStream(buffered);
            using (var writer = new BinaryWriter(hashing, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(magicBytes);
                writer.Write(version);
                writeBody(writer);
            }
            Span<byte> trailer = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(trailer, hashing.Hash.GetCurrentHashAsUInt64());
            buffered.Write(trailer);
            buffered.Flush();
        });
    }

    /// <summary>
    /// Checks magic, version and checksum, then hands a reader positioned after the header to
    /// <paramref name="readBody"/>. Any malformed content becomes a <see cref="DataFormatException"/>.
    /// </summary>
    public static T Read<T>(string path, ReadOnlySpan<byte> magic, uint version, string what, Func<BinaryReader, long, T> readBody)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{what} file not found: {path}", path);
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        long length = stream.Length;
        if (length < 8 + 4 + 8)
        {
            throw new DataFormatException(path, $"too short ({length} bytes) to be a {what} file");
        }
        Span<byte> header = stackalloc byte[12];
        stream.ReadExactly(header);
        if (!header[..8].SequenceEqual(magic))
        {
            throw new DataFormatException(path, $"not a {what} file (bad magic); rebuild it");
        }
        uint found = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (found != version)
        {
            throw new DataFormatException(path, $"{what} format version {found} is not supported (this build reads version {version}); rebuild it");
        }
        VerifyChecksum(stream, path, length, what);
        stream.Position = 12;
        using var reader = new BinaryReader(new BufferedStream(stream, 1 << 16), System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            return readBody(reader, length - 8);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or InvalidDataException or OverflowException or IndexOutOfRangeException or FormatException)
        {
            throw new DataFormatException(path, $"malformed {what} content ({e.Message}); rebuild it");
        }
    }

    private static void VerifyChecksum(FileStream stream, string path, long length, string what)
    {
        var hash = new XxHash64();
        stream.Position = 0;
        long remaining = length - 8;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            while (remaining > 0)
            {
                int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
                if (n <= 0)
                {
                    throw new DataFormatException(path, $"{what} file is truncated");
                }
                hash.Append(buffer.AsSpan(0, n));
                remaining -= n;
            }
            Span<byte> trailer = stackalloc byte[8];
            stream.ReadExactly(trailer);
            if (BinaryPrimitives.ReadUInt64LittleEndian(trailer) != hash.GetCurrentHashAsUInt64())
            {
                throw new DataFormatException(path, $"{what} checksum mismatch: the file is corrupt or was cut short; rebuild it");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Hex XxHash64 of a whole file (for manifests).</summary>
    public static string HashFile(string path)
    {
        var hash = new XxHash64();
        using var stream = File.OpenRead(path);
        hash.Append(stream);
        return hash.GetCurrentHashAsUInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    public static void WriteString(BinaryWriter w, string s) => w.Write(s);

    public static string ReadString(BinaryReader r) => r.ReadString();

    public static int ReadCount(BinaryReader r, long max, string what)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > max)
        {
            throw new InvalidDataException($"{what} count {n} out of range");
        }
        return n;
    }

    public static void WriteFloats(BinaryWriter w, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
            return;
        }
        foreach (float v in values)
        {
            w.Write(v);
        }
    }

    public static void ReadFloats(BinaryReader r, Span<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            r.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
            return;
        }
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = r.ReadSingle();
        }
    }

    public static void WriteInts(BinaryWriter w, ReadOnlySpan<int> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
            return;
        }
        foreach (int v in values)
        {
            w.Write(v);
        }
    }

    public static void ReadInts(BinaryReader r, Span<int> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            r.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
            return;
        }
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = r.ReadInt32();
        }
    }

    private sealed class HashingWriteStream(Stream inner) : Stream
    {
        public XxHash64 Hash { get; } = new();

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Hash.Append(buffer);
            inner.Write(buffer);
        }
    }
}
