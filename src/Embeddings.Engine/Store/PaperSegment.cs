using System.Buffers.Binary;
using System.IO.Hashing;
using Embeddings.Corpus;
using Embeddings.IO;

namespace Embeddings.Store;

/// <summary>Kinds of record in a papers segment.</summary>
internal enum RecordKind : byte
{
    /// <summary>A paper revision with its vector row.</summary>
    Paper = 1,

    /// <summary>An already stored paper seen again in another dump: adds the dump to its sources, no vector.</summary>
    Sighting = 2,
}

/// <summary>Flags stored with a paper revision.</summary>
[Flags]
internal enum StoredPaperFlags : byte
{
    /// <summary>Nothing special.</summary>
    None = 0,

    /// <summary>Part of the text did not reach the model.</summary>
    Truncated = 1,

    /// <summary>The embedded text was empty (zero vector).</summary>
    Empty = 2,
}

/// <summary>What a scan of a segment keeps of each record: identity and bookkeeping, not the text.</summary>
internal struct RecordHead
{
    public RecordKind Kind;
    public long Row;
    public string Id;
    public int Revision;
    public long FirstSeenMs;
    public UInt128 Hash;
    public StoredPaperFlags Flags;
    public string[] Sources;
    public long Offset;
}

/// <summary>
/// A papers segment: the records of one commit. Versions 2 and 3 are a <see cref="Container"/> (magic "EMBPSEG1")
/// whose payload is: u32 record count, i64 first row, i32 rows, u32 reserved, then the records. Version 1 (still read)
/// had its own 32-byte header (magic "EMBPSEG1", u32 version 1, u32 record count, i64 first row, i32 rows, u32
/// reserved) followed by the same records as version 2. Per record: u32 payload length and the payload:
/// u8 kind; for a paper: i64 row, str id, i32 revision, i64 first-seen (Unix ms), u128 content hash, u8 flags,
/// str[] sources, str title, str abstract, str? date, i32 author count (-1 none), str[]? authors, str[]? categories,
/// and from version 3 on: str? url, str? date text, str? source file, i64 source line (0 unknown);
/// for a sighting: str id, i64 time (Unix ms), str source. Version 3 dates are validated ISO 8601 (or null, with the
/// input's wording in the date text); dates of older versions were stored as written and are validated on reading.
/// Strings are an i32 UTF-8 byte length (-1 null) and the bytes; lists an i32 count (-1 null) and the strings.
/// The file's length and XxHash64 are also in the manifest, so a torn, altered or swapped segment is found on open.
/// </summary>
internal static class PaperSegment
{
    /// <summary>Bytes before the first record in a segment this build writes (container header + segment fields).</summary>
    public const int HeaderBytes = Container.HeaderBytes + FieldBytes;
    public const int Version = 3;
    private const int FieldBytes = 20;
    private const int Version1HeaderBytes = 32;

    internal static readonly ContainerFormat Format = ContainerFormat.Create("papers segment", "EMBPSEG1", Version, oldestVersion: 1,
        fix: "restore the store from a backup, or re-ingest into a new store");

    public static string FileName(int number) => $"seg-{number:D6}.papers";

    /// <summary>Fills the segment fields and the container header of a segment built in memory (records from <see cref="HeaderBytes"/> on).</summary>
    public static void Seal(Span<byte> segment, int recordCount, long firstRow, int rows)
    {
        Span<byte> fields = segment[Container.HeaderBytes..HeaderBytes];
        fields.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(fields, recordCount);
        BinaryPrimitives.WriteInt64LittleEndian(fields[4..], firstRow);
        BinaryPrimitives.WriteInt32LittleEndian(fields[12..], rows);
        Container.Seal(Format, segment);
    }

