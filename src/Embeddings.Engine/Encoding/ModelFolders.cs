using System.Text.Json;
using Embeddings.Encoding.Lsa;

namespace Embeddings.Encoding;

/// <summary>
/// The one loader of model folders, for every kind: the kind is read once (<see cref="ModelManifest.ReadKind"/>: our
/// manifest's <c>kind</c>, or a bare sentence-transformers export) and the folder goes to the loader of that kind:
/// <c>lsa</c> to <see cref="LsaEncoder.Load"/>, the ONNX kinds (<c>use-lite</c>, <c>sentence-transformers</c>, the
/// packaged models) to <see cref="SentenceEncoder.Load"/>. Use this wherever a user passes <c>--model DIR</c>. To add a
/// model kind: give its manifest a kind name and add its loader here. Also the one lookup of a model folder by the
/// fingerprint of the vectors it makes (<see cref="FindByFingerprint"/>), for a store or a PostgreSQL table that knows
/// only its model's fingerprint.
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

    /// <summary>
    /// The local model folder whose model makes vectors with <paramref name="fingerprint"/>, or null when none does: the
    /// default model folder (<c>EMBEDDINGS_MODEL</c>, else models/ of the repository's default model) first, then the
    /// other folders beside it and under the repository's models/, in name order. Reads manifests and hashes model files
    /// without starting ONNX Runtime; a broken or foreign folder is simply not a match.
    /// </summary>
    public static string? FindByFingerprint(string fingerprint)
    {
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        foreach (string folder in Candidates())
        {
            try
            {
                string? kind = ModelManifest.ReadKind(folder);
                if (kind is null)
                {
                    continue;
                }
                string candidate = kind == LsaEncoder.Kind ? ReadLsaFingerprint(folder) : ManifestFingerprint(folder);
                if (candidate == fingerprint)
                {
                    return folder;
                }
            }
            catch (Exception e) when (e is ModelLoadException or IOException or JsonException or UnauthorizedAccessException)
            {
                // Not the model asked for.
            }
        }
        return null;
    }

    /// <summary>The folders <see cref="FindByFingerprint"/> tries, each once, in order.</summary>
    private static List<string> Candidates()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<string>();
        void Add(string? dir)
        {
            if (dir is not null && Directory.Exists(dir) && seen.Add(Path.GetFullPath(Path.TrimEndingDirectorySeparator(dir))))
            {
                order.Add(Path.GetFullPath(Path.TrimEndingDirectorySeparator(dir)));
            }
        }
        string? defaultDir = SentenceEncoder.FindDefaultModelDirectory();
        Add(defaultDir);
        string? besideDefault = defaultDir is null ? null : Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(defaultDir)));
        foreach (string? parent in new[] { besideDefault, SentenceEncoder.FindModelsDirectory() })
        {
            if (parent is not null && Directory.Exists(parent))
            {
                foreach (string folder in Directory.EnumerateDirectories(parent).Order(StringComparer.Ordinal))
                {
                    Add(folder);
                }
            }
        }
        return order;
    }

    /// <summary>The fingerprint the ONNX encoder of <paramref name="folder"/> would have with the folder's own settings.</summary>
    private static string ManifestFingerprint(string folder)
    {
        ModelManifest manifest = ModelManifest.Load(folder, verifyHashes: false);
        return manifest.ComputeFingerprint(manifest.Windowing, manifest.MaxWindowsPerText);
    }

    private static string ReadLsaFingerprint(string folder)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, ModelManifest.FileName)));
        return doc.RootElement.TryGetProperty("fingerprint", out JsonElement f) ? f.GetString() ?? "" : "";
    }
}
