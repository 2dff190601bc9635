using System.Diagnostics;
using System.Text.Json;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Reliability;

/// <summary>
/// A store on a small tmpfs that fills up during an ingest: one line saying the device is full, exit 1, every commit
/// made before still readable, no temporary file left, and the same ingest resumes to the full result once there is
/// room. Mounting needs the right to mount (root with CAP_SYS_ADMIN, as on the development machines); where it is
/// missing only the translation of ENOSPC into the typed error is checked.
/// </summary>
public sealed class DiskFullTests(ReliabilityFixture fixture) : IClassFixture<ReliabilityFixture>
{
    private static int Run(string file, params string[] args)
    {
        using Process p = Process.Start(new ProcessStartInfo(file) { UseShellExecute = false }.WithArguments(args))!;
        p.WaitForExit();
        return p.ExitCode;
    }

    [Fact]
    public async Task Disk_full_mid_ingest_is_one_line_keeps_the_committed_papers_and_resumes()
    {
        using var dir = new TempDir();
        string mount = Directory.CreateDirectory(dir.File("small")).FullName;
        if (Run("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mount) != 0)
        {
            // No right to mount here: check at least the translation a full device gets (ENOSPC is errno 28).
            var typed = Assert.IsType<StorageException>(LibraryErrors.Translate(new IOException("No space left on device : '/x/seg-000001.papers'", 28)));
            Assert.True(typed.IsDiskFull);
            Assert.Contains("free some space", typed.Message, StringComparison.Ordinal);
            return;
        }
        try
        {
            string store = Path.Combine(mount, "store");
            ReliabilityFixture.CopyDirectory(fixture.BaseStore, store);
            string input = dir.File("many.jsonl");
            File.WriteAllLines(input, Enumerable.Range(0, 3000).Select(i => JsonSerializer.Serialize(new
            {
                id = $"m{i:D4}", title = $"{fixture.Titles(i % 12)} part {i}",
                @abstract = string.Join(' ', Enumerable.Repeat($"We study graphs and language models in experiment {i}.", 6)),
            })));

            var (exit, _, stderr) = await CliHarness.RunAsync("ingest", "--store", store, input, "--model", fixture.Model, "--commit-every", "256", "--quiet");

            Assert.True(exit == 1, $"exit {exit}: {stderr}");
            string line = ReliabilityFixture.AssertOneLineError(stderr, "disk full");
            Assert.Contains("no space left", line, StringComparison.OrdinalIgnoreCase);
            IReadOnlyList<string> export = await ReliabilityFixture.ExportAsync(store);
            Assert.All(fixture.BaseExport, l => Assert.Contains(l, export));
            Assert.True((export.Count - 12) % 256 == 0 && export.Count < 3012, $"{export.Count} papers: not whole commits");
            Assert.Empty(Directory.GetFiles(store, "*.tmp", SearchOption.AllDirectories));

            // Room again (the store moved to a larger disk): the same command finishes the batch.
            string moved = dir.File("moved");
            ReliabilityFixture.CopyDirectory(store, moved);
            (exit, _, stderr) = await CliHarness.RunAsync("ingest", "--store", moved, input, "--model", fixture.Model, "--commit-every", "256", "--quiet");
            Assert.True(exit == 0, stderr);
            Assert.Equal(3012, (await ReliabilityFixture.ExportAsync(moved)).Count);
        }
        finally
        {
            Run("umount", mount);
        }
    }
}

internal static class ProcessStartInfoExtensions
{
    public static ProcessStartInfo WithArguments(this ProcessStartInfo start, IEnumerable<string> args)
    {
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        return start;
    }
}
