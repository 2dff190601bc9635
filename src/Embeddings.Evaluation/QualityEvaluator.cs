using System.Globalization;
using System.Numerics.Tensors;
using Embeddings.Encoding;
using Embeddings.Encoding.Lsa;
using Embeddings.Lexical;
using Embeddings.Numerics;
using Embeddings.Quality;
using Embeddings.Search;
using Embeddings.Tokenization;
using Embeddings.Topics;

namespace Embeddings.Evaluation;

/// <summary>Options of a <see cref="QualityEvaluator"/> run.</summary>
internal sealed record EvalOptions
{
    /// <summary>LSA dimensions for STS and retrieval. Default <see cref="QualityDefaults.LsaDimensions"/>.</summary>
    public int LsaDimensions { get; init; } = QualityDefaults.LsaDimensions;

    /// <summary>LSA dimensions for clustering. Default <see cref="QualityDefaults.ClusteringLsaDimensions"/>.</summary>
    public int ClusteringLsaDimensions { get; init; } = QualityDefaults.ClusteringLsaDimensions;

    /// <summary>Neural weights a of the concatenated hybrids to evaluate.</summary>
    public IReadOnlyList<float> HybridWeights { get; init; } = [0.25f, 0.5f, 0.75f];

    /// <summary>Vector weights of the BM25 + vector fusions to evaluate.</summary>
    public IReadOnlyList<float> FusionWeights { get; init; } = [0.1f, 0.2f, 0.3f, 0.5f];

    /// <summary>Also evaluate reciprocal rank fusion. Default true.</summary>
    public bool ReciprocalRankFusion { get; init; } = true;

    /// <summary>BM25 options (stemmer, k1, b).</summary>
    public Bm25Options Bm25 { get; init; } = new();

    /// <summary>Text analysis of the LSA models fitted for retrieval and STS.</summary>
    public TextAnalyzerOptions LsaAnalyzer { get; init; } = new() { Bigrams = QualityDefaults.LsaBigrams };

    /// <summary>Text analysis of the LSA models fitted for clustering (bigrams help there).</summary>
    public TextAnalyzerOptions ClusteringLsaAnalyzer { get; init; } = new() { Bigrams = QualityDefaults.ClusteringLsaBigrams };

    /// <summary>k-means seeds per clustering configuration (results are averaged). Default 3.</summary>
    public int ClusteringSeeds { get; init; } = 3;

    /// <summary>Draws (fixed seeds 0..n-1) of the like/unlike task. Default 50.</summary>
    public int LikesDraws { get; init; } = 50;

    /// <summary>The clusterer. Default <see cref="TopicsKMeans"/>, the k-means `topics` runs.</summary>
    public IEvalClusterer Clusterer { get; init; } = new TopicsKMeans();

    /// <summary>Put the model's query prompt (if it has one) before retrieval queries, as search does. Default true.</summary>
    public bool QueryPrompts { get; init; } = true;

    /// <summary>Folder caching neural vectors between runs; null for none.</summary>
    public string? CacheDirectory { get; init; }
}

/// <summary>One figure of an evaluation.</summary>
/// <param name="Dataset">Data set name (e.g. "scifact/train").</param>
/// <param name="Task">sts, retrieval or clustering.</param>
/// <param name="Configuration">Representation or ranking (e.g. "BM25", "concat a=0.5").</param>
/// <param name="Metric">Metric name (spearman, ndcg@10, recall@100, mrr@10, v-measure, ari).</param>
/// <param name="Value">Value (x100 for display is up to the caller).</param>
/// <param name="IsDefault">Whether this configuration is the engine's default for the task.</param>
public sealed record EvalResult(string Dataset, string Task, string Configuration, string Metric, double Value, bool IsDefault);

/// <summary>
/// Runs the standard evaluations over every configuration the engine offers: BM25, LSA fitted on the
/// evaluated texts, the neural encoder, concatenated hybrids, and BM25 + vector fusions (weighted
/// min-max and RRF). The neural encoder is optional (lexical-only runs).
/// </summary>
internal sealed class QualityEvaluator
{
    private const int RetrievalDepth = 100;

    private readonly EvalOptions _options;
    private readonly ISentenceEncoder? _neural;
    private readonly string _neuralName;
    private readonly IProgress<WorkProgress>? _progress;

