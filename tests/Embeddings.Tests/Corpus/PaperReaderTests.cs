using System.IO.Compression;
using System.Text;
using Embeddings.Corpus;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Corpus;

public sealed class PaperReaderTests
{
    private static async Task<List<Paper>> ReadAll(string path, PaperReaderOptions? options = null)
    {
        var list = new List<Paper>();
        await foreach (SourcedPaper p in PaperReader.ReadAsync(path, options))
        {
            list.Add(p.Paper);
        }
        return list;
    }

    private static async Task<(List<SourcedPaper> Papers, List<PaperReadIssue> Issues)> ReadSkipping(string path, int maxField = 32_768, int maxRecord = 4 << 20)
    {
        var issues = new List<PaperReadIssue>();
        var options = new PaperReaderOptions { SkipBad = true, OnIssue = issues.Add, MaxFieldLength = maxField, MaxRecordBytes = maxRecord };
        var list = new List<SourcedPaper>();
        await foreach (SourcedPaper p in PaperReader.ReadAsync(path, options))
        {
            list.Add(p);
        }
        return (list, issues);
    }

    private static async Task<InputFormatException> ReadFails(string path, PaperReaderOptions? options = null) =>
        await Assert.ThrowsAsync<InputFormatException>(() => ReadAll(path, options));

    [Fact]
    public async Task DailyPapersDumps_CountsPerFileAndRepeatsAcrossFiles()
    {
        string[] files = Directory.GetFiles(TestPaths.DailyPapersDir, "*.txt").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(5, files.Length);
        var counts = new List<int>();
        var filesPerId = new Dictionary<string, HashSet<string>>();
        var textPerId = new Dictionary<string, UInt128>();
        foreach (string file in files)
        {
            List<Paper> papers = await ReadAll(file);
            counts.Add(papers.Count);
            foreach (Paper p in papers)
            {
                Assert.StartsWith(PaperIdentity.TitleIdPrefix, p.Id);
                Assert.True(p.Abstract.Length > 10, p.Title);
                Assert.DoesNotContain(p.Title, new[] { "new", "Subscribe", "Daily Papers", "byAK and the research community", "Get trending papers in your email inbox!" });
                Assert.DoesNotContain('\u2022', p.Title + p.Abstract);
                (filesPerId.TryGetValue(p.Id, out var set) ? set : filesPerId[p.Id] = []).Add(Path.GetFileName(file));
                UInt128 hash = PaperIdentity.ContentHash(p);
                if (textPerId.TryGetValue(p.Id, out UInt128 seen))
                {
                    Assert.Equal(seen, hash); // repeats carry identical text in these dumps
                }
                textPerId[p.Id] = hash;
            }
        }
        // Hand count (python over the raw files): 52 + 64 + 53 + 66 + 45 entries.
        Assert.Equal([52, 64, 53, 66, 45], counts);
        Assert.Equal(280, counts.Sum());
        Assert.Equal(236, filesPerId.Count);
        // 35 distinct papers appear in more than one file, accounting for 79 of the 280 entries.
        Assert.Equal(35, filesPerId.Values.Count(s => s.Count > 1));
        Assert.Equal(79, filesPerId.Values.Where(s => s.Count > 1).Sum(s => s.Count));
    }

    [Fact]
    public async Task DailyPapers_AuthorAndDateBlocksBecomeMetadata()
    {
        string file = Directory.GetFiles(TestPaths.DailyPapersDir, "003_*.txt").Single();
        List<Paper> papers = await ReadAll(file);
        Paper first = papers[0];
        Assert.Equal("ReAGent: Towards A Model-agnostic Feature Attribution Method for Generative Language Models", first.Title);
        Assert.Equal(2, first.AuthorCount);
        Assert.Equal("2024-02-01", first.Date);
        Assert.Equal((null, "Feb 10"), (papers[1].Date, papers[1].DateText)); // no year on the page: no date, the wording kept
        Assert.Equal(6, papers[1].AuthorCount);
        Paper rsq = papers.Single(p => p.Title.StartsWith("RSQ:", StringComparison.Ordinal));
        Assert.Equal((null, "Mar 3"), (rsq.Date, rsq.DateText)); // "Mar 3 3": trailing up-vote count dropped
        Assert.Equal(64, papers.Count(p => p.AuthorCount is not null));
    }

