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
        return FitUnitSquare(y, n);
    }

    private static float[] FitUnitSquare(double[] y, int n)
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

    /// <summary>
    /// Makes topics regions of the map: each topic's points are drawn towards the topic's median position (keeping
    /// their arrangement inside it), then topic discs (radius from the topic's size) that overlap are pushed apart,
    /// and the whole is scaled back into [0, 1]. Outliers (topic &lt; 0) keep their place. Deterministic.
    /// </summary>
    /// <param name="xy">Positions, x and y interleaved, in [0, 1]; changed in place.</param>
    /// <param name="topic">Per point: its topic index (0..topics-1) or -1.</param>
    /// <param name="topics">Number of topics.</param>
    public static void SeparateTopics(float[] xy, IReadOnlyList<int> topic, int topics)
    {
        int n = topic.Count;
        if (topics < 2 || n < 3)
        {
            return;
        }
        var centre = new double[2 * topics];
        var count = new int[topics];
        var members = new List<int>[topics];
        for (int t = 0; t < topics; t++)
        {
            members[t] = [];
        }
        for (int i = 0; i < n; i++)
        {
            if (topic[i] >= 0)
            {
                members[topic[i]].Add(i);
            }
        }
        for (int t = 0; t < topics; t++)
        {
            count[t] = members[t].Count;
            if (count[t] == 0)
            {
                continue;
            }
            // The median is robust to the few points t-SNE strands far from their topic.
            centre[2 * t] = Median(members[t].Select(i => (double)xy[2 * i]));
            centre[2 * t + 1] = Median(members[t].Select(i => (double)xy[2 * i + 1]));
        }
        // Disc radius: area proportional to the topic's papers, the discs together covering about a third of the map.
        double total = count.Sum();
        var radius = new double[topics];
        for (int t = 0; t < topics; t++)
        {
            radius[t] = Math.Sqrt(0.33 * count[t] / total / Math.PI);
        }
        // Each point: its offset from the topic centre, scaled so the topic's 90th-percentile point sits on the disc's edge.
        var offset = new double[2 * n];
        for (int t = 0; t < topics; t++)
        {
            if (count[t] == 0)
            {
                continue;
            }
            var distances = members[t].Select(i => Math.Sqrt(Sq(xy[2 * i] - centre[2 * t]) + Sq(xy[2 * i + 1] - centre[2 * t + 1]))).OrderBy(d => d).ToList();
            double spread = Math.Max(1e-6, distances[(int)(0.9 * (distances.Count - 1))]);
            foreach (int i in members[t])
            {
                double dx = (xy[2 * i] - centre[2 * t]) / spread, dy = (xy[2 * i + 1] - centre[2 * t + 1]) / spread;
                double len = Math.Sqrt(dx * dx + dy * dy);
                if (len > 1.15)
                {
                    // A straggler: on the disc's rim, in its own direction.
                    dx *= 1.15 / len;
                    dy *= 1.15 / len;
                }
                offset[2 * i] = dx * radius[t];
                offset[2 * i + 1] = dy * radius[t];
            }
        }
        // Push overlapping discs apart (a fixed number of rounds, pairs in index order: deterministic).
        const double gap = 0.012;
        for (int round = 0; round < 300; round++)
        {
            bool moved = false;
            for (int a = 0; a < topics; a++)
            {
                for (int b = a + 1; b < topics; b++)
                {
                    if (count[a] == 0 || count[b] == 0)
                    {
                        continue;
                    }
                    double dx = centre[2 * b] - centre[2 * a], dy = centre[2 * b + 1] - centre[2 * a + 1];
                    double d = Math.Sqrt(dx * dx + dy * dy);
                    double need = radius[a] + radius[b] + gap;
                    if (d >= need)
                    {
                        continue;
                    }
                    double ux, uy;
                    if (d < 1e-9)
                    {
                        // Same place: split along a fixed direction that depends on the pair.
                        double angle = (a * 7 + b * 13) % 360 * Math.PI / 180;
                        ux = Math.Cos(angle);
                        uy = Math.Sin(angle);
                    }
                    else
                    {
                        ux = dx / d;
                        uy = dy / d;
                    }
                    double push = need - d;
                    double wa = (double)count[b] / (count[a] + count[b]), wb = 1 - wa; // the smaller topic moves more
                    centre[2 * a] -= ux * push * wa;
                    centre[2 * a + 1] -= uy * push * wa;
                    centre[2 * b] += ux * push * wb;
                    centre[2 * b + 1] += uy * push * wb;
                    moved = true;
                }
            }
            if (!moved)
            {
                break;
            }
        }
        for (int i = 0; i < n; i++)
        {
            int t = topic[i];
            if (t >= 0)
            {
                xy[2 * i] = (float)(centre[2 * t] + offset[2 * i]);
                xy[2 * i + 1] = (float)(centre[2 * t + 1] + offset[2 * i + 1]);
            }
        }
        Rescale(xy);
    }

    private static double Sq(double x) => x * x;

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : 0.5 * (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]);
    }

    /// <summary>Scales positions into [0, 1] keeping the aspect ratio (the longer side spans 0..1, the shorter is centred).</summary>
    private static void Rescale(float[] xy)
    {
        float minX = float.MaxValue, maxX = float.MinValue, minY = float.MaxValue, maxY = float.MinValue;
        for (int i = 0; i < xy.Length; i += 2)
        {
            minX = Math.Min(minX, xy[i]);
            maxX = Math.Max(maxX, xy[i]);
            minY = Math.Min(minY, xy[i + 1]);
            maxY = Math.Max(maxY, xy[i + 1]);
        }
        float span = Math.Max(Math.Max(maxX - minX, maxY - minY), 1e-6f);
        float shiftX = (span - (maxX - minX)) / 2, shiftY = (span - (maxY - minY)) / 2;
        for (int i = 0; i < xy.Length; i += 2)
        {
            xy[i] = (xy[i] - minX + shiftX) / span;
            xy[i + 1] = (xy[i + 1] - minY + shiftY) / span;
        }
    }
}
