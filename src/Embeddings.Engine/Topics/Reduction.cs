using System.Numerics.Tensors;
using Embeddings.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Embeddings.Topics;

/// <summary>A fitted dimension reduction that maps vectors of the fitted space into the reduced one.</summary>
internal interface IReduction
{
    /// <summary>Input dimension.</summary>
    int InputDimension { get; }

    /// <summary>Output dimension.</summary>
    int OutputDimension { get; }

    /// <summary>Maps unit vectors to the reduced space, returned again as unit vectors (cosine geometry).</summary>
    VectorSet Transform(VectorSet vectors, CancellationToken cancellationToken = default);
}

/// <summary>Fits a reduction; "none" or PCA. Seeded and deterministic.</summary>
internal interface IReducer
{
    /// <summary>Short name ("none", "pca-32").</summary>
    string Name { get; }

    /// <summary>Fits the reduction to <paramref name="vectors"/>.</summary>
    IReduction Fit(VectorSet vectors, int seed, CancellationToken cancellationToken = default);
}

/// <summary>No reduction: vectors pass through unchanged.</summary>
internal sealed class NoReducer : IReducer, IReduction
{
    private NoReducer(int dimension) => InputDimension = dimension;

    /// <summary>The reducer.</summary>
    public static NoReducer Instance { get; } = new(0);

    /// <inheritdoc/>
    public string Name => "none";

    /// <inheritdoc/>
    public int InputDimension { get; }

    /// <inheritdoc/>
    public int OutputDimension => InputDimension;

    /// <inheritdoc/>
    public IReduction Fit(VectorSet vectors, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        return new NoReducer(vectors.Dimension);
    }

    /// <inheritdoc/>
    public VectorSet Transform(VectorSet vectors, CancellationToken cancellationToken = default) => vectors;
}

