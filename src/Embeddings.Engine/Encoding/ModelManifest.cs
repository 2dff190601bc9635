using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Embeddings.Encoding;

/// <summary>What family of graph a model folder holds; decides the inputs, tokenizer and pooling.</summary>
internal enum ModelKind
{
    /// <summary>
    /// Universal Sentence Encoder Lite: SentencePiece unigram tokenizer (vocab.json), sparse <c>indices</c>/<c>values</c>
    /// inputs, output already pooled and L2-normalised inside the graph.
    /// </summary>
    UseLite,

    /// <summary>
    /// A sentence-transformers ONNX export (all-MiniLM, bge, SPECTER2, ...): WordPiece tokenizer, <c>input_ids</c>,
    /// <c>attention_mask</c>, optional <c>token_type_ids</c> -> <c>last_hidden_state</c>, pooled and normalised here.
    /// </summary>
    SentenceTransformers,
}

/// <summary>How token vectors become one text vector (sentence-transformers <c>1_Pooling/config.json</c>).</summary>
internal enum PoolingMode
{
    /// <summary>Mean over the tokens of the attention mask.</summary>
    Mean,

    /// <summary>The vector of the first token (<c>[CLS]</c>).</summary>
    Cls,
}

/// <summary>One file of a model folder with the hash it must have.</summary>
/// <param name="RelativePath">Path inside the model folder, with '/' separators.</param>
/// <param name="Sha256">Lower-case hex sha256 of the content.</param>
/// <param name="Bytes">File size in bytes.</param>
internal sealed record ModelFile(string RelativePath, string Sha256, long Bytes);

/// <summary>
/// Description of a model folder: which graph, tokenizer, pooling, limits and files it has. Read from our own
/// <c>embeddings-model.json</c> (format in docs/formats.md) or, when the folder has none, from a plain
/// sentence-transformers export (<c>modules.json</c>, <c>1_Pooling/config.json</c>, <c>sentence_bert_config.json</c>,
/// <c>config.json</c>, <c>tokenizer.json</c>/<c>vocab.txt</c>, <c>model.onnx</c> or <c>onnx/model.onnx</c>).
/// Loading checks that every file is there and has its recorded size and sha256, so a corrupt or half-copied
/// model fails here, with the file named, and not on the first text.
/// </summary>
internal sealed class ModelManifest
{
    /// <summary>File name of our manifest inside a model folder.</summary>
    public const string FileName = "embeddings-model.json";

    /// <summary>The manifest format version this build reads and writes.</summary>
    public const int FormatVersion = 1;

    private static readonly string[] AcceptedKinds = ["use-lite", "sentence-transformers"];

    private ModelManifest(
        string directory,
        string name,
        ModelKind kind,
        string modelFile,
        IReadOnlyList<string> tokenizerFiles,
        PoolingMode pooling,
        bool normalize,
        int tokenLimit,
        int dimension,
        bool windowing,
        int maxWindowsPerText,
        IReadOnlyDictionary<string, string> inputs,
        string output,
        IReadOnlyList<ModelFile> files,
        bool fromManifestFile)
    {
        Directory = directory;
        Name = name;
        Kind = kind;
        ModelFile = modelFile;
        TokenizerFiles = tokenizerFiles;
        Pooling = pooling;
        Normalize = normalize;
        TokenLimit = tokenLimit;
        Dimension = dimension;
        Windowing = windowing;
        MaxWindowsPerText = maxWindowsPerText;
        Inputs = inputs;
        Output = output;
        Files = files;
        FromManifestFile = fromManifestFile;
    }

    /// <summary>Absolute path of the model folder.</summary>
    public string Directory { get; }

    /// <summary>Human-readable model name.</summary>
    public string Name { get; }

    /// <summary>The graph family.</summary>
    public ModelKind Kind { get; }

    /// <summary>The ONNX file, relative to <see cref="Directory"/>.</summary>
    public string ModelFile { get; }

    /// <summary>Tokenizer file(s), relative to <see cref="Directory"/> (vocab.json; tokenizer.json and/or vocab.txt).</summary>
    public IReadOnlyList<string> TokenizerFiles { get; }

