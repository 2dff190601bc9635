using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Embeddings.Corpus;
using Embeddings.Evaluation;
using Embeddings.Numerics;
using Embeddings.Topics;

namespace Embeddings.Bench;

/// <summary>
/// `topics [--sizes 10000,100000] [--dim 512] [--k 50] [--hdbscan-max 10000] [--no-sklearn]` (or `topics --store DIR`
/// for a real store, see <see cref="RunOnStore"/>): synthetic clustered
/// vectors (fixed seed) with per-cluster texts -> TopicPipeline; time and peak working set per stage, V-measure
/// against the synthetic labels, and scikit-learn's KMeans on the same vectors and k in the same run.
/// Prints a table and writes bench/results/topics.json.
/// </summary>
internal static class TopicsBench
{
    public static int Run(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        int[] sizes = (BenchHost.Arg(args, "--sizes") ?? "10000,100000").Split(',').Select(s => int.Parse(s, inv)).ToArray();
        int dim = int.Parse(BenchHost.Arg(args, "--dim") ?? "512", inv);
        int k = int.Parse(BenchHost.Arg(args, "--k") ?? "50", inv);
        int hdbscanMax = int.Parse(BenchHost.Arg(args, "--hdbscan-max") ?? "10000", inv);
        bool sklearn = !args.Contains("--no-sklearn");
        if (BenchHost.Arg(args, "--store") is { } storeDir)
        {
            return RunOnStore(storeDir);
        }
        string root = BenchHost.RepoRoot();
        string resultsDir = Path.Combine(root, "bench", "results");
        Directory.CreateDirectory(resultsDir);
        var runs = new List<Dictionary<string, object>>();
        Console.WriteLine($"cores {Environment.ProcessorCount}, load average {BenchHost.LoadAverages()}");
        foreach (int n in sizes)
        {
            var (vectors, labels) = Generate(n, dim, k, seed: 2024);
            var papers = Texts(labels, seed: 7);
            var methods = new List<(string Name, TopicOptions Options)> { ("kmeans", new TopicOptions { K = k, Seed = 1 }) };
            if (n <= hdbscanMax)
            {
                methods.Add(("hdbscan+pca32", new TopicOptions { Method = TopicMethod.Hdbscan, Seed = 1, Hdbscan = new HdbscanOptions { MinClusterSize = Math.Max(10, n / k / 4) } }));
            }
            foreach (var (name, options) in methods)
            {
                GC.Collect();
                var stages = new StageRecorder();
                var sw = Stopwatch.StartNew();
                var model = TopicPipeline.Fit(papers, vectors, dim, options, stages);
                stages.Finish();
                double total = sw.Elapsed.TotalSeconds;
                double v = ClusteringMetrics.VMeasure([.. labels], [.. model.Assignments]).VMeasure;
                Console.WriteLine($"n={n} {name}: {total:F2} s, V-measure {v:F4}, topics {model.Topics.Count}, outliers {model.OutlierIds.Count}, peak WS {stages.PeakMiB:F0} MiB");
                foreach (var s in stages.Stages)
                {
                    Console.WriteLine($"    {s.Name,-12} {s.Seconds,8:F2} s   peak {s.PeakMiB,7:F0} MiB");
                }
                runs.Add(new Dictionary<string, object>
                {
                    ["n"] = n, ["dim"] = dim, ["k"] = k, ["method"] = name, ["seconds"] = Math.Round(total, 3),
                    ["v_measure"] = Math.Round(v, 4), ["topics"] = model.Topics.Count, ["outliers"] = model.OutlierIds.Count,
                    ["peak_working_set_mib"] = Math.Round(stages.PeakMiB, 1),
                    ["stages"] = stages.Stages.Select(s => new Dictionary<string, object> { ["stage"] = s.Name, ["seconds"] = Math.Round(s.Seconds, 3), ["peak_mib"] = Math.Round(s.PeakMiB, 1) }).ToList(),
                });
            }
            if (sklearn)
            {
                var sk = RunSklearn(vectors, labels, n, dim, k);
                if (sk is not null)
                {
                    Console.WriteLine($"n={n} sklearn KMeans(k={k}, n_init=1, lloyd): {sk.Value.Seconds:F2} s, V-measure {sk.Value.V:F4}");
                    runs.Add(new Dictionary<string, object> { ["n"] = n, ["dim"] = dim, ["k"] = k, ["method"] = "sklearn-kmeans", ["seconds"] = Math.Round(sk.Value.Seconds, 3), ["v_measure"] = Math.Round(sk.Value.V, 4) });
                }
            }
        }
        var result = new Dictionary<string, object>
        {
            ["benchmark"] = "topics",
            ["machine"] = $"{Environment.ProcessorCount} cores, load average at start {BenchHost.LoadAverages()}",
            ["data"] = $"synthetic: {k} Gaussian clusters on the unit sphere, dim {dim}, seed 2024; texts from per-cluster vocabularies",
            ["runs"] = runs,
        };
        string path = Path.Combine(resultsDir, "topics.json");
        File.WriteAllText(path, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine("written " + path);
        return 0;
    }

    /// <summary>
    /// `topics --store DIR`: the real thing on a paper store (e.g. the one scripts/run.sh makes from the dumps): the
    /// default representation (neural + store-fitted LSA) and the default k-means, timed per stage.
    /// </summary>
    private static int RunOnStore(string storeDir)
    {
        using var store = Embeddings.Store.PaperStore.Open(storeDir);
        var papers = store.ReadPapersAsync().ToBlockingEnumerable().ToList();
        int d = store.Dimension;
        var neural = new float[papers.Count * d];
        for (int i = 0; i < papers.Count; i++)
        {
            store.ReadRow(papers[i].Row, neural.AsSpan(i * d, d));
        }
        Console.WriteLine($"cores {Environment.ProcessorCount}, load average {BenchHost.LoadAverages()}; store {storeDir}: {papers.Count} papers");
        var sw = Stopwatch.StartNew();
        var (vectors, dim) = ClusteringRepresentation.BuildAsync(papers.Select(p => p.Paper).ToArray(), neural, d,
            ClusteringRepresentation.Default, store.Directory).GetAwaiter().GetResult();
        double representation = sw.Elapsed.TotalSeconds;
        var stages = new StageRecorder();
        sw.Restart();
        var model = TopicPipeline.Fit(papers.Select(p => p.Paper).ToArray(), vectors, dim, new TopicOptions(), stages);
        stages.Finish();
        Console.WriteLine($"representation ({ClusteringRepresentation.Default}, {dim} dims): {representation:F2} s");
        Console.WriteLine($"topics: {sw.Elapsed.TotalSeconds:F2} s, {model.Topics.Count} topics, {model.OutlierIds.Count} outliers, peak WS {stages.PeakMiB:F0} MiB");
        foreach (var s in stages.Stages)
        {
            Console.WriteLine($"    {s.Name,-12} {s.Seconds,8:F2} s   peak {s.PeakMiB,7:F0} MiB");
        }
        return 0;
    }

    /// <summary>Clusters of unequal spread and size around random unit centres.</summary>
    internal static (float[] Vectors, int[] Labels) Generate(int n, int dim, int k, int seed)
    {
        var rng = new Random(seed);
        var centers = new float[k * dim];
        for (int i = 0; i < centers.Length; i++)
        {
            centers[i] = Gauss(rng);
        }
        var weights = Enumerable.Range(0, k).Select(_ => 0.5 + rng.NextDouble()).ToArray();
        double total = weights.Sum();
        var v = new float[(long)n * dim];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            double u = rng.NextDouble() * total, acc = 0;
            int c = 0;
            while (c < k - 1 && (acc += weights[c]) < u)
            {
                c++;
            }
            labels[i] = c;
            float spread = 0.9f + 0.4f * (c % 5) / 4f;
            for (int j = 0; j < dim; j++)
            {
                v[(long)i * dim + j] = centers[c * dim + j] + spread * Gauss(rng);
            }
            VectorMath.Normalize(v.AsSpan(i * dim, dim));
        }
        return (v, labels);
    }

