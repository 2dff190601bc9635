using System.Globalization;

namespace Embeddings;

/// <summary>Where the model runs.</summary>
public enum ComputeDevice
{
    /// <summary>The CPU (default).</summary>
    Cpu,

    /// <summary>An NVIDIA GPU through CUDA (needs a CUDA build of ONNX Runtime).</summary>
    Cuda,
}

/// <summary>
/// Which model to load and how to run it. Used by <see cref="PaperLibraryOptions"/> (a library's model) and by
/// <see cref="EmbeddingModel.LoadAsync(EmbeddingModelOptions, CancellationToken)"/> (a model without a store).
/// </summary>
public class EmbeddingModelOptions
{
    /// <summary>The environment variable that names the default model folder.</summary>
    public const string ModelDirectoryVariable = Encoding.SentenceEncoder.ModelVariable;

    /// <summary>
    /// Model folder: an ONNX model (our <c>embeddings-model.json</c> manifest or a sentence-transformers export) or a
    /// corpus-fitted LSA model. Null: the <c>EMBEDDINGS_MODEL</c> environment variable, else the repository's default
    /// model folder.
    /// </summary>
    public string? ModelDirectory { get; set; }

    /// <summary>Threads for the model; 0 (default) uses every core.</summary>
    public int Threads { get; set; }

    /// <summary>CPU (default) or CUDA.</summary>
    public ComputeDevice Device { get; set; } = ComputeDevice.Cpu;

    /// <summary>
    /// Whether many callers encode at once, as in a server (default false; <c>AddPaperLibraryServer</c> sets it). True runs each model
    /// run on one thread, several side by side, which serves concurrent requests better; false runs a BERT-shaped
    /// model's batches one at a time over all threads, which is faster for one caller (docs/encoder.md). The vectors
    /// are the same either way.
    /// </summary>
    public bool ConcurrentCallers { get; set; }

    /// <summary>With <see cref="ComputeDevice.Cuda"/>: run on CPU with a warning (logged, and in <see cref="ModelInfo.Warning"/>) when CUDA cannot be used, instead of failing.</summary>
    public bool AllowCpuFallback { get; set; }

    /// <summary>
    /// Sentence windowing of texts longer than the model reads: null (default) follows the model folder; false cuts
    /// long texts to the model's token limit. Changes the vectors, so a store records it in its model fingerprint.
    /// </summary>
    public bool? Windowing { get; set; }

    /// <summary>The problems with these settings, one line each; empty when they are valid.</summary>
    public virtual IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Threads < 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(Threads)} must be 0 (all cores) or more, not {Threads}."));
        }
        if (!Enum.IsDefined(Device))
        {
            problems.Add($"{nameof(Device)} must be Cpu or Cuda, not {Device}.");
        }
        if (ModelDirectory is { Length: 0 })
        {
            problems.Add($"{nameof(ModelDirectory)} is empty; leave it null for the default model.");
        }
        return problems;
    }

    internal void ThrowIfInvalid(string what)
    {
        IReadOnlyList<string> problems = Validate();
        if (problems.Count > 0)
        {
            throw new InvalidRequestException($"{what} are not valid: " + string.Join(" ", problems));
        }
    }
}

/// <summary>
/// Settings of <see cref="PaperLibrary.OpenAsync(PaperLibraryOptions, CancellationToken)"/>: the store folder, the model
/// and how search indexes are built. Settable so hosts can bind it from configuration
/// (<c>services.AddPaperLibrary(o =&gt; ...)</c>); the library copies it when it opens, so later changes have no effect.
/// A library can answer from a database instead of a store folder: <c>options.UsePostgres(connectionString)</c> (the
/// Embeddings.Postgres package) needs no <see cref="StoreDirectory"/>.
/// </summary>
public sealed class PaperLibraryOptions : EmbeddingModelOptions
{
    /// <summary>
    /// The store folder (required, unless the library answers from a database). It need not exist yet: the first ingest
    /// creates it for the model.
    /// </summary>
    public string StoreDirectory { get; set; } = "";

    /// <summary>Never write to the store folder: ingesting is refused and search indexes are kept in memory only.</summary>
    public bool ReadOnly { get; set; }

    /// <summary>Check the checksum of every stored vector when the store is opened (reads the whole vector file once). Default true.</summary>
    public bool VerifyOnOpen { get; set; } = true;

    /// <summary>HNSW links per node (M) of the vector index. Changing it rebuilds the index.</summary>
    public int HnswM { get; set; } = 16;

    /// <summary>HNSW build breadth. Changing it rebuilds the index.</summary>
    public int HnswEfConstruction { get; set; } = 200;

    /// <summary>
    /// How the HNSW graph holds vectors. Null (default): a new index is <see cref="Embeddings.HnswStorage.Int8"/> and an
    /// index already on disk keeps the storage it was built with. Set: an index on disk with the other storage is
    /// rebuilt, as when <see cref="HnswM"/> changes.
    /// </summary>
    public HnswStorage? HnswStorage { get; set; }

    /// <summary>Threads for building the indexes; 0 (default) uses every core.</summary>
    public int IndexThreads { get; set; }

    /// <summary>A test hook: builds the encoder instead of loading <see cref="EmbeddingModelOptions.ModelDirectory"/>.</summary>
    internal Func<Encoding.ISentenceEncoder>? EncoderFactory { get; set; }

    /// <summary>Another backend than the store folder (set by <c>UsePostgres</c>); null for the store folder.</summary>
    internal IPaperBackendProvider? Backend { get; set; }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(base.Validate());
        if (Backend is { } backend)
        {
            if (!string.IsNullOrWhiteSpace(StoreDirectory))
            {
                problems.Add($"{nameof(StoreDirectory)} and {backend.Name} are exclusive: the library answers from one of them; leave {nameof(StoreDirectory)} empty.");
            }
            problems.AddRange(backend.Validate());
        }
        else if (string.IsNullOrWhiteSpace(StoreDirectory))
        {
            problems.Add($"{nameof(StoreDirectory)} is required: the folder of the paper store (it is created by the first ingest).");
        }
        if (HnswM is < 2 or > 128)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(HnswM)} must be between 2 and 128, not {HnswM}."));
        }
        if (HnswEfConstruction < HnswM)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(HnswEfConstruction)} ({HnswEfConstruction}) must be at least {nameof(HnswM)} ({HnswM})."));
        }
        if (HnswStorage is { } storage && !Enum.IsDefined(storage))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(HnswStorage)} must be Int8 or Float32, not {(int)storage}."));
        }
        if (IndexThreads < 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(IndexThreads)} must be 0 (all cores) or more, not {IndexThreads}."));
        }
        return problems;
    }

    internal PaperLibraryOptions Copy() => (PaperLibraryOptions)MemberwiseClone();
}
