using System.Text.Json;
using Embeddings.Encoding;
using Embeddings.Encoding.Onnx;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Encoding;

/// <summary>The three real models quantised once per test run into temporary folders (a few seconds in all).</summary>
public sealed class QuantizedModels : IDisposable
{
    private readonly TempDir _dir = new();

    public QuantizedModels()
    {
        MiniLm = ModelQuantizer.Quantize(EncoderFixtures.MiniLmDir, Path.Combine(_dir.Path, "minilm-int8"), new QuantizeOptions { WeightBits = 8 });
        UseLite = ModelQuantizer.Quantize(EncoderFixtures.UseLiteDir, Path.Combine(_dir.Path, "use-lite-int8"), new QuantizeOptions { WeightBits = 8 });
        TinyBert = ModelQuantizer.Quantize(EncoderFixtures.TinyBertDir, Path.Combine(_dir.Path, "tiny-bert-int8"), new QuantizeOptions { WeightBits = 8 });
        // Static int8: activation scales calibrated on the dump abstracts (as set-up does), each text run alone.
        var calibration = new QuantizeOptions { WeightBits = 8, CalibrationTexts = EncoderFixtures.DumpTexts, CalibrationSource = "dump abstracts" };
        MiniLmStatic = ModelQuantizer.Quantize(EncoderFixtures.MiniLmDir, Path.Combine(_dir.Path, "minilm-int8-static"), calibration);
        UseLiteStatic = ModelQuantizer.Quantize(EncoderFixtures.UseLiteDir, Path.Combine(_dir.Path, "use-lite-int8-static"), calibration);
    }

    internal QuantizeResult MiniLmStatic { get; }

    internal QuantizeResult UseLiteStatic { get; }

    internal QuantizeResult MiniLm { get; }

    internal QuantizeResult UseLite { get; }

    internal QuantizeResult TinyBert { get; }

    public string Root => _dir.Path;

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// <c>embeddings model quantize</c> against references: the float graph it came from (node counts, every int8 weight
/// within half a step of its float value, the float model's vectors and the models' external reference vectors within
/// a stated cosine), the manifest and fingerprint, the protobuf round trip, determinism, and the refusals.
/// </summary>
public sealed class QuantizerTests(QuantizedModels models) : IClassFixture<QuantizedModels>
{
    private static Dictionary<string, int> OpCounts(ModelProto model) =>
        model.Graph.Node.GroupBy(n => (n.Domain.Length > 0 ? n.Domain + "." : "") + n.OpType).ToDictionary(g => g.Key, g => g.Count());

    private static ModelProto Read(string dir, string file = "model.onnx") => ModelQuantizer.ReadModel(Path.Combine(dir, file));

    private static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return (float)(dot / Math.Sqrt(na * nb));
    }

    [Fact]
    public void The_default_model_graph_has_every_weight_matmul_and_the_gemm_quantised_and_attention_left_float()
    {
        Dictionary<string, int> before = OpCounts(Read(EncoderFixtures.MiniLmDir));
        Dictionary<string, int> after = OpCounts(Read(models.MiniLm.Directory));
        // all-MiniLM-L6-v2: 6 layers x (Q, K, V, output, FFN in, FFN out) = 36 weight MatMuls, 6 x 2 attention
        // MatMuls (scores, context), one Gemm (the pooler); every weight MatMul is followed by its bias Add.
        Assert.Equal(48, before["MatMul"]);
        Assert.Equal(1, before["Gemm"]);
        Assert.Equal(37, after["com.microsoft.DynamicQuantizeMatMul"]);
        Assert.Equal(12, after["MatMul"]);
        Assert.False(after.ContainsKey("Gemm"));
        Assert.Equal(before["Add"] - 36, after["Add"]);
        // Embeddings, LayerNorm (ReduceMean, Sub, Pow, Sqrt, Div), softmax and GELU are untouched.
        foreach (string op in new[] { "Gather", "ReduceMean", "Sqrt", "Softmax", "Erf", "Pow" })
        {
            Assert.Equal(before[op], after[op]);
        }
        QuantizationCounts c = models.MiniLm.Counts;
        Assert.Equal((36, 1, 37, 12), (c.QuantizedMatMuls, c.QuantizedGemms, c.FusedBiases, c.FloatMatMuls));
        Assert.Contains(Read(models.MiniLm.Directory).OpsetImport, o => o.Domain == "com.microsoft" && o.Version == 1);
        Assert.True(models.MiniLm.ModelBytes < models.MiniLm.SourceModelBytes * 0.7, "int8 weights shrink the file (the float word embeddings stay)");
    }

