using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Embeddings.Store;

/// <summary>Little-endian writer over a growing buffer; strings are an int32 UTF-8 byte length (-1 for null) and the bytes.</summary>
internal sealed class RecordWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

    public void Clear() => _buffer.ResetWrittenCount();

    public void WriteZeros(int count)
    {
        _buffer.GetSpan(count)[..count].Clear();
        _buffer.Advance(count);
    }

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void WriteUInt128(UInt128 value)
    {
        WriteInt64((long)(ulong)value);
        WriteInt64((long)(ulong)(value >> 64));
    }

    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(value.Length);
        Span<byte> span = _buffer.GetSpan(4 + max);
        int n = System.Text.Encoding.UTF8.GetBytes(value, span[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, n);
        _buffer.Advance(4 + n);
    }

    public void WriteStrings(IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            WriteInt32(-1);
            return;
        }
        WriteInt32(values.Count);
        foreach (string v in values)
        {
            WriteString(v);
        }
    }

    /// <summary>Reserves an int32 to be filled by <see cref="PatchInt32"/>.</summary>
    public int Reserve32()
    {
        int at = _buffer.WrittenCount;
        WriteInt32(0);
        return at;
    }

    public void PatchInt32(int at, int value) =>
        BinaryPrimitives.WriteInt32LittleEndian(System.Runtime.InteropServices.MemoryMarshal.AsMemory(_buffer.WrittenMemory).Span[at..], value);
}

/// <summary>Reads what <see cref="RecordWriter"/> wrote; a read past the end means a torn record.</summary>
internal ref struct RecordReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    public readonly int Position => _pos;

    public readonly bool AtEnd => _pos == _data.Length;

    public byte ReadByte() => Take(1)[0];

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public UInt128 ReadUInt128()
    {
        ulong lo = (ulong)ReadInt64();
        ulong hi = (ulong)ReadInt64();
        return new UInt128(hi, lo);
    }

    public string? ReadString()
    {
        int n = ReadInt32();
        if (n == -1)
        {
            return null;
        }
        if (n < 0)
        {
            throw new FormatException("negative string length");
        }
        return System.Text.Encoding.UTF8.GetString(Take(n));
    }

    public string[]? ReadStrings()
    {
        int n = ReadInt32();
        if (n == -1)
        {
            return null;
        }
        if (n < 0 || n > _data.Length - _pos)
        {
            throw new FormatException("bad list length");
        }
        var list = new string[n];
        for (int i = 0; i < n; i++)
        {
            list[i] = ReadString() ?? throw new FormatException("null item in a list");
        }
        return list;
    }

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n > _data.Length - _pos)
        {
            throw new FormatException("record ends early");
        }
        ReadOnlySpan<byte> s = _data.Slice(_pos, n);
        _pos += n;
        return s;
    }
}
