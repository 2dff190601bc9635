using System.Buffers.Binary;
using Embeddings.Corpus;
using Embeddings.Store;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Store;

public sealed class PaperStoreTests
{
    private static readonly IngestOptions SmallCommits = new() { BatchSize = 16, CommitEvery = 50 };

    [Fact]
    public async Task RealDumps_DedupeAcrossFiles_ReingestIsANoOp()
    {
        using var dir = new TempDir();
        using var encoder = new HashingTestEncoder();
        string[] files = StoreTestHelpers.DumpFiles();
        using (PaperStore store = PaperStore.OpenOrCreate(dir.Path, encoder))
        {
            IngestSummary first = await store.IngestFilesAsync(files, encoder, SmallCommits);
            Assert.Equal((280L, 236L, 0L, 44L, 236L, 0L), (first.Read, first.New, first.Changed, first.Duplicate, first.Embedded, first.Skipped));
            Assert.Equal(236, encoder.Encoded);
            Assert.Equal(236, store.Count);
            Assert.Equal(236, store.RowCount);
            Assert.Equal(4, first.Commits); // 64 + 64 + 64 + 44: a commit after the batch that reaches 50

            // Pointer Networks is on pages 000 and 002.
            StoredPaper pointer = store.GetPaper(PaperIdentity.IdFromTitle("Pointer Networks"))!;
            Assert.Equal(["000_9274e0c36e2fbbf0.txt", "002_1e2235affac03b04.txt"], pointer.Sources);
            Assert.Equal(1, pointer.Revision);
            Assert.StartsWith("We introduce a new neural architecture", pointer.Paper.Abstract, StringComparison.Ordinal);
        }
        using (PaperStore store = PaperStore.Open(dir.Path, new StoreOpenOptions { Writable = true, ExpectedFingerprint = encoder.Fingerprint }))
        {
            IngestSummary again = await store.IngestFilesAsync(files, encoder, SmallCommits);
            Assert.Equal((280L, 0L, 0L, 280L, 0L, 0), (again.Read, again.New, again.Changed, again.Duplicate, again.Embedded, again.Commits));
            Assert.Equal(236, encoder.Encoded);
        }
        SortedDictionary<string, string> snapshot = await StoreTestHelpers.Snapshot(dir.Path);
        Assert.Equal(236, snapshot.Count);
        Assert.Equal(35, (await CountMultiSource(dir.Path)));
    }

    private static async Task<int> CountMultiSource(string dir)
    {
        using PaperStore store = PaperStore.Open(dir);
        int n = 0;
        await foreach (StoredPaper p in store.ReadPapersAsync())
        {
            n += p.Sources.Count > 1 ? 1 : 0;
        }
        return n;
    }

    [Fact]
    public async Task ChangedAbstract_IsReembeddedAsANewRevision()
    {
        using var dir = new TempDir();
        using var encoder = new HashingTestEncoder();
        using PaperStore store = PaperStore.OpenOrCreate(dir.Path, encoder);
        await store.IngestAsync(StoreTestHelpers.Papers("a.jsonl", new Paper("p1", "T1", "old text"), new Paper("p2", "T2", "other")), encoder);
        IngestSummary s = await store.IngestAsync(StoreTestHelpers.Papers("b.jsonl", new Paper("p1", "T1", "new text"), new Paper("p2", "T2", "other")), encoder);
        Assert.Equal((1L, 1L, 1L, 0L), (s.Changed, s.Duplicate, s.Embedded, s.New));
        StoredPaper p1 = store.GetPaper("p1")!;
        Assert.Equal((2, "new text", 2), (p1.Revision, p1.Paper.Abstract, p1.Row));
        Assert.Equal(["a.jsonl", "b.jsonl"], p1.Sources);
        Assert.Equal(HashingTestEncoder.Embed("T1.\nnew text", 16), store.GetVector("p1"));
        Assert.Equal((2, 3), (store.Count, store.RowCount));
        Assert.Equal([1, 2], store.GetLiveRows());
        Assert.Equal("p1", store.IdOfRow(0));
        ReadOnlyMemory<float> all = store.GetAllRows();
        Assert.Equal(3 * 16, all.Length);
        Assert.Equal(HashingTestEncoder.Embed("T1.\nold text", 16), all.Span[..16].ToArray());

        // Re-ingesting the older dump is no change: its text is a known earlier revision.
        IngestSummary replay = await store.IngestAsync(StoreTestHelpers.Papers("a.jsonl", new Paper("p1", "T1", "old text")), encoder);
        Assert.Equal((0L, 1L, 0L), (replay.Changed, replay.Duplicate, replay.Embedded));
        Assert.Equal((2, "new text"), (store.GetPaper("p1")!.Revision, store.GetPaper("p1")!.Paper.Abstract));

        using PaperStore reader = PaperStore.Open(dir.Path);
        Assert.Equal(2, reader.GetPaper("p1")!.Revision);
        IngestSummary readerDry = await PaperStore.DryRunAsync(dir.Path, [], encoder);
        Assert.Equal(0, readerDry.Read);
        Assert.Equal([1, 2], reader.GetLiveRows());
    }