    /// <summary>Creates an evaluator; <paramref name="neural"/> may be null.</summary>
    public QualityEvaluator(EvalOptions? options, ISentenceEncoder? neural, string neuralName = "neural", IProgress<WorkProgress>? progress = null)
    {
        _options = options ?? new EvalOptions();
        _neural = neural;
        _neuralName = neuralName;
        _progress = progress;
    }

    /// <summary>Name of the concatenated-hybrid configuration with neural weight <paramref name="a"/>.</summary>
    public static string ConcatName(float a) => string.Create(CultureInfo.InvariantCulture, $"concat a={a:0.##}");

    /// <summary>Name of the BM25 + vector fusion configuration.</summary>
    public static string FusionName(string vector, float w) => string.Create(CultureInfo.InvariantCulture, $"BM25 + {vector}, w={w:0.##}");

    /// <summary>Name of the BM25 + vector RRF configuration.</summary>
    public static string RrfName(string vector) => $"BM25 + {vector}, RRF";

    /// <summary>The label of a fixed-scale fusion (<see cref="ScoreFusion.FixedScale"/>) with vector weight <paramref name="w"/>.</summary>
    public static string FixedScaleName(string vector, float w) => string.Create(CultureInfo.InvariantCulture, $"BM25 + {vector}, fixed w={w:0.##}");

    /// <summary>STS: cosine of the two sides' vectors against the gold scores (Spearman, Pearson).</summary>
    public async Task<IReadOnlyList<EvalResult>> RunStsAsync(StsDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var results = new List<EvalResult>();
        var texts = new List<string>(data.Pairs.Count * 2);
        foreach (StsPair p in data.Pairs)
        {
            texts.Add(p.A);
            texts.Add(p.B);
        }
        var gold = data.Pairs.Select(p => p.Score).ToArray();
        void Score(string config, EmbeddingBatch batch)
        {
            var cos = new double[data.Pairs.Count];
            for (int i = 0; i < cos.Length; i++)
            {
                cos[i] = CosineOrZero(batch[2 * i], batch[(2 * i) + 1]);
            }
            bool isDefault = config == (_neural is null ? "LSA" : _neuralName);
            results.Add(new EvalResult(data.Name, "sts", config, "spearman", Correlation.Spearman(cos, gold), isDefault));
            results.Add(new EvalResult(data.Name, "sts", config, "pearson", Correlation.Pearson(cos, gold), isDefault));
        }
        EmbeddingBatch lsa = await FitLsaAsync(texts, _options.LsaDimensions, _options.LsaAnalyzer, cancellationToken).ConfigureAwait(false);
        Score("LSA", lsa);
        if (_neural is not null)
        {
            EmbeddingBatch neural = await EncodeNeuralAsync(texts, cancellationToken).ConfigureAwait(false);
            Score(_neuralName, neural);
            foreach (float a in _options.HybridWeights)
            {
                Score(ConcatName(a), HybridEncoder.Combine(neural, lsa, a));
            }
        }
        return results;
    }