    [Fact]
    public async Task DailyPapers_SyntheticPageWithDatesAndTrailingTitle()
    {
        using var dir = new TempDir();
        string path = dir.File("page.txt");
        File.WriteAllText(path, "new\n\nSubscribe\n\nDaily Papers\n\nMar 14\n\nFirst Title\n\nFirst abstract.\n\n  \u2022 3 authors\nAug 28, 2024 7\n\nSecond Title\n\nSecond abstract.\n\nThird Title\n");
        InputFormatException e = await ReadFails(path);
        Assert.Equal(20, e.Line);
        Assert.Equal("abstract", e.Field);
        var (papers, issues) = await ReadSkipping(path);
        Assert.Equal(["First Title", "Second Title"], papers.Select(p => p.Paper.Title));
        Assert.Equal(9, papers[0].Line);
        Assert.Equal(3, papers[0].Paper.AuthorCount);
        Assert.Equal("2024-08-28", papers[0].Paper.Date);
        Assert.Null(papers[1].Paper.Date);
        Assert.Single(issues);
    }

    [Fact]
    public void TitleIdentity_IgnoresCaseSpacingAndPunctuation()
    {
        Assert.Equal("pointer networks", PaperIdentity.NormalizeTitle("  Pointer   Networks. "));
        Assert.Equal(PaperIdentity.IdFromTitle("Pointer Networks"), PaperIdentity.IdFromTitle("pointer  networks!"));
        Assert.NotEqual(PaperIdentity.IdFromTitle("Pointer Networks"), PaperIdentity.IdFromTitle("Pointer Network"));
        Assert.NotEqual(PaperIdentity.ContentHash("ab", "c"), PaperIdentity.ContentHash("a", "bc"));
    }

    [Fact]
    public async Task Jsonl_ReadsFieldsInEveryAcceptedShape()
    {
        using var dir = new TempDir();
        string path = dir.File("in.jsonl");
        File.WriteAllText(path,
            "{\"id\":\"2301.00001\",\"title\":\"A  Title\",\"abstract\":\"An\\nabstract.\",\"authors\":[\"Ann\",\"Bob\"],\"date\":\"2023-01-01\",\"categories\":[\"cs.LG\",\"stat.ML\"]}\n" +
            "\n" +
            "{\"id\":42,\"title\":\"T2\",\"abstract\":\"Abs 2\",\"authors\":\"Ann Lee, Bob Ray and Cy Doe\",\"categories\":\"cs.CL cs.AI\"}\n" +
            "{\"id\":\"x3\",\"text\":\"Only text.\"}\n" +
            "{\"title\":\"No Id Here\",\"abstract\":\"Derived id.\",\"update_date\":\"2020-05-05\"}\n");
        List<Paper> papers = await ReadAll(path);
        Assert.Equal(4, papers.Count);
        Assert.Equal(new Paper("2301.00001", "A Title", "An abstract.", papers[0].Authors, "2023-01-01", papers[0].Categories, 2, "https://arxiv.org/abs/2301.00001"), papers[0]);
        Assert.Equal(["Ann", "Bob"], papers[0].Authors!);
        Assert.Equal(["cs.LG", "stat.ML"], papers[0].Categories!);
        Assert.Equal("42", papers[1].Id);
        Assert.Equal(["Ann Lee", "Bob Ray", "Cy Doe"], papers[1].Authors!);
        Assert.Equal(["cs.CL", "cs.AI"], papers[1].Categories!);
        Assert.Equal(("x3", "", "Only text."), (papers[2].Id, papers[2].Title, papers[2].Abstract));
        Assert.Equal("Only text.", papers[2].EmbeddingText);
        Assert.Equal(PaperIdentity.IdFromTitle("No Id Here"), papers[3].Id);
        Assert.Equal("2020-05-05", papers[3].Date);
    }

    public static TheoryData<string, long, string?, string> BadJsonl => new()
    {
        { "{\"id\":\"a\",\"title\":\"t\",\"abstract\":\"x\"\n", 2, null, "malformed JSON" },
        { "[1,2]\n", 2, null, "expected a JSON object" },
        { "{\"title\":\"t\"}\n", 2, "abstract", "missing or empty" },
        { "{\"id\":\"b\",\"title\":\"t\",\"abstract\":\"   \"}\n", 2, "abstract", "missing or empty" },
        { "{\"id\":\"b\",\"text\":\"\"}\n", 2, "text", "missing or empty" },
        { "{\"abstract\":\"x\"}\n", 2, "id", "missing" },
        { "{\"id\":\"b\",\"title\":7,\"abstract\":\"x\"}\n", 2, "title", "expected a string" },
        { "{\"id\":\"b\",\"abstract\":\"x\",\"authors\":[1]}\n", 2, "authors", "array of strings" },
        { "{\"id\":\"b\",\"abstract\":\"x\\u0000y\"}\n", 2, "abstract", "control character" },
        { "{\"id\":\"ok\",\"title\":\"Other\",\"abstract\":\"Different text\"}\n", 2, "id", "duplicate id 'ok' with different text (first seen at line 1)" },
    };

