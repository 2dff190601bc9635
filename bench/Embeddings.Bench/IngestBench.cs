using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Store;

namespace Embeddings.Bench;

/// <summary>
/// Ingest throughput and the store's overhead over plain embedding of the same input with the same encoder.
/// <list type="number">
/// <item>Store-only cost: a synthetic JSONL of <c>--papers</c> papers (default 100,000) read and embedded by a trivial
/// encoder (no model work), once plainly (read + encode) and once through <c>PaperStore.IngestFilesAsync</c>; then a
/// re-ingest (all duplicates) and a cold open of the store. The difference is the store's own cost per paper.</item>
/// <item>Real overhead: the first <c>--subset</c> papers (default 300) with the USE-lite encoder, plain vs ingest,
/// alternated <c>--rounds</c> times (best of each), so the overhead is measured where it matters.</item>
/// </list>
/// Usage: <c>Embeddings.Bench ingest [--papers N] [--subset N] [--rounds N] [--model DIR] [--threads N] [--out FILE]</c>.
/// </summary>
internal static class IngestBench
{
    public static int Run(string[] args)
    {
        int papers = BenchHost.IntArg(args, "--papers", 100_000);
        int subset = BenchHost.IntArg(args, "--subset", 300);
        int rounds = BenchHost.IntArg(args, "--rounds", 2);
        int threads = BenchHost.IntArg(args, "--threads", 0);
        string? modelDir = BenchHost.Arg(args, "--model") ?? SentenceEncoder.FindDefaultModelDirectory();
        string output = BenchHost.Arg(args, "--out") ?? Path.Combine(BenchHost.RepoRoot(), "bench", "results", "ingest.json");
        string work = Path.Combine(Path.GetTempPath(), "emb-ingest-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(work);
        try
        {
            return RunAsync(papers, subset, rounds, threads, modelDir, output, work).GetAwaiter().GetResult();
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<int> RunAsync(int papers, int subset, int rounds, int threads, string? modelDir, string output, string work)
    {
        var results = new Dictionary<string, object>
        {
            ["machine"] = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            ["date"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["command"] = "dotnet run -c Release --project bench/Embeddings.Bench -- ingest " + string.Join(' ', Environment.GetCommandLineArgs().Skip(2)),
        };
        string input = Path.Combine(work, "synthetic.jsonl");
        long bytes = WriteSynthetic(input, papers, seed: 42);
        results["papers"] = papers;
        results["inputMB"] = Math.Round(bytes / 1e6, 1);
        Console.WriteLine($"synthetic input: {papers} papers, {bytes / 1e6:F1} MB");

        // 1. store-only cost with a trivial encoder
        using var trivial = new TrivialEncoder(512);
        var options = new IngestOptions { BatchSize = 64, CommitEvery = 2048 };
        double plain = await TimePlainAsync(input, trivial, int.MaxValue);
        string storeDir = Path.Combine(work, "store");
        long peakBefore = Process.GetCurrentProcess().PeakWorkingSet64;
        var clock = Stopwatch.StartNew();
        IngestSummary first;
        using (PaperStore store = PaperStore.Create(storeDir, trivial.Fingerprint, trivial.Dimension))
        {
            first = await store.IngestFilesAsync([input], trivial, options);
        }
        double ingest = clock.Elapsed.TotalSeconds;
        long peakAfter = Process.GetCurrentProcess().PeakWorkingSet64;
        clock.Restart();
        IngestSummary again;
        using (PaperStore store = PaperStore.Open(storeDir, new StoreOpenOptions { Writable = true }))
        {
            results["openSeconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
            again = await store.IngestFilesAsync([input], trivial, options);
        }
        double reingest = clock.Elapsed.TotalSeconds;
        long storeBytes = Directory.EnumerateFiles(storeDir).Sum(f => new FileInfo(f).Length);
        double perPaperUs = (ingest - plain) / papers * 1e6;
        results["trivialEncoder"] = new Dictionary<string, object>
        {
            ["plainReadEncodeSeconds"] = Math.Round(plain, 3),
            ["ingestSeconds"] = Math.Round(ingest, 3),
            ["ingestPapersPerSecond"] = Math.Round(papers / ingest, 0),
            ["storeCostMicrosecondsPerPaper"] = Math.Round(perPaperUs, 1),
            ["commits"] = first.Commits,
            ["reingestSeconds"] = Math.Round(reingest, 3),
            ["reingestEmbedded"] = again.Embedded,
            ["storeMB"] = Math.Round(storeBytes / 1e6, 1),
            ["peakWorkingSetMB"] = Math.Round(peakAfter / 1e6, 0),
            ["peakWorkingSetBeforeIngestMB"] = Math.Round(peakBefore / 1e6, 0),
        };
        Console.WriteLine($"trivial encoder: plain read+encode {plain:F2} s, ingest {ingest:F2} s ({papers / ingest:F0} papers/s, {first.Commits} commits), " +
            $"store cost {perPaperUs:F1} us/paper; re-ingest {reingest:F2} s (embedded {again.Embedded}); store {storeBytes / 1e6:F1} MB; peak working set {peakAfter / 1e6:F0} MB");

        // 2. the real encoder on a subset
        if (modelDir is null || !Directory.Exists(modelDir))
        {
            Console.WriteLine("real encoder: skipped (no model; run scripts/setup.sh)");
        }
        else
        {
            string subsetInput = Path.Combine(work, "subset.jsonl");
            File.WriteAllLines(subsetInput, File.ReadLines(input).Take(subset));
            using OnnxSentenceEncoder encoder = SentenceEncoder.Load(modelDir, new EncoderOptions { Threads = threads });
            await TimePlainAsync(subsetInput, encoder, 64); // warm-up
            double bestPlain = double.MaxValue, bestIngest = double.MaxValue;
            for (int r = 0; r < rounds; r++)
            {
                bestPlain = Math.Min(bestPlain, await TimePlainAsync(subsetInput, encoder, int.MaxValue));
                string dir = Path.Combine(work, "real-" + r);
                clock.Restart();
                using (PaperStore store = PaperStore.Create(dir, encoder.Fingerprint, encoder.Dimension))
                {
                    await store.IngestFilesAsync([subsetInput], encoder, new IngestOptions { BatchSize = 64, CommitEvery = 128 });
                }
                bestIngest = Math.Min(bestIngest, clock.Elapsed.TotalSeconds);
            }
            double overhead = (bestIngest - bestPlain) / bestPlain * 100;
            double modelPerPaperUs = bestPlain / subset * 1e6;
            double projected = perPaperUs / modelPerPaperUs * 100;
            results["realEncoder"] = new Dictionary<string, object>
            {
                ["model"] = encoder.Fingerprint,
                ["threads"] = encoder.Threads,
                ["papers"] = subset,
                ["rounds"] = rounds,
                ["plainSeconds"] = Math.Round(bestPlain, 3),
                ["ingestSeconds"] = Math.Round(bestIngest, 3),
                ["papersPerSecond"] = Math.Round(subset / bestIngest, 1),
                ["measuredOverheadPercent"] = Math.Round(overhead, 2),
                ["storeCostOverModelCostPercent"] = Math.Round(projected, 3),
            };
            Console.WriteLine($"USE-lite, {subset} papers, best of {rounds}: plain {bestPlain:F2} s, ingest {bestIngest:F2} s ({subset / bestIngest:F1} papers/s): " +
                $"measured overhead {overhead:F2}% (store cost / model cost per paper: {projected:F3}%)");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine("wrote " + output);
        return 0;
    }

    /// <summary>What `embeddings embed` does minus the output file: read the input, encode in batches of 64.</summary>
    private static async Task<double> TimePlainAsync(string input, ISentenceEncoder encoder, int _)
    {
        var clock = Stopwatch.StartNew();
        var texts = new List<string>(64);
        await foreach (SourcedPaper p in PaperReader.ReadAsync(input))
        {
            texts.Add(p.Paper.EmbeddingText);
            if (texts.Count == 64)
            {
                await encoder.EncodeAsync(texts);
                texts.Clear();
            }
        }
        if (texts.Count > 0)
        {
            await encoder.EncodeAsync(texts);
        }
        return clock.Elapsed.TotalSeconds;
    }

    private static long WriteSynthetic(string path, int count, int seed)
    {
        var random = new Random(seed);
        string[] vocabulary = [.. Enumerable.Range(0, 5000).Select(i => Word(random))];
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        var sb = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            sb.Clear();
            int titleWords = random.Next(5, 12);
            for (int w = 0; w < titleWords; w++)
            {
                sb.Append(w == 0 ? "" : " ").Append(vocabulary[random.Next(vocabulary.Length)]);
            }
            string title = sb.ToString();
            sb.Clear();
            int words = random.Next(100, 220); // arXiv abstracts: ~150 words
            for (int w = 0; w < words; w++)
            {
                sb.Append(w == 0 ? "" : w % 18 == 0 ? ". " : " ").Append(vocabulary[random.Next(vocabulary.Length)]);
            }
            sb.Append('.');
            writer.WriteLine(JsonSerializer.Serialize(new
            {
                id = $"{2000 + i / 100000}.{i % 100000:D5}",
                title,
                @abstract = sb.ToString(),
                authors = new[] { "A. Author", "B. Author" },
                categories = "cs.LG stat.ML",
                date = "2024-01-01",
            }));
        }
        writer.Flush();
        return writer.BaseStream.Length;
    }

    private static string Word(Random random)
    {
        int n = random.Next(3, 11);
        var chars = new char[n];
        for (int i = 0; i < n; i++)
        {
            chars[i] = (char)('a' + random.Next(26));
        }
        return new string(chars);
    }

    /// <summary>
    /// Does no model work: a cheap deterministic vector per text, so that timing an ingest with it shows the cost of
    /// reading, classifying, hashing and committing — the store's own cost.
    /// </summary>
    private sealed class TrivialEncoder(int dimension) : ISentenceEncoder
    {
        public string Fingerprint => "bench:trivial:" + Dimension.ToString(CultureInfo.InvariantCulture);

        public int Dimension { get; } = dimension;

        public Task<EmbeddingBatch> EncodeAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
        {
            float[] vectors = new float[texts.Count * Dimension];
            for (int i = 0; i < texts.Count; i++)
            {
                vectors[i * Dimension + (texts[i].Length % Dimension)] = 1f;
            }
            return Task.FromResult(new EmbeddingBatch(Dimension, vectors, new bool[texts.Count], new bool[texts.Count]));
        }

        public void Dispose()
        {
        }
    }
}
