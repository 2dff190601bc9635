using System.Numerics.Tensors;
using Embeddings.Numerics;

namespace Embeddings.Topics;

/// <summary>
/// 2-D positions for the digest's map: exact t-SNE (van der Maaten and Hinton 2008; perplexity calibration,
/// early exaggeration, momentum with gains) on up to <see cref="MaxPoints"/> papers, started from the 2-D PCA
/// layout instead of random points, so the map is deterministic. Smaller sets fall back to PCA alone when
/// t-SNE has too little to work with (under 5 points).
/// </summary>
internal static class MapProjection
{
    public const int MaxPoints = 1200;

    /// <summary>Positions (x, y interleaved) of the rows of <paramref name="unit"/>, scaled into [0, 1].</summary>
    public static float[] Layout(VectorSet unit, int iterations, CancellationToken ct)
    {
        int n = unit.Count;
        var y = new double[n * 2];
        if (n == 0)
        {
            return [];
        }
        var pca = (PcaReduction)new PcaReducer(2).Fit(unit, seed: 7, ct);
        var init = pca.Project(unit, ct);
        // PCA gives (n x r) with r = 2 unless the dimension is 1.
        for (int i = 0; i < n; i++)
        {
            y[2 * i] = pca.OutputDimension > 0 ? init[i * pca.OutputDimension] : 0;
            y[2 * i + 1] = pca.OutputDimension > 1 ? init[i * pca.OutputDimension + 1] : 0;
        }
        if (n >= 5)
        {
            Tsne(unit, y, iterations, ct);
        }
        return Normalize(y, n);
    }

    private static float[] Normalize(double[] y, int n)
    {
        double minX = double.MaxValue, maxX = double.MinValue, minY = double.MaxValue, maxY = double.MinValue;
        for (int i = 0; i < n; i++)
        {
            minX = Math.Min(minX, y[2 * i]);
            maxX = Math.Max(maxX, y[2 * i]);
            minY = Math.Min(minY, y[2 * i + 1]);
            maxY = Math.Max(maxY, y[2 * i + 1]);
        }
        double span = Math.Max(Math.Max(maxX - minX, maxY - minY), 1e-12);
        var r = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            // Same scale on both axes (no distortion), centred in the unit square.
            r[2 * i] = (float)((y[2 * i] - minX) / span + (1 - (maxX - minX) / span) / 2);
            r[2 * i + 1] = (float)((y[2 * i + 1] - minY) / span + (1 - (maxY - minY) / span) / 2);
        }
        return r;
    }

    private static void Tsne(VectorSet unit, double[] y, int iterations, CancellationToken ct)
    {
        int n = unit.Count;
        double perplexity = Math.Min(30.0, (n - 1) / 3.0);
        var p = new double[n * n];
        Parallelism.ForChunks(n, Parallelism.ChunkCount(n, 32), ct, (_, s, e) =>
        {
            var d = new double[n];
            for (int i = s; i < e; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    d[j] = j == i ? 0 : Math.Max(0, 2 - 2 * TensorPrimitives.Dot(unit[i], unit[j]));
                }
                Calibrate(d, i, perplexity, p.AsSpan(i * n, n));
            }
        });
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                double v = Math.Max((p[i * n + j] + p[j * n + i]) / (2.0 * n), 1e-12);
                p[i * n + j] = v;
                p[j * n + i] = v;
            }
        }
        // Scale the PCA start to a small spread, as t-SNE expects.
        double sd = 0;
        for (int i = 0; i < 2 * n; i++)
        {
            sd += y[i] * y[i];
        }
        sd = Math.Sqrt(sd / (2 * n));
        for (int i = 0; i < 2 * n; i++)
        {
            y[i] = sd > 0 ? y[i] / sd * 1e-4 : 0;
        }
        var gains = new double[2 * n];
        Array.Fill(gains, 1.0);
        var update = new double[2 * n];
        var grad = new double[2 * n];
        int chunks = Parallelism.ChunkCount(n, 32);
        var partialZ = new double[chunks];
        var num = new double[n * n];
        double learningRate = Math.Max(n / 12.0 / 4.0, 50);
        for (int it = 0; it < iterations; it++)
        {
            ct.ThrowIfCancellationRequested();
            double exaggeration = it < 250 ? 12 : 1;
            double momentum = it < 250 ? 0.5 : 0.8;
            Parallelism.ForChunks(n, chunks, ct, (c, s, e) =>
            {
                double z = 0;
                for (int i = s; i < e; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        if (j == i)
                        {
                            num[i * n + j] = 0;
                            continue;
                        }
                        double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
                        double q = 1.0 / (1.0 + dx * dx + dy * dy);
                        num[i * n + j] = q;
                        z += q;
                    }
                }
                partialZ[c] = z;
            });
            double zSum = 0;
            for (int c = 0; c < chunks; c++)
            {
                zSum += partialZ[c];
            }
            Parallelism.ForChunks(n, chunks, ct, (_, s, e) =>
            {
                for (int i = s; i < e; i++)
                {
                    double gx = 0, gy = 0;
                    for (int j = 0; j < n; j++)
                    {
                        double q = num[i * n + j];
                        double mult = (exaggeration * p[i * n + j] - q / zSum) * q;
                        gx += mult * (y[2 * i] - y[2 * j]);
                        gy += mult * (y[2 * i + 1] - y[2 * j + 1]);
                    }
                    grad[2 * i] = 4 * gx;
                    grad[2 * i + 1] = 4 * gy;
                }
            });
            for (int k = 0; k < 2 * n; k++)
            {
                gains[k] = Math.Sign(grad[k]) != Math.Sign(update[k]) ? gains[k] + 0.2 : Math.Max(gains[k] * 0.8, 0.01);
                update[k] = momentum * update[k] - learningRate * gains[k] * grad[k];
                y[k] += update[k];
            }
        }
    }

    /// <summary>Binary search of the Gaussian precision so the conditional distribution has the wanted perplexity.</summary>
    private static void Calibrate(double[] d, int self, double perplexity, Span<double> row)
    {
        double target = Math.Log(perplexity);
        double beta = 1, lo = double.NegativeInfinity, hi = double.PositiveInfinity;
        for (int step = 0; step < 64; step++)
        {
            double sum = 0, weighted = 0;
            for (int j = 0; j < d.Length; j++)
            {
                double v = j == self ? 0 : Math.Exp(-beta * d[j]);
                row[j] = v;
                sum += v;
                weighted += v * d[j];
            }
            if (sum <= 0)
            {
                sum = 1e-12;
            }
            double entropy = Math.Log(sum) + beta * weighted / sum;
            for (int j = 0; j < d.Length; j++)
            {
                row[j] /= sum;
            }
            double diff = entropy - target;
            if (Math.Abs(diff) < 1e-5)
            {
                break;
            }
            if (diff > 0)
            {
                lo = beta;
                beta = double.IsPositiveInfinity(hi) ? beta * 2 : (beta + hi) / 2;
            }
            else
            {
                hi = beta;
                beta = double.IsNegativeInfinity(lo) ? beta / 2 : (beta + lo) / 2;
            }
        }
    }
}
