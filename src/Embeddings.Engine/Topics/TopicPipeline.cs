using System.Numerics.Tensors;
using Embeddings.Corpus;
using Embeddings.Numerics;

namespace Embeddings.Topics;

/// <summary>Options of <see cref="TopicPipeline"/>.</summary>
internal sealed record TopicOptions
{
    /// <summary>The clustering method.</summary>
    public TopicMethod Method { get; init; } = TopicMethod.KMeans;

    /// <summary>Seed of every random choice; same input and seed give an identical model.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Number of clusters for k-means (null = chosen by <see cref="KMeansOptions.Selection"/>).</summary>
    public int? K { get; init; }

    /// <summary>Merge the most similar topics until at most this many remain (null = no limit).</summary>
    public int? MaxTopics { get; init; }

    /// <summary>
    /// The papers of each topic of the previous run (the topic history), for k-means to start from, so that topics
    /// which still hold keep their papers (and so their ids); null: start afresh.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>>? PreviousTopics { get; init; }

    /// <summary>
    /// PCA dimension before clustering; null = the method's default (HDBSCAN: 32 when the vectors are wider;
    /// k-means and communities: none); 0 = no reduction.
    /// </summary>
    public int? ReducedDimension { get; init; }

    /// <summary>HDBSCAN settings.</summary>
    public HdbscanOptions Hdbscan { get; init; } = new();

    /// <summary>k-means settings (<see cref="K"/> overrides its K).</summary>
    public KMeansOptions KMeans { get; init; } = new();

    /// <summary>Community detection settings.</summary>
    public CommunityOptions Communities { get; init; } = new();

    /// <summary>Where k-NN graphs come from (HDBSCAN, communities); null = exact search up to 15,000 vectors, HNSW above.</summary>
    public IKnnGraphBuilder? GraphBuilder { get; init; }

    /// <summary>
    /// Put every outlier into its nearest topic (scored by cosine to the centre) instead of reporting it.
    /// k-means never leaves outliers.
    /// </summary>
    public bool AssignOutliers { get; init; }

    /// <summary>
    /// For methods with outliers: a paper is an outlier when its cosine to the nearest centre is more than this
    /// many robust standard deviations (1.4826 x median absolute deviation) below the median cosine of that
    /// topic's clustered members (and at least 0.1 below it). Robust statistics keep stray members from widening a topic. The same rule
    /// places new papers.
    /// </summary>
    public double OutlierSpread { get; init; } = 4.0;

    /// <summary>Keywords per topic.</summary>
    public int Keywords { get; init; } = 10;

    /// <summary>MMR diversity, 0 (pure relevance) .. 1.</summary>
    public double Diversity { get; init; } = 0.3;

    /// <summary>Term extraction settings.</summary>
    public TermOptions Terms { get; init; } = new();
}

/// <summary>
/// Papers and their vectors to a <see cref="TopicModel"/>: optional PCA, clustering, merge to at most N topics,
/// centroid assignment with the outlier rule, class-based TF-IDF keywords with MMR, labels, representative
/// papers and the topic hierarchy. Deterministic for a given seed.
/// </summary>
internal static class TopicPipeline
{
    /// <summary>What the clustering stage made: the fitted reduction, the reduced vectors, the clusters, the method name.</summary>
    public sealed record ClusteringStage(IReduction Reduction, VectorSet Space, ClusterAssignment Clusters, string Method);

    /// <summary>
    /// The clustering stage of <see cref="Fit"/> alone (reduction, then the method's clusterer), on unit vectors: what
    /// the quality evaluation measures (QUALITY.md), so that it measures exactly what topics run.
    /// </summary>
    public static ClusteringStage Cluster(VectorSet unit, TopicOptions options,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unit);
        ArgumentNullException.ThrowIfNull(options);
        int reducedDim = options.ReducedDimension ?? (options.Method == TopicMethod.Hdbscan && unit.Dimension > 48 ? 32 : 0);
        IReducer reducer = reducedDim > 0 && reducedDim < unit.Dimension ? new PcaReducer(reducedDim) : NoReducer.Instance;
        var reduction = reducer.Fit(unit, options.Seed, cancellationToken);
        var space = reduction.Transform(unit, cancellationToken);