    /// <summary>Retrieval: nDCG@10, recall@100 and MRR@10 of every ranking configuration.</summary>
    public async Task<IReadOnlyList<EvalResult>> RunRetrievalAsync(RetrievalDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var results = new List<EvalResult>();
        string[] docIds = data.Corpus.Select(d => d.Id).ToArray();
        string[] docTexts = data.Corpus.Select(d => d.FullText).ToArray();
        string[] queryIds = data.Judgements.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        string[] queryTexts = queryIds.Select(q => data.Queries[q]).ToArray();
        int n = docIds.Length, nq = queryIds.Length;
        Func<string, float, string> defaultFusion = QualityDefaults.Fusion == FusionMethod.FixedScale ? FixedScaleName : FusionName;
        string defaultConfig = defaultFusion(_neural is null ? "LSA" : _neuralName, QualityDefaults.FusionVectorWeight);

        void Report(string config, int[][] rankings)
        {
            double ndcg = 0, recall = 0, mrr = 0;
            for (int q = 0; q < nq; q++)
            {
                string[] ranked = rankings[q].Select(i => docIds[i]).ToArray();
                IReadOnlyDictionary<string, int> j = data.Judgements[queryIds[q]];
                ndcg += RetrievalMetrics.Ndcg(ranked, j, 10);
                recall += RetrievalMetrics.Recall(ranked, j, 100);
                mrr += RetrievalMetrics.ReciprocalRank(ranked, j, 10);
            }
            bool isDefault = config == defaultConfig;
            results.Add(new EvalResult(data.Name, "retrieval", config, "ndcg@10", ndcg / nq, isDefault));
            results.Add(new EvalResult(data.Name, "retrieval", config, "recall@100", recall / nq, isDefault));
            results.Add(new EvalResult(data.Name, "retrieval", config, "mrr@10", mrr / nq, isDefault));
        }

        // BM25 over title + abstract; corpus order = score slot order.
        _progress?.Report(new WorkProgress("bm25 index", 0, n, "documents"));
        var bm25 = Bm25Index.Create(_options.Bm25);
        for (int i = 0; i < n; i++)
        {
            bm25.Add(docIds[i] + "\u0001" + i.ToString(CultureInfo.InvariantCulture), docTexts[i]);
        }
        var bm25Scores = new float[(long)nq * n];
        Parallel.For(0, nq, new ParallelOptions { CancellationToken = cancellationToken },
            q => bm25.ScoreAll(queryTexts[q], bm25Scores.AsSpan(q * n, n)));
        int[][] bm25Top = TopRows(bm25Scores, nq, n, RetrievalDepth);
        Report("BM25", bm25Top);
        float[] bm25Max = [.. queryTexts.Select(bm25.MaxAttainableScore)];

        var vectorConfigs = new List<(string Name, float[] Scores)>();
        EmbeddingBatch lsaDocs;
        EmbeddingBatch lsaQueries;
        using (LsaEncoder lsa = LsaEncoder.Fit(docTexts, new LsaOptions { Dimensions = _options.LsaDimensions, Analyzer = _options.LsaAnalyzer }, _progress, cancellationToken))
        {
            lsaDocs = await lsa.EncodeAsync(docTexts, cancellationToken).ConfigureAwait(false);
            lsaQueries = await lsa.EncodeAsync(queryTexts, cancellationToken).ConfigureAwait(false);
        }
        vectorConfigs.Add(("LSA", ScoreMatrix(lsaQueries, lsaDocs)));
        if (_neural is not null)
        {
            EmbeddingBatch neuralDocs = await EncodeNeuralAsync(docTexts, cancellationToken).ConfigureAwait(false);
            // Queries with the model's query prompt (if it has one); documents as they are.
            string[] promptedQueries = _options.QueryPrompts ? queryTexts.Select(q => _neural.QueryText(q)).ToArray() : queryTexts;
            EmbeddingBatch neuralQueries = await EncodeNeuralAsync(promptedQueries, cancellationToken).ConfigureAwait(false);
            vectorConfigs.Add((_neuralName, ScoreMatrix(neuralQueries, neuralDocs)));
            foreach (float a in _options.HybridWeights)
            {
                vectorConfigs.Add((ConcatName(a), ScoreMatrix(HybridEncoder.Combine(neuralQueries, lsaQueries, a), HybridEncoder.Combine(neuralDocs, lsaDocs, a))));
            }
        }
        foreach (var (name, scores) in vectorConfigs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int[][] top = TopRows(scores, nq, n, RetrievalDepth);
            Report(name, top);
            foreach (float w in _options.FusionWeights)
            {
                Report(FusionName(name, w), FuseRows(bm25Scores, bm25Top, scores, top, n, w));
                Report(FixedScaleName(name, w), FixedScaleRows(bm25Scores, bm25Max, bm25Top, scores, top, n, w));
            }
            if (_options.ReciprocalRankFusion)
            {
                Report(RrfName(name), RrfRows(bm25Top, top));
            }
        }
        return results;
    }

