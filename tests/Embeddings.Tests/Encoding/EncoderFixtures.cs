using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Encoding;

/// <summary>
/// Encoders over the real models, created once per test run (loading costs a few hundred milliseconds) and shared:
/// encoders are thread-safe. USE-lite comes from models/use-lite, which scripts/setup.sh makes (scripts/test.sh
/// runs it first); tiny-bert is the sentence-transformers export in ../shared/models/tiny-bert, used as is.
/// </summary>
internal static class EncoderFixtures
{
    private static readonly Lazy<OnnxSentenceEncoder> UseLiteLazy = new(() => SentenceEncoder.Load(UseLiteDir, new EncoderOptions { Threads = 2 }));

    private static readonly Lazy<OnnxSentenceEncoder> TinyBertNoWindowLazy = new(() =>
        SentenceEncoder.Load(TinyBertDir, new EncoderOptions { Threads = 2, Windowing = false }));

    private static readonly Lazy<IReadOnlyList<Paper>> DumpPapersLazy = new(LoadDumpPapers);

    public static string UseLiteDir
    {
        get
        {
            string dir = Path.Combine(TestPaths.RepoRoot, "models", "use-lite");
            if (!File.Exists(Path.Combine(dir, ModelManifest.FileName)))
            {
                throw new InvalidOperationException($"{dir} is missing: run scripts/setup.sh (scripts/test.sh does) before the tests.");
            }
            return dir;
        }
    }

    public static string TinyBertDir => TestPaths.SharedFile("models", "tiny-bert");

    /// <summary>The float all-MiniLM-L6-v2, models/all-MiniLM-L6-v2, which scripts/setup.sh installs from its NuGet package.</summary>
    public static string MiniLmDir => InstalledModel(PackagedModels.AllMiniLmL6V2);

    /// <summary>The default model, models/all-MiniLM-L6-v2-int8, which scripts/setup.sh quantises from <see cref="MiniLmDir"/>.</summary>
    public static string DefaultModelDir => InstalledModel(PackagedModels.Default);

    private static string InstalledModel(PackagedModel model)
    {
        string dir = Path.Combine(TestPaths.RepoRoot, "models", model.FolderName);
        if (!File.Exists(Path.Combine(dir, ModelManifest.FileName)))
        {
            throw new InvalidOperationException($"{dir} is missing: run scripts/setup.sh (scripts/test.sh does) before the tests.");
        }
        return dir;
    }

    /// <summary>USE-lite, 2 threads, windowing on (the default).</summary>
    public static OnnxSentenceEncoder UseLite => UseLiteLazy.Value;

    /// <summary>tiny-bert with windowing off: the exact sentence-transformers truncation of the golden file.</summary>
    public static OnnxSentenceEncoder TinyBertNoWindow => TinyBertNoWindowLazy.Value;

    /// <summary>Every paper record of the daily-papers dumps, in file order (the same paper may appear on several pages).</summary>
    public static IReadOnlyList<Paper> DumpPapers => DumpPapersLazy.Value;

    /// <summary>Title + abstract of the distinct papers of the dumps (first occurrence of each id), in file order.</summary>
    public static IReadOnlyList<string> DumpTexts =>
        DumpPapers.DistinctBy(p => p.Id).Select(p => p.EmbeddingText).ToList();

    public static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }
        return max;
    }

    public static float Norm(ReadOnlySpan<float> v)
    {
        double s = 0;
        foreach (float f in v)
        {
            s += (double)f * f;
        }
        return (float)Math.Sqrt(s);
    }

    private static List<Paper> LoadDumpPapers()
    {
        var texts = new List<Paper>();
        foreach (string file in Directory.GetFiles(TestPaths.DailyPapersDir, "*.txt").Order(StringComparer.Ordinal))
        {
            foreach (SourcedPaper p in PaperReader.ReadAsync(file).ToBlockingEnumerable())
            {
                texts.Add(p.Paper);
            }
        }
        return texts;
    }
}
