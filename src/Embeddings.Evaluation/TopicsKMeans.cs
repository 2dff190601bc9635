using Embeddings.Numerics;
using Embeddings.Topics;

namespace Embeddings.Evaluation;

/// <summary>The project's k-means (<see cref="KMeansClusterer"/>, Embeddings.Topics) as an evaluation clusterer.</summary>
public sealed class TopicsKMeans : IEvalClusterer
{
    /// <inheritdoc />
    public string Name => "topics k-means";

    /// <inheritdoc />
    public int[] Cluster(float[] vectors, int count, int dimension, int k, int seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var clusterer = new KMeansClusterer(new KMeansOptions { K = k });
        ClusterAssignment assignment = clusterer.Cluster(VectorSet.Wrap(vectors, dimension), seed, cancellationToken);
        return [.. assignment.Labels];
    }
}
