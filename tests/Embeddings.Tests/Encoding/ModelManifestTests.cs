using Embeddings.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Encoding;

/// <summary>Model folders: manifest reading, file checks, the sentence-transformers layout, fingerprints, load errors.</summary>
public sealed class ModelManifestTests
{
    /// <summary>A copy of models/use-lite in a temp folder (the 28 MB ONNX file is hard-linked when possible).</summary>
    private static TempDir CopyUseLite()
    {
        var temp = new TempDir();
        foreach (string file in Directory.GetFiles(EncoderFixtures.UseLiteDir))
        {
            File.Copy(file, temp.File(Path.GetFileName(file)));
        }
        return temp;
    }

    [Fact]
    public void Default_model_manifest_is_read_and_checked()
    {
        ModelManifest m = ModelManifest.Load(EncoderFixtures.UseLiteDir);
        Assert.True(m.FromManifestFile);
        Assert.Equal(ModelKind.UseLite, m.Kind);
        Assert.Equal(512, m.Dimension);
        Assert.Equal(128, m.TokenLimit);
        Assert.Equal("use_lite.onnx", m.ModelFile);
        Assert.Equal(["vocab.json"], m.TokenizerFiles);
        Assert.Equal(3, m.Files.Count);
        Assert.Equal("06441172f0edcf44b56b7a654f9fb3b0712b38a835ce48a2264d020f8be82ffa", m.Files.Single(f => f.RelativePath == "use_lite.onnx").Sha256);
    }

    [Fact]
    public void Manifest_written_by_ToJson_reads_back_identically()
    {
        ModelManifest m = ModelManifest.Load(EncoderFixtures.UseLiteDir, verifyHashes: false);
        using TempDir copy = CopyUseLite();
        File.WriteAllText(copy.File(ModelManifest.FileName), m.ToJson());
        ModelManifest back = ModelManifest.Load(copy.Path);
        Assert.Equal(m.ComputeFingerprint(true, 64), back.ComputeFingerprint(true, 64));
        Assert.Equal(m.Output, back.Output);
        Assert.Equal(m.Inputs, back.Inputs);
    }

    [Fact]
    public void Fingerprint_is_stable_across_folders_and_changes_with_options_that_change_vectors()
    {
        ModelManifest m = ModelManifest.Load(EncoderFixtures.UseLiteDir, verifyHashes: false);
        using TempDir copy = CopyUseLite();
        ModelManifest other = ModelManifest.Load(copy.Path);
        string fp = m.ComputeFingerprint(true, 64);
        Assert.Equal(fp, other.ComputeFingerprint(true, 64));
        Assert.StartsWith("use-lite-512-", fp, StringComparison.Ordinal);
        Assert.NotEqual(fp, m.ComputeFingerprint(false, 64));
        Assert.NotEqual(fp, m.ComputeFingerprint(true, 8));
        Assert.NotEqual(fp, ModelManifest.Load(EncoderFixtures.TinyBertDir).ComputeFingerprint(true, 64));
    }