    /// <summary>Pooling of token vectors (USE-lite: done inside the graph, always mean).</summary>
    public PoolingMode Pooling { get; }

    /// <summary>Whether vectors are L2-normalised (USE-lite: inside the graph).</summary>
    public bool Normalize { get; }

    /// <summary>
    /// Most tokens the model reads per window. USE-lite: 128 pieces. sentence-transformers: <c>max_seq_length</c>,
    /// counting <c>[CLS]</c> and <c>[SEP]</c>.
    /// </summary>
    public int TokenLimit { get; }

    /// <summary>Vector length.</summary>
    public int Dimension { get; }

    /// <summary>Default for sentence windowing of texts longer than <see cref="TokenLimit"/>.</summary>
    public bool Windowing { get; }

    /// <summary>Default cap on windows per text; text beyond it is cut (and flagged truncated).</summary>
    public int MaxWindowsPerText { get; }

    /// <summary>Graph input names by role (<c>indices</c>, <c>values</c> or <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c>).</summary>
    public IReadOnlyDictionary<string, string> Inputs { get; }

    /// <summary>Graph output name.</summary>
    public string Output { get; }

    /// <summary>Every file of the model with its sha256 and size, checked at load.</summary>
    public IReadOnlyList<ModelFile> Files { get; }

    /// <summary>True when read from <see cref="FileName"/>; false when derived from a sentence-transformers export.</summary>
    public bool FromManifestFile { get; }

    /// <summary>The kind as written in manifests: <c>use-lite</c> or <c>sentence-transformers</c>.</summary>
    public string KindName => KindToString(Kind);

    /// <summary>Absolute path of the ONNX file.</summary>
    public string ModelPath => Path.Combine(Directory, ModelFile);

    /// <summary>Absolute path of a file of the model.</summary>
    public string PathOf(string relativePath) => Path.Combine(Directory, relativePath);

    /// <summary>
    /// Stable identity of the vectors this model makes with the given settings: sha256 over the kind, the sha256 of
    /// the model and tokenizer files, and every option that changes vectors (pooling, normalisation, token limit,
    /// windowing and its cap). Two folders with the same files and options have the same fingerprint.
    /// </summary>
    public string ComputeFingerprint(bool windowing, int maxWindowsPerText)
    {
        var text = new StringBuilder();
        text.Append("embeddings-fingerprint/1\n");
        text.Append("kind=").Append(KindName).Append('\n');
        foreach (ModelFile file in Files)
        {
            bool relevant = file.RelativePath == ModelFile || TokenizerFiles.Contains(file.RelativePath);
            if (relevant)
            {
                text.Append("file=").Append(file.RelativePath == ModelFile ? "model" : "tokenizer")
                    .Append(':').Append(file.Sha256).Append('\n');
            }
        }
        text.Append("pooling=").Append(Pooling == PoolingMode.Mean ? "mean" : "cls").Append('\n');
        text.Append("normalize=").Append(Normalize ? '1' : '0').Append('\n');
        text.Append("token_limit=").Append(TokenLimit.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("dimension=").Append(Dimension.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("windowing=").Append(windowing ? maxWindowsPerText.ToString(CultureInfo.InvariantCulture) : "off").Append('\n');
        text.Append("window_combine=token-weighted-mean\n");
        byte[] hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString()));
        string name = Kind == ModelKind.UseLite ? "use-lite" : "st";
        return $"{name}-{Dimension.ToString(CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(hash.AsSpan(0, 12))}";
    }

