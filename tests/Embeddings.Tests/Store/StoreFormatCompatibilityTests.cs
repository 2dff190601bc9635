using Embeddings.Corpus;
using Embeddings.Store;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Store;

/// <summary>
/// A store written by format version 1, committed under Fixtures/store-v1, must stay readable by every later build
/// (read directly, or through a migration registered in PaperStore). Regenerate it only when the format is still
/// version 1: <c>EMBEDDINGS_WRITE_STORE_FIXTURE=1 dotnet test --filter StoreFormatCompatibility</c>.
/// </summary>
public sealed class StoreFormatCompatibilityTests
{
    private static string FixtureDir => Path.Combine(TestPaths.RepoRoot, "tests", "Embeddings.Tests", "Store", "Fixtures", "store-v1");

    private static readonly Paper[] First =
    [
        new("2101.00001", "Sparse attention for long documents", "We propose a sparse attention pattern.", ["Ann Lee", "Bob Ray"], "2021-01-01", ["cs.CL"]),
        new("2101.00002", "Graph networks", "Message passing on graphs.", null, null, null, 3),
    ];

    private static readonly Paper[] Second =
    [
        new("2101.00002", "Graph networks", "Message passing on graphs, revised."),
        new("2101.00001", "Sparse attention for long documents", "We propose a sparse attention pattern.", ["Ann Lee", "Bob Ray"], "2021-01-01", ["cs.CL"]),
        new(PaperIdentity.IdFromTitle("Untitled ids"), "Untitled ids", "A paper from a dump without ids."),
    ];

    [Fact]
    public async Task Version1Store_IsRead()
    {
        if (Environment.GetEnvironmentVariable("EMBEDDINGS_WRITE_STORE_FIXTURE") == "1")
        {
            Assert.Equal(1, PaperStore.FormatVersion);
            if (Directory.Exists(FixtureDir))
            {
                Directory.Delete(FixtureDir, recursive: true);
            }
            using var encoder = new HashingTestEncoder(8, "test-double:hashing-words:8");
            using (PaperStore store = PaperStore.Create(FixtureDir, encoder.Fingerprint, encoder.Dimension))
            {
                await store.IngestAsync(StoreTestHelpers.Papers("dump-1.jsonl", First), encoder);
                await store.IngestAsync(StoreTestHelpers.Papers("dump-2.jsonl", Second), encoder);
            }
            File.Delete(Path.Combine(FixtureDir, "writer.lock"));
        }

        using var dir = new TempDir();
        foreach (string file in Directory.GetFiles(FixtureDir))
        {
            File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        }
        using PaperStore v1 = PaperStore.Open(dir.Path);
        Assert.Equal(("test-double:hashing-words:8", 8, 3, 4, 2), (v1.ModelFingerprint, v1.Dimension, v1.Count, v1.RowCount, v1.SegmentCount));
        StoredPaper sparse = v1.GetPaper("2101.00001")!;
        // Links are derived from arXiv ids when reading records of stores that did not keep one.
        Assert.Equal(First[0] with { AuthorCount = null, Url = "https://arxiv.org/abs/2101.00001" },
            sparse.Paper with { Authors = First[0].Authors, Categories = First[0].Categories, AuthorCount = null });
        Assert.Equal(["Ann Lee", "Bob Ray"], sparse.Paper.Authors!);
        Assert.Equal(["dump-1.jsonl", "dump-2.jsonl"], sparse.Sources);
        StoredPaper graph = v1.GetPaper("2101.00002")!;
        Assert.Equal((2, "Message passing on graphs, revised.", 2), (graph.Revision, graph.Paper.Abstract, graph.Row));
        Assert.Equal(HashingTestEncoder.Embed("Graph networks.\nMessage passing on graphs, revised.", 8), v1.GetVector("2101.00002"));
        Assert.Equal(HashingTestEncoder.Embed("Graph networks.\nMessage passing on graphs.", 8), v1.GetAllRows().Span.Slice(8, 8).ToArray());
        Assert.Equal([0, 2, 3], v1.GetLiveRows());
        Assert.NotNull(v1.GetPaper(PaperIdentity.IdFromTitle("untitled IDS")));

        // Writable open of the old store works too (and would run migrations once there are newer versions).
        using var encoder8 = new HashingTestEncoder(8, "test-double:hashing-words:8");
        v1.Dispose();
        using PaperStore writable = PaperStore.OpenOrCreate(dir.Path, encoder8);
        IngestSummary s = await writable.IngestAsync(StoreTestHelpers.Papers("dump-2.jsonl", Second), encoder8);
        Assert.Equal((0L, 3L), (s.Embedded, s.Duplicate));
    }

