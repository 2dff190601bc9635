using Embeddings.Encoding.Lsa;
using Embeddings.Native;

namespace Embeddings.Encoding;

/// <summary>
/// The encoders as the library facade sees them: loading a model folder from the facade's options, describing a loaded
/// model, and turning the ONNX Runtime's own exceptions into typed <see cref="EmbeddingsException"/>s. The one place
/// outside the encoders that needs the runtime binding's types, so the facade does not.
/// </summary>
internal static class LibraryModels
{
    /// <summary>The encoder of <paramref name="directory"/> (any kind) with the run settings of <paramref name="options"/>.</summary>
    public static ISentenceEncoder Load(string directory, EmbeddingModelOptions options)
    {
        var encoderOptions = new EncoderOptions
        {
            Threads = options.Threads,
            Device = options.Device == ComputeDevice.Cuda ? ExecutionProvider.Cuda : ExecutionProvider.Cpu,
            AllowCpuFallback = options.AllowCpuFallback,
            Windowing = options.Windowing,
        };
        try
        {
            return ModelFolders.Load(directory, encoderOptions);
        }
        catch (Exception e) when (TranslateRuntimeError(e) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Turns the runtime's own exceptions (not <see cref="EmbeddingsException"/>s) into <see cref="ModelRuntimeException"/> with a fix; null for any other exception.</summary>
    public static EmbeddingsException? TranslateRuntimeError(Exception e) => e switch
    {
        ExecutionProviderUnavailableException x => new ModelRuntimeException(
            x.Message + " (set AllowCpuFallback, or pass --allow-cpu-fallback, to run on CPU instead)", x),
        OnnxRuntimeNotFoundException x => new ModelRuntimeException(x.Message, x),
        OnnxRuntimeException x => new ModelRuntimeException(x.Message, x),
        _ => null,
    };

    /// <summary>What a loaded encoder is (<c>embeddings model info</c>).</summary>
    public static ModelInfo Describe(ISentenceEncoder encoder, string? directory) => encoder switch
    {
        OnnxSentenceEncoder onnx => new ModelInfo
        {
            Name = onnx.Manifest.Name,
            Directory = onnx.Manifest.Directory,
            Kind = onnx.Manifest.KindName,
            Dimension = onnx.Dimension,
            Fingerprint = onnx.Fingerprint,
            Provider = onnx.ExecutionProvider.ToString().ToLowerInvariant(),
            FromManifestFile = onnx.Manifest.FromManifestFile,
            TokenLimit = onnx.Manifest.TokenLimit,
            TokenLimitIncludesSpecialTokens = onnx.Manifest.Kind == ModelKind.SentenceTransformers,
            Pooling = onnx.Manifest.Pooling == PoolingMode.Mean ? "mean" : "cls",
            PoolingInGraph = onnx.Manifest.Kind == ModelKind.UseLite,
            Normalize = onnx.Manifest.Normalize,
            Windowing = onnx.Windowing,
            WindowTokenLimit = onnx.WindowTokenLimit,
            MaxWindowsPerText = onnx.MaxWindowsPerText,
            ModelFile = onnx.Manifest.ModelFile,
            TokenizerFiles = onnx.Manifest.TokenizerFiles,
            Inputs = [.. onnx.Manifest.Inputs.Select(p => p.Key == p.Value ? p.Key : p.Key + "=" + p.Value)],
            Output = onnx.Manifest.Output,
            Files = [.. onnx.Manifest.Files.Select(f => new ModelFileInfo(f.RelativePath, f.Bytes, f.Sha256))],
            RuntimeVersion = onnx.RuntimeVersion,
            Warning = onnx.ProviderWarning,
        },
        LsaEncoder lsa => new ModelInfo
        {
            Name = directory is null ? "lsa" : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))),
            Directory = directory is null ? null : Path.GetFullPath(directory),
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
        },
        _ => new ModelInfo
        {
            Name = encoder.GetType().Name,
            Kind = encoder.GetType().Name,
            Dimension = encoder.Dimension,
            Fingerprint = encoder.Fingerprint,
            Provider = "cpu",
        },
    };
}
