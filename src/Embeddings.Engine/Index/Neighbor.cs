namespace Embeddings.Index;

/// <summary>One search hit: the caller's id of the vector (the store row) and its similarity to the query.</summary>
/// <param name="Id">The id the vector was added under (for an index over a store: its row number).</param>
/// <param name="Score">Inner-product similarity (the cosine for unit vectors); higher is closer.</param>
internal readonly record struct Neighbor(int Id, float Score);

/// <summary>How similarity is measured between vectors.</summary>
internal enum SimilarityMetric
{
    /// <summary>Cosine similarity: vectors (and queries) are scaled to unit length, then compared by inner product.</summary>
    Cosine = 0,

    /// <summary>Raw inner product; vectors are used as given.</summary>
    InnerProduct = 1,
}

/// <summary>What the exact and the approximate index have in common, so callers can switch between them.</summary>
internal interface IVectorIndex
{
    /// <summary>The vector dimension.</summary>
    int Dimension { get; }

    /// <summary>How many live (searchable) vectors the index holds.</summary>
    int Count { get; }

    /// <summary>
    /// Finds the <paramref name="k"/> vectors most similar to <paramref name="query"/>, best first,
    /// keeping only ids that <paramref name="filter"/> allows (all when null).
    /// </summary>
    Neighbor[] Search(ReadOnlySpan<float> query, int k, IdFilter? filter = null);
}