    /// <summary>Clustering: k-means with k = number of gold labels on each representation; V-measure and ARI (mean over seeds).</summary>
    public async Task<IReadOnlyList<EvalResult>> RunClusteringAsync(ClusteringDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var results = new List<EvalResult>();
        string[] texts = data.Items.Select(i => i.Text).ToArray();
        var labelIds = new Dictionary<string, int>(StringComparer.Ordinal);
        int[] gold = data.Items.Select(i => labelIds.TryGetValue(i.Label, out int id) ? id : labelIds[i.Label] = labelIds.Count).ToArray();
        int k = labelIds.Count;
        string defaultConfig = _neural is null ? "LSA" : ConcatName(QualityDefaults.ClusteringNeuralWeight);

        void Score(string config, EmbeddingBatch batch)
        {
            int seeds = _options.ClusteringSeeds;
            var vPerSeed = new double[seeds];
            var ariPerSeed = new double[seeds];
            double h = 0, c = 0;
            for (int s = 0; s < seeds; s++)
            {
                _progress?.Report(new WorkProgress("clustering " + config, s, seeds, "seeds"));
                int[] predicted = _options.Clusterer.Cluster(batch.Vectors, batch.Count, batch.Dimension, k, s, cancellationToken);
                VMeasureResult vm = ClusteringMetrics.VMeasure(gold, predicted);
                vPerSeed[s] = vm.VMeasure;
                h += vm.Homogeneity;
                c += vm.Completeness;
                ariPerSeed[s] = ClusteringMetrics.AdjustedRandIndex(gold, predicted);
            }
            bool isDefault = config == defaultConfig;
            results.Add(new EvalResult(data.Name, "clustering", config, "v-measure", vPerSeed.Average(), isDefault));
            results.Add(new EvalResult(data.Name, "clustering", config, "ari", ariPerSeed.Average(), isDefault));
            results.Add(new EvalResult(data.Name, "clustering", config, "homogeneity", h / seeds, isDefault));
            results.Add(new EvalResult(data.Name, "clustering", config, "completeness", c / seeds, isDefault));
            // The spread over seeds says whether a difference between two models is larger than the clusterer's own
            // noise; the per-seed values (seed s is the same seed for every model) allow paired differences.
            results.Add(new EvalResult(data.Name, "clustering", config, "v-measure-sd", SampleStandardDeviation(vPerSeed), isDefault));
            results.Add(new EvalResult(data.Name, "clustering", config, "ari-sd", SampleStandardDeviation(ariPerSeed), isDefault));
            for (int s = 0; s < seeds; s++)
            {
                results.Add(new EvalResult(data.Name, "clustering", config, "v-measure@seed" + s.ToString(CultureInfo.InvariantCulture), vPerSeed[s], isDefault));
            }
        }
        EmbeddingBatch lsa = await FitLsaAsync(texts, _options.ClusteringLsaDimensions, _options.ClusteringLsaAnalyzer, cancellationToken).ConfigureAwait(false);
        Score("LSA", lsa);
        if (_neural is not null)
        {
            EmbeddingBatch neural = await EncodeNeuralAsync(texts, cancellationToken).ConfigureAwait(false);
            Score(_neuralName, neural);
            foreach (float a in _options.HybridWeights)
            {
                Score(ConcatName(a), HybridEncoder.Combine(neural, lsa, a));
            }
        }
        return results;
    }

    /// <summary>Sample standard deviation (n - 1); NaN for fewer than two values.</summary>
    private static double SampleStandardDeviation(double[] values)
    {
        if (values.Length < 2)
        {
            return double.NaN;
        }
        double mean = values.Average(), sum = 0;
        foreach (double v in values)
        {
            sum += (v - mean) * (v - mean);
        }
        return Math.Sqrt(sum / (values.Length - 1));
    }

    /// <summary>Liked papers per draw of the like/unlike task.</summary>
    internal const int LikedPerDraw = 5;

    /// <summary>Unliked papers per draw of the like/unlike task.</summary>
    internal const int UnlikedPerDraw = 5;

    /// <summary>Hits judged per draw of the like/unlike task.</summary>
    internal const int LikesDepth = 10;

    /// <summary>The fewest papers a label needs to be drawn as the liked one (its liked papers and a full page of hits).</summary>
    internal const int LikesMinLabelSize = LikedPerDraw + (2 * LikesDepth);

