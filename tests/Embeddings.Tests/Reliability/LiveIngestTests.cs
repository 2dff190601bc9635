using System.Diagnostics;
using System.Text.Json;
using Embeddings.Store;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Reliability;

/// <summary>
/// A real writer in a child process (<c>dotnet embeddings.dll ingest</c>) held at every commit point of every batch
/// (EMBEDDINGS_PAUSE_AT: it stops there until told to go on, so the windows are hit exactly, without sleeping), with
/// the readers of the CLI (<c>similar</c>, <c>topics</c>, <c>digest</c>, <c>export</c>) run against the store in each
/// window: 100 reads, none may fail, each sees a committed state. Then a writer killed in the window where
/// <c>vectors.f32</c> holds uncommitted rows: readers still work, and the batch resumes to the uninterrupted result.
/// </summary>
public sealed class LiveIngestTests(ReliabilityFixture fixture) : IClassFixture<ReliabilityFixture>
{
    private static readonly string[] CommitPoints = ["vectors-written", "vectors-synced", "segment-written", "segment-synced", "manifest-before-rename"];

    /// <summary>Forty new papers (ids n00..n39) for the writer, built from real titles.</summary>
    private string WriteBatchInput(TempDir dir)
    {
        string dump = Directory.GetFiles(TestPaths.DailyPapersDir, "001_*.txt").FirstOrDefault() ?? Directory.GetFiles(TestPaths.DailyPapersDir, "*.txt")[1];
        string[] titles = [.. File.ReadLines(dump).Where(l => l.Length is > 15 and < 120).Distinct().Take(40)];
        Assert.Equal(40, titles.Length);
        string path = dir.File("batch.jsonl");
        File.WriteAllLines(path, titles.Select((t, i) => JsonSerializer.Serialize(new { id = $"n{i:D2}", title = t, @abstract = $"We present {t.ToLowerInvariant()} and evaluate it on graphs and text, number {i}." })));
        return path;
    }

    private string[] IngestArgs(string store, string input) =>
        ["ingest", "--store", store, input, "--model", fixture.Model, "--batch", "4", "--commit-every", "8", "--threads", "1", "--quiet"];

    /// <summary>One read of each kind; returns how many papers the export saw.</summary>
    private async Task<int> ReadAllWaysAsync(string store, TempDir dir, List<string> failures, string when)
    {
        var reads = new (string Name, string[] Args)[]
        {
            ("similar vector", ["similar", "--store", store, "--text", "graph neural networks for text", "--mode", "vector", "-k", "5", "--json", "--model", fixture.Model, "--quiet"]),
            ("similar hybrid", ["similar", "--store", store, "--id", "g03", "-k", "5", "--json", "--model", fixture.Model, "--quiet"]),
            ("topics", ["topics", "--store", store, "--k", "3", "--json", "--quiet"]),
            ("digest", ["digest", "--store", store, "--k", "3", "--format", "json", "-o", dir.File("digest.json"), "--quiet"]),
        };
        foreach (var (name, args) in reads)
        {
            var (exit, _, stderr) = await CliHarness.RunAsync(args);
            if (exit != 0)
            {
                failures.Add($"{when}: {name}: exit {exit}: {stderr.Trim()}");
            }
        }
        return (await ReliabilityFixture.ExportAsync(store)).Count;
    }

