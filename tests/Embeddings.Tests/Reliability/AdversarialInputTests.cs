using System.IO.Compression;
using System.Text;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Reliability;

/// <summary>
/// The hostile-but-fair user's inputs, generated: every kind of bad record at the first, a middle and the last line
/// of a JSONL or CSV file of good papers, and whole files that are not what their name says (binary, UTF-16 without
/// a byte-order mark, truncated or damaged gzip, a directory, a missing file). Each is fed to the real CLI three ways:
/// <c>ingest</c> (exit 2, one line naming file, line and field, the store's export unchanged), <c>ingest --skip-bad</c>
/// (the store's export a superset holding the good papers, the bad one reported with its file and line, never stored)
/// and <c>embed</c> (exit 2, one line, no output file left).
/// </summary>
public sealed class AdversarialInputTests(ReliabilityFixture fixture) : IClassFixture<ReliabilityFixture>
{
    /// <summary>One bad input: its file name and bytes, and what the error must name.</summary>
    public sealed record BadInput(string Name, string FileName, Func<ReliabilityFixture, byte[]> Content, long Line, string? Field, string Fragment)
    {
        /// <summary>Whether the whole file is at fault (no good paper in it can be read).</summary>
        public bool FileLevel => Line == 0;

        public override string ToString() => Name;
    }

    private static readonly (string Name, string Line, string? Field, string Fragment)[] JsonlRecords =
    [
        ("malformed-json", "{\"id\": \"bad\", \"title\": ", null, "malformed JSON"),
        ("lone-surrogate-title", "{\"id\": \"bad\", \"title\": \"Broken \\ud800 title\", \"abstract\": \"An abstract about graphs.\"}", "title", "lone surrogate"),
        ("lone-surrogate-abstract", "{\"id\": \"bad\", \"title\": \"A fine title\", \"abstract\": \"Text \\udfff here.\"}", "abstract", "lone surrogate"),
        ("lone-surrogate-id", "{\"id\": \"b\\ud834\", \"title\": \"A fine title\", \"abstract\": \"An abstract about graphs.\"}", "id", "lone surrogate"),
        ("lone-surrogate-author", "{\"id\": \"bad\", \"title\": \"A fine title\", \"abstract\": \"An abstract.\", \"authors\": [\"Ada\", \"\\ud800x\"]}", "authors", "lone surrogate"),
        ("duplicate-key", "{\"id\": \"bad\", \"title\": \"One\", \"title\": \"Two\", \"abstract\": \"An abstract about graphs.\"}", "title", "duplicate"),
        ("title-number", "{\"id\": \"bad\", \"title\": 42, \"abstract\": \"An abstract about graphs.\"}", "title", "expected"),
        ("authors-object", "{\"id\": \"bad\", \"title\": \"A fine title\", \"abstract\": \"An abstract.\", \"authors\": {\"a\": 1}}", "authors", "expected"),
        ("categories-number-item", "{\"id\": \"bad\", \"title\": \"A fine title\", \"abstract\": \"An abstract.\", \"categories\": [\"cs.LG\", 7]}", "categories", "expected"),
        ("missing-abstract", "{\"id\": \"bad\", \"title\": \"A fine title\"}", "abstract", "missing"),
        ("no-id-no-title", "{\"abstract\": \"An abstract about graphs.\", \"authors\": []}", "id", "missing"),
        ("c0-control-title", "{\"id\": \"bad\", \"title\": \"Bell \\u0007 title\", \"abstract\": \"An abstract about graphs.\"}", "title", "control character U+0007"),
        ("c1-control-abstract", "{\"id\": \"bad\", \"title\": \"A fine title\", \"abstract\": \"Latin-1 \\u0090 mojibake.\"}", "abstract", "control character U+0090"),
        ("del-title", "{\"id\": \"bad\", \"title\": \"Delete \\u007f me\", \"abstract\": \"An abstract about graphs.\"}", "title", "control character U+007F"),
        ("c0-control-category", "{\"id\": \"bad\", \"title\": \"A fine title\", \"abstract\": \"An abstract.\", \"categories\": [\"cs\\u0001LG\"]}", "categories", "control character U+0001"),
        ("top-level-array", "[\"A fine title\", \"An abstract about graphs.\"]", null, "object"),
        ("too-deep", "{\"id\": \"bad\", \"title\": \"A fine title\", \"abstract\": \"x\", \"extra\": " + new string('[', 40) + new string(']', 40) + "}", null, "depth"),
    ];

    private static readonly (string Name, string Row, string? Field, string Fragment)[] CsvRecords =
    [
        ("csv-too-many-fields", "bad,A title,An abstract,surplus", null, "expected 3 fields"),
        ("csv-too-few-fields", "bad,Only a title", null, "expected 3 fields"),
        ("csv-c0-control", "bad,Bell \u0007 title,An abstract about graphs.", null, "control byte 0x07"),
    ];

