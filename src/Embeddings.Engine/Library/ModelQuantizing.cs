using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Store;

namespace Embeddings;

/// <summary>What <see cref="EmbeddingModel.QuantizeAsync(string?, string, ModelQuantizeOptions, IProgress{WorkProgress}?, CancellationToken)"/> wrote.</summary>
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

    /// <summary>Texts the activation scales were calibrated on (static int8), or 0 (dynamic: scales computed on each run).</summary>
    public int CalibrationTexts { get; init; }
}

/// <summary>Settings of <see cref="EmbeddingModel.QuantizeAsync(string?, string, ModelQuantizeOptions, IProgress{WorkProgress}?, CancellationToken)"/>.</summary>
public sealed record ModelQuantizeOptions
{
    /// <summary>8, or 7 for x86 CPUs without VNNI (whose int8 kernels can saturate); null: 8 with VNNI or on Arm, else 7.</summary>
    public int? WeightBits { get; init; }

    /// <summary>Replace the output folder when it exists.</summary>
    public bool Force { get; init; }

    /// <summary>
    /// Paper files (dumps, JSONL or CSV, as <c>embed</c> reads them) whose texts fix the activation scales: static
    /// int8, where a text's vector depends only on the text. Empty: dynamic int8, scales computed on each run from
    /// the whole batch tensor, so a text's vector moves slightly with the other texts of its batch (docs/encoder.md).
    /// The first 1,000 distinct papers are read; give texts like those the model will embed.
    /// </summary>
    public IReadOnlyList<string> CalibrationFiles { get; init; } = [];
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
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default) =>
        QuantizeAsync(modelDirectory, outputDirectory, new ModelQuantizeOptions { WeightBits = weightBits, Force = force }, progress, cancellationToken);

    /// <summary>
    /// Writes an int8 copy of an ONNX model folder into <paramref name="outputDirectory"/>: int8 per-channel weights of
    /// MatMul/Gemm; activation scales fixed by calibration on <see cref="ModelQuantizeOptions.CalibrationFiles"/>
    /// (static), or computed on each run when none are given (dynamic); embeddings, LayerNorm and pooling stay float.
    /// <paramref name="modelDirectory"/> null: the default model.
    /// </summary>
    /// <exception cref="ModelLoadException">The source is not an ONNX model folder, is already quantised, or the output exists (without <see cref="ModelQuantizeOptions.Force"/>).</exception>
    /// <exception cref="InputFormatException">A calibration file has a bad record (the message names the file and line).</exception>
    public static Task<ModelQuantizationResult> QuantizeAsync(string? modelDirectory, string outputDirectory, ModelQuantizeOptions options,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        ArgumentNullException.ThrowIfNull(options);
        return LibraryErrors.Guard(() => Task.Run(async () =>
        {
            string source = StoreModel.ResolveModelDirectory(null, modelDirectory);
            IReadOnlyList<string>? texts = options.CalibrationFiles.Count == 0 ? null
                : await ReadCalibrationTextsAsync(options.CalibrationFiles, cancellationToken).ConfigureAwait(false);
            QuantizeResult r = ModelQuantizer.Quantize(source, outputDirectory, new QuantizeOptions
            {
                WeightBits = options.WeightBits,
                Overwrite = options.Force,
                CalibrationTexts = texts,
                CalibrationSource = string.Join(", ", options.CalibrationFiles.Select(Path.GetFileName)),
            }, progress, cancellationToken);
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
                CalibrationTexts = r.Manifest.Quantization.CalibrationTexts,
            };
        }, cancellationToken));
    }

    /// <summary>The embedding texts of the first <see cref="ActivationCalibration.MaxTexts"/> distinct papers of <paramref name="files"/>.</summary>
    private static async Task<List<string>> ReadCalibrationTextsAsync(IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        InputFiles.Check(files);
        var texts = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (SourcedPaper sourced in PaperReader.ReadAllAsync(files, new PaperReaderOptions(), cancellationToken).ConfigureAwait(false))
        {
            if (seen.Add(sourced.Paper.Id))
            {
                texts.Add(sourced.Paper.EmbeddingText);
                if (texts.Count == ActivationCalibration.MaxTexts)
                {
                    break;
                }
            }
        }
        return texts;
    }
}
