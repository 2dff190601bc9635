using System.Numerics.Tensors;
using Embeddings.Numerics;

namespace Embeddings.Topics;

/// <summary>How k-means picks k when <see cref="KMeansOptions.K"/> is not given.</summary>
internal enum KSelection
{
    /// <summary>
    /// k = sqrt(n / 2) (Mardia et al.), capped by <see cref="KMeansOptions.MaxK"/>: the default, because on the
    /// daily-papers dumps the silhouette of text vectors picked 2 topics of 236 papers (hybrid and USE-lite alike)
    /// or, searched further, its upper bound, neither of which makes a readable digest.
    /// </summary>
    RuleOfThumb,

    /// <summary>Highest mean silhouette (cosine) on a sample.</summary>
    Silhouette,

    /// <summary>The elbow (knee) of the inertia curve.</summary>
    Elbow,
}

/// <summary>Options of <see cref="KMeansClusterer"/>.</summary>
internal sealed record KMeansOptions
{
    /// <summary>Number of clusters; null = search <see cref="MinK"/>..<see cref="MaxK"/> by <see cref="Selection"/>.</summary>
    public int? K { get; init; }

    /// <summary>Smallest k tried by the search.</summary>
    public int MinK { get; init; } = 2;

    /// <summary>Largest k tried by the search (also capped at n / 5).</summary>
    public int MaxK { get; init; } = 40;

    /// <summary>How k is chosen when not given.</summary>
    public KSelection Selection { get; init; } = KSelection.RuleOfThumb;

    /// <summary>Independent seedings; the run with the lowest inertia wins.</summary>
    public int Restarts { get; init; } = 4;

    /// <summary>Maximum Lloyd iterations per run.</summary>
    public int MaxIterations { get; init; } = 60;

    /// <summary>Stop when the relative inertia improvement falls below this.</summary>
    public double Tolerance { get; init; } = 1e-4;

    /// <summary>At or above this many vectors, mini-batch updates replace most full Lloyd passes.</summary>
    public int MiniBatchThreshold { get; init; } = 30_000;

    /// <summary>Mini-batch size.</summary>
    public int BatchSize { get; init; } = 4096;

    /// <summary>
    /// A previous partition to start from (per row: its earlier cluster, or -1 for a row the earlier run did not
    /// have): one more run is seeded with the earlier clusters' means (the largest k of them; k-means++ adds the rest)
    /// and wins unless its inertia is more than <see cref="WarmStartSlack"/> worse than the best fresh run's, so
    /// clusters that still hold persist from one run to the next instead of being reshuffled by a new seeding, but
    /// never at the price of a worse partition (a warm start from few large topics can keep them too large).
    /// </summary>
    public IReadOnlyList<int>? InitialLabels { get; init; }

    /// <summary>How much more inertia (relative) the warm-started run may have and still be kept.</summary>
    public double WarmStartSlack { get; init; }
}

/// <summary>
/// k-means on unit vectors (squared Euclidean = 2 - 2 cos): greedy k-means++ seeding, several restarts keeping
/// the lowest inertia, mini-batch updates then full Lloyd polishing for large sets, k chosen by option or by a
/// sampled silhouette / elbow search. Distance loops use TensorPrimitives; parallel chunks are reduced in order.
/// </summary>
internal sealed class KMeansClusterer : IClusterer
{
    private const int SeedingSampleLimit = 20_000;

    /// <summary>Creates the clusterer.</summary>
    public KMeansClusterer(KMeansOptions? options = null) => Options = options ?? new KMeansOptions();

    /// <summary>The options.</summary>
    public KMeansOptions Options { get; }

    /// <inheritdoc/>
    public string Name => "kmeans";