    [Fact]
    public void Every_int8_weight_is_its_float_weight_within_half_a_step_with_per_column_scales_of_max_over_127()
    {
        ModelProto source = Read(EncoderFixtures.MiniLmDir);
        ModelProto quantized = Read(models.MiniLm.Directory);
        var floats = source.Graph.Initializer.ToDictionary(t => t.Name);
        var ints = quantized.Graph.Initializer.ToDictionary(t => t.Name);
        var sourceNodes = source.Graph.Node.Where(n => n.OpType is "MatMul" or "Gemm" && floats.ContainsKey(n.Input[1])).ToDictionary(n => n.Name);
        int checkedNodes = 0;
        foreach (NodeProto node in quantized.Graph.Node.Where(n => n.OpType == "DynamicQuantizeMatMul"))
        {
            NodeProto original = sourceNodes[node.Name[..^"_quant".Length]];
            bool transposed = original.OpType == "Gemm" && original.Attribute.Any(a => a.Name == "transB" && a.I == 1);
            float[] w = OnnxDynamicQuantizer.ReadFloats(floats[original.Input[1]]);
            int rows = (int)floats[original.Input[1]].Dims[0], cols = (int)floats[original.Input[1]].Dims[1];
            TensorProto q = ints[node.Input[1]];
            float[] scale = OnnxDynamicQuantizer.ReadFloats(ints[node.Input[2]]);
            Assert.Equal((int)TensorProto.Types.DataType.Int8, q.DataType);
            Assert.All(ints[node.Input[3]].RawData.ToByteArray(), z => Assert.Equal(0, z));
            int k = transposed ? cols : rows, n = transposed ? rows : cols;
            Assert.Equal(new long[] { k, n }, q.Dims.ToArray());
            ReadOnlySpan<byte> qb = q.RawData.Span;
            for (int col = 0; col < n; col++)
            {
                float max = 0;
                for (int row = 0; row < k; row++)
                {
                    float f = transposed ? w[col * cols + row] : w[row * cols + col];
                    max = Math.Max(max, Math.Abs(f));
                    float dequantized = (sbyte)qb[row * n + col] * scale[col];
                    Assert.True(Math.Abs(dequantized - f) <= scale[col] * 0.5f * (1 + 1e-5f), $"{node.Name}[{row},{col}]: {f} vs {dequantized}");
                }
                Assert.Equal(max / 127f, scale[col], 1e-9f);
            }
            // The bias that followed the MatMul is now the node's fifth input, unchanged.
            Assert.Equal(5, node.Input.Count);
            Assert.True(floats.ContainsKey(node.Input[4]));
            checkedNodes++;
        }
        Assert.Equal(37, checkedNodes);
    }