    [Theory]
    [MemberData(nameof(BadJsonl))]
    public async Task Jsonl_BadRecordNamesFileLineAndField_OrIsSkipped(string badLine, long line, string? field, string problem)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.jsonl");
        const string Good = "{\"id\":\"ok\",\"title\":\"T\",\"abstract\":\"Fine.\"}\n";
        const string After = "{\"id\":\"after\",\"title\":\"T3\",\"abstract\":\"Also fine.\"}\n";
        File.WriteAllText(path, Good + badLine + After);
        InputFormatException e = await ReadFails(path);
        Assert.Equal(path, e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
        Assert.StartsWith($"{path}:{line}:", e.Message, StringComparison.Ordinal);

        var (papers, issues) = await ReadSkipping(path);
        Assert.Equal(["ok", "after"], papers.Select(p => p.Paper.Id));
        Assert.Equal(3, papers[1].Line);
        PaperReadIssue issue = Assert.Single(issues);
        Assert.Equal((PaperIssueKind.Skipped, line, field), (issue.Kind, issue.Line, issue.Field));
    }

    [Fact]
    public async Task Jsonl_SameIdSameTextTwice_IsNotAnError()
    {
        using var dir = new TempDir();
        string path = dir.File("dup.jsonl");
        File.WriteAllText(path, "{\"id\":\"a\",\"title\":\"T\",\"abstract\":\"X\"}\n{\"id\":\"a\",\"title\":\"T\",\"abstract\":\"X\",\"date\":\"2020\"}\n");
        Assert.Equal(2, (await ReadAll(path)).Count);
    }

