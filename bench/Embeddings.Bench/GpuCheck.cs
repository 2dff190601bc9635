using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json;
using Embeddings.Encoding;

namespace Embeddings.Bench;

/// <summary>
/// CUDA against CPU on the same texts: embeds the first N SciFact abstracts (default 1,000) with the default model on
/// CUDA, then on the CPU in the same process (the GPU build of ONNX Runtime runs the CPU provider too: one library per
/// process), and prints the largest |difference| of any component, the smallest cosine between the two vectors of a
/// text, and texts/s of each (after one warm-up batch). Goal: max |diff| &lt;= 1e-3 and cosine &gt;= 0.9999. Fails with
/// the encoder's message (which names the missing libraries) when CUDA cannot be used: no fallback here.
/// Usage: gpu-check [--model DIR] [--limit 1000] [--out FILE]   (scripts/gpu-check.sh installs the GPU build first)
/// </summary>
internal static class GpuCheck
{
    public static int Run(string[] args)
    {
        string repo = BenchHost.RepoRoot();
        string shared = Environment.GetEnvironmentVariable("EMBEDDINGS_SHARED_DIR") is { Length: > 0 } s ? s : Path.Combine(repo, "..", "shared");
        string model = SentenceEncoder.FindDefaultModelDirectory() ?? Path.Combine(repo, "models", PackagedModels.Default.FolderName);
        int limit = 1000;
        string outFile = Path.Combine(repo, "bench", "results", "gpu-check.json");
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--model": model = args[++i]; break;
                case "--limit": limit = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": outFile = args[++i]; break;
                default:
                    Console.Error.WriteLine("usage: gpu-check [--model DIR] [--limit 1000] [--out FILE]");
                    return 2;
            }
        }
        List<string> texts = EncoderBench.LoadSciFact(Path.Combine(shared, "eval-dev", "scifact", "corpus.jsonl.gz"), limit);
        OnnxSentenceEncoder gpu;
        try
        {
            gpu = SentenceEncoder.Load(model, new EncoderOptions { Device = ComputeDevice.Cuda, Parallelism = EncoderParallelism.IntraOp });
        }
        catch (EmbeddingsException e)
        {
            Console.Error.WriteLine("gpu-check: " + e.Message);
            return 1;
        }
        (EmbeddingBatch onGpu, double gpuSeconds) = Time(gpu, texts);
        string runtime = $"{gpu.Runtime.Path} ({gpu.Runtime.Version})";
        gpu.Dispose();
        using OnnxSentenceEncoder cpu = SentenceEncoder.Load(model, new EncoderOptions());
        (EmbeddingBatch onCpu, double cpuSeconds) = Time(cpu, texts);

        double maxDiff = 0;
        double minCosine = 1;
        for (int i = 0; i < texts.Count; i++)
        {
            ReadOnlySpan<float> a = onGpu[i], b = onCpu[i];
            for (int d = 0; d < a.Length; d++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(a[d] - b[d]));
            }
            float na = TensorPrimitives.Norm(a), nb = TensorPrimitives.Norm(b);
            if (na > 0 && nb > 0)
            {
                minCosine = Math.Min(minCosine, TensorPrimitives.Dot(a, b) / (na * nb));
            }
        }
        bool pass = maxDiff <= 1e-3 && minCosine >= 0.9999;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"gpu-check: {texts.Count} SciFact abstracts, model {model}, ONNX Runtime {runtime}, load average {BenchHost.LoadAverage():F1}"));
        Console.WriteLine(string.Create(inv, $"  cuda: {gpuSeconds:F2} s, {texts.Count / gpuSeconds:F0} texts/s"));
        Console.WriteLine(string.Create(inv, $"  cpu:  {cpuSeconds:F2} s, {texts.Count / cpuSeconds:F0} texts/s ({Environment.ProcessorCount} cores)"));
        Console.WriteLine(string.Create(inv, $"  max |diff| {maxDiff:E2} (goal <= 1e-3), min cosine {minCosine:F6} (goal >= 0.9999): {(pass ? "PASS" : "FAIL")}"));
        Directory.CreateDirectory(Path.GetDirectoryName(outFile)!);
        File.WriteAllText(outFile, JsonSerializer.Serialize(new
        {
            texts = texts.Count, model, runtime, cuda_seconds = gpuSeconds, cpu_seconds = cpuSeconds,
            cuda_texts_per_s = texts.Count / gpuSeconds, cpu_texts_per_s = texts.Count / cpuSeconds,
            max_abs_diff = maxDiff, min_cosine = minCosine, pass, load_average = BenchHost.LoadAverage(),
        }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return pass ? 0 : 1;
    }

    private static (EmbeddingBatch Batch, double Seconds) Time(OnnxSentenceEncoder encoder, List<string> texts)
    {
        encoder.Encode(texts.Take(32).ToList()); // warm-up: kernels, allocations
        var clock = Stopwatch.StartNew();
        EmbeddingBatch batch = encoder.Encode(texts);
        return (batch, clock.Elapsed.TotalSeconds);
    }
}