    [Fact]
    public void Corrupt_model_file_with_the_right_size_is_a_model_load_exception_naming_the_file()
    {
        using TempDir copy = CopyUseLite();
        string onnx = copy.File("use_lite.onnx");
        using (var s = new FileStream(onnx, FileMode.Open, FileAccess.ReadWrite))
        {
            s.Position = s.Length / 2;
            int b = s.ReadByte();
            s.Position = s.Length / 2;
            s.WriteByte((byte)(b ^ 0x40));
        }
        var e = Assert.Throws<ModelLoadException>(() => SentenceEncoder.Load(copy.Path));
        Assert.Contains("use_lite.onnx", e.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);
        Assert.Contains("sha256", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_file_the_runtime_cannot_parse_still_fails_on_its_hash()
    {
        // The hash check runs beside the session's creation; when both fail, the check's message (which file to
        // replace, and why) is the one the caller gets, not the runtime's protobuf error.
        using TempDir copy = CopyUseLite();
        string onnx = copy.File("use_lite.onnx");
        var garbage = new byte[new FileInfo(onnx).Length];
        new Random(7).NextBytes(garbage);
        File.WriteAllBytes(onnx, garbage);
        var e = Assert.Throws<ModelLoadException>(() => SentenceEncoder.Load(copy.Path));
        Assert.Contains("use_lite.onnx", e.Message, StringComparison.Ordinal);
        Assert.Contains("sha256", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidProtobuf", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_and_missing_files_are_model_load_exceptions()
    {
        using TempDir copy = CopyUseLite();
        File.WriteAllBytes(copy.File("vocab.json"), File.ReadAllBytes(copy.File("vocab.json"))[..1000]);
        var e = Assert.Throws<ModelLoadException>(() => ModelManifest.Load(copy.Path));
        Assert.Contains("vocab.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("size", e.Message, StringComparison.Ordinal);

        File.Delete(copy.File("vocab.json"));
        e = Assert.Throws<ModelLoadException>(() => ModelManifest.Load(copy.Path));
        Assert.Contains("missing", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ModelLoadException>(() => ModelManifest.Load(copy.File("no-such-folder")));
        Assert.Contains("scripts/setup.sh", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_kind_lists_the_accepted_kinds()
    {
        using TempDir copy = CopyUseLite();
        string path = copy.File(ModelManifest.FileName);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"kind\": \"use-lite\"", "\"kind\": \"word2vec\"", StringComparison.Ordinal));
        var e = Assert.Throws<ModelLoadException>(() => ModelManifest.Load(copy.Path));
        Assert.Contains("word2vec", e.Message, StringComparison.Ordinal);
        Assert.Contains("use-lite, sentence-transformers", e.Message, StringComparison.Ordinal);
        Assert.Contains(ModelManifest.FileName, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sentence_transformers_export_with_onnx_subfolder_and_cls_pooling_is_understood()
    {
        using var temp = new TempDir();
        string src = EncoderFixtures.TinyBertDir;
        Directory.CreateDirectory(temp.File("onnx"));
        Directory.CreateDirectory(temp.File("1_Pooling"));
        File.Copy(Path.Combine(src, "model.onnx"), temp.File("onnx/model.onnx"));
        foreach (string f in new[] { "vocab.txt", "config.json", "modules.json", "sentence_bert_config.json" })
        {
            File.Copy(Path.Combine(src, f), temp.File(f));
        }
        File.WriteAllText(temp.File("1_Pooling/config.json"),
            """{"word_embedding_dimension": 32, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}""");
        ModelManifest m = ModelManifest.Load(temp.Path);
        Assert.Equal("onnx/model.onnx", m.ModelFile);
        Assert.Equal(PoolingMode.Cls, m.Pooling);
        Assert.Equal(["vocab.txt"], m.TokenizerFiles);

        File.WriteAllText(temp.File("1_Pooling/config.json"),
            """{"word_embedding_dimension": 32, "pooling_mode_max_tokens": true}""");
        var e = Assert.Throws<ModelLoadException>(() => ModelManifest.Load(temp.Path));
        Assert.Contains("pooling", e.Message, StringComparison.Ordinal);

        File.Delete(temp.File("onnx/model.onnx"));
        File.WriteAllText(temp.File("1_Pooling/config.json"), """{"word_embedding_dimension": 32, "pooling_mode_cls_token": true}""");
        e = Assert.Throws<ModelLoadException>(() => ModelManifest.Load(temp.Path));
        Assert.Contains("model.onnx", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cls_pooling_takes_the_first_token_vector()
    {
        using var temp = new TempDir();
        string src = EncoderFixtures.TinyBertDir;
        Directory.CreateDirectory(temp.File("1_Pooling"));
        foreach (string f in new[] { "model.onnx", "tokenizer.json", "config.json", "modules.json", "sentence_bert_config.json" })
        {
            File.Copy(Path.Combine(src, f), temp.File(f));
        }
        File.WriteAllText(temp.File("1_Pooling/config.json"), """{"word_embedding_dimension": 32, "pooling_mode_cls_token": true}""");
        using OnnxSentenceEncoder cls = SentenceEncoder.Load(temp.Path, new EncoderOptions { Threads = 1 });
        EmbeddingBatch b = await cls.EncodeAsync(["A man is playing a guitar."]);
        EmbeddingBatch mean = await EncoderFixtures.TinyBertNoWindow.EncodeAsync(["A man is playing a guitar."]);
        Assert.InRange(EncoderFixtures.Norm(b[0]), 0.9999f, 1.0001f);
        Assert.True(EncoderFixtures.MaxAbsDiff(b[0], mean[0]) > 1e-3f);
    }
}
