using Embeddings.Corpus;
using Embeddings.Store;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Postgres;

/// <summary>
/// Stores for the PostgreSQL tests, built once per run: the 3,397 arXiv math abstracts of ../shared/eval-dev (real
/// titles, abstracts, authors and categories) embedded by the hashing test double (64 dimensions: fast, and the
/// vectors still depend on the text), as a "first dump" store (3,000 papers) and a "second dump" store that adds the
/// other 397 and revises 3 abstracts; and the first daily-papers dump embedded with the real USE-lite model.
/// </summary>
internal static class PostgresTestData
{
    public const int FirstDump = 3000;
    public const int Revised = 3;

    private static readonly TempDir Dir = new();
    private static readonly Lazy<Task<(string First, string Second)>> ArxivStoresLazy = new(BuildArxivStoresAsync);
    private static readonly Lazy<Task<string>> UseLiteStoreLazy = new(BuildUseLiteStoreAsync);

    public static HashingTestEncoder Encoder { get; } = new(64, "test-double:hashing-words:64");

    public static Task<(string First, string Second)> ArxivStores => ArxivStoresLazy.Value;

    public static Task<string> UseLiteStore => UseLiteStoreLazy.Value;

    public static string TempFolder(string name)
    {
        string path = Dir.File(name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static List<Paper> ArxivPapers()
    {
        string path = TestPaths.SharedFile("eval-dev", "arxiv_math_2025", "arxiv_data.csv");
        var parser = new CsvRecordParser();
        var papers = new List<Paper>();
        bool header = true;
        foreach (string line in File.ReadLines(path))
        {
            if (!parser.Feed(line))
            {
                continue;
            }
            List<string> f = parser.TakeFields();
            if (header)
            {
                Assert.Equal(["index", "title", "tags", "authors", "abstract"], f);
                header = false;
                continue;
            }
            papers.Add(new Paper(f[0], f[1].Trim(), f[4].Trim(), PythonList(f[3]), null, PythonList(f[2])));
        }
        Assert.Equal(3397, papers.Count);
        return papers;
    }

    private static string[] PythonList(string text) =>
        [.. text.Trim('[', ']').Split(["', '", "\", \"", "', \"", "\", '"], StringSplitOptions.None).Select(s => s.Trim('\'', '"', ' ')).Where(s => s.Length > 0)];

    private static async Task<(string, string)> BuildArxivStoresAsync()
    {
        List<Paper> papers = ArxivPapers();
        string first = Dir.File("arxiv-first");
        using (PaperStore store = PaperStore.Create(first, Encoder.Fingerprint, Encoder.Dimension))
        {
            await store.IngestAsync(StoreTestHelpers.Papers("first.jsonl", [.. papers.Take(FirstDump)]), Encoder);
        }
        string second = Dir.File("arxiv-second");
        CopyDirectory(first, second);
        Paper[] next = [.. papers.Skip(FirstDump), .. papers.Take(Revised).Select(p => p with { Abstract = p.Abstract + " Revised: we correct the main theorem." })];
        using (PaperStore store = PaperStore.Open(second, new StoreOpenOptions { Writable = true }))
        {
            await store.IngestAsync(StoreTestHelpers.Papers("second.jsonl", next), Encoder);
        }
        return (first, second);
    }

    private static async Task<string> BuildUseLiteStoreAsync()
    {
        string dir = Dir.File("use-lite");
        using PaperStore store = PaperStore.Create(dir, EncoderFixtures.UseLite.Fingerprint, EncoderFixtures.UseLite.Dimension);
        await store.IngestFilesAsync([StoreTestHelpers.DumpFiles()[0]], EncoderFixtures.UseLite);
        return dir;
    }

    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            if (!Path.GetFileName(file).StartsWith("writer.", StringComparison.Ordinal))
            {
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
            }
        }
    }
}
