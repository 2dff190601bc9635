using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Embeddings.IO;

namespace Embeddings.Store;

/// <summary>One committed segment as the manifest lists it.</summary>
internal sealed record SegmentEntry(string File, long FirstRow, int Rows, int Records, long Bytes, ulong XxHash64, ulong VectorsXxHash64);

/// <summary>
/// The store's table of contents, <c>manifest.json</c>: <c>{"manifest": {...}, "xxh64": "..."}</c>, where the
/// checksum is the XxHash64 of the exact UTF-8 text of the inner object. It is the commit point: a commit is
/// visible exactly when the manifest naming its segment has been renamed into place. <c>model.folder</c> (optional,
/// readers that do not know it ignore it) records the model folder the store was made with, so later commands need no
/// <c>--model</c>.
/// </summary>
internal sealed record StoreManifest(
    int FormatVersion,
    string ModelFingerprint,
    int Dimension,
    long Count,
    long Rows,
    int NextSegment,
    IReadOnlyList<SegmentEntry> Segments,
    DateTimeOffset Created,
    DateTimeOffset Updated,
    string? ModelFolder = null)
{
    public const string FileName = "manifest.json";
    public const string FormatName = "embeddings-store";

    public static string PathIn(string dir) => System.IO.Path.Combine(dir, FileName);

    public void Write(string dir)
    {
        byte[] inner = SerializeInner();
        ulong hash = System.IO.Hashing.XxHash64.HashToUInt64(inner);
        AtomicFile.Write(PathIn(dir), stream =>
        {
            stream.Write("{\"manifest\":"u8);
            stream.Write(inner);
            stream.Write(System.Text.Encoding.UTF8.GetBytes($",\n\"xxh64\":\"{hash:x16}\"}}\n"));
        }, beforeRename: () => CrashPoints.Hit("manifest-before-rename"));
        CrashPoints.Hit("manifest-after-rename");
    }

    private byte[] SerializeInner()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("formatVersion", FormatVersion);
            w.WriteString("modelFingerprint", ModelFingerprint);
            w.WriteNumber("dimension", Dimension);
            if (ModelFolder is not null)
            {
                w.WriteStartObject("model");
                w.WriteString("folder", ModelFolder);
                w.WriteEndObject();
            }
            w.WriteNumber("count", Count);
            w.WriteNumber("rows", Rows);
            w.WriteNumber("nextSegment", NextSegment);
            w.WriteString("vectors", VectorFile.FileName);
            w.WriteString("created", Created.ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("updated", Updated.ToString("O", CultureInfo.InvariantCulture));
            w.WriteStartArray("segments");
            foreach (SegmentEntry s in Segments)
            {
                w.WriteStartObject();
                w.WriteString("file", s.File);
                w.WriteNumber("firstRow", s.FirstRow);
                w.WriteNumber("rows", s.Rows);
                w.WriteNumber("records", s.Records);
                w.WriteNumber("bytes", s.Bytes);
                w.WriteString("xxh64", s.XxHash64.ToString("x16", CultureInfo.InvariantCulture));
                w.WriteString("vectorsXxh64", s.VectorsXxHash64.ToString("x16", CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Reads and checks the manifest; every problem is a <see cref="DataFormatException"/> naming the file.</summary>
    public static StoreManifest Read(string dir, int supportedVersion)
    {
        string path = PathIn(dir);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new DataFormatException(path, "no store here (manifest.json missing): create one with `embeddings ingest --store DIR <files>`");
        }
        try
        {
            using JsonDocument doc = JsonDocument.Parse(bytes);
            JsonElement root = doc.RootElement;
            JsonElement inner = root.GetProperty("manifest");
            ulong expected = ulong.Parse(root.GetProperty("xxh64").GetString()!, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong actual = System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(inner.GetRawText()));
            if (actual != expected)
            {
                throw new DataFormatException(path, $"checksum mismatch (XxHash64 {actual:x16}, recorded {expected:x16}): the manifest is corrupted");
            }
            if (inner.GetProperty("format").GetString() != FormatName)
            {
                throw new DataFormatException(path, "not an embeddings store manifest");
            }
            int version = inner.GetProperty("formatVersion").GetInt32();
            if (version > supportedVersion)
            {
                throw new DataFormatException(path,
                    $"store format version {version} was written by a newer embeddings; this build reads versions up to {supportedVersion}: upgrade embeddings to open it");
            }
            if (version < 1)
            {
                throw new DataFormatException(path, $"invalid store format version {version}");
            }
            var segments = new List<SegmentEntry>();
            foreach (JsonElement s in inner.GetProperty("segments").EnumerateArray())
            {
                segments.Add(new SegmentEntry(
                    s.GetProperty("file").GetString()!,
                    s.GetProperty("firstRow").GetInt64(),
                    s.GetProperty("rows").GetInt32(),
                    s.GetProperty("records").GetInt32(),
                    s.GetProperty("bytes").GetInt64(),
                    ulong.Parse(s.GetProperty("xxh64").GetString()!, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                    ulong.Parse(s.GetProperty("vectorsXxh64").GetString()!, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            }
            return new StoreManifest(
                version,
                inner.GetProperty("modelFingerprint").GetString()!,
                inner.GetProperty("dimension").GetInt32(),
                inner.GetProperty("count").GetInt64(),
                inner.GetProperty("rows").GetInt64(),
                inner.GetProperty("nextSegment").GetInt32(),
                segments,
                DateTimeOffset.Parse(inner.GetProperty("created").GetString()!, CultureInfo.InvariantCulture),
                DateTimeOffset.Parse(inner.GetProperty("updated").GetString()!, CultureInfo.InvariantCulture),
                inner.TryGetProperty("model", out JsonElement model) && model.ValueKind == JsonValueKind.Object
                    && model.TryGetProperty("folder", out JsonElement folder) && folder.ValueKind == JsonValueKind.String
                    ? folder.GetString()
                    : null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentNullException)
        {
            throw new DataFormatException(path, "malformed manifest (" + e.Message + "): the file is corrupted");
        }
    }
}
