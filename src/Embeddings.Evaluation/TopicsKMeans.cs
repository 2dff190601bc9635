using Embeddings.Numerics;
using Embeddings.Topics;

namespace Embeddings.Evaluation;

/// <summary>
/// What the clustering evaluation needs from a clusterer: k clusters of row-major vectors. The clusterers
/// of Embeddings.Topics plug in here (<see cref="TopicsKMeans"/>), so the evaluation measures the code `topics` runs.
/// </summary>
internal interface IEvalClusterer
{
    /// <summary>Display name.</summary>
    string Name { get; }

    /// <summary>Cluster labels (0..k-1) of <paramref name="count"/> vectors of <paramref name="dimension"/> floats.</summary>
    int[] Cluster(float[] vectors, int count, int dimension, int k, int seed, CancellationToken cancellationToken);
}

/// <summary>
/// The one k-means (<see cref="KMeansClusterer"/>, Embeddings.Topics) with the options the topic pipeline uses, k fixed
/// to the number of gold classes: what the clustering figures of QUALITY.md measure.
/// </summary>
internal sealed class TopicsKMeans : IEvalClusterer
{
    /// <inheritdoc />
    public string Name => "k-means";

    /// <inheritdoc />
    public int[] Cluster(float[] vectors, int count, int dimension, int k, int seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var clusterer = new KMeansClusterer(new KMeansOptions { K = k });
        ClusterAssignment assignment = clusterer.Cluster(VectorSet.Wrap(vectors, dimension), seed, cancellationToken);
        return [.. assignment.Labels];
    }
}

/// <summary>
/// The clustering stage of the topics pipeline (<see cref="TopicPipeline.Cluster"/>) with a method and a way of
/// choosing k: k-means at the gold k or at the k the pipeline would choose itself (rule of thumb, silhouette, elbow),
/// HDBSCAN or communities (their own number of clusters; outliers count as one more cluster). For choosing the topic
/// defaults on labelled data (QUALITY.md).
/// </summary>
internal sealed class TopicsMethodClusterer(TopicMethod method, KSelection? selection) : IEvalClusterer
{
    /// <inheritdoc />
    public string Name => method switch
    {
        TopicMethod.KMeans => selection is { } s ? $"topics k-means, k by {s.ToString().ToLowerInvariant()}" : "topics k-means, gold k",
        _ => "topics " + method.ToString().ToLowerInvariant(),
    };

    /// <summary>The number of clusters of the last call (for reports).</summary>
    public int LastClusterCount { get; private set; }

    /// <inheritdoc />
    public int[] Cluster(float[] vectors, int count, int dimension, int k, int seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var options = new TopicOptions
        {
            Method = method,
            Seed = seed,
            K = method == TopicMethod.KMeans && selection is null ? k : null,
            KMeans = selection is { } s ? new KMeansOptions { Selection = s } : new KMeansOptions(),
        };
        ClusterAssignment clusters = TopicPipeline.Cluster(VectorSet.Normalized(vectors, dimension), options, null, cancellationToken).Clusters;
        LastClusterCount = clusters.ClusterCount;
        int[] labels = [.. clusters.Labels];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0)
            {
                labels[i] = clusters.ClusterCount; // outliers: one more cluster
            }
        }
        return labels;
    }
}
