using Embeddings.Numerics;

namespace Embeddings.Index;

/// <summary>
/// Seeded clustered unit vectors for the index tests and benchmarks: points scattered around random
/// centres, like embeddings of papers grouped by topic. Same seed, same vectors, on every machine.
/// </summary>
internal static class SyntheticVectors
{
    /// <summary>
    /// <paramref name="count"/> unit vectors (row-major) around <paramref name="clusters"/> centres; the noise
    /// has length <paramref name="spread"/> relative to the unit centre before normalisation.
    /// </summary>
    public static float[] Clustered(int count, int dimension, int clusters, int seed, float spread = 1.0f)
    {
        var random = new Random(seed);
        var centres = new float[clusters * dimension];
        for (int c = 0; c < clusters; c++)
        {
            Span<float> centre = centres.AsSpan(c * dimension, dimension);
            FillGaussian(random, centre);
            VectorMath.Normalize(centre);
        }
        var vectors = new float[(long)count * dimension];
        float sigma = spread / MathF.Sqrt(dimension);
        for (int i = 0; i < count; i++)
        {
            Span<float> v = vectors.AsSpan(i * dimension, dimension);
            int c = random.Next(clusters);
            FillGaussian(random, v);
            ReadOnlySpan<float> centre = centres.AsSpan(c * dimension, dimension);
            for (int d = 0; d < dimension; d++)
            {
                v[d] = centre[d] + sigma * v[d];
            }
            VectorMath.Normalize(v);
        }
        return vectors;
    }

    private static void FillGaussian(Random random, Span<float> values)
    {
        for (int i = 0; i < values.Length; i += 2)
        {
            // Box-Muller: two normals from two uniforms.
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            values[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < values.Length)
            {
                values[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
            }
        }
    }

    /// <summary>Mean fraction of each exact top-k found in the approximate top-k (recall@k).</summary>
    public static double Recall(Neighbor[][] approximate, Neighbor[][] exact, int k)
    {
        long found = 0;
        long total = 0;
        for (int q = 0; q < exact.Length; q++)
        {
            int n = Math.Min(k, exact[q].Length);
            total += n;
            for (int i = 0; i < n; i++)
            {
                int id = exact[q][i].Id;
                foreach (Neighbor hit in approximate[q])
                {
                    if (hit.Id == id)
                    {
                        found++;
                        break;
                    }
                }
            }
        }
        return total == 0 ? 1.0 : (double)found / total;
    }
}
