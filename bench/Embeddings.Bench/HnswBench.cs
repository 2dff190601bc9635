using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Embeddings.Index;

namespace Embeddings.Bench;

/// <summary>
/// HNSW build time, memory and recall@10 versus queries/s on clustered synthetic unit vectors, next to
/// hnswlib (python3-hnswlib) on the same vectors with the same M/efConstruction; ground truth from the
/// exact index. Usage: hnsw [--n 100000] [--dim 512] [--queries 1000] [--m 16] [--ef-construction 200]
/// [--clusters 0 (n/100)] [--spread 1.0] [--seed 42] [--threads 0 (all)] [--no-hnswlib] [--out bench/results]
/// [--vectors FILE (raw float32 rows of --dim floats, e.g. real embeddings; the last --queries rows are queries)].
/// </summary>
internal static class HnswBench
{
    private static readonly int[] EfValues = [16, 32, 64, 128, 256, 512];

    public static int Run(string[] args)
    {
        int n = IntArg(args, "--n", 100_000);
        int dim = IntArg(args, "--dim", 512);
        int nq = IntArg(args, "--queries", 1000);
        int m = IntArg(args, "--m", 16);
        int efc = IntArg(args, "--ef-construction", 200);
        int clusters = IntArg(args, "--clusters", 0);
        int seed = IntArg(args, "--seed", 42);
        int threads = IntArg(args, "--threads", 0);
        threads = threads <= 0 ? Environment.ProcessorCount : threads;
        bool runHnswlib = !args.Contains("--no-hnswlib");
        string outDir = StringArg(args, "--out", Path.Combine(FindRepoRoot(), "bench", "results"));
        clusters = clusters <= 0 ? Math.Max(10, n / 100) : clusters;
        Directory.CreateDirectory(outDir);

        Console.WriteLine($"hnsw benchmark: n={n} dim={dim} queries={nq} M={m} efConstruction={efc} clusters={clusters} seed={seed} threads={threads}");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        var sw = Stopwatch.StartNew();
        string? realFile = args.Contains("--vectors") ? StringArg(args, "--vectors", "") : null;
        float spread = float.Parse(StringArg(args, "--spread", "1.0"), CultureInfo.InvariantCulture);
        float[] all;
        if (realFile is not null)
        {
            // Real embeddings: raw little-endian float32 rows of --dim floats; the last --queries rows are the queries.
            byte[] raw = File.ReadAllBytes(realFile);
            all = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).ToArray();
            n = all.Length / dim - nq;
            Console.WriteLine($"real vectors from {realFile}: {n} indexed + {nq} queries");
        }
        else
        {
            all = SyntheticVectors.Clustered(n + nq, dim, clusters, seed, spread);
        }
        var data = new ReadOnlyMemory<float>(all, 0, n * dim);
        var queries = new ReadOnlyMemory<float>(all, n * dim, nq * dim);
        Console.WriteLine($"generated vectors in {sw.Elapsed.TotalSeconds:F1} s");

        sw.Restart();
        Neighbor[][] truth = ExactIndex.Create(data, dim, SimilarityMetric.InnerProduct).SearchBatch(queries, 10);
        Console.WriteLine($"exact ground truth in {sw.Elapsed.TotalSeconds:F1} s");

        string? vectorsFile = null;
        if (runHnswlib)
        {
            vectorsFile = Path.Combine(Path.GetTempPath(), $"hnsw-{n}-{Environment.ProcessId}-vectors.bin");
            WriteVectors(vectorsFile, all, n, nq, dim);
        }

        long managedBefore = GC.GetTotalMemory(true);
        long workingBefore = Process.GetCurrentProcess().WorkingSet64;
        TimeSpan cpuBefore = Environment.CpuUsage.TotalTime;
        sw.Restart();
        HnswIndex index = HnswIndex.Build(data, new HnswOptions
        {
            Dimension = dim, M = m, EfConstruction = efc, Metric = SimilarityMetric.InnerProduct, MaxDegreeOfParallelism = threads,
        });
        double buildSeconds = sw.Elapsed.TotalSeconds;
        double buildCpuSeconds = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds;
        long managedAfter = GC.GetTotalMemory(true);
        long workingAfter = Process.GetCurrentProcess().WorkingSet64;
        Console.WriteLine($"ours: build {buildSeconds:F2} s ({buildCpuSeconds:F1} CPU s), index {index.MemoryBytes / 1048576.0:F0} MiB, managed +{(managedAfter - managedBefore) / 1048576.0:F0} MiB, working set +{(workingAfter - workingBefore) / 1048576.0:F0} MiB");

