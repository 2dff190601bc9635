namespace Embeddings;

/// <summary>
/// Where a <see cref="PaperLibrary"/> keeps its papers and vectors and how it searches them: the seam between the facade
/// and storage. <see cref="LocalStoreBackend"/> is the store folder with its HNSW and BM25 indexes; a PostgreSQL +
/// pgvector backend (another project, given access to the engine's internals) fills the same contract so the
/// same facade, and the hosts on it, answer from the database.
/// </summary>
/// <remarks>
/// Implementations are thread-safe: every call may run concurrently with any other, and a write (ingest) never makes
/// a read see a half-committed state: reads answer from the last committed state until the write has committed.
/// Work that needs every vector at once (topics, digests, exports) is done by the local backend only.
/// </remarks>
internal interface IPaperBackend : IDisposable
{
    /// <summary>Where the papers are, for messages and logs (a folder, a database table).</summary>
    string Location { get; }

    /// <summary>The model fingerprint the stored vectors came from; null while nothing is stored.</summary>
    string? ModelFingerprint { get; }

    /// <summary>Counts, model binding and index state.</summary>
    Task<LibraryStatus> GetStatusAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Answers a similar-paper query; <paramref name="model"/> is the library's model, loaded only when the query has
    /// free text to embed (a vector or hybrid query with <see cref="SimilarQuery.Text"/>).
    /// </summary>
    /// <exception cref="PaperNotFoundException">A paper id of the query is not stored.</exception>
    Task<SimilarResult> SimilarAsync(SimilarQuery query, EmbeddingModel model, CancellationToken cancellationToken);

    /// <summary>The stored paper with id <paramref name="id"/>, or null.</summary>
    Task<PaperDetails?> GetPaperAsync(string id, CancellationToken cancellationToken);

    /// <summary>The stored papers <paramref name="filter"/> lets through (all when null), streamed in storage order.</summary>
    IAsyncEnumerable<PaperDetails> ListPapersAsync(PaperFilter? filter, CancellationToken cancellationToken);
}