    private static string FixtureV2Dir => Path.Combine(TestPaths.RepoRoot, "tests", "Embeddings.Tests", "Store", "Fixtures", "store-v2");

    /// <summary>
    /// Papers as format 2 stored them: dates were kept as written (a daily-papers "Mar 14" without a year, a JSONL
    /// "tomorrow"), which later builds must not compare as dates.
    /// </summary>
    private static readonly Paper[] Version2Papers =
    [
        new("2101.00001", "Sparse attention for long documents", "We propose a sparse attention pattern.", ["Ann Lee", "Bob Ray"], "2021-01-01", ["cs.CL"]),
        new(PaperIdentity.IdFromTitle("Graph networks"), "Graph networks", "Message passing on graphs.", null, "Mar 14", null, 3),
        new("x-3", "Unvalidated dates", "A JSONL record whose date was not a date.", null, "tomorrow"),
    ];

    /// <summary>
    /// A store written by format version 2 (segments in the checksummed container, before paper records carried a link,
    /// the source line and validated dates), committed under Fixtures/store-v2. Regenerate it only with a build that
    /// writes version 2: <c>EMBEDDINGS_WRITE_STORE_FIXTURE=2 dotnet test --filter StoreFormatCompatibility</c>.
    /// </summary>
    [Fact]
    public async Task Version2Store_IsRead()
    {
        if (Environment.GetEnvironmentVariable("EMBEDDINGS_WRITE_STORE_FIXTURE") == "2")
        {
            Assert.Equal(2, PaperStore.FormatVersion);
            if (Directory.Exists(FixtureV2Dir))
            {
                Directory.Delete(FixtureV2Dir, recursive: true);
            }
            using var encoder = new HashingTestEncoder(8, "test-double:hashing-words:8");
            using (PaperStore store = PaperStore.Create(FixtureV2Dir, encoder.Fingerprint, encoder.Dimension))
            {
                await store.IngestAsync(StoreTestHelpers.Papers("dump-1.jsonl", Version2Papers), encoder);
            }
            File.Delete(Path.Combine(FixtureV2Dir, "writer.lock"));
        }

        using var dir = new TempDir();
        foreach (string file in Directory.GetFiles(FixtureV2Dir))
        {
            File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        }
        using PaperStore v2 = PaperStore.Open(dir.Path);
        Assert.Equal(("test-double:hashing-words:8", 8, 3, 3, 1), (v2.ModelFingerprint, v2.Dimension, v2.Count, v2.RowCount, v2.SegmentCount));
        StoredPaper sparse = v2.GetPaper("2101.00001")!;
        Assert.Equal(("Sparse attention for long documents", "2021-01-01"), (sparse.Paper.Title, sparse.Paper.Date));
        Assert.Equal(["Ann Lee", "Bob Ray"], sparse.Paper.Authors!);
        Assert.Equal(["cs.CL"], sparse.Paper.Categories!);
        Assert.Equal(["dump-1.jsonl"], sparse.Sources);
        Assert.Equal(HashingTestEncoder.Embed("Graph networks.\nMessage passing on graphs.", 8), v2.GetVector(PaperIdentity.IdFromTitle("Graph networks")));
    }
}
