using Embeddings.Encoding;

namespace Embeddings.Cli.Commands;

/// <summary>Loads the neural model for <c>eval</c>, by manifest kind (lsa or ONNX).</summary>
internal static class EncoderLoading
{
    /// <summary>
    /// The model of <paramref name="modelDir"/> (default: the default model) and its display name; when no
    /// model can be loaded, a line on stderr and (null, "") so the lexical configurations still run.
    /// </summary>
    public static (ISentenceEncoder? Encoder, string Name) LoadForEval(string? modelDir, bool noWindowing = false)
    {
        string? dir = modelDir ?? SentenceEncoder.FindDefaultModelDirectory();
        if (dir is null || !Directory.Exists(dir))
        {
            Console.Error.WriteLine("embeddings: no model folder found (run scripts/setup.sh or pass --model DIR); evaluating lexical configurations only");
            return (null, "");
        }
        try
        {
            ISentenceEncoder encoder = ModelFolders.Load(dir, new EncoderOptions { Windowing = noWindowing ? false : null });
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
            return (encoder, (name == "use-lite" ? "USE-lite" : name) + (noWindowing ? " (cut)" : ""));
        }
        catch (Exception e) when (modelDir is null && e is OnnxRuntimeException or OnnxRuntimeNotFoundException)
        {
            Console.Error.WriteLine("embeddings: " + e.Message + "; evaluating lexical configurations only");
            return (null, "");
        }
    }
}
