using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Embeddings.IO;

/// <summary>
/// What identifies one on-disk format inside the <see cref="Container"/>: its 8-byte magic, the version this build
/// writes, the oldest version it still reads, and what a user should do about a file it cannot read.
/// </summary>
/// <param name="Name">What the file is, for messages ("BM25 index").</param>
/// <param name="Magic">The first 8 bytes of every file of the format.</param>
/// <param name="Version">The version written; also the newest one read (a newer file means "upgrade embeddings").</param>
/// <param name="OldestVersion">The oldest version still read; older files are refused with <paramref name="Fix"/>.</param>
/// <param name="Fix">How to get a readable file ("rebuild it with `embeddings index build`").</param>
/// <param name="TrailerVersions">
/// Versions up to this one were written in the earlier layout of the quality files (magic, u32 version, body, then an
/// XxHash64 of everything before it at the end); they are still read. 0 when the format never used it.
/// </param>
internal sealed record ContainerFormat(string Name, byte[] Magic, uint Version, uint OldestVersion, string Fix, uint TrailerVersions = 0)
{
    /// <summary>A format whose magic is <paramref name="magic"/> (exactly 8 ASCII characters).</summary>
    public static ContainerFormat Create(string name, string magic, uint version, uint oldestVersion, string fix, uint trailerVersions = 0)
    {
        byte[] bytes = System.Text.Encoding.ASCII.GetBytes(magic);
        if (bytes.Length != 8)
        {
            throw new ArgumentException("a container magic is 8 bytes", nameof(magic));
        }
        return new ContainerFormat(name, bytes, version, oldestVersion, fix, trailerVersions);
    }
}

/// <summary>
/// The one checksummed binary container every sealed file of the engine is written in (docs/formats.md):
/// <code>
/// header (32 bytes): magic (8) | u32 format version | u32 flags (0) | u64 payload length | u64 XxHash64 of the payload
/// payload: the format's own bytes (little-endian)
/// </code>
/// Written through <see cref="AtomicFile"/> (temporary file, flushed, renamed): readers see the old file or the new
/// one. Reading checks the magic, the version rule (this build reads <see cref="ContainerFormat.OldestVersion"/> up
/// to <see cref="ContainerFormat.Version"/>), the length, and the checksum, which is computed while the payload is
/// read so that large files (an HNSW index) are read once; any failure is a <see cref="DataFormatException"/>
/// naming the file and saying how to fix it.
/// </summary>
internal static class Container
{
    /// <summary>Size of the header.</summary>
    public const int HeaderBytes = 32;

    /// <summary>Writes a container file atomically; <paramref name="writePayload"/> writes the payload.</summary>
    public static void Write(string path, ContainerFormat format, Action<BinaryWriter> writePayload, Action? beforeRename = null)
    {
        ArgumentNullException.ThrowIfNull(writePayload);
        AtomicFile.Write(path, stream => WriteTo(stream, format, writePayload), beforeRename);
    }

