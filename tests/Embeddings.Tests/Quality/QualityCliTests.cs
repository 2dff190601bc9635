using System.Text.Json;
using Embeddings.Cli;
using Embeddings.Encoding.Lsa;
using Embeddings.Store;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Quality;

/// <summary>`embeddings eval` and `embeddings model fit` run in-process on small sets in the public layouts.</summary>
public sealed class QualityCliTests
{
    private static readonly string[] Topics =
    [
        "breast cancer tumour p53 mutation", "insulin diabetes glucose obesity", "influenza vaccine infection elderly",
    ];

    private static string WriteBeir(TempDir dir)
    {
        string beir = Path.Combine(dir.Path, "beir");
        Directory.CreateDirectory(Path.Combine(beir, "qrels"));
        var corpus = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            string[] words = Topics[i % 3].Split(' ');
            string text = string.Join(' ', words.Skip(i % 2).Concat(words.Take(i % 2)).Append("study" + (i / 3)));
            corpus.Add(JsonSerializer.Serialize(new Dictionary<string, string> { ["_id"] = "d" + i, ["title"] = "Paper " + i, ["text"] = text }));
        }
        File.WriteAllLines(Path.Combine(beir, "corpus.jsonl"), corpus);
        File.WriteAllLines(Path.Combine(beir, "queries.jsonl"),
        [
            "{\"_id\":\"q1\",\"text\":\"p53 mutation in breast cancer\"}",
            "{\"_id\":\"q2\",\"text\":\"vaccine against influenza\"}",
            "{\"_id\":\"q3\",\"text\":\"no judgements for this one\"}",
        ]);
        File.WriteAllLines(Path.Combine(beir, "qrels", "test.tsv"), ["query-id\tcorpus-id\tscore", "q1\td0\t1", "q1\td3\t1", "q2\td2\t1"]);
        return beir;
    }

    [Fact]
    public async Task Eval_prints_a_table_and_json_for_every_task()
    {
        using var dir = new TempDir();
        string beir = WriteBeir(dir);
        string sts = dir.File("sts.tsv");
        File.WriteAllLines(sts,
        [
            "pair_ID\tsentence_A\tsentence_B\trelatedness_score",
            "1\tbreast cancer tumour\tcancer of the breast tumour\t4.8",
            "2\tinsulin and diabetes\tglucose in diabetes\t3.9",
            "3\tinfluenza vaccine\tbreast cancer\t1.2",
            "4\tobesity and insulin\tvaccine infection\t1.0",
            "5\tp53 mutation tumour\ttumour p53\t4.5",
        ]);
        string clustering = dir.File("labelled.csv");
        File.WriteAllLines(clustering,
            new[] { "id,title,abstract,label" }.Concat(Enumerable.Range(0, 18).Select(i =>
                $"x{i},\"Title {i}\",\"{Topics[i % 3]} {Topics[i % 3]} sample {i}\",topic{i % 3}")));

        var (exit, stdout, stderr) = await CliHarness.RunAsync("eval", "--sts", sts, "--retrieval", beir, "--clustering", clustering,
            "--mode", "lexical", "--lsa-dims", "4", "--clustering-lsa-dims", "3", "--quiet");
        Assert.True(exit == 0, stderr);
        Assert.Contains("configuration", stdout, StringComparison.Ordinal);
        Assert.Contains("beir/test ndcg@10", stdout, StringComparison.Ordinal);
        Assert.Contains("BM25 + LSA, RRF", stdout, StringComparison.Ordinal);

        (exit, stdout, stderr) = await CliHarness.RunAsync("eval", "--retrieval", beir, "--clustering", clustering, "--mode", "lexical",
            "--lsa-dims", "4", "--clustering-lsa-dims", "3", "--json", "--quiet");
        Assert.True(exit == 0, stderr);
        using JsonDocument json = JsonDocument.Parse(stdout);
        var rows = json.RootElement.EnumerateArray().ToList();
        double bm25 = rows.Single(r => r.GetProperty("configuration").GetString() == "BM25" && r.GetProperty("metric").GetString() == "ndcg@10").GetProperty("value").GetDouble();
        Assert.Equal(1.0, bm25, 6); // the judged documents share the query's words and nothing else does
        double v = rows.Single(r => r.GetProperty("configuration").GetString() == "LSA" && r.GetProperty("metric").GetString() == "v-measure").GetProperty("value").GetDouble();
        Assert.Equal(1.0, v, 6);
        // The 3 default seeds each have their V-measure; the mean is theirs and the spread is their sample deviation.
        double[] perSeed = rows.Where(r => r.GetProperty("configuration").GetString() == "LSA"
                && r.GetProperty("metric").GetString()!.StartsWith("v-measure@seed", StringComparison.Ordinal))
            .Select(r => r.GetProperty("value").GetDouble()).ToArray();
        Assert.Equal(3, perSeed.Length);
        Assert.Equal(v, perSeed.Average(), 9);
        double sd = rows.Single(r => r.GetProperty("configuration").GetString() == "LSA" && r.GetProperty("metric").GetString() == "v-measure-sd").GetProperty("value").GetDouble();
        double mean = perSeed.Average();
        Assert.Equal(Math.Sqrt(perSeed.Sum(x => (x - mean) * (x - mean)) / 2), sd, 9);
    }

    [Fact]
    public async Task Model_fit_writes_an_lsa_folder_that_eval_loads_by_kind()
    {
        using var dir = new TempDir();
        string[] dumps = Directory.GetFiles(TestPaths.DailyPapersDir, "*.txt").Order(StringComparer.Ordinal).ToArray();
        string model = Path.Combine(dir.Path, "lsa");
        var (exit, stdout, stderr) = await CliHarness.RunAsync(["model", "fit", "--input", .. dumps, "--kind", "lsa", "--dims", "16", "-o", model, "--quiet"]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("fitted lsa on", stdout, StringComparison.Ordinal);
        using (LsaEncoder loaded = LsaEncoder.Load(model))
        {
            Assert.Equal(16, loaded.Dimension);
            Assert.Contains(loaded.Fingerprint, stdout, StringComparison.Ordinal);
        }

        string beir = WriteBeir(dir);
        (exit, stdout, stderr) = await CliHarness.RunAsync("eval", "--retrieval", beir, "--model", model, "--lsa-dims", "4",
            "--hybrid-weights", "0.5", "--fusion-weights", "0.3", "--cache", Path.Combine(dir.Path, "cache"), "--quiet");
        Assert.True(exit == 0, stderr);
        Assert.Contains("concat a=0.5", stdout, StringComparison.Ordinal);
        Assert.Contains("BM25 + lsa, w=0.3", stdout, StringComparison.Ordinal);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir.Path, "cache"), "*.vec").Length); // corpus and queries
        string first = stdout;
        (exit, stdout, stderr) = await CliHarness.RunAsync("eval", "--retrieval", beir, "--model", model, "--lsa-dims", "4",
            "--hybrid-weights", "0.5", "--fusion-weights", "0.3", "--cache", Path.Combine(dir.Path, "cache"), "--quiet");
        Assert.True(exit == 0, stderr);
        Assert.Equal(first, stdout); // served from the cache, same figures

        // From a store (ingested here with the LSA model itself as the store's encoder: no native library needed).
        string storeDir = Path.Combine(dir.Path, "store");
        int stored;
        using (LsaEncoder encoder = LsaEncoder.Load(model))
        using (PaperStore store = PaperStore.OpenOrCreate(storeDir, encoder))
        {
            await store.IngestFilesAsync(dumps, encoder);
            stored = store.Count;
        }
        string fromStore = Path.Combine(dir.Path, "lsa-store");
        (exit, stdout, stderr) = await CliHarness.RunAsync("model", "fit", "--store", storeDir, "--kind", "lsa", "--dims", "8", "-o", fromStore, "--quiet");
        Assert.True(exit == 0, stderr);
        Assert.Contains($"fitted lsa on {stored} papers", stdout, StringComparison.Ordinal);

        (exit, _, stderr) = await CliHarness.RunAsync("model", "fit", "--kind", "lsa", "-o", model, "--quiet");
        Assert.Equal(2, exit);
        Assert.Contains("--store DIR or --input FILES", stderr, StringComparison.Ordinal);
    }
}
