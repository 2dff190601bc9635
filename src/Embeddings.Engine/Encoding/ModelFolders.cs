using Embeddings.Encoding;
using Embeddings.Encoding.Lsa;

namespace Embeddings.Encoding;

/// <summary>
/// The one loader of model folders, for every kind: the kind is read once (<see cref="ModelManifest.ReadKind"/>: our
/// manifest's <c>kind</c>, or a bare sentence-transformers export) and the folder goes to the loader of that kind:
/// <c>lsa</c> to <see cref="LsaEncoder.Load"/>, the ONNX kinds (<c>use-lite</c>, <c>sentence-transformers</c>, the
/// packaged models) to <see cref="SentenceEncoder.Load"/>. Use this wherever a user passes <c>--model DIR</c>. To add a
/// model kind: give its manifest a kind name and add its loader here.
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
            // ModelManifest.Load words the missing-folder error, with the set-up advice.
            return SentenceEncoder.Load(modelDirectory, options);
        }
        return ModelManifest.ReadKind(modelDirectory) == LsaEncoder.Kind
            ? LsaEncoder.Load(modelDirectory)
            : SentenceEncoder.Load(modelDirectory, options);
    }
}
