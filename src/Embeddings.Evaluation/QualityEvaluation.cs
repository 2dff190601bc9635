using Embeddings.Encoding;
using Embeddings.Lexical;
using Embeddings.Quality;
using Embeddings.Tokenization;

namespace Embeddings.Evaluation;

/// <summary>What <see cref="QualityEvaluation.RunAsync"/> evaluates and with which settings (defaults: the engine's).</summary>
public sealed record EvalRequest
{
    /// <summary>STS pair files: STS-B csv (TAB, no header) or headed TAB files such as SICK.</summary>
    public IReadOnlyList<string> StsFiles { get; init; } = [];

    /// <summary>BEIR-layout folders: corpus.jsonl[.gz], queries.jsonl, qrels.</summary>
    public IReadOnlyList<string> RetrievalDirectories { get; init; } = [];

    /// <summary>Labelled CSV files (title, abstract/text, label/category/tags).</summary>
    public IReadOnlyList<string> ClusteringFiles { get; init; } = [];

    /// <summary>The neural model folder (any kind, LSA included); null: the default model when one is installed.</summary>
    public string? ModelDirectory { get; init; }

    /// <summary>Evaluate the lexical configurations only (no neural model).</summary>
    public bool LexicalOnly { get; init; }

    /// <summary>BEIR split (test, dev, train); null: the one present.</summary>
    public string? Split { get; init; }

    /// <summary>LSA dimensions for STS and retrieval.</summary>
    public int LsaDimensions { get; init; } = QualityDefaults.LsaDimensions;

    /// <summary>LSA dimensions for clustering.</summary>
    public int ClusteringLsaDimensions { get; init; } = QualityDefaults.ClusteringLsaDimensions;

    /// <summary>Stemmer of BM25 and LSA.</summary>
    public StemmerKind Stemmer { get; init; } = QualityDefaults.Stemmer;

    /// <summary>BM25 k1.</summary>
    public float K1 { get; init; } = QualityDefaults.Bm25K1;

    /// <summary>BM25 b.</summary>
    public float B { get; init; } = QualityDefaults.Bm25B;

    /// <summary>Neural weights a of the concatenated hybrids.</summary>
    public IReadOnlyList<float> HybridWeights { get; init; } = [0.25f, 0.5f, 0.75f];

    /// <summary>Vector weights of the BM25 + vector fusions.</summary>
    public IReadOnlyList<float> FusionWeights { get; init; } = [0.1f, 0.2f, 0.3f, 0.5f];

    /// <summary>k-means seeds per clustering configuration.</summary>
    public int ClusteringSeeds { get; init; } = 3;

    /// <summary>Folder caching neural vectors between runs; null for none.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Receives progress.</summary>
    public IProgress<WorkProgress>? Progress { get; init; }

    /// <summary>Told when the neural model cannot be loaded and only the lexical configurations run.</summary>
    public Action<string>? OnWarning { get; init; }
}

/// <summary>The evaluation harness in one call: every configuration on every data set given, as one list of figures.</summary>
public static class QualityEvaluation
{
    /// <summary>Runs the STS, retrieval and clustering evaluations of <paramref name="request"/>.</summary>
    /// <exception cref="InvalidRequestException">Nothing to evaluate.</exception>
    public static async Task<IReadOnlyList<EvalResult>> RunAsync(EvalRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.StsFiles.Count + request.RetrievalDirectories.Count + request.ClusteringFiles.Count == 0)
        {
            throw new InvalidRequestException("nothing to evaluate; pass --dev or --sts/--retrieval/--clustering");
        }
        var analyzer = new TextAnalyzerOptions { Stemmer = request.Stemmer };
        var options = new EvalOptions
        {
            LsaDimensions = request.LsaDimensions,
            ClusteringLsaDimensions = request.ClusteringLsaDimensions,
            HybridWeights = request.HybridWeights,
            FusionWeights = request.FusionWeights,
            ClusteringSeeds = request.ClusteringSeeds,
            Clusterer = new TopicsKMeans(),
            Bm25 = new Bm25Options { K1 = request.K1, B = request.B, Analyzer = analyzer },
            LsaAnalyzer = analyzer with { Bigrams = QualityDefaults.LsaBigrams },
            ClusteringLsaAnalyzer = analyzer with { Bigrams = true },
            CacheDirectory = request.CacheDirectory,
        };
        (ISentenceEncoder? neural, string name) = request.LexicalOnly ? (null, "neural") : LoadNeural(request);
        try
        {
            var evaluator = new QualityEvaluator(options, neural, name, request.Progress);
            var results = new List<EvalResult>();
            foreach (string f in request.StsFiles)
            {
                results.AddRange(await evaluator.RunStsAsync(EvalDatasets.LoadSts(f), cancellationToken).ConfigureAwait(false));
            }
            foreach (string d in request.RetrievalDirectories)
            {
                results.AddRange(await evaluator.RunRetrievalAsync(EvalDatasets.LoadBeir(d, request.Split), cancellationToken).ConfigureAwait(false));
            }
            foreach (string f in request.ClusteringFiles)
            {
                results.AddRange(await evaluator.RunClusteringAsync(EvalDatasets.LoadClustering(f), cancellationToken).ConfigureAwait(false));
            }
            return results;
        }
        finally
        {
            neural?.Dispose();
        }
    }

    /// <summary>The neural model and its display name; without one, a warning and (null, "") so the lexical configurations still run.</summary>
    private static (ISentenceEncoder? Encoder, string Name) LoadNeural(EvalRequest request)
    {
        string? dir = request.ModelDirectory ?? SentenceEncoder.FindDefaultModelDirectory();
        if (dir is null || !Directory.Exists(dir))
        {
            if (request.ModelDirectory is not null)
            {
                throw new ModelLoadException($"model folder '{request.ModelDirectory}' does not exist");
            }
            request.OnWarning?.Invoke("no model folder found (run scripts/setup.sh or pass --model DIR); evaluating lexical configurations only");
            return (null, "");
        }
        try
        {
            ISentenceEncoder encoder = LibraryModels.Load(dir, new EmbeddingModelOptions());
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
            return (encoder, name == "use-lite" ? "USE-lite" : name);
        }
        catch (ModelRuntimeException e) when (request.ModelDirectory is null)
        {
            request.OnWarning?.Invoke(e.Message + "; evaluating lexical configurations only");
            return (null, "");
        }
    }
}