    /// <summary>
    /// Like/unlike recommendations: per draw, <see cref="LikedPerDraw"/> papers of one label (drawn among the labels with
    /// at least <see cref="LikesMinLabelSize"/> papers) are liked and <see cref="UnlikedPerDraw"/> of other labels unliked;
    /// every other paper is ranked by each <see cref="LikeRanking"/> (the search's own query vectors, exact cosine) and
    /// precision@10 is the share of the top 10 with the liked label. Mean and standard deviation over the draws.
    /// </summary>
    public async Task<IReadOnlyList<EvalResult>> RunLikesAsync(ClusteringDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (_neural is null)
        {
            throw new InvalidOperationException("The like/unlike task ranks neural vectors: give the evaluator a model.");
        }
        string[] texts = data.Items.Select(i => i.Text).ToArray();
        var labelIds = new Dictionary<string, int>(StringComparer.Ordinal);
        int[] gold = data.Items.Select(i => labelIds.TryGetValue(i.Label, out int id) ? id : labelIds[i.Label] = labelIds.Count).ToArray();
        int[] labelSizes = new int[labelIds.Count];
        foreach (int g in gold)
        {
            labelSizes[g]++;
        }
        int[] drawable = Enumerable.Range(0, labelSizes.Length).Where(l => labelSizes[l] >= LikesMinLabelSize).ToArray();
        if (drawable.Length < 2)
        {
            throw new InvalidRequestException($"{data.Name}: the like/unlike task needs two labels with at least {LikesMinLabelSize} papers each");
        }
        EmbeddingBatch vectors = await EncodeNeuralAsync(texts, cancellationToken).ConfigureAwait(false);
        int n = vectors.Count, d = vectors.Dimension;
        float[] Row(int i) => vectors.Vectors.AsSpan(i * d, d).ToArray();
        bool[] live = new bool[n];
        Array.Fill(live, true);

        LikeRanking[] rankings = Enum.GetValues<LikeRanking>();
        var precision = new double[rankings.Length][];
        for (int r = 0; r < rankings.Length; r++)
        {
            precision[r] = new double[_options.LikesDraws];
        }
        var scores = new float[n];
        for (int draw = 0; draw < _options.LikesDraws; draw++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _progress?.Report(new WorkProgress("like/unlike draws", draw, _options.LikesDraws, "draws"));
            var random = new Random(draw);
            int label = drawable[random.Next(drawable.Length)];
            int[] of = Enumerable.Range(0, n).Where(i => gold[i] == label).ToArray();
            int[] others = Enumerable.Range(0, n).Where(i => gold[i] != label).ToArray();
            random.Shuffle(of);
            random.Shuffle(others);
            int[] liked = of[..LikedPerDraw];
            int[] unliked = others[..UnlikedPerDraw];
            var excluded = new HashSet<int>(liked.Concat(unliked));
            for (int r = 0; r < rankings.Length; r++)
            {
                // The search's own choice and query vector (QueryVector.FromExamples), over the same background.
                float[] query = QueryVector.FromExamples(rankings[r], [.. liked.Select(Row)], [.. unliked.Select(Row)],
                    () => [.. LikeClassifier.BackgroundRows(live, n, excluded.Contains).Select(Row)], d);
                for (int i = 0; i < n; i++)
                {
                    scores[i] = excluded.Contains(i) ? float.NegativeInfinity : TensorPrimitives.Dot(query, vectors.Vectors.AsSpan(i * d, d));
                }
                int[] top = TopK.Select(scores, LikesDepth);
                precision[r][draw] = top.Count(i => gold[i] == label) / (double)LikesDepth;
            }
        }
        var results = new List<EvalResult>();
        for (int r = 0; r < rankings.Length; r++)
        {
            double mean = precision[r].Average();
            double sd = SampleStandardDeviation(precision[r]);
            string config = LikesName(rankings[r]);
            bool isDefault = rankings[r] == SearchDefaults.LikeRanking;
            results.Add(new EvalResult(data.Name, "likes", config, "precision@10", mean, isDefault));
            results.Add(new EvalResult(data.Name, "likes", config, "precision@10-sd", sd, isDefault));
            results.Add(new EvalResult(data.Name, "likes", config, "precision@10-min", precision[r].Min(), isDefault));
            if (rankings[r] != LikeRanking.Rocchio)
            {
                // Paired over the same draws: the spread of one mean (sd/sqrt(50), about 3.5 points) hides a smaller paired difference.
                double[] delta = [.. precision[r].Select((p, i) => p - precision[(int)LikeRanking.Rocchio][i])];
                double dm = delta.Average();
                double dse = SampleStandardDeviation(delta) / Math.Sqrt(delta.Length);
                results.Add(new EvalResult(data.Name, "likes", config, "vs-rocchio", dm, isDefault));
                results.Add(new EvalResult(data.Name, "likes", config, "vs-rocchio-se", dse, isDefault));
            }
        }
        return results;
    }

    /// <summary>The label of a like ranking in the eval table.</summary>
    public static string LikesName(LikeRanking ranking) => ranking switch
    {
        LikeRanking.Classifier => "likes: linear SVM",
        _ => "likes: Rocchio centroid",
    };

    private async Task<EmbeddingBatch> FitLsaAsync(IReadOnlyList<string> texts, int dims, TextAnalyzerOptions analyzer, CancellationToken cancellationToken)
    {
        using LsaEncoder lsa = LsaEncoder.Fit(texts, new LsaOptions { Dimensions = dims, Analyzer = analyzer }, _progress, cancellationToken);
        return await lsa.EncodeAsync(texts, cancellationToken).ConfigureAwait(false);
    }