    /// <summary>The k chosen by the last search (or the fixed k); for reports.</summary>
    public static int ChooseK(VectorSet vectors, KMeansOptions options, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(options);
        int n = vectors.Count;
        if (options.K is int fixedK)
        {
            return Math.Clamp(fixedK, 1, Math.Max(1, n));
        }
        int maxK = Math.Min(options.MaxK, Math.Max(1, n / 5));
        if (options.Selection == KSelection.RuleOfThumb)
        {
            return Math.Clamp((int)Math.Round(Math.Sqrt(n / 2.0)), 1, Math.Max(1, maxK));
        }
        int minK = Math.Min(Math.Max(1, options.MinK), maxK);
        if (maxK <= minK)
        {
            return Math.Max(1, maxK);
        }
        var candidates = Candidates(minK, maxK);
        // Search on a sample: the shape of the curve is what matters, not the exact optimum.
        var rng = new Random(seed ^ 0x5EED);
        int sampleSize = Math.Min(n, 3000);
        var sample = vectors.Select(SampleRows(n, sampleSize, rng));
        var quick = options with { Restarts = 1, MaxIterations = 30, K = null };
        float[]? distances = options.Selection == KSelection.Silhouette ? PairwiseCosineDistances(sample, cancellationToken) : null;
        var scores = new double[candidates.Count];
        for (int c = 0; c < candidates.Count; c++)
        {
            var run = Fit(sample, candidates[c], quick, seed, cancellationToken);
            scores[c] = distances is null ? run.Inertia : Silhouette(distances, sample.Count, run.Labels, candidates[c]);
        }
        if (options.Selection == KSelection.Silhouette)
        {
            int best = 0;
            for (int c = 1; c < candidates.Count; c++)
            {
                if (scores[c] > scores[best])
                {
                    best = c;
                }
            }
            return candidates[best];
        }
        return candidates[Knee(candidates, scores)];
    }

    /// <inheritdoc/>
    public ClusterAssignment Cluster(VectorSet vectors, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        int n = vectors.Count;
        if (n == 0)
        {
            return new ClusterAssignment([], 0);
        }
        int k = ChooseK(vectors, Options, seed, cancellationToken);
        var result = Fit(vectors, k, Options, seed, cancellationToken);
        var strengths = new float[n];
        for (int i = 0; i < n; i++)
        {
            strengths[i] = Math.Clamp(TensorPrimitives.CosineSimilarity(vectors[i], result.Centers.AsSpan(result.Labels[i] * vectors.Dimension, vectors.Dimension)), 0f, 1f);
        }
        return new ClusterAssignment(result.Labels, k, strengths);
    }

    /// <summary>One k-means fit (best of the restarts).</summary>
    internal static KMeansResult Fit(VectorSet vectors, int k, KMeansOptions options, int seed, CancellationToken ct)
    {
        int n = vectors.Count;
        k = Math.Clamp(k, 1, n);
        KMeansResult? best = null;
        for (int restart = 0; restart < Math.Max(1, options.Restarts); restart++)
        {
            var rng = new Random(unchecked(seed * 1_000_003 + restart * 7919 + 0x6B6D));
            float[] centers = SeedPlusPlus(vectors, k, rng, ct);
            if (n >= options.MiniBatchThreshold)
            {
                MiniBatch(vectors, centers, k, options, rng, ct);
            }
            var run = Lloyd(vectors, centers, k, n >= options.MiniBatchThreshold ? 3 : options.MaxIterations, options.Tolerance, ct);
            if (best is null || run.Inertia < best.Inertia)
            {
                best = run;
            }
        }
        if (options.InitialLabels is { } initial && initial.Count == n && initial.Any(l => l >= 0))
        {
            var rng = new Random(unchecked(seed * 1_000_003 + 0x5741));
            float[] centers = SeedFromPartition(vectors, initial, k, rng, ct);
            var warm = Lloyd(vectors, centers, k, n >= options.MiniBatchThreshold ? 3 : options.MaxIterations, options.Tolerance, ct);
            if (warm.Inertia <= best!.Inertia * (1 + options.WarmStartSlack))
            {
                best = warm;
            }
        }
        return best!;
    }

