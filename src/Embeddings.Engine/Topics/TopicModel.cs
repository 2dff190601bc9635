using System.Numerics.Tensors;
using Embeddings.Numerics;

namespace Embeddings.Topics;

/// <summary>Whether a topic is new or changed in size since the previous run.</summary>
public enum TopicTrend
{
    /// <summary>No previous run to compare with.</summary>
    Unknown,

    /// <summary>No topic of the previous run matches.</summary>
    New,

    /// <summary>Its share of the papers grew markedly.</summary>
    Growing,

    /// <summary>Its share of the papers fell markedly.</summary>
    Shrinking,

    /// <summary>About the same share as before.</summary>
    Stable,
}

/// <summary>One topic of a fitted <see cref="TopicModel"/>.</summary>
public sealed record Topic
{
    /// <summary>Stable id (survives re-runs when matched to the previous run's topics).</summary>
    public required int Id { get; init; }

    /// <summary>Short human label from the top terms ("graph neural / molecules").</summary>
    public required string Label { get; init; }

    /// <summary>Diverse keywords (MMR over c-TF-IDF candidates), best first.</summary>
    public required IReadOnlyList<TopicKeyword> Keywords { get; init; }

    /// <summary>Number of papers.</summary>
    public int Size => PaperIds.Count;

    /// <summary>Share of all papers of the run, 0..1.</summary>
    public required double Share { get; init; }

    /// <summary>Ids of the papers, most representative (closest to the centre) first.</summary>
    public required IReadOnlyList<string> PaperIds { get; init; }

    /// <summary>Cosine of each paper (same order as <see cref="PaperIds"/>) to the topic centre.</summary>
    public required IReadOnlyList<float> PaperScores { get; init; }

    /// <summary>Unit centre of the topic in the original embedding space (for matching runs and similar-paper search).</summary>
    public required IReadOnlyList<float> Centroid { get; init; }

    /// <summary>New, growing, shrinking or stable compared with the previous run.</summary>
    public TopicTrend Trend { get; init; } = TopicTrend.Unknown;

    /// <summary>Size in the previous run when matched.</summary>
    public int? PreviousSize { get; init; }

    /// <summary>The most representative papers (closest to the centre).</summary>
    public IReadOnlyList<string> RepresentativeIds(int count) => PaperIds.Take(count).ToList();
}

/// <summary>One step of the topic hierarchy: two groups of topics that join, most similar first.</summary>
/// <param name="Left">Topic ids of the first group.</param>
/// <param name="Right">Topic ids of the second group.</param>
/// <param name="Similarity">Centroid cosine of the two groups when they join.</param>
public sealed record TopicMerge(IReadOnlyList<int> Left, IReadOnlyList<int> Right, double Similarity);

/// <summary>Where a new paper goes: a topic id (or -1 for an outlier) and the cosine to that topic's centre.</summary>
/// <param name="TopicId">Topic id, or -1.</param>
/// <param name="Score">Cosine to the nearest topic centre in the clustering space.</param>
public readonly record struct TopicAssignment(int TopicId, float Score);

/// <summary>
/// The immutable result of <see cref="TopicPipeline.Fit"/>: topics with labels, keywords and members,
/// the per-paper assignment, outliers, the hierarchy, and what is needed to place new papers the same way.
/// </summary>
public sealed record TopicModel
{
    /// <summary>Topics, largest first.</summary>
    public required IReadOnlyList<Topic> Topics { get; init; }

    /// <summary>Paper ids in input order.</summary>
    public required IReadOnlyList<string> PaperIds { get; init; }

    /// <summary>Topic id of every paper (input order); -1 = outlier.</summary>
    public required IReadOnlyList<int> Assignments { get; init; }

    /// <summary>Cosine of every paper to its topic's centre (to the nearest centre for outliers).</summary>
    public required IReadOnlyList<float> Scores { get; init; }

    /// <summary>Ids of papers in no topic.</summary>
    public required IReadOnlyList<string> OutlierIds { get; init; }

    /// <summary>Merge order of the topics: which join first (most similar) up to one root.</summary>
    public required IReadOnlyList<TopicMerge> Hierarchy { get; init; }

    /// <summary>Clustering method name ("kmeans", "hdbscan", "communities").</summary>
    public required string Method { get; init; }

    /// <summary>The seed used.</summary>
    public required int Seed { get; init; }

    /// <summary>Dimension of the input vectors.</summary>
    public required int Dimension { get; init; }

    internal IReduction Reduction { get; init; } = NoReducer.Instance;

    /// <summary>Centres in the clustering space, in <see cref="Topics"/> order (row-major).</summary>
    internal float[] ClusterCentroids { get; init; } = [];

    /// <summary>Per topic: below this cosine to its centre a paper is an outlier (-inf when outliers are absorbed).</summary>
    internal float[] OutlierThresholds { get; init; } = [];

    /// <summary>The topic with id <paramref name="id"/>, or null.</summary>
    public Topic? Find(int id) => Topics.FirstOrDefault(t => t.Id == id);

    /// <summary>
    /// Places new papers with the rule that made the fitted assignment: the nearest topic centre (cosine, in
    /// the clustering space), or outlier when below that topic's threshold. On the training papers it
    /// reproduces <see cref="Assignments"/>.
    /// </summary>
    public IReadOnlyList<TopicAssignment> AssignNew(ReadOnlySpan<float> vectors, CancellationToken cancellationToken = default)
    {
        if (vectors.Length % Dimension != 0)
        {
            throw new ArgumentException($"vectors has {vectors.Length} floats, not a multiple of the model's dimension {Dimension}", nameof(vectors));
        }
        var reduced = Reduction.Transform(VectorSet.Normalized(vectors, Dimension), cancellationToken);
        var (topic, score) = NearestCentroid(reduced, ClusterCentroids, Topics.Count, OutlierThresholds, cancellationToken);
        var result = new TopicAssignment[reduced.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new TopicAssignment(topic[i] < 0 ? -1 : Topics[topic[i]].Id, score[i]);
        }
        return result;
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