        progress?.Report(new WorkProgress("clustering", 0, unit.Count, "vectors"));
        IClusterer clusterer = options.Method switch
        {
            TopicMethod.Hdbscan => new HdbscanClusterer(options.Hdbscan with { GraphBuilder = options.Hdbscan.GraphBuilder ?? options.GraphBuilder }),
            TopicMethod.Communities => new CommunityClusterer(options.Communities with { GraphBuilder = options.Communities.GraphBuilder ?? options.GraphBuilder }),
            _ => new KMeansClusterer(options.K is int k ? options.KMeans with { K = k } : options.KMeans),
        };
        var clusters = unit.Count == 0 ? new ClusterAssignment([], 0) : clusterer.Cluster(space, options.Seed, cancellationToken);
        return new ClusteringStage(reduction, space, clusters, clusterer.Name);
    }

    /// <summary>Per paper: the index of its previous topic, or -1; null without a previous run.</summary>
    private static int[]? InitialLabels(string[] ids, IReadOnlyList<IReadOnlyList<string>>? previous)
    {
        if (previous is null || previous.Count == 0)
        {
            return null;
        }
        var topicOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int t = 0; t < previous.Count; t++)
        {
            foreach (string id in previous[t])
            {
                topicOf.TryAdd(id, t);
            }
        }
        return ids.Select(id => topicOf.GetValueOrDefault(id, -1)).ToArray();
    }

    /// <summary>
    /// Fits topics to <paramref name="papers"/> whose vectors are the rows of <paramref name="vectors"/>
    /// (row-major, <paramref name="dimension"/> floats each; normalised here).
    /// </summary>
    public static TopicModel Fit(
        IReadOnlyList<Paper> papers,
        ReadOnlySpan<float> vectors,
        int dimension,
        TopicOptions? options = null,
        IProgress<WorkProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(papers);
        options ??= new TopicOptions();
        if ((long)papers.Count * dimension != vectors.Length)
        {
            throw new ArgumentException($"{papers.Count} papers need {papers.Count * (long)dimension} floats of dimension {dimension}, got {vectors.Length}", nameof(vectors));
        }
        int n = papers.Count;
        var ids = papers.Select(p => p.Id).ToArray();
        progress?.Report(new WorkProgress("normalising", 0, n, "vectors"));
        var unit = VectorSet.Normalized(vectors, dimension);

        progress?.Report(new WorkProgress("reducing", 0, n, "vectors"));
        // k-means starts from the previous run's topics too, when that is no worse (KMeansOptions.InitialLabels).
        TopicOptions clusterOptions = options.PreviousTopics is null ? options
            : options with { KMeans = options.KMeans with { InitialLabels = InitialLabels(ids, options.PreviousTopics) } };
        ClusteringStage stage = Cluster(unit, clusterOptions, progress, cancellationToken);
        (IReduction reduction, VectorSet space, ClusterAssignment clusters) = (stage.Reduction, stage.Space, stage.Clusters);
        var labels = (int[])clusters.LabelArray.Clone();
        int count = clusters.ClusterCount;
        bool hasOutliers = options.Method != TopicMethod.KMeans && !options.AssignOutliers;

        progress?.Report(new WorkProgress("merging", 0, count, "topics"));
        var sums = ClusterSums(space, labels, count);
        if (options.MaxTopics is int maxTopics && count > Math.Max(1, maxTopics))
        {
            var groups = Agglomerate(sums, space.Dimension, count, stopAt: Math.Max(1, maxTopics), out _);
            var map = new int[count];
            for (int g = 0; g < groups.Count; g++)
            {
                foreach (int c in groups[g])
                {
                    map[c] = g;
                }
            }
            for (int i = 0; i < n; i++)
            {
                labels[i] = labels[i] < 0 ? -1 : map[labels[i]];
            }
            count = groups.Count;
            sums = ClusterSums(space, labels, count);
        }

        progress?.Report(new WorkProgress("assigning", 0, n, "vectors"));
        var (assignment, scores, centroids, thresholds, topicCount) =
            FinalAssignment(space, labels, count, sums, hasOutliers, options.OutlierSpread, cancellationToken);

        progress?.Report(new WorkProgress("describing", 0, topicCount, "topics"));
        var tfidf = ClassTfidf.Compute(papers.Select(p => p.Abstract).ToArray(), papers.Select(p => p.Title).ToArray(), assignment, topicCount,
            options.Terms, cancellationToken);
        var members = new List<int>[topicCount];
        for (int t = 0; t < topicCount; t++)
        {
            members[t] = [];
        }
        for (int i = 0; i < n; i++)
        {
            if (assignment[i] >= 0)
            {
                members[assignment[i]].Add(i);
            }
        }
        var topics = new Topic[topicCount];
        for (int t = 0; t < topicCount; t++)
        {
            var m = members[t];
            m.Sort((a, b) => scores[a] != scores[b] ? scores[b].CompareTo(scores[a]) : a.CompareTo(b));
            var keywords = tfidf.Diverse(t, m, options.Keywords, options.Diversity);
            topics[t] = new Topic
            {
                Id = t,
                Label = ClassTfidf.Label(keywords),
                Keywords = keywords,
                Share = n == 0 ? 0 : (double)m.Count / n,
                PaperIds = m.Select(i => ids[i]).ToArray(),
                PaperScores = m.Select(i => scores[i]).ToArray(),
                Centroid = OriginalCentroid(unit, m),
            };
        }
        var outliers = new List<string>();
        for (int i = 0; i < n; i++)
        {
            if (assignment[i] < 0)
            {
                outliers.Add(ids[i]);
            }
        }
        var finalSums = ClusterSums(space, assignment, topicCount);
        Agglomerate(finalSums, space.Dimension, topicCount, stopAt: 1, out var merges);
        progress?.Report(new WorkProgress("describing", topicCount, topicCount, "topics"));
        return new TopicModel
        {
            Topics = topics,
            PaperIds = ids,
            Assignments = assignment,
            Scores = scores,
            OutlierIds = outliers,
            Hierarchy = merges,
            Method = stage.Method,
            Seed = options.Seed,
            Dimension = dimension,
            Placement = new CentroidPlacement(reduction, centroids, topicCount, thresholds),
        };
    }

    /// <summary>Per-cluster sums of member vectors (row-major count x d), summed in input order.</summary>
    private static double[] ClusterSums(VectorSet space, int[] labels, int count)
    {
        int d = space.Dimension;
        var sums = new double[count * d];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0)
            {
                continue;
            }
            var row = space[i];
            int o = labels[i] * d;
            for (int j = 0; j < d; j++)
            {
                sums[o + j] += row[j];
            }
        }
        return sums;
    }

    private static float[] Normalize(double[] sums, int count, int d)
    {
        var c = new float[count * d];
        for (int t = 0; t < count; t++)
        {
            VectorMath.NormalizeTo(sums.AsSpan(t * d, d), c.AsSpan(t * d, d));
        }
        return c;
    }

    /// <summary>
    /// Repeatedly joins the two groups whose summed vectors have the highest cosine (ties: lowest group
    /// indexes) until <paramref name="stopAt"/> groups remain. Returns the groups (ordered by their lowest
    /// cluster) and the merge steps.
    /// </summary>
    internal static List<List<int>> Agglomerate(double[] sums, int d, int count, int stopAt, out List<TopicMerge> merges)
    {
        var groups = new List<List<int>>();
        var vec = new List<double[]>();
        for (int c = 0; c < count; c++)
        {
            groups.Add([c]);
            vec.Add(sums.AsSpan(c * d, d).ToArray());
        }
        merges = [];
        while (groups.Count > stopAt && groups.Count > 1)
        {
            int ba = -1, bb = -1;
            double best = double.NegativeInfinity;
            for (int a = 0; a < groups.Count; a++)
            {
                for (int b = a + 1; b < groups.Count; b++)
                {
                    double s = VectorMath.Cosine(vec[a], vec[b]);
                    if (s > best)
                    {
                        best = s;
                        ba = a;
                        bb = b;
                    }
                }
            }
            merges.Add(new TopicMerge(groups[ba].ToArray(), groups[bb].ToArray(), best));
            groups[ba].AddRange(groups[bb]);
            groups[ba].Sort();
            TensorPrimitives.Add<double>(vec[ba], vec[bb], vec[ba]);
            groups.RemoveAt(bb);
            vec.RemoveAt(bb);
        }
        return groups;
    }

    /// <summary>
    /// The assignment rule shared with <see cref="TopicModel.AssignNew"/>: nearest centre, outlier below the topic's
    /// threshold. Topics left empty by the rule are dropped and the rule re-run, so training and new papers agree.
    /// Topics come out largest first (ties: lowest first member).
    /// </summary>
    private static (int[] Assignment, float[] Scores, float[] Centroids, float[] Thresholds, int Count) FinalAssignment(
        VectorSet space, int[] labels, int count, double[] sums, bool hasOutliers, double spread, CancellationToken ct)
    {
        int n = space.Count, d = space.Dimension;
        var centroids = Normalize(sums, count, d);
        var thresholds = new float[count];
        if (hasOutliers)
        {
            var perCluster = new List<float>[count];
            for (int c = 0; c < count; c++)
            {
                perCluster[c] = [];
            }
            for (int i = 0; i < n; i++)
            {
                if (labels[i] >= 0)
                {
                    perCluster[labels[i]].Add(TensorPrimitives.Dot(space[i], centroids.AsSpan(labels[i] * d, d)));
                }
            }
            for (int c = 0; c < count; c++)
            {
                thresholds[c] = RobustThreshold(perCluster[c], spread);
            }
        }
        else
        {
            Array.Fill(thresholds, float.NegativeInfinity);
        }
        while (true)
        {
            var (topic, score) = NearestCentroid(space, centroids, count, thresholds, ct);
            var sizes = new int[count];
            var first = new int[count];
            Array.Fill(first, int.MaxValue);
            for (int i = 0; i < n; i++)
            {
                if (topic[i] >= 0)
                {
                    sizes[topic[i]]++;
                    first[topic[i]] = Math.Min(first[topic[i]], i);
                }
            }
            var keep = Enumerable.Range(0, count).Where(c => sizes[c] > 0).ToList();
            if (keep.Count < count)
            {
                centroids = Gather(centroids, keep, d);
                thresholds = keep.Select(c => thresholds[c]).ToArray();
                count = keep.Count;
                continue;
            }
            var order = Enumerable.Range(0, count).ToArray();
            Array.Sort(order, (a, b) => sizes[a] != sizes[b] ? sizes[b].CompareTo(sizes[a]) : first[a].CompareTo(first[b]));
            var rank = new int[count];
            for (int r = 0; r < count; r++)
            {
                rank[order[r]] = r;
            }
            for (int i = 0; i < n; i++)
            {
                topic[i] = topic[i] < 0 ? -1 : rank[topic[i]];
            }
            return (topic, score, Gather(centroids, order, d), order.Select(c => thresholds[c]).ToArray(), count);
        }
    }

    private const double MinOutlierMargin = 0.1;

    /// <summary>median - max(spread * 1.4826 * MAD, 0.1) of the members' cosines (+inf for an empty cluster).</summary>
    private static float RobustThreshold(List<float> cosines, double spread)
    {
        if (cosines.Count == 0)
        {
            return float.PositiveInfinity;
        }
        cosines.Sort();
        float median = Median(cosines);
        var deviations = cosines.Select(c => Math.Abs(c - median)).ToList();
        deviations.Sort();
        double mad = Median(deviations);
        // A floor on the margin: in very tight clusters the MAD is tiny and would cut off ordinary members.
        return (float)(median - Math.Max(spread * 1.4826 * mad, MinOutlierMargin));
    }

    private static float Median(List<float> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : 0.5f * (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]);

    private static float[] Gather(float[] rows, IReadOnlyList<int> which, int d)
    {
        var r = new float[which.Count * d];
        for (int i = 0; i < which.Count; i++)
        {
            rows.AsSpan(which[i] * d, d).CopyTo(r.AsSpan(i * d, d));
        }
        return r;
    }

    private static float[] OriginalCentroid(VectorSet unit, List<int> members)
    {
        var c = new double[unit.Dimension];
        foreach (int i in members)
        {
            var row = unit[i];
            for (int j = 0; j < c.Length; j++)
            {
                c[j] += row[j];
            }
        }
        var centroid = new float[c.Length];
        VectorMath.NormalizeTo(c, centroid);
        return centroid;
    }

    /// <summary>Nearest centre by cosine per row; -1 when below the centre's threshold. Returns topic indexes (not ids).</summary>
    internal static (int[] Topic, float[] Score) NearestCentroid(VectorSet v, float[] centroids, int k, float[] thresholds, CancellationToken ct)
    {
        int n = v.Count, d = v.Dimension;
        var topic = new int[n];
        var score = new float[n];
        Parallelism.ForChunks(n, Parallelism.ChunkCount(n, 2048), ct, (_, s, e) =>
        {
            for (int i = s; i < e; i++)
            {
                int best = -1;
                float bestScore = float.NegativeInfinity;
                for (int c = 0; c < k; c++)
                {
                    float sc = TensorPrimitives.Dot(v[i], centroids.AsSpan(c * d, d));
                    if (sc > bestScore)
                    {
                        bestScore = sc;
                        best = c;
                    }
                }
                topic[i] = best >= 0 && bestScore >= thresholds[best] ? best : -1;
                score[i] = k == 0 ? 0f : bestScore;
            }
        });
        return (topic, score);
    }
}

/// <summary>The fitted assignment rule: reduce like the training vectors, then the nearest centre with the outlier thresholds.</summary>
internal sealed class CentroidPlacement(IReduction reduction, float[] centroids, int count, float[] thresholds) : ITopicPlacement
{
    public (int[] Topic, float[] Score) Place(ReadOnlySpan<float> vectors, int dimension, CancellationToken cancellationToken)
    {
        VectorSet reduced = reduction.Transform(VectorSet.Normalized(vectors, dimension), cancellationToken);
        return TopicPipeline.NearestCentroid(reduced, centroids, count, thresholds, cancellationToken);
    }
}