    public static IEnumerable<object[]> Inputs()
    {
        foreach (var (name, line, field, fragment) in JsonlRecords)
        {
            foreach (int at in new[] { 0, 6, 12 })
            {
                yield return [new BadInput($"{name}@{at + 1}", $"{name}.jsonl", f => Lines(Insert(f.GoodJsonl, at, line)), at + 1, field, fragment)];
            }
        }
        foreach (var (name, row, field, fragment) in CsvRecords)
        {
            foreach (int at in new[] { 0, 6, 12 })
            {
                // Line 1 is the header: the record inserted at index `at` is on line at + 2.
                yield return [new BadInput($"{name}@{at + 2}", $"{name}.csv", f => Lines([ReliabilityFixture.CsvHeader, .. Insert(f.GoodCsv, at, row)]), at + 2, field, fragment)];
            }
        }
        // An unclosed quote: reported at its line, and the rows it would have swallowed are read again as rows.
        foreach (int at in new[] { 0, 6, 11 })
        {
            yield return [new BadInput($"csv-unclosed-quote@{at + 2}", "csv-unclosed-quote.csv",
                f => Lines([ReliabilityFixture.CsvHeader, .. Insert(f.GoodCsv, at, "bad,\"An unclosed title,An abstract")]), at + 2, "title", "unterminated quoted field")];
        }
        // Invalid UTF-8 on one line.
        foreach (int at in new[] { 0, 6, 12 })
        {
            yield return [new BadInput($"invalid-utf8@{at + 1}", "invalid-utf8.jsonl", f =>
            {
                byte[] bad = [.. "{\"id\": \"bad\", \"title\": \"Caf"u8.ToArray(), 0xC3, 0x28, .. "\", \"abstract\": \"An abstract.\"}"u8.ToArray()];
                return [.. Lines(f.GoodJsonl.Take(at)), .. bad, (byte)'\n', .. Lines(f.GoodJsonl.Skip(at))];
            }, at + 1, null, "UTF-8")];
        }

        // Whole files.
        yield return [new BadInput("binary-as-txt", "figure.txt", _ => [0x89, .. "PNG\r\n\u001a\n"u8.ToArray(), .. new byte[600], .. Enumerable.Range(0, 400).Select(i => (byte)(i * 37))], 0, null, "binary")];
        yield return [new BadInput("binary-as-jsonl", "figure.jsonl", _ => [.. Enumerable.Range(0, 2000).Select(i => (byte)((i * 131) ^ (i >> 3)))], 0, null, "binary")];
        yield return [new BadInput("utf16-no-bom", "utf16.jsonl", f => System.Text.Encoding.Unicode.GetBytes(string.Join('\n', f.GoodJsonl) + "\n"), 0, null, "UTF-16")];
        foreach (double cut in new[] { 0.3, 0.6, 0.9 })
        {
            yield return [new BadInput($"gzip-truncated-{cut:0.0}", "cut.jsonl.gz", f => Gzip(f.GoodJsonl)[..(int)(Gzip(f.GoodJsonl).Length * cut)], 0, null, "truncated")];
        }
        yield return [new BadInput("gzip-trailer-cut", "trailer.jsonl.gz", f => Gzip(f.GoodJsonl)[..^4], 0, null, "truncated")];
        yield return [new BadInput("gzip-corrupt-crc", "crc.jsonl.gz", f =>
        {
            byte[] gz = Gzip(f.GoodJsonl);
            gz[^6] ^= 0x5A; // inside the CRC-32 of the trailer
            return gz;
        }, 0, null, "does not match")];
        yield return [new BadInput("gzip-trailing-garbage", "garbage.jsonl.gz", f => [.. Gzip(f.GoodJsonl), .. "garbage after the end"u8.ToArray()], 0, null, "trailing data")];
        yield return [new BadInput("not-gzip", "plain.jsonl.gz", f => Lines(f.GoodJsonl), 0, null, "not gzip")];
        yield return [new BadInput("empty-gzip", "empty.jsonl.gz", _ => [], 0, null, "empty")];
    }

