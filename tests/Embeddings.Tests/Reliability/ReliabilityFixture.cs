using System.Text.Json;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Reliability;

/// <summary>
/// What the reliability tests share, made once: a small corpus-fitted LSA model (loads in milliseconds, so hundreds of
/// CLI runs stay cheap), twelve good papers as JSONL and CSV lines, and a store holding them with its JSONL export,
/// against which every bad run is checked ("the store's export unchanged or a strict superset").
/// </summary>
public sealed class ReliabilityFixture : IAsyncLifetime
{
    private readonly TempDir _dir = new();

    /// <summary>The LSA model folder (16 dimensions, fitted on the first daily-papers dump).</summary>
    public string Model => _dir.File("lsa");

    /// <summary>The store made from <see cref="GoodJsonl"/>; never written by a test (tests copy it).</summary>
    public string BaseStore => _dir.File("base-store");

    /// <summary>The base store's export, one JSONL line per paper.</summary>
    public IReadOnlyList<string> BaseExport { get; private set; } = [];

    /// <summary>Twelve papers, ids g00..g11, one JSON object per line.</summary>
    public IReadOnlyList<string> GoodJsonl { get; private set; } = [];

    /// <summary>The same twelve papers (ids c00..c11) as CSV rows under <see cref="CsvHeader"/>.</summary>
    public IReadOnlyList<string> GoodCsv { get; private set; } = [];

    public const string CsvHeader = "id,title,abstract";

    public string Titles(int i) => _titles[i];

    private string[] _titles = [];

    public async Task InitializeAsync()
    {
        string dump = Directory.GetFiles(TestPaths.DailyPapersDir, "000_*.txt")[0];
        _titles = [.. File.ReadLines(dump).Where(l => l.Length is > 15 and < 120 && !l.Contains('"') && !l.Contains(',')).Distinct().Take(12)];
        Assert.Equal(12, _titles.Length);
        GoodJsonl = [.. Enumerable.Range(0, 12).Select(i => JsonSerializer.Serialize(new
        {
            id = $"g{i:D2}", title = _titles[i], @abstract = $"We study {_titles[i].ToLowerInvariant()} with graphs, language models and data. Result {i}.",
        }))];
        // No quotes in the good rows: an unclosed quote in a bad row then runs to the end of the file (ambiguity-free).
        GoodCsv = [.. Enumerable.Range(0, 12).Select(i => $"c{i:D2},{_titles[i]},We study {_titles[i].ToLowerInvariant()} in csv row {i}.")];

        var (exit, _, stderr) = await CliHarness.RunAsync("model", "fit", "--input", dump, "--kind", "lsa", "--dims", "16", "-o", Model, "--quiet");
        Assert.True(exit == 0, stderr);
        string good = _dir.File("good.jsonl");
        File.WriteAllLines(good, GoodJsonl);
        (exit, _, stderr) = await CliHarness.RunAsync("ingest", "--store", BaseStore, good, "--model", Model, "--quiet");
        Assert.True(exit == 0, stderr);
        BaseExport = await ExportAsync(BaseStore);
        Assert.Equal(12, BaseExport.Count);
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A private copy of the base store under <paramref name="dir"/>.</summary>
    internal string CopyBaseStore(TempDir dir, string name = "store")
    {
        string target = dir.File(name);
        CopyDirectory(BaseStore, target);
        return target;
    }

    /// <summary>The store's JSONL export (id, title, vector per line), sorted.</summary>
    public static async Task<IReadOnlyList<string>> ExportAsync(string store)
    {
        string output = Path.Combine(Path.GetTempPath(), $"emb-export-{Guid.NewGuid():N}.jsonl");
        try
        {
            var (exit, _, stderr) = await CliHarness.RunAsync("export", "--store", store, "--format", "jsonl", "-o", output, "--quiet");
            Assert.True(exit == 0, stderr);
            return [.. File.ReadAllLines(output).Order(StringComparer.Ordinal)];
        }
        finally
        {
            File.Delete(output);
        }
    }

    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (string sub in Directory.GetDirectories(from))
        {
            CopyDirectory(sub, Path.Combine(to, Path.GetFileName(sub)));
        }
    }

    /// <summary>
    /// The rules for what a user sees on stderr when a run fails: exactly one line, prefixed "embeddings: ", with no
    /// stack frame, no exception type name and no System.Text.Json position of its own.
    /// </summary>
    public static string AssertOneLineError(string stderr, string context)
    {
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"{context}: expected one line on stderr, got {lines.Length}:\n{stderr}");
        string line = lines[0].TrimEnd('\r');
        Assert.StartsWith("embeddings: ", line, StringComparison.Ordinal);
        AssertNoStackTrace(stderr, context);
        return line;
    }

    public static void AssertNoStackTrace(string text, string context)
    {
        Assert.False(text.Contains("   at ", StringComparison.Ordinal), $"{context}: a stack frame reached the user:\n{text}");
        Assert.False(System.Text.RegularExpressions.Regex.IsMatch(text, @"\b[A-Z][A-Za-z]+Exception\b"), $"{context}: an exception type name reached the user:\n{text}");
        Assert.False(text.Contains("LineNumber:", StringComparison.Ordinal), $"{context}: System.Text.Json's own position leaked:\n{text}");
        Assert.False(text.Contains("Usage:", StringComparison.Ordinal), $"{context}: the whole help was printed instead of one line:\n{text}");
    }
}
