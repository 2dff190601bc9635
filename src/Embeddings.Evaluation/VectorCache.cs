using System.Globalization;
using System.IO.Hashing;
using Embeddings.Encoding;
using Embeddings.IO;

namespace Embeddings.Evaluation;

/// <summary>
/// Keeps encoder outputs between evaluation runs (a neural encode of a BEIR corpus takes minutes on a
/// few cores): one checksummed file per (encoder fingerprint, exact list of texts).
/// </summary>
internal sealed class VectorCache
{
    /// <summary>Cache entries: version 2 in the <see cref="Container"/>; version 1 files (trailer layout) still read.</summary>
    private static readonly ContainerFormat Format = ContainerFormat.Create("vector cache", "EMB-VCCH", version: 2, oldestVersion: 1,
        fix: "delete the cache folder (entries are recomputed)", trailerVersions: 1);

    private VectorCache(string directory)
    {
        Directory = directory;
    }

    /// <summary>The cache folder.</summary>
    public string Directory { get; }

    /// <summary>A cache in <paramref name="directory"/> (created when needed).</summary>
    public static VectorCache Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return new VectorCache(Path.GetFullPath(directory));
    }

    /// <summary>The cached vectors of <paramref name="texts"/> by <paramref name="encoder"/>, encoding (in chunks) on a miss.</summary>
    public async Task<EmbeddingBatch> GetOrEncodeAsync(ISentenceEncoder encoder, IReadOnlyList<string> texts,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(texts);
        string path = Path.Combine(Directory, Key(encoder.Fingerprint, texts) + ".vec");
        if (File.Exists(path))
        {
            try
            {
                return Container.Read(path, Format, c =>
                {
                    BinaryReader r = c.Binary;
                    int count = r.ReadInt32();
                    int dim = r.ReadInt32();
                    if (count != texts.Count || dim != encoder.Dimension)
                    {
                        throw new InvalidDataException("cache shape differs");
                    }
                    var vectors = new float[(long)count * dim];
                    c.ReadWords<float>(vectors);
                    var truncated = new bool[count];
                    var empty = new bool[count];
                    for (int i = 0; i < count; i++)
                    {
                        byte flags = r.ReadByte();
                        truncated[i] = (flags & 1) != 0;
                        empty[i] = (flags & 2) != 0;
                    }
                    return new EmbeddingBatch(dim, vectors, truncated, empty);
                });
            }
            catch (DataFormatException)
            {
                // A damaged cache entry is recomputed, never trusted.
            }
        }
        EmbeddingBatch batch = await EncodeInChunksAsync(encoder, texts, progress, cancellationToken).ConfigureAwait(false);
        Container.Write(path, Format, w =>
        {
            w.Write(batch.Count);
            w.Write(batch.Dimension);
            w.WriteWords<float>(batch.Vectors);
            for (int i = 0; i < batch.Count; i++)
            {
                w.Write((byte)((batch.Truncated[i] ? 1 : 0) | (batch.IsEmpty[i] ? 2 : 0)));
            }
        });
        return batch;
    }

    /// <summary>Encodes in chunks of 256 texts so progress can be shown and memory stays bounded.</summary>
    public static async Task<EmbeddingBatch> EncodeInChunksAsync(ISentenceEncoder encoder, IReadOnlyList<string> texts,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(texts);
        const int Chunk = 256;
        int dim = encoder.Dimension;
        var vectors = new float[(long)texts.Count * dim];
        var truncated = new bool[texts.Count];
        var empty = new bool[texts.Count];
        for (int start = 0; start < texts.Count; start += Chunk)
        {
            int n = Math.Min(Chunk, texts.Count - start);
            var part = new string[n];
            for (int i = 0; i < n; i++)
            {
                part[i] = texts[start + i];
            }
            EmbeddingBatch b = await encoder.EncodeAsync(part, cancellationToken).ConfigureAwait(false);
            b.Vectors.AsSpan(0, n * dim).CopyTo(vectors.AsSpan(start * dim));
            b.Truncated.CopyTo(truncated, start);
            b.IsEmpty.CopyTo(empty, start);
            progress?.Report(new WorkProgress("encoding", start + n, texts.Count, "texts"));
        }
        return new EmbeddingBatch(dim, vectors, truncated, empty);
    }

    private static string Key(string fingerprint, IReadOnlyList<string> texts)
    {
        var hash = new XxHash64();
        hash.Append(System.Text.Encoding.UTF8.GetBytes(fingerprint));
        Span<byte> separator = [0];
        foreach (string t in texts)
        {
            hash.Append(System.Text.Encoding.UTF8.GetBytes(t));
            hash.Append(separator);
        }
        return string.Create(CultureInfo.InvariantCulture, $"{hash.GetCurrentHashAsUInt64():x16}-{texts.Count}");
    }
}
