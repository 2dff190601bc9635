using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using Embeddings.Encoding.Onnx;
using Embeddings.IO;
using Google.Protobuf;

namespace Embeddings.Encoding;

/// <summary>
/// The <c>quantization</c> section of a model folder's manifest: the folder holds a quantised copy of another model
/// (written by <see cref="ModelQuantizer"/>), which one, and how. Its fingerprint differs from the source's (the model
/// file's hash differs, and the fingerprint text names the quantisation).
/// </summary>
/// <param name="Method"><c>dynamic-int8</c> (activation scales computed on each run) or <c>static-int8</c> (fixed by calibration).</param>
/// <param name="WeightBits">8, or 7 for CPUs without VNNI (weights in [-63, 63]).</param>
/// <param name="QuantizedNodes">MatMul and Gemm nodes now int8.</param>
/// <param name="FloatNodes">MatMul and Gemm nodes left float (attention's activation products).</param>
/// <param name="SourceName">Name of the source model.</param>
/// <param name="SourceFingerprint">Fingerprint of the source model (default windowing).</param>
/// <param name="SourceModelSha256">sha256 of the source ONNX file.</param>
/// <param name="CalibrationTexts">Texts the static scales were measured on (0 for dynamic).</param>
/// <param name="CalibrationSource">Where they came from (file names), or empty.</param>
internal sealed record ModelQuantization(string Method, int WeightBits, int QuantizedNodes, int FloatNodes,
    string SourceName, string SourceFingerprint, string SourceModelSha256, int CalibrationTexts = 0, string CalibrationSource = "")
{
    /// <summary>int8 weights, activations quantised with a scale computed from each run's tensor.</summary>
    public const string DynamicInt8 = "dynamic-int8";

    /// <summary>int8 weights, activations quantised with fixed scales from a calibration run.</summary>
    public const string StaticInt8 = "static-int8";

    /// <summary>Whether the activation scales are fixed (a text's vector then does not depend on its batch companions).</summary>
    public bool IsStatic => Method == StaticInt8;

    internal void Write(Utf8JsonWriter w)
    {
        w.WriteStartObject("quantization");
        w.WriteString("method", Method);
        w.WriteString("weights", $"int{WeightBits.ToString(System.Globalization.CultureInfo.InvariantCulture)}, symmetric, one scale per output channel");
        w.WriteNumber("weight_bits", WeightBits);
        w.WriteString("activations", IsStatic
            ? "uint8, one fixed scale per tensor, from the range over the calibration texts"
            : "uint8, one scale per tensor, computed at run time");
        w.WriteString("operator", OnnxDynamicQuantizer.MicrosoftDomain + "." + (IsStatic ? OnnxDynamicQuantizer.StaticOperator : OnnxDynamicQuantizer.QuantizedOperator));
        w.WriteNumber("quantized_nodes", QuantizedNodes);
        w.WriteNumber("float_nodes", FloatNodes);
        if (IsStatic)
        {
            w.WriteStartObject("calibration");
            w.WriteNumber("texts", CalibrationTexts);
            w.WriteString("source", CalibrationSource);
            w.WriteEndObject();
        }
        w.WriteStartObject("source");
        w.WriteString("name", SourceName);
        w.WriteString("fingerprint", SourceFingerprint);
        w.WriteString("model_sha256", SourceModelSha256);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    internal static ModelQuantization Read(JsonElement q, string manifestPath)
    {
        string method = ModelJson.RequireString(q, "method", manifestPath + ": quantization");
        if (method is not (DynamicInt8 or StaticInt8))
        {
            throw new ModelLoadException($"{manifestPath}: quantization.method '{method}' is unknown to this build (it knows {DynamicInt8} and {StaticInt8}).");
        }
        int bits = ModelJson.RequireInt(q, "weight_bits", manifestPath + ": quantization");
        JsonElement source = q.TryGetProperty("source", out JsonElement s) ? s : default;
        JsonElement calibration = q.TryGetProperty("calibration", out JsonElement c) ? c : default;
        return new ModelQuantization(method, bits,
            ModelJson.OptionalInt(q, "quantized_nodes") ?? 0,
            ModelJson.OptionalInt(q, "float_nodes") ?? 0,
            ModelJson.OptionalString(source, "name") ?? "",
            ModelJson.OptionalString(source, "fingerprint") ?? "",
            ModelJson.OptionalString(source, "model_sha256") ?? "",
            ModelJson.OptionalInt(calibration, "texts") ?? 0,
            ModelJson.OptionalString(calibration, "source") ?? "");
    }
}

/// <summary>Options of <see cref="ModelQuantizer.Quantize"/>.</summary>
internal sealed record QuantizeOptions
{
    /// <summary>
    /// Weight precision: 8, or 7 (weights in [-63, 63]) for x86 CPUs without VNNI, whose uint8 x int8 kernels can
    /// saturate with 8-bit weights. Null (the default): 8 where the CPU has VNNI or is not x86, else 7.
    /// </summary>
    public int? WeightBits { get; init; }

    /// <summary>Replace <c>outputDirectory</c> when it already holds a model folder.</summary>
    public bool Overwrite { get; init; }

    /// <summary>
    /// Texts to calibrate fixed activation scales on (static int8; the first <see cref="ActivationCalibration.MaxTexts"/>
    /// are read), or null for scales computed on each run (dynamic int8). Texts like those the model will embed.
    /// </summary>
    public IReadOnlyList<string>? CalibrationTexts { get; init; }

    /// <summary>Where <see cref="CalibrationTexts"/> came from, recorded in the manifest (e.g. the file names).</summary>
    public string CalibrationSource { get; init; } = "";

    /// <summary>
    /// Ranges measured before (a static copy's <see cref="Encoding.CalibrationRanges.FileName"/>, or a packaged model's),
    /// used instead of a calibration run; they must have been measured on the same float model. Null: none.
    /// </summary>
    public CalibrationRanges? CalibrationRanges { get; init; }

    /// <summary>The weight precision <see cref="WeightBits"/> null picks on this machine.</summary>
    public static int DefaultWeightBits =>
        !IsX86() || AvxVnni.IsSupported || HasAvx512Vnni() ? 8 : 7;

    /// <summary>AVX512-VNNI: CPUID leaf 7, ECX bit 11, usable when the OS enabled AVX-512 (no .NET API names it).</summary>
    private static bool HasAvx512Vnni() =>
        X86Base.IsSupported && Avx512F.IsSupported && (X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0;

    private static bool IsX86() =>
        System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture is System.Runtime.InteropServices.Architecture.X64
            or System.Runtime.InteropServices.Architecture.X86;
}

/// <summary>What <see cref="ModelQuantizer.Quantize"/> wrote.</summary>
/// <param name="Directory">The quantised model folder.</param>
/// <param name="Manifest">Its manifest (with <see cref="ModelManifest.Quantization"/>).</param>
/// <param name="Counts">What changed in the graph.</param>
/// <param name="SourceModelBytes">Size of the source ONNX file.</param>
/// <param name="ModelBytes">Size of the quantised ONNX file.</param>
internal sealed record QuantizeResult(string Directory, ModelManifest Manifest, QuantizationCounts Counts, long SourceModelBytes, long ModelBytes);

/// <summary>
/// <c>embeddings model quantize</c>: writes an int8 copy of an ONNX model folder (a folder with our manifest, or a
/// plain sentence-transformers export). The graph is rewritten over the ONNX protobuf (<see cref="OnnxDynamicQuantizer"/>:
/// int8 per-channel weights of MatMul/Gemm; activation scales fixed by <see cref="ActivationCalibration"/> when
/// calibration texts are given, else computed at run time; embeddings, LayerNorm and pooling stay float); the tokenizer and configuration files are copied; the new manifest
/// lists every file with its hash and records the quantisation and its source, so the folder has its own fingerprint.
/// Built in a staging folder and renamed into place, so an interrupted run leaves nothing under the output name.
/// </summary>
internal static class ModelQuantizer
{
    /// <summary>Quantises <paramref name="modelDirectory"/> into <paramref name="outputDirectory"/>.</summary>
    /// <exception cref="ModelLoadException">The source is not an ONNX model folder, is already quantised, cannot be parsed or has nothing to quantise; or the output exists.</exception>
    public static QuantizeResult Quantize(string modelDirectory, string outputDirectory, QuantizeOptions? options = null,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        options ??= new QuantizeOptions();
        int bits = options.WeightBits ?? QuantizeOptions.DefaultWeightBits;
        if (bits is not (7 or 8))
        {
            throw new ModelLoadException($"weight bits {bits}: accepted 7 or 8.");
        }
        SentenceEncoder.RefuseOtherKinds(modelDirectory);
        ModelManifest source = ModelManifest.Load(modelDirectory, verifyHashes: true);
        string dest = Path.GetFullPath(outputDirectory);
        if (dest == source.Directory)
        {
            throw new ModelLoadException($"{dest}: the output folder is the model folder itself; give another -o folder.");
        }
        if (source.Quantization is not null)
        {
            throw new ModelLoadException($"{source.Directory}: already quantised ({source.Quantization.Method}); quantise the float model ({source.Quantization.SourceName}) instead.");
        }
        if (Directory.Exists(dest) && Directory.EnumerateFileSystemEntries(dest).Any() && !options.Overwrite)
        {
            throw new ModelLoadException($"{dest}: exists and is not empty. Pass --force to replace it, or choose another -o folder.");
        }

        progress?.Report(new WorkProgress("reading the ONNX graph", 0, 3, "steps"));
        ModelProto model = ReadModel(source.ModelPath);
        cancellationToken.ThrowIfCancellationRequested();

        string parent = Path.GetDirectoryName(dest) ?? ".";
        Directory.CreateDirectory(parent);
        string stage = Path.Combine(parent, $".{Path.GetFileName(dest)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(stage);
        try
        {
            // The tokenizer and configuration files first: calibration runs the float graph with them from the stage.
            CopyOtherFiles(source, stage, cancellationToken);
            Dictionary<string, ActivationRange>? ranges = null;
            int calibrationTexts = 0;
            string calibrationSource = options.CalibrationSource;
            // Read from the manifest, or hashed once for a folder without one (a plain export).
            string sourceSha = SourceSha(source);
            // A graph with nothing to quantise is refused by Quantize below, without a calibration run first.
            if ((options.CalibrationTexts is not null || options.CalibrationRanges is not null)
                && OnnxDynamicQuantizer.ActivationInputs(model, source.ModelPath) is { Count: > 0 } tensors)
            {
                if (options.CalibrationRanges is { } known)
                {
                    ranges = known.For(sourceSha, tensors, "calibration ranges");
                    (calibrationTexts, calibrationSource) = (known.Texts, known.Source);
                }
                else
                {
                    (ranges, calibrationTexts) = ActivationCalibration.Measure(source, model, tensors, options.CalibrationTexts!, stage, progress, cancellationToken);
                }
                // Kept beside the graph: what it was made from, and enough to make the same graph again.
                AtomicFile.WriteAllText(Path.Combine(stage, CalibrationRanges.FileName),
                    new CalibrationRanges(sourceSha, calibrationTexts, calibrationSource, ranges).ToJson());
            }
            progress?.Report(new WorkProgress("quantising weights", 1, 3, "steps"));
            QuantizationCounts counts = OnnxDynamicQuantizer.Quantize(model, bits, source.ModelPath, ranges);
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new WorkProgress("writing the model folder", 2, 3, "steps"));
            string modelPath = Path.Combine(stage, source.ModelFile);
            Directory.CreateDirectory(Path.GetDirectoryName(modelPath)!);
            AtomicFile.Write(modelPath, s => model.WriteTo(s));
            var quantization = new ModelQuantization(ranges is null ? ModelQuantization.DynamicInt8 : ModelQuantization.StaticInt8, bits,
                counts.QuantizedMatMuls + counts.QuantizedGemms, counts.FloatMatMuls, source.Name,
                source.ComputeFingerprint(source.Windowing, source.MaxWindowsPerText), sourceSha, calibrationTexts, calibrationSource);
            ModelManifest manifest = WriteManifest(source, stage, dest, quantization);
            ModelInstaller.Publish(stage, dest);
            progress?.Report(new WorkProgress("done", 3, 3, "steps"));
            long sourceBytes = new FileInfo(source.ModelPath).Length;
            long bytes = new FileInfo(Path.Combine(dest, source.ModelFile)).Length;
            return new QuantizeResult(dest, ModelManifest.Load(dest), counts, sourceBytes, bytes);
        }
        finally
        {
            if (Directory.Exists(stage))
            {
                Directory.Delete(stage, recursive: true);
            }
        }
    }

    /// <summary>Parses an ONNX file.</summary>
    /// <exception cref="ModelLoadException">Not an ONNX protobuf; the message names the file.</exception>
    internal static ModelProto ReadModel(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            using var input = new CodedInputStream(stream);
            return ModelProto.Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelLoadException($"{path}: not a valid ONNX model ({e.Message}). Export the model again.", e);
        }
    }

    /// <summary>Copies every file of the source folder but the ONNX graph and our manifest (which are written anew).</summary>
    private static void CopyOtherFiles(ModelManifest source, string stage, CancellationToken cancellationToken)
    {
        foreach (string file in Directory.EnumerateFiles(source.Directory, "*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string rel = Path.GetRelativePath(source.Directory, file).Replace('\\', '/');
            if (rel == source.ModelFile || rel == ModelManifest.FileName || rel == CalibrationRanges.FileName || rel.StartsWith('.') || rel.EndsWith(".onnx_data", StringComparison.Ordinal))
            {
                continue;
            }
            string target = Path.Combine(stage, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static string SourceSha(ModelManifest source) =>
        source.Files.FirstOrDefault(f => f.RelativePath == source.ModelFile)?.Sha256 ?? ModelManifest.HashFile(source.ModelPath);

    private static ModelManifest WriteManifest(ModelManifest source, string stage, string dest, ModelQuantization quantization)
    {
        var files = new List<ModelFile>();
        IEnumerable<string> listed = source.Files.Select(f => f.RelativePath);
        if (!listed.Contains(source.ModelFile))
        {
            listed = listed.Prepend(source.ModelFile);
        }
        if (quantization.IsStatic)
        {
            listed = listed.Append(CalibrationRanges.FileName);
        }
        foreach (string rel in listed.Distinct())
        {
            string path = Path.Combine(stage, rel);
            files.Add(new ModelFile(rel, ModelManifest.HashFile(path), new FileInfo(path).Length));
        }
        ModelManifest manifest = source.Derive(dest, source.Name + "-int8", source.ModelFile, files, quantization);
        AtomicFile.WriteAllText(Path.Combine(stage, ModelManifest.FileName), manifest.ToJson());
        return manifest;
    }
}
