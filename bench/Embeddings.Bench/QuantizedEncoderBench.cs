using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Embeddings.Corpus;
using Embeddings.Encoding;

namespace Embeddings.Bench;

/// <summary>
/// Two benchmarks of issue 16 (items 3 and 4), both alternated in one run with the load average recorded:
/// <list type="bullet">
/// <item><c>int8</c>: the float model against its <c>model quantize</c> copy on the same texts (short_texts.jsonl and the
/// daily-papers abstracts), in process, rounds alternating which goes first; best of N wall time and least CPU time.</item>
/// <item><c>embed-process</c>: whole-process <c>embeddings embed</c> of short_texts.jsonl (start-up, reading, tokenizing,
/// running, writing) against a whole node process running the same batches with onnxruntime-node
/// (bench/encoder_node_loop.mjs, ids prepared by us beforehand, no warm-up run), each under <c>/usr/bin/time</c> for
/// wall and CPU seconds, alternating; best of N.</item>
/// </list>
/// Usage: int8 [--float DIR] [--int8 DIR] [--rounds 3] [--threads 2] [--out FILE];
/// embed-process [--model DIR] [--rounds 3] [--threads 2] [--cli DLL] [--ort-node DIR] [--out FILE] [--variant NAME:ENV=VALUE,...]
/// [--baseline-cli NAME:PATH/embeddings.dll ...]
/// </summary>
internal static class QuantizedEncoderBench
{
    public static int RunInt8(string[] args)
    {
        string repo = BenchHost.RepoRoot();
        string floatModel = Path.Combine(repo, "models", "all-MiniLM-L6-v2");
        string int8Model = Path.Combine(repo, "models", "all-MiniLM-L6-v2-int8");
        int rounds = 3, threads = 2;
        string outFile = Path.Combine(repo, "bench", "results", "int8.json");
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--float": floatModel = args[++i]; break;
                case "--int8": int8Model = args[++i]; break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": outFile = args[++i]; break;
                default:
                    Console.Error.WriteLine($"int8: unknown option '{args[i]}'");
                    return 2;
            }
        }
        string shared = Path.GetFullPath(Path.Combine(repo, "..", "shared"));
        var sets = new (string Name, List<string> Texts)[]
        {
            ("short_texts.jsonl", ReadJsonlTexts(Path.Combine(shared, "bench", "short_texts.jsonl"))),
            ("daily-papers abstracts", EncoderBench.LoadDumps(Path.Combine(shared, "corpus", "daily-papers"))),
        };
        double load1 = BenchHost.LoadAverage();
        Console.WriteLine($"float {floatModel} vs int8 {int8Model}; {threads} threads, {rounds} alternated rounds; {Environment.ProcessorCount} cores, load average {load1:F1} at start");
        var rows = new List<Dictionary<string, object>>();
        using OnnxSentenceEncoder f = SentenceEncoder.Load(floatModel, new EncoderOptions { Threads = threads });
        using OnnxSentenceEncoder q = SentenceEncoder.Load(int8Model, new EncoderOptions { Threads = threads });
        foreach (var (name, texts) in sets)
        {
            f.Encode(texts.Take(32).ToList());
            q.Encode(texts.Take(32).ToList());
            var wall = new List<double>[] { [], [] };
            var cpu = new List<double>[] { [], [] };
            var loads = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                loads.Add(BenchHost.LoadAverage());
                // Alternate which model goes first, so a load change inside a round does not favour one side.
                foreach (int side in r % 2 == 0 ? new[] { 0, 1 } : [1, 0])
                {
                    OnnxSentenceEncoder encoder = side == 0 ? f : q;
                    TimeSpan c0 = Process.GetCurrentProcess().TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    GC.KeepAlive(encoder.Encode(texts));
                    wall[side].Add(clock.Elapsed.TotalSeconds);
                    cpu[side].Add((Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds);
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {name}, round {r + 1}: float {wall[0][^1]:F2} s ({cpu[0][^1]:F2} CPU-s), int8 {wall[1][^1]:F2} s ({cpu[1][^1]:F2} CPU-s), ratio {wall[0][^1] / wall[1][^1]:F2}, load {loads[^1]:F1}"));
            }
            double bestF = wall[0].Min(), bestQ = wall[1].Min(), cpuF = cpu[0].Min(), cpuQ = cpu[1].Min();
            var perRound = Enumerable.Range(0, rounds).Select(r => Math.Round(wall[0][r] / wall[1][r], 3)).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {texts.Count} texts; best float {bestF:F2} s = {texts.Count / bestF:F1} texts/s, best int8 {bestQ:F2} s = {texts.Count / bestQ:F1} texts/s; " +
                $"throughput ratio {bestF / bestQ:F2} (rounds {string.Join(", ", perRound.Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))}); CPU-s float {cpuF:F2} / int8 {cpuQ:F2} = {cpuF / cpuQ:F2}"));
            rows.Add(new Dictionary<string, object>
            {
                ["set"] = name,
                ["texts"] = texts.Count,
                ["threads"] = threads,
                ["float_seconds"] = wall[0].Select(x => Math.Round(x, 3)).ToList(),
                ["int8_seconds"] = wall[1].Select(x => Math.Round(x, 3)).ToList(),
                ["float_cpu_seconds"] = cpu[0].Select(x => Math.Round(x, 3)).ToList(),
                ["int8_cpu_seconds"] = cpu[1].Select(x => Math.Round(x, 3)).ToList(),
                ["ratio_best_wall"] = Math.Round(bestF / bestQ, 3),
                ["ratio_per_round"] = perRound,
                ["ratio_least_cpu"] = Math.Round(cpuF / cpuQ, 3),
                ["load_average_per_round"] = loads,
            });
            Write(outFile, "int8", args, load1, rows);
        }
        Console.WriteLine($"load average at end {BenchHost.LoadAverage():F1}; written {outFile}");
        return 0;
    }

    public static int RunEmbedProcess(string[] args)
    {
        string repo = BenchHost.RepoRoot();
        string model = SentenceEncoder.FindDefaultModelDirectory() ?? Path.Combine(repo, "models", PackagedModels.Default.FolderName);
        int rounds = 3, threads = 2;
        string ortNode = Path.Combine(Path.GetTempPath(), "embeddings-ort-node-1.31.1");
        string outFile = Path.Combine(repo, "bench", "results", "embed-process.json");
        var variants = new List<(string Name, Dictionary<string, string> Env)> { ("ours", []) };
        var baselines = new List<(string Name, string Cli)>();
        string? cli = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--model": model = args[++i]; break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--ort-node": ortNode = args[++i]; break;
                case "--out": outFile = args[++i]; break;
                case "--cli": cli = Path.GetFullPath(args[++i]); break;
                case "--baseline-cli":
                    // NAME:PATH of another build's embeddings.dll (e.g. a copy of the build before a change), run as
                    // one more side of the same alternated rounds.
                    string[] named = args[++i].Split(':', 2);
                    baselines.Add((named[0], Path.GetFullPath(named[1])));
                    break;
                case "--variant":
                    // NAME:VAR=VALUE,VAR=VALUE (environment of the embed process), e.g. tpgo0:DOTNET_TieredPGO=0
                    string[] parts = args[++i].Split(':', 2);
                    var env = new Dictionary<string, string>();
                    foreach (string kv in parts.Length > 1 ? parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries) : [])
                    {
                        string[] p = kv.Split('=', 2);
                        env[p[0]] = p.Length > 1 ? p[1] : "";
                    }
                    variants.Add((parts[0], env));
                    break;
                default:
                    Console.Error.WriteLine($"embed-process: unknown option '{args[i]}'");
                    return 2;
            }
        }
        string shared = Path.GetFullPath(Path.Combine(repo, "..", "shared"));
        string input = Path.Combine(shared, "bench", "short_texts.jsonl");
        List<string> texts = ReadJsonlTexts(input);
        // By default what a user types: scripts/embeddings (its ReadyToRun build and its runtime settings for embed), run
        // once first so that a stale build is rebuilt outside the clock; --cli runs that embeddings.dll with dotnet.
        string launcher = Path.Combine(repo, "scripts", "embeddings");
        string[] ours = cli is null ? [launcher] : ["dotnet", cli];
        if (cli is not null && !File.Exists(cli))
        {
            Console.Error.WriteLine($"embed-process: {cli} is missing: pass --cli PATH/embeddings.dll of a build.");
            return 1;
        }
        Console.WriteLine($"ours: {string.Join(' ', ours)}");
        string work = Path.Combine(Path.GetTempPath(), $"embeddings-embed-process-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        try
        {
            if (cli is null)
            {
                TimeProcess([launcher, "--version"], [], work); // builds the CLI when the sources are newer
            }
            // The node side gets our exact batches (ids prepared here, outside its clock): it does no tokenizing.
            string spec = Path.Combine(work, "spec.json");
            using (OnnxSentenceEncoder encoder = SentenceEncoder.Load(model, new EncoderOptions { Threads = threads }))
            {
                var (batches, _, _) = encoder.PlanBatches(texts);
                File.WriteAllText(spec, JsonSerializer.Serialize(EncoderBench.NodeSpec(encoder, batches, threads, warmup: false)));
            }
            string script = Path.Combine(repo, "bench", "encoder_node_loop.mjs");
            var sides = new List<(string Name, string[] Command, Dictionary<string, string> Env)>();
            foreach (var v in variants)
            {
                sides.Add((v.Name, [.. ours, "embed", input, "-o", Path.Combine(work, "out.bin"), "--model", model,
                    "--threads", threads.ToString(CultureInfo.InvariantCulture), "--quiet"], v.Env));
            }
            foreach (var (name, baselineCli) in baselines)
            {
                sides.Add((name, ["dotnet", baselineCli, "embed", input, "-o", Path.Combine(work, "out.bin"), "--model", model,
                    "--threads", threads.ToString(CultureInfo.InvariantCulture), "--quiet"], []));
            }
            sides.Add(("node", ["node", script, ortNode, spec], []));
            double load1 = BenchHost.LoadAverage();
            Console.WriteLine($"whole-process embed of {input} ({texts.Count} texts), model {model}, {threads} threads, {rounds} alternated rounds, load average {load1:F1} at start");
            var wall = sides.Select(_ => new List<double>()).ToList();
            var cpu = sides.Select(_ => new List<double>()).ToList();
            var loads = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                loads.Add(BenchHost.LoadAverage());
                IEnumerable<int> order = Enumerable.Range(0, sides.Count);
                foreach (int s in r % 2 == 0 ? order : order.Reverse())
                {
                    (double w, double c) = TimeProcess(sides[s].Command, sides[s].Env, work);
                    wall[s].Add(w);
                    cpu[s].Add(c);
                }
                Console.WriteLine($"  round {r + 1} (load {loads[^1]:F1}): " + string.Join(", ", sides.Select((x, s) =>
                    string.Create(CultureInfo.InvariantCulture, $"{x.Name} {wall[s][^1]:F2} s / {cpu[s][^1]:F2} CPU-s"))));
            }
            int nodeIndex = sides.Count - 1;
            var rows = new List<Dictionary<string, object>>();
            for (int s = 0; s < sides.Count; s++)
            {
                string line = string.Create(CultureInfo.InvariantCulture, $"{sides[s].Name,-12} best {wall[s].Min():F2} s, least CPU {cpu[s].Min():F2} s");
                if (s != nodeIndex)
                {
                    line += string.Create(CultureInfo.InvariantCulture,
                        $"; node best / this best = {wall[nodeIndex].Min() / wall[s].Min():F2} (>= 1: at least as fast as node), CPU node / this = {cpu[nodeIndex].Min() / cpu[s].Min():F2}");
                }
                Console.WriteLine(line);
                rows.Add(new Dictionary<string, object>
                {
                    ["side"] = sides[s].Name,
                    ["command"] = string.Join(' ', sides[s].Command),
                    ["environment"] = sides[s].Env,
                    ["wall_seconds"] = wall[s].Select(x => Math.Round(x, 3)).ToList(),
                    ["cpu_seconds"] = cpu[s].Select(x => Math.Round(x, 3)).ToList(),
                    ["best_wall_seconds"] = Math.Round(wall[s].Min(), 3),
                    ["least_cpu_seconds"] = Math.Round(cpu[s].Min(), 3),
                    ["speed_vs_node_best_wall"] = Math.Round(wall[nodeIndex].Min() / wall[s].Min(), 3),
                    ["load_average_per_round"] = loads,
                });
            }
            Write(outFile, "embed-process", args, load1, rows);
            Console.WriteLine($"load average at end {BenchHost.LoadAverage():F1}; written {outFile}");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Wall and user+system CPU seconds of a whole process, measured by /usr/bin/time.</summary>
    private static (double Wall, double Cpu) TimeProcess(string[] command, Dictionary<string, string> env, string work)
    {
        string timeFile = Path.Combine(work, "time.txt");
        var psi = new ProcessStartInfo("/usr/bin/time", ["-f", "%e %U %S", "-o", timeFile, .. command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', command)} failed ({p.ExitCode}): {stderr} {stdout.Result}");
        }
        string[] t = File.ReadAllText(timeFile).Trim().Split('\n')[^1].Split(' ');
        double[] v2 = t.Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        return (v2[0], v2[1] + v2[2]);
    }

    private static List<string> ReadJsonlTexts(string path)
    {
        var texts = new List<string>();
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length > 0)
            {
                using JsonDocument d = JsonDocument.Parse(line);
                texts.Add(d.RootElement.GetProperty("text").GetString() ?? "");
            }
        }
        return texts;
    }

    private static void Write(string outFile, string name, string[] args, double load1, List<Dictionary<string, object>> rows)
    {
        var doc = new Dictionary<string, object>
        {
            ["benchmark"] = name,
            ["command"] = $"dotnet run -c Release --project bench/Embeddings.Bench -- {name} " + string.Join(' ', args),
            ["cores"] = Environment.ProcessorCount,
            ["load_average_start"] = Math.Round(load1, 2),
            ["load_average_end"] = Math.Round(BenchHost.LoadAverage(), 2),
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["results"] = rows,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(outFile)!);
        File.WriteAllText(outFile, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
