using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Embeddings.Encoding;
using Embeddings.IO;

namespace Embeddings.Store;

/// <summary>Writes a store's latest papers and vectors in formats other tools read. Outputs appear atomically.</summary>
internal static class StoreExport
{
    /// <summary>
    /// One <c>{"id", "title", "abstract", "authors"?, "date"?, "categories"?, "url"?, "vector": [...]}</c> per paper, in
    /// row order: the paper as the JSONL input reader takes it (so an export is also an input of <c>embed</c> and
    /// <c>ingest</c>, which pass over <c>vector</c>), with its vector. Absent fields are unknown.
    /// </summary>
    public static async Task<long> WriteJsonlAsync(PaperStore store, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        long count = 0;
        await WriteAtomicallyAsync(path, async stream =>
        {
            using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { SkipValidation = true });
            float[] vector = new float[store.Dimension];
            await foreach (StoredPaper paper in store.ReadPapersAsync(cancellationToken).ConfigureAwait(false))
            {
                store.ReadRow(paper.Row, vector);
                json.WriteStartObject();
                json.WriteString("id", paper.Paper.Id);
                json.WriteString("title", paper.Paper.Title);
                json.WriteString("abstract", paper.Paper.Abstract);
                WriteStringsIfKnown(json, "authors", paper.Paper.Authors);
                // A date without a year ("Mar 14") is written as worded: the reader keeps it as such again.
                if ((paper.Paper.Date ?? paper.Paper.DateText) is { } date)
                {
                    json.WriteString("date", date);
                }
                WriteStringsIfKnown(json, "categories", paper.Paper.Categories);
                if (paper.Paper.Url is { } url)
                {
                    json.WriteString("url", url);
                }
                json.WriteStartArray("vector");
                foreach (float v in vector)
                {
                    json.WriteNumberValue(v);
                }
                json.WriteEndArray();
                json.WriteEndObject();
                json.Flush();
                stream.WriteByte((byte)'\n');
                json.Reset();
                count++;
            }
        }).ConfigureAwait(false);
        return count;
    }

    private static void WriteStringsIfKnown(Utf8JsonWriter json, string name, IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            return;
        }
        json.WriteStartArray(name);
        foreach (string value in values)
        {
            json.WriteStringValue(value);
        }
        json.WriteEndArray();
    }

    /// <summary>
    /// A numpy <c>.npy</c> (format 1.0) float32 little-endian matrix of the latest vectors, count x dimension, in row
    /// order, and beside it <see cref="IdsPathFor"/> with one id per line in the same order. Returns the row count.
    /// </summary>
    public static long WriteNpy(PaperStore store, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        int[] rows = store.GetLiveRows();
        int dim = store.Dimension;
        using (PendingFile file = AtomicFile.BeginOutput(path))
        {
            Stream stream = file.Stream;
            string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows.Length.ToString(CultureInfo.InvariantCulture)}, {dim.ToString(CultureInfo.InvariantCulture)}), }}";
            int unpadded = 10 + dict.Length + 1;
            int padded = (unpadded + 63) / 64 * 64;
            string header = dict + new string(' ', padded - unpadded) + "\n";
            Span<byte> preamble = stackalloc byte[10];
            preamble[0] = 0x93;
            "NUMPY"u8.CopyTo(preamble[1..]);
            preamble[6] = 1;
            preamble[7] = 0;
            BinaryPrimitives.WriteUInt16LittleEndian(preamble[8..], (ushort)header.Length);
            stream.Write(preamble);
            stream.Write(System.Text.Encoding.ASCII.GetBytes(header));
            float[] vector = new float[dim];
            foreach (int row in rows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                store.ReadRow(row, vector);
                stream.Write(VectorFile.AsBytes(vector));
            }
            file.Publish();
        }
        var ids = new StringBuilder();
        foreach (int row in rows)
        {
            ids.Append(store.IdOfRow(row)).Append('\n');
        }
        using (PendingFile idsFile = AtomicFile.BeginOutput(IdsPathFor(path)))
        {
            idsFile.Stream.Write(System.Text.Encoding.UTF8.GetBytes(ids.ToString()));
            idsFile.Publish();
        }
        return rows.Length;
    }

    /// <summary>
    /// The binary vector file of <c>embeddings embed</c> (docs/formats.md): every latest vector with its id, flags and the
    /// store's model fingerprint. Returns the row count.
    /// </summary>
    public static async Task<long> WriteBinAsync(PaperStore store, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        using IEmbeddingWriter writer = EmbeddingWriter.Create(EmbeddingFileFormat.Bin, path, store.Dimension, store.ModelFingerprint);
        float[] vector = new float[store.Dimension];
        await foreach (StoredPaper paper in store.ReadPapersAsync(cancellationToken).ConfigureAwait(false))
        {
            store.ReadRow(paper.Row, vector);
            writer.Write(paper.Paper.Id, vector, (paper.Flags & StoredPaperFlags.Truncated) != 0, (paper.Flags & StoredPaperFlags.Empty) != 0);
        }
        writer.Complete();
        return writer.Count;
    }

    /// <summary>The ids file written beside an <c>.npy</c> export: <c>vectors.npy</c> → <c>vectors.ids.txt</c>.</summary>
    public static string IdsPathFor(string npyPath) => Path.ChangeExtension(npyPath, ".ids.txt");

    /// <summary>Writes a user-named output through <see cref="AtomicFile.BeginOutput"/> (atomic, links followed, pipes written through).</summary>
    private static async Task WriteAtomicallyAsync(string path, Func<Stream, Task> write)
    {
        using PendingFile file = AtomicFile.BeginOutput(path);
        await write(file.Stream).ConfigureAwait(false);
        file.Publish();
    }
}