    [Fact]
    public async Task InvalidUtf8AndBinaryGarbage_AreBadRecords()
    {
        using var dir = new TempDir();
        string path = dir.File("garbage.jsonl");
        byte[] good = System.Text.Encoding.UTF8.GetBytes("{\"id\":\"a\",\"abstract\":\"X\"}\n");
        byte[] invalidUtf8 = [.. "{\"id\":\"b\",\"abstract\":\"caf"u8, 0xC3, 0x28, .. "\"}\n"u8];
        byte[] binary = [0x00, 0x01, 0xFF, 0xFE, 0x10, 0x00, (byte)'\n'];
        File.WriteAllBytes(path, [.. good, .. invalidUtf8, .. binary, .. "{\"id\":\"c\",\"abstract\":\"X\"}\n"u8]);
        InputFormatException e = await ReadFails(path);
        Assert.Equal(2, e.Line);
        Assert.Contains("invalid UTF-8 at byte 25", e.Problem, StringComparison.Ordinal);
        var (papers, issues) = await ReadSkipping(path);
        Assert.Equal(["a", "c"], papers.Select(p => p.Paper.Id));
        Assert.Equal([2L, 3L], issues.Select(i => i.Line));
        Assert.Contains("invalid UTF-8", issues[0].Problem, StringComparison.Ordinal);
        Assert.Contains("binary data", issues[1].Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DailyPapers_BinaryLineIsReported()
    {
        using var dir = new TempDir();
        string path = dir.File("bin.txt");
        File.WriteAllBytes(path, [.. "Title A\n\nAbstract A.\n\n"u8, 0x00, 0x9F, 0x92, .. "\n\nTitle B\n\nAbstract B.\n"u8]);
        InputFormatException e = await ReadFails(path);
        Assert.Equal(5, e.Line);
        var (papers, issues) = await ReadSkipping(path);
        Assert.Equal(["Title A", "Title B"], papers.Select(p => p.Paper.Title));
        Assert.Single(issues);
    }

    [Fact]
    public async Task LongField_IsCappedAndReported_LongRecordIsSkippedWithoutBuffering()
    {
        using var dir = new TempDir();
        string path = dir.File("long.jsonl");
        string longAbstract = new('a', 5000);
        string hugeLine = "{\"id\":\"huge\",\"abstract\":\"" + new string('b', 300_000) + "\"}";
        File.WriteAllText(path, $"{{\"id\":\"x\",\"title\":\"T\",\"abstract\":\"{longAbstract}\"}}\n{hugeLine}\n{{\"id\":\"y\",\"abstract\":\"short\"}}\n");
        var (papers, issues) = await ReadSkipping(path, maxField: 1000, maxRecord: 100_000);
        Assert.Equal(["x", "y"], papers.Select(p => p.Paper.Id));
        Assert.Equal(1000, papers[0].Paper.Abstract.Length);
        Assert.Equal(2, issues.Count);
        Assert.Equal((PaperIssueKind.Capped, 1L, "abstract"), (issues[0].Kind, issues[0].Line, issues[0].Field));
        Assert.Contains("5000 characters, cut to 1000", issues[0].Problem, StringComparison.Ordinal);
        Assert.Equal((PaperIssueKind.Skipped, 2L), (issues[1].Kind, issues[1].Line));
        Assert.Contains("longer than 100000 bytes", issues[1].Problem, StringComparison.Ordinal);

        // Capping alone is not an error: without SkipBad the capped paper is kept and reported.
        var capped = new List<PaperReadIssue>();
        InputFormatException e = await ReadFails(path, new PaperReaderOptions { MaxFieldLength = 1000, MaxRecordBytes = 100_000, OnIssue = capped.Add });
        Assert.Equal(2, e.Line);
        Assert.Single(capped);
    }

    [Fact]
    public async Task LongId_IsABadRecord()
    {
        using var dir = new TempDir();
        string path = dir.File("id.jsonl");
        File.WriteAllText(path, "{\"id\":\"" + new string('i', 600) + "\",\"abstract\":\"x\"}\n");
        InputFormatException e = await ReadFails(path);
        Assert.Equal("id", e.Field);
    }

    [Fact]
    public async Task Csv_Rfc4180QuotingAndOptionalColumns()
    {
        using var dir = new TempDir();
        string path = dir.File("in.csv");
        File.WriteAllText(path,
            "id,title,abstract,authors,date,categories,extra\r\n" +
            "a1,\"Commas, and \"\"quotes\"\"\",\"Line one\r\nline two\",\"Ann; Bob\",2021-03-04,cs.LG stat.ML,z\r\n" +
            "a2,Plain,Simple abstract,,,,\r\n" +
            ",Title Only Id,Abstract three,,,,\r\n");
        var (papers, issues) = await ReadSkipping(path);
        Assert.Empty(issues);
        Assert.Equal(3, papers.Count);
        Paper a1 = papers[0].Paper;
        Assert.Equal(("a1", "Commas, and \"quotes\"", "Line one line two", "2021-03-04"), (a1.Id, a1.Title, a1.Abstract, a1.Date));
        Assert.Equal(["Ann", "Bob"], a1.Authors!);
        Assert.Equal(["cs.LG", "stat.ML"], a1.Categories!);
        Assert.Null(papers[1].Paper.Authors);
        Assert.Equal(5, papers[2].Line); // the quoted line break makes record 2 two lines long
        Assert.Equal(PaperIdentity.IdFromTitle("Title Only Id"), papers[2].Paper.Id);
    }

    [Fact]
    public async Task Csv_IdAndTextColumns()
    {
        using var dir = new TempDir();
        string path = dir.File("t.csv");
        File.WriteAllText(path, "id,text\nq1,Some text\n");
        Paper p = Assert.Single(await ReadAll(path));
        Assert.Equal(("q1", "Some text"), (p.Id, p.Abstract));
    }

    [Fact]
    public async Task Csv_BadRecords()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.csv");
        File.WriteAllText(path, "id,title,abstract\nok,T,Fine\nshort,T\nempty,T,\nlast,T,\"never closed\n");
        InputFormatException e = await ReadFails(path);
        Assert.Equal((3L, null as string), (e.Line, e.Field));
        Assert.Contains("expected 3 fields", e.Problem, StringComparison.Ordinal);
        var (papers, issues) = await ReadSkipping(path);
        Assert.Equal(["ok"], papers.Select(p => p.Paper.Id));
        Assert.Equal([3L, 4L, 5L], issues.Select(i => i.Line));
        Assert.Equal("abstract", issues[1].Field);
        Assert.Contains("unterminated quoted field", issues[2].Problem, StringComparison.Ordinal);

        string noAbstract = dir.File("noabs.csv");
        File.WriteAllText(noAbstract, "id,title\na,b\n");
        Assert.Contains("no 'abstract'", (await ReadFails(noAbstract)).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gzip_IsReadByTheInnerExtension_AndCorruptGzipIsNamed()
    {
        using var dir = new TempDir();
        string path = dir.File("in.jsonl.gz");
        using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        {
            gz.Write("{\"id\":\"g\",\"abstract\":\"zipped\"}\n"u8);
        }
        Assert.Equal("zipped", Assert.Single(await ReadAll(path)).Abstract);

        string bad = dir.File("bad.csv.gz");
        File.WriteAllBytes(bad, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        InputFormatException e = await ReadFails(bad);
        Assert.Equal(bad, e.File);
        Assert.Contains("gzip", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownExtension_SaysWhichAreKnown()
    {
        using var dir = new TempDir();
        string path = dir.File("in.xml");
        File.WriteAllText(path, "<x/>");
        InputFormatException e = await ReadFails(path);
        Assert.Contains(".jsonl", e.Problem, StringComparison.Ordinal);
    }
}
