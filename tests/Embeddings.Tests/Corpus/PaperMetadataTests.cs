using Embeddings.Corpus;
using Embeddings.Search;
using Embeddings.Store;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Corpus;

/// <summary>
/// Which input fields become which metadata (ids, categories, authors, dates, links), how dates are validated, and that
/// a date without a year (or no date at all) never passes a date bound.
/// </summary>
public sealed class PaperMetadataTests
{
    private static async Task<List<SourcedPaper>> Read(string path, List<PaperReadIssue>? issues = null)
    {
        var options = new PaperReaderOptions { SkipBad = issues is not null, OnIssue = issues is null ? null : issues.Add };
        var list = new List<SourcedPaper>();
        await foreach (SourcedPaper p in PaperReader.ReadAsync(path, options))
        {
            list.Add(p);
        }
        return list;
    }

    [Theory]
    [InlineData("2024-03-14", "2024-03-14")]
    [InlineData(" 2024-03-14T10:22:01Z ", "2024-03-14")]
    [InlineData("2024-03-14 10:22:01", "2024-03-14")]
    [InlineData("2024-03-14T10:22:01.5+02:00", "2024-03-14")]
    [InlineData("2024-03", "2024-03")]
    [InlineData("2024", "2024")]
    [InlineData("Mar 14, 2024", "2024-03-14")]
    [InlineData("March 14 2024", "2024-03-14")]
    [InlineData("14 Mar 2024", "2024-03-14")]
    [InlineData("Sept 3, 2021", "2021-09-03")]
    [InlineData("Mar 2024", "2024-03")]
    [InlineData("Thu, 14 Mar 2024 10:00:00 GMT", "2024-03-14")]
    [InlineData("Mon, 2 Apr 2007 19:18:42 +0000", "2007-04-02")]
    [InlineData("2024-02-29", "2024-02-29")]
    public void Dates_with_a_year_become_iso_at_the_precision_given(string written, string iso)
    {
        Assert.Equal(PaperMetadata.DateKind.Dated, PaperMetadata.TryParseDate(written, out string? parsed));
        Assert.Equal(iso, parsed);
    }

    [Theory]
    [InlineData("Mar 14")]
    [InlineData("Feb 29")]
    [InlineData("14 March")]
    public void A_month_and_day_without_a_year_is_no_date(string written)
    {
        Assert.Equal(PaperMetadata.DateKind.Yearless, PaperMetadata.TryParseDate(written, out string? parsed));
        Assert.Null(parsed);
    }

    [Theory]
    [InlineData("tomorrow")]
    [InlineData("2023-02-29")]
    [InlineData("2024-13-01")]
    [InlineData("2024-3-1")]
    [InlineData("Feb 30, 2024")]
    [InlineData("Mar 32")]
    [InlineData("14/03/2024")]
    [InlineData("2024-03T10:00")]
    [InlineData("Mar 14, 2024 tomorrow")]
    [InlineData("99")]
    public void Anything_else_is_not_a_date(string written) =>
        Assert.Equal(PaperMetadata.DateKind.Invalid, PaperMetadata.TryParseDate(written, out _));

