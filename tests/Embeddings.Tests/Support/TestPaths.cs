namespace Embeddings.Tests.Support;

/// <summary>Where the shared data (models, corpus, eval sets) lives: `../shared` beside the repository.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> RepoRootLazy = new(FindRepoRoot);

    public static string RepoRoot => RepoRootLazy.Value;

    /// <summary>EMBEDDINGS_SHARED_DIR when set, else the `shared` folder beside the repository root.</summary>
    public static string Shared =>
        Environment.GetEnvironmentVariable("EMBEDDINGS_SHARED_DIR") is { Length: > 0 } dir
            ? dir
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string SharedFile(params string[] parts) => Path.Combine([Shared, .. parts]);

    public static string DailyPapersDir => SharedFile("corpus", "daily-papers");

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Embeddings.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Embeddings.sln not found above " + AppContext.BaseDirectory);
    }
}