    /// <summary>
    /// Reads and checks the model folder <paramref name="modelDirectory"/>: our manifest when present, else a
    /// sentence-transformers export. With <paramref name="verifyHashes"/> every file's size and sha256 are checked
    /// against the manifest (a sentence-transformers export without our manifest has no recorded hashes: they are
    /// computed, for the fingerprint).
    /// </summary>
    /// <exception cref="ModelLoadException">The folder, a file or a field is missing or wrong; the message names it and says how to fix it.</exception>
    public static ModelManifest Load(string modelDirectory, bool verifyHashes = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDirectory);
        string dir = Path.GetFullPath(modelDirectory);
        if (!System.IO.Directory.Exists(dir))
        {
            throw new ModelLoadException(
                $"model folder '{dir}' does not exist. Run scripts/setup.sh to make the default model (models/use-lite), " +
                "or point --model / EMBEDDINGS_MODEL at a folder with an embeddings-model.json or a sentence-transformers ONNX export.");
        }
        string manifestPath = Path.Combine(dir, FileName);
        ModelManifest manifest = File.Exists(manifestPath)
            ? ReadManifestFile(dir, manifestPath)
            : ReadSentenceTransformersFolder(dir);
        if (verifyHashes && manifest.FromManifestFile)
        {
            manifest.VerifyFiles();
        }
        return manifest;
    }

    /// <summary>
    /// Checks that every file exists with its recorded size and sha256.
    /// </summary>
    /// <exception cref="ModelLoadException">A file is missing, has the wrong size or the wrong hash (corrupt).</exception>
    public void VerifyFiles()
    {
        foreach (ModelFile file in Files)
        {
            string path = PathOf(file.RelativePath);
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new ModelLoadException(
                    $"{path}: file listed in {FileName} is missing. Copy the complete model folder again" + SetupHint());
            }
            if (info.Length != file.Bytes)
            {
                throw new ModelLoadException(
                    $"{path}: size {info.Length} bytes, the manifest says {file.Bytes}: the file is corrupt or half copied. " +
                    "Replace it with a good copy" + SetupHint());
            }
            string actual = HashFile(path);
            if (!string.Equals(actual, file.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new ModelLoadException(
                    $"{path}: sha256 {actual} does not match the manifest ({file.Sha256}): the file is corrupt. " +
                    "Replace it with a good copy" + SetupHint());
            }
        }
    }

    /// <summary>Lower-case hex sha256 of a file.</summary>
    public static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Parses a kind name as written in manifests.</summary>
    /// <exception cref="ModelLoadException">Unknown kind; the message lists the accepted ones.</exception>
    public static ModelKind ParseKind(string value, string source) => value switch
    {
        "use-lite" => ModelKind.UseLite,
        "sentence-transformers" => ModelKind.SentenceTransformers,
        _ => throw new ModelLoadException(
            $"{source}: unknown model kind '{value}'. Accepted kinds: {string.Join(", ", AcceptedKinds)}."),
    };

    /// <summary>The manifest name of a kind.</summary>
    public static string KindToString(ModelKind kind) => kind switch
    {
        ModelKind.UseLite => "use-lite",
        ModelKind.SentenceTransformers => "sentence-transformers",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Writes this manifest as <see cref="FileName"/> JSON (the format <see cref="Load"/> reads).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("format", FormatVersion);
            w.WriteString("name", Name);
            w.WriteString("kind", KindName);
            w.WriteString("model_file", ModelFile);
            w.WriteStartArray("tokenizer_files");
            foreach (string t in TokenizerFiles)
            {
                w.WriteStringValue(t);
            }
            w.WriteEndArray();
            w.WriteString("pooling", Pooling == PoolingMode.Mean ? "mean" : "cls");
            w.WriteBoolean("normalize", Normalize);
            w.WriteNumber("token_limit", TokenLimit);
            w.WriteNumber("dimension", Dimension);
            w.WriteStartObject("windowing");
            w.WriteBoolean("enabled", Windowing);
            w.WriteNumber("max_windows_per_text", MaxWindowsPerText);
            w.WriteEndObject();
            w.WriteStartObject("inputs");
            foreach (KeyValuePair<string, string> pair in Inputs)
            {
                w.WriteString(pair.Key, pair.Value);
            }
            w.WriteEndObject();
            w.WriteString("output", Output);
            w.WriteStartObject("files");
            foreach (ModelFile f in Files)
            {
                w.WriteStartObject(f.RelativePath);
                w.WriteString("sha256", f.Sha256);
                w.WriteNumber("bytes", f.Bytes);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static string SetupHint() =>
        " (for the default model: delete models/use-lite and run scripts/setup.sh).";

    private static ModelManifest ReadManifestFile(string dir, string manifestPath)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(manifestPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{manifestPath}: not valid JSON ({e.Message}). Fix the file or regenerate it.", e);
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelLoadException($"{manifestPath}: expected a JSON object at the top level.");
            }
            int format = RequireInt(root, "format", manifestPath);
            if (format != FormatVersion)
            {
                throw new ModelLoadException(
                    $"{manifestPath}: manifest format {format} is not supported by this build (it reads format {FormatVersion}). " +
                    "Use a matching version of embeddings or regenerate the manifest.");
            }
            string kindText = RequireString(root, "kind", manifestPath);
            ModelKind kind = ParseKind(kindText, manifestPath + ": field 'kind'");
            string name = OptionalString(root, "name") ?? Path.GetFileName(dir);
            string modelFile = RequireString(root, "model_file", manifestPath);
            var tokenizerFiles = new List<string>();
            if (!root.TryGetProperty("tokenizer_files", out JsonElement tok) || tok.ValueKind != JsonValueKind.Array || tok.GetArrayLength() == 0)
            {
                throw new ModelLoadException($"{manifestPath}: field 'tokenizer_files' must be a non-empty array of file names.");
            }
            foreach (JsonElement t in tok.EnumerateArray())
            {
                tokenizerFiles.Add(t.GetString() ?? throw new ModelLoadException($"{manifestPath}: field 'tokenizer_files' holds a non-string."));
            }
            string poolingText = OptionalString(root, "pooling") ?? "mean";
            PoolingMode pooling = poolingText switch
            {
                "mean" => PoolingMode.Mean,
                "cls" => PoolingMode.Cls,
                _ => throw new ModelLoadException($"{manifestPath}: field 'pooling' is '{poolingText}'; accepted: mean, cls."),
            };
            bool normalize = !root.TryGetProperty("normalize", out JsonElement norm) || norm.ValueKind != JsonValueKind.False;
            int tokenLimit = RequireInt(root, "token_limit", manifestPath);
            int dimension = RequireInt(root, "dimension", manifestPath);
            if (tokenLimit < 3 || dimension < 1)
            {
                throw new ModelLoadException($"{manifestPath}: 'token_limit' must be >= 3 and 'dimension' >= 1.");
            }
            bool windowing = true;
            int maxWindows = DefaultMaxWindows;
            if (root.TryGetProperty("windowing", out JsonElement win) && win.ValueKind == JsonValueKind.Object)
            {
                if (win.TryGetProperty("enabled", out JsonElement en))
                {
                    windowing = en.ValueKind != JsonValueKind.False;
                }
                if (win.TryGetProperty("max_windows_per_text", out JsonElement mw) && mw.ValueKind == JsonValueKind.Number && mw.TryGetInt32(out int mwv))
                {
                    maxWindows = mwv >= 1 ? mwv : throw new ModelLoadException($"{manifestPath}: 'windowing.max_windows_per_text' must be >= 1.");
                }
            }
            var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("inputs", out JsonElement inp) && inp.ValueKind == JsonValueKind.Object)
            {
                foreach (JsonProperty p in inp.EnumerateObject())
                {
                    inputs[p.Name] = p.Value.GetString() ?? p.Name;
                }
            }
            AddDefaultInputs(kind, inputs);
            string output = OptionalString(root, "output") ?? (kind == ModelKind.UseLite
                ? "module_apply_default/Encoder_en/hidden_layers/l2_normalize"
                : "last_hidden_state");
            var files = new List<ModelFile>();
            if (!root.TryGetProperty("files", out JsonElement filesEl) || filesEl.ValueKind != JsonValueKind.Object)
            {
                throw new ModelLoadException($"{manifestPath}: field 'files' (sha256 and size of each file) is missing.");
            }
            foreach (JsonProperty p in filesEl.EnumerateObject())
            {
                string sha = p.Value.TryGetProperty("sha256", out JsonElement s) ? s.GetString() ?? "" : "";
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
            foreach (string needed in tokenizerFiles.Prepend(modelFile))
            {
                if (!files.Any(f => f.RelativePath == needed))
                {
                    throw new ModelLoadException($"{manifestPath}: '{needed}' has no entry (sha256, bytes) under 'files'. Add it.");
                }
            }
            return new ModelManifest(dir, name, kind, modelFile, tokenizerFiles, pooling, normalize, tokenLimit, dimension,
                windowing, maxWindows, inputs, output, files, fromManifestFile: true);
        }
    }

    /// <summary>Default cap on windows per text (64 windows of 128 pieces: ~8,000 pieces, far beyond any abstract).</summary>
    public const int DefaultMaxWindows = 64;

    private static void AddDefaultInputs(ModelKind kind, Dictionary<string, string> inputs)
    {
        if (kind == ModelKind.UseLite)
        {
            inputs.TryAdd("indices", "indices");
            inputs.TryAdd("values", "values");
        }
        else
        {
            inputs.TryAdd("input_ids", "input_ids");
            inputs.TryAdd("attention_mask", "attention_mask");
            inputs.TryAdd("token_type_ids", "token_type_ids");
        }
    }

    private static ModelManifest ReadSentenceTransformersFolder(string dir)
    {
        string modulesPath = Path.Combine(dir, "modules.json");
        string poolingDir = "1_Pooling";
        bool normalize = false;
        if (File.Exists(modulesPath))
        {
            using JsonDocument modules = ParseJson(modulesPath);
            if (modules.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new ModelLoadException($"{modulesPath}: expected a JSON array of modules.");
            }
            foreach (JsonElement m in modules.RootElement.EnumerateArray())
            {
                string type = OptionalString(m, "type") ?? "";
                string path = OptionalString(m, "path") ?? "";
                if (type.EndsWith(".Pooling", StringComparison.Ordinal))
                {
                    poolingDir = path;
                }
                else if (type.EndsWith(".Normalize", StringComparison.Ordinal))
                {
                    normalize = true;
                }
                else if (!type.EndsWith(".Transformer", StringComparison.Ordinal))
                {
                    throw new ModelLoadException(
                        $"{modulesPath}: module type '{type}' is not supported (supported: Transformer, Pooling, Normalize). " +
                        $"Write an {FileName} for this model if its graph already contains that step.");
                }
            }
        }
        else if (!System.IO.Directory.Exists(Path.Combine(dir, poolingDir)))
        {
            throw new ModelLoadException(
                $"{dir}: neither {FileName} nor a sentence-transformers export (modules.json, 1_Pooling/config.json). " +
                "Point at a model folder made by scripts/setup.sh or a sentence-transformers ONNX export, or write an " +
                $"{FileName} (see docs/formats.md).");
        }

        string poolingPath = Path.Combine(dir, poolingDir, "config.json");
        if (!File.Exists(poolingPath))
        {
            throw new ModelLoadException($"{poolingPath}: missing; a sentence-transformers export needs its pooling configuration.");
        }
        PoolingMode pooling;
        int poolDim;
        using (JsonDocument pool = ParseJson(poolingPath))
        {
            JsonElement p = pool.RootElement;
            bool cls = OptionalBool(p, "pooling_mode_cls_token");
            bool mean = OptionalBool(p, "pooling_mode_mean_tokens");
            bool max = OptionalBool(p, "pooling_mode_max_tokens");
            bool sqrt = OptionalBool(p, "pooling_mode_mean_sqrt_len_tokens");
            bool lastToken = OptionalBool(p, "pooling_mode_lasttoken");
            bool weighted = OptionalBool(p, "pooling_mode_weightedmean_tokens");
            int count = (cls ? 1 : 0) + (mean ? 1 : 0) + (max ? 1 : 0) + (sqrt ? 1 : 0) + (lastToken ? 1 : 0) + (weighted ? 1 : 0);
            if (count != 1 || !(cls || mean))
            {
                throw new ModelLoadException(
                    $"{poolingPath}: exactly one of pooling_mode_mean_tokens or pooling_mode_cls_token must be true " +
                    "(max, mean-sqrt-len, last-token, weighted-mean and combined pooling are not supported).");
            }
            pooling = cls ? PoolingMode.Cls : PoolingMode.Mean;
            poolDim = p.TryGetProperty("word_embedding_dimension", out JsonElement d) && d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out int dv) ? dv : 0;
        }

        int hidden = 0;
        string configPath = Path.Combine(dir, "config.json");
        if (File.Exists(configPath))
        {
            using JsonDocument cfg = ParseJson(configPath);
            if (cfg.RootElement.TryGetProperty("hidden_size", out JsonElement h) && h.ValueKind == JsonValueKind.Number && h.TryGetInt32(out int hv))
            {
                hidden = hv;
            }
            else if (cfg.RootElement.TryGetProperty("dim", out JsonElement d2) && d2.ValueKind == JsonValueKind.Number && d2.TryGetInt32(out int dv2))
            {
                hidden = dv2; // DistilBERT names it "dim"
            }
        }
        if (hidden > 0 && poolDim > 0 && hidden != poolDim)
        {
            throw new ModelLoadException($"{configPath}: hidden_size {hidden} differs from word_embedding_dimension {poolDim} in {poolingPath}.");
        }
        int dimension = hidden > 0 ? hidden : poolDim;
        if (dimension <= 0)
        {
            throw new ModelLoadException($"{configPath}: hidden_size missing and {poolingPath} has no word_embedding_dimension; cannot tell the vector size.");
        }

        int maxSeq = 512;
        string sbertPath = Path.Combine(dir, "sentence_bert_config.json");
        if (File.Exists(sbertPath))
        {
            using JsonDocument sb = ParseJson(sbertPath);
            if (sb.RootElement.TryGetProperty("max_seq_length", out JsonElement ms) && ms.ValueKind == JsonValueKind.Number && ms.TryGetInt32(out int msv) && msv >= 3)
            {
                maxSeq = msv;
            }
        }

        string? modelFile = null;
        foreach (string candidate in new[] { "model.onnx", "onnx/model.onnx" })
        {
            if (File.Exists(Path.Combine(dir, candidate)))
            {
                modelFile = candidate;
                break;
            }
        }
        if (modelFile is null)
        {
            throw new ModelLoadException(
                $"{dir}: no model.onnx or onnx/model.onnx. Export the model to ONNX first (for example with optimum: " +
                "`optimum-cli export onnx --model <name> <dir>`), then point at that folder.");
        }

        var tokenizerFiles = new List<string>();
        if (File.Exists(Path.Combine(dir, "tokenizer.json")))
        {
            tokenizerFiles.Add("tokenizer.json");
        }
        if (File.Exists(Path.Combine(dir, "vocab.txt")))
        {
            tokenizerFiles.Add("vocab.txt");
        }
        if (tokenizerFiles.Count == 0)
        {
            throw new ModelLoadException($"{dir}: no tokenizer.json or vocab.txt; a sentence-transformers export needs one of them.");
        }
        foreach (string optional in new[] { "tokenizer_config.json" })
        {
            if (File.Exists(Path.Combine(dir, optional)))
            {
                tokenizerFiles.Add(optional);
            }
        }

        var files = new List<ModelFile>();
        foreach (string rel in tokenizerFiles.Prepend(modelFile))
        {
            string full = Path.Combine(dir, rel);
            files.Add(new ModelFile(rel, HashFile(full), new FileInfo(full).Length));
        }
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        AddDefaultInputs(ModelKind.SentenceTransformers, inputs);
        return new ModelManifest(dir, Path.GetFileName(dir), ModelKind.SentenceTransformers, modelFile, tokenizerFiles, pooling,
            normalize, maxSeq, dimension, windowing: true, DefaultMaxWindows, inputs, "last_hidden_state", files,
            fromManifestFile: false);
    }

    private static JsonDocument ParseJson(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{path}: not valid JSON ({e.Message}).", e);
        }
    }

    private static string RequireString(JsonElement obj, string name, string source) =>
        obj.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
            ? s
            : throw new ModelLoadException($"{source}: field '{name}' (a string) is missing.");

    private static int RequireInt(JsonElement obj, string name, string source) =>
        obj.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)
            ? i
            : throw new ModelLoadException($"{source}: field '{name}' (an integer) is missing.");

    private static string? OptionalString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool OptionalBool(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;
}
