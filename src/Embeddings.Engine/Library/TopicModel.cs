namespace Embeddings;

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

/// <summary>A weighted term of a topic.</summary>
/// <param name="Term">The unigram or bigram ("graph neural").</param>
/// <param name="Score">Its c-TF-IDF weight in the topic.</param>
public readonly record struct TopicKeyword(string Term, double Score);

/// <summary>Clustering method of the topic pipeline.</summary>
public enum TopicMethod
{
    /// <summary>k-means (every paper in a topic unless outlier thresholds are asked for).</summary>
    KMeans,

    /// <summary>HDBSCAN density clustering (finds the number of topics, reports outliers).</summary>
    Hdbscan,

    /// <summary>Threshold community detection (near-duplicates and tight groups).</summary>
    Communities,
}

/// <summary>What a topic's label is made of.</summary>
public enum TopicLabelKind
{
    /// <summary>Its best keywords, two that share no word ("in-context learning / transformers"): the default.</summary>
    Keywords,

    /// <summary>The title of the paper that stands for it: the one that uses most of the topic's best keywords.</summary>
    Title,
}

/// <summary>Which vectors papers are clustered on.</summary>
public enum RepresentationKind
{
    /// <summary>The store's own vectors (the neural model's).</summary>
    Neural,

    /// <summary>The corpus-fitted LSA vectors alone.</summary>
    Lsa,

    /// <summary>
    /// The weighted concatenation of the neural and LSA vectors (<see cref="Quality.QualityDefaults.ClusteringNeuralWeight"/>
    /// on the neural side): the default, it clusters arXiv abstracts best on the development data (QUALITY.md).
    /// </summary>
    Hybrid,
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
/// The immutable result of fitting topics (<see cref="PaperLibrary.TopicsAsync"/>): topics with labels, keywords and members,
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

    /// <summary>How new papers are placed with the fitted rule (null: the model has no topics to place them in).</summary>
    internal ITopicPlacement? Placement { get; init; }

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
        int count = vectors.Length / Dimension;
        var result = new TopicAssignment[count];
        if (Placement is null || Topics.Count == 0)
        {
            Array.Fill(result, new TopicAssignment(-1, 0f));
            return result;
        }
        var (topic, score) = Placement.Place(vectors, Dimension, cancellationToken);
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new TopicAssignment(topic[i] < 0 ? -1 : Topics[topic[i]].Id, score[i]);
        }
        return result;
    }

}

/// <summary>
/// The rule a fitted model places new papers with, supplied by the pipeline that fitted it (so the model, a public
/// contract, does not depend on the clustering code).
/// </summary>
internal interface ITopicPlacement
{
    /// <summary>Per row of <paramref name="vectors"/> (row-major, <paramref name="dimension"/> wide): the index of its topic in the model's topic order, or -1 for an outlier, and the cosine to that topic's centre.</summary>
    (int[] Topic, float[] Score) Place(ReadOnlySpan<float> vectors, int dimension, CancellationToken cancellationToken);
}