    /// <summary>Writes a container file atomically whose payload is <paramref name="value"/> as UTF-8 JSON.</summary>
    public static void WriteJson<T>(string path, ContainerFormat format, T value)
    {
        byte[] payload = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value);
        Write(path, format, w => w.Write(payload));
    }

    /// <summary>
    /// Reads a container file written by <see cref="WriteJson"/>; null when the file does not exist. Bad magic, version,
    /// checksum or JSON throw <see cref="DataFormatException"/> naming the file.
    /// </summary>
    public static T? ReadJson<T>(string path, ContainerFormat format) where T : class
    {
        if (!File.Exists(path))
        {
            return null;
        }
        byte[] payload = Read(path, format, c =>
        {
            var bytes = new byte[c.Length];
            c.ReadExactly(bytes);
            return bytes;
        });
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<T>(payload) ?? throw new DataFormatException(path, $"empty {format.Name}; {format.Fix}");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new DataFormatException(path, $"unreadable {format.Name} payload: {e.Message}; {format.Fix}");
        }
    }

    /// <summary>Writes header and payload to a seekable stream (the header is patched at the end).</summary>
    public static void WriteTo(Stream stream, ContainerFormat format, Action<BinaryWriter> writePayload)
    {
        ContainerStreamWriter container = Begin(stream, format);
        writePayload(container.Payload);
        container.Complete();
    }

    /// <summary>
    /// Starts a container on a seekable stream for payloads written piece by piece (the streaming <c>.bin</c> writer):
    /// write to <see cref="ContainerStreamWriter.Payload"/>, then <see cref="ContainerStreamWriter.Complete"/> patches the
    /// header with the length and checksum. Publish the file through <see cref="AtomicFile.Begin"/>.
    /// </summary>
    public static ContainerStreamWriter Begin(Stream stream, ContainerFormat format) => new(stream, format);

    /// <summary>A whole container (header and <paramref name="payload"/>) in memory, for files written in one go.</summary>
    public static byte[] Encode(ContainerFormat format, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[HeaderBytes + payload.Length];
        Header(format, format.Version, payload.Length, XxHash64.HashToUInt64(payload)).CopyTo(bytes, 0);
        payload.CopyTo(bytes.AsSpan(HeaderBytes));
        return bytes;
    }

    /// <summary>Fills the header of a container built in memory whose payload starts at <see cref="HeaderBytes"/>.</summary>
    public static void Seal(ContainerFormat format, Span<byte> container)
    {
        ReadOnlySpan<byte> payload = container[HeaderBytes..];
        Header(format, format.Version, payload.Length, XxHash64.HashToUInt64(payload)).CopyTo(container);
    }

    /// <summary>
    /// Checks a container held in memory (magic, version rule, length, checksum) and returns its version and payload.
    /// </summary>
    public static (uint Version, ReadOnlyMemory<byte> Payload) Decode(string path, ContainerFormat format, ReadOnlyMemory<byte> bytes)
    {
        ReadOnlySpan<byte> span = bytes.Span;
        if (span.Length < HeaderBytes)
        {
            throw new DataFormatException(path, $"the file is {span.Length} bytes, too short to be a {format.Name}: it is truncated; {format.Fix}");
        }
        uint version = CheckMagicAndVersion(path, format, span);
        CheckFlags(path, format, span);
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(span[16..]);
        if (length != (ulong)(span.Length - HeaderBytes))
        {
            throw new DataFormatException(path, $"the header announces {length} payload bytes but the file holds {span.Length - HeaderBytes}: the {format.Name} is truncated or was not fully written; {format.Fix}");
        }
        ReadOnlyMemory<byte> payload = bytes[HeaderBytes..];
        ulong expected = BinaryPrimitives.ReadUInt64LittleEndian(span[24..]);
        if (XxHash64.HashToUInt64(payload.Span) != expected)
        {
            throw ChecksumMismatch(path, format);
        }
        return (version, payload);
    }

    /// <summary>
    /// Reads a container file: checks magic, version rule and length, hands a reader of the payload to
    /// <paramref name="readPayload"/> (which must read all of it), then checks the checksum. A file that fails to parse
    /// is reported as corrupt (checksum mismatch) when its checksum is wrong, so a damaged file never reads as "malformed".
    /// </summary>
    public static T Read<T>(string path, ContainerFormat format, Func<ContainerReader, T> readPayload)
    {
        ArgumentNullException.ThrowIfNull(readPayload);
        // A missing file stays a FileNotFoundException: callers decide whether that is an error or "none yet".
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16))
        {
            long fileLength = stream.Length;
            Span<byte> header = stackalloc byte[HeaderBytes];
            if (fileLength < 12)
            {
                throw new DataFormatException(path, $"the file is {fileLength} bytes, too short to be a {format.Name}: it is truncated; {format.Fix}");
            }
            stream.ReadExactly(header[..12]);
            uint version = CheckMagicAndVersion(path, format, header);
            long payloadLength;
            ulong? expectedHash;
            if (version <= format.TrailerVersions)
            {
                // The earlier layout: the checksum trails the file and covers everything before it; checked first.
                payloadLength = fileLength - 12 - 8;
                if (payloadLength < 0)
                {
                    throw new DataFormatException(path, $"the {format.Name} is truncated; {format.Fix}");
                }
                VerifyTrailer(stream, path, format, fileLength);
                stream.Position = 12;
                expectedHash = null;
            }
            else
            {
                if (fileLength < HeaderBytes)
                {
                    throw new DataFormatException(path, $"the file is {fileLength} bytes, too short to be a {format.Name}: it is truncated; {format.Fix}");
                }
                stream.ReadExactly(header[12..]);
                CheckFlags(path, format, header);
                ulong announced = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
                if (announced != (ulong)(fileLength - HeaderBytes))
                {
                    throw new DataFormatException(path, $"the header announces {announced} payload bytes but the file holds {fileLength - HeaderBytes}: the {format.Name} is truncated or was not fully written; {format.Fix}");
                }
                payloadLength = (long)announced;
                expectedHash = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
            }
            long payloadStart = stream.Position;
            var hashing = new HashingStream(new BufferedStream(stream, 1 << 16), leaveInnerOpen: true);
            var reader = new ContainerReader(path, format, version, payloadLength, hashing);
            T result;
            try
            {
                result = readPayload(reader);
                if (hashing.Length != payloadLength)
                {
                    throw new InvalidDataException($"{payloadLength - hashing.Length} payload bytes left unread");
                }
            }
            catch (Exception e) when (IsParseFailure(e))
            {
                if (expectedHash is { } hash && PayloadHash(stream, payloadStart, payloadLength) != hash)
                {
                    throw ChecksumMismatch(path, format);
                }
                if (e is DataFormatException)
                {
                    throw;
                }
                throw new DataFormatException(path, $"malformed {format.Name} content ({e.Message}): the file is corrupt; {format.Fix}");
            }
            if (expectedHash is { } h && hashing.Hash != h)
            {
                throw ChecksumMismatch(path, format);
            }
            return result;
        }
    }

    /// <summary>
    /// The payload checksum a container file's header records (read from the 32-byte header only), or null when the file
    /// is missing or has no such header: what ties another file (the index state) to this exact file.
    /// </summary>
    public static ulong? HeaderChecksum(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, HeaderBytes);
            Span<byte> header = stackalloc byte[HeaderBytes];
            return stream.Length >= HeaderBytes && stream.Read(header) == HeaderBytes ? BinaryPrimitives.ReadUInt64LittleEndian(header[24..]) : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Hex XxHash64 of a whole file (for manifests that list files).</summary>
    public static string HashFile(string path)
    {
        var hash = new XxHash64();
        using var stream = File.OpenRead(path);
        hash.Append(stream);
        return hash.GetCurrentHashAsUInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static byte[] Header(ContainerFormat format, uint version, long payloadLength, ulong hash)
    {
        var header = new byte[HeaderBytes];
        format.Magic.CopyTo(header, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), version);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), 0);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), (ulong)payloadLength);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), hash);
        return header;
    }

    /// <summary>The version rule, shared by every format: magic must match, version within [oldest, current].</summary>
    private static uint CheckMagicAndVersion(string path, ContainerFormat format, ReadOnlySpan<byte> header)
    {
        if (!header[..8].SequenceEqual(format.Magic))
        {
            throw new DataFormatException(path, $"not a {format.Name} file (bad magic); {format.Fix}");
        }
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version > format.Version)
        {
            throw new DataFormatException(path, $"{format.Name} format version {version} was written by a newer embeddings (this build reads versions {format.OldestVersion} to {format.Version}): upgrade embeddings, or {format.Fix}");
        }
        if (version < format.OldestVersion)
        {
            throw new DataFormatException(path, $"{format.Name} format version {version} is no longer read (this build reads versions {format.OldestVersion} to {format.Version}); {format.Fix}");
        }
        return version;
    }

    /// <summary>No flag is defined yet: a set bit means a newer writer (or a damaged header).</summary>
    private static void CheckFlags(string path, ContainerFormat format, ReadOnlySpan<byte> header)
    {
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        if (flags != 0)
        {
            throw new DataFormatException(path, $"{format.Name} header has unknown flags {flags:x8}: the file is corrupt or was written by a newer embeddings; {format.Fix}");
        }
    }

    private static void VerifyTrailer(FileStream stream, string path, ContainerFormat format, long fileLength)
    {
        stream.Position = 0;
        ulong actual = HashRange(stream, fileLength - 8);
        Span<byte> trailer = stackalloc byte[8];
        stream.ReadExactly(trailer);
        if (BinaryPrimitives.ReadUInt64LittleEndian(trailer) != actual)
        {
            throw ChecksumMismatch(path, format);
        }
    }

    private static ulong PayloadHash(FileStream stream, long start, long length)
    {
        stream.Position = start;
        return HashRange(stream, length);
    }

    private static ulong HashRange(Stream stream, long length)
    {
        var hash = new XxHash64();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            while (length > 0)
            {
                int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, length));
                if (n <= 0)
                {
                    break;
                }
                hash.Append(buffer.AsSpan(0, n));
                length -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return hash.GetCurrentHashAsUInt64();
    }

    private static DataFormatException ChecksumMismatch(string path, ContainerFormat format) =>
        new(path, $"{format.Name} checksum mismatch: the file is corrupt or was cut short; {format.Fix}");

    private static bool IsParseFailure(Exception e) =>
        e is DataFormatException or EndOfStreamException or InvalidDataException or FormatException or OverflowException
            or ArgumentException or IndexOutOfRangeException or IOException;

    /// <summary>Passes bytes through to an inner stream, hashing and counting them (write or read).</summary>
    internal sealed class HashingStream(Stream inner, bool leaveInnerOpen) : Stream
    {
        private readonly XxHash64 _hash = new();

        public ulong Hash => _hash.GetCurrentHashAsUInt64();

        public override long Length => _count;

        private long _count;

        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Position { get => _count; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.Append(buffer);
            inner.Write(buffer);
            _count += buffer.Length;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            _hash.Append(buffer[..n]);
            _count += n;
            return n;
        }

        /// <summary>Flushes and releases the buffering stream without closing the file under it.</summary>
        public void DisposeInner()
        {
            inner.Flush();
            if (!leaveInnerOpen)
            {
                inner.Dispose();
            }
        }
    }
}