/// <summary>
/// Principal component analysis by randomised SVD (Halko et al.): a seeded Gaussian sketch, a few power
/// iterations with re-orthonormalisation, and an exact SVD of the small projected matrix (MathNet).
/// Cost O(n d l) per pass instead of the O(n d^2) of a covariance matrix, so 100k x 512 takes seconds.
/// </summary>
internal sealed class PcaReducer : IReducer
{
    /// <summary>Creates a reducer to <paramref name="dimension"/> components.</summary>
    public PcaReducer(int dimension, int powerIterations = 3)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfNegative(powerIterations);
        Dimension = dimension;
        PowerIterations = powerIterations;
    }

    /// <summary>Number of components kept.</summary>
    public int Dimension { get; }

    /// <summary>Power iterations of the randomised range finder (more = more accurate, slower).</summary>
    public int PowerIterations { get; }

    /// <inheritdoc/>
    public string Name => $"pca-{Dimension}";

    /// <inheritdoc/>
    public IReduction Fit(VectorSet vectors, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        int n = vectors.Count, d = vectors.Dimension;
        int r = Math.Min(Dimension, Math.Min(d, Math.Max(1, n)));
        var mean = Mean(vectors, cancellationToken);
        if (n < 2)
        {
            return new PcaReduction(mean, new float[r * d], r);
        }
        int l = Math.Min(Math.Min(d, n), r + 10);
        // Sketch: Omega (l x d), Gaussian, seeded.
        var rng = new Random(seed);
        var omega = new float[l * d];
        for (int i = 0; i < omega.Length; i++)
        {
            omega[i] = (float)Gaussian(rng);
        }
        var y = ProjectRows(vectors, mean, omega, l, cancellationToken); // n x l
        Orthonormalize(y, n, l);
        for (int it = 0; it < PowerIterations; it++)
        {
            var z = ProjectColumns(vectors, mean, y, l, cancellationToken); // l x d  (= Q^T X)
            Orthonormalize(z, d, l, rowsAreColumns: true);
            y = ProjectRows(vectors, mean, z, l, cancellationToken);
            Orthonormalize(y, n, l);
        }
        var b = ProjectColumns(vectors, mean, y, l, cancellationToken); // B = Q^T X, l x d
        var bm = Matrix<double>.Build.Dense(l, d, (i, j) => b[i * d + j]);
        var svd = bm.Svd(computeVectors: true);
        var vt = svd.VT; // d x d (or l x d rows used)
        var components = new float[r * d];
        for (int c = 0; c < r; c++)
        {
            // Fix the sign so the largest-magnitude coordinate is positive: deterministic across runs.
            int argmax = 0;
            double best = -1;
            for (int j = 0; j < d; j++)
            {
                double a = Math.Abs(vt[c, j]);
                if (a > best)
                {
                    best = a;
                    argmax = j;
                }
            }
            double sign = vt[c, argmax] < 0 ? -1 : 1;
            for (int j = 0; j < d; j++)
            {
                components[c * d + j] = (float)(sign * vt[c, j]);
            }
        }
        return new PcaReduction(mean, components, r);
    }

    internal static float[] Mean(VectorSet vectors, CancellationToken cancellationToken)
    {
        int n = vectors.Count, d = vectors.Dimension;
        int chunks = Parallelism.ChunkCount(n, 2048);
        var partial = new double[chunks * d];
        Parallelism.ForChunks(n, chunks, cancellationToken, (c, s, e) =>
        {
            var acc = partial.AsSpan(c * d, d);
            for (int i = s; i < e; i++)
            {
                var row = vectors[i];
                for (int j = 0; j < d; j++)
                {
                    acc[j] += row[j];
                }
            }
        });
        var mean = new float[d];
        for (int j = 0; j < d; j++)
        {
            double sum = 0;
            for (int c = 0; c < chunks; c++)
            {
                sum += partial[c * d + j];
            }
            mean[j] = n == 0 ? 0f : (float)(sum / n);
        }
        return mean;
    }

    /// <summary>Y = (X - mean) W^T for W with <paramref name="l"/> rows of length d; returns n x l row-major.</summary>
    private static double[] ProjectRows(VectorSet x, float[] mean, float[] w, int l, CancellationToken ct)
    {
        int n = x.Count, d = x.Dimension;
        var y = new double[n * l];
        Parallelism.ForChunks(n, Parallelism.ChunkCount(n, 1024), ct, (_, s, e) =>
        {
            var centered = new float[d];
            for (int i = s; i < e; i++)
            {
                TensorPrimitives.Subtract(x[i], mean, centered);
                for (int c = 0; c < l; c++)
                {
                    y[i * l + c] = TensorPrimitives.Dot(centered, w.AsSpan(c * d, d));
                }
            }
        });
        return y;
    }

    private static double[] ProjectRows(VectorSet x, float[] mean, double[] w, int l, CancellationToken ct)
    {
        var wf = new float[w.Length];
        for (int i = 0; i < w.Length; i++)
        {
            wf[i] = (float)w[i];
        }
        return ProjectRows(x, mean, wf, l, ct);
    }

    /// <summary>Z = Q^T (X - mean) for Q (n x l row-major); returns l x d row-major. Chunk partials reduced in order.</summary>
    private static double[] ProjectColumns(VectorSet x, float[] mean, double[] q, int l, CancellationToken ct)
    {
        int n = x.Count, d = x.Dimension;
        int chunks = Parallelism.ChunkCount(n, 2048);
        var partial = new float[chunks * l * d];
        Parallelism.ForChunks(n, chunks, ct, (c, s, e) =>
        {
            var centered = new float[d];
            var acc = partial.AsSpan(c * l * d, l * d);
            for (int i = s; i < e; i++)
            {
                TensorPrimitives.Subtract(x[i], mean, centered);
                for (int k = 0; k < l; k++)
                {
                    var dst = acc.Slice(k * d, d);
                    TensorPrimitives.MultiplyAdd(centered, (float)q[i * l + k], dst, dst);
                }
            }
        });
        var z = new double[l * d];
        for (int c = 0; c < chunks; c++)
        {
            for (int i = 0; i < l * d; i++)
            {
                z[i] += partial[c * l * d + i];
            }
        }
        return z;
    }

    /// <summary>
    /// Modified Gram-Schmidt on the l columns of an m x l row-major matrix (or on the l rows of an l x m matrix
    /// when <paramref name="rowsAreColumns"/>). Degenerate columns become zero.
    /// </summary>
    private static void Orthonormalize(double[] a, int m, int l, bool rowsAreColumns = false)
    {
        // Work on columns as contiguous arrays.
        var cols = new double[l][];
        for (int c = 0; c < l; c++)
        {
            cols[c] = new double[m];
            for (int i = 0; i < m; i++)
            {
                cols[c][i] = rowsAreColumns ? a[c * m + i] : a[i * l + c];
            }
        }
        for (int c = 0; c < l; c++)
        {
            var v = cols[c];
            for (int p = 0; p < c; p++)
            {
                double dot = TensorPrimitives.Dot<double>(v, cols[p]);
                TensorPrimitives.MultiplyAdd<double>(cols[p], -dot, v, v);
            }
            double norm = TensorPrimitives.Norm<double>(v);
            if (norm > 1e-12)
            {
                TensorPrimitives.Divide<double>(v, norm, v);
            }
            else
            {
                Array.Clear(v);
            }
        }
        for (int c = 0; c < l; c++)
        {
            for (int i = 0; i < m; i++)
            {
                if (rowsAreColumns)
                {
                    a[c * m + i] = cols[c][i];
                }
                else
                {
                    a[i * l + c] = cols[c][i];
                }
            }
        }
    }

    private static double Gaussian(Random rng)
    {
        // Box-Muller; Random(seed) is deterministic across runs and platforms in .NET.
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}

/// <summary>A fitted PCA: mean and principal axes (row-major, OutputDimension x InputDimension).</summary>
internal sealed class PcaReduction : IReduction
{
    private readonly float[] _mean;
    private readonly float[] _components;

    internal PcaReduction(float[] mean, float[] components, int outputDimension)
    {
        _mean = mean;
        _components = components;
        OutputDimension = outputDimension;
    }

    /// <inheritdoc/>
    public int InputDimension => _mean.Length;

    /// <inheritdoc/>
    public int OutputDimension { get; }

    /// <summary>Projects onto the axes without renormalising (used for 2-D maps).</summary>
    public float[] Project(VectorSet vectors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Dimension != InputDimension)
        {
            throw new ArgumentException($"vectors have dimension {vectors.Dimension}, the PCA was fitted on {InputDimension}", nameof(vectors));
        }
        int n = vectors.Count, d = InputDimension, r = OutputDimension;
        var output = new float[n * r];
        Parallelism.ForChunks(n, Parallelism.ChunkCount(n, 1024), cancellationToken, (_, s, e) =>
        {
            var centered = new float[d];
            for (int i = s; i < e; i++)
            {
                TensorPrimitives.Subtract(vectors[i], _mean, centered);
                for (int c = 0; c < r; c++)
                {
                    output[i * r + c] = TensorPrimitives.Dot(centered, _components.AsSpan(c * d, d));
                }
            }
        });
        return output;
    }

    /// <inheritdoc/>
    public VectorSet Transform(VectorSet vectors, CancellationToken cancellationToken = default)
    {
        var projected = Project(vectors, cancellationToken);
        return VectorSet.Normalized(projected, OutputDimension);
    }
}
