using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Numerics;

namespace Embeddings.Bench;

/// <summary>
/// Encoder throughput: abstracts/s and tokens/s of the full C# pipeline (tokenize, window, sort, batch, run, pool,
/// combine) on the daily-papers abstracts and on a 10,000-abstract set (SciFact corpus, repeated to 10,000), with 1 and 2
/// threads; and in the same run, on the same token ids and batches, a plain loop over onnxruntime-node 1.31.1 in node
/// (input tensors prepared before the clock: the runtime's floor). Ratio = our abstracts/s / node's abstracts/s.
/// Usage: encoder [--model DIR] [--limit N] [--threads 1,2] [--ort-node DIR] [--skip-node] [--out FILE]
/// </summary>
internal static class EncoderBench
{
    public static int Run(string[] args)
    {
        string repo = BenchHost.RepoRoot();
        string shared = Environment.GetEnvironmentVariable("EMBEDDINGS_SHARED_DIR") is { Length: > 0 } s
            ? s
            : Path.GetFullPath(Path.Combine(repo, "..", "shared"));
        string model = Path.Combine(repo, "models", PackagedModels.Default.FolderName);
        int limit = 10_000;
        int[] threadCounts = [1, 2];
        string ortNode = Path.Combine(Path.GetTempPath(), "embeddings-ort-node-1.31.1");
        bool skipNode = false;
        bool compareParallelism = true;
        string outFile = Path.Combine(repo, "bench", "results", "encoder.json");
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--model": model = args[++i]; break;
                case "--limit": limit = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threadCounts = args[++i].Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--ort-node": ortNode = args[++i]; break;
                case "--skip-node": skipNode = true; break;
                case "--no-parallelism-compare": compareParallelism = false; break;
                case "--out": outFile = args[++i]; break;
                default:
                    Console.Error.WriteLine($"encoder: unknown option '{args[i]}'. Usage: encoder [--model DIR] [--limit N] [--threads 1,2] [--ort-node DIR] [--skip-node] [--out FILE]");
                    return 2;
            }
        }

        if (!skipNode && !EnsureOrtNode(ortNode))
        {
            return 1;
        }

        var sets = new (string Name, List<string> Texts)[]
        {
            ("daily-papers abstracts", LoadDumps(Path.Combine(shared, "corpus", "daily-papers"))),
            ($"SciFact corpus x{limit}", LoadSciFact(Path.Combine(shared, "eval-dev", "scifact", "corpus.jsonl.gz"), limit)),
        };

        double load1 = BenchHost.LoadAverage();
        Console.WriteLine($"Encoder throughput, model {model}, {Environment.ProcessorCount} cores, load average {load1:F1} at start");
        Console.WriteLine($"{"set",-26} {"threads",7} {"mode",-18} {"texts",6} {"windows",8} {"tokens",9} {"ours s",8} {"texts/s",8} {"tok/s",8} {"node s",8} {"node t/s",9} {"ratio",6} {"cpu s",7} {"node cpu",7} {"cpu ratio",6}");
        var rows = new List<Dictionary<string, object>>();
        foreach (var (setName, texts) in sets)
        {
            foreach (int threads in threadCounts)
            {
                var modes = new List<EncoderParallelism> { threads == 1 ? EncoderParallelism.IntraOp : EncoderParallelism.ConcurrentBatches };
                if (threads > 1 && compareParallelism && setName.StartsWith("daily", StringComparison.Ordinal))
                {
                    modes.Add(EncoderParallelism.IntraOp);
                }
                foreach (EncoderParallelism mode in modes)
                {
                    using OnnxSentenceEncoder encoder = SentenceEncoder.Load(model, new EncoderOptions { Threads = threads, Parallelism = mode });
                    var (batches, tokens, windows) = encoder.PlanBatches(texts);

                    encoder.Encode(texts.Take(32).ToList()); // warm-up: JIT, runtime allocations
                    TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    EmbeddingBatch result = encoder.Encode(texts);
                    double ours = clock.Elapsed.TotalSeconds;
                    double oursCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
                    GC.KeepAlive(result);

                    // Our model runs alone on the same batches (no tokenizing/windowing/pooling of texts), 1 thread only:
                    // separates the per-run cost from the pipeline's (on the small set: it doubles the time of a row).
                    double? runnerSeconds = null;
                    double? runnerCpu = null;
                    if (threads == 1 && setName.StartsWith("daily", StringComparison.Ordinal))
                    {
                        TimeSpan c0 = Process.GetCurrentProcess().TotalProcessorTime;
                        var rc = Stopwatch.StartNew();
                        foreach (List<int[]> batch in batches)
                        {
                            encoder.RunBatch(batch);
                        }
                        runnerSeconds = rc.Elapsed.TotalSeconds;
                        runnerCpu = (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds;
                    }
                    double? nodeSeconds = null;
                    double? nodeCpu = null;
                    if (!skipNode && mode == (threads == 1 ? EncoderParallelism.IntraOp : EncoderParallelism.ConcurrentBatches))
                    {
                        (double wall, double cpu) = RunNode(ortNode, encoder, batches, threads);
                        nodeSeconds = wall;
                        nodeCpu = cpu;
                    }
                    double textsPerSecond = texts.Count / ours;
                    double? nodeTextsPerSecond = nodeSeconds is double ns ? texts.Count / ns : null;
                    double? ratio = nodeTextsPerSecond is double nt ? textsPerSecond / nt : null;
                    string modeName = mode == EncoderParallelism.IntraOp ? "intra-op" : "concurrent batches";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{setName,-26} {threads,7} {modeName,-18} {texts.Count,6} {windows,8} {tokens,9} {ours,8:F2} {textsPerSecond,8:F1} {tokens / ours,8:F0} " +
                        $"{(nodeSeconds is double a ? a.ToString("F2", CultureInfo.InvariantCulture) : "-"),8} {(nodeTextsPerSecond is double b ? b.ToString("F1", CultureInfo.InvariantCulture) : "-"),9} " +
                        $"{(ratio is double r ? r.ToString("F2", CultureInfo.InvariantCulture) : "-"),6} " +
                        $"{oursCpu,7:F2} {(nodeCpu is double c ? c.ToString("F2", CultureInfo.InvariantCulture) : "-"),7} " +
                        $"{(nodeCpu is double c2 ? (c2 / oursCpu).ToString("F2", CultureInfo.InvariantCulture) : "-"),6}"));
                    var row = new Dictionary<string, object>
                    {
                        ["set"] = setName,
                        ["threads"] = threads,
                        ["mode"] = modeName,
                        ["texts"] = texts.Count,
                        ["windows"] = windows,
                        ["tokens"] = tokens,
                        ["batches"] = batches.Count,
                        ["ours_seconds"] = Math.Round(ours, 3),
                        ["ours_texts_per_second"] = Math.Round(textsPerSecond, 2),
                        ["ours_tokens_per_second"] = Math.Round(tokens / ours, 0),
                        ["ours_cpu_seconds"] = Math.Round(oursCpu, 3),
                    };
                    if (runnerSeconds is double rs)
                    {
                        row["ours_runs_only_seconds"] = Math.Round(rs, 3);
                        row["ours_runs_only_cpu_seconds"] = Math.Round(runnerCpu!.Value, 3);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{"",-26} {"",7} {"(model runs only)",-18} {"",6} {"",8} {"",9} {rs,8:F2} {texts.Count / rs,8:F1} {tokens / rs,8:F0} {"",8} {"",9} {"",6} {runnerCpu,7:F2}"));
                    }
                    if (nodeSeconds is double n)
                    {
                        row["node_seconds"] = Math.Round(n, 3);
                        row["node_texts_per_second"] = Math.Round(texts.Count / n, 2);
                        row["node_tokens_per_second"] = Math.Round(tokens / n, 0);
                        row["ratio_ours_over_node"] = Math.Round(ratio!.Value, 3);
                        row["node_cpu_seconds"] = Math.Round(nodeCpu!.Value, 3);
                        row["cpu_ratio_node_over_ours"] = Math.Round(nodeCpu.Value / oursCpu, 3);
                    }
                    rows.Add(row);
                    WriteResults(outFile, args, model, load1, BenchHost.LoadAverage(), rows); // after every row: a cut run keeps its figures
                }
            }
        }
        double load2 = BenchHost.LoadAverage();
        WriteResults(outFile, args, model, load1, load2, rows);
        Console.WriteLine($"load average at end {load2:F1}; written {outFile}");
        return 0;
    }

    private static void WriteResults(string outFile, string[] args, string model, double load1, double load2, List<Dictionary<string, object>> rows)
    {
        var doc = new Dictionary<string, object>
        {
            ["benchmark"] = "encoder",
            ["command"] = "dotnet run -c Release --project bench/Embeddings.Bench -- encoder " + string.Join(' ', args),
            ["model"] = model,
            ["cores"] = Environment.ProcessorCount,
            ["load_average_start"] = Math.Round(load1, 2),
            ["load_average_end"] = Math.Round(load2, 2),
            ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            ["node_loop"] = "bench/encoder_node_loop.mjs, onnxruntime-node 1.31.1, same batches, tensors built before timing, intraOpNumThreads = threads",
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["results"] = rows,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(outFile)!);
        File.WriteAllText(outFile, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static (double Wall, double Cpu) RunNode(string ortNode, OnnxSentenceEncoder encoder, List<List<int[]>> batches, int threads)
    {
        string specPath = Path.Combine(Path.GetTempPath(), $"embeddings-encoder-bench-{Environment.ProcessId}.json");
        File.WriteAllText(specPath, JsonSerializer.Serialize(NodeSpec(encoder, batches, threads, warmup: true)));
        try
        {
            string script = Path.Combine(BenchHost.RepoRoot(), "bench", "encoder_node_loop.mjs");
            var psi = new ProcessStartInfo("node", [script, ortNode, specPath]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using Process p = Process.Start(psi)!;
            string stdout = p.StandardOutput.ReadToEnd();
            string stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"node loop failed ({p.ExitCode}): {stderr}");
            }
            using JsonDocument result = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
            return (result.RootElement.GetProperty("seconds").GetDouble(), result.RootElement.GetProperty("cpu_seconds").GetDouble());
        }
        finally
        {
            File.Delete(specPath);
        }
    }

    /// <summary>The input of bench/encoder_node_loop.mjs: the model, its graph names and exactly our batches of ids.</summary>
    internal static Dictionary<string, object> NodeSpec(OnnxSentenceEncoder encoder, List<List<int[]>> batches, int threads, bool warmup)
    {
        ModelManifest m = encoder.Manifest;
        return new Dictionary<string, object>
        {
            ["kind"] = m.KindName,
            ["model"] = m.ModelPath,
            ["threads"] = threads,
            ["output"] = m.Output,
            ["inputs"] = m.Inputs,
            ["cls"] = encoder.Tokenizer.ClsId,
            ["sep"] = encoder.Tokenizer.SepId,
            ["warmup"] = warmup,
            ["batches"] = batches,
        };
    }

    /// <summary>onnxruntime-node 1.31.1 in a scratch folder, installed with --ignore-scripts (its postinstall must never run).</summary>
    private static bool EnsureOrtNode(string dir)
    {
        if (File.Exists(Path.Combine(dir, "node_modules", "onnxruntime-node", "package.json")))
        {
            return true;
        }
        Directory.CreateDirectory(dir);
        Console.Error.WriteLine($"encoder: installing onnxruntime-node@1.31.1 into {dir} (npm install --ignore-scripts) ...");
        var psi = new ProcessStartInfo("npm", ["install", "--prefix", dir, "--ignore-scripts", "--no-audit", "--no-fund", "onnxruntime-node@1.31.1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            Console.Error.WriteLine($"encoder: npm install failed: {err}\nInstall it by hand or run with --skip-node.");
            return false;
        }
        return true;
    }

    internal static List<string> LoadDumps(string dir)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var texts = new List<string>();
        foreach (string file in Directory.GetFiles(dir, "*.txt").Order(StringComparer.Ordinal))
        {
            foreach (SourcedPaper p in PaperReader.ReadAsync(file).ToBlockingEnumerable())
            {
                if (seen.Add(p.Paper.Id))
                {
                    texts.Add(p.Paper.EmbeddingText);
                }
            }
        }
        return texts;
    }

    internal static List<string> LoadSciFact(string path, int limit)
    {
        var docs = new List<string>();
        using (var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress))
        using (var reader = new StreamReader(gz))
        {
            while (reader.ReadLine() is { } line)
            {
                using JsonDocument d = JsonDocument.Parse(line);
                var paper = new Paper(d.RootElement.GetProperty("_id").GetString()!, d.RootElement.GetProperty("title").GetString() ?? "",
                    d.RootElement.GetProperty("text").GetString() ?? "");
                docs.Add(paper.EmbeddingText);
            }
        }
        var texts = new List<string>(limit);
        for (int i = 0; texts.Count < limit; i++)
        {
            texts.Add(docs[i % docs.Count]);
        }
        return texts;
    }
}
