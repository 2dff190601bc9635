namespace Embeddings;

/// <summary>How the HNSW graph of a store's vector index holds the vectors its walk reads.</summary>
public enum HnswStorage
{
    /// <summary>
    /// One byte per dimension (per-dimension ranges fitted on the vectors), the final candidates re-scored against the
    /// store's memory-mapped float rows: scores are exact, the index holds no second copy of the vectors, and searches
    /// are faster at the float graph's recall (BENCHMARKS.md). What a new index gets.
    /// </summary>
    Int8 = 0,

    /// <summary>float32 in the graph, as the vectors came: every score of the walk is exact; four times the bytes per vector.</summary>
    Float32 = 1,
}
