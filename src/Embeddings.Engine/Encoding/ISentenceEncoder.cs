using Embeddings.Numerics;

namespace Embeddings.Encoding;

/// <summary>
/// Turns texts into fixed-size vectors. Implemented by the ONNX encoders (USE-lite, sentence-transformers)
/// and by the corpus-fitted LSA encoder, so every consumer (store, index, topics) works with any of them.
/// Implementations are thread-safe and long-lived.
/// </summary>
internal interface ISentenceEncoder : IDisposable
{
    /// <summary>
    /// A stable identity of the model and its settings (hash of the model files and the options that change
    /// vectors). Stores and indexes record it so vectors of different models are never mixed.
    /// </summary>
    string Fingerprint { get; }

    /// <summary>Vector length.</summary>
    int Dimension { get; }

    /// <summary>
    /// Encodes <paramref name="texts"/>. The vector of a text does not depend on the batch it is in.
    /// Empty or whitespace-only texts never reach the model: they get a zero vector and <c>IsEmpty</c>.
    /// </summary>
    Task<EmbeddingBatch> EncodeAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);

    /// <summary>
    /// Text the model was trained to see before a search query (arctic-embed: "Represent this sentence for searching
    /// relevant passages: "), or null (default) when queries and documents are embedded alike. Whoever embeds a query
    /// (free text searched against stored documents, never the documents) puts it first: <see cref="SentenceEncoderExtensions.QueryText"/>.
    /// </summary>
    string? QueryPrompt => null;
}

/// <summary>Helpers over <see cref="ISentenceEncoder"/>.</summary>
internal static class SentenceEncoderExtensions
{
    /// <summary>The text to embed for the search query <paramref name="query"/>: the model's query prompt, then the query.</summary>
    public static string QueryText(this ISentenceEncoder encoder, string query)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(query);
        return encoder.QueryPrompt is { Length: > 0 } prompt ? prompt + query : query;
    }
}

/// <summary>
/// The vectors of a batch of texts (a <see cref="VectorSet"/>, one row per text in input order) with what the
/// encoder knows of each text: whether it was truncated and whether it was empty.
/// </summary>
internal sealed class EmbeddingBatch
{
    /// <summary>Wraps already computed rows (not copied).</summary>
    public EmbeddingBatch(int dimension, float[] vectors, bool[] truncated, bool[] isEmpty)
    {
        ArgumentNullException.ThrowIfNull(truncated);
        ArgumentNullException.ThrowIfNull(isEmpty);
        Rows = VectorSet.Wrap(vectors, dimension);
        if (Rows.Count != truncated.Length || isEmpty.Length != truncated.Length)
        {
            throw new ArgumentException("vectors must hold dimension x count floats and one flag of each kind per text");
        }
        Truncated = truncated;
        IsEmpty = isEmpty;
    }

    /// <summary>The vectors, one row per text.</summary>
    public VectorSet Rows { get; }

    /// <summary>Number of texts.</summary>
    public int Count => Rows.Count;

    /// <summary>Vector length.</summary>
    public int Dimension => Rows.Dimension;

    /// <summary>Row-major vectors, <see cref="Count"/> x <see cref="Dimension"/> (the array under <see cref="Rows"/>; do not modify).</summary>
    public float[] Vectors => Rows.RawData;

    /// <summary>Whether some of the text did not reach the model (over the token limit even after windowing).</summary>
    public bool[] Truncated { get; }

    /// <summary>Whether the text was empty or whitespace only (its vector is all zeros).</summary>
    public bool[] IsEmpty { get; }

    /// <summary>
    /// Tokens the model read for each text, special tokens included (<c>[CLS]</c>/<c>[SEP]</c> of every window); null
    /// when the encoder does not count tokens. Hosts report these as usage (OpenAI's <c>prompt_tokens</c>).
    /// </summary>
    public int[]? TokenCounts { get; init; }

    /// <summary>The vector of text <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> this[int index] => Rows[index];
}
