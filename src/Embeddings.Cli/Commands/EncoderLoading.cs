using Embeddings.Encoding;
using Embeddings.Native;

namespace Embeddings.Cli.Commands;

/// <summary>Loads the neural model for <c>eval</c>, by manifest kind (lsa or ONNX).</summary>
internal static class EncoderLoading
{
    /// <summary>
    /// The model of <paramref name="modelDir"/> (default: the default model) and its display name; when no
    /// model can be loaded, a line on stderr and (null, "") so the lexical configurations still run.
    /// </summary>
    public static (ISentenceEncoder? Encoder, string Name) LoadForEval(CliConsole console, string? modelDir)
    {
        string? dir = modelDir ?? SentenceEncoder.FindDefaultModelDirectory();
        if (dir is null || !Directory.Exists(dir))
        {
            console.Report("no model folder found (run scripts/setup.sh or pass --model DIR); evaluating lexical configurations only");
            return (null, "");
        }
        try
        {
            ISentenceEncoder encoder = ModelFolders.Load(dir, new EncoderOptions());
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
            return (encoder, name == "use-lite" ? "USE-lite" : name);
        }
        catch (Exception e) when (modelDir is null && e is OnnxRuntimeException or OnnxRuntimeNotFoundException)
        {
            console.Report(e.Message + "; evaluating lexical configurations only");
            return (null, "");
        }
    }
}