    [Fact]
    public async Task Quantised_default_model_vectors_are_within_cosine_098_of_the_float_model_and_of_the_external_reference()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Encoding", "Data", "minilm_reference.json")));
        string[] golden = doc.RootElement.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();
        float[][] reference = doc.RootElement.GetProperty("embeddings").EnumerateArray()
            .Select(a => a.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray()).ToArray();
        string[] texts = [.. golden, .. EncoderFixtures.DumpTexts.Take(12)];
        using OnnxSentenceEncoder floatModel = SentenceEncoder.Load(EncoderFixtures.MiniLmDir, new EncoderOptions { Threads = 2 });
        using OnnxSentenceEncoder int8 = SentenceEncoder.Load(models.MiniLm.Directory, new EncoderOptions { Threads = 2 });
        EmbeddingBatch f = await floatModel.EncodeAsync(texts);
        EmbeddingBatch q = await int8.EncodeAsync(texts);
        float worst = 1, sum = 0;
        for (int i = 0; i < texts.Length; i++)
        {
            float cos = Cosine(f[i], q[i]);
            worst = Math.Min(worst, cos);
            sum += cos;
            Assert.InRange(EncoderFixtures.Norm(q[i]), 0.999f, 1.001f);
        }
        // Measured here: worst 0.984 (a windowed abstract), mean 0.993 over 200 short texts and these abstracts.
        Assert.True(worst >= 0.98f, $"worst cosine to the float model {worst}");
        Assert.True(sum / texts.Length >= 0.99f, $"mean cosine {sum / texts.Length}");
        using OnnxSentenceEncoder truncating = SentenceEncoder.Load(models.MiniLm.Directory, new EncoderOptions { Threads = 2, Windowing = false });
        EmbeddingBatch r = await truncating.EncodeAsync(golden);
        for (int i = 0; i < golden.Length; i++)
        {
            Assert.True(Cosine(r[i], reference[i]) >= 0.985f, $"golden text {i}: cosine {Cosine(r[i], reference[i])} to the reference vector");
        }
    }

    [Fact]
    public async Task Use_lite_and_a_plain_sentence_transformers_export_quantise_and_stay_near_their_references()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "use-lite", "reference_embeddings.json")));
        string[] sentences = doc.RootElement.GetProperty("sentences").EnumerateArray().Select(e => e.GetString()!).ToArray();
        float[][] expected = doc.RootElement.GetProperty("embeddings").EnumerateArray().Select(a => a.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();
        using (OnnxSentenceEncoder useLite = SentenceEncoder.Load(models.UseLite.Directory, new EncoderOptions { Threads = 2 }))
        {
            EmbeddingBatch batch = await useLite.EncodeAsync(sentences);
            for (int i = 0; i < sentences.Length; i++)
            {
                Assert.True(Cosine(batch[i], expected[i]) >= 0.99f, $"USE-lite sentence {i}: cosine {Cosine(batch[i], expected[i])}");
            }
        }
        // USE-lite: 10 weight MatMuls (6 with a bias Add), its 4 attention MatMuls stay float.
        Assert.Equal((10, 0, 6, 4), (models.UseLite.Counts.QuantizedMatMuls, models.UseLite.Counts.QuantizedGemms, models.UseLite.Counts.FusedBiases, models.UseLite.Counts.FloatMatMuls));

        // tiny-bert is a bare export (no manifest of ours): the copy gets one, with every file hashed.
        ModelManifest tiny = models.TinyBert.Manifest;
        Assert.True(tiny.FromManifestFile);
        Assert.Equal(32, tiny.Dimension);
        Assert.True(File.Exists(Path.Combine(models.TinyBert.Directory, "1_Pooling", "config.json")));
        using JsonDocument goldenDoc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "tiny-bert", "golden_embeddings.json")));
        var golden = goldenDoc.RootElement.GetProperty("texts").EnumerateArray()
            .Select(t => (Text: t.GetProperty("text").GetString()!, Vector: t.GetProperty("embedding_single").EnumerateArray().Select(x => x.GetSingle()).ToArray())).ToList();
        using OnnxSentenceEncoder tinyInt8 = SentenceEncoder.Load(models.TinyBert.Directory, new EncoderOptions { Threads = 2, Windowing = false });
        EmbeddingBatch tb = await tinyInt8.EncodeAsync(golden.Select(g => g.Text).ToList());
        for (int i = 0; i < golden.Count; i++)
        {
            if (golden[i].Text.Length == 0)
            {
                continue; // empty texts never reach the model (a zero vector by contract, as for the float model)
            }
            // A 32-wide random-weight model: each int8 step is a larger share of its few weights than in a real model.
            Assert.True(Cosine(tb[i], golden[i].Vector) >= 0.97f, $"tiny-bert text {i}: cosine {Cosine(tb[i], golden[i].Vector)}");
        }
        Assert.Equal((12, 12, 4), (models.TinyBert.Counts.QuantizedMatMuls, models.TinyBert.Counts.FusedBiases, models.TinyBert.Counts.FloatMatMuls));
    }

    [Fact]
    public void The_folder_records_its_quantisation_and_source_and_has_its_own_fingerprint()
    {
        ModelManifest source = ModelManifest.Load(EncoderFixtures.MiniLmDir);
        ModelManifest m = ModelManifest.Load(models.MiniLm.Directory);
        Assert.NotNull(m.Quantization);
        Assert.Equal(new ModelQuantization("dynamic-int8", 8, 37, 12, "all-MiniLM-L6-v2",
            source.ComputeFingerprint(true, ModelManifest.DefaultMaxWindows), PackagedModels.AllMiniLmL6V2.Model.Sha256), m.Quantization);
        Assert.Equal("all-MiniLM-L6-v2-int8", m.Name);
        string fingerprint = m.ComputeFingerprint(true, ModelManifest.DefaultMaxWindows);
        Assert.NotEqual(source.ComputeFingerprint(true, ModelManifest.DefaultMaxWindows), fingerprint);
        Assert.StartsWith("st-384-", fingerprint);
        // Same tokenizer, limits and pooling as the source; every file listed is there with its hash.
        Assert.Equal(source.TokenizerFiles, m.TokenizerFiles);
        Assert.Equal((source.TokenLimit, source.Dimension, source.Pooling, source.Normalize), (m.TokenLimit, m.Dimension, m.Pooling, m.Normalize));
        Assert.Equal(source.Files.Select(f => f.RelativePath).Order(), m.Files.Select(f => f.RelativePath).Order());
        Assert.Equal(source.Files.Single(f => f.RelativePath == "vocab.txt"), m.Files.Single(f => f.RelativePath == "vocab.txt"));
        m.VerifyFiles();
        // The manifest text round-trips through the reader.
        string text = File.ReadAllText(Path.Combine(models.MiniLm.Directory, ModelManifest.FileName));
        Assert.Contains("\"quantization\"", text);
        Assert.Equal(text, m.ToJson());
    }

    [Fact]
    public void Static_quantisation_quantizes_each_activation_once_with_the_fixed_scale_of_its_calibrated_range()
    {
        Dictionary<string, int> after = OpCounts(Read(models.MiniLmStatic.Directory));
        Assert.Equal(37, after["com.microsoft.MatMulIntegerToFloat"]);
        Assert.False(after.ContainsKey("com.microsoft.DynamicQuantizeMatMul"));
        Assert.Equal(12, after["MatMul"]);
        // One QuantizeLinear per activation tensor: Q, K and V read the same one; then the attention output, the FFN's
        // input and output of each of the 6 layers, and the pooler's input: 6 x 4 + 1.
        Assert.Equal(25, after["QuantizeLinear"]);
        ModelProto graph = Read(models.MiniLmStatic.Directory);
        var init = graph.Graph.Initializer.ToDictionary(t => t.Name);
        foreach (NodeProto q in graph.Graph.Node.Where(n => n.OpType == "QuantizeLinear"))
        {
            float scale = OnnxDynamicQuantizer.ReadFloats(init[q.Input[1]])[0];
            TensorProto zero = init[q.Input[2]];
            Assert.Equal((int)TensorProto.Types.DataType.Uint8, zero.DataType);
            // The 256 levels span a range that holds 0 exactly (padding and ReLU zeros stay exact).
            float low = -zero.RawData[0] * scale, high = (255 - zero.RawData[0]) * scale;
            Assert.True(scale > 0 && low <= 0 && high >= 0, $"{q.Name}: scale {scale}, zero point {zero.RawData[0]}");
        }
        foreach (NodeProto m in graph.Graph.Node.Where(n => n.OpType == "MatMulIntegerToFloat"))
        {
            // A (uint8 from a QuantizeLinear), B (int8 weight), a_scale, b_scale (per column), a_zero_point, b_zero_point, bias.
            Assert.Equal(7, m.Input.Count);
            Assert.Contains(graph.Graph.Node, n => n.OpType == "QuantizeLinear" && n.Output[0] == m.Input[0] && n.Input[1] == m.Input[2] && n.Input[2] == m.Input[4]);
            Assert.Equal((int)TensorProto.Types.DataType.Int8, init[m.Input[1]].DataType);
        }
        ModelQuantization q8 = models.MiniLmStatic.Manifest.Quantization!;
        Assert.Equal(("static-int8", 37, 12, EncoderFixtures.DumpTexts.Count, "dump abstracts"), (q8.Method, q8.QuantizedNodes, q8.FloatNodes, q8.CalibrationTexts, q8.CalibrationSource));
        Assert.NotEqual(models.MiniLm.Manifest.ComputeFingerprint(true, 64), models.MiniLmStatic.Manifest.ComputeFingerprint(true, 64));
        string text = File.ReadAllText(Path.Combine(models.MiniLmStatic.Directory, ModelManifest.FileName));
        Assert.Equal(text, ModelManifest.Load(models.MiniLmStatic.Directory).ToJson());
        Assert.Empty(Directory.EnumerateFiles(models.MiniLmStatic.Directory, ".calibration*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Recorded_ranges_make_the_same_graph_again_and_the_packaged_ones_are_those_of_the_dump_abstracts()
    {
        string recorded = Path.Combine(models.MiniLmStatic.Directory, CalibrationRanges.FileName);
        CalibrationRanges ranges = CalibrationRanges.Parse(File.ReadAllBytes(recorded), recorded);
        Assert.Equal((PackagedModels.AllMiniLmL6V2.Model.Sha256, EncoderFixtures.DumpTexts.Count, "dump abstracts"),
            (ranges.SourceModelSha256, ranges.Texts, ranges.Source));
        Assert.Equal(25, ranges.Ranges.Count);
        Assert.Contains(models.MiniLmStatic.Manifest.Files, f => f.RelativePath == CalibrationRanges.FileName);

        // The file's floats round-trip exactly: quantising with it reproduces the graph byte for byte, with no texts.
        using var dir = new TempDir();
        QuantizeResult again = ModelQuantizer.Quantize(EncoderFixtures.MiniLmDir, Path.Combine(dir.Path, "again"),
            new QuantizeOptions { WeightBits = 8, CalibrationRanges = ranges });
        Assert.Equal(File.ReadAllBytes(Path.Combine(models.MiniLmStatic.Directory, "model.onnx")), File.ReadAllBytes(Path.Combine(again.Directory, "model.onnx")));
        Assert.Equal(File.ReadAllText(recorded), File.ReadAllText(Path.Combine(again.Directory, CalibrationRanges.FileName)));

        // The ranges shipped for the default model are what calibration on the dump abstracts measures (up to the float
        // kernels of another CPU).
        CalibrationRanges shipped = PackagedModels.AllMiniLmL6V2Int8.Quantization!.LoadRanges();
        Assert.Equal(ranges.SourceModelSha256, shipped.SourceModelSha256);
        Assert.Equal(ranges.Texts, shipped.Texts);
        Assert.Equal(ranges.Ranges.Keys.Order(), shipped.Ranges.Keys.Order());
        foreach ((string tensor, ActivationRange measured) in ranges.Ranges)
        {
            ActivationRange r = shipped.Ranges[tensor];
            float tolerance = 1e-4f * MathF.Max(1f, measured.Max - measured.Min);
            Assert.True(MathF.Abs(r.Min - measured.Min) <= tolerance && MathF.Abs(r.Max - measured.Max) <= tolerance,
                $"{tensor}: shipped [{r.Min}, {r.Max}], measured [{measured.Min}, {measured.Max}]");
        }

        // Ranges of another model are refused, naming why, with nothing written.
        var e = Assert.Throws<ModelLoadException>(() => ModelQuantizer.Quantize(EncoderFixtures.UseLiteDir, Path.Combine(dir.Path, "wrong"),
            new QuantizeOptions { WeightBits = 8, CalibrationRanges = ranges }));
        Assert.Contains("measured on the model with sha256", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "wrong")));
    }

    [Theory]
    [InlineData("{\"format\": \"other\"}", "not a calibration file")]
    [InlineData("{\"format\": \"embeddings-calibration\", \"format_version\": 2}", "format_version 2 is unknown")]
    [InlineData("{\"format\": \"embeddings-calibration\", \"format_version\": 1, \"ranges\": {\"t\": [2, 1]}}", "ranges.t")]
    [InlineData("{\"format\": \"embeddings-calibration\", \"format_version\": 1, \"ranges\": {}}", "source_model_sha256")]
    [InlineData("{", "not valid JSON")]
    public void A_bad_calibration_file_is_refused_naming_the_file_and_field(string json, string expected)
    {
        var e = Assert.Throws<ModelLoadException>(() => CalibrationRanges.Parse(System.Text.Encoding.UTF8.GetBytes(json), "c.json"));
        Assert.StartsWith("c.json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_uint8_range_maps_its_ends_and_zero_to_levels()
    {
        // [-1, 3]: 255 steps of 4/255; zero at level round(1 / (4/255)) = round(63.75) = 64.
        Assert.Equal((4f / 255f, (byte)64), new ActivationRange(-1f, 3f).UInt8Parameters());
        // Ranges on one side of zero are widened to reach it; a range of nothing gets scale 1.
        Assert.Equal((2f / 255f, (byte)0), new ActivationRange(0.5f, 2f).UInt8Parameters());
        Assert.Equal((2f / 255f, (byte)255), new ActivationRange(-2f, -0.5f).UInt8Parameters());
        Assert.Equal((1f, (byte)0), ActivationRange.Empty.UInt8Parameters());
        Assert.Equal(new ActivationRange(-3f, 5f), ActivationRange.Empty.Including([1f, -3f, 5f, 0f]));
    }

    [Fact]
    public async Task A_static_int8_vector_depends_only_on_its_text_and_stays_near_the_float_model()
    {
        // Short sentences (STS-B's, as the throughput benchmark embeds them) and abstracts, some of them windowed.
        string[] shortTexts = File.ReadLines(TestPaths.SharedFile("bench", "short_texts.jsonl")).Take(150)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!).ToArray();
        string[] texts = [.. shortTexts, .. EncoderFixtures.DumpTexts.Take(10)];
        using OnnxSentenceEncoder floatModel = SentenceEncoder.Load(EncoderFixtures.MiniLmDir, new EncoderOptions { Threads = 2 });
        using OnnxSentenceEncoder staticInt8 = SentenceEncoder.Load(models.MiniLmStatic.Directory, new EncoderOptions { Threads = 2 });
        using OnnxSentenceEncoder dynamicInt8 = SentenceEncoder.Load(models.MiniLm.Directory, new EncoderOptions { Threads = 2 });
        EmbeddingBatch f = await floatModel.EncodeAsync(texts);
        EmbeddingBatch all = await staticInt8.EncodeAsync(texts);
        EmbeddingBatch dynamicAll = await dynamicInt8.EncodeAsync(texts);
        float staticMoved = 0, dynamicMoved = 0, worst = 1, sum = 0;
        int[] probes = [0, 7, 42, 149, 150, 159];
        foreach (int i in probes)
        {
            // The same text alone: with fixed scales nothing of its batch companions reaches its vector.
            EmbeddingBatch alone = await staticInt8.EncodeAsync([texts[i]]);
            EmbeddingBatch dynamicAlone = await dynamicInt8.EncodeAsync([texts[i]]);
            for (int d = 0; d < all.Dimension; d++)
            {
                staticMoved = Math.Max(staticMoved, Math.Abs(alone[0][d] - all[i][d]));
                dynamicMoved = Math.Max(dynamicMoved, Math.Abs(dynamicAlone[0][d] - dynamicAll[i][d]));
            }
        }
        Assert.Equal(0f, staticMoved);
        // The check can see movement: the dynamic model, whose scale is the whole batch tensor's, moves (0.028 measured).
        Assert.True(dynamicMoved > 1e-3f, $"dynamic int8 moved only {dynamicMoved}");
        for (int i = 0; i < texts.Length; i++)
        {
            float cos = Cosine(f[i], all[i]);
            worst = Math.Min(worst, cos);
            sum += cos;
        }
        // Measured: mean 0.994, worst 0.984 over the 3,000 short texts (dynamic: 0.994 and 0.989).
        Assert.True(worst >= 0.98f, $"worst cosine to the float model {worst}");
        Assert.True(sum / texts.Length >= 0.99f, $"mean cosine {sum / texts.Length}");

        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "use-lite", "reference_embeddings.json")));
        string[] sentences = doc.RootElement.GetProperty("sentences").EnumerateArray().Select(e => e.GetString()!).ToArray();
        float[][] expected = doc.RootElement.GetProperty("embeddings").EnumerateArray().Select(a => a.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();
        using OnnxSentenceEncoder useLite = SentenceEncoder.Load(models.UseLiteStatic.Directory, new EncoderOptions { Threads = 2 });
        EmbeddingBatch u = await useLite.EncodeAsync(sentences);
        for (int i = 0; i < sentences.Length; i++)
        {
            Assert.True(Cosine(u[i], expected[i]) >= 0.99f, $"USE-lite static sentence {i}: cosine {Cosine(u[i], expected[i])}");
        }
    }

    [Fact]
    public void Calibrating_on_texts_with_nothing_to_read_is_refused_and_writes_nothing()
    {
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "out");
        var e = Assert.Throws<ModelLoadException>(() => ModelQuantizer.Quantize(EncoderFixtures.TinyBertDir, output,
            new QuantizeOptions { WeightBits = 8, CalibrationTexts = ["", "   "] }));
        Assert.Contains("calibration texts are all empty", e.Message);
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void The_protobuf_round_trips_and_quantising_is_deterministic()
    {
        // Parsing and writing back the float model gives its exact bytes (nothing dropped or reordered).
        byte[] original = File.ReadAllBytes(Path.Combine(EncoderFixtures.MiniLmDir, "model.onnx"));
        Assert.Equal(original, Google.Protobuf.MessageExtensions.ToByteArray(Read(EncoderFixtures.MiniLmDir)));
        byte[] tinyOriginal = File.ReadAllBytes(Path.Combine(EncoderFixtures.TinyBertDir, "model.onnx"));
        Assert.Equal(tinyOriginal, Google.Protobuf.MessageExtensions.ToByteArray(Read(EncoderFixtures.TinyBertDir)));
        // The same source gives the same file, hence the same fingerprint.
        QuantizeResult again = ModelQuantizer.Quantize(EncoderFixtures.TinyBertDir, Path.Combine(models.Root, "tiny-bert-again"), new QuantizeOptions { WeightBits = 8 });
        Assert.Equal(File.ReadAllBytes(Path.Combine(models.TinyBert.Directory, "model.onnx")), File.ReadAllBytes(Path.Combine(again.Directory, "model.onnx")));
        // 7-bit weights (for CPUs without VNNI) stay in [-63, 63] and are a different model.
        QuantizeResult seven = ModelQuantizer.Quantize(EncoderFixtures.TinyBertDir, Path.Combine(models.Root, "tiny-bert-7"), new QuantizeOptions { WeightBits = 7 });
        Assert.Equal(7, seven.Manifest.Quantization!.WeightBits);
        foreach (TensorProto t in Read(seven.Directory).Graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Int8))
        {
            Assert.All(t.RawData.ToByteArray(), b => Assert.InRange((sbyte)b, -63, 63));
        }
        Assert.NotEqual(again.Manifest.ComputeFingerprint(false, 1), seven.Manifest.ComputeFingerprint(false, 1));
    }

    [Fact]
    public void A_quantised_folder_an_existing_output_and_a_damaged_graph_are_refused_with_the_fix()
    {
        var e = Assert.Throws<ModelLoadException>(() => ModelQuantizer.Quantize(models.MiniLm.Directory, Path.Combine(models.Root, "twice")));
        Assert.Contains("already quantised", e.Message);
        e = Assert.Throws<ModelLoadException>(() => ModelQuantizer.Quantize(EncoderFixtures.TinyBertDir, models.TinyBert.Directory));
        Assert.Contains("--force", e.Message);
        Assert.True(File.Exists(Path.Combine(models.TinyBert.Directory, "model.onnx")), "the refused output is left as it was");

        using var dir = new TempDir();
        string broken = Path.Combine(dir.Path, "broken");
        Directory.CreateDirectory(broken);
        foreach (string f in Directory.EnumerateFiles(EncoderFixtures.TinyBertDir))
        {
            File.Copy(f, Path.Combine(broken, Path.GetFileName(f)));
        }
        Directory.CreateDirectory(Path.Combine(broken, "1_Pooling"));
        File.Copy(Path.Combine(EncoderFixtures.TinyBertDir, "1_Pooling", "config.json"), Path.Combine(broken, "1_Pooling", "config.json"));
        File.WriteAllBytes(Path.Combine(broken, "model.onnx"), [0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);
        e = Assert.Throws<ModelLoadException>(() => ModelQuantizer.Quantize(broken, Path.Combine(dir.Path, "out")));
        Assert.Contains("model.onnx: not a valid ONNX model", e.Message);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "out")));
        Assert.Empty(Directory.EnumerateDirectories(dir.Path, ".out.*"));
    }
}