    [Fact]
    public async Task ChangedTwiceInOneRun_KeepsTheLastText()
    {
        using var dir = new TempDir();
        using var encoder = new HashingTestEncoder();
        using (PaperStore store = PaperStore.OpenOrCreate(dir.Path, encoder))
        {
            await store.IngestAsync(StoreTestHelpers.Papers("a.jsonl", new Paper("p", "T", "v1"), new Paper("p", "T", "v2"), new Paper("p", "T", "v2")), encoder);
            Assert.Equal((2, 1), (store.GetPaper("p")!.Revision, store.Count));
        }
        using PaperStore reopened = PaperStore.Open(dir.Path);
        Assert.Equal(("v2", 2, 2), (reopened.GetPaper("p")!.Paper.Abstract, reopened.GetPaper("p")!.Revision, reopened.RowCount));
    }

    [Fact]
    public async Task DryRun_CountsButWritesNothing()
    {
        using var dir = new TempDir();
        using var encoder = new HashingTestEncoder();
        using PaperStore store = PaperStore.OpenOrCreate(dir.Path, encoder);
        IngestSummary s = await store.IngestFilesAsync(StoreTestHelpers.DumpFiles(), encoder, new IngestOptions { DryRun = true });
        Assert.Equal((280L, 236L, 44L, 0L, true), (s.Read, s.New, s.Duplicate, s.Embedded, s.DryRun));
        Assert.Equal(0, store.Count);
        Assert.Equal(0, encoder.Encoded);
        Assert.Equal(0, store.SegmentCount);
    }

    [Fact]
    public async Task OtherModel_IsAClearError()
    {
        using var dir = new TempDir();
        using var encoder = new HashingTestEncoder();
        using (PaperStore store = PaperStore.OpenOrCreate(dir.Path, encoder))
        {
            await store.IngestAsync(StoreTestHelpers.Papers("a.jsonl", new Paper("p1", "T1", "x")), encoder);
        }
        using var other = new HashingTestEncoder(16, "another-model");
        DataFormatException e = Assert.Throws<DataFormatException>(() => PaperStore.OpenOrCreate(dir.Path, other));
        Assert.EndsWith("manifest.json", e.Path, StringComparison.Ordinal);
        Assert.Contains("bound to model fingerprint test-double:hashing-words:16", e.Message, StringComparison.Ordinal);
        Assert.Contains("another-model", e.Message, StringComparison.Ordinal);

        using PaperStore writable = PaperStore.OpenOrCreate(dir.Path, encoder);
        await Assert.ThrowsAsync<DataFormatException>(() => writable.IngestAsync(StoreTestHelpers.Papers("b.jsonl", new Paper("p2", "T", "y")), other));
        Assert.Equal(1, writable.Count);
    }

