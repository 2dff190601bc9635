using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Embeddings.Index;

namespace Embeddings.Bench;

/// <summary>
/// `hnsw-peer --variant float|int8|int8-own VECTORS.f32 DIM QUERIES`: our HNSW in its own process, driven by `hnsw` over the
/// same line protocol as the hnswlib peers (bench/hnswlib_native.cpp, bench/hnswlib_bench.py), so every engine is
/// measured the same way: a fresh process, its own CPU-seconds and resident-memory growth.
/// <para>
/// The int8 variant re-scores against the rows this process already holds (<see cref="HnswOptions.ExactVectors"/>),
/// as an index over a store re-scores against the store's memory-mapped vector file: its memory figure is the index
/// alone, while hnswlib's includes its own copy of every vector. int8-own keeps its own copy (self-contained).
/// </para>
/// </summary>
internal static class HnswPeer
{
    public static int Run(string[] args)
    {
        string variant = BenchHost.Arg(args, "--variant") ?? "float";
        string[] positional = [.. args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || !args[i - 1].StartsWith("--", StringComparison.Ordinal)))];
        string path = positional[0];
        int dim = int.Parse(positional[1], CultureInfo.InvariantCulture);
        int nq = int.Parse(positional[2], CultureInfo.InvariantCulture);
        float[] all = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();
        int n = all.Length / dim - nq;
        var data = new ReadOnlyMemory<float>(all, 0, n * dim);
        var queries = new ReadOnlyMemory<float>(all, n * dim, nq * dim);

        HnswIndex? index = null;
        string? line;
        while ((line = Console.ReadLine()) is not null)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }
            object reply;
            switch (words[0])
            {
                case "build":
                {
                    int m = Int(words[1]), efc = Int(words[2]), threads = Int(words[3]);
                    index?.Dispose();
                    index = null;
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    double rss = RssMiB();
                    TimeSpan cpu = Environment.CpuUsage.TotalTime;
                    var clock = Stopwatch.StartNew();
                    index = HnswIndex.Build(data, Options(variant, dim, m, efc, threads, data));
                    double seconds = clock.Elapsed.TotalSeconds;
                    double cpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
                    reply = new { buildSeconds = seconds, buildCpuSeconds = cpuSeconds, memoryMiB = RssMiB() - rss, indexMiB = index.MemoryBytes / 1048576.0 };
                    break;
                }
                case "search":
                {
                    int ef = Int(words[1]), threads = Int(words[2]), passes = Int(words[3]);
                    HnswIndex ready = index ?? throw new InvalidOperationException("search before build");
                    ready.SearchBatch(queries[..(Math.Min(nq, 200) * dim)], 10, ef, maxDegreeOfParallelism: threads);
                    TimeSpan cpu = Environment.CpuUsage.TotalTime;
                    var clock = Stopwatch.StartNew();
                    Neighbor[][] hits = [];
                    for (int p = 0; p < passes; p++)
                    {
                        hits = ready.SearchBatch(queries, 10, ef, maxDegreeOfParallelism: threads);
                    }
                    double seconds = clock.Elapsed.TotalSeconds;
                    double cpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
                    var ids = new int[nq * 10];
                    ids.AsSpan().Fill(-1);
                    for (int q = 0; q < nq; q++)
                    {
                        for (int j = 0; j < hits[q].Length; j++)
                        {
                            ids[q * 10 + j] = hits[q][j].Id;
                        }
                    }
                    File.WriteAllBytes(words[4], MemoryMarshal.AsBytes(ids.AsSpan()).ToArray());
                    reply = new { seconds, cpuSeconds };
                    break;
                }
                case "quit":
                    index?.Dispose();
                    return 0;
                default:
                    reply = new { error = "unknown command " + words[0] };
                    break;
            }
            Console.WriteLine(JsonSerializer.Serialize(reply));
        }
        index?.Dispose();
        return 0;
    }

    private static HnswOptions Options(string variant, int dim, int m, int efc, int threads, ReadOnlyMemory<float> data) => variant switch
    {
        "float" => new HnswOptions { Dimension = dim, M = m, EfConstruction = efc, Metric = SimilarityMetric.InnerProduct, MaxDegreeOfParallelism = threads },
        "int8" => new HnswOptions
        {
            Dimension = dim, M = m, EfConstruction = efc, Metric = SimilarityMetric.InnerProduct, MaxDegreeOfParallelism = threads,
            Quantization = HnswQuantization.Int8, ExactVectors = data,
        },
        "int8-own" => new HnswOptions
        {
            Dimension = dim, M = m, EfConstruction = efc, Metric = SimilarityMetric.InnerProduct, MaxDegreeOfParallelism = threads,
            Quantization = HnswQuantization.Int8,
        },
        _ => throw new ArgumentException($"unknown variant '{variant}' (float, int8, int8-own)"),
    };

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    internal static double RssMiB()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return double.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        return 0;
    }
}
