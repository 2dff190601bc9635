using System.Globalization;
using Embeddings.Numerics;
using Embeddings.Encoding;

namespace Embeddings.Encoding;

/// <summary>
/// One vector per text from two encoders: each part L2-normalised, weighted by a and 1 - a, concatenated,
/// and the whole renormalised. The cosine of two such vectors is
/// (a² cos₁ + (1-a)² cos₂) / (a² + (1-a)²), so HNSW and clustering work on a blend of both spaces.
/// A text that is empty for one encoder keeps the other part only (still unit length).
/// </summary>
internal sealed class HybridEncoder : ISentenceEncoder
{
    private readonly bool _ownsParts;

    private HybridEncoder(ISentenceEncoder first, ISentenceEncoder second, float firstWeight, bool ownsParts)
    {
        First = first;
        Second = second;
        FirstWeight = firstWeight;
        _ownsParts = ownsParts;
        Dimension = first.Dimension + second.Dimension;
        Fingerprint = string.Create(CultureInfo.InvariantCulture,
            $"hybrid(a={firstWeight:0.####};{first.Fingerprint};{second.Fingerprint})");
    }

    /// <summary>The first encoder (usually the neural one).</summary>
    public ISentenceEncoder First { get; }

    /// <summary>The second encoder (usually the corpus-fitted LSA).</summary>
    public ISentenceEncoder Second { get; }

    /// <summary>Weight a of the first part; the second gets 1 - a.</summary>
    public float FirstWeight { get; }

    /// <inheritdoc />
    public string Fingerprint { get; }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <summary>
    /// Combines <paramref name="first"/> (weight <paramref name="firstWeight"/>) and <paramref name="second"/>
    /// (weight 1 - a). With <paramref name="ownsParts"/>, disposing the hybrid disposes both.
    /// </summary>
    public static HybridEncoder Create(ISentenceEncoder first, ISentenceEncoder second, float firstWeight, bool ownsParts = false)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (!(firstWeight >= 0 && firstWeight <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(firstWeight), firstWeight, "the weight must be between 0 and 1");
        }
        return new HybridEncoder(first, second, firstWeight, ownsParts);
    }

    /// <summary>Combines two already computed batches of the same texts (used to reuse cached vectors).</summary>
    public static EmbeddingBatch Combine(EmbeddingBatch first, EmbeddingBatch second, float firstWeight)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.Count != second.Count)
        {
            throw new ArgumentException("both batches must hold the same texts");
        }
        int d1 = first.Dimension, d2 = second.Dimension, d = d1 + d2;
        var vectors = new float[first.Count * d];
        var truncated = new bool[first.Count];
        var empty = new bool[first.Count];
        for (int i = 0; i < first.Count; i++)
        {
            Span<float> row = vectors.AsSpan(i * d, d);
            VectorMath.ScaleToLength(first[i], firstWeight, row[..d1]);
            VectorMath.ScaleToLength(second[i], 1 - firstWeight, row[d1..]);
            VectorMath.Normalize(row);
            truncated[i] = first.Truncated[i] || second.Truncated[i];
            empty[i] = first.IsEmpty[i] && second.IsEmpty[i];
        }
        // Only the neural part reads tokens (an LSA part counts none).
        return new EmbeddingBatch(d, vectors, truncated, empty) { TokenCounts = first.TokenCounts ?? second.TokenCounts };
    }

    /// <inheritdoc />
    public async Task<EmbeddingBatch> EncodeAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        EmbeddingBatch a = await First.EncodeAsync(texts, cancellationToken).ConfigureAwait(false);
        EmbeddingBatch b = await Second.EncodeAsync(texts, cancellationToken).ConfigureAwait(false);
        return Combine(a, b, FirstWeight);
    }

    /// <summary>Disposes the parts when the hybrid owns them.</summary>
    public void Dispose()
    {
        if (_ownsParts)
        {
            First.Dispose();
            Second.Dispose();
        }
    }
}