    [Fact]
    public async Task NewerFormatVersion_IsAClearError()
    {
        using var dir = new TempDir();
        using var encoder = new HashingTestEncoder();
        PaperStore.OpenOrCreate(dir.Path, encoder).Dispose();
        RewriteManifest(dir.Path, json => json.Replace("\"formatVersion\": 3", "\"formatVersion\": 7", StringComparison.Ordinal));
        DataFormatException e = Assert.Throws<DataFormatException>(() => PaperStore.Open(dir.Path));
        Assert.Contains("format version 7 was written by a newer embeddings", e.Message, StringComparison.Ordinal);
        Assert.Contains("reads versions up to 3", e.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    /// <summary>Edits the inner manifest and recomputes its checksum, as a newer writer would have written it.</summary>
    private static void RewriteManifest(string dir, Func<string, string> edit)
    {
        string path = Path.Combine(dir, "manifest.json");
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(path));
        string inner = edit(doc.RootElement.GetProperty("manifest").GetRawText());
        ulong hash = System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(inner));
        File.WriteAllText(path, "{\"manifest\":" + inner + ",\"xxh64\":\"" + hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture) + "\"}");
    }

    [Theory]
    [InlineData("seg-000001.papers", 40)]
    [InlineData("seg-000002.papers", -3)]
    [InlineData("vectors.f32", 64 + 5)]
    [InlineData("manifest.json", 30)]
    public async Task CorruptedFile_IsDetectedOnOpen_NamingTheFile(string file, int offset)
    {
        using var dir = new TempDir();
        await BuildSmallStore(dir.Path);
        string path = Path.Combine(dir.Path, file);
        byte[] bytes = File.ReadAllBytes(path);
        int at = offset >= 0 ? offset : bytes.Length + offset;
        bytes[at] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
        DataFormatException e = Assert.Throws<DataFormatException>(() => PaperStore.Open(dir.Path));
        Assert.Equal(path, e.Path);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        Assert.Matches("checksum mismatch|malformed", e.Message);
    }

    [Fact]
    public async Task TornFiles_AreDetectedOnOpen()
    {
        using var dir = new TempDir();
        await BuildSmallStore(dir.Path);
        string seg = Path.Combine(dir.Path, "seg-000002.papers");
        byte[] bytes = File.ReadAllBytes(seg);
        File.WriteAllBytes(seg, bytes[..^10]);
        DataFormatException e = Assert.Throws<DataFormatException>(() => PaperStore.Open(dir.Path));
        Assert.Equal(seg, e.Path);
        Assert.Contains("torn", e.Message, StringComparison.Ordinal);
        File.WriteAllBytes(seg, bytes);

        string vectors = Path.Combine(dir.Path, "vectors.f32");
        byte[] vectorBytes = File.ReadAllBytes(vectors);
        using (var f = new FileStream(vectors, FileMode.Open))
        {
            f.SetLength(f.Length - 4);
        }
        e = Assert.Throws<DataFormatException>(() => PaperStore.Open(dir.Path));
        Assert.Equal(vectors, e.Path);
        Assert.Contains("torn", e.Message, StringComparison.Ordinal);

        File.WriteAllBytes(vectors, vectorBytes);
        File.Delete(seg);
        e = Assert.Throws<DataFormatException>(() => PaperStore.Open(dir.Path));
        Assert.Contains("missing", e.Message, StringComparison.Ordinal);
    }

    private static async Task BuildSmallStore(string dir)
    {
        using var encoder = new HashingTestEncoder();
        using PaperStore store = PaperStore.OpenOrCreate(dir, encoder);
        await store.IngestAsync(StoreTestHelpers.Papers("a.jsonl", new Paper("p1", "T1", "x one"), new Paper("p2", "T2", "x two")), encoder);
        await store.IngestAsync(StoreTestHelpers.Papers("b.jsonl", new Paper("p3", "T3", "x three"), new Paper("p1", "T1", "x one")), encoder);
        Assert.Equal(2, store.SegmentCount);
    }

    [Fact]
    public async Task LeftoversOfAnInterruptedCommit_AreIgnoredByReadersAndCleanedByTheNextWriter()
    {
        using var dir = new TempDir();
        await BuildSmallStore(dir.Path);
        string vectors = Path.Combine(dir.Path, "vectors.f32");
        long committed = new FileInfo(vectors).Length;
        File.AppendAllText(vectors, "torn tail of an uncommitted batch");
        File.WriteAllText(Path.Combine(dir.Path, "seg-000003.papers"), "half a segment");
        File.WriteAllText(Path.Combine(dir.Path, ".manifest.json.123.abc.tmp"), "{");
        using (PaperStore reader = PaperStore.Open(dir.Path))
        {
            Assert.Equal(3, reader.Count);
        }
        using var encoder = new HashingTestEncoder();
        using (PaperStore writer = PaperStore.OpenOrCreate(dir.Path, encoder))
        {
            Assert.Equal(committed, new FileInfo(vectors).Length);
            Assert.False(File.Exists(Path.Combine(dir.Path, "seg-000003.papers")));
            Assert.False(File.Exists(Path.Combine(dir.Path, ".manifest.json.123.abc.tmp")));
            await writer.IngestAsync(StoreTestHelpers.Papers("c.jsonl", new Paper("p4", "T4", "x four")), encoder);
        }
        SortedDictionary<string, string> snapshot = await StoreTestHelpers.Snapshot(dir.Path);
        Assert.Equal(["p1", "p2", "p3", "p4"], snapshot.Keys);
    }

    [Fact]
    public async Task SecondWriter_GetsAMessageNamingTheHolder_ReadersSeeTheLastCommit()
    {
        using var dir = new TempDir();
        using var encoder = new HashingTestEncoder();
        using PaperStore writer = PaperStore.OpenOrCreate(dir.Path, encoder);
        await writer.IngestAsync(StoreTestHelpers.Papers("a.jsonl", new Paper("p1", "T1", "x")), encoder);
        StoreLockedException e = Assert.Throws<StoreLockedException>(() => PaperStore.OpenOrCreate(dir.Path, encoder));
        Assert.Contains($"PID {Environment.ProcessId} on {Environment.MachineName}", e.Message, StringComparison.Ordinal);
        Assert.Contains("Only one writer", e.Message, StringComparison.Ordinal);

        using PaperStore reader = PaperStore.Open(dir.Path);
        Assert.Equal(1, reader.Count);
        await writer.IngestAsync(StoreTestHelpers.Papers("b.jsonl", new Paper("p2", "T2", "y")), encoder);
        Assert.Equal(1, reader.Count); // a snapshot: the reader keeps the state it opened
        using PaperStore later = PaperStore.Open(dir.Path);
        Assert.Equal(2, later.Count);
    }

    [Fact]
    public async Task StaleLockOfADeadProcess_IsTakenOver()
    {
        using var dir = new TempDir();
        using var encoder = new HashingTestEncoder();
        PaperStore.OpenOrCreate(dir.Path, encoder).Dispose();
        // What a SIGKILLed writer leaves: writer.lock (its OS lock died with it) and writer.json naming it.
        using (var child = System.Diagnostics.Process.Start("true")!)
        {
            child.WaitForExit();
            File.WriteAllText(Path.Combine(dir.Path, "writer.json"),
                $"{{\"pid\":{child.Id},\"host\":\"{Environment.MachineName}\",\"started\":\"2020-01-01T00:00:00Z\"}}");
        }
        File.WriteAllText(Path.Combine(dir.Path, "writer.lock"), "");
        using PaperStore store = PaperStore.OpenOrCreate(dir.Path, encoder);
        Assert.NotNull(store.TookOverStaleLockFrom);
        Assert.Contains("no longer running", store.TookOverStaleLockFrom, StringComparison.Ordinal);
        await store.IngestAsync(StoreTestHelpers.Papers("a.jsonl", new Paper("p1", "T1", "x")), encoder);
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task BadInput_SkipBadReportsReasons_WithoutItNothingCommittedIsHarmed()
    {
        using var dir = new TempDir();
        using var encoder = new HashingTestEncoder();
        string input = dir.File("in.jsonl");
        var lines = new List<string>();
        for (int i = 0; i < 30; i++)
        {
            lines.Add($"{{\"id\":\"g{i}\",\"title\":\"Good {i}\",\"abstract\":\"Fine abstract {i}.\"}}");
        }
        lines.Add("{\"id\":\"bad1\",\"title\":\"x\""); // malformed JSON
        lines.Add("{\"id\":\"bad2\",\"title\":\"x\",\"abstract\":\"\"}"); // empty abstract
        lines.Add("{\"id\":\"g0\",\"title\":\"Good 0\",\"abstract\":\"Other text\"}"); // duplicate id, other text
        lines.Add("{\"id\":\"last\",\"title\":\"Last\",\"abstract\":\"Still read.\"}");
        File.WriteAllLines(input, lines);
        string store = dir.File("store");
        using (PaperStore s = PaperStore.OpenOrCreate(store, encoder))
        {
            InputFormatException e = await Assert.ThrowsAsync<InputFormatException>(() =>
                s.IngestFilesAsync([input], encoder, new IngestOptions { BatchSize = 5, CommitEvery = 10 }));
            Assert.Equal((31L, input), (e.Line, e.File));
            Assert.Equal(30, s.Count); // batches before the bad record were committed
        }
        Assert.Equal(30, (await StoreTestHelpers.Snapshot(store)).Count);
        using (PaperStore s = PaperStore.OpenOrCreate(store, encoder))
        {
            IngestSummary summary = await s.IngestFilesAsync([input], encoder, new IngestOptions { SkipBad = true });
            Assert.Equal((31L, 1L, 30L, 3L), (summary.Read, summary.New, summary.Duplicate, summary.Skipped));
            Assert.Equal(3, summary.Issues.Count);
            Assert.Equal(1, summary.SkippedReasons["malformed JSON"]);
            Assert.Equal(1, summary.SkippedReasons["abstract: missing or empty"]);
            Assert.Equal(1, summary.SkippedReasons["id: duplicate id with different text"]);
            Assert.Equal(31, s.Count);
        }
    }

    [Fact]
    public async Task Shards_PartitionThePapers_AndMergeEqualsASingleRun()
    {
        using var dir = new TempDir();
        using var encoder = new HashingTestEncoder();
        string[] files = StoreTestHelpers.DumpFiles();
        string single = dir.File("single");
        using (PaperStore s = PaperStore.OpenOrCreate(single, encoder))
        {
            await s.IngestFilesAsync(files, encoder, SmallCommits);
        }
        var shardDirs = new List<string>();
        long otherShard = 0;
        var seen = new HashSet<string>();
        for (int i = 0; i < 3; i++)
        {
            string shardDir = dir.File("shard" + i);
            shardDirs.Add(shardDir);
            using PaperStore s = PaperStore.OpenOrCreate(shardDir, encoder);
            IngestSummary summary = await s.IngestFilesAsync(files, encoder, new IngestOptions { Shard = new ShardSpec(i, 3), CommitEvery = 40 });
            otherShard += summary.OtherShard;
            Assert.True(s.Count > 40, $"shard {i} holds {s.Count}");
            await foreach (StoredPaper p in s.ReadPapersAsync())
            {
                Assert.True(seen.Add(p.Paper.Id), "paper in two shards: " + p.Paper.Id);
                Assert.Equal(i, PaperIdentity.ShardOf(p.Paper.Id, 3));
            }
        }
        Assert.Equal(236, seen.Count);
        Assert.Equal(2 * 280, otherShard);

        string merged = dir.File("merged");
        IngestSummary m = await PaperStore.MergeAsync(merged, shardDirs, commitEvery: 50);
        Assert.Equal((236L, 236L), (m.Read, m.New));
        Assert.Equal(await StoreTestHelpers.Snapshot(single), await StoreTestHelpers.Snapshot(merged));

        // Merging again adds nothing.
        IngestSummary again = await PaperStore.MergeAsync(merged, shardDirs);
        Assert.Equal((0L, 236L), (again.New, again.Duplicate));

        // Shards of another model are refused.
        string foreign = dir.File("foreign");
        using (var other = new HashingTestEncoder(16, "another-model"))
        using (PaperStore s = PaperStore.OpenOrCreate(foreign, other))
        {
            await s.IngestAsync(StoreTestHelpers.Papers("z.jsonl", new Paper("z", "Z", "z")), other);
        }
        DataFormatException e = await Assert.ThrowsAsync<DataFormatException>(() => PaperStore.MergeAsync(dir.File("m2"), [shardDirs[0], foreign]));
        Assert.Contains("different models", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShardSpec_ParsesAndRejects()
    {
        Assert.Equal(new ShardSpec(1, 4), ShardSpec.Parse("1/4"));
        Assert.Throws<ArgumentException>(() => ShardSpec.Parse("4/4"));
        Assert.Throws<ArgumentException>(() => ShardSpec.Parse("x"));
    }

    [Fact]
    public async Task Export_NpyAndJsonl()
    {
        using var dir = new TempDir();
        await BuildSmallStore(dir.File("s"));
        using PaperStore store = PaperStore.Open(dir.File("s"));
        string npy = dir.File("out/vectors.npy");
        Assert.Equal(3, StoreExport.WriteNpy(store, npy));
        byte[] bytes = File.ReadAllBytes(npy);
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0], bytes[..8]);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(0, (10 + headerLength) % 64);
        string header = System.Text.Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Contains("'descr': '<f4', 'fortran_order': False, 'shape': (3, 16)", header, StringComparison.Ordinal);
        Assert.Equal(10 + headerLength + 3 * 16 * 4, bytes.Length);
        string[] ids = File.ReadAllLines(dir.File("out/vectors.ids.txt"));
        Assert.Equal(["p1", "p2", "p3"], ids);
        float first = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(10 + headerLength + 16 * 4));
        Assert.Equal(store.GetVector("p2")![0], first);

        string jsonl = dir.File("out/all.jsonl");
        Assert.Equal(3, await StoreExport.WriteJsonlAsync(store, jsonl));
        string[] lines = File.ReadAllLines(jsonl);
        using var doc = System.Text.Json.JsonDocument.Parse(lines[2]);
        Assert.Equal("p3", doc.RootElement.GetProperty("id").GetString());
        Assert.Equal("T3", doc.RootElement.GetProperty("title").GetString());
        float[] v = [.. doc.RootElement.GetProperty("vector").EnumerateArray().Select(x => x.GetSingle())];
        Assert.Equal(store.GetVector("p3"), v);
    }

    [Fact]
    public async Task A_jsonl_export_reads_back_as_the_stored_papers()
    {
        using var dir = new TempDir();
        using var encoder = new HashingTestEncoder();
        Paper full = new("2403.01234", "Sparse attention", "We study sparse attention. It scales.", Authors: ["Ada Lovelace", "Alan Turing"],
            Date: "2024-03-14", Categories: ["cs.LG", "stat.ML"]);
        Paper bare = new("p2", "Only a title and abstract", "An abstract with \"quotes\", a backslash \\ and ünïcödé.", DateText: "Mar 14");
        using (PaperStore store = PaperStore.OpenOrCreate(dir.File("s"), encoder))
        {
            await store.IngestAsync(StoreTestHelpers.Papers("a.jsonl", full, bare), encoder);
            Assert.Equal(2, await StoreExport.WriteJsonlAsync(store, dir.File("export.jsonl")));
        }

        var read = new List<Paper>();
        await foreach (SourcedPaper sourced in PaperReader.ReadAllAsync([dir.File("export.jsonl")], new PaperReaderOptions()))
        {
            read.Add(sourced.Paper);
        }
        Assert.Equal(2, read.Count);
        foreach ((Paper expected, Paper actual) in new[] { full, bare }.Zip(read))
        {
            Assert.Equal((expected.Id, expected.Title, expected.Abstract, expected.Date, expected.DateText, expected.Url, expected.EmbeddingText),
                (actual.Id, actual.Title, actual.Abstract, actual.Date, actual.DateText, actual.Url, actual.EmbeddingText));
            Assert.Equal(expected.Authors ?? [], actual.Authors ?? []);
            Assert.Equal(expected.Categories ?? [], actual.Categories ?? []);
        }
        Assert.Equal("https://arxiv.org/abs/2403.01234", read[0].Url);
        // Unknown metadata stays absent rather than written as empty.
        using var second = System.Text.Json.JsonDocument.Parse(File.ReadAllLines(dir.File("export.jsonl"))[1]);
        Assert.False(second.RootElement.TryGetProperty("authors", out _));
        Assert.False(second.RootElement.TryGetProperty("categories", out _));
    }
}