/// <summary>A container being written to a seekable stream; see <see cref="Container.Begin"/>.</summary>
internal sealed class ContainerStreamWriter
{
    private readonly Stream _stream;
    private readonly ContainerFormat _format;
    private readonly long _start;
    private readonly Container.HashingStream _hashing;
    private bool _completed;

    internal ContainerStreamWriter(Stream stream, ContainerFormat format)
    {
        _stream = stream;
        _format = format;
        _start = stream.Position;
        stream.Write(new byte[Container.HeaderBytes]);
        _hashing = new Container.HashingStream(new BufferedStream(stream, 1 << 16), leaveInnerOpen: true);
        Payload = new BinaryWriter(_hashing, System.Text.Encoding.UTF8, leaveOpen: true);
    }

    /// <summary>Writer of the payload (little-endian numbers, length-prefixed strings, raw spans).</summary>
    public BinaryWriter Payload { get; }

    /// <summary>Payload bytes written so far.</summary>
    public long Length => _hashing.Length;

    /// <summary>Flushes the payload and writes the header (length, checksum); the stream is left at its end.</summary>
    public void Complete()
    {
        if (_completed)
        {
            throw new InvalidOperationException("the container is already complete");
        }
        _completed = true;
        Payload.Flush();
        _hashing.DisposeInner();
        long end = _stream.Position;
        _stream.Position = _start;
        _stream.Write(Container.Header(_format, _format.Version, _hashing.Length, _hashing.Hash));
        _stream.Position = end;
    }
}

