namespace Embeddings.Index;

/// <summary>How an <see cref="HnswIndex"/> stores the vectors its graph walk reads.</summary>
internal enum HnswQuantization
{
    /// <summary>float32 in the graph: every score of the walk is exact. 4 bytes per dimension per vector.</summary>
    None = 0,

    /// <summary>
    /// One byte per dimension in the graph (per-dimension ranges fitted on the vectors): the walk reads a quarter of
    /// the memory per visited node and scores with integer dot products (AVX-VNNI where the CPU has it); the final
    /// candidates are re-scored with the exact float vectors, so returned scores are exact.
    /// </summary>
    Int8 = 1,
}
