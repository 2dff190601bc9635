using System.Text.Json;
using Embeddings.Store;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Library;

/// <summary>
/// <c>show</c>, <c>list</c> and the metadata of hits, on a store of the first 40 papers of the arXiv math CSV (the
/// <c>index,title,tags,authors,abstract</c> layout, with list literals) and one of daily-papers pages (no categories).
/// </summary>
public sealed class ShowListCliTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();

    private string ArxivStore => _dir.File("arxiv");

    private string PagesStore => _dir.File("pages");

    private string[] _csvLines = [];

    private string[] _titles = [];

    public async Task InitializeAsync()
    {
        string source = TestPaths.SharedFile("eval-dev", "arxiv_math_2025", "arxiv_data.csv");
        // The header and the first 40 records (some span several lines: quoted line breaks).
        long end = 0;
        int records = 0;
        await foreach (Embeddings.Corpus.SourcedPaper p in Embeddings.Corpus.PaperReader.ReadAsync(source))
        {
            if (++records == 41)
            {
                end = p.Line;
                break;
            }
        }
        _csvLines = [.. File.ReadLines(source).Take((int)end - 1)];
        _titles = [.. (await Embeddings.Corpus.PaperReader.ReadAsync(source).Take(40).ToListAsync()).Select(p => p.Paper.Title)];
        string csv = _dir.File("arxiv_head.csv");
        File.WriteAllLines(csv, _csvLines);
        using var encoder = new HashingTestEncoder(32, "test-double:hashing-words:32");
        using (PaperStore store = PaperStore.Create(ArxivStore, encoder.Fingerprint, encoder.Dimension))
        {
            await store.IngestFilesAsync([csv], encoder);
        }
        using (PaperStore store = PaperStore.Create(PagesStore, encoder.Fingerprint, encoder.Dimension))
        {
            // The dump whose papers carry their own "• N authors" and date lines ("Feb 10": no year).
            await store.IngestFilesAsync(Directory.GetFiles(TestPaths.DailyPapersDir, "003_*.txt"), encoder);
        }
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task List_prints_one_tab_separated_line_per_paper_when_piped_and_a_filter_narrows_it()
    {
        var (exit, stdout, stderr) = await CliHarness.RunAsync("list", "--store", ArxivStore);
        Assert.True(exit == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(40, lines.Length);
        Assert.Equal(["2505.24868", "", "Consistent line clustering using geometric hypergraphs"], lines[0].Split('\t'));

        int statistics = _csvLines.Skip(1).Count(l => l.Contains("'math.ST'", StringComparison.Ordinal) && l.Contains("\"['", StringComparison.Ordinal));
        Assert.InRange(statistics, 1, 39);
        (exit, stdout, stderr) = await CliHarness.RunAsync("list", "--store", ArxivStore, "--filter", "category=math.ST", "--json");
        Assert.True(exit == 0, stderr);
        lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(statistics, lines.Length);
        foreach (string line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            JsonElement paper = doc.RootElement;
            Assert.Contains("math.ST", paper.GetProperty("categories").EnumerateArray().Select(c => c.GetString()));
            Assert.StartsWith("https://arxiv.org/abs/", paper.GetProperty("url").GetString(), StringComparison.Ordinal);
            Assert.NotEmpty(paper.GetProperty("authors").EnumerateArray());
            Assert.Equal("arxiv_head.csv", paper.GetProperty("sourceFile").GetString());
        }
    }

    [Fact]
    public async Task List_on_a_terminal_is_a_labelled_table_with_whole_titles_wrapped_between_words()
    {
        var (exit, stdout, stderr) = await CliHarness.RunAsync(terminalWidth: 60, "list", "--store", ArxivStore);
        Assert.True(exit == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^id\s+date\s+title$", lines[0]);
        Assert.All(lines, l => Assert.True(l.Length <= 60, l));
        // Every title is there in full, its words in order, broken only between words.
        string table = string.Join(" ", lines.Skip(1).Select(l => l.Length > 14 ? l[14..].Trim() : ""));
        foreach (string title in _titles)
        {
            Assert.Contains(title, table, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Show_gives_title_authors_date_categories_link_source_line_and_abstract()
    {
        var (exit, stdout, stderr) = await CliHarness.RunAsync(terminalWidth: 100, "show", "2505.24868", "--store", ArxivStore);
        Assert.True(exit == 0, stderr);
        Assert.Contains("Consistent line clustering using geometric hypergraphs", stdout, StringComparison.Ordinal);
        Assert.Matches(@"authors\s+Kalle Alaluusua, Konstantin Avrachenkov, B\. R\. Vinay Kumar, Lasse Leskelä", stdout);
        Assert.Matches(@"categories\s+math\.ST, stat\.ML", stdout);
        Assert.Matches(@"link\s+https://arxiv\.org/abs/2505\.24868", stdout);
        Assert.Matches(@"source\s+arxiv_head\.csv:2\b", stdout);
        Assert.Matches(@"date\s+unknown", stdout);
        Assert.Contains("Traditional data analysis often represents data", stdout, StringComparison.Ordinal);
        Assert.All(stdout.Split('\n'), l => Assert.True(l.Length <= 100, l));

        (exit, stdout, stderr) = await CliHarness.RunAsync("show", "2505.24868", "--store", ArxivStore, "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(("2505.24868", 2, "https://arxiv.org/abs/2505.24868"),
            (doc.RootElement.GetProperty("id").GetString(), doc.RootElement.GetProperty("sourceLine").GetInt32(), doc.RootElement.GetProperty("url").GetString()));

        // A daily-papers date without a year is no date: shown as the page wrote it, and said to have no year.
        string id;
        using (PaperStore store = PaperStore.Open(PagesStore))
        {
            id = (await store.ReadPapersAsync().FirstAsync(p => p.Paper.DateText is not null)).Paper.Id;
        }
        (exit, stdout, stderr) = await CliHarness.RunAsync("show", id, "--store", PagesStore);
        Assert.True(exit == 0, stderr);
        Assert.Matches(@"date\s+unknown \(the input says ""[A-Z][a-z]{2} \d{1,2}"", with no year\)", stdout);
    }

    [Fact]
    public async Task An_unknown_id_suggests_list()
    {
        var (exit, _, stderr) = await CliHarness.RunAsync("show", "no-such-paper", "--store", ArxivStore);
        Assert.NotEqual(0, exit);
        Assert.Contains("no-such-paper", stderr, StringComparison.Ordinal);
        Assert.Contains("embeddings list --store", stderr, StringComparison.Ordinal);
        (exit, _, stderr) = await CliHarness.RunAsync("similar", "--id", "no-such-paper", "--store", ArxivStore, "--mode", "lexical");
        Assert.NotEqual(0, exit);
        Assert.Contains("embeddings list --store", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("export", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hits_carry_authors_categories_and_links_and_the_category_filter_works_on_the_arxiv_csv()
    {
        var (exit, stdout, stderr) = await CliHarness.RunAsync("similar", "--store", ArxivStore, "--id", "2505.24868", "--mode", "lexical",
            "--filter", "category=math.ST", "-k", "5", "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        JsonElement hits = doc.RootElement.GetProperty("hits");
        Assert.NotEqual(0, hits.GetArrayLength());
        foreach (JsonElement hit in hits.EnumerateArray())
        {
            Assert.Contains("math.ST", hit.GetProperty("categories").EnumerateArray().Select(c => c.GetString()));
            Assert.Equal("https://arxiv.org/abs/" + hit.GetProperty("id").GetString(), hit.GetProperty("url").GetString());
            Assert.NotEmpty(hit.GetProperty("authors").EnumerateArray());
        }
        Assert.False(doc.RootElement.TryGetProperty("warnings", out _));
    }

    [Fact]
    public async Task A_category_filter_over_a_store_without_categories_warns()
    {
        string id;
        using (PaperStore store = PaperStore.Open(PagesStore))
        {
            id = store.IdOfRow(0);
        }
        var (exit, stdout, stderr) = await CliHarness.RunAsync("similar", "--store", PagesStore, "--id", id, "--mode", "lexical", "--filter", "category=cs.CL");
        Assert.True(exit == 0, stderr);
        Assert.Contains("warning: --filter category=cs.CL matches nothing: no stored paper has categories", stderr, StringComparison.Ordinal);
        (exit, stdout, stderr) = await CliHarness.RunAsync("similar", "--store", PagesStore, "--id", id, "--mode", "lexical", "--filter", "category=cs.CL", "--json");
        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Contains("no stored paper has categories", doc.RootElement.GetProperty("warnings")[0].GetString(), StringComparison.Ordinal);
        (exit, _, stderr) = await CliHarness.RunAsync("list", "--store", PagesStore, "--filter", "category=cs.CL");
        Assert.Equal(0, exit);
        Assert.Contains("no stored paper has categories", stderr, StringComparison.Ordinal);
    }
}
