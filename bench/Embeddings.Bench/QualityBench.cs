using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Embeddings.Encoding.Lsa;
using Embeddings.Evaluation;
using Embeddings.Lexical;

namespace Embeddings.Bench;

/// <summary>
/// `quality [--scifact DIR] [--dims 384] [--repeat 3]`: speed of the lexical and corpus-fitted parts on the SciFact
/// corpus (5,183 abstracts, 809 queries): BM25 build, query throughput, save/load; LSA fit (vocabulary + randomised
/// SVD) and projection throughput; peak working set. Prints a table and writes bench/results/quality.json.
/// </summary>
internal static class QualityBench
{
    public static int Run(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        string root = BenchHost.RepoRoot();
        string scifact = BenchHost.Arg(args, "--scifact") ?? Path.Combine(root, "..", "shared", "eval-dev", "scifact");
        int dims = int.Parse(BenchHost.Arg(args, "--dims") ?? "384", inv);
        int repeat = int.Parse(BenchHost.Arg(args, "--repeat") ?? "3", inv);
        RetrievalDataset data = EvalDatasets.LoadBeir(scifact);
        string[] docs = data.Corpus.Select(d => d.FullText).ToArray();
        string[] queries = data.Queries.Values.ToArray();
        var figures = new Dictionary<string, object>
        {
            ["cores"] = Environment.ProcessorCount,
            ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "",
            ["documents"] = docs.Length,
            ["queries"] = queries.Length,
        };
        double Best(Action action)
        {
            double best = double.MaxValue;
            for (int r = 0; r < repeat; r++)
            {
                var clock = Stopwatch.StartNew();
                action();
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
            }
            return best;
        }

        Bm25Index? index = null;
        double build = Best(() =>
        {
            index = Bm25Index.Create();
            for (int i = 0; i < docs.Length; i++)
            {
                index.Add(data.Corpus[i].Id, docs[i]);
            }
        });
        double search = Best(() =>
        {
            foreach (string q in queries)
            {
                index!.Search(q, 100);
            }
        });
        string tmp = Path.Combine(Path.GetTempPath(), "quality-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(tmp);
        string bm25Path = Path.Combine(tmp, "bm25.bin");
        double save = Best(() => index!.Save(bm25Path));
        double load = Best(() => Bm25Index.Load(bm25Path));
        figures["bm25_build_docs_per_s"] = docs.Length / build;
        figures["bm25_queries_per_s"] = queries.Length / search;
        figures["bm25_save_s"] = save;
        figures["bm25_load_s"] = load;
        figures["bm25_file_bytes"] = new FileInfo(bm25Path).Length;
        figures["bm25_terms"] = index!.TermCount;

        LsaEncoder? lsa = null;
        double fit = Best(() => lsa = LsaEncoder.Fit(docs, new LsaOptions { Dimensions = dims }));
        double project = Best(() => lsa!.EncodeAsync(docs).GetAwaiter().GetResult());
        figures["lsa_dims"] = lsa!.Dimension;
        figures["lsa_vocabulary"] = lsa.VocabularySize;
        figures["lsa_fit_s"] = fit;
        figures["lsa_project_docs_per_s"] = docs.Length / project;
        figures["peak_working_set_mb"] = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
        Directory.Delete(tmp, recursive: true);

        foreach (var (key, value) in figures)
        {
            Console.WriteLine(string.Create(inv, $"{key,-26} {(value is double d ? d.ToString("F2", inv) : value)}"));
        }
        string resultsDir = Path.Combine(root, "bench", "results");
        Directory.CreateDirectory(resultsDir);
        string path = Path.Combine(resultsDir, "quality.json");
        File.WriteAllText(path, JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine("written " + path);
        return 0;
    }
}
