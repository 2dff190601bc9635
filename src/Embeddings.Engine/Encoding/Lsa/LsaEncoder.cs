using System.Globalization;
using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Embeddings.Encoding;
using Embeddings.IO;
using Embeddings.Numerics;
using Embeddings.Quality;
using Embeddings.Tokenization;

namespace Embeddings.Encoding.Lsa;

/// <summary>Options of fitting an <see cref="LsaEncoder"/>.</summary>
internal sealed record LsaOptions
{
    /// <summary>Output dimensions (clamped to the corpus rank). Default <see cref="QualityDefaults.LsaDimensions"/>.</summary>
    public int Dimensions { get; init; } = QualityDefaults.LsaDimensions;

    /// <summary>Terms in fewer documents than this are dropped. Default <see cref="QualityDefaults.LsaMinDocumentFrequency"/>.</summary>
    public int MinDocumentFrequency { get; init; } = QualityDefaults.LsaMinDocumentFrequency;

    /// <summary>Terms in more than this share of the documents are dropped. Default 1 (keep all).</summary>
    public double MaxDocumentFrequencyRatio { get; init; } = 1.0;

    /// <summary>Vocabulary cap: the most frequent terms are kept. Default <see cref="QualityDefaults.LsaMaxFeatures"/>.</summary>
    public int MaxFeatures { get; init; } = QualityDefaults.LsaMaxFeatures;

    /// <summary>Use 1 + ln(tf) instead of tf. Default true.</summary>
    public bool SublinearTf { get; init; } = true;

    /// <summary>Text analysis; bigrams here add phrase features. Default: shared analysis, bigrams per <see cref="QualityDefaults.LsaBigrams"/>.</summary>
    public TextAnalyzerOptions Analyzer { get; init; } = new() { Bigrams = QualityDefaults.LsaBigrams };

    /// <summary>Extra random directions of the randomised SVD. Default 10.</summary>
    public int Oversampling { get; init; } = 10;

    /// <summary>Subspace (power) iterations of the randomised SVD. Default 4.</summary>
    public int PowerIterations { get; init; } = 4;

    /// <summary>Seed of the random start, so fits are reproducible. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (Dimensions < 1 || Dimensions > 4096)
        {
            throw new ArgumentException($"LSA dimensions must be 1..4096 (got {Dimensions})");
        }
        if (MinDocumentFrequency < 1 || !(MaxDocumentFrequencyRatio > 0 && MaxDocumentFrequencyRatio <= 1) || MaxFeatures < 1)
        {
            throw new ArgumentException("LSA needs MinDocumentFrequency >= 1, 0 < MaxDocumentFrequencyRatio <= 1 and MaxFeatures >= 1");
        }
        if (Oversampling < 0 || PowerIterations < 0 || PowerIterations > 50)
        {
            throw new ArgumentException("LSA needs Oversampling >= 0 and 0 <= PowerIterations <= 50");
        }
        Analyzer.Validate();
    }
}

/// <summary>
/// The corpus-fitted encoder (latent semantic analysis): a TF-IDF vector of the text (sublinear tf,
/// smoothed idf, L2-normalised, as scikit-learn's TfidfVectorizer) projected on the top right singular
/// vectors of the fitted corpus' TF-IDF matrix, then L2-normalised. Fitting is an explicit step
/// (<see cref="Fit"/>); new texts are projected with the fitted model, and a training text gets exactly the
/// vector it had in the fit. Saved as a model folder whose manifest has <c>"kind": "lsa"</c>.
/// Immutable and thread-safe.
/// </summary>
internal sealed class LsaEncoder : ISentenceEncoder
{
    /// <summary>The manifest file name of model folders.</summary>
    public const string ManifestFileName = "embeddings-model.json";

    /// <summary>The manifest kind of LSA model folders.</summary>
    public const string Kind = "lsa";

