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
