using Embeddings.Numerics;

namespace Embeddings.Topics;

/// <summary>
/// The outcome of a clustering: one label per vector (<c>-1</c> = outlier, else 0..ClusterCount-1) and a
/// membership strength in [0, 1] per vector (0 for outliers).
/// </summary>
internal sealed class ClusterAssignment
{
    /// <summary>Wraps labels and strengths (arrays are taken over, not copied).</summary>
    public ClusterAssignment(int[] labels, int clusterCount, float[]? strengths = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Labels = labels;
        ClusterCount = clusterCount;
        Strengths = strengths ?? DefaultStrengths(labels);
    }

    /// <summary>Cluster of every vector; -1 for an outlier.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>Number of clusters.</summary>
    public int ClusterCount { get; }

    /// <summary>How firmly every vector belongs to its cluster, 0..1 (0 for outliers).</summary>
    public IReadOnlyList<float> Strengths { get; }

    internal int[] LabelArray => (int[])Labels;

    private static float[] DefaultStrengths(int[] labels)
    {
        var s = new float[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            s[i] = labels[i] < 0 ? 0f : 1f;
        }
        return s;
    }
}

/// <summary>A clustering algorithm over unit vectors (cosine geometry). Same input and seed give the same labels.</summary>
internal interface IClusterer
{
    /// <summary>Short name used in reports and the CLI ("hdbscan", "kmeans", "communities").</summary>
    string Name { get; }

    /// <summary>Clusters the rows of <paramref name="vectors"/> (unit length).</summary>
    ClusterAssignment Cluster(VectorSet vectors, int seed, CancellationToken cancellationToken = default);
}
