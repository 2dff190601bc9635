using System.Text.Json;
using Embeddings.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Encoding;

/// <summary>USE-lite against reference_embeddings.json (onnxruntime-node 1.30.0 on the same ONNX file).</summary>
public sealed class UseLiteReferenceTests
{
    private static (string[] Sentences, int[][] Ids, float[][] Embeddings) Reference()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "use-lite", "reference_embeddings.json")));
        JsonElement root = doc.RootElement;
        string[] sentences = root.GetProperty("sentences").EnumerateArray().Select(e => e.GetString()!).ToArray();
        int[][] ids = root.GetProperty("token_ids").EnumerateArray().Select(a => a.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        float[][] emb = root.GetProperty("embeddings").EnumerateArray().Select(a => a.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();
        return (sentences, ids, emb);
    }

    [Fact]
    public async Task Five_reference_sentences_match_within_1e5_in_one_batch()
    {
        var (sentences, _, expected) = Reference();
        EmbeddingBatch batch = await EncoderFixtures.UseLite.EncodeAsync(sentences);
        Assert.Equal(5, batch.Count);
        Assert.Equal(512, batch.Dimension);
        for (int i = 0; i < sentences.Length; i++)
        {
            Assert.True(EncoderFixtures.MaxAbsDiff(batch[i], expected[i]) <= 1e-5f, $"sentence {i}: max diff {EncoderFixtures.MaxAbsDiff(batch[i], expected[i])}");
            Assert.False(batch.Truncated[i]);
            Assert.False(batch.IsEmpty[i]);
        }
    }

    [Fact]
    public async Task Each_reference_sentence_alone_matches_within_1e5()
    {
        var (sentences, _, expected) = Reference();
        for (int i = 0; i < sentences.Length; i++)
        {
            EmbeddingBatch one = await EncoderFixtures.UseLite.EncodeAsync([sentences[i]]);
            Assert.True(EncoderFixtures.MaxAbsDiff(one[0], expected[i]) <= 1e-5f);
        }
    }

    [Fact]
    public void Tokenizer_gives_the_reference_ids_that_the_model_is_fed()
    {
        var (sentences, ids, expected) = Reference();
        for (int i = 0; i < sentences.Length; i++)
        {
            Assert.Equal(ids[i], EncoderFixtures.UseLite.Tokenizer.EncodeToIds(sentences[i]));
        }
        // The same ids straight through the runner: the model path itself reproduces the reference.
        float[] direct = EncoderFixtures.UseLite.RunBatch(ids);
        for (int i = 0; i < sentences.Length; i++)
        {
            Assert.True(EncoderFixtures.MaxAbsDiff(direct.AsSpan(i * 512, 512), expected[i]) <= 1e-5f);
        }
    }

    [Fact]
    public async Task Embedding_generator_interface_gives_the_same_vectors()
    {
        var (sentences, _, expected) = Reference();
        using EmbeddingModel model = await EmbeddingModel.LoadAsync(new EmbeddingModelOptions { ModelDirectory = EncoderFixtures.UseLiteDir, Threads = 2 });
        Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> generator = model;
        var generated = await generator.GenerateAsync(sentences);
        Assert.Equal(5, generated.Count);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(EncoderFixtures.MaxAbsDiff(generated[i].Vector.Span, expected[i]) <= 1e-5f);
            Assert.Equal("use-lite", generated[i].ModelId);
        }
        var metadata = (Microsoft.Extensions.AI.EmbeddingGeneratorMetadata?)generator.GetService(typeof(Microsoft.Extensions.AI.EmbeddingGeneratorMetadata));
        Assert.NotNull(metadata);
        Assert.Equal(512, metadata.DefaultModelDimensions);
    }
}