    private Task<EmbeddingBatch> EncodeNeuralAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        _options.CacheDirectory is { } dir
            ? VectorCache.Open(dir).GetOrEncodeAsync(_neural!, texts, _progress, cancellationToken)
            : VectorCache.EncodeInChunksAsync(_neural!, texts, _progress, cancellationToken);

    /// <summary>Cosine similarity, 0 when either vector is zero (empty text or no known term).</summary>
    private static double CosineOrZero(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => VectorMath.Cosine(a, b);

    /// <summary>Dot products of every query with every document (vectors are unit length: cosine).</summary>
    private static float[] ScoreMatrix(EmbeddingBatch queries, EmbeddingBatch docs)
    {
        int n = docs.Count, d = docs.Dimension;
        var scores = new float[(long)queries.Count * n];
        Parallel.For(0, queries.Count, q =>
        {
            ReadOnlySpan<float> qv = queries[q];
            Span<float> row = scores.AsSpan(q * n, n);
            for (int i = 0; i < n; i++)
            {
                row[i] = TensorPrimitives.Dot(qv, docs.Vectors.AsSpan(i * d, d));
            }
        });
        return scores;
    }

    private static int[][] TopRows(float[] scores, int rows, int n, int k)
    {
        var top = new int[rows][];
        Parallel.For(0, rows, q => top[q] = TopK.Select(scores.AsSpan(q * n, n), k));
        return top;
    }

    private static int[][] FuseRows(float[] lexical, int[][] lexicalTop, float[] vector, int[][] vectorTop, int n, float w)
    {
        var fused = new int[lexicalTop.Length][];
        Parallel.For(0, lexicalTop.Length, q =>
        {
            List<int> candidates = Union(lexicalTop[q], vectorTop[q]);
            var a = new float[candidates.Count];
            var b = new float[candidates.Count];
            for (int c = 0; c < candidates.Count; c++)
            {
                a[c] = lexical[((long)q * n) + candidates[c]];
                b[c] = vector[((long)q * n) + candidates[c]];
            }
            string[] names = candidates.Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
            ScoredDocument[] best = ScoreFusion.WeightedMinMax(names, [a, b], [1 - w, w], RetrievalDepth);
            fused[q] = best.Select(s => int.Parse(s.Id, CultureInfo.InvariantCulture)).ToArray();
        });
        return fused;
    }

    /// <summary>The candidates both fusions score: the lexical top, then the vector top's papers not in it.</summary>
    private static List<int> Union(int[] lexicalTop, int[] vectorTop)
    {
        var candidates = new List<int>(lexicalTop);
        var seen = new HashSet<int>(candidates);
        foreach (int i in vectorTop)
        {
            if (seen.Add(i))
            {
                candidates.Add(i);
            }
        }
        return candidates;
    }

    /// <summary>The fixed-scale fusion the search runs, over the same candidates as <see cref="FuseRows"/>.</summary>
    private static int[][] FixedScaleRows(float[] lexical, float[] lexicalMax, int[][] lexicalTop, float[] vector, int[][] vectorTop, int n, float w)
    {
        var fused = new int[lexicalTop.Length][];
        Parallel.For(0, lexicalTop.Length, q =>
        {
            List<int> candidates = Union(lexicalTop[q], vectorTop[q]);
            float max = lexicalMax[q];
            var scores = new float[candidates.Count];
            for (int c = 0; c < candidates.Count; c++)
            {
                long at = ((long)q * n) + candidates[c];
                scores[c] = ScoreFusion.FixedScale(max > 0 ? lexical[at] / max : 0, vector[at], w);
            }
            fused[q] = [.. TopK.Select(scores, RetrievalDepth).Select(c => candidates[c])];
        });
        return fused;
    }

    private static int[][] RrfRows(int[][] lexicalTop, int[][] vectorTop)
    {
        var fused = new int[lexicalTop.Length][];
        for (int q = 0; q < lexicalTop.Length; q++)
        {
            static ScoredDocument[] AsList(int[] top) =>
                top.Select((i, r) => new ScoredDocument(i.ToString(CultureInfo.InvariantCulture), -r)).ToArray();
            ScoredDocument[] best = ScoreFusion.ReciprocalRank([AsList(lexicalTop[q]), AsList(vectorTop[q])], [1f, 1f], RetrievalDepth);
            fused[q] = best.Select(s => int.Parse(s.Id, CultureInfo.InvariantCulture)).ToArray();
        }
        return fused;
    }
}
