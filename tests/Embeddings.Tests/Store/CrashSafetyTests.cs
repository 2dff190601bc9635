using System.Text.Json;
using Embeddings.Store;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Store;

/// <summary>
/// The real CLI in a child process (`dotnet embeddings.dll ingest ...`) with the real USE-lite model: SIGKILLed at every
/// commit point (EMBEDDINGS_CRASH_AT), then run again, must end with exactly the store of an uninterrupted run.
/// </summary>
public sealed class CrashSafetyTests
{
    private static readonly string[] CommitPoints =
    [
        "vectors-written", "vectors-synced", "segment-written", "segment-synced", "manifest-before-rename", "manifest-after-rename",
    ];

    /// <summary>Two inputs: the second repeats 5 papers, changes 2 and adds 8.</summary>
    private static string[] WriteInputs(TempDir dir)
    {
        string[] titles = [.. File.ReadLines(Directory.GetFiles(TestPaths.DailyPapersDir, "000_*.txt")[0])
            .Where(l => l.Length is > 15 and < 120).Take(38)];
        Assert.Equal(38, titles.Length);
        var a = new List<string>();
        for (int i = 0; i < 30; i++)
        {
            a.Add(JsonSerializer.Serialize(new { id = $"p{i:D2}", title = titles[i], @abstract = $"We study {titles[i].ToLowerInvariant()}. Short abstract {i}." }));
        }
        var b = new List<string>(a.Take(5));
        b.Add(JsonSerializer.Serialize(new { id = "p10", title = titles[10], @abstract = "A revised abstract about something else entirely." }));
        b.Add(JsonSerializer.Serialize(new { id = "p11", title = titles[11], @abstract = "Another revision with new results." }));
        for (int i = 30; i < 38; i++)
        {
            b.Add(JsonSerializer.Serialize(new { id = $"p{i:D2}", title = titles[i], @abstract = $"New in the second dump: {titles[i]}." }));
        }
        File.WriteAllLines(dir.File("a.jsonl"), a);
        File.WriteAllLines(dir.File("b.jsonl"), b);
        return [dir.File("a.jsonl"), dir.File("b.jsonl")];
    }

    private static string[] IngestArgs(string store, string[] inputs) =>
        ["ingest", "--store", store, .. inputs, "--model", EncoderFixtures.UseLiteDir, "--batch", "4", "--commit-every", "8", "--threads", "1", "--quiet", "--json"];

    private static async Task<(SortedDictionary<string, string> Meta, Dictionary<string, float[]> Vectors)> Snapshot(string dir)
    {
        using PaperStore store = PaperStore.Open(dir);
        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        await foreach (StoredPaper p in store.ReadPapersAsync())
        {
            meta.Add(p.Paper.Id, string.Join("|", p.Paper.Title, p.Paper.Abstract, p.Revision, string.Join(",", p.Sources), p.ContentHash));
            vectors.Add(p.Paper.Id, store.GetVector(p.Paper.Id)!);
        }
        return (meta, vectors);
    }

