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
        return new Command("model", "Inspect sentence-encoder models and fit corpus-fitted ones.") { info, ModelFitCommand.Create() };
    }

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
