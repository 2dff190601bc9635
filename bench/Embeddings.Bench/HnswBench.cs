using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Embeddings.Index;

namespace Embeddings.Bench;

/// <summary>
/// HNSW recall@10 versus queries/s (1 thread and all cores), build time and memory, ours against hnswlib, every
/// engine in its own process over one line protocol and all of them in the same run, alternated: each round starts
/// fresh peers, builds them one after another, then runs every (ef, threads) point on each engine in turn; the order
/// of the engines rotates from round to round; the best of the rounds is kept (wall clock) next to CPU-seconds.
/// <para>
/// Engines: <c>float</c> and <c>int8</c> (ours, `hnsw-peer`), <c>native</c> (hnswlib's headers from Debian
/// libhnswlib-dev, bench/hnswlib_native.cpp, compiled here with g++ -O3 -march=native), <c>python</c> (Debian
/// python3-hnswlib, bench/hnswlib_bench.py). Ground truth: our exact index.
/// </para>
/// Usage: hnsw [--data NAME (bench/data/NAME.f32 + .json from `hnsw-data`) [--rows N (index only the first N rows)] | --vectors FILE --dim D | --n 100000
/// --dim 512 --clusters 0 --spread 1.0 --seed 42 (clustered synthetic)] [--queries 1000] [--m 16]
/// [--ef-construction 200] [--ef 16,32,64,...] [--engines float,int8,native,python] [--rounds 3] [--sweeps 1] [--passes 2]
/// [--threads 0 (all)] [--name NAME] [--out bench/results]; or hnsw --report bench/results/hnsw-NAME.json (the tables again
/// from a run's figures).
/// </summary>
internal static class HnswBench
{
    private const int K = 10;

    public static int Run(string[] args)
    {
        if (BenchHost.Arg(args, "--report") is { } figures)
        {
            return Rerender(figures);
        }
        var inv = CultureInfo.InvariantCulture;
        string root = BenchHost.RepoRoot();
        string outDir = BenchHost.Arg(args, "--out") ?? Path.Combine(root, "bench", "results");
        int m = BenchHost.IntArg(args, "--m", 16);
        int efc = BenchHost.IntArg(args, "--ef-construction", 200);
        int rounds = BenchHost.IntArg(args, "--rounds", 3);
        int passes = BenchHost.IntArg(args, "--passes", 2);
        int sweeps = BenchHost.IntArg(args, "--sweeps", 1);
        int threads = BenchHost.IntArg(args, "--threads", 0);
        threads = threads <= 0 ? Environment.ProcessorCount : threads;
        int[] efs = [.. (BenchHost.Arg(args, "--ef") ?? "16,32,64,128,256,512").Split(',').Select(s => int.Parse(s, inv))];
        string[] engines = (BenchHost.Arg(args, "--engines") ?? "float,int8,native,python").Split(',');
        Directory.CreateDirectory(outDir);

        (string vectorsFile, int dim, int nq, string name, string description, bool temporary) = Input(args, root);
        float[] all = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(vectorsFile)).ToArray();
        int n = all.Length / dim - nq;
        var data = new ReadOnlyMemory<float>(all, 0, n * dim);
        var queries = new ReadOnlyMemory<float>(all, n * dim, nq * dim);
        string loadAtStart = BenchHost.LoadAverages();
        Console.WriteLine($"hnsw benchmark: {description}: n={n} dim={dim} queries={nq} M={m} efConstruction={efc} ef={string.Join(',', efs)} rounds={rounds} sweeps={sweeps} passes={passes} threads={threads}");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores ({CpuModel()}), load average {loadAtStart}");

        var clock = Stopwatch.StartNew();
        Neighbor[][] truth = ExactIndex.Create(data, dim, SimilarityMetric.InnerProduct).SearchBatch(queries, K);
        Console.WriteLine($"exact ground truth in {clock.Elapsed.TotalSeconds:F1} s");
        string? compiler = engines.Contains("native") ? BuildNativePeer(root) : null;