    [Fact]
    public async Task KilledAtEveryCommitPoint_ThenResumed_EqualsAnUninterruptedRun()
    {
        using var dir = new TempDir();
        string[] inputs = WriteInputs(dir);
        string baseline = dir.File("baseline");
        var (exit, stdout, stderr) = CliProcess.Run(null, IngestArgs(baseline, inputs));
        Assert.True(exit == 0, stderr);
        using (JsonDocument summary = JsonDocument.Parse(stdout))
        {
            JsonElement r = summary.RootElement;
            Assert.Equal((45, 38, 2, 5, 40), (r.GetProperty("read").GetInt32(), r.GetProperty("new").GetInt32(), r.GetProperty("changed").GetInt32(),
                r.GetProperty("duplicate").GetInt32(), r.GetProperty("embedded").GetInt32()));
            Assert.Equal(0, r.GetProperty("skipped").GetInt32());
            Assert.True(r.GetProperty("seconds").GetDouble() > 0);
        }
        var expected = await Snapshot(baseline);
        Assert.Equal(38, expected.Meta.Count);

        foreach (string point in CommitPoints)
        {
            foreach (int hit in new[] { 1, 3 })
            {
                string store = dir.File($"crash-{point}-{hit}");
                (exit, _, stderr) = CliProcess.Run($"{point}:{hit}", IngestArgs(store, inputs));
                Assert.True(exit == 137, $"{point}:{hit} exit {exit}: {stderr}");
                Assert.Contains($"crash injected at {point}:{hit}", stderr, StringComparison.Ordinal);

                (exit, stdout, stderr) = CliProcess.Run(null, IngestArgs(store, inputs));
                Assert.True(exit == 0, $"{point}:{hit} resume: {stderr}");
                using JsonDocument resumed = JsonDocument.Parse(stdout);
                int embeddedOnResume = resumed.RootElement.GetProperty("embedded").GetInt32();
                // The manifest is also written when the store is created: its first hit is the creation.
                int committedBefore = point switch
                {
                    "manifest-before-rename" => Math.Max(0, hit - 2),
                    "manifest-after-rename" => hit - 1,
                    _ => hit - 1,
                };
                Assert.True(embeddedOnResume == 40 - 8 * committedBefore, $"{point}:{hit}: resumed run embedded {embeddedOnResume}, expected {40 - 8 * committedBefore}");

                var actual = await Snapshot(store);
                Assert.Equal(expected.Meta, actual.Meta);
                foreach (var (id, vector) in expected.Vectors)
                {
                    float[] other = actual.Vectors[id];
                    for (int i = 0; i < vector.Length; i++)
                    {
                        Assert.True(Math.Abs(vector[i] - other[i]) <= 1e-5f, $"{point}:{hit} {id}[{i}] {vector[i]} vs {other[i]}");
                    }
                }
                using PaperStore check = PaperStore.Open(store);
                Assert.Equal(40, check.RowCount); // none twice: 38 papers + 2 revisions
                Directory.Delete(store, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Cli_ReingestEmbedsNothing_DryRunWritesNothing_SecondWriterIsRefused()
    {
        using var dir = new TempDir();
        string[] inputs = WriteInputs(dir);
        string store = dir.File("store");

        var (exit, stdout, stderr) = CliProcess.Run(null, ["ingest", "--store", store, inputs[0], "--model", EncoderFixtures.UseLiteDir, "--dry-run", "--json", "--quiet"]);
        Assert.True(exit == 0, stderr);
        using (JsonDocument dry = JsonDocument.Parse(stdout))
        {
            Assert.Equal((30, 0), (dry.RootElement.GetProperty("new").GetInt32(), dry.RootElement.GetProperty("embedded").GetInt32()));
        }
        Assert.False(PaperStore.Exists(store));

        (exit, _, stderr) = CliProcess.Run(null, IngestArgs(store, inputs));
        Assert.True(exit == 0, stderr);
        (exit, stdout, stderr) = CliProcess.Run(null, IngestArgs(store, inputs));
        Assert.True(exit == 0, stderr);
        using (JsonDocument again = JsonDocument.Parse(stdout))
        {
            Assert.Equal((45, 0, 45), (again.RootElement.GetProperty("read").GetInt32(), again.RootElement.GetProperty("embedded").GetInt32(),
                again.RootElement.GetProperty("duplicate").GetInt32()));
        }

        // A writer holds the store (this process); the child is refused with the holder named, and nothing changes.
        using (PaperStore holder = PaperStore.Open(store, new StoreOpenOptions { Writable = true }))
        {
            (exit, _, stderr) = CliProcess.Run(null, IngestArgs(store, inputs));
            Assert.Equal(1, exit);
            Assert.Contains($"being written by PID {Environment.ProcessId}", stderr, StringComparison.Ordinal);
        }

        // Export: npy with ids beside it, and the embed command's binary format.
        (exit, _, stderr) = CliProcess.Run(null, ["export", "--store", store, "--format", "npy", "-o", dir.File("out/v.npy")]);
        Assert.True(exit == 0, stderr);
        Assert.Equal(38, File.ReadAllLines(dir.File("out/v.ids.txt")).Length);
        Assert.Equal(128 + 38 * 512 * 4, new FileInfo(dir.File("out/v.npy")).Length);
        (exit, _, stderr) = CliProcess.Run(null, ["export", "--store", store, "--format", "bin", "-o", dir.File("out/v.bin")]);
        Assert.True(exit == 0, stderr);
        Embeddings.Encoding.EmbeddingFileContents bin = Embeddings.Encoding.EmbeddingBinaryFormat.Read(dir.File("out/v.bin"));
        using PaperStore s = PaperStore.Open(store);
        Assert.Equal((38, s.ModelFingerprint), (bin.Ids.Count, bin.Fingerprint));
        Assert.Equal(s.GetVector(bin.Ids[3]), bin.Batch[3].ToArray());
    }
}
