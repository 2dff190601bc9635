namespace Embeddings.Corpus;

/// <summary>
/// Splits a byte stream into lines without decoding it first, so that invalid UTF-8 and binary garbage can be
/// reported per line and a line longer than the cap is skipped without being held in memory.
/// A line is valid until the next call to <see cref="ReadAsync"/>.
/// </summary>
internal sealed class Utf8LineReader
{
    private readonly Stream _stream;
    private readonly int _maxLineBytes;
    private byte[] _buffer;
    private int _start;
    private int _scan;
    private int _end;
    private bool _eof;
    private bool _first = true;

    public Utf8LineReader(Stream stream, int maxLineBytes)
    {
        _stream = stream;
        _maxLineBytes = maxLineBytes;
        _buffer = new byte[Math.Min(1 << 16, maxLineBytes + 2)];
    }

    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>The line last returned, without its line break (and without a UTF-8 BOM on the first line).</summary>
    public ReadOnlyMemory<byte> Line { get; private set; }

    /// <summary>Whether the line last returned was longer than the cap; <see cref="Line"/> is then empty.</summary>
    public bool Overlong { get; private set; }

    /// <summary>Moves to the next line; false at the end of the stream.</summary>
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        bool discarding = false;
        while (true)
        {
            int newline = _buffer.AsSpan(_scan, _end - _scan).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                int lineEnd = _scan + newline;
                Publish(_start, lineEnd, discarding);
                _start = _scan = lineEnd + 1;
                return true;
            }
            _scan = _end;
            if (_eof)
            {
                if (_start < _end || discarding)
                {
                    Publish(_start, _end, discarding);
                    _start = _scan = _end;
                    return true;
                }
                return false;
            }
            if (_end - _start > _maxLineBytes)
            {
                // Too long to be a record: forget what we have and skip to the next line break.
                discarding = true;
                _start = _scan = _end = 0;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _scan -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, _maxLineBytes + 2L));
            }
            int read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                _eof = true;
            }
            _end += read;
        }
    }

    private void Publish(int start, int end, bool overlong)
    {
        LineNumber++;
        Overlong = overlong;
        if (overlong)
        {
            Line = ReadOnlyMemory<byte>.Empty;
            _first = false;
            return;
        }
        if (end > start && _buffer[end - 1] == (byte)'\r')
        {
            end--;
        }
        if (_first)
        {
            _first = false;
            if (end - start >= 3 && _buffer[start] == 0xEF && _buffer[start + 1] == 0xBB && _buffer[start + 2] == 0xBF)
            {
                start += 3;
            }
        }
        Line = _buffer.AsMemory(start, end - start);
    }
}
