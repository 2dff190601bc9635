using System.Text.Json;

namespace Embeddings.Encoding;

/// <summary>
/// Reads our manifest <c>embeddings-model.json</c> (docs/formats.md) into a <see cref="ModelManifest"/>, one section at
/// a time: format, kind and files, tokenizer, pooling and limits, windowing, prompts, graph names. Every problem is a
/// <see cref="ModelLoadException"/> naming the file and the field.
/// </summary>
internal static class ModelManifestReader
{
    public static ModelManifest Read(string dir, string manifestPath)
    {
        using JsonDocument doc = ModelJson.Parse(manifestPath);
        JsonElement root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ModelLoadException($"{manifestPath}: expected a JSON object at the top level.");
        }
        CheckFormat(root, manifestPath);
        ModelKind kind = ModelManifest.ParseKind(ModelJson.RequireString(root, "kind", manifestPath), manifestPath + ": field 'kind'");
        string modelFile = ModelJson.RequireString(root, "model_file", manifestPath);
        List<string> tokenizerFiles = ReadTokenizerFiles(root, manifestPath);
        List<ModelFile> files = ReadFiles(root, manifestPath);
        foreach (string needed in tokenizerFiles.Prepend(modelFile))
        {
            if (!files.Any(f => f.RelativePath == needed))
            {
                throw new ModelLoadException($"{manifestPath}: '{needed}' has no entry (sha256, bytes) under 'files'. Add it.");
            }
        }
        (int tokenLimit, int dimension) = ReadLimits(root, manifestPath);
        (bool windowing, int maxWindows) = ReadWindowing(root, manifestPath);
        return new ModelManifest
        {
            Directory = dir,
            Name = ModelJson.OptionalString(root, "name") ?? Path.GetFileName(dir),
            Kind = kind,
            ModelFile = modelFile,
            TokenizerFiles = tokenizerFiles,
            Pooling = ReadPooling(root, manifestPath),
            Normalize = !root.TryGetProperty("normalize", out JsonElement norm) || norm.ValueKind != JsonValueKind.False,
            TokenLimit = tokenLimit,
            Dimension = dimension,
            Windowing = windowing,
            MaxWindowsPerText = maxWindows,
            QueryPrompt = root.TryGetProperty("prompts", out JsonElement prompts) ? ModelJson.OptionalString(prompts, "query") : null,
            Inputs = ReadInputs(root, kind),
            Output = ModelJson.OptionalString(root, "output") ?? (kind == ModelKind.UseLite
                ? "module_apply_default/Encoder_en/hidden_layers/l2_normalize"
                : "last_hidden_state"),
            Files = files,
            Quantization = root.TryGetProperty("quantization", out JsonElement quantization)
                ? ModelQuantization.Read(quantization, manifestPath)
                : null,
            FromManifestFile = true,
        };
    }

    private static void CheckFormat(JsonElement root, string manifestPath)
    {
        int format = ModelJson.RequireInt(root, "format", manifestPath);
        if (format != ModelManifest.FormatVersion)
        {
            throw new ModelLoadException(
                $"{manifestPath}: manifest format {format} is not supported by this build (it reads format {ModelManifest.FormatVersion}). " +
                "Use a matching version of embeddings or regenerate the manifest.");
        }
    }

    private static List<string> ReadTokenizerFiles(JsonElement root, string manifestPath)
    {
        if (!root.TryGetProperty("tokenizer_files", out JsonElement tok) || tok.ValueKind != JsonValueKind.Array || tok.GetArrayLength() == 0)
        {
            throw new ModelLoadException($"{manifestPath}: field 'tokenizer_files' must be a non-empty array of file names.");
        }
        var files = new List<string>();
        foreach (JsonElement t in tok.EnumerateArray())
        {
            files.Add(t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } name
                ? name
                : throw new ModelLoadException($"{manifestPath}: field 'tokenizer_files' holds a non-string."));
        }
        return files;
    }

    private static PoolingMode ReadPooling(JsonElement root, string manifestPath)
    {
        string pooling = ModelJson.OptionalString(root, "pooling") ?? "mean";
        return pooling switch
        {
            "mean" => PoolingMode.Mean,
            "cls" => PoolingMode.Cls,
            _ => throw new ModelLoadException($"{manifestPath}: field 'pooling' is '{pooling}'; accepted: mean, cls."),
        };
    }

    private static (int TokenLimit, int Dimension) ReadLimits(JsonElement root, string manifestPath)
    {
        int tokenLimit = ModelJson.RequireInt(root, "token_limit", manifestPath);
        int dimension = ModelJson.RequireInt(root, "dimension", manifestPath);
        if (tokenLimit < 3 || dimension < 1)
        {
            throw new ModelLoadException($"{manifestPath}: 'token_limit' must be >= 3 and 'dimension' >= 1.");
        }
        return (tokenLimit, dimension);
    }

    private static (bool Enabled, int MaxWindows) ReadWindowing(JsonElement root, string manifestPath)
    {
        if (!root.TryGetProperty("windowing", out JsonElement win) || win.ValueKind != JsonValueKind.Object)
        {
            return (true, ModelManifest.DefaultMaxWindows);
        }
        bool enabled = !win.TryGetProperty("enabled", out JsonElement en) || en.ValueKind != JsonValueKind.False;
        int maxWindows = ModelJson.OptionalInt(win, "max_windows_per_text") ?? ModelManifest.DefaultMaxWindows;
        if (maxWindows < 1)
        {
            throw new ModelLoadException($"{manifestPath}: 'windowing.max_windows_per_text' must be >= 1.");
        }
        return (enabled, maxWindows);
    }

    private static Dictionary<string, string> ReadInputs(JsonElement root, ModelKind kind)
    {
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("inputs", out JsonElement inp) && inp.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty p in inp.EnumerateObject())
            {
                inputs[p.Name] = p.Value.GetString() ?? p.Name;
            }
        }
        ModelManifest.AddDefaultInputs(kind, inputs);
        return inputs;
    }

    private static List<ModelFile> ReadFiles(JsonElement root, string manifestPath)
    {
        if (!root.TryGetProperty("files", out JsonElement filesEl) || filesEl.ValueKind != JsonValueKind.Object)
        {
            throw new ModelLoadException($"{manifestPath}: field 'files' (sha256 and size of each file) is missing.");
        }
        var files = new List<ModelFile>();
        foreach (JsonProperty p in filesEl.EnumerateObject())
        {
            string sha = ModelJson.OptionalString(p.Value, "sha256") ?? "";
            if (sha.Length != 64)
            {
                throw new ModelLoadException($"{manifestPath}: files.{p.Name}.sha256 must be 64 hex digits.");
            }
            if (!p.Value.TryGetProperty("bytes", out JsonElement b) || b.ValueKind != JsonValueKind.Number || !b.TryGetInt64(out long bytes))
            {
                throw new ModelLoadException($"{manifestPath}: files.{p.Name}.bytes (file size) is missing.");
            }
            if (p.Name.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(p.Name))
            {
                throw new ModelLoadException($"{manifestPath}: file '{p.Name}' must be a path inside the model folder.");
            }
            files.Add(new ModelFile(p.Name, sha.ToLowerInvariant(), bytes));
        }
        return files;
    }
}
