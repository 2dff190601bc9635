using System.Text.Json;

namespace Embeddings.Encoding;

/// <summary>
/// Reads a sentence-transformers ONNX export as it comes (no manifest of ours) into a <see cref="ModelManifest"/>:
/// <c>modules.json</c> (Transformer, Pooling, Normalize), <c>1_Pooling/config.json</c> (mean or CLS),
/// <c>config.json</c> (hidden size), <c>sentence_bert_config.json</c> (max_seq_length),
/// <c>config_sentence_transformers.json</c> (prompts), the tokenizer files and <c>model.onnx</c> or <c>onnx/model.onnx</c>.
/// The files' hashes are computed (there are no recorded ones), for the fingerprint.
/// </summary>
internal static class SentenceTransformersFolder
{
    /// <summary>Where ONNX exports put the graph, in the order tried.</summary>
    private static readonly string[] ModelFileCandidates = ["model.onnx", "onnx/model.onnx"];

    /// <summary>Whether <paramref name="dir"/> looks like a sentence-transformers export.</summary>
    public static bool Looks(string dir) =>
        File.Exists(Path.Combine(dir, "modules.json")) || Directory.Exists(Path.Combine(dir, "1_Pooling"));

    public static ModelManifest Read(string dir)
    {
        if (!Looks(dir))
        {
            throw new ModelLoadException(
                $"{dir}: neither {ModelManifest.FileName} nor a sentence-transformers export (modules.json, 1_Pooling/config.json). " +
                "Point at a model folder made by scripts/setup.sh or `embeddings model install`, a sentence-transformers ONNX export, " +
                $"or write an {ModelManifest.FileName} (see docs/formats.md).");
        }
        (string poolingDir, bool normalize) = ReadModules(dir);
        (PoolingMode pooling, int poolDimension, string poolingPath) = ReadPooling(dir, poolingDir);
        int dimension = ReadDimension(dir, poolDimension, poolingPath);
        string modelFile = FindModelFile(dir);
        List<string> tokenizerFiles = FindTokenizerFiles(dir);
        var files = new List<ModelFile>();
        foreach (string rel in tokenizerFiles.Prepend(modelFile))
        {
            string full = Path.Combine(dir, rel);
            files.Add(new ModelFile(rel, ModelManifest.HashFile(full), new FileInfo(full).Length));
        }
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        ModelManifest.AddDefaultInputs(ModelKind.SentenceTransformers, inputs);
        return new ModelManifest
        {
            Directory = dir,
            Name = Path.GetFileName(dir),
            Kind = ModelKind.SentenceTransformers,
            ModelFile = modelFile,
            TokenizerFiles = tokenizerFiles,
            Pooling = pooling,
            Normalize = normalize,
            TokenLimit = ReadMaxSequenceLength(dir),
            Dimension = dimension,
            QueryPrompt = ReadQueryPrompt(dir),
            Inputs = inputs,
            Output = "last_hidden_state",
            Files = files,
            FromManifestFile = false,
        };
    }

    /// <summary>The pooling module's folder and whether a Normalize module follows.</summary>
    private static (string PoolingDir, bool Normalize) ReadModules(string dir)
    {
        string modulesPath = Path.Combine(dir, "modules.json");
        string poolingDir = "1_Pooling";
        bool normalize = false;
        if (!File.Exists(modulesPath))
        {
            return (poolingDir, normalize);
        }
        using JsonDocument modules = ModelJson.Parse(modulesPath);
        if (modules.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new ModelLoadException($"{modulesPath}: expected a JSON array of modules.");
        }
        foreach (JsonElement m in modules.RootElement.EnumerateArray())
        {
            string type = ModelJson.OptionalString(m, "type") ?? "";
            if (type.EndsWith(".Pooling", StringComparison.Ordinal))
            {
                poolingDir = ModelJson.OptionalString(m, "path") ?? poolingDir;
            }
            else if (type.EndsWith(".Normalize", StringComparison.Ordinal))
            {
                normalize = true;
            }
            else if (!type.EndsWith(".Transformer", StringComparison.Ordinal))
            {
                throw new ModelLoadException(
                    $"{modulesPath}: module type '{type}' is not supported (supported: Transformer, Pooling, Normalize). " +
                    $"Write an {ModelManifest.FileName} for this model if its graph already contains that step.");
            }
        }
        return (poolingDir, normalize);
    }

