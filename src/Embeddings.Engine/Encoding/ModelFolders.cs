using Embeddings.Encoding;
using Embeddings.Encoding.Lsa;

namespace Embeddings.Encoding;

/// <summary>
/// Loads any model folder by the kind in its manifest: <c>lsa</c> folders give an <see cref="LsaEncoder"/>,
/// the ONNX kinds (use-lite, sentence-transformers, or a bare sentence-transformers export) go to
/// <see cref="SentenceEncoder.Load"/>. Use this wherever a user passes <c>--model DIR</c>.
/// </summary>
internal static class ModelFolders
{
    /// <summary>The encoder of <paramref name="modelDirectory"/>; <paramref name="options"/> apply to ONNX models.</summary>
    /// <exception cref="ModelLoadException">The folder is missing, corrupt or of an unknown kind.</exception>
    public static ISentenceEncoder Load(string modelDirectory, EncoderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new ModelLoadException($"model folder '{modelDirectory}' does not exist");
        }
        return LsaEncoder.IsLsaModel(modelDirectory)
            ? LsaEncoder.Load(modelDirectory)
            : SentenceEncoder.Load(modelDirectory, options);
    }
}
