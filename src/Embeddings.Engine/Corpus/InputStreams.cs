using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text.Unicode;

namespace Embeddings.Corpus;

/// <summary>
/// What every input stream here is: readable once, front to back, with no length, position, seeking or writing.
/// Subclasses implement only <see cref="Read(Span{byte})"/> (and an async read where they have one).
/// </summary>
internal abstract class ReadOnlyForwardStream : Stream
{
    public sealed override bool CanRead => true;
    public sealed override bool CanSeek => false;
    public sealed override bool CanWrite => false;
    public sealed override long Length => throw new NotSupportedException();
    public sealed override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public sealed override void Flush() { }
    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public sealed override void SetLength(long value) => throw new NotSupportedException();
    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public sealed override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public abstract override int Read(Span<byte> buffer);
}

/// <summary>
/// Decompresses a gzip file (RFC 1952) member by member and checks each member's trailer, its CRC-32 and length, so a
/// truncated or damaged file is an error instead of papers silently missing (.NET's GZipStream ends a truncated stream
/// quietly). The gzip framing is read here; the deflate data of each member goes through a <see cref="DeflateStream"/>
/// fed in small chunks, so that the trailer, which follows the deflate data, is found within the last chunk given.
/// Concatenated members (<c>cat a.gz b.gz</c>) are read as one stream; anything else after the last member is refused.
/// </summary>
internal sealed class VerifiedGzipStream : ReadOnlyForwardStream
{
    private const int ChunkBytes = 16 << 10;

    private readonly string _path;
    private readonly Stream _inner;
    private readonly byte[] _buffer = new byte[4 * ChunkBytes];
    private readonly Crc32 _crc = new();
    private int _pos;
    private int _end;
    private long _bufferOffset;
    private bool _innerEnded;
    private int _servedStart = -1;
    private DeflateStream? _deflate;
    private long _memberLength;
    private int _members;
    private bool _done;

    public VerifiedGzipStream(string path, Stream inner)
    {
        _path = path;
        _inner = inner;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(Span<byte> buffer)
    {
        while (!_done && buffer.Length > 0)
        {
            if (_deflate is null && !StartMember())
            {
                _done = true;
                break;
            }
            int n;
            try
            {
                n = _deflate!.Read(buffer);
            }
            catch (InvalidDataException e)
            {
                throw Bad($"the compressed data of gzip member {_members} is corrupt ({e.Message.TrimEnd('.')}): the file is damaged");
            }
            if (n > 0)
            {
                _crc.Append(buffer[..n]);
                _memberLength += n;
                return n;
            }
            FinishMember();
        }
        return 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _deflate?.Dispose();
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }

    private InputFormatException Bad(string problem) => new(_path, 0, null, problem);

    /// <summary>Reads a member header; false at the clean end of the file after at least one member.</summary>
    private bool StartMember()
    {
        if (!Ensure(1))
        {
            if (_members == 0)
            {
                throw Bad("the file is empty, not gzip data");
            }
            return false;
        }
        long at = _bufferOffset + _pos;
        if (!Ensure(10) || _buffer[_pos] != 0x1F || _buffer[_pos + 1] != 0x8B)
        {
            throw _members == 0
                ? Bad("not gzip data (it does not start with the gzip bytes 1F 8B): rename it without .gz, or compress it with gzip")
                : Bad(string.Create(CultureInfo.InvariantCulture, $"{_end - _pos}+ bytes of trailing data after the end of the gzip data at byte {at}: the file is damaged or not one gzip file"));
        }
        if (_buffer[_pos + 2] != 8)
        {
            throw Bad(string.Create(CultureInfo.InvariantCulture, $"gzip member at byte {at} uses compression method {_buffer[_pos + 2]}, not deflate (8)"));
        }
        byte flags = _buffer[_pos + 3];
        if ((flags & 0xE0) != 0)
        {
            throw Bad(string.Create(CultureInfo.InvariantCulture, $"gzip member at byte {at} has reserved header flags set: the file is damaged"));
        }
        _pos += 10;
        if ((flags & 0x04) != 0)
        {
            Need(2, at);
            int extra = BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(_pos));
            _pos += 2;
            Skip(extra, at);
        }
        if ((flags & 0x08) != 0)
        {
            SkipZeroTerminated(at);
        }
        if ((flags & 0x10) != 0)
        {
            SkipZeroTerminated(at);
        }
        if ((flags & 0x02) != 0)
        {
            Skip(2, at);
        }
        _members++;
        _crc.Reset();
        _memberLength = 0;
        _servedStart = -1;
        _deflate = new DeflateStream(new Feed(this), CompressionMode.Decompress, leaveOpen: true);
        return true;
    }

