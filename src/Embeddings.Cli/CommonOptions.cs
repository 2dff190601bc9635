using System.CommandLine;

namespace Embeddings.Cli;

/// <summary>
/// The options several commands share, declared once so that they are spelled, abbreviated and described the same on
/// every command: <c>--store/-s</c>, <c>--model/-m</c>, <c>--quiet/-q</c>, <c>--json</c>, <c>--output/-o</c> (where
/// <c>-</c> means stdout), and the model's run settings <c>--threads/-t</c>, <c>--device</c>, <c>--allow-cpu-fallback</c>.
/// </summary>
internal static class CommonOptions
{
    /// <summary>The value of <c>-o</c> that means standard output.</summary>
    public const string Stdout = "-";

    public static Option<string> Store(string description = "Store folder (made by `embeddings ingest`).") =>
        new("--store", "-s") { Description = description, Required = true };

    public static Option<string?> OptionalStore(string description) => new("--store", "-s") { Description = description };

    public static Option<string?> Model(string? description = null) => new("--model", "-m")
    {
        Description = description ?? $"Model folder (embeddings-model.json, a sentence-transformers ONNX export, or an LSA model). Default: the store's own model, else ${EmbeddingModelOptions.ModelDirectoryVariable}, else the repository's default model ({EmbeddingModel.DefaultModelName}).",
    };

    public static Option<bool> Quiet() => new("--quiet", "-q") { Description = "No progress output on stderr." };

    public static Option<bool> Json(string description) => new("--json") { Description = description };

    public static Option<string> Output(string description) =>
        new("--output", "-o") { Description = description + " `-` writes to stdout.", Required = true };

    public static Option<string?> OptionalOutput(string description) =>
        new("--output", "-o") { Description = description + " `-` writes to stdout." };

    public static Option<int> Threads(string description = "Threads for the model (default: all cores).") =>
        new("--threads", "-t") { Description = description, DefaultValueFactory = _ => 0 };

    public static Option<string> Device()
    {
        var option = new Option<string>("--device")
        {
            Description = "cpu (default) or cuda (needs the GPU build of ONNX Runtime: scripts/setup.sh --cuda; CUDA 13 and cuDNN 9).",
            DefaultValueFactory = _ => "cpu",
        };
        option.AcceptOnlyFromAmong("cpu", "cuda");
        return option;
    }

    public static Option<bool> AllowCpuFallback() => new("--allow-cpu-fallback")
    {
        Description = "With --device cuda: when CUDA cannot be used, warn and run on CPU instead of failing.",
    };

    public static ComputeDevice ParseDevice(string device) => device == "cuda" ? ComputeDevice.Cuda : ComputeDevice.Cpu;
}

/// <summary>The model options of a command (<c>--model</c>, <c>--threads</c>, <c>--device</c>, <c>--allow-cpu-fallback</c>), added together.</summary>
internal sealed class ModelOptionSet
{
    public Option<string?> Model { get; } = CommonOptions.Model();

    public Option<int> Threads { get; } = CommonOptions.Threads();

    public Option<string> Device { get; } = CommonOptions.Device();

    public Option<bool> AllowCpuFallback { get; } = CommonOptions.AllowCpuFallback();

    public void AddTo(Command command)
    {
        command.Add(Model);
        command.Add(Threads);
        command.Add(Device);
        command.Add(AllowCpuFallback);
    }

    /// <summary>Fills the model settings of <paramref name="options"/> from the command line.</summary>
    public T Apply<T>(ParseResult parse, T options) where T : EmbeddingModelOptions
    {
        options.ModelDirectory = parse.GetValue(Model);
        options.Threads = parse.GetValue(Threads);
        options.Device = CommonOptions.ParseDevice(parse.GetValue(Device)!);
        options.AllowCpuFallback = parse.GetValue(AllowCpuFallback);
        return options;
    }
}

/// <summary>Where a command's <c>-o</c> output goes: a file, or stdout for <c>-</c>.</summary>
internal readonly record struct OutputTarget(string Value)
{
    public bool IsStdout => Value == CommonOptions.Stdout;

    /// <summary>How the output is named in reports.</summary>
    public string Name => IsStdout ? "stdout" : Value;

    /// <summary>The file path, or null for stdout.</summary>
    public string? Path => IsStdout ? null : Value;
}
