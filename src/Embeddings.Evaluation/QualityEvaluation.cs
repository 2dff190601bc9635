using Embeddings.Encoding;
using Embeddings.Lexical;
using Embeddings.Quality;
using Embeddings.Tokenization;
using Embeddings.Topics;

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

    /// <summary>
    /// Labelled CSV files (as <see cref="ClusteringFiles"/>) for the like/unlike task: liked papers of one label, unliked
    /// of others, precision@10 of the liked label for each way of ranking them (<see cref="LikeRanking"/>). Needs the neural model.
    /// </summary>
    public IReadOnlyList<string> LikesFiles { get; init; } = [];

    /// <summary>Draws of the like/unlike task (fixed seeds 0..n-1).</summary>
    public int LikesDraws { get; init; } = 50;

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

    /// <summary>
    /// The clusterer: <c>kmeans</c> (default; <c>topics-kmeans</c> is the same), the k-means of the topics pipeline, or
    /// <c>topics-hdbscan</c> / <c>topics-communities</c>, the pipeline's other clusterers with their own cluster counts
    /// (outliers count as one cluster).
    /// </summary>
    public string Clusterer { get; init; } = "kmeans";

    /// <summary>
    /// With k-means: <c>gold</c> (default: the number of labels), or how topics choose k themselves: <c>rule</c>
    /// (sqrt(n/2)), <c>silhouette</c>, <c>elbow</c>.
    /// </summary>
    public string KSelection { get; init; } = "gold";

    /// <summary>Put the model's query prompt (if it has one, e.g. arctic-embed-xs) before retrieval queries, as search does. Default true.</summary>
    public bool QueryPrompts { get; init; } = true;

    /// <summary>Sentence windows for long texts: null (default) follows the model folder; false cuts them to the model's token limit.</summary>
    public bool? Windowing { get; init; }

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
        if (request.StsFiles.Count + request.RetrievalDirectories.Count + request.ClusteringFiles.Count + request.LikesFiles.Count == 0)
        {
            throw new InvalidRequestException("nothing to evaluate; pass --dev or --sts/--retrieval/--clustering/--likes");
        }
        if (request.LikesDraws < 1)
        {
            throw new InvalidRequestException($"--likes-draws must be at least 1, not {request.LikesDraws}");
        }
        var analyzer = new TextAnalyzerOptions { Stemmer = request.Stemmer };
        var options = new EvalOptions
        {
            LsaDimensions = request.LsaDimensions,
            ClusteringLsaDimensions = request.ClusteringLsaDimensions,
            HybridWeights = request.HybridWeights,
            FusionWeights = request.FusionWeights,
            ClusteringSeeds = request.ClusteringSeeds,
            LikesDraws = request.LikesDraws,
            Clusterer = CreateClusterer(request.Clusterer, request.KSelection),
            QueryPrompts = request.QueryPrompts,
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
            foreach (string f in request.LikesFiles)
            {
                if (neural is null)
                {
                    throw new InvalidRequestException($"--likes {f} ranks stored vectors and needs the neural model; pass --model DIR or drop --mode lexical.");
                }
                results.AddRange(await evaluator.RunLikesAsync(EvalDatasets.LoadClustering(f), cancellationToken).ConfigureAwait(false));
            }
            return results;
        }
        finally
        {
            neural?.Dispose();
        }
    }

    private static IEvalClusterer CreateClusterer(string name, string k)
    {
        if (k is not ("gold" or "rule" or "silhouette" or "elbow"))
        {
            throw new InvalidRequestException($"k selection '{k}' is not known: use gold, rule, silhouette or elbow.");
        }
        return name switch
        {
            "topics-hdbscan" => new TopicsMethodClusterer(TopicMethod.Hdbscan, null),
            "topics-communities" => new TopicsMethodClusterer(TopicMethod.Communities, null),
            "kmeans" or "topics-kmeans" when k == "gold" => new TopicsKMeans(),
            "kmeans" or "topics-kmeans" => new TopicsMethodClusterer(TopicMethod.KMeans, k switch
            {
                "rule" => Topics.KSelection.RuleOfThumb,
                "silhouette" => Topics.KSelection.Silhouette,
                _ => Topics.KSelection.Elbow,
            }),
            _ => throw new InvalidRequestException($"clusterer '{name}' is not known: use kmeans, topics-kmeans, topics-hdbscan or topics-communities."),
        };
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
            ISentenceEncoder encoder = LibraryModels.Load(dir, new EmbeddingModelOptions { Windowing = request.Windowing });
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
            return (encoder, (name == "use-lite" ? "USE-lite" : name) + (request.Windowing == false ? " (cut)" : ""));
        }
        catch (ModelRuntimeException e) when (request.ModelDirectory is null)
        {
            request.OnWarning?.Invoke(e.Message + "; evaluating lexical configurations only");
            return (null, "");
        }
    }
}