/// <summary>The thin CLI command over <see cref="ModelQuantizer"/>.</summary>
public sealed class QuantizeCliTests
{
    [Fact]
    public async Task Model_quantize_writes_the_folder_that_records_its_quantisation()
    {
        using var dir = new TempDir();
        string output = dir.File("tiny-int8");
        var (exit, _, err) = await CliHarness.RunAsync("model", "quantize", "--model", EncoderFixtures.TinyBertDir, "-o", output, "--weight-bits", "8");
        Assert.True(exit == 0, err);
        Assert.Contains("12 MatMul + 0 Gemm quantised, 12 biases folded, 4 left float", err);
        ModelQuantization? recorded = ModelManifest.Load(output).Quantization;
        Assert.Equal(("dynamic-int8", 8, 12, 4, "tiny-bert"), (recorded?.Method, recorded?.WeightBits, recorded?.QuantizedNodes, recorded?.FloatNodes, recorded?.SourceName));

        // --calibration: static int8, calibrated on the papers of the given file.
        string papers = dir.File("papers.jsonl");
        File.WriteAllLines(papers, EncoderFixtures.DumpTexts.Take(20).Select((t, i) => JsonSerializer.Serialize(new { id = $"p{i}", title = "", @abstract = t })));
        (exit, _, err) = await CliHarness.RunAsync("model", "quantize", "--model", EncoderFixtures.TinyBertDir, "-o", dir.File("tiny-static"), "--weight-bits", "8", "--calibration", papers);
        Assert.True(exit == 0, err);
        Assert.Contains("activation scales calibrated on 20 texts", err);
        recorded = ModelManifest.Load(dir.File("tiny-static")).Quantization;
        Assert.Equal(("static-int8", 20, "papers.jsonl"), (recorded?.Method, recorded?.CalibrationTexts, recorded?.CalibrationSource));

        (exit, _, err) = await CliHarness.RunAsync("model", "quantize", "--model", EncoderFixtures.TinyBertDir, "-o", dir.File("bad"), "--calibration", dir.File("missing.jsonl"));
        Assert.NotEqual(0, exit);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("missing.jsonl", err);
        Assert.False(Directory.Exists(dir.File("bad")));

        (exit, _, err) = await CliHarness.RunAsync("model", "quantize", "--model", output, "-o", dir.File("again"));
        Assert.NotEqual(0, exit);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("already quantised", err);
        Assert.DoesNotContain("   at ", err);
    }
}