    private static (PoolingMode Pooling, int Dimension, string Path) ReadPooling(string dir, string poolingDir)
    {
        string poolingPath = Path.Combine(dir, poolingDir, "config.json");
        if (!File.Exists(poolingPath))
        {
            throw new ModelLoadException($"{poolingPath}: missing; a sentence-transformers export needs its pooling configuration.");
        }
        using JsonDocument pool = ModelJson.Parse(poolingPath);
        JsonElement p = pool.RootElement;
        bool cls = ModelJson.OptionalBool(p, "pooling_mode_cls_token");
        bool mean = ModelJson.OptionalBool(p, "pooling_mode_mean_tokens");
        int others = new[] { "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_lasttoken", "pooling_mode_weightedmean_tokens" }
            .Count(flag => ModelJson.OptionalBool(p, flag));
        if ((cls ? 1 : 0) + (mean ? 1 : 0) != 1 || others != 0)
        {
            throw new ModelLoadException(
                $"{poolingPath}: exactly one of pooling_mode_mean_tokens or pooling_mode_cls_token must be true " +
                "(max, mean-sqrt-len, last-token, weighted-mean and combined pooling are not supported).");
        }
        return (cls ? PoolingMode.Cls : PoolingMode.Mean, ModelJson.OptionalInt(p, "word_embedding_dimension") ?? 0, poolingPath);
    }

    /// <summary>The hidden size from config.json (DistilBERT calls it "dim"), checked against the pooling's dimension.</summary>
    private static int ReadDimension(string dir, int poolDimension, string poolingPath)
    {
        int hidden = 0;
        string configPath = Path.Combine(dir, "config.json");
        if (File.Exists(configPath))
        {
            using JsonDocument cfg = ModelJson.Parse(configPath);
            hidden = ModelJson.OptionalInt(cfg.RootElement, "hidden_size") ?? ModelJson.OptionalInt(cfg.RootElement, "dim") ?? 0;
        }
        if (hidden > 0 && poolDimension > 0 && hidden != poolDimension)
        {
            throw new ModelLoadException($"{configPath}: hidden_size {hidden} differs from word_embedding_dimension {poolDimension} in {poolingPath}.");
        }
        int dimension = hidden > 0 ? hidden : poolDimension;
        return dimension > 0
            ? dimension
            : throw new ModelLoadException($"{configPath}: hidden_size missing and {poolingPath} has no word_embedding_dimension; cannot tell the vector size.");
    }

    /// <summary>max_seq_length of sentence_bert_config.json; 512 (BERT's positions) when absent.</summary>
    private static int ReadMaxSequenceLength(string dir)
    {
        string sbertPath = Path.Combine(dir, "sentence_bert_config.json");
        if (!File.Exists(sbertPath))
        {
            return 512;
        }
        using JsonDocument sb = ModelJson.Parse(sbertPath);
        return ModelJson.OptionalInt(sb.RootElement, "max_seq_length") is int length and >= 3 ? length : 512;
    }

    /// <summary>The "query" prompt of config_sentence_transformers.json, if any ("" counts as none).</summary>
    private static string? ReadQueryPrompt(string dir)
    {
        string path = Path.Combine(dir, "config_sentence_transformers.json");
        if (!File.Exists(path))
        {
            return null;
        }
        using JsonDocument doc = ModelJson.Parse(path);
        return doc.RootElement.TryGetProperty("prompts", out JsonElement prompts) && ModelJson.OptionalString(prompts, "query") is { Length: > 0 } query
            ? query
            : null;
    }

    private static string FindModelFile(string dir) =>
        ModelFileCandidates.FirstOrDefault(candidate => File.Exists(Path.Combine(dir, candidate)))
        ?? throw new ModelLoadException(
            $"{dir}: no model.onnx or onnx/model.onnx. Export the model to ONNX first (for example with optimum: " +
            "`optimum-cli export onnx --model <name> <dir>`), then point at that folder.");

    private static List<string> FindTokenizerFiles(string dir)
    {
        var files = new List<string>();
        foreach (string name in new[] { "tokenizer.json", "vocab.txt" })
        {
            if (File.Exists(Path.Combine(dir, name)))
            {
                files.Add(name);
            }
        }
        if (files.Count == 0)
        {
            throw new ModelLoadException($"{dir}: no tokenizer.json or vocab.txt; a sentence-transformers export needs one of them.");
        }
        if (File.Exists(Path.Combine(dir, "tokenizer_config.json")))
        {
            files.Add("tokenizer_config.json");
        }
        return files;
    }
}