    private static Paper[] Texts(int[] labels, int seed)
    {
        var rng = new Random(seed);
        var papers = new Paper[labels.Length];
        var sb = new StringBuilder();
        for (int i = 0; i < labels.Length; i++)
        {
            sb.Clear();
            for (int w = 0; w < 40; w++)
            {
                int cluster = rng.NextDouble() < 0.5 ? labels[i] : rng.Next(50);
                sb.Append("term").Append(cluster.ToString(CultureInfo.InvariantCulture)).Append('x').Append(rng.Next(12).ToString(CultureInfo.InvariantCulture)).Append(' ');
                if (w % 12 == 11)
                {
                    sb.Append(". ");
                }
            }
            papers[i] = new Paper("s" + i.ToString(CultureInfo.InvariantCulture), "Paper " + i.ToString(CultureInfo.InvariantCulture), sb.ToString());
        }
        return papers;
    }

    private static float Gauss(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    private static (double Seconds, double V)? RunSklearn(float[] vectors, int[] labels, int n, int dim, int k)
    {
        string tmp = Path.Combine(Path.GetTempPath(), "topics-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(tmp);
        try
        {
            WriteNpy(Path.Combine(tmp, "x.npy"), vectors, n, dim);
            File.WriteAllText(Path.Combine(tmp, "y.txt"), string.Join('\n', labels));
            string script = """
                import sys, time, numpy as np
                from sklearn.cluster import KMeans
                from sklearn.metrics import v_measure_score
                d = sys.argv[1]; k = int(sys.argv[2])
                x = np.load(d + '/x.npy'); y = np.loadtxt(d + '/y.txt', dtype=int)
                t = time.perf_counter()
                km = KMeans(n_clusters=k, n_init=1, random_state=0, algorithm='lloyd').fit(x)
                print(time.perf_counter() - t, v_measure_score(y, km.labels_))
                """;
            File.WriteAllText(Path.Combine(tmp, "km.py"), script);
            var psi = new ProcessStartInfo(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", [Path.Combine(tmp, "km.py"), tmp, k.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                Console.WriteLine("sklearn failed: " + err.Trim());
                return null;
            }
            var parts = output.Trim().Split(' ');
            return (double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine("sklearn not run: " + e.Message);
            return null;
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }

    private static void WriteNpy(string path, float[] data, int n, int dim)
    {
        string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, {dim}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var fs = File.Create(path);
        fs.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        fs.Write(BitConverter.GetBytes((ushort)header.Length));
        fs.Write(System.Text.Encoding.ASCII.GetBytes(header));
        fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
    }

    /// <summary>Times the pipeline's stages from its progress reports; samples the working set meanwhile.</summary>
    private sealed class StageRecorder : IProgress<WorkProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Timer _sampler;
        private string? _stage;
        private double _start;
        private long _stagePeak;
        private long _peak;

        public StageRecorder() => _sampler = new Timer(_ => Sample(), null, 0, 20);

        public List<(string Name, double Seconds, double PeakMiB)> Stages { get; } = [];

        public double PeakMiB => _peak / 1048576.0;

        private void Sample()
        {
            long ws = Environment.WorkingSet;
            lock (Stages)
            {
                _stagePeak = Math.Max(_stagePeak, ws);
                _peak = Math.Max(_peak, ws);
            }
        }

        public void Report(WorkProgress value)
        {
            if (value.Stage == _stage)
            {
                return;
            }
            Close();
            _stage = value.Stage;
            _start = _clock.Elapsed.TotalSeconds;
        }

        private void Close()
        {
            Sample();
            lock (Stages)
            {
                if (_stage is not null)
                {
                    Stages.Add((_stage, _clock.Elapsed.TotalSeconds - _start, _stagePeak / 1048576.0));
                }
                _stagePeak = Environment.WorkingSet;
            }
        }

        public void Finish()
        {
            Close();
            _stage = null;
            _sampler.Dispose();
        }
    }
}