    /// <summary>The deflate data ended: find and check the trailer within the last chunk handed to the decompressor.</summary>
    private void FinishMember()
    {
        _deflate!.Dispose();
        _deflate = null;
        uint crc = _crc.GetCurrentHashAsUInt32();
        uint length = unchecked((uint)_memberLength);
        // The trailer starts where the deflate data ended: inside the last chunk served, or right after it. Keep that
        // chunk at the start of the buffer with at least 8 bytes after it.
        int from = Math.Max(_servedStart, 0);
        EnsureKeeping(_pos - from + 8, from);
        for (int p = 0; p + 8 <= _end && p <= _pos; p++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(p)) == crc && BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(p + 4)) == length)
            {
                _pos = p + 8;
                return;
            }
        }
        // No trailer matches. Its length field alone still found means the bytes are all there and the CRC-32 differs
        // (damage); neither field anywhere near, at the end of the file, means the trailer is missing (truncation).
        bool lengthFound = false;
        for (int p = 0; p + 8 <= _end && !lengthFound; p++)
        {
            lengthFound = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(p + 4)) == length;
        }
        throw _innerEnded && !lengthFound
            ? Bad(string.Create(CultureInfo.InvariantCulture,
                $"the gzip data is truncated: the file ends before the trailer (CRC-32 and length) of member {_members}, after {_memberLength} bytes of text; the file is incomplete (an interrupted download or copy?)"))
            : Bad(string.Create(CultureInfo.InvariantCulture,
                $"the gzip trailer of member {_members} does not match its {_memberLength} bytes of text (CRC-32 or length differ): the file is damaged"));
    }

    private void Need(int count, long at)
    {
        if (!Ensure(count))
        {
            throw Bad(string.Create(CultureInfo.InvariantCulture, $"the gzip header of the member at byte {at} is truncated: the file is incomplete"));
        }
    }

    private void Skip(int count, long at)
    {
        while (count > 0)
        {
            Need(1, at);
            int n = Math.Min(count, _end - _pos);
            _pos += n;
            count -= n;
        }
    }

    private void SkipZeroTerminated(long at)
    {
        while (true)
        {
            Need(1, at);
            if (_buffer[_pos++] == 0)
            {
                return;
            }
        }
    }

    /// <summary>Makes at least <paramref name="count"/> unread bytes available, unless the file ends first.</summary>
    private bool Ensure(int count) => EnsureKeeping(count, _pos);

    /// <summary>Like <see cref="Ensure"/> counting from <paramref name="keep"/>, whose bytes are kept in the buffer.</summary>
    private bool EnsureKeeping(int count, int keep)
    {
        if (keep > 0)
        {
            Buffer.BlockCopy(_buffer, keep, _buffer, 0, _end - keep);
            _bufferOffset += keep;
            _end -= keep;
            _pos -= keep;
            _servedStart = _servedStart >= keep ? _servedStart - keep : -1;
        }
        while (_end < count && !_innerEnded)
        {
            int n = _inner.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0)
            {
                _innerEnded = true;
            }
            _end += n;
        }
        return _end - (keep > 0 ? 0 : _pos) >= count;
    }

    /// <summary>Hands the decompressor one chunk at a time and remembers where the last chunk began.</summary>
    private int Serve(Span<byte> destination)
    {
        if (_pos == _end && !Ensure(1))
        {
            return 0;
        }
        int n = Math.Min(Math.Min(destination.Length, ChunkBytes), _end - _pos);
        _buffer.AsSpan(_pos, n).CopyTo(destination);
        _servedStart = _pos;
        _pos += n;
        return n;
    }

    private sealed class Feed(VerifiedGzipStream owner) : ReadOnlyForwardStream
    {
        public override int Read(Span<byte> buffer) => owner.Serve(buffer);
    }
}

/// <summary>
/// Looks at the first bytes of an input before any line is parsed: UTF-16 and UTF-32 text with a byte-order mark is
/// converted to UTF-8 (its lines then read as usual); a file that is not text at all (NUL bytes, mostly control bytes
/// or invalid UTF-8: a PDF or an image renamed <c>.txt</c>) is named as binary, with UTF-16 without a byte-order mark
/// told apart, so that no "paper" is ever made of binary garbage.
/// </summary>
internal static class TextSniffer
{
    private const int SniffBytes = 64 << 10;

    /// <summary>Below this many bytes a file is judged line by line: too little to tell a binary from a few bad lines.</summary>
    private const int MinimumSniff = 512;