        var results = engines.ToDictionary(e => e, e => new EngineResult(e));
        string idsFile = Path.Combine(Path.GetTempPath(), $"hnsw-bench-{Environment.ProcessId}-ids.bin");
        var loads = new List<string>();
        try
        {
            for (int round = 0; round < rounds; round++)
            {
                string[] order = [.. engines.Skip(round % engines.Length), .. engines.Take(round % engines.Length)];
                loads.Add(BenchHost.LoadAverages());
                Console.WriteLine($"round {round + 1}/{rounds}: order {string.Join(", ", order)}; load average {loads[^1]}");
                var peers = new Dictionary<string, Peer>();
                try
                {
                    foreach (string engine in order)
                    {
                        peers[engine] = Peer.Start(engine, root, vectorsFile, dim, nq);
                    }
                    foreach (string engine in order)
                    {
                        using JsonDocument reply = peers[engine].Send($"build {m} {efc} {threads}");
                        results[engine].AddBuild(reply.RootElement);
                        Console.WriteLine($"  {engine,-7} build {reply.RootElement.GetProperty("buildSeconds").GetDouble(),7:F2} s, {reply.RootElement.GetProperty("buildCpuSeconds").GetDouble(),7:F2} CPU s, RSS +{reply.RootElement.GetProperty("memoryMiB").GetDouble():F0} MiB");
                    }
                    // Several sweeps over the same graphs, the engine order rotated each time: searches are cheap next to
                    // builds, and on a shared machine the best of many short samples is what the code can do.
                    for (int sweep = 0; sweep < sweeps; sweep++)
                    {
                        string[] sweepOrder = [.. order.Skip(sweep % order.Length), .. order.Take(sweep % order.Length)];
                        foreach (int ef in efs)
                        {
                            foreach (int t in threads == 1 ? [1] : new[] { 1, threads })
                            {
                                foreach (string engine in sweepOrder)
                                {
                                    using JsonDocument reply = peers[engine].Send($"search {ef} {t} {passes} {idsFile}");
                                    double recall = Recall(idsFile, truth, nq);
                                    double qps = nq * passes / reply.RootElement.GetProperty("seconds").GetDouble();
                                    double qpsCpu = nq * passes / reply.RootElement.GetProperty("cpuSeconds").GetDouble();
                                    results[engine].AddSearch(ef, t, recall, qps, qpsCpu);
                                    Console.WriteLine($"  {engine,-7} ef={ef,4} threads={t}: recall@10 {recall:F4} {qps,9:F0} q/s ({qpsCpu:F0} per CPU s)");
                                }
                            }
                        }
                    }
                }
                finally
                {
                    foreach (Peer peer in peers.Values)
                    {
                        peer.Dispose();
                    }
                }
            }
        }
        finally
        {
            File.Delete(idsFile);
            if (temporary)
            {
                File.Delete(vectorsFile);
            }
        }
        loads.Add(BenchHost.LoadAverages());

        var run = new RunInfo(name, description, n, dim, nq, m, efc, efs, threads, rounds, sweeps, passes, Environment.ProcessorCount, CpuModel(), compiler, loads);
        string report = Report(run, results);
        Console.WriteLine();
        Console.WriteLine(report);
        File.WriteAllText(Path.Combine(outDir, $"hnsw-{name}.md"), report);
        var json = new
        {
            name, description, n, dim, queries = nq, m, efConstruction = efc, threads, rounds, sweeps, passes, cores = run.Cores,
            cpu = run.Cpu, compiler, loadAverages = loads,
            engines = results.Values.Select(r => new
            {
                r.Engine, builds = r.Builds, searches = r.Searches.Select(s => new { s.Key.Ef, s.Key.Threads, recalls = s.Value.Recalls, qps = s.Value.Qps, qpsPerCpuSecond = s.Value.QpsCpu }),
            }),
        };
        File.WriteAllText(Path.Combine(outDir, $"hnsw-{name}.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {Path.Combine(outDir, $"hnsw-{name}.md")} and .json");
        return 0;
    }