        var ours = new List<Row>();
        foreach (int ef in EfValues)
        {
            Neighbor[][] warm = index.SearchBatch(queries[..(Math.Min(nq, 100) * dim)], 10, ef, maxDegreeOfParallelism: 1);
            GC.KeepAlive(warm);
            TimeSpan cpu = Environment.CpuUsage.TotalTime;
            sw.Restart();
            Neighbor[][] single = index.SearchBatch(queries, 10, ef, maxDegreeOfParallelism: 1);
            double qps1 = nq / sw.Elapsed.TotalSeconds;
            double qpsCpu = nq / (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
            sw.Restart();
            Neighbor[][] multi = index.SearchBatch(queries, 10, ef, maxDegreeOfParallelism: threads);
            double qpsAll = nq / sw.Elapsed.TotalSeconds;
            double recall = SyntheticVectors.Recall(single, truth, 10);
            GC.KeepAlive(multi);
            ours.Add(new Row(ef, recall, qps1, qpsAll, qpsCpu));
            Console.WriteLine($"ours ef={ef,4}: recall@10 {recall:F4}  {qps1,9:F0} q/s (1 thread; {qpsCpu:F0} per CPU s)  {qpsAll,9:F0} q/s ({threads} threads)");
        }

        long indexBytes = index.MemoryBytes;
        // Freed before hnswlib runs so the two never hold their copies at once (matters at 1M x 512).
        index.Dispose();
        HnswlibResult? reference = null;
        if (runHnswlib && vectorsFile is not null)
        {
            string truthFile = Path.Combine(Path.GetTempPath(), $"hnsw-{n}-{Environment.ProcessId}-truth.bin");
            WriteTruth(truthFile, truth);
            reference = RunHnswlib(vectorsFile, truthFile, n, nq, dim, m, efc, threads);
            File.Delete(vectorsFile);
            File.Delete(truthFile);
        }

        string name = realFile is null ? $"hnsw-{n}" : $"hnsw-real-{n}";
        var report = new StringBuilder();
        report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"### HNSW, n = {n:N0}, dim = {dim}, {nq} queries, M = {m}, efConstruction = {efc}, ") + (realFile is null ? string.Create(CultureInfo.InvariantCulture, $"clustered synthetic ({clusters} clusters, spread {spread}, seed {seed})") : $"real embeddings from {Path.GetFileName(realFile)}"));
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores ({threads} used), load average at start {LoadAverage()}.");
        report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Build: ours {buildSeconds:F1} s wall, {buildCpuSeconds:F1} s CPU") + (reference is null ? "" : string.Create(CultureInfo.InvariantCulture, $"; hnswlib {reference.BuildSeconds:F1} s wall, {reference.BuildCpuSeconds:F1} s CPU (ratio ours/hnswlib: wall {buildSeconds / reference.BuildSeconds:F2}, CPU {buildCpuSeconds / reference.BuildCpuSeconds:F2})")) + ".");
        report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Memory: ours index {indexBytes / 1048576.0:F0} MiB, working set +{(workingAfter - workingBefore) / 1048576.0:F0} MiB") + (reference is null ? "" : string.Create(CultureInfo.InvariantCulture, $"; hnswlib RSS +{reference.MemoryMiB:F0} MiB")) + ".");
        report.AppendLine();
        report.AppendLine("| ef | recall@10 ours | recall@10 hnswlib | q/s 1 thread ours | hnswlib | ratio | q per CPU-s ours | hnswlib | ratio | q/s all cores ours | hnswlib | ratio |");
        report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < ours.Count; i++)
        {
            Row o = ours[i];
            Row? h = reference?.Rows.FirstOrDefault(r => r.Ef == o.Ef);
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {o.Ef} | {o.Recall:F4} | {Fmt(h?.Recall, "F4")} | {o.Qps1:F0} | {Fmt(h?.Qps1, "F0")} | {Ratio(o.Qps1, h?.Qps1)} | {o.QpsPerCpuSecond:F0} | {Fmt(h?.QpsPerCpuSecond, "F0")} | {Ratio(o.QpsPerCpuSecond, h?.QpsPerCpuSecond)} | {o.QpsAll:F0} | {Fmt(h?.QpsAll, "F0")} | {Ratio(o.QpsAll, h?.QpsAll)} |");
        }
        Console.WriteLine();
        Console.WriteLine(report.ToString());
        File.WriteAllText(Path.Combine(outDir, $"{name}.md"), report.ToString());
        var json = new
        {
            n, dim, queries = nq, m, efConstruction = efc, clusters, seed, threads, cores = Environment.ProcessorCount,
            loadAverage = LoadAverage(),
            ours = new { buildSeconds, buildCpuSeconds, indexMiB = indexBytes / 1048576.0, workingSetMiB = (workingAfter - workingBefore) / 1048576.0, rows = ours },
            hnswlib = reference,
        };
        File.WriteAllText(Path.Combine(outDir, $"{name}.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {Path.Combine(outDir, $"{name}.json")} and .md");
        return 0;
    }

    private static string Fmt(double? value, string format) => value is null ? "-" : value.Value.ToString(format, CultureInfo.InvariantCulture);

    private static string Ratio(double ours, double? theirs) => theirs is null or 0 ? "-" : (ours / theirs.Value).ToString("F2", CultureInfo.InvariantCulture);

    internal sealed record Row(int Ef, double Recall, double Qps1, double QpsAll, double QpsPerCpuSecond);

    internal sealed record HnswlibResult(double BuildSeconds, double BuildCpuSeconds, double MemoryMiB, List<Row> Rows);

    /// <summary>Vectors for the python side: int32 n, nq, dim, then (n + nq) x dim float32, little-endian.</summary>
    private static void WriteVectors(string path, float[] all, int n, int nq, int dim)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write(n);
        writer.Write(nq);
        writer.Write(dim);
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(all.AsSpan(0, (n + nq) * dim)));
    }

    private static void WriteTruth(string path, Neighbor[][] truth)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write(truth.Length);
        foreach (Neighbor[] row in truth)
        {
            for (int i = 0; i < 10; i++)
            {
                writer.Write(i < row.Length ? row[i].Id : -1);
            }
        }
    }

    private static HnswlibResult? RunHnswlib(string vectorsFile, string truthFile, int n, int nq, int dim, int m, int efc, int threads)
    {
        string script = Path.Combine(FindRepoRoot(), "bench", "hnswlib_bench.py");
        var psi = new ProcessStartInfo(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { script, vectorsFile, truthFile, m.ToString(CultureInfo.InvariantCulture), efc.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture), string.Join(',', EfValues) })
        {
            psi.ArgumentList.Add(a);
        }
        try
        {
            using Process process = Process.Start(psi)!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.WriteLine($"hnswlib run failed (exit {process.ExitCode}); install python3-hnswlib python3-numpy");
                return null;
            }
            string last = output.Trim().Split('\n')[^1];
            foreach (string line in output.Trim().Split('\n')[..^1])
            {
                Console.WriteLine("hnswlib: " + line);
            }
            using JsonDocument doc = JsonDocument.Parse(last);
            var rows = new List<Row>();
            foreach (JsonElement r in doc.RootElement.GetProperty("rows").EnumerateArray())
            {
                rows.Add(new Row(r.GetProperty("ef").GetInt32(), r.GetProperty("recall").GetDouble(), r.GetProperty("qps1").GetDouble(), r.GetProperty("qpsAll").GetDouble(), r.GetProperty("qpsCpu").GetDouble()));
            }
            return new HnswlibResult(doc.RootElement.GetProperty("buildSeconds").GetDouble(), doc.RootElement.GetProperty("buildCpuSeconds").GetDouble(), doc.RootElement.GetProperty("memoryMiB").GetDouble(), rows);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine("hnswlib run skipped: " + e.Message);
            return null;
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]);
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static int IntArg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string StringArg(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Embeddings.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
