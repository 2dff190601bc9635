using Microsoft.Extensions.Logging;

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
    /// Answers a similar-paper query; <paramref name="model"/> is the library's model, loaded only when the query needs
    /// it (<see cref="SimilarQueryModel.EncoderFor"/>: free text to embed, or hits to explain by their closest sentence).
    /// </summary>
    /// <exception cref="PaperNotFoundException">A paper id of the query is not stored.</exception>
    Task<SimilarResult> SimilarAsync(SimilarQuery query, EmbeddingModel model, CancellationToken cancellationToken);

    /// <summary>The stored paper with id <paramref name="id"/>, or null.</summary>
    Task<PaperDetails?> GetPaperAsync(string id, CancellationToken cancellationToken);

    /// <summary>The stored papers <paramref name="filter"/> lets through (all when null), streamed in storage order.</summary>
    IAsyncEnumerable<PaperDetails> ListPapersAsync(PaperFilter? filter, CancellationToken cancellationToken);

    /// <summary>
    /// Loads the model the stored vectors came from, for free-text queries and <see cref="PaperLibrary.Embeddings"/>, with
    /// the run settings of <paramref name="options"/>; null (the default) lets the library load the model folder the
    /// options name. A backend that records only a fingerprint (a database table) finds the local folder that has it.
    /// </summary>
    (Encoding.ISentenceEncoder Encoder, string? Directory)? LoadModel(EmbeddingModelOptions options) => null;
}

/// <summary>
/// Opens a backend other than the store folder for <see cref="PaperLibrary.OpenAsync(PaperLibraryOptions, CancellationToken)"/>;
/// set on <see cref="PaperLibraryOptions"/> by the backend's own package (<c>options.UsePostgres(...)</c> in
/// Embeddings.Postgres), which is how the engine opens a backend it does not reference. Immutable: options are copied.
/// </summary>
internal interface IPaperBackendProvider
{
    /// <summary>The backend's name for messages ("PostgreSQL").</summary>
    string Name { get; }

    /// <summary>The problems with the backend's settings, one line each; empty when they are valid.</summary>
    IReadOnlyList<string> Validate();

    /// <summary>Connects to the backend (checking that it holds papers) for a library with <paramref name="options"/>.</summary>
    Task<IPaperBackend> OpenAsync(PaperLibraryOptions options, ILogger logger, CancellationToken cancellationToken);
}