    /// <summary>Centres from an earlier partition (the means of its largest k clusters), the rest by k-means++ sampling.</summary>
    internal static float[] SeedFromPartition(VectorSet vectors, IReadOnlyList<int> initial, int k, Random rng, CancellationToken ct)
    {
        int n = vectors.Count, d = vectors.Dimension;
        var sums = new Dictionary<int, (double[] Sum, int Count)>();
        for (int i = 0; i < n; i++)
        {
            int l = initial[i];
            if (l < 0)
            {
                continue;
            }
            if (!sums.TryGetValue(l, out var acc))
            {
                acc = (new double[d], 0);
            }
            ReadOnlySpan<float> row = vectors[i];
            for (int j = 0; j < d; j++)
            {
                acc.Sum[j] += row[j];
            }
            sums[l] = (acc.Sum, acc.Count + 1);
        }
        var groups = sums.OrderByDescending(g => g.Value.Count).ThenBy(g => g.Key).Take(k).ToList();
        var centers = new float[k * d];
        for (int c = 0; c < groups.Count; c++)
        {
            var (sum, count) = groups[c].Value;
            for (int j = 0; j < d; j++)
            {
                centers[c * d + j] = (float)(sum[j] / count);
            }
        }
        var minDist = new float[n];
        var dist = new float[n];
        Array.Fill(minDist, float.MaxValue);
        for (int c = 0; c < groups.Count; c++)
        {
            DistancesTo(vectors, centers.AsSpan(c * d, d), dist, ct);
            TensorPrimitives.Min(dist, minDist, minDist);
        }
        for (int c = groups.Count; c < k; c++)
        {
            double total = Sum(minDist);
            int pick = total > 0 ? SampleProportional(minDist, total, rng) : rng.Next(n);
            vectors[pick].CopyTo(centers.AsSpan(c * d, d));
            DistancesTo(vectors, vectors[pick], dist, ct);
            TensorPrimitives.Min(dist, minDist, minDist);
        }
        return centers;
    }

    /// <summary>Greedy k-means++ (2 + ln k candidates per step, the one that lowers the potential most), on a sample for large n.</summary>
    internal static float[] SeedPlusPlus(VectorSet all, int k, Random rng, CancellationToken ct)
    {
        var vectors = all.Count > SeedingSampleLimit ? all.Select(SampleRows(all.Count, SeedingSampleLimit, rng)) : all;
        int n = vectors.Count, d = vectors.Dimension;
        var centers = new float[k * d];
        var minDist = new float[n];
        var candDist = new float[n];
        var bestCandDist = new float[n];
        int first = rng.Next(n);
        vectors[first].CopyTo(centers.AsSpan(0, d));
        DistancesTo(vectors, vectors[first], minDist, ct);
        int trials = 2 + (int)Math.Log(k);
        for (int c = 1; c < k; c++)
        {
            double total = Sum(minDist);
            int bestCand = -1;
            double bestPotential = double.MaxValue;
            for (int t = 0; t < trials; t++)
            {
                int cand = total > 0 ? SampleProportional(minDist, total, rng) : rng.Next(n);
                DistancesTo(vectors, vectors[cand], candDist, ct);
                TensorPrimitives.Min(candDist, minDist, candDist);
                double potential = Sum(candDist);
                if (potential < bestPotential)
                {
                    bestPotential = potential;
                    bestCand = cand;
                    candDist.CopyTo(bestCandDist, 0);
                }
            }
            vectors[bestCand].CopyTo(centers.AsSpan(c * d, d));
            bestCandDist.CopyTo(minDist, 0);
        }
        return centers;
    }

    private static void DistancesTo(VectorSet vectors, ReadOnlySpan<float> center, float[] output, CancellationToken ct)
    {
        var c = center.ToArray();
        int n = vectors.Count;
        Parallelism.ForChunks(n, Parallelism.ChunkCount(n, 4096), ct, (_, s, e) =>
        {
            for (int i = s; i < e; i++)
            {
                float dist = TensorPrimitives.Distance(vectors[i], c);
                output[i] = dist * dist;
            }
        });
    }

    private static double Sum(float[] values)
    {
        double s = 0;
        foreach (float v in values)
        {
            s += v;
        }
        return s;
    }