    private const string DataFileName = "lsa.bin";
    /// <summary>
    /// <c>lsa.bin</c>: version 2 is the body below in the <see cref="Container"/>; version 1 (the same body in the
    /// earlier trailer layout) is still read, so models fitted before keep their fingerprint and their stores.
    /// </summary>
    internal static readonly ContainerFormat Format = ContainerFormat.Create("LSA model", "EMB-LSA1", version: 2, oldestVersion: 1,
        fix: "refit the model with `embeddings model fit --kind lsa`", trailerVersions: 1);

    private readonly TextAnalyzer _analyzer;
    private readonly TermVocabulary _vocabulary;
    private readonly float[] _idf;
    private readonly float[] _projection;

    private LsaEncoder(LsaOptions options, TermVocabulary vocabulary, float[] idf, float[] projection,
        double[] singularValues, int dimension, int fittedDocuments)
    {
        Options = options;
        _analyzer = TextAnalyzer.Create(options.Analyzer);
        _vocabulary = vocabulary;
        _idf = idf;
        _projection = projection;
        SingularValues = singularValues;
        Dimension = dimension;
        FittedDocuments = fittedDocuments;
        Fingerprint = ComputeFingerprint();
    }

    /// <summary>The options of the fit.</summary>
    public LsaOptions Options { get; }

    /// <inheritdoc />
    public string Fingerprint { get; }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <summary>Number of documents the model was fitted on.</summary>
    public int FittedDocuments { get; }

    /// <summary>Vocabulary size.</summary>
    public int VocabularySize => _vocabulary.Count;

    /// <summary>Singular values of the fitted TF-IDF matrix, descending.</summary>
    public IReadOnlyList<double> SingularValues { get; }

    /// <summary>
    /// Fits the model on <paramref name="texts"/> (title + abstract of each paper): vocabulary and idf,
    /// then the randomised truncated SVD.
    /// </summary>
    public static LsaEncoder Fit(IReadOnlyList<string> texts, LsaOptions? options = null,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        options ??= new LsaOptions();
        options.Validate();
        var analyzer = TextAnalyzer.Create(options.Analyzer);
        int n = texts.Count;
        if (n == 0)
        {
            throw new ArgumentException("cannot fit LSA on an empty corpus", nameof(texts));
        }

        // Pass 1: term counts of every document against a growing vocabulary.
        var all = new TermVocabulary();
        var docStart = new int[n + 1];
        var docTerms = new List<int>();
        var docCounts = new List<int>();
        List<int> scratch = [], ids = [], counts = [];
        for (int d = 0; d < n; d++)
        {
            if ((d & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new WorkProgress("lsa vocabulary", d, n, "papers"));
            }
            analyzer.CountTerms(texts[d], all, addNewTerms: true, scratch, ids, counts);
            docTerms.AddRange(ids);
            docCounts.AddRange(counts);
            docStart[d + 1] = docTerms.Count;
        }
        progress?.Report(new WorkProgress("lsa vocabulary", n, n, "papers"));
        var df = new int[all.Count];
        var total = new long[all.Count];
        for (int p = 0; p < docTerms.Count; p++)
        {
            df[docTerms[p]]++;
            total[docTerms[p]] += docCounts[p];
        }

        // Feature selection as scikit-learn: document-frequency bounds, then the most frequent terms.
        double maxDf = options.MaxDocumentFrequencyRatio * n;
        int[] kept = Enumerable.Range(0, all.Count)
            .Where(t => df[t] >= options.MinDocumentFrequency && df[t] <= maxDf)
            .OrderByDescending(t => total[t]).ThenBy(t => all[t], StringComparer.Ordinal)
            .Take(options.MaxFeatures)
            .OrderBy(t => all[t], StringComparer.Ordinal)
            .ToArray();
        if (kept.Length == 0)
        {
            throw new EmbeddingsException(
                $"no term occurs in at least {options.MinDocumentFrequency} of the {n} documents; fit on more papers or lower the minimum document frequency");
        }
        var remap = new int[all.Count];
        Array.Fill(remap, -1);
        var idf = new float[kept.Length];
        for (int i = 0; i < kept.Length; i++)
        {
            remap[kept[i]] = i;
            idf[i] = (float)(Math.Log((1.0 + n) / (1.0 + df[kept[i]])) + 1.0);
        }
        var vocabulary = new TermVocabulary(kept.Select(t => all[t]));

        // The TF-IDF matrix (rows L2-normalised), the same weighting Encode uses.
        var rowStart = new int[n + 1];
        var columns = new List<int>(docTerms.Count);
        var values = new List<float>(docTerms.Count);
        for (int d = 0; d < n; d++)
        {
            int first = columns.Count;
            for (int p = docStart[d]; p < docStart[d + 1]; p++)
            {
                int t = remap[docTerms[p]];
                if (t >= 0)
                {
                    columns.Add(t);
                    values.Add(Weight(docCounts[p], idf[t], options.SublinearTf));
                }
            }
            // Pass-1 ids are in first-seen order; CSR rows want ascending columns for a stable layout.
            SortRow(columns, values, first);
            VectorMath.Normalize(CollectionsMarshal.AsSpan(values)[first..]);
            rowStart[d + 1] = columns.Count;
        }
        var matrix = new SparseMatrix(n, kept.Length, rowStart, [.. columns], [.. values]);
        TruncatedSvd svd = RandomizedSvd.Compute(matrix, options.Dimensions, options.Oversampling, options.PowerIterations,
            options.Seed, progress, cancellationToken);
        var encoder = new LsaEncoder(options, vocabulary, idf, svd.RightVectors, svd.SingularValues, svd.Rank, n);
        encoder.FittedVectors = FittedRows(matrix, svd);
        return encoder;
    }

