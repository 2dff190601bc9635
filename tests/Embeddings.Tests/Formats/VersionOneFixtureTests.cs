using System.Text.Json;
using Embeddings.Encoding;
using Embeddings.Encoding.Lsa;
using Embeddings.Index;
using Embeddings.IO;
using Embeddings.Lexical;
using Embeddings.Search;
using Embeddings.Store;
using Embeddings.Tests.Support;
using Embeddings.Topics;

namespace Embeddings.Tests.Formats;

/// <summary>
/// Files written by the code before the checksummed container (format version 1 of each format), committed under
/// Fixtures/v1 with the results that code gave on them (expected.json), must still read and give the same results.
/// (The store's own v1 fixture is Store/Fixtures/store-v1, the HNSW one Index/Data/hnsw-v1.bin.)
/// </summary>
public sealed class VersionOneFixtureTests
{
    private static string Fixture(params string[] parts) => Path.Combine([TestPaths.RepoRoot, "tests", "Embeddings.Tests", "Fixtures", "v1", .. parts]);

    private static JsonElement Expected(string name) => JsonDocument.Parse(File.ReadAllText(Fixture("expected.json"))).RootElement.GetProperty(name);

    private static void AssertHits(JsonElement expected, IReadOnlyList<(string Id, float Score)> actual)
    {
        Assert.Equal(expected.GetArrayLength(), actual.Count);
        int i = 0;
        foreach (JsonElement hit in expected.EnumerateArray())
        {
            Assert.Equal(hit[0].ValueKind == JsonValueKind.Number ? hit[0].GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture) : hit[0].GetString(), actual[i].Id);
            Assert.Equal(hit[1].GetSingle(), actual[i].Score, 5);
            i++;
        }
    }

    [Fact]
    public void Bm25_version_1_is_read()
    {
        Bm25Index index = Bm25Index.Load(Fixture("lexical.bm25"));
        Assert.Equal(5, index.Count);
        AssertHits(Expected("bm25"), index.Search("sparse attention graphs", 5).Select(h => (h.Id, h.Score)).ToList());
    }

    [Fact]
    public async Task Lsa_model_version_1_is_read_with_its_fingerprint()
    {
        using LsaEncoder lsa = LsaEncoder.Load(Fixture("lsa-model"));
        JsonElement expected = Expected("lsa");
        Assert.Equal(expected.GetProperty("fingerprint").GetString(), lsa.Fingerprint);
        var batch = await lsa.EncodeAsync(["sparse attention on graphs"]);
        float[] want = expected.GetProperty("vector").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(want.Length, batch.Dimension);
        for (int i = 0; i < want.Length; i++)
        {
            Assert.Equal(want[i], batch[0][i], 5);
        }
    }

    [Fact]
    public void Embeddings_bin_version_1_is_read()
    {
        EmbeddingFileContents file = EmbeddingBinaryFormat.Read(Fixture("embeddings.bin"));
        Assert.Equal(("test-fingerprint", 4, 3), (file.Fingerprint, file.Batch.Dimension, file.Ids.Count));
        Assert.Equal(["a", "b\u00e9", "c"], file.Ids);
        Assert.Equal([1f, 0f, 0.5f, -0.25f], file.Batch[0].ToArray());
        Assert.Equal([0.125f, 2f, -1f, 3f], file.Batch[2].ToArray());
        Assert.Equal([false, false, true], file.Batch.Truncated);
        Assert.Equal([false, true, false], file.Batch.IsEmpty);
    }

    [Fact]
    public void Topic_snapshot_version_1_is_read()
    {
        TopicSnapshot snapshot = TopicHistory.Load(Fixture("topics.snapshot"))!;
        Assert.Equal((5, 3, 2), (snapshot.NextId, snapshot.Dimension, snapshot.Topics.Count));
        Assert.Equal("graph / attention", snapshot.Topics[0].Label);
        Assert.Equal(["p2", "p5"], snapshot.Topics[1].PaperIds);
        Assert.Equal([0.6f, 0.8f, 0f], snapshot.Topics[0].Centroid);
    }

    [Fact]
    public void Topic_history_version_1_is_read()
    {
        TopicHistoryLog log = TopicHistoryLog.Load(Fixture("topic-history", "kmeans-hybrid-kauto-tall-s42.history"))!;
        Assert.Equal(("kmeans-hybrid-kauto-tall-s42", 3), (log.Configuration, log.NextId));
        Assert.Equal(["dump:week1.txt", "dump:week2.txt"], log.Runs.Select(r => r.Run));
        // A rerun of week 2 compares with week 1; a new week compares with week 2.
        Assert.Equal(["p3", "p4"], log.PreviousOf("dump:week2.txt")!.Topics[1].PaperIds);
        TopicSnapshot latest = log.PreviousOf("dump:week3.txt")!;
        Assert.Equal((3, 3), (latest.NextId, latest.Dimension));
        Assert.Equal([0, 2], latest.Topics.Select(t => t.Id));
        Assert.Equal("diffusion models", latest.Topics[1].Label);
        Assert.Equal([0.6f, 0.8f, 0f], latest.Topics[0].Centroid);
    }

    [Fact]
    public async Task Store_with_version_1_indexes_and_state_json_is_used_without_rebuilding_then_upgraded()
    {
        using var dir = new TempDir();
        CopyTree(Fixture("store-with-indexes"), dir.Path);
        using (PaperStore store = PaperStore.Open(dir.Path))
        using (SearchIndexes indexes = await SearchIndexes.OpenAsync(store, new SearchIndexOptions { M = 8, EfConstruction = 50, Threads = 1, Persist = false }))
        {
            Assert.Equal("BM25 loaded, 0 papers added; HNSW loaded, 0 vectors added, 0 replaced", indexes.Status);
            AssertHits(Expected("store-bm25"), indexes.Bm25.Search("graphs attention", 3).Select(h => (h.Id, h.Score)).ToList());
            AssertHits(Expected("store-hnsw"), indexes.Hnsw!.Search(store.GetVector("p1")!, 3).Select(h => (h.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), h.Score)).ToList());
            indexes.Save();
        }
        string folder = Path.Combine(dir.Path, SearchIndexes.FolderName);
        Assert.False(File.Exists(Path.Combine(folder, "state.json")));
        Assert.True(File.Exists(Path.Combine(folder, "state.bin")));
        using (PaperStore store = PaperStore.Open(dir.Path))
        using (SearchIndexes again = await SearchIndexes.OpenAsync(store, new SearchIndexOptions { M = 8, EfConstruction = 50, Threads = 1, Persist = false }))
        {
            Assert.Equal("BM25 loaded, 0 papers added; HNSW loaded, 0 vectors added, 0 replaced", again.Status);
            Assert.Equal(2, BitConverter.ToInt32(File.ReadAllBytes(Path.Combine(folder, "lexical.bm25")), 8));
        }
    }

    private static void CopyTree(string from, string to)
    {
        foreach (string d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        }
        foreach (string f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
        }
    }
}
