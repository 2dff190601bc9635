using Embeddings.Encoding;
using Embeddings.Quality;

namespace Embeddings.Postgres;

/// <summary>
/// Finds the local model folder that made a table's vectors, by fingerprint: the folder given, then
/// <c>EMBEDDINGS_MODEL</c> or the default model folder, then the other folders beside the default one (models/*).
/// </summary>
internal static class ModelFolderByFingerprint
{
    public static ISentenceEncoder Load(string fingerprint, string? first)
    {
        var tried = new List<string>();
        foreach (string dir in Candidates(first))
        {
            ISentenceEncoder encoder;
            try
            {
                encoder = ModelFolders.Load(dir, new EncoderOptions());
            }
            catch (ModelLoadException)
            {
                continue;
            }
            if (encoder.Fingerprint == fingerprint)
            {
                return encoder;
            }
            tried.Add($"{dir} ({encoder.Fingerprint})");
            encoder.Dispose();
        }
        throw new ModelLoadException(
            $"no local model folder has the table's model fingerprint {fingerprint}" + (tried.Count > 0 ? $" (tried {string.Join(", ", tried)})" : "") +
            ": pass --model with the folder the store was ingested with, or use --id/--like or --mode lexical, which need no model.");
    }

    private static IEnumerable<string> Candidates(string? first)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<string>();
        void Add(string? dir)
        {
            if (dir is not null && Directory.Exists(dir) && seen.Add(Path.GetFullPath(dir)))
            {
                order.Add(Path.GetFullPath(dir));
            }
        }
        Add(first);
        string? defaultDir = SentenceEncoder.FindDefaultModelDirectory();
        Add(defaultDir);
        if (defaultDir is not null && Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(defaultDir))) is { } parent && Directory.Exists(parent))
        {
            foreach (string sibling in Directory.GetDirectories(parent).Order(StringComparer.Ordinal))
            {
                Add(sibling);
            }
        }
        return order;
    }
}