    [Fact]
    public void List_literals_quoted_as_python_writes_them_and_separated_strings_are_lists()
    {
        Assert.True(PaperMetadata.TrySplitList("['math.ST', 'stat.ML']", PaperMetadata.SplitCategories, out var categories, out _));
        Assert.Equal(["math.ST", "stat.ML"], categories);
        Assert.True(PaperMetadata.TrySplitList("['Kalle Alaluusua', \"Conor O'Brien\", 'B. R. Vinay Kumar', 'Smith, J.', 'A\\'s']",
            PaperMetadata.SplitAuthors, out var authors, out _));
        Assert.Equal(["Kalle Alaluusua", "Conor O'Brien", "B. R. Vinay Kumar", "Smith, J.", "A's"], authors);
        Assert.True(PaperMetadata.TrySplitList("[\"cs.LG\",\"cs.AI\"]", PaperMetadata.SplitCategories, out categories, out _));
        Assert.Equal(["cs.LG", "cs.AI"], categories);
        Assert.True(PaperMetadata.TrySplitList("[]", PaperMetadata.SplitCategories, out categories, out _));
        Assert.Empty(categories);
        Assert.True(PaperMetadata.TrySplitList("cs.LG, stat.ML", PaperMetadata.SplitCategories, out categories, out _));
        Assert.Equal(["cs.LG", "stat.ML"], categories);
        Assert.True(PaperMetadata.TrySplitList("Ann Lee, Bob Ray and Cy Doe", PaperMetadata.SplitAuthors, out authors, out _));
        Assert.Equal(["Ann Lee", "Bob Ray", "Cy Doe"], authors);

        Assert.False(PaperMetadata.TrySplitList("['math.ST', 'stat.ML'", PaperMetadata.SplitCategories, out _, out string? problem));
        Assert.Contains("does not end", problem, StringComparison.Ordinal);
        Assert.False(PaperMetadata.TrySplitList("['math.ST' 'stat.ML']", PaperMetadata.SplitCategories, out _, out problem));
        Assert.Contains("not separated by commas", problem, StringComparison.Ordinal);
        Assert.False(PaperMetadata.TrySplitList("[math.ST]", PaperMetadata.SplitCategories, out _, out problem));
        Assert.Contains("not a quoted string", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2505.24868", "https://arxiv.org/abs/2505.24868")]
    [InlineData("2505.24868v2", "https://arxiv.org/abs/2505.24868v2")]
    [InlineData("arXiv:0704.0001", "https://arxiv.org/abs/0704.0001")]
    [InlineData("math.ST/0601001", "https://arxiv.org/abs/math.ST/0601001")]
    [InlineData("hep-th/9901001v3", "https://arxiv.org/abs/hep-th/9901001v3")]
    [InlineData("2513.00001", null)]
    [InlineData("4983", null)]
    [InlineData("t-0123456789abcdef", null)]
    [InlineData("10.1000/xyz123", null)]
    public void Links_are_derived_from_arxiv_ids_only(string id, string? url) => Assert.Equal(url, PaperMetadata.ArxivAbsUrl(id));

    [Fact]
    public async Task The_arxiv_csv_keeps_its_ids_categories_authors_and_links()
    {
        string csv = TestPaths.SharedFile("eval-dev", "arxiv_math_2025", "arxiv_data.csv");
        List<SourcedPaper> papers = await Read(csv);
        Assert.Equal(3397, papers.Count);
        Paper first = papers[0].Paper;
        Assert.Equal("2505.24868", first.Id);
        Assert.Equal("Consistent line clustering using geometric hypergraphs", first.Title);
        Assert.Equal(["math.ST", "stat.ML"], first.Categories!);
        Assert.Equal(["Kalle Alaluusua", "Konstantin Avrachenkov", "B. R. Vinay Kumar", "Lasse Leskelä"], first.Authors!);
        Assert.Equal(4, first.AuthorCount);
        Assert.Equal("https://arxiv.org/abs/2505.24868", first.Url);
        Assert.Equal(2, papers[0].Line);
        Assert.All(papers, p =>
        {
            Assert.NotNull(PaperMetadata.ArxivId(p.Paper.Id));
            Assert.NotEmpty(p.Paper.Categories!);
            Assert.All(p.Paper.Categories!, c => Assert.DoesNotContain(c, "[]'\", "));
            Assert.NotEmpty(p.Paper.Authors!);
            Assert.All(p.Paper.Authors!, a => Assert.False(a.StartsWith('[') || a.StartsWith('\'') || a.StartsWith('"') || a.EndsWith(']'), a));
        });
        Assert.Equal(3397, papers.Select(p => p.Paper.Id).Distinct().Count());
        Assert.Equal(papers.Count(p => p.Paper.Categories!.Contains("math.ST")),
            papers.Count(p => new PaperFilter { Categories = new HashSet<string> { "math.ST" } }.Matches(p.Paper)));
    }

    [Fact]
    public async Task Ids_links_lists_and_dates_are_read_from_every_field_name_and_form()
    {
        using var dir = new TempDir();
        string jsonl = dir.File("in.jsonl");
        File.WriteAllText(jsonl,
            "{\"arxiv_id\":\"2401.00001\",\"title\":\"A\",\"abstract\":\"x\",\"tags\":\"['cs.LG', 'cs.AI']\",\"published\":\"2024-01-02T00:00:00Z\"}\n" +
            "{\"id\":\"s2-abc\",\"arxiv_id\":\"2401.00002\",\"title\":\"B\",\"abstract\":\"x\",\"authors\":[{\"authorId\":\"1\",\"name\":\"Ann Lee\"},{\"name\":\"Bob Ray\"}]}\n" +
            "{\"index\":\"2401.00003\",\"title\":\"C\",\"abstract\":\"x\",\"url\":\"https://example.org/c\",\"authors\":\"['Ann Lee', \\\"Conor O'Brien\\\"]\",\"date\":\"Mar 14\"}\n" +
            "{\"index\":7,\"title\":\"D\",\"abstract\":\"x\",\"date\":\"Mar 14, 2025\"}\n");
        List<Paper> papers = [.. (await Read(jsonl)).Select(p => p.Paper)];
        Assert.Equal(("2401.00001", "https://arxiv.org/abs/2401.00001", "2024-01-02"), (papers[0].Id, papers[0].Url, papers[0].Date));
        Assert.Equal(["cs.LG", "cs.AI"], papers[0].Categories!);
        Assert.Equal(("s2-abc", "https://arxiv.org/abs/2401.00002"), (papers[1].Id, papers[1].Url));
        Assert.Equal(["Ann Lee", "Bob Ray"], papers[1].Authors!);
        Assert.Equal(("2401.00003", "https://example.org/c", null, "Mar 14"), (papers[2].Id, papers[2].Url, papers[2].Date, papers[2].DateText));
        Assert.Equal(["Ann Lee", "Conor O'Brien"], papers[2].Authors!);
        // A bare row number in an 'index' column is no identity (it repeats in every file): the title decides.
        Assert.Equal((PaperIdentity.IdFromTitle("D"), "2025-03-14", null), (papers[3].Id, papers[3].Date, papers[3].Url));

        string csv = dir.File("in.csv");
        File.WriteAllText(csv,
            "index,title,tags,authors,abstract,update_date\n" +
            "2505.24868,Line clustering,\"['math.ST', 'stat.ML']\",\"['Kalle Alaluusua', 'Lasse Leskelä']\",Abstract one.,2025-05-30\n" +
            "0,Row numbered,math.PR,Ann Lee; Bob Ray,Abstract two.,\n");
        List<Paper> rows = [.. (await Read(csv)).Select(p => p.Paper)];
        Assert.Equal(("2505.24868", "2025-05-30", "https://arxiv.org/abs/2505.24868"), (rows[0].Id, rows[0].Date, rows[0].Url));
        Assert.Equal(["math.ST", "stat.ML"], rows[0].Categories!);
        Assert.Equal(["Kalle Alaluusua", "Lasse Leskelä"], rows[0].Authors!);
        Assert.Equal((PaperIdentity.IdFromTitle("Row numbered"), null), (rows[1].Id, rows[1].Date));
        Assert.Equal(["math.PR"], rows[1].Categories!);
        Assert.Equal(["Ann Lee", "Bob Ray"], rows[1].Authors!);
    }

    public static TheoryData<string, string, string> BadMetadata => new()
    {
        { "{\"id\":\"b\",\"abstract\":\"x\",\"date\":\"tomorrow\"}", "date", "'tomorrow' is not a date" },
        { "{\"id\":\"b\",\"abstract\":\"x\",\"date\":\"2023-02-29\"}", "date", "is not a date" },
        { "{\"id\":\"b\",\"abstract\":\"x\",\"update_date\":\"05/30/2025\"}", "update_date", "is not a date" },
        { "{\"id\":\"b\",\"abstract\":\"x\",\"url\":\"arxiv.org/abs/1\"}", "url", "not an http(s) link" },
        { "{\"id\":\"b\",\"abstract\":\"x\",\"url\":\"javascript:alert(1)\"}", "url", "not an http(s) link" },
        { "{\"id\":\"b\",\"abstract\":\"x\",\"tags\":\"['a', 'b'\"}", "tags", "does not end with ']'" },
        { "{\"id\":\"b\",\"abstract\":\"x\",\"authors\":\"['Ann' 'Bob']\"}", "authors", "not separated by commas" },
    };

    [Theory]
    [MemberData(nameof(BadMetadata))]
    public async Task Bad_metadata_names_file_line_and_field_and_is_skipped_with_skip_bad(string record, string field, string problem)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.jsonl");
        File.WriteAllText(path, "{\"id\":\"ok\",\"abstract\":\"Fine.\",\"date\":\"2024-01-01\"}\n" + record + "\n");
        InputFormatException e = await Assert.ThrowsAsync<InputFormatException>(() => Read(path));
        Assert.Equal((2L, field), (e.Line, e.Field));
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
        var issues = new List<PaperReadIssue>();
        Assert.Equal(["ok"], (await Read(path, issues)).Select(p => p.Paper.Id));
        Assert.Equal(field, Assert.Single(issues).Field);
    }

    /// <summary>
    /// Regression (issue 11, item 6): a daily-papers date without a year ("Mar 14") and an unvalidated JSONL date were
    /// stored as written and compared as strings, so they passed any <c>date&gt;=</c> bound ("M" and "t" sort after "2").
    /// </summary>
    [Fact]
    public async Task Dates_without_a_year_or_without_a_date_never_pass_a_date_bound()
    {
        using var dir = new TempDir();
        string page = dir.File("page.txt");
        File.WriteAllText(page, "Daily Papers\n\nMar 14\n\nListed Paper\n\nAn abstract.\n\n  \u2022 2 authors\nMar 14\n\nDated Paper\n\nAnother abstract.\n\n  \u2022 3 authors\nMar 14, 2025 4\n");
        List<Paper> papers = [.. (await Read(page)).Select(p => p.Paper)];
        Assert.Equal((null, "Mar 14"), (papers[0].Date, papers[0].DateText));
        Assert.Equal(("2025-03-14", null), (papers[1].Date, papers[1].DateText));

        PaperFilter since = PaperFilter.Parse(["date>=2025-03-01"])!;
        PaperFilter until = PaperFilter.Parse(["date<=2025-03-31"])!;
        Assert.False(since.Matches(papers[0]));
        Assert.False(until.Matches(papers[0]));
        Assert.True(since.Matches(papers[1]) && until.Matches(papers[1]));

        // Dates of month or year precision pass a bound only when all of them does.
        Assert.True(since.Matches(papers[1] with { Date = "2025-04" }));
        Assert.False(since.Matches(papers[1] with { Date = "2025" }));
        Assert.True(PaperFilter.Parse(["date=2025"])!.Matches(papers[1] with { Date = "2025" }));
        Assert.False(PaperFilter.Parse(["date=2025-03"])!.Matches(papers[1] with { Date = "2025" }));

        // Stores written before dates were validated hold "Mar 14" and "tomorrow" as dates: they read as no date.
        string fixture = Path.Combine(TestPaths.RepoRoot, "tests", "Embeddings.Tests", "Store", "Fixtures", "store-v2");
        using var copy = new TempDir();
        foreach (string file in Directory.GetFiles(fixture))
        {
            File.Copy(file, Path.Combine(copy.Path, Path.GetFileName(file)));
        }
        using PaperStore store = PaperStore.Open(copy.Path);
        var stored = new Dictionary<string, Paper>();
        await foreach (StoredPaper p in store.ReadPapersAsync())
        {
            stored[p.Paper.Title] = p.Paper;
        }
        Assert.Equal((null, "Mar 14"), (stored["Graph networks"].Date, stored["Graph networks"].DateText));
        Assert.Equal((null, "tomorrow"), (stored["Unvalidated dates"].Date, stored["Unvalidated dates"].DateText));
        Assert.Equal("2021-01-01", stored["Sparse attention for long documents"].Date);
        Assert.Equal(["Sparse attention for long documents"],
            stored.Values.Where(PaperFilter.Parse(["date>=2020-01-01"])!.Matches).Select(p => p.Title));
        Assert.Equal("https://arxiv.org/abs/2101.00001", stored["Sparse attention for long documents"].Url);
    }

    [Fact]
    public async Task Metadata_and_the_source_line_are_kept_through_the_store()
    {
        using var dir = new TempDir();
        string csv = dir.File("papers.csv");
        File.WriteAllText(csv,
            "index,title,tags,authors,abstract,date,url\n" +
            "2505.24868,Line clustering,\"['math.ST', 'stat.ML']\",\"['Kalle Alaluusua', 'Lasse Leskelä']\",Abstract one.,2025-05-30,\n" +
            "x-2,Elsewhere,math.PR,Ann Lee,Abstract two.,Mar 14,https://example.org/x-2\n");
        using var encoder = new HashingTestEncoder(8, "test-double:hashing-words:8");
        using (PaperStore store = PaperStore.Create(dir.File("store"), encoder.Fingerprint, encoder.Dimension))
        {
            await store.IngestFilesAsync([csv], encoder);
        }
        using PaperStore reopened = PaperStore.Open(dir.File("store"));
        StoredPaper first = reopened.GetPaper("2505.24868")!;
        Assert.Equal(("papers.csv", 2L), (first.SourceFile, first.SourceLine));
        Assert.Equal(["math.ST", "stat.ML"], first.Paper.Categories!);
        Assert.Equal(["Kalle Alaluusua", "Lasse Leskelä"], first.Paper.Authors!);
        Assert.Equal(("2025-05-30", "https://arxiv.org/abs/2505.24868"), (first.Paper.Date, first.Paper.Url));
        StoredPaper second = reopened.GetPaper("x-2")!;
        Assert.Equal((3L, null, "Mar 14", "https://example.org/x-2"), (second.SourceLine, second.Paper.Date, second.Paper.DateText, second.Paper.Url));
        var streamed = new List<StoredPaper>();
        await foreach (StoredPaper p in reopened.ReadPapersAsync())
        {
            streamed.Add(p);
        }
        static string Describe(StoredPaper p) => string.Join("|", p.Paper.Id, p.Paper.Date, p.Paper.DateText, p.Paper.Url, p.SourceFile, p.SourceLine,
            string.Join(",", p.Paper.Authors ?? []), string.Join(",", p.Paper.Categories ?? []));
        Assert.Equal([Describe(first), Describe(second)], streamed.Select(Describe));
    }
}