    /// <summary>Rows of the fit (X V, normalised), computed from the fitted matrix itself; null after Load.</summary>
    internal float[]? FittedVectors { get; private set; }

    private static float[] FittedRows(SparseMatrix x, TruncatedSvd svd)
    {
        int k = svd.Rank;
        var rows = new float[(long)x.Rows * k];
        Parallel.For(0, x.Rows, i =>
        {
            Span<float> row = rows.AsSpan(i * k, k);
            for (int p = x.RowStart[i]; p < x.RowStart[i + 1]; p++)
            {
                TensorPrimitives.MultiplyAdd(svd.RightVectors.AsSpan(x.ColumnIndex[p] * k, k), x.Values[p], row, row);
            }
            VectorMath.Normalize(row);
        });
        return rows;
    }

    /// <summary>
    /// Projects texts with the fitted model; vectors are L2-normalised (zero when no known term). The token count of a
    /// text is the number of its term occurrences the model knows (what it read).
    /// </summary>
    public Task<EmbeddingBatch> EncodeAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        int count = texts.Count;
        var vectors = new float[count * Dimension];
        var empty = new bool[count];
        var tokens = new int[count];
        Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken },
            () => (new List<int>(), new List<int>(), new List<int>()),
            (i, _, scratch) =>
            {
                string text = texts[i] ?? "";
                empty[i] = string.IsNullOrWhiteSpace(text);
                if (!empty[i])
                {
                    tokens[i] = Project(text, vectors.AsSpan(i * Dimension, Dimension), scratch.Item1, scratch.Item2, scratch.Item3);
                }
                return scratch;
            },
            _ => { });
        return Task.FromResult(new EmbeddingBatch(Dimension, vectors, new bool[count], empty) { TokenCounts = tokens });
    }

    /// <summary>Projects one text into <paramref name="destination"/> (length <see cref="Dimension"/>).</summary>
    public void Project(ReadOnlySpan<char> text, Span<float> destination) => Project(text, destination, [], [], []);

    /// <summary>Projects one text; returns how many of its term occurrences the model knows.</summary>
    private int Project(ReadOnlySpan<char> text, Span<float> destination, List<int> scratch, List<int> ids, List<int> counts)
    {
        if (destination.Length != Dimension)
        {
            throw new ArgumentException($"destination must hold {Dimension} floats", nameof(destination));
        }
        destination.Clear();
        _analyzer.CountTerms(text, _vocabulary, addNewTerms: false, scratch, ids, counts);
        if (ids.Count == 0)
        {
            return 0;
        }
        int known = 0;
        Span<float> weights = ids.Count <= 512 ? stackalloc float[ids.Count] : new float[ids.Count];
        for (int i = 0; i < ids.Count; i++)
        {
            weights[i] = Weight(counts[i], _idf[ids[i]], Options.SublinearTf);
            known += counts[i];
        }
        VectorMath.Normalize(weights); // as the fitted rows were
        for (int i = 0; i < ids.Count; i++)
        {
            TensorPrimitives.MultiplyAdd(_projection.AsSpan(ids[i] * Dimension, Dimension), weights[i], destination, destination);
        }
        VectorMath.Normalize(destination);
        return known;
    }

    /// <summary>The vocabulary terms with the largest weights in LSA dimension <paramref name="component"/> (for inspection and labels).</summary>
    public IReadOnlyList<string> TopTerms(int component, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(component);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(component, Dimension);
        return Enumerable.Range(0, _vocabulary.Count)
            .OrderByDescending(t => _projection[(t * Dimension) + component])
            .Take(count).Select(t => _vocabulary[t]).ToArray();
    }

    /// <summary>
    /// Saves the model as a folder: <c>lsa.bin</c> (options, vocabulary, idf, singular values, projection;
    /// magic, version, XxHash64) and the manifest <c>embeddings-model.json</c> with kind "lsa".
    /// </summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        string data = Path.Combine(directory, DataFileName);
        Container.Write(data, Format, WriteBody);
        var manifest = new JsonObject
        {
            ["kind"] = Kind,
            ["format_version"] = (int)Format.Version,
            ["dimension"] = Dimension,
            ["fingerprint"] = Fingerprint,
            ["normalize"] = true,
            ["fitted_documents"] = FittedDocuments,
            ["vocabulary_size"] = _vocabulary.Count,
            ["options"] = new JsonObject
            {
                ["dimensions_requested"] = Options.Dimensions,
                ["min_df"] = Options.MinDocumentFrequency,
                ["max_df_ratio"] = Options.MaxDocumentFrequencyRatio,
                ["max_features"] = Options.MaxFeatures,
                ["sublinear_tf"] = Options.SublinearTf,
                ["analyzer"] = Options.Analyzer.Describe(),
                ["oversampling"] = Options.Oversampling,
                ["power_iterations"] = Options.PowerIterations,
                ["seed"] = Options.Seed,
            },
            ["files"] = new JsonObject
            {
                [DataFileName] = new JsonObject
                {
                    ["bytes"] = new FileInfo(data).Length,
                    ["xxhash64"] = Container.HashFile(data),
                },
            },
        };
        AtomicFile.WriteAllText(Path.Combine(directory, ManifestFileName),
            manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Whether <paramref name="directory"/> holds a manifest of kind "lsa".</summary>
    public static bool IsLsaModel(string directory)
    {
        try
        {
            return Directory.Exists(directory) && ModelManifest.ReadKind(directory) == Kind;
        }
        catch (ModelLoadException)
        {
            return false;
        }
    }

    /// <summary>
    /// Loads a model folder saved by <see cref="Save"/>, checking the manifest kind, the file size and
    /// hash it records, and the data file's own magic, version and checksum.
    /// </summary>
    public static LsaEncoder Load(string directory)
    {
        string manifestPath = Path.Combine(directory, ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            throw new ModelLoadException($"{directory}: no {ManifestFileName}; make an LSA model with `embeddings model fit --kind lsa`");
        }
        JsonNode manifest;
        try
        {
            manifest = JsonNode.Parse(File.ReadAllText(manifestPath)) ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{manifestPath}: not valid JSON ({e.Message})");
        }
        string? kind = manifest["kind"]?.GetValue<string>();
        if (kind != Kind)
        {
            throw new ModelLoadException($"{manifestPath}: kind is '{kind}', expected '{Kind}'");
        }
        string data = Path.Combine(directory, DataFileName);
        JsonNode? file = manifest["files"]?[DataFileName];
        if (!File.Exists(data))
        {
            throw new ModelLoadException($"{directory}: {DataFileName} is missing; refit the model");
        }
        if (file is null || file["bytes"]?.GetValue<long>() != new FileInfo(data).Length
            || file["xxhash64"]?.GetValue<string>() != Container.HashFile(data))
        {
            throw new ModelLoadException($"{data}: size or hash differs from {ManifestFileName}; the folder is corrupt or mixed, refit the model");
        }
        LsaEncoder encoder = Container.Read(data, Format, c => ReadBody(c));
        string? fingerprint = manifest["fingerprint"]?.GetValue<string>();
        if (fingerprint != encoder.Fingerprint)
        {
            throw new ModelLoadException($"{manifestPath}: fingerprint {fingerprint} does not match the model data ({encoder.Fingerprint})");
        }
        return encoder;
    }

    /// <summary>Nothing to release; present for <see cref="ISentenceEncoder"/>.</summary>
    public void Dispose()
    {
    }

    private void WriteBody(BinaryWriter w)
    {
        w.Write(Options.Dimensions);
        w.Write(Options.MinDocumentFrequency);
        w.Write(Options.MaxDocumentFrequencyRatio);
        w.Write(Options.MaxFeatures);
        w.Write(Options.SublinearTf);
        Options.Analyzer.WriteTo(w);
        w.Write(Options.Oversampling);
        w.Write(Options.PowerIterations);
        w.Write(Options.Seed);
        w.Write(FittedDocuments);
        w.Write(Dimension);
        w.Write(_vocabulary.Count);
        foreach (string term in _vocabulary.Terms)
        {
            w.Write(term);
        }
        w.WriteWords<float>(_idf);
        foreach (double s in SingularValues)
        {
            w.Write(s);
        }
        w.WriteWords<float>(_projection);
    }

    private static LsaEncoder ReadBody(ContainerReader c)
    {
        BinaryReader r = c.Binary;
        var options = new LsaOptions
        {
            Dimensions = r.ReadInt32(),
            MinDocumentFrequency = r.ReadInt32(),
            MaxDocumentFrequencyRatio = r.ReadDouble(),
            MaxFeatures = r.ReadInt32(),
            SublinearTf = r.ReadBoolean(),
            Analyzer = TextAnalyzerOptions.ReadFrom(r),
            Oversampling = r.ReadInt32(),
            PowerIterations = r.ReadInt32(),
            Seed = r.ReadInt32(),
        };
        options.Validate();
        int fitted = r.ReadInt32();
        int dimension = r.ReadInt32();
        int terms = r.ReadInt32();
        if (dimension < 1 || dimension > options.Dimensions || terms < 1 || terms > options.MaxFeatures)
        {
            throw new InvalidDataException($"dimension {dimension} or vocabulary size {terms} out of range");
        }
        var list = new string[terms];
        for (int t = 0; t < terms; t++)
        {
            list[t] = r.ReadString();
        }
        var idf = new float[terms];
        c.ReadWords<float>(idf);
        var singular = new double[dimension];
        for (int i = 0; i < dimension; i++)
        {
            singular[i] = r.ReadDouble();
        }
        var projection = new float[(long)terms * dimension];
        c.ReadWords<float>(projection);
        return new LsaEncoder(options, new TermVocabulary(list), idf, projection, singular, dimension, fitted);
    }

    private string ComputeFingerprint()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            WriteBody(w);
        }
        ulong hash = XxHash64.HashToUInt64(stream.GetBuffer().AsSpan(0, (int)stream.Length));
        return string.Create(CultureInfo.InvariantCulture, $"lsa-{Dimension}-{hash:x16}");
    }

    private static float Weight(int count, float idf, bool sublinear) =>
        (sublinear ? 1f + MathF.Log(count) : count) * idf;

    private static void SortRow(List<int> columns, List<float> values, int first)
    {
        int length = columns.Count - first;
        if (length <= 1)
        {
            return;
        }
        int[] c = columns.GetRange(first, length).ToArray();
        float[] v = values.GetRange(first, length).ToArray();
        Array.Sort(c, v);
        for (int i = 0; i < length; i++)
        {
            columns[first + i] = c[i];
            values[first + i] = v[i];
        }
    }
}
