using Embeddings.Encoding;
using Embeddings.Quality.Lsa;

namespace Embeddings.Cli.Commands;

/// <summary>Loads any model folder by its manifest kind: lsa here, ONNX kinds through the encoder.</summary>
internal static class EncoderLoading
{
    /// <summary>The encoder of <paramref name="modelDir"/>, dispatching on the manifest kind.</summary>
    public static ISentenceEncoder Load(string modelDir)
    {
        if (LsaEncoder.IsLsaModel(modelDir))
        {
            return LsaEncoder.Load(modelDir);
        }
        throw new ModelLoadException($"{modelDir}: only lsa model folders can be loaded by this build");
    }

    /// <summary>The neural encoder for `eval` and its display name, or (null, "") when none is available.</summary>
    public static (ISentenceEncoder? Encoder, string Name) LoadForEval(string? modelDir)
    {
        if (modelDir is null)
        {
            Console.Error.WriteLine("embeddings: no neural model in this build; evaluating lexical configurations only (pass --model DIR)");
            return (null, "");
        }
        ISentenceEncoder encoder = Load(modelDir);
        return (encoder, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir))));
    }
}
