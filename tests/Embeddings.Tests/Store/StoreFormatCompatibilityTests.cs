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
        Assert.Equal(First[0] with { AuthorCount = null }, sparse.Paper with { Authors = First[0].Authors, Categories = First[0].Categories, AuthorCount = null });
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
}
