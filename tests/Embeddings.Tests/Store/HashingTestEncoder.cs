using System.IO.Hashing;
using System.Text;
using Embeddings.Encoding;
using Embeddings.Numerics;

namespace Embeddings.Tests.Store;

/// <summary>
/// TEST DOUBLE, not a model: hashes each word of a text into one of <see cref="Dimension"/> buckets and L2-normalises.
/// Deterministic and fast, so store mechanics can be tested without ONNX. Counts the texts it was asked to embed.
/// </summary>
internal sealed class HashingTestEncoder(int dimension = 16, string fingerprint = "test-double:hashing-words:16") : ISentenceEncoder
{
    private long _encoded;

    public string Fingerprint { get; } = fingerprint;

    public int Dimension { get; } = dimension;

    public long Encoded => Interlocked.Read(ref _encoded);

    public static float[] Embed(string text, int dimension)
    {
        float[] v = new float[dimension];
        foreach (string word in text.Split([' ', '\n', '.', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            ulong h = XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(word.ToLowerInvariant()));
            v[(int)(h % (ulong)dimension)] += (h & 1UL << 40) != 0 ? 1f : -1f;
        }
        VectorMath.Normalize(v);
        return v;
    }

    public Task<EmbeddingBatch> EncodeAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        float[] all = new float[texts.Count * Dimension];
        bool[] empty = new bool[texts.Count];
        for (int i = 0; i < texts.Count; i++)
        {
            Embed(texts[i], Dimension).CopyTo(all, i * Dimension);
            empty[i] = string.IsNullOrWhiteSpace(texts[i]);
        }
        Interlocked.Add(ref _encoded, texts.Count);
        return Task.FromResult(new EmbeddingBatch(Dimension, all, new bool[texts.Count], empty));
    }

    public void Dispose()
    {
    }
}
