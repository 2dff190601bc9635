using System.Text.Json;
using Embeddings.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Encoding;

/// <summary>
/// The sentence-transformers path against tiny-bert/golden_embeddings.json (onnxruntime-node, transformers.js
/// tokenizer): windowing off reproduces sentence-transformers' truncation ([CLS] + first 254 pieces + [SEP]).
/// </summary>
public sealed class TinyBertGoldenTests
{
    private sealed record Golden(string Label, string Text, bool Truncated, int[] InputIds, float[] Single, float[] Batch);

    private static List<Golden> Load()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "tiny-bert", "golden_embeddings.json")));
        return doc.RootElement.GetProperty("texts").EnumerateArray().Select(t => new Golden(
            t.GetProperty("label").GetString()!,
            t.GetProperty("text").GetString()!,
            t.GetProperty("truncated").GetBoolean(),
            t.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            t.GetProperty("embedding_single").EnumerateArray().Select(x => x.GetSingle()).ToArray(),
            t.GetProperty("embedding_batch").EnumerateArray().Select(x => x.GetSingle()).ToArray())).ToList();
    }

    [Fact]
    public void Folder_without_our_manifest_is_read_as_a_sentence_transformers_export()
    {
        ModelManifest m = EncoderFixtures.TinyBertNoWindow.Manifest;
        Assert.Equal(ModelKind.SentenceTransformers, m.Kind);
        Assert.False(m.FromManifestFile);
        Assert.Equal(32, m.Dimension);
        Assert.Equal(256, m.TokenLimit);
        Assert.Equal(PoolingMode.Mean, m.Pooling);
        Assert.True(m.Normalize);
        Assert.Equal("model.onnx", m.ModelFile);
        Assert.Equal(254, EncoderFixtures.TinyBertNoWindow.WindowTokenLimit);
    }

    [Fact]
    public async Task All_texts_in_one_batch_match_the_golden_batch_embeddings()
    {
        List<Golden> golden = Load();
        EmbeddingBatch batch = await EncoderFixtures.TinyBertNoWindow.EncodeAsync(golden.Select(g => g.Text).ToList());
        for (int i = 0; i < golden.Count; i++)
        {
            if (golden[i].Text.Length == 0)
            {
                // Our contract: empty texts never reach the model (zero vector, IsEmpty); checked through the ids below.
                Assert.True(batch.IsEmpty[i]);
                Assert.All(batch[i].ToArray(), v => Assert.Equal(0f, v));
                continue;
            }
            float diff = EncoderFixtures.MaxAbsDiff(batch[i], golden[i].Batch);
            Assert.True(diff <= 1e-5f, $"{golden[i].Label}: max diff {diff}");
            Assert.Equal(golden[i].Truncated, batch.Truncated[i]);
            Assert.False(batch.IsEmpty[i]);
        }
    }

    [Fact]
    public async Task Auto_runs_bert_batches_one_at_a_time_on_all_threads_and_both_modes_give_the_golden_vectors()
    {
        // Auto means intra-op for BERT-shaped models (docs/encoder.md) and concurrent batches for USE-lite.
        Assert.Equal(1, EncoderFixtures.TinyBertNoWindow.ConcurrentRuns);
        Assert.Equal(2, EncoderFixtures.UseLite.ConcurrentRuns);
        List<Golden> golden = Load().Where(g => g.Text.Length > 0).ToList();
        using OnnxSentenceEncoder batches = SentenceEncoder.Load(EncoderFixtures.TinyBertDir,
            new EncoderOptions { Threads = 2, Windowing = false, Parallelism = EncoderParallelism.ConcurrentBatches, TokenBudgetPerBatch = 512 });
        Assert.Equal(2, batches.ConcurrentRuns);
        EmbeddingBatch side = await batches.EncodeAsync(golden.Select(g => g.Text).ToList());
        EmbeddingBatch intra = await EncoderFixtures.TinyBertNoWindow.EncodeAsync(golden.Select(g => g.Text).ToList());
        for (int i = 0; i < golden.Count; i++)
        {
            Assert.True(EncoderFixtures.MaxAbsDiff(side[i], golden[i].Batch) <= 1e-5f, $"{golden[i].Label}: concurrent batches");
            Assert.True(EncoderFixtures.MaxAbsDiff(intra[i], golden[i].Batch) <= 1e-5f, $"{golden[i].Label}: intra-op");
        }
    }

    [Fact]
    public void Concurrent_callers_put_bert_runs_side_by_side_one_thread_each()
    {
        // The HTTP host sets ConcurrentCallers: requests arrive side by side, so each model run takes one thread.
        using var single = (OnnxSentenceEncoder)LibraryModels.Load(EncoderFixtures.TinyBertDir, new EmbeddingModelOptions { Threads = 2 });
        using var many = (OnnxSentenceEncoder)LibraryModels.Load(EncoderFixtures.TinyBertDir, new EmbeddingModelOptions { Threads = 2, ConcurrentCallers = true });
        Assert.Equal(1, single.ConcurrentRuns);
        Assert.Equal(2, many.ConcurrentRuns);
    }

    [Fact]
    public async Task Each_text_alone_matches_the_golden_single_embedding()
    {
        foreach (Golden g in Load().Where(g => g.Text.Length > 0))
        {
            EmbeddingBatch one = await EncoderFixtures.TinyBertNoWindow.EncodeAsync([g.Text]);
            float diff = EncoderFixtures.MaxAbsDiff(one[0], g.Single);
            Assert.True(diff <= 1e-5f, $"{g.Label}: max diff {diff}");
            Assert.Equal(g.Truncated, one.Truncated[0]);
        }
    }

    [Fact]
    public void Golden_ids_through_the_runner_give_every_golden_vector_including_the_empty_text()
    {
        List<Golden> golden = Load();
        // Strip [CLS]/[SEP]: the runner adds them around each window.
        int[][] bodies = golden.Select(g => g.InputIds[1..^1]).ToArray();
        float[] single = new float[golden.Count * 32];
        for (int i = 0; i < golden.Count; i++)
        {
            EncoderFixtures.TinyBertNoWindow.RunBatch([bodies[i]]).CopyTo(single, i * 32);
        }
        float[] batch = EncoderFixtures.TinyBertNoWindow.RunBatch(bodies);
        for (int i = 0; i < golden.Count; i++)
        {
            Assert.True(EncoderFixtures.MaxAbsDiff(single.AsSpan(i * 32, 32), golden[i].Single) <= 1e-5f, golden[i].Label);
            Assert.True(EncoderFixtures.MaxAbsDiff(batch.AsSpan(i * 32, 32), golden[i].Batch) <= 1e-5f, golden[i].Label);
        }
    }

    [Fact]
    public void Truncation_keeps_cls_the_first_254_pieces_and_sep()
    {
        List<Golden> golden = Load();
        var tokenizer = EncoderFixtures.TinyBertNoWindow.Tokenizer;
        foreach (Golden g in golden)
        {
            int[] pieces = tokenizer.EncodeToIds(g.Text);
            int[] expectedBody = g.InputIds[1..^1];
            Assert.Equal(expectedBody, pieces.Take(254).ToArray());
        }
    }

    [Fact]
    public async Task Windowing_on_is_the_default_and_covers_long_texts_without_truncation()
    {
        using OnnxSentenceEncoder windowed = SentenceEncoder.Load(EncoderFixtures.TinyBertDir, new EncoderOptions { Threads = 1 });
        Assert.True(windowed.Windowing);
        Golden longest = Load().Single(g => g.Label.StartsWith("very long", StringComparison.Ordinal));
        EmbeddingBatch b = await windowed.EncodeAsync([longest.Text]);
        Assert.False(b.Truncated[0]);
        Assert.InRange(EncoderFixtures.Norm(b[0]), 0.99999f, 1.00001f);
        // Differs from the truncated (first-window) vector: the rest of the text counted.
        Assert.True(EncoderFixtures.MaxAbsDiff(b[0], longest.Single) > 1e-3f);
        Assert.NotEqual(EncoderFixtures.TinyBertNoWindow.Fingerprint, windowed.Fingerprint);
    }
}