    /// <summary>The stream to read lines from, or the reason the whole file is not text.</summary>
    public static async Task<(Stream? Text, string? Problem)> OpenAsync(Stream input, CancellationToken cancellationToken)
    {
        byte[] head = new byte[SniffBytes];
        int length = 0;
        while (length < head.Length)
        {
            int n = await input.ReadAsync(head.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }
            length += n;
        }
        var replay = new PrefixedStream(head, length, input);
        ReadOnlySpan<byte> bytes = head.AsSpan(0, length);
        System.Text.Encoding? unicode = bytes switch
        {
            [0xFF, 0xFE, 0x00, 0x00, ..] => new System.Text.UTF32Encoding(bigEndian: false, byteOrderMark: true),
            [0x00, 0x00, 0xFE, 0xFF, ..] => new System.Text.UTF32Encoding(bigEndian: true, byteOrderMark: true),
            [0xFF, 0xFE, ..] => System.Text.Encoding.Unicode,
            [0xFE, 0xFF, ..] => System.Text.Encoding.BigEndianUnicode,
            _ => null,
        };
        if (unicode is not null)
        {
            return (System.Text.Encoding.CreateTranscodingStream(replay, unicode, new System.Text.UTF8Encoding(false)), null);
        }
        if (Describe(bytes, length == head.Length) is { } problem)
        {
            await replay.DisposeAsync().ConfigureAwait(false);
            return (null, problem);
        }
        return (replay, null);
    }

    /// <summary>Why <paramref name="bytes"/> (the start of a file) are not UTF-8 text, or null when they are.</summary>
    internal static string? Describe(ReadOnlySpan<byte> bytes, bool cut)
    {
        int nul = bytes.IndexOf((byte)0);
        if (nul >= 0)
        {
            int evenZeros = 0, oddZeros = 0;
            for (int i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == 0)
                {
                    if (i % 2 == 0)
                    {
                        evenZeros++;
                    }
                    else
                    {
                        oddZeros++;
                    }
                }
            }
            int half = bytes.Length / 2;
            if (half > 0 && Math.Max(evenZeros, oddZeros) > half * 0.6 && Math.Min(evenZeros, oddZeros) < half * 0.05)
            {
                string order = oddZeros > evenZeros ? "LE" : "BE";
                return $"the file is UTF-16 text without a byte-order mark, not UTF-8: convert it (for example iconv -f UTF-16{order} -t UTF-8); nothing was read from it";
            }
            // A stray NUL in a real dump is one bad line (reported with its line); a file where they are common is not text.
            if (bytes.Length >= MinimumSniff && evenZeros + oddZeros > bytes.Length / 100)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"binary data, not a text file ({evenZeros + oddZeros} NUL bytes in its first {bytes.Length}, the first at byte {nul}); nothing was read from it");
            }
        }
        int bad = 0;
        int i2 = 0;
        while (i2 < bytes.Length)
        {
            byte b = bytes[i2];
            if (b < 0x80)
            {
                if ((b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0C)) || b == 0x7F)
                {
                    bad++;
                }
                i2++;
                continue;
            }
            System.Buffers.OperationStatus status = System.Text.Rune.DecodeFromUtf8(bytes[i2..], out _, out int consumed);
            if (status == System.Buffers.OperationStatus.NeedMoreData && cut)
            {
                break; // a character cut by the end of the sniffed block
            }
            if (status != System.Buffers.OperationStatus.Done)
            {
                bad++;
            }
            i2 += Math.Max(consumed, 1);
        }
        // A stray bad byte in a real dump is a bad line (reported as such); a file mostly made of them is not text.
        return bytes.Length >= MinimumSniff && bad > bytes.Length / 20
            ? string.Create(CultureInfo.InvariantCulture, $"binary data, not UTF-8 text ({bad} control bytes or invalid UTF-8 sequences in its first {bytes.Length} bytes); nothing was read from it")
            : null;
    }

    /// <summary>The sniffed bytes, then the rest of the stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, int length, Stream rest) : ReadOnlyForwardStream
    {
        private int _offset;

        public override int Read(Span<byte> buffer)
        {
            if (_offset < length)
            {
                int n = Math.Min(buffer.Length, length - _offset);
                prefix.AsSpan(_offset, n).CopyTo(buffer);
                _offset += n;
                return n;
            }
            return rest.Read(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset < length)
            {
                return Read(buffer.Span);
            }
            return await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                rest.Dispose();
            }
            base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync()
        {
            Dispose(true);
            GC.SuppressFinalize(this);
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// A stream the library reads but does not own (an upload handed to an ingest): disposing it leaves the caller's
/// stream open, and the exception the caller's stream failed with (a client gone, a body over the host's limit) is
/// kept, so that the library boundary passes that exception on as it is instead of translating it as a storage error.
/// </summary>
internal sealed class BorrowedStream(Stream inner) : ReadOnlyForwardStream
{
    /// <summary>What the caller's stream threw, if it failed.</summary>
    public Exception? Failure { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return inner.Read(buffer);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Failure = e;
            throw;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Failure = e;
            throw;
        }
    }
}