    /// <summary>Inputs that are not files at all: refused before any work, with or without --skip-bad.</summary>
    public static IEnumerable<object[]> NotFiles() =>
    [
        ["directory", "is a directory"],
        ["missing", "not found"],
        ["unknown-extension", "unknown input format"],
    ];

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Ingest_refuses_bad_input_with_one_line_naming_file_line_field_and_changes_nothing(BadInput input)
    {
        using var dir = new TempDir();
        string file = Write(dir, input);
        string store = fixture.CopyBaseStore(dir);

        var (exit, stdout, stderr) = await CliHarness.RunAsync("ingest", "--store", store, file, "--model", fixture.Model, "--quiet");

        Assert.True(exit == 2, $"{input}: exit {exit}\n{stdout}\n{stderr}");
        string line = ReliabilityFixture.AssertOneLineError(stderr, input.Name);
        AssertNames(line, file, input);
        Assert.Equal(fixture.BaseExport, await ReliabilityFixture.ExportAsync(store));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Ingest_skip_bad_stores_the_good_papers_reports_the_bad_and_never_stores_it(BadInput input)
    {
        using var dir = new TempDir();
        string file = Write(dir, input);
        string store = fixture.CopyBaseStore(dir);

        var (exit, stdout, stderr) = await CliHarness.RunAsync("ingest", "--store", store, file, "--model", fixture.Model, "--quiet", "--skip-bad", "--json");

        ReliabilityFixture.AssertNoStackTrace(stderr, input.Name);
        IReadOnlyList<string> export = await ReliabilityFixture.ExportAsync(store);
        Assert.All(fixture.BaseExport, line => Assert.Contains(line, export)); // never anything lost
        Assert.DoesNotContain(export, line => line.Contains("\"id\":\"bad\"", StringComparison.Ordinal));
        if (input.FileLevel)
        {
            // A file that is not what it says is one issue (or, for a damaged gzip, the error): no paper made of it.
            Assert.True(exit is 0 or 2, $"{input}: exit {exit}\n{stderr}");
            string reported = stderr.Split('\n').First(l => l.Contains(file, StringComparison.Ordinal));
            Assert.Contains(input.Fragment, reported, StringComparison.OrdinalIgnoreCase);
            return;
        }
        Assert.True(exit == 0, $"{input}: exit {exit}\n{stderr}");
        string issue = stderr.Split('\n').Single(l => l.Contains($"{file}:{input.Line}:", StringComparison.Ordinal));
        AssertNames(issue, file, input);
        bool csv = input.FileName.EndsWith(".csv", StringComparison.Ordinal);
        string prefix = csv ? "c" : "g";
        for (int i = 0; i < 12; i++)
        {
            // Every good paper of the file is stored, also those after an unclosed quote.
            Assert.Contains(export, line => line.Contains($"\"id\":\"{prefix}{i:D2}\"", StringComparison.Ordinal));
        }
        Assert.Equal(csv ? 24 : 12, export.Count);
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Embed_refuses_bad_input_with_one_line_and_leaves_no_output(BadInput input)
    {
        using var dir = new TempDir();
        string file = Write(dir, input);
        string output = dir.File("vectors.jsonl");

        var (exit, stdout, stderr) = await CliHarness.RunAsync("embed", file, "-o", output, "--model", fixture.Model, "--quiet");

        Assert.True(exit == 2, $"{input}: exit {exit}\n{stdout}\n{stderr}");
        AssertNames(ReliabilityFixture.AssertOneLineError(stderr, input.Name), file, input);
        Assert.False(File.Exists(output), "a failed embed left an output file");
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories).Concat(Directory.GetFiles(dir.Path, ".*.tmp")));
    }

    [Theory]
    [MemberData(nameof(NotFiles))]
    public async Task Paths_that_are_not_input_files_are_refused_before_any_work(string kind, string fragment)
    {
        using var dir = new TempDir();
        string path = kind switch
        {
            "directory" => Directory.CreateDirectory(dir.File("dumps")).FullName,
            "missing" => dir.File("nowhere.jsonl"),
            _ => dir.File("paper.pdf"),
        };
        if (kind == "unknown-extension")
        {
            File.WriteAllText(path, "%PDF-1.7");
        }
        string store = fixture.CopyBaseStore(dir);
        foreach (string[] extra in new[] { Array.Empty<string>(), ["--skip-bad"] })
        {
            var (exit, _, stderr) = await CliHarness.RunAsync(["ingest", "--store", store, path, "--model", fixture.Model, "--quiet", .. extra]);
            Assert.True(exit == 2, $"{kind}: exit {exit}\n{stderr}");
            string line = ReliabilityFixture.AssertOneLineError(stderr, kind);
            Assert.Contains(path, line, StringComparison.Ordinal);
            Assert.Contains(fragment, line, StringComparison.OrdinalIgnoreCase);
        }
        var embed = await CliHarness.RunAsync("embed", path, "-o", dir.File("v.jsonl"), "--model", fixture.Model, "--quiet");
        Assert.Equal(2, embed.Exit);
        Assert.Contains(path, ReliabilityFixture.AssertOneLineError(embed.Err, kind), StringComparison.Ordinal);
        Assert.Equal(fixture.BaseExport, await ReliabilityFixture.ExportAsync(store));
    }

    private static void AssertNames(string line, string file, BadInput input)
    {
        Assert.Contains(file, line, StringComparison.Ordinal);
        if (!input.FileLevel)
        {
            Assert.Contains($"{file}:{input.Line}:", line, StringComparison.Ordinal);
        }
        if (input.Field is { } field)
        {
            Assert.Contains($"field '{field}'", line, StringComparison.Ordinal);
        }
        Assert.Contains(input.Fragment, line, StringComparison.OrdinalIgnoreCase);
    }

    private string Write(TempDir dir, BadInput input)
    {
        string path = dir.File(input.FileName);
        File.WriteAllBytes(path, input.Content(fixture));
        return path;
    }

    private static IReadOnlyList<string> Insert(IReadOnlyList<string> lines, int at, string line) => [.. lines.Take(at), line, .. lines.Skip(at)];

    private static byte[] Lines(IEnumerable<string> lines) => System.Text.Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));

    private static byte[] Gzip(IEnumerable<string> lines)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Lines(lines));
        }
        return buffer.ToArray();
    }
}