    /// <summary>Version, record count, first row, rows and where the records start, for a segment of any version (checked).</summary>
    public static (int Records, long FirstRow, int Rows, int RecordsStart, int Version) Layout(string path, byte[] bytes)
    {
        ReadOnlySpan<byte> span = bytes;
        if (span.Length >= Version1HeaderBytes && span[..8].SequenceEqual(Format.Magic) && BinaryPrimitives.ReadUInt32LittleEndian(span[8..]) == 1)
        {
            return (BinaryPrimitives.ReadInt32LittleEndian(span[12..]), BinaryPrimitives.ReadInt64LittleEndian(span[16..]),
                BinaryPrimitives.ReadInt32LittleEndian(span[24..]), Version1HeaderBytes, 1);
        }
        (uint version, ReadOnlyMemory<byte> payload) = Container.Decode(path, Format, bytes);
        if (payload.Length < FieldBytes)
        {
            throw new DataFormatException(path, "segment payload too short for its fields: the file is corrupt");
        }
        ReadOnlySpan<byte> fields = payload.Span;
        return (BinaryPrimitives.ReadInt32LittleEndian(fields), BinaryPrimitives.ReadInt64LittleEndian(fields[4..]),
            BinaryPrimitives.ReadInt32LittleEndian(fields[12..]), HeaderBytes, (int)version);
    }

    public static void AppendPaper(RecordWriter w, long row, StoredPaper paper)
    {
        int lengthAt = w.Reserve32();
        int start = w.Length;
        w.WriteByte((byte)RecordKind.Paper);
        w.WriteInt64(row);
        w.WriteString(paper.Paper.Id);
        w.WriteInt32(paper.Revision);
        w.WriteInt64(paper.FirstSeen.ToUnixTimeMilliseconds());
        w.WriteUInt128(paper.ContentHash);
        w.WriteByte((byte)paper.Flags);
        w.WriteStrings(paper.Sources);
        w.WriteString(paper.Paper.Title);
        w.WriteString(paper.Paper.Abstract);
        w.WriteString(paper.Paper.Date);
        w.WriteInt32(paper.Paper.AuthorCount ?? -1);
        w.WriteStrings(paper.Paper.Authors);
        w.WriteStrings(paper.Paper.Categories);
        w.WriteString(paper.Paper.Url);
        w.WriteString(paper.Paper.DateText);
        w.WriteString(paper.SourceFile);
        w.WriteInt64(paper.SourceLine);
        w.PatchInt32(lengthAt, w.Length - start);
    }

    public static void AppendSighting(RecordWriter w, string id, long timeMs, string source)
    {
        int lengthAt = w.Reserve32();
        int start = w.Length;
        w.WriteByte((byte)RecordKind.Sighting);
        w.WriteString(id);
        w.WriteInt64(timeMs);
        w.WriteString(source);
        w.PatchInt32(lengthAt, w.Length - start);
    }

    /// <summary>Reads the head of the record payload (kind, identity, bookkeeping).</summary>
    public static RecordHead ReadHead(ReadOnlySpan<byte> payload, long offset)
    {
        var r = new RecordReader(payload);
        var head = new RecordHead { Offset = offset, Kind = (RecordKind)r.ReadByte() };
        switch (head.Kind)
        {
            case RecordKind.Paper:
                head.Row = r.ReadInt64();
                head.Id = r.ReadString() ?? throw new FormatException("null id");
                head.Revision = r.ReadInt32();
                head.FirstSeenMs = r.ReadInt64();
                head.Hash = r.ReadUInt128();
                head.Flags = (StoredPaperFlags)r.ReadByte();
                head.Sources = r.ReadStrings() ?? [];
                break;
            case RecordKind.Sighting:
                head.Row = -1;
                head.Id = r.ReadString() ?? throw new FormatException("null id");
                head.FirstSeenMs = r.ReadInt64();
                head.Sources = [r.ReadString() ?? throw new FormatException("null source")];
                break;
            default:
                throw new FormatException($"unknown record kind {(byte)head.Kind}");
        }
        return head;
    }