    private static int SampleProportional(float[] weights, double total, Random rng)
    {
        double target = rng.NextDouble() * total;
        double acc = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            acc += weights[i];
            if (acc > target)
            {
                return i;
            }
        }
        for (int i = weights.Length - 1; i >= 0; i--)
        {
            if (weights[i] > 0)
            {
                return i;
            }
        }
        return weights.Length - 1;
    }

    /// <summary>Sculley's mini-batch k-means with per-centre learning rates 1/count.</summary>
    private static void MiniBatch(VectorSet vectors, float[] centers, int k, KMeansOptions options, Random rng, CancellationToken ct)
    {
        int n = vectors.Count, d = vectors.Dimension;
        int batch = Math.Min(options.BatchSize, n);
        int steps = Math.Clamp(3 * n / batch, 20, 300);
        var counts = new long[k];
        var rows = new int[batch];
        var labels = new int[batch];
        var centerNorms = new float[k];
        for (int step = 0; step < steps; step++)
        {
            ct.ThrowIfCancellationRequested();
            for (int b = 0; b < batch; b++)
            {
                rows[b] = rng.Next(n);
            }
            for (int c = 0; c < k; c++)
            {
                var cs = centers.AsSpan(c * d, d);
                centerNorms[c] = TensorPrimitives.Dot(cs, cs);
            }
            Parallelism.ForChunks(batch, Parallelism.ChunkCount(batch, 256), ct, (_, s, e) =>
            {
                for (int b = s; b < e; b++)
                {
                    labels[b] = Nearest(vectors[rows[b]], centers, centerNorms, k, d, out float _);
                }
            });
            for (int b = 0; b < batch; b++)
            {
                int c = labels[b];
                counts[c]++;
                float eta = 1f / counts[c];
                var cs = centers.AsSpan(c * d, d);
                // c <- (1 - eta) c + eta x
                TensorPrimitives.Multiply(cs, 1f - eta, cs);
                TensorPrimitives.MultiplyAdd(vectors[rows[b]], eta, cs, cs);
            }
        }
    }

    /// <summary>Lloyd iterations from <paramref name="centers"/>; ends with labels consistent with the returned centres.</summary>
    internal static KMeansResult Lloyd(VectorSet vectors, float[] centers, int k, int maxIterations, double tolerance, CancellationToken ct)
    {
        int n = vectors.Count, d = vectors.Dimension;
        var labels = new int[n];
        var dist = new float[n];
        int chunks = Parallelism.ChunkCount(n, 2048);
        var sums = new float[chunks * k * d];
        var counts = new int[chunks * k];
        var centerNorms = new float[k];
        double previous = double.MaxValue;
        double inertia = 0;
        for (int iter = 0; ; iter++)
        {
            for (int c = 0; c < k; c++)
            {
                var cs = centers.AsSpan(c * d, d);
                centerNorms[c] = TensorPrimitives.Dot(cs, cs);
            }
            Array.Clear(sums);
            Array.Clear(counts);
            Parallelism.ForChunks(n, chunks, ct, (chunk, s, e) =>
            {
                var mySums = sums.AsSpan(chunk * k * d, k * d);
                var myCounts = counts.AsSpan(chunk * k, k);
                for (int i = s; i < e; i++)
                {
                    var x = vectors[i];
                    int best = Nearest(x, centers, centerNorms, k, d, out float sq);
                    labels[i] = best;
                    dist[i] = sq;
                    var dst = mySums.Slice(best * d, d);
                    TensorPrimitives.Add(dst, x, dst);
                    myCounts[best]++;
                }
            });
            inertia = 0;
            for (int i = 0; i < n; i++)
            {
                inertia += dist[i];
            }
            bool converged = previous - inertia <= tolerance * Math.Max(inertia, 1e-12);
            if (iter >= maxIterations || converged)
            {
                break;
            }
            previous = inertia;
            // Update: reduce chunk partials in chunk order (deterministic float sums).
            var total = new int[k];
            for (int c = 0; c < k; c++)
            {
                var cs = centers.AsSpan(c * d, d);
                cs.Clear();
                for (int chunk = 0; chunk < chunks; chunk++)
                {
                    TensorPrimitives.Add(cs, sums.AsSpan((chunk * k + c) * d, d), cs);
                    total[c] += counts[chunk * k + c];
                }
                if (total[c] > 0)
                {
                    TensorPrimitives.Divide(cs, total[c], cs);
                }
            }
            // Empty clusters take the points farthest from their centres (lowest index on ties).
            for (int c = 0; c < k; c++)
            {
                if (total[c] > 0)
                {
                    continue;
                }
                int far = 0;
                for (int i = 1; i < n; i++)
                {
                    if (dist[i] > dist[far])
                    {
                        far = i;
                    }
                }
                vectors[far].CopyTo(centers.AsSpan(c * d, d));
                dist[far] = 0;
            }
        }
        return new KMeansResult(labels, centers, inertia);
    }

    /// <summary>Index of the nearest centre by squared Euclidean distance, for a unit vector x: |c|^2 - 2 x.c + 1.</summary>
    internal static int Nearest(ReadOnlySpan<float> x, float[] centers, float[] centerNorms, int k, int d, out float squaredDistance)
    {
        int best = 0;
        float bestScore = float.MaxValue;
        for (int c = 0; c < k; c++)
        {
            float score = centerNorms[c] - 2f * TensorPrimitives.Dot(x, centers.AsSpan(c * d, d));
            if (score < bestScore)
            {
                bestScore = score;
                best = c;
            }
        }
        squaredDistance = Math.Max(0f, bestScore + TensorPrimitives.Dot(x, x));
        return best;
    }

    internal static List<int> Candidates(int minK, int maxK)
    {
        var list = new List<int>();
        if (maxK - minK <= 14)
        {
            for (int k = minK; k <= maxK; k++)
            {
                list.Add(k);
            }
            return list;
        }
        double ratio = Math.Pow((double)maxK / minK, 1.0 / 14);
        double v = minK;
        while ((int)Math.Round(v) <= maxK)
        {
            int k = (int)Math.Round(v);
            if (list.Count == 0 || list[^1] != k)
            {
                list.Add(k);
            }
            v *= ratio;
        }
        if (list[^1] != maxK)
        {
            list.Add(maxK);
        }
        return list;
    }

    internal static int[] SampleRows(int n, int size, Random rng)
    {
        if (size >= n)
        {
            var all = new int[n];
            for (int i = 0; i < n; i++)
            {
                all[i] = i;
            }
            return all;
        }
        // Partial Fisher-Yates, then sorted so sample order follows the input.
        var perm = new int[n];
        for (int i = 0; i < n; i++)
        {
            perm[i] = i;
        }
        for (int i = 0; i < size; i++)
        {
            int j = i + rng.Next(n - i);
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
        var rows = perm.AsSpan(0, size).ToArray();
        Array.Sort(rows);
        return rows;
    }

    internal static float[] PairwiseCosineDistances(VectorSet v, CancellationToken ct)
    {
        int n = v.Count;
        var dist = new float[n * n];
        Parallelism.ForChunks(n, Parallelism.ChunkCount(n, 64), ct, (_, s, e) =>
        {
            for (int i = s; i < e; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    dist[i * n + j] = Math.Max(0f, 1f - TensorPrimitives.Dot(v[i], v[j]));
                }
            }
        });
        return dist;
    }

    /// <summary>Mean silhouette over a precomputed distance matrix; outliers (-1) are skipped.</summary>
    internal static double Silhouette(float[] dist, int n, IReadOnlyList<int> labels, int k)
    {
        var sizes = new int[k];
        for (int i = 0; i < n; i++)
        {
            if (labels[i] >= 0)
            {
                sizes[labels[i]]++;
            }
        }
        var perCluster = new double[k];
        double total = 0;
        int counted = 0;
        for (int i = 0; i < n; i++)
        {
            int li = labels[i];
            if (li < 0)
            {
                continue;
            }
            Array.Clear(perCluster);
            for (int j = 0; j < n; j++)
            {
                if (labels[j] >= 0)
                {
                    perCluster[labels[j]] += dist[i * n + j];
                }
            }
            counted++;
            if (sizes[li] <= 1)
            {
                continue; // silhouette of a singleton is 0
            }
            double a = perCluster[li] / (sizes[li] - 1);
            double b = double.MaxValue;
            for (int c = 0; c < k; c++)
            {
                if (c != li && sizes[c] > 0)
                {
                    b = Math.Min(b, perCluster[c] / sizes[c]);
                }
            }
            if (b == double.MaxValue)
            {
                continue;
            }
            double m = Math.Max(a, b);
            total += m > 0 ? (b - a) / m : 0;
        }
        return counted == 0 ? 0 : total / counted;
    }

    /// <summary>Kneedle: the candidate farthest below the chord joining the first and last points of the curve.</summary>
    internal static int Knee(List<int> ks, double[] inertia)
    {
        int m = ks.Count;
        if (m < 3)
        {
            return m - 1;
        }
        double x0 = ks[0], x1 = ks[^1], y0 = inertia[0], y1 = inertia[^1];
        int best = 0;
        double bestGap = double.MinValue;
        for (int i = 0; i < m; i++)
        {
            double xn = (ks[i] - x0) / (x1 - x0);
            double yn = y0 == y1 ? 0 : (inertia[i] - y1) / (y0 - y1);
            double gap = (1 - xn) - yn; // chord from (0,1) to (1,0) minus the curve
            if (gap > bestGap)
            {
                bestGap = gap;
                best = i;
            }
        }
        return best;
    }
}

/// <summary>Labels, centres (k x d row-major) and inertia of one k-means fit.</summary>
internal sealed record KMeansResult(int[] Labels, float[] Centers, double Inertia);
