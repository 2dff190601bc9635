using System.Numerics.Tensors;

namespace Embeddings.Evaluation;

/// <summary>
/// What the clustering evaluation needs from a clusterer: k clusters of row-major vectors. The project's
/// k-means/HDBSCAN (Embeddings.Topics) plugs in here; <see cref="EvalKMeans"/> is the stand-in.
/// </summary>
public interface IEvalClusterer
{
    /// <summary>Display name.</summary>
    string Name { get; }

    /// <summary>Cluster labels (0..k-1) of <paramref name="count"/> vectors of <paramref name="dimension"/> floats.</summary>
    int[] Cluster(float[] vectors, int count, int dimension, int k, int seed, CancellationToken cancellationToken);
}

/// <summary>
/// Plain Lloyd k-means with k-means++ seeding (Arthur and Vassilvitskii 2007), best of a few restarts by
/// inertia, as scikit-learn's KMeans: the reference the evaluation compares representations with.
/// </summary>
public sealed class EvalKMeans : IEvalClusterer
{
    /// <summary>Restarts per call; the lowest inertia wins. Default 3.</summary>
    public int Restarts { get; init; } = 3;

    /// <summary>Iteration cap per restart. Default 100.</summary>
    public int MaxIterations { get; init; } = 100;

    /// <inheritdoc />
    public string Name => "k-means";

    /// <inheritdoc />
    public int[] Cluster(float[] vectors, int count, int dimension, int k, int seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (k < 1 || k > count)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and the number of vectors ({count})");
        }
        int[]? best = null;
        double bestInertia = double.PositiveInfinity;
        for (int r = 0; r < Restarts; r++)
        {
            var (labels, inertia) = RunOnce(vectors, count, dimension, k, new Random(HashCode.Combine(seed, r)), cancellationToken);
            if (inertia < bestInertia)
            {
                bestInertia = inertia;
                best = labels;
            }
        }
        return best!;
    }

    private (int[] Labels, double Inertia) RunOnce(float[] x, int n, int d, int k, Random random, CancellationToken ct)
    {
        float[] centers = SeedPlusPlus(x, n, d, k, random);
        var labels = new int[n];
        var distances = new float[n];
        for (int it = 0; it < MaxIterations; it++)
        {
            ct.ThrowIfCancellationRequested();
            int changed = 0;
            Parallel.For(0, n, i =>
            {
                ReadOnlySpan<float> row = x.AsSpan(i * d, d);
                int bestC = 0;
                float bestD = float.PositiveInfinity;
                for (int c = 0; c < k; c++)
                {
                    float dist = TensorPrimitives.Distance(row, centers.AsSpan(c * d, d));
                    if (dist < bestD)
                    {
                        bestD = dist;
                        bestC = c;
                    }
                }
                if (labels[i] != bestC || it == 0)
                {
                    Interlocked.Increment(ref changed);
                }
                labels[i] = bestC;
                distances[i] = bestD * bestD;
            });
            if (changed == 0 && it > 0)
            {
                break;
            }
            var sums = new float[k * d];
            var sizes = new int[k];
            for (int i = 0; i < n; i++)
            {
                Span<float> s = sums.AsSpan(labels[i] * d, d);
                TensorPrimitives.Add(s, x.AsSpan(i * d, d), s);
                sizes[labels[i]]++;
            }
            for (int c = 0; c < k; c++)
            {
                if (sizes[c] == 0)
                {
                    // Empty cluster: restart it at the point farthest from its centre (as scikit-learn does).
                    int far = 0;
                    for (int i = 1; i < n; i++)
                    {
                        if (distances[i] > distances[far])
                        {
                            far = i;
                        }
                    }
                    x.AsSpan(far * d, d).CopyTo(centers.AsSpan(c * d, d));
                    distances[far] = 0;
                    continue;
                }
                TensorPrimitives.Divide(sums.AsSpan(c * d, d), sizes[c], centers.AsSpan(c * d, d));
            }
        }
        double inertia = 0;
        foreach (float v in distances)
        {
            inertia += v;
        }
        return (labels, inertia);
    }

    private static float[] SeedPlusPlus(float[] x, int n, int d, int k, Random random)
    {
        var centers = new float[k * d];
        var closest = new double[n];
        int first = random.Next(n);
        x.AsSpan(first * d, d).CopyTo(centers);
        for (int i = 0; i < n; i++)
        {
            float dist = TensorPrimitives.Distance(x.AsSpan(i * d, d), centers.AsSpan(0, d));
            closest[i] = dist * dist;
        }
        for (int c = 1; c < k; c++)
        {
            double total = 0;
            foreach (double v in closest)
            {
                total += v;
            }
            double target = random.NextDouble() * total;
            int pick = n - 1;
            double acc = 0;
            for (int i = 0; i < n; i++)
            {
                acc += closest[i];
                if (acc >= target)
                {
                    pick = i;
                    break;
                }
            }
            x.AsSpan(pick * d, d).CopyTo(centers.AsSpan(c * d, d));
            for (int i = 0; i < n; i++)
            {
                float dist = TensorPrimitives.Distance(x.AsSpan(i * d, d), centers.AsSpan(c * d, d));
                closest[i] = Math.Min(closest[i], dist * dist);
            }
        }
        return centers;
    }
}
