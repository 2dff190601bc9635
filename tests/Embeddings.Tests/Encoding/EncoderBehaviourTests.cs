using Embeddings.Encoding;
using Embeddings.Numerics;

namespace Embeddings.Tests.Encoding;

/// <summary>Batching, empty texts, windowing and cancellation of the USE-lite encoder, on real dump abstracts.</summary>
public sealed class EncoderBehaviourTests
{
    private const int Dim = 512;

    private static List<string> SampleTexts()
    {
        // Every 6th dump paper (long abstracts, many windows) plus a few short ones: ~45 texts.
        var texts = EncoderFixtures.DumpTexts.Where((_, i) => i % 6 == 0).ToList();
        texts.AddRange(["Deep learning.", "A short title", "Graph neural networks for molecules", "x"]);
        return texts;
    }

    [Fact]
    public async Task Vectors_do_not_depend_on_batch_size_order_or_token_budget()
    {
        List<string> texts = SampleTexts();
        EmbeddingBatch all = await EncoderFixtures.UseLite.EncodeAsync(texts);

        // Different call sizes (each call batches differently) and a shuffled order.
        foreach (int size in new[] { 1, 3, 7 })
        {
            for (int start = 0; start < texts.Count; start += size)
            {
                var part = texts.Skip(start).Take(size).ToList();
                EmbeddingBatch b = await EncoderFixtures.UseLite.EncodeAsync(part);
                for (int i = 0; i < part.Count; i++)
                {
                    float diff = EncoderFixtures.MaxAbsDiff(b[i], all[start + i]);
                    Assert.True(diff <= 1e-6f, $"call size {size}, text {start + i}: diff {diff}");
                }
            }
        }
        var rng = new Random(12345);
        int[] perm = Enumerable.Range(0, texts.Count).OrderBy(_ => rng.Next()).ToArray();
        EmbeddingBatch shuffled = await EncoderFixtures.UseLite.EncodeAsync(perm.Select(p => texts[p]).ToList());
        for (int i = 0; i < perm.Length; i++)
        {
            Assert.True(EncoderFixtures.MaxAbsDiff(shuffled[i], all[perm[i]]) <= 1e-6f);
        }

        // Tiny and huge batches, one thread vs two, intra-op instead of concurrent runs.
        foreach (var options in new[]
        {
            new EncoderOptions { Threads = 1, TokenBudgetPerBatch = 128 },
            new EncoderOptions { Threads = 2, TokenBudgetPerBatch = 1 << 16, Parallelism = EncoderParallelism.IntraOp },
        })
        {
            using OnnxSentenceEncoder other = SentenceEncoder.Load(EncoderFixtures.UseLiteDir, options);
            Assert.Equal(EncoderFixtures.UseLite.Fingerprint, other.Fingerprint);
            EmbeddingBatch b = await other.EncodeAsync(texts);
            for (int i = 0; i < texts.Count; i++)
            {
                Assert.True(EncoderFixtures.MaxAbsDiff(b[i], all[i]) <= 1e-6f, $"budget {options.TokenBudgetPerBatch}: text {i}");
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n \r\n")]
    [InlineData("\u00a0\u2003")]
    public async Task Empty_and_whitespace_texts_get_a_zero_vector_in_every_position(string empty)
    {
        string a = "Protein folding is predicted from amino acid sequences using deep learning.";
        string b = "The galaxy rotation curves suggest the presence of dark matter halos.";
        EmbeddingBatch reference = await EncoderFixtures.UseLite.EncodeAsync([a, b]);

        EmbeddingBatch alone = await EncoderFixtures.UseLite.EncodeAsync([empty]);
        AssertEmpty(alone, 0);

        EmbeddingBatch allEmpty = await EncoderFixtures.UseLite.EncodeAsync([empty, empty, "", " "]);
        for (int i = 0; i < 4; i++)
        {
            AssertEmpty(allEmpty, i);
        }

        // First, middle and last: USE-lite would drop a trailing empty row if it ever reached the graph.
        EmbeddingBatch mixed = await EncoderFixtures.UseLite.EncodeAsync([empty, a, empty, b, empty]);
        AssertEmpty(mixed, 0);
        AssertEmpty(mixed, 2);
        AssertEmpty(mixed, 4);
        Assert.True(EncoderFixtures.MaxAbsDiff(mixed[1], reference[0]) <= 1e-6f);
        Assert.True(EncoderFixtures.MaxAbsDiff(mixed[3], reference[1]) <= 1e-6f);
        Assert.False(mixed.IsEmpty[1]);
    }

    private static void AssertEmpty(EmbeddingBatch batch, int i)
    {
        Assert.True(batch.IsEmpty[i]);
        Assert.False(batch.Truncated[i]);
        Assert.All(batch[i].ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public async Task Long_text_is_windowed_over_all_its_sentences_and_cut_only_without_windowing_or_past_the_cap()
    {
        OnnxSentenceEncoder enc = EncoderFixtures.UseLite;
        string longText = EncoderFixtures.DumpTexts.OrderByDescending(t => enc.Tokenizer.CountTokens(t)).First();
        int pieces = enc.Tokenizer.CountTokens(longText);
        Assert.True(pieces > 2 * 128, $"the longest dump text has {pieces} pieces");

        EmbeddingBatch windowed = await enc.EncodeAsync([longText]);
        Assert.False(windowed.Truncated[0]);
        Assert.InRange(EncoderFixtures.Norm(windowed[0]), 0.9999f, 1.0001f);

        // Oracle: the same windows built by hand (greedy packing of whole sentences, sentences tokenized alone),
        // embedded one by one and averaged weighted by piece count, then re-normalised.
        var sentences = new List<Range>();
        Embeddings.Tokenization.SentenceSplitter.Split(longText, sentences);
        var windows = new List<int[]>();
        var current = new List<int>();
        foreach (Range r in sentences)
        {
            int[] ids = enc.Tokenizer.EncodeToIds(longText[r]);
            if (current.Count > 0 && current.Count + ids.Length > 128)
            {
                windows.Add(current.ToArray());
                current.Clear();
            }
            current.AddRange(ids);
            while (current.Count > 128)
            {
                windows.Add(current.Take(128).ToArray());
                current.RemoveRange(0, 128);
            }
        }
        if (current.Count > 0)
        {
            windows.Add(current.ToArray());
        }
        Assert.Equal(pieces, windows.Sum(w => w.Length), 3.0 * sentences.Count); // sentence-wise vs whole-text pieces differ at most a little
        var expected = new double[Dim];
        foreach (int[] w in windows)
        {
            float[] v = enc.RunBatch([w]);
            for (int d = 0; d < Dim; d++)
            {
                expected[d] += w.Length * (double)v[d];
            }
        }
        double norm = Math.Sqrt(expected.Sum(x => x * x));
        float[] expectedVector = expected.Select(x => (float)(x / norm)).ToArray();
        Assert.True(EncoderFixtures.MaxAbsDiff(windowed[0], expectedVector) <= 1e-5f);

        // Windowing off: the first 128 pieces only, flagged.
        using OnnxSentenceEncoder cut = SentenceEncoder.Load(EncoderFixtures.UseLiteDir, new EncoderOptions { Threads = 1, Windowing = false });
        EmbeddingBatch truncated = await cut.EncodeAsync([longText]);
        Assert.True(truncated.Truncated[0]);
        float[] firstWindow = cut.RunBatch([enc.Tokenizer.EncodeToIds(longText)[..128]]);
        Assert.True(EncoderFixtures.MaxAbsDiff(truncated[0], firstWindow) <= 1e-6f);
        Assert.NotEqual(enc.Fingerprint, cut.Fingerprint);

        // A cap of 1 window: flagged; a text within the limit never is.
        using OnnxSentenceEncoder capped = SentenceEncoder.Load(EncoderFixtures.UseLiteDir, new EncoderOptions { Threads = 1, MaxWindowsPerText = 1 });
        EmbeddingBatch c = await capped.EncodeAsync([longText, "A short title."]);
        Assert.True(c.Truncated[0]);
        Assert.False(c.Truncated[1]);
    }

    [Fact]
    public async Task A_sentence_longer_than_the_limit_is_split_into_chunks_and_nothing_is_flagged()
    {
        // One "sentence" of ~400 pieces without any sentence end.
        string runOn = string.Join(" ", Enumerable.Repeat("neural networks learn representations of graphs and molecules", 50));
        EmbeddingBatch b = await EncoderFixtures.UseLite.EncodeAsync([runOn]);
        Assert.False(b.Truncated[0]);
        Assert.InRange(EncoderFixtures.Norm(b[0]), 0.9999f, 1.0001f);
    }

    [Fact]
    public async Task Cancellation_before_and_during_encoding_throws_operation_cancelled()
    {
        List<string> texts = EncoderFixtures.DumpTexts.Take(60).ToList();
        using var before = new CancellationTokenSource();
        before.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => EncoderFixtures.UseLite.EncodeAsync(texts, before.Token));

        using OnnxSentenceEncoder small = SentenceEncoder.Load(EncoderFixtures.UseLiteDir, new EncoderOptions { Threads = 1, TokenBudgetPerBatch = 256 });
        using var during = new CancellationTokenSource();
        int reports = 0;
        var progress = new SyncProgress(p =>
        {
            if (p.Done > 0 && Interlocked.Increment(ref reports) == 1)
            {
                during.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Run(() => small.Encode(texts, progress, during.Token)));
        Assert.Equal(1, reports);

        // The encoder is still usable afterwards.
        EmbeddingBatch ok = await small.EncodeAsync(["Still works."]);
        Assert.False(ok.IsEmpty[0]);
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts asynchronously).</summary>
    private sealed class SyncProgress(Action<WorkProgress> report) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => report(value);
    }
}