    /// <summary>`hnsw --report bench/results/hnsw-NAME.json`: the tables again from a run's figures (after a change to the report).</summary>
    private static int Rerender(string jsonFile)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(jsonFile));
        JsonElement r = doc.RootElement;
        var results = new Dictionary<string, EngineResult>();
        var efs = new SortedSet<int>();
        foreach (JsonElement engine in r.GetProperty("engines").EnumerateArray())
        {
            var result = new EngineResult(engine.GetProperty("Engine").GetString()!);
            foreach (JsonElement build in engine.GetProperty("builds").EnumerateArray())
            {
                result.AddBuild(build);
            }
            foreach (JsonElement search in engine.GetProperty("searches").EnumerateArray())
            {
                int ef = search.GetProperty("Ef").GetInt32();
                efs.Add(ef);
                double[] Values(string property) => [.. search.GetProperty(property).EnumerateArray().Select(v => v.GetDouble())];
                double[] recalls = Values("recalls"), qps = Values("qps"), qpsCpu = Values("qpsPerCpuSecond");
                for (int i = 0; i < recalls.Length; i++)
                {
                    result.AddSearch(ef, search.GetProperty("Threads").GetInt32(), recalls[i], qps[i], qpsCpu[i]);
                }
            }
            results[result.Engine] = result;
        }
        var run = new RunInfo(r.GetProperty("name").GetString()!, r.GetProperty("description").GetString()!, r.GetProperty("n").GetInt32(),
            r.GetProperty("dim").GetInt32(), r.GetProperty("queries").GetInt32(), r.GetProperty("m").GetInt32(), r.GetProperty("efConstruction").GetInt32(),
            [.. efs], r.GetProperty("threads").GetInt32(), r.GetProperty("rounds").GetInt32(),
            r.TryGetProperty("sweeps", out JsonElement sweeps) ? sweeps.GetInt32() : 1, r.GetProperty("passes").GetInt32(),
            r.GetProperty("cores").GetInt32(), r.GetProperty("cpu").GetString()!, r.GetProperty("compiler").GetString(),
            [.. r.GetProperty("loadAverages").EnumerateArray().Select(l => l.GetString()!)]);
        string report = Report(run, results);
        string mdFile = Path.ChangeExtension(jsonFile, ".md");
        File.WriteAllText(mdFile, report);
        Console.WriteLine(report);
        Console.WriteLine($"wrote {mdFile}");
        return 0;
    }

    /// <summary>The vectors to run on: a prepared data set, a raw file, or clustered synthetic vectors in a temporary file.</summary>
    private static (string File, int Dim, int Queries, string Name, string Description, bool Temporary) Input(string[] args, string root)
    {
        if (BenchHost.Arg(args, "--data") is { } dataName)
        {
            string dir = Path.Combine(root, "bench", "data");
            string meta = Path.Combine(dir, dataName + ".json");
            if (!File.Exists(meta))
            {
                throw new FileNotFoundException($"{meta} is missing: make it with `Embeddings.Bench hnsw-data {(dataName.StartsWith("real", StringComparison.Ordinal) ? "real [--model DIR]" : "glove")}`", meta);
            }
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(meta));
            JsonElement r = doc.RootElement;
            string source = r.GetProperty("source").GetString()!;
            string model = r.TryGetProperty("model", out JsonElement mo) ? $", model {Path.GetFileName(mo.GetString())} ({r.GetProperty("modelFingerprint").GetString()})" : "";
            string vectors = Path.Combine(dir, r.GetProperty("file").GetString()!);
            int dimension = r.GetProperty("dimension").GetInt32();
            int queries = BenchHost.IntArg(args, "--queries", r.GetProperty("queries").GetInt32());
            string described = $"{dataName}: {source}{model}, L2-normalised, shuffled (seed {r.GetProperty("seed").GetInt32()})";
            if (BenchHost.Arg(args, "--rows") is null)
            {
                return (vectors, dimension, queries, dataName, described, false);
            }
            // The first ROWS rows (a uniform sample: the set is shuffled) and the same query rows, in a temporary file.
            int indexed = BenchHost.IntArg(args, "--rows", 0);
            long total = new FileInfo(vectors).Length / (4L * dimension);
            if (indexed < 1 || indexed > total - queries)
            {
                throw new ArgumentException($"--rows {indexed}: {dataName} has {total - queries} rows besides its {queries} queries");
            }
            string subset = Path.Combine(Path.GetTempPath(), $"hnsw-bench-{Environment.ProcessId}-vectors.f32");
            using (FileStream input = File.OpenRead(vectors))
            using (FileStream output = File.Create(subset))
            {
                var buffer = new byte[1 << 20];
                CopyBytes(input, output, 4L * dimension * indexed, buffer);
                input.Seek(4L * dimension * (total - queries), SeekOrigin.Begin);
                CopyBytes(input, output, 4L * dimension * queries, buffer);
            }
            return (subset, dimension, queries, string.Create(CultureInfo.InvariantCulture, $"{dataName}-{indexed}"),
                string.Create(CultureInfo.InvariantCulture, $"{described}, the first {indexed:N0} of {total - queries:N0} rows indexed"), true);
        }
        int dim = BenchHost.IntArg(args, "--dim", 512);
        int nq = BenchHost.IntArg(args, "--queries", 1000);
        if (BenchHost.Arg(args, "--vectors") is { } file)
        {
            string fileName = Path.GetFileNameWithoutExtension(file);
            return (file, dim, nq, BenchHost.Arg(args, "--name") ?? fileName, $"vectors from {Path.GetFileName(file)}", false);
        }
        int n = BenchHost.IntArg(args, "--n", 100_000);
        int clusters = BenchHost.IntArg(args, "--clusters", 0);
        clusters = clusters <= 0 ? Math.Max(10, n / 100) : clusters;
        int seed = BenchHost.IntArg(args, "--seed", 42);
        float spread = float.Parse(BenchHost.Arg(args, "--spread") ?? "1.0", CultureInfo.InvariantCulture);
        float[] all = SyntheticVectors.Clustered(n + nq, dim, clusters, seed, spread);
        string path = Path.Combine(Path.GetTempPath(), $"hnsw-bench-{Environment.ProcessId}-vectors.f32");
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(all.AsSpan()).ToArray());
        return (path, dim, nq, BenchHost.Arg(args, "--name") ?? $"{n}", string.Create(CultureInfo.InvariantCulture, $"clustered synthetic ({clusters} clusters, spread {spread}, seed {seed})"), true);
    }

    private static void CopyBytes(Stream input, Stream output, long count, byte[] buffer)
    {
        while (count > 0)
        {
            int read = input.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (read == 0)
            {
                throw new EndOfStreamException("the vector file ended early");
            }
            output.Write(buffer, 0, read);
            count -= read;
        }
    }

    /// <summary>Compiles bench/hnswlib_native.cpp into bench/bin when the binary is missing or older; returns the compiler line.</summary>
    private static string BuildNativePeer(string root)
    {
        string source = Path.Combine(root, "bench", "hnswlib_native.cpp");
        string binary = NativePeerPath(root);
        string flags = "-O3 -march=native -std=c++17 -pthread -DNDEBUG";
        string version = RunText("g++", "--version").Split('\n')[0].Trim();
        if (!File.Exists(binary) || File.GetLastWriteTimeUtc(binary) < File.GetLastWriteTimeUtc(source))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(binary)!);
            Console.WriteLine($"compiling the native hnswlib peer: g++ {flags} {source} -o {binary}");
            RunText("g++", [.. flags.Split(' '), source, "-o", binary]);
        }
        return $"{version}, {flags}";
    }

    private static string NativePeerPath(string root) => Path.Combine(root, "bench", "bin", "hnswlib_native");

    private static string RunText(string program, params string[] arguments)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }
        using Process process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed with exit code {process.ExitCode} (install g++ and libhnswlib-dev)");
        }
        return output;
    }

    private static double Recall(string idsFile, Neighbor[][] truth, int nq)
    {
        ReadOnlySpan<int> ids = MemoryMarshal.Cast<byte, int>(File.ReadAllBytes(idsFile));
        int found = 0;
        int total = 0;
        var expected = new HashSet<int>();
        for (int q = 0; q < nq; q++)
        {
            expected.Clear();
            foreach (Neighbor t in truth[q])
            {
                expected.Add(t.Id);
            }
            total += expected.Count;
            for (int j = 0; j < K; j++)
            {
                found += expected.Contains(ids[q * K + j]) ? 1 : 0;
            }
        }
        return (double)found / total;
    }

    private static string Report(RunInfo run, Dictionary<string, EngineResult> results)
    {
        (string description, int n, int dim, int nq, int m, int efc, int[] efs, int threads, int rounds, int sweeps, int passes) =
            (run.Description, run.N, run.Dim, run.Queries, run.M, run.EfConstruction, run.Efs, run.Threads, run.Rounds, run.Sweeps, run.Passes);
        var inv = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine(inv, $"### HNSW on {description}");
        s.AppendLine();
        s.AppendLine(inv, $"n = {n:N0} indexed, {nq:N0} queries, dim = {dim}, M = {m}, efConstruction = {efc}, k = 10. Machine: {run.Cores} cores ({run.Cpu}), {threads} threads for \"all cores\".");
        s.AppendLine(inv, $"{rounds} round(s) of fresh processes and builds, {sweeps} search sweep(s) per round; engines alternated (order rotated each round and each sweep), each point = {passes} passes over the queries after a warm-up; best sample kept for rates (wall clock and per CPU-second), recall = mean over samples.");
        s.AppendLine(inv, $"Load average (1, 5, 15 min) at the start of each round and at the end: {string.Join(" | ", run.LoadAverages)}.");
        if (run.Compiler is not null)
        {
            s.AppendLine(inv, $"native = hnswlib {HnswlibVersion()} headers, {run.Compiler}; python = Debian python3-hnswlib.");
        }
        s.AppendLine();
        EngineResult? native = results.GetValueOrDefault("native");
        s.AppendLine("| engine | build s (best) | build CPU-s | memory MiB (RSS growth) | q/s 1 thread at recall 0.90 / 0.95 / 0.99 | q per CPU-s 1 thread at 0.90 / 0.95 / 0.99 | q/s " + threads + " threads at 0.90 / 0.95 / 0.99 |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (EngineResult r in results.Values)
        {
            string Ratio(double ours, double? theirs) => r == native || theirs is not > 0 || ours <= 0 ? "" : string.Create(inv, $" ({ours / theirs.Value:F2}x)");
            (double wall, double cpu, double mem) = r.BestBuild;
            string At(int t, bool perCpuSecond = false) => string.Join(" / ", new[] { 0.90, 0.95, 0.99 }.Select(target =>
            {
                (double qps, bool atLeast) = r.QpsAtRecall(target, t, perCpuSecond);
                if (qps <= 0)
                {
                    return "-";
                }
                double nat = native?.QpsAtRecall(target, t, perCpuSecond).Qps ?? 0;
                return string.Create(inv, $"{(atLeast ? ">=" : "")}{qps:F0}") + Ratio(qps, nat);
            }));
            s.AppendLine(inv, $"| {Label(r.Engine)} | {wall:F2}{Ratio(wall, native?.BestBuild.Wall)} | {cpu:F2}{Ratio(cpu, native?.BestBuild.Cpu)} | {mem:F0}{Ratio(mem, native?.BestBuild.Memory)} | {At(1)} | {At(1, perCpuSecond: true)} | {At(threads)} |");
        }
        s.AppendLine();
        s.AppendLine("Ratios in brackets: this engine / native hnswlib (q/s interpolated at equal recall, log-linear between ef points; \">=\" when the lowest ef already exceeds the recall).");
        s.AppendLine();
        s.AppendLine("| engine | ef | recall@10 | q/s 1 thread | q per CPU-s 1 thread | q/s " + threads + " threads | q/s ratio to native, 1 / " + threads + " threads |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (EngineResult r in results.Values)
        {
            foreach (int ef in efs)
            {
                SearchPoint one = r.Searches[(ef, 1)];
                SearchPoint all = r.Searches.GetValueOrDefault((ef, threads)) ?? one;
                string ratio = native is null || r == native ? "" : string.Create(inv, $"{one.BestQps / native.Searches[(ef, 1)].BestQps:F2} / {all.BestQps / (native.Searches.GetValueOrDefault((ef, threads)) ?? native.Searches[(ef, 1)]).BestQps:F2}");
                s.AppendLine(inv, $"| {Label(r.Engine)} | {ef} | {one.MeanRecall:F4} | {one.BestQps:F0} | {one.BestQpsCpu:F0} | {all.BestQps:F0} | {ratio} |");
            }
        }
        return s.ToString();
    }

    private static string Label(string engine) => engine switch
    {
        "float" => "ours, float",
        "int8" => "ours, int8 + exact re-score (caller's floats)",
        "int8-own" => "ours, int8 + exact re-score (own float copy)",
        "native" => "hnswlib native",
        "python" => "hnswlib python",
        _ => engine,
    };

    private static string HnswlibVersion()
    {
        try
        {
            return RunText("dpkg-query", "-W", "-f=${Version}", "libhnswlib-dev").Trim();
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return "(version unknown)";
        }
    }

    private static string CpuModel()
    {
        try
        {
            string? model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return model is null ? "unknown CPU" : model[(model.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }

    /// <summary>What a run was: its input, parameters and machine (the JSON file's header).</summary>
    private sealed record RunInfo(string Name, string Description, int N, int Dim, int Queries, int M, int EfConstruction, int[] Efs, int Threads,
        int Rounds, int Sweeps, int Passes, int Cores, string Cpu, string? Compiler, List<string> LoadAverages);

    private sealed class SearchPoint
    {
        public List<double> Recalls { get; } = [];

        public List<double> Qps { get; } = [];

        public List<double> QpsCpu { get; } = [];

        public double MeanRecall => Recalls.Average();

        public double BestQps => Qps.Max();

        public double BestQpsCpu => QpsCpu.Max();
    }

    private sealed class EngineResult(string engine)
    {
        public string Engine { get; } = engine;

        public List<Dictionary<string, double>> Builds { get; } = [];

        public Dictionary<(int Ef, int Threads), SearchPoint> Searches { get; } = [];

        public (double Wall, double Cpu, double Memory) BestBuild
        {
            get
            {
                Dictionary<string, double> best = Builds.MinBy(b => b["buildSeconds"])!;
                return (best["buildSeconds"], Builds.Min(b => b["buildCpuSeconds"]), Builds.Min(b => b["memoryMiB"]));
            }
        }

        public void AddBuild(JsonElement reply) =>
            Builds.Add(reply.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble()));

        public void AddSearch(int ef, int threads, double recall, double qps, double qpsCpu)
        {
            if (!Searches.TryGetValue((ef, threads), out SearchPoint? point))
            {
                Searches[(ef, threads)] = point = new SearchPoint();
            }
            point.Recalls.Add(recall);
            point.Qps.Add(qps);
            point.QpsCpu.Add(qpsCpu);
        }

        /// <summary>Best q/s (or queries per CPU-second) at <paramref name="target"/> recall, log-linear between the ef points around it.</summary>
        public (double Qps, bool AtLeast) QpsAtRecall(double target, int threads, bool perCpuSecond = false)
        {
            var points = Searches.Where(s => s.Key.Threads == threads).OrderBy(s => s.Key.Ef)
                .Select(s => (Recall: s.Value.MeanRecall, Rate: perCpuSecond ? s.Value.BestQpsCpu : s.Value.BestQps)).ToList();
            if (points.Count == 0)
            {
                return (0, false);
            }
            if (points[0].Recall >= target)
            {
                return (points[0].Rate, true);
            }
            for (int i = 1; i < points.Count; i++)
            {
                (double r0, double q0) = points[i - 1];
                (double r1, double q1) = points[i];
                if (r1 >= target && r1 > r0)
                {
                    double f = (target - r0) / (r1 - r0);
                    return (Math.Exp(Math.Log(q0) + f * (Math.Log(q1) - Math.Log(q0))), false);
                }
            }
            return (0, false);
        }
    }

    /// <summary>One engine's process: commands on stdin, one JSON reply line each on stdout.</summary>
    private sealed class Peer : IDisposable
    {
        private readonly Process _process;

        private Peer(Process process) => _process = process;

        public static Peer Start(string engine, string root, string vectorsFile, int dim, int nq)
        {
            string[] command = engine switch
            {
                "float" or "int8" or "int8-own" => [.. SelfCommand(), "hnsw-peer", "--variant", engine],
                "native" => [NativePeerPath(root)],
                "python" => [File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", Path.Combine(root, "bench", "hnswlib_bench.py")],
                _ => throw new ArgumentException($"unknown engine '{engine}' (float, int8, native, python)"),
            };
            var psi = new ProcessStartInfo(command[0])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (string a in command[1..].Concat([vectorsFile, dim.ToString(CultureInfo.InvariantCulture), nq.ToString(CultureInfo.InvariantCulture)]))
            {
                psi.ArgumentList.Add(a);
            }
            return new Peer(Process.Start(psi) ?? throw new InvalidOperationException($"could not start the {engine} peer"));
        }

        private static string[] SelfCommand()
        {
            string host = Environment.ProcessPath ?? "dotnet";
            return Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, typeof(HnswBench).Assembly.Location] : [host];
        }

        public JsonDocument Send(string command)
        {
            _process.StandardInput.WriteLine(command);
            _process.StandardInput.Flush();
            string? line = _process.StandardOutput.ReadLine();
            if (line is null)
            {
                throw new InvalidOperationException($"the peer {_process.StartInfo.FileName} exited (code {(_process.WaitForExit(5000) ? _process.ExitCode : -1)}) on `{command}`");
            }
            JsonDocument reply = JsonDocument.Parse(line);
            if (reply.RootElement.TryGetProperty("error", out JsonElement error))
            {
                throw new InvalidOperationException($"peer {_process.StartInfo.FileName}: {error.GetString()}");
            }
            return reply;
        }

        public void Dispose()
        {
            try
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
                if (!_process.WaitForExit(30_000))
                {
                    _process.Kill();
                }
            }
            catch (IOException)
            {
                // Already gone.
            }
            _process.Dispose();
        }
    }
}