    [Fact]
    public async Task Readers_succeed_at_every_commit_point_of_a_live_ingest_and_see_committed_states_only()
    {
        using var dir = new TempDir();
        string store = fixture.CopyBaseStore(dir);
        string input = WriteBatchInput(dir);
        var failures = new List<string>();
        int reads = 0;
        var seen = new List<int>();

        using Process writer = CliProcess.Start(string.Join(',', CommitPoints), null, IngestArgs(store, input));
        Task<string> stdout = writer.StandardOutput.ReadToEndAsync();
        while (await writer.StandardError.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("embeddings: paused at ", StringComparison.Ordinal))
            {
                failures.Add("writer: " + line);
                continue;
            }
            int count = await ReadAllWaysAsync(store, dir, failures, line["embeddings: paused at ".Length..]);
            reads += 4;
            seen.Add(count);
            await writer.StandardInput.WriteLineAsync();
            await writer.StandardInput.FlushAsync();
        }
        Assert.True(writer.WaitForExit(TimeSpan.FromMinutes(3)));
        Assert.True(writer.ExitCode == 0, $"writer exit {writer.ExitCode}: {await stdout}");

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(reads >= 100, $"only {reads} reads");
        // Every read saw a committed state: the 12 papers before, plus whole commits of 8.
        Assert.All(seen, n => Assert.True(n >= 12 && (n - 12) % 8 == 0, $"a reader saw {n} papers"));
        Assert.Equal(seen.Order(), seen); // never back in time
        Assert.Equal(52, (await ReliabilityFixture.ExportAsync(store)).Count);
    }

    [Fact]
    public async Task A_writer_killed_with_uncommitted_vector_rows_leaves_readers_working_and_the_batch_resumable()
    {
        using var dir = new TempDir();
        string input = WriteBatchInput(dir);
        string baseline = fixture.CopyBaseStore(dir, "baseline");
        var (exit, _, stderr) = await CliHarness.RunAsync(IngestArgs(baseline, input));
        Assert.True(exit == 0, stderr);
        IReadOnlyList<string> expected = await ReliabilityFixture.ExportAsync(baseline);
        Assert.Equal(52, expected.Count);

        foreach (string point in new[] { "vectors-synced", "segment-synced", "manifest-before-rename" })
        {
            string store = fixture.CopyBaseStore(dir, "killed-" + point);
            using (Process writer = CliProcess.Start(null, $"{point}:3", IngestArgs(store, input)))
            {
                string err = await writer.StandardError.ReadToEndAsync();
                Assert.True(writer.WaitForExit(TimeSpan.FromMinutes(3)));
                Assert.True(writer.ExitCode == 137, $"{point}: exit {writer.ExitCode}: {err}");
            }
            Assert.True(new FileInfo(Path.Combine(store, "vectors.f32")).Length > VectorFileLength(store), $"{point}: no uncommitted rows were left to test with");

            var failures = new List<string>();
            int count = await ReadAllWaysAsync(store, dir, failures, "after a kill at " + point);
            Assert.True(failures.Count == 0, string.Join('\n', failures));
            Assert.Equal(12 + 16, count); // two commits of 8 made it, the third did not

            (exit, _, stderr) = await CliHarness.RunAsync(IngestArgs(store, input));
            Assert.True(exit == 0, $"{point}: resume: {stderr}");
            Assert.Equal(expected, await ReliabilityFixture.ExportAsync(store));
        }
    }

    /// <summary>The bytes of vectors.f32 that the manifest commits (header plus committed rows).</summary>
    private static long VectorFileLength(string store)
    {
        using PaperStore s = PaperStore.Open(store);
        return VectorFile.HeaderBytes + (long)s.RowCount * s.Dimension * sizeof(float);
    }

    [Fact]
    public async Task A_command_line_of_50_KB_runs_onnx_runtime_and_lists_come_from_a_file_or_stdin()
    {
        using var dir = new TempDir();
        string good = dir.File("good.jsonl");
        File.WriteAllLines(good, fixture.GoodJsonl.Take(1));
        var files = new List<string>();
        for (int i = 0; i < 800; i++)
        {
            string path = dir.File($"dump-with-a-rather-long-file-name-to-fill-the-command-line-{i:D4}.jsonl");
            File.Copy(good, path);
            files.Add(path);
        }
        Assert.True(files.Sum(f => f.Length + 1) > 50_000);

        // The ONNX model (USE-lite), in a child process: its runtime environment is created with the long command line.
        string output = dir.File("long.jsonl");
        using (Process p = CliProcess.Start(null, null, ["embed", .. files, "-o", output, "--model", EncoderFixtures.UseLiteDir, "--threads", "1", "--quiet"]))
        {
            p.StandardInput.Close();
            string err = await p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)));
            Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {err}");
        }
        Assert.Single(File.ReadAllLines(output)); // the same paper 800 times: one embedding, repeats left out

        // The same list from a file (one per line) and from stdin (NUL-separated, as find -print0 writes it).
        string list = dir.File("list.txt");
        File.WriteAllLines(list, files);
        string store = fixture.CopyBaseStore(dir);
        var (exit, stdout, stderr) = await CliHarness.RunAsync("ingest", "--store", store, "--from-file", list, "--model", fixture.Model, "--quiet", "--json");
        Assert.True(exit == 0, stderr);
        using (JsonDocument summary = JsonDocument.Parse(stdout))
        {
            Assert.Equal(800, summary.RootElement.GetProperty("read").GetInt32());
        }
        using var stdin = new StringReader(string.Join('\0', files.Take(3)) + "\0");
        using var outWriter = new StringWriter();
        using var errWriter = new StringWriter();
        exit = await Embeddings.Cli.Program.RunAsync(["embed", "--from-file", "-", "-o", dir.File("stdin.jsonl"), "--model", fixture.Model, "--quiet", "--json"],
            new Embeddings.Cli.CliConsole(outWriter, errWriter, input: stdin), CancellationToken.None);
        Assert.True(exit == 0, errWriter.ToString());
        using (JsonDocument summary = JsonDocument.Parse(outWriter.ToString()))
        {
            Assert.Equal((1, 2), (summary.RootElement.GetProperty("embedded").GetInt32(), summary.RootElement.GetProperty("repeatedIds").GetInt32()));
        }
    }
}
