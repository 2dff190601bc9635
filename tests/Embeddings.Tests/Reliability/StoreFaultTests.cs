using System.Diagnostics;
using Embeddings.IO;
using Embeddings.Search;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Reliability;

/// <summary>
/// Faults of the store folder and of output targets: a lost manifest, indexes from another store, a changed index
/// state, <c>-o</c> at a symbolic link, a FIFO, a device, and the temporary files a killed writer leaves.
/// </summary>
public sealed class StoreFaultTests(ReliabilityFixture fixture) : IClassFixture<ReliabilityFixture>
{
    private static Dictionary<string, string> Files(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), Container.HashFile, StringComparer.Ordinal);

    [Fact]
    public async Task A_store_folder_without_its_manifest_is_refused_and_nothing_is_written()
    {
        using var dir = new TempDir();
        string store = fixture.CopyBaseStore(dir);
        File.Delete(Path.Combine(store, "manifest.json"));
        Dictionary<string, string> before = Files(store);
        string good = dir.File("more.jsonl");
        File.WriteAllLines(good, fixture.GoodJsonl.Take(2));

        var (exit, _, stderr) = await CliHarness.RunAsync("ingest", "--store", store, good, "--model", fixture.Model, "--quiet");

        Assert.Equal(1, exit);
        string line = ReliabilityFixture.AssertOneLineError(stderr, "ingest without manifest");
        Assert.Contains("no manifest.json", line, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", line, StringComparison.Ordinal);
        Assert.Equal(before, Files(store));
    }

    [Fact]
    public async Task Indexes_of_another_store_or_a_changed_state_are_rebuilt_not_trusted()
    {
        using var dir = new TempDir();
        string store = fixture.CopyBaseStore(dir, "a");
        string other = dir.File("b");
        string others = dir.File("others.jsonl");
        // Another store of the same model, with other papers and as many rows: the fingerprint alone would pass.
        File.WriteAllLines(others, fixture.GoodJsonl.Select(l => l.Replace("\"id\":\"g", "\"id\":\"o", StringComparison.Ordinal).Replace("We study", "Others study", StringComparison.Ordinal)));
        var (exit, _, stderr) = await CliHarness.RunAsync("ingest", "--store", other, others, "--model", fixture.Model, "--quiet");
        Assert.True(exit == 0, stderr);
        foreach (string s in new[] { store, other })
        {
            (exit, _, stderr) = await CliHarness.RunAsync("index", "build", "--store", s, "--quiet");
            Assert.True(exit == 0, stderr);
        }
        string indexes = Path.Combine(store, SearchIndexes.FolderName);
        Directory.Delete(indexes, recursive: true);
        ReliabilityFixture.CopyDirectory(Path.Combine(other, SearchIndexes.FolderName), indexes);

        var (code, stdout, err) = await CliHarness.RunAsync("similar", "--store", store, "--text", fixture.Titles(5), "--mode", "lexical", "-k", "3", "--json", "--model", fixture.Model);
        Assert.True(code == 0, err);
        Assert.Contains("\"id\":\"g05\"", stdout.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("\"o05\"", stdout, StringComparison.Ordinal);

        // A changed byte in the saved index state (its checksum catches it): rebuilt, every paper still found.
        (exit, _, stderr) = await CliHarness.RunAsync("index", "build", "--store", store, "--quiet");
        Assert.True(exit == 0, stderr);
        string state = Directory.GetFiles(indexes, "state.*").Single();
        byte[] bytes = File.ReadAllBytes(state);
        bytes[^3] ^= 0x01;
        File.WriteAllBytes(state, bytes);
        (code, stdout, err) = await CliHarness.RunAsync("similar", "--store", store, "--text", fixture.Titles(11), "--mode", "lexical", "-k", "3", "--json", "--model", fixture.Model);
        Assert.True(code == 0, err);
        Assert.Contains("\"id\":\"g11\"", stdout.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Output_follows_a_symbolic_link_writes_through_a_fifo_and_a_device_and_clears_stale_temporaries()
    {
        using var dir = new TempDir();
        string store = fixture.CopyBaseStore(dir);
        IReadOnlyList<string> expected = fixture.BaseExport;

        // A symbolic link: the file it names gets the output, the link stays a link.
        string real = dir.File("real.jsonl");
        File.WriteAllText(real, "old\n");
        string link = dir.File("link.jsonl");
        File.CreateSymbolicLink(link, real);
        var (exit, _, stderr) = await CliHarness.RunAsync("export", "--store", store, "--format", "jsonl", "-o", link, "--quiet");
        Assert.True(exit == 0, stderr);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal(expected, File.ReadAllLines(real).Order(StringComparer.Ordinal));

        // A named pipe: written through to its reader, still a pipe afterwards.
        string fifo = dir.File("pipe");
        using (Process mkfifo = Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        Task<string> reader = Task.Run(() => File.ReadAllText(fifo));
        (exit, _, stderr) = await CliHarness.RunAsync("export", "--store", store, "--format", "jsonl", "-o", fifo, "--quiet");
        Assert.True(exit == 0, stderr);
        Assert.Equal(expected, (await reader).Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        Assert.Equal(FileKind.Fifo, FileKinds.Of(fifo));

        // A character device stays one.
        (exit, _, stderr) = await CliHarness.RunAsync("export", "--store", store, "--format", "jsonl", "-o", "/dev/null", "--quiet");
        Assert.True(exit == 0, stderr);
        Assert.Equal(FileKind.CharacterDevice, FileKinds.Of("/dev/null"));

        // A writer killed before it could clean up left a temporary file: the next write of that output removes it.
        int deadPid;
        using (Process gone = Process.Start("true")!)
        {
            gone.WaitForExit();
            deadPid = gone.Id;
        }
        string stale = dir.File($".out.jsonl.{deadPid}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(stale, "half an output");
        (exit, _, stderr) = await CliHarness.RunAsync("export", "--store", store, "--format", "jsonl", "-o", dir.File("out.jsonl"), "--quiet");
        Assert.True(exit == 0, stderr);
        Assert.False(File.Exists(stale));
        Assert.Empty(Directory.GetFiles(dir.Path, ".*.tmp"));
    }
}