    /// <summary>
    /// Reads a whole paper record (the payload after the length) of a segment of <paramref name="version"/>, with the
    /// file and line its text was read from (null and 0 before version 3). Records of older versions get the rules of
    /// today's readers: dates validated (wording that is no date moves to the date text), links derived from arXiv ids.
    /// </summary>
    public static (Paper Paper, RecordHead Head, string? SourceFile, long SourceLine) ReadPaper(ReadOnlySpan<byte> payload, long offset, int version)
    {
        RecordHead head = ReadHead(payload, offset);
        if (head.Kind != RecordKind.Paper)
        {
            throw new FormatException("not a paper record");
        }
        var r = new RecordReader(payload);
        // Skip the head again with the same reader to reach the text fields.
        r.ReadByte();
        r.ReadInt64();
        r.ReadString();
        r.ReadInt32();
        r.ReadInt64();
        r.ReadUInt128();
        r.ReadByte();
        r.ReadStrings();
        string title = r.ReadString() ?? "";
        string abstractText = r.ReadString() ?? "";
        string? date = r.ReadString();
        int authorCount = r.ReadInt32();
        string[]? authors = r.ReadStrings();
        string[]? categories = r.ReadStrings();
        if (version < 3)
        {
            // Stored as the input wrote it: keep only a real date as the date.
            string? written = date;
            date = written is not null && PaperMetadata.TryParseDate(written, out string? iso) == PaperMetadata.DateKind.Dated ? iso : null;
            var legacy = new Paper(head.Id, title, abstractText, authors, date, categories, authorCount < 0 ? null : authorCount,
                PaperMetadata.ArxivAbsUrl(head.Id), date is null ? written : null);
            return (legacy, head, null, 0);
        }
        string? url = r.ReadString();
        string? dateText = r.ReadString();
        string? sourceFile = r.ReadString();
        long sourceLine = r.ReadInt64();
        var paper = new Paper(head.Id, title, abstractText, authors, date, categories, authorCount < 0 ? null : authorCount, url, dateText);
        return (paper, head, sourceFile, sourceLine);
    }

    /// <summary>
    /// Reads a segment file, checking its length, checksum and header against the manifest entry, and hands each record
    /// head to <paramref name="onRecord"/>; returns the segment's format version. Throws <see cref="DataFormatException"/>
    /// naming the file when anything is off.
    /// </summary>
    public static int Scan(string path, SegmentEntry entry, Action<RecordHead> onRecord)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new DataFormatException(path, "segment listed in the manifest is missing: the store is incomplete (restore it from a backup, or re-ingest into a new store)");
        }
        if (bytes.LongLength != entry.Bytes)
        {
            throw new DataFormatException(path, $"segment is {bytes.LongLength} bytes but the manifest says {entry.Bytes}: the file is torn or was modified");
        }
        ulong hash = XxHash64.HashToUInt64(bytes);
        if (hash != entry.XxHash64)
        {
            throw new DataFormatException(path, $"checksum mismatch (XxHash64 {hash:x16}, manifest {entry.XxHash64:x16}): the file is corrupted");
        }
        ReadOnlySpan<byte> span = bytes;
        (int records, long firstRow, int rows, int recordsStart, int version) = Layout(path, bytes);
        if (firstRow != entry.FirstRow || rows != entry.Rows || records != entry.Records)
        {
            throw new DataFormatException(path, $"segment header (rows {firstRow}+{rows}, {records} records) disagrees with the manifest");
        }
        long pos = recordsStart;
        try
        {
            for (int i = 0; i < records; i++)
            {
                int length = BinaryPrimitives.ReadInt32LittleEndian(span.Slice((int)pos, 4));
                RecordHead head = ReadHead(span.Slice((int)pos + 4, length), pos);
                onRecord(head);
                pos += 4 + length;
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException)
        {
            throw new DataFormatException(path, $"malformed record at byte {pos}: {e.Message}");
        }
        if (pos != span.Length)
        {
            throw new DataFormatException(path, $"{span.Length - pos} bytes after the last record");
        }
        return version;
    }
}
