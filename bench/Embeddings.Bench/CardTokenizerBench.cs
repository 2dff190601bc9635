using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Embeddings.Tokenization;

namespace Embeddings.Bench;

/// <summary>
/// Our BERT WordPiece tokenizer against the two card packages (Microsoft.ML.Tokenizers 2.0.1 BertTokenizer,
/// FastBertTokenizer 1.2.6) on the same vocabulary (all-MiniLM-L6-v2's, from tiny-bert) and the daily-papers
/// paragraphs, 1 thread, ids without special tokens where the API allows. Rounds alternate the three; each figure is the
/// best pass of its rounds. Usage: card-tokenizers [--rounds 7] [--out FILE]
/// </summary>
internal static class CardTokenizerBench
{
    public static int Run(string[] args)
    {
        int rounds = 7;
        string repo = BenchHost.RepoRoot();
        string outFile = Path.Combine(repo, "bench", "results", "card-tokenizers.json");
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": outFile = args[++i]; break;
                default: Console.Error.WriteLine("usage: card-tokenizers [--rounds 7] [--out FILE]"); return 2;
            }
        }
        string shared = Environment.GetEnvironmentVariable("EMBEDDINGS_SHARED_DIR") is { Length: > 0 } s ? s : Path.Combine(repo, "..", "shared");
        string vocab = Path.Combine(shared, "models", "tiny-bert", "vocab.txt");
        string[] texts = TokenizerBench.LoadParagraphs(Path.Combine(shared, "corpus", "daily-papers"));
        long bytes = texts.Sum(t => (long)System.Text.Encoding.UTF8.GetByteCount(t));

        var ours = BertWordPieceTokenizer.FromVocabTxt(vocab);
        var ml = Microsoft.ML.Tokenizers.BertTokenizer.Create(vocab);
        var fast = new FastBertTokenizer.BertTokenizer();
        using (var reader = File.OpenText(vocab))
        {
            fast.LoadVocabulary(reader, convertInputToLowercase: true);
        }
        var buffer = new int[1 << 16];
        var candidates = new (string Name, Func<long> Pass)[]
        {
            ("ours (BertWordPieceTokenizer)", () =>
            {
                long n = 0;
                foreach (string t in texts)
                {
                    ours.EncodeToIds(t.AsSpan(), buffer, out int written);
                    n += written;
                }
                return n;
            }),
            ("Microsoft.ML.Tokenizers 2.0.1", () =>
            {
                long n = 0;
                foreach (string t in texts)
                {
                    n += ml.EncodeToIds(t, addSpecialTokens: false).Count;
                }
                return n;
            }),
            ("FastBertTokenizer 1.2.6", () =>
            {
                long n = 0;
                foreach (string t in texts)
                {
                    var (ids, _, _) = fast.Encode(t, maximumTokens: 4096);
                    n += ids.Length - 2;
                }
                return n;
            }),
        };
        var best = new double[candidates.Length];
        var tokens = new long[candidates.Length];
        Array.Fill(best, double.MaxValue);
        foreach (var c in candidates)
        {
            c.Pass(); // warm-up
        }
        double load = BenchHost.LoadAverage();
        for (int r = 0; r < rounds; r++)
        {
            for (int c = 0; c < candidates.Length; c++)
            {
                var clock = Stopwatch.StartNew();
                tokens[c] = candidates[c].Pass();
                best[c] = Math.Min(best[c], clock.Elapsed.TotalSeconds);
            }
        }
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"card tokenizers: {texts.Length} daily-papers paragraphs, {bytes / 1e6:F2} MB, 1 thread, best of {rounds} alternated rounds, load average {load:F1}"));
        var rows = new List<object>();
        for (int c = 0; c < candidates.Length; c++)
        {
            double mbps = bytes / 1e6 / best[c];
            double slower = best[c] / best[0];
            Console.WriteLine(string.Create(inv, $"  {candidates[c].Name,-32} {best[c] * 1000,8:F1} ms  {mbps,7:F2} MB/s  {tokens[c],9} tokens  {slower,5:F2}x ours' time"));
            rows.Add(new { tokenizer = candidates[c].Name, seconds = best[c], mb_per_s = mbps, tokens = tokens[c], time_over_ours = slower });
        }
        File.WriteAllText(outFile, JsonSerializer.Serialize(new
        {
            benchmark = "card-tokenizers",
            command = "dotnet run -c Release --project bench/Embeddings.Bench -- card-tokenizers " + string.Join(' ', args),
            load_average_at_start = load,
            load_average_at_end = BenchHost.LoadAverage(),
            results = rows,
        }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return 0;
    }
}
