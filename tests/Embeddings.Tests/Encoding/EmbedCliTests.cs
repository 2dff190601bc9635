using Embeddings.Cli;
using Embeddings.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Encoding;

/// <summary>`embeddings embed` and `embeddings model info` run in-process on the real dumps.</summary>
public sealed class EmbedCliTests
{
    private static List<string> DistinctIds => EncoderFixtures.DumpPapers.Select(p => p.Id).Distinct().ToList();

    [Fact]
    public async Task Embed_writes_jsonl_and_bin_for_every_dump_paper_and_both_read_back_identically()
    {
        string[] dumps = Directory.GetFiles(TestPaths.DailyPapersDir, "*.txt").Order(StringComparer.Ordinal).ToArray();
        using var dir = new TempDir();
        string jsonl = dir.File("papers.jsonl");
        string bin = dir.File("papers.bin");

        var (exit, _, err) = await CliHarness.RunAsync(["embed", .. dumps, "-o", jsonl, "--model", EncoderFixtures.UseLiteDir, "--threads", "2", "--quiet"]);
        Assert.True(exit == 0, err);
        Assert.Contains($"embedded {DistinctIds.Count} papers", err, StringComparison.Ordinal);
        Assert.Contains($"{EncoderFixtures.DumpPapers.Count - DistinctIds.Count} repeated ids left out", err, StringComparison.Ordinal);

        // bin from the first two dumps only (keeps the test short); its records must equal the jsonl ones.
        (exit, _, err) = await CliHarness.RunAsync(["embed", .. dumps[..2], "-o", bin, "--model", EncoderFixtures.UseLiteDir, "--format", "bin", "--quiet"]);
        Assert.True(exit == 0, err);

        List<EmbeddingRecord> fromJsonl = EmbeddingJsonl.Read(jsonl).ToList();
        EmbeddingFileContents fromBin = EmbeddingBinaryFormat.Read(bin);
        Assert.Equal(DistinctIds, fromJsonl.Select(r => r.Id).ToList());
        Assert.True(fromBin.Ids.Count > 50);
        Assert.Equal(EncoderFixtures.UseLite.Fingerprint, fromBin.Fingerprint);
        Assert.Equal(512, fromBin.Batch.Dimension);
        for (int i = 0; i < fromBin.Ids.Count; i++)
        {
            Assert.Equal(fromJsonl[i].Id, fromBin.Ids[i]);
            Assert.True(EncoderFixtures.MaxAbsDiff(fromJsonl[i].Vector, fromBin.Batch[i]) <= 1e-6f); // other chunking, same vectors
        }
        foreach (EmbeddingRecord r in fromJsonl)
        {
            Assert.False(r.Truncated);
            Assert.False(r.IsEmpty);
            Assert.InRange(EncoderFixtures.Norm(r.Vector), 0.9999f, 1.0001f);
        }

        // The CLI's vectors are the library's vectors for title + abstract.
        EmbeddingBatch direct = await EncoderFixtures.UseLite.EncodeAsync(EncoderFixtures.DumpTexts.Take(5).ToList());
        for (int i = 0; i < 5; i++)
        {
            Assert.True(EncoderFixtures.MaxAbsDiff(direct[i], fromJsonl[i].Vector) <= 1e-6f);
        }
    }

    [Fact]
    public async Task Bad_input_stops_with_file_and_line_unless_skip_bad()
    {
        using var dir = new TempDir();
        string input = dir.File("in.jsonl");
        File.WriteAllLines(input,
        [
            """{"id": "a", "title": "Graph neural networks", "abstract": "We study message passing."}""",
            """{"id": "b", "title": 42""",
            """{"id": "c", "text": "Only a text field here."}""",
        ]);
        string output = dir.File("out.jsonl");
        var (exit, _, err) = await CliHarness.RunAsync("embed", input, "-o", output, "--model", EncoderFixtures.UseLiteDir, "--quiet");
        Assert.Equal(CliRunner.BadInput, exit);
        Assert.Contains("in.jsonl:2", err, StringComparison.Ordinal);
        Assert.False(File.Exists(output));

        (exit, _, err) = await CliHarness.RunAsync("embed", input, "-o", output, "--model", EncoderFixtures.UseLiteDir, "--skip-bad", "--quiet");
        Assert.Equal(0, exit);
        Assert.Contains("1 skipped", err, StringComparison.Ordinal);
        Assert.Equal(["a", "c"], EmbeddingJsonl.Read(output).Select(r => r.Id).ToArray());
    }

    [Fact]
    public async Task Missing_model_folder_says_to_run_setup()
    {
        using var dir = new TempDir();
        string input = dir.File("in.jsonl");
        File.WriteAllText(input, """{"id": "a", "text": "x"}""" + "\n");
        var (exit, _, err) = await CliHarness.RunAsync("embed", input, "-o", dir.File("o.jsonl"), "--model", dir.File("nope"));
        Assert.NotEqual(0, exit);
        Assert.Contains("scripts/setup.sh", err, StringComparison.Ordinal);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public async Task Cuda_request_fails_clearly_or_falls_back_with_a_warning()
    {
        using var dir = new TempDir();
        string input = dir.File("in.jsonl");
        File.WriteAllText(input, """{"id": "a", "text": "A man is playing a guitar."}""" + "\n");
        var (exit, _, err) = await CliHarness.RunAsync("embed", input, "-o", dir.File("o.jsonl"), "--model", EncoderFixtures.TinyBertDir, "--device", "cuda", "--quiet");
        if (exit == 0)
        {
            return; // a machine with working CUDA
        }
        Assert.Contains("CUDA", err, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("--allow-cpu-fallback", err, StringComparison.Ordinal);
        (exit, _, err) = await CliHarness.RunAsync("embed", input, "-o", dir.File("o.jsonl"), "--model", EncoderFixtures.TinyBertDir,
            "--device", "cuda", "--allow-cpu-fallback", "--quiet");
        Assert.Equal(0, exit);
        Assert.Contains("warning", err, StringComparison.Ordinal);
        Assert.Single(EmbeddingJsonl.Read(dir.File("o.jsonl")));
    }

    [Fact]
    public async Task Model_info_prints_the_manifest_and_the_provider()
    {
        var (exit, stdout, err) = await CliHarness.RunAsync("model", "info", "--model", EncoderFixtures.UseLiteDir);
        Assert.True(exit == 0, err);
        Assert.Contains("kind:         use-lite", stdout, StringComparison.Ordinal);
        Assert.Contains("dimension:    512", stdout, StringComparison.Ordinal);
        Assert.Contains("token limit:  128", stdout, StringComparison.Ordinal);
        Assert.Contains("06441172f0edcf44b56b7a654f9fb3b0712b38a835ce48a2264d020f8be82ffa", stdout, StringComparison.Ordinal);
        Assert.Contains("fingerprint:  " + EncoderFixtures.UseLite.Fingerprint, stdout, StringComparison.Ordinal);
        Assert.Contains("provider:     cpu", stdout, StringComparison.Ordinal);

        (exit, stdout, _) = await CliHarness.RunAsync("model", "info", "--model", EncoderFixtures.TinyBertDir);
        Assert.Equal(0, exit);
        Assert.Contains("kind:         sentence-transformers", stdout, StringComparison.Ordinal);
        Assert.Contains("pooling:      mean", stdout, StringComparison.Ordinal);
    }
}