/// <summary>
/// Reads a container's payload: a <see cref="BinaryReader"/> (little-endian) plus bulk reads straight into spans, every
/// byte going through the checksum. A read past the payload's end is a truncated file.
/// </summary>
internal sealed class ContainerReader
{
    private readonly Stream _payload;

    internal ContainerReader(string path, ContainerFormat format, uint version, long length, Stream payload)
    {
        Path = path;
        Format = format;
        Version = version;
        Length = length;
        _payload = payload;
        Binary = new BinaryReader(payload, System.Text.Encoding.UTF8, leaveOpen: true);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Its format.</summary>
    public ContainerFormat Format { get; }

    /// <summary>The version the file was written in (payload layouts may differ by version).</summary>
    public uint Version { get; }

    /// <summary>Payload bytes in all.</summary>
    public long Length { get; }

    /// <summary>Payload bytes read so far.</summary>
    public long Position => _payload.Position;

    /// <summary>Reader of numbers and length-prefixed strings.</summary>
    public BinaryReader Binary { get; }

    /// <summary>Fills <paramref name="destination"/>.</summary>
    public void ReadExactly(Span<byte> destination) => _payload.ReadExactly(destination);

    /// <summary>A block of little-endian 4-byte values (ints, floats).</summary>
    public void ReadWords<T>(Span<T> destination) where T : unmanaged
    {
        Span<byte> bytes = MemoryMarshal.AsBytes(destination);
        _payload.ReadExactly(bytes);
        if (!BitConverter.IsLittleEndian)
        {
            Span<int> words = MemoryMarshal.Cast<byte, int>(bytes);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
    }

    /// <summary>A count read as i32, checked against <paramref name="max"/>.</summary>
    public int ReadCount(long max, string what)
    {
        int n = Binary.ReadInt32();
        if (n < 0 || n > max)
        {
            throw new InvalidDataException($"{what} count {n} out of range");
        }
        return n;
    }
}

/// <summary>Block writes of little-endian 4-byte values into a container payload.</summary>
internal static class ContainerWriting
{
    /// <summary>Writes <paramref name="values"/> (ints, floats) little-endian.</summary>
    public static void WriteWords<T>(this BinaryWriter writer, ReadOnlySpan<T> values) where T : unmanaged
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(values);
        if (BitConverter.IsLittleEndian)
        {
            writer.Write(bytes);
            return;
        }
        byte[] swap = new byte[bytes.Length];
        BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(bytes), MemoryMarshal.Cast<byte, int>(swap.AsSpan()));
        writer.Write(swap);
    }
}
