using Embeddings.Encoding;
using Embeddings.Store;

namespace Embeddings;

/// <summary>What <see cref="EmbeddingModel.QuantizeAsync"/> wrote.</summary>
public sealed record ModelQuantizationResult
{
    /// <summary>The quantised model folder (full path).</summary>
    public required string Directory { get; init; }

    /// <summary>Its fingerprint (differs from the source's).</summary>
    public required string Fingerprint { get; init; }

    /// <summary>Weight precision: 8, or 7 for x86 CPUs without VNNI.</summary>
    public required int WeightBits { get; init; }

    /// <summary>MatMul nodes made int8.</summary>
    public required int QuantizedMatMuls { get; init; }

    /// <summary>Gemm nodes made int8.</summary>
    public required int QuantizedGemms { get; init; }

    /// <summary>Bias Adds folded into the quantised nodes.</summary>
    public required int FusedBiases { get; init; }

    /// <summary>MatMul/Gemm nodes left float (attention's activation products).</summary>
    public required int FloatMatMuls { get; init; }

    /// <summary>Size of the source ONNX file in bytes.</summary>
    public required long SourceModelBytes { get; init; }

    /// <summary>Size of the quantised ONNX file in bytes.</summary>
    public required long ModelBytes { get; init; }
}

public sealed partial class EmbeddingModel
{
    /// <summary>
    /// Writes a dynamically quantised (int8) copy of an ONNX model folder into <paramref name="outputDirectory"/>
    /// (<see cref="ModelQuantizer"/>: int8 per-channel weights of MatMul/Gemm, activations quantised at run time;
    /// embeddings, LayerNorm and pooling stay float). <paramref name="modelDirectory"/> null: the default model.
    /// </summary>
    /// <exception cref="ModelLoadException">The source is not an ONNX model folder, is already quantised, or the output exists (without <paramref name="force"/>).</exception>
    public static Task<ModelQuantizationResult> QuantizeAsync(string? modelDirectory, string outputDirectory, int? weightBits = null, bool force = false,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        return Task.Run(() =>
        {
            string source = StoreModel.ResolveModelDirectory(null, modelDirectory);
            QuantizeResult r = ModelQuantizer.Quantize(source, outputDirectory, new QuantizeOptions { WeightBits = weightBits, Overwrite = force }, progress, cancellationToken);
            return new ModelQuantizationResult
            {
                Directory = r.Directory,
                Fingerprint = r.Manifest.ComputeFingerprint(r.Manifest.Windowing, r.Manifest.MaxWindowsPerText),
                WeightBits = r.Manifest.Quantization!.WeightBits,
                QuantizedMatMuls = r.Counts.QuantizedMatMuls,
                QuantizedGemms = r.Counts.QuantizedGemms,
                FusedBiases = r.Counts.FusedBiases,
                FloatMatMuls = r.Counts.FloatMatMuls,
                SourceModelBytes = r.SourceModelBytes,
                ModelBytes = r.ModelBytes,
            };
        }, cancellationToken);
    }
}
