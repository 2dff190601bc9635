using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Embeddings.Numerics;

/// <summary>The top right singular vectors and values of a sparse matrix.</summary>
/// <param name="RightVectors">Columns x Rank, row-major: row j holds term j's coordinates.</param>
/// <param name="SingularValues">Rank values, descending.</param>
/// <param name="Rank">Number of singular triplets.</param>
internal sealed record TruncatedSvd(float[] RightVectors, double[] SingularValues, int Rank);

/// <summary>
/// Randomised truncated SVD (Halko, Martinsson and Tropp 2011, algorithms 4.4 and 5.1) on the term
/// side: subspace iteration with the Gram operator XᵀX from a seeded Gaussian start, re-orthonormalised
/// (thin QR) after each step, then a Rayleigh-Ritz step (eigen-decomposition of Qᵀ XᵀX Q) for the
/// singular values and vectors. All dense work is Columns x (rank + oversampling), independent of the
/// number of documents. Signs are fixed so the largest entry of each vector is positive (deterministic).
/// </summary>
internal static class RandomizedSvd
{
    public static TruncatedSvd Compute(SparseMatrix x, int rank, int oversampling, int powerIterations, int seed,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        int limit = Math.Min(x.Rows, x.Columns);
        rank = Math.Min(rank, limit);
        if (rank <= 0)
        {
            throw new ArgumentException("the matrix is empty: nothing to decompose");
        }
        int width = Math.Min(rank + oversampling, x.Columns);
        var random = new Random(seed);
        var q = new float[x.Columns * width];
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = (float)Gaussian(random);
        }
        q = Orthonormalize(q, x.Columns, width);
        long steps = powerIterations + 1;
        for (int it = 0; it < powerIterations; it++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new WorkProgress("svd iterations", it, steps, "steps"));
            q = Orthonormalize(x.GramTimes(q, width, cancellationToken), x.Columns, width);
        }
        float[] w = x.GramTimes(q, width, cancellationToken);
        progress?.Report(new WorkProgress("svd iterations", steps, steps, "steps"));

        // M = Qᵀ W (width x width, symmetric PSD); its eigenpairs give σ² and the rotation within Q.
        Matrix<double> qm = ToMatrix(q, x.Columns, width);
        Matrix<double> m = qm.TransposeThisAndMultiply(ToMatrix(w, x.Columns, width));
        m = (m + m.Transpose()) * 0.5;
        Evd<double> evd = m.Evd(Symmetricity.Symmetric);
        int[] order = Enumerable.Range(0, width).OrderByDescending(i => evd.EigenValues[i].Real).ToArray();
        var rotation = Matrix<double>.Build.Dense(width, rank);
        var singular = new double[rank];
        for (int c = 0; c < rank; c++)
        {
            rotation.SetColumn(c, evd.EigenVectors.Column(order[c]));
            singular[c] = Math.Sqrt(Math.Max(0, evd.EigenValues[order[c]].Real));
        }
        Matrix<double> v = qm * rotation;
        var result = new float[x.Columns * rank];
        for (int c = 0; c < rank; c++)
        {
            Vector<double> column = v.Column(c);
            int largest = column.AbsoluteMaximumIndex();
            double sign = column[largest] < 0 ? -1 : 1;
            for (int j = 0; j < x.Columns; j++)
            {
                result[(j * rank) + c] = (float)(sign * column[j]);
            }
        }
        return new TruncatedSvd(result, singular, rank);
    }

    private static Matrix<double> ToMatrix(float[] rowMajor, int rows, int cols)
    {
        var m = Matrix<double>.Build.Dense(rows, cols);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                m[i, j] = rowMajor[(i * cols) + j];
            }
        }
        return m;
    }

    /// <summary>
    /// Orthonormal basis of the columns of a tall row-major matrix. CholeskyQR2 (Fukaya et al. 2014): the
    /// Gram matrix in double precision, its Cholesky factor R, Q = A R⁻¹, done twice to restore
    /// orthogonality; SIMD over rows, an order of magnitude faster than a managed Householder QR. Falls back
    /// to Householder QR when the Gram matrix is not numerically positive definite.
    /// </summary>
    internal static float[] Orthonormalize(float[] rowMajor, int rows, int cols)
    {
        var a = new double[(long)rows * cols];
        for (long i = 0; i < a.Length; i++)
        {
            a[i] = rowMajor[i];
        }
        if (!CholeskyQrPass(a, rows, cols) || !CholeskyQrPass(a, rows, cols))
        {
            return HouseholderOrthonormalize(rowMajor, rows, cols);
        }
        var result = new float[a.Length];
        for (long i = 0; i < a.Length; i++)
        {
            result[i] = (float)a[i];
        }
        return result;
    }

    private static bool CholeskyQrPass(double[] a, int rows, int cols)
    {
        // G = AᵀA, accumulated per thread over row ranges, then summed.
        int parts = Math.Max(1, Math.Min(Environment.ProcessorCount, rows / 256));
        var partial = new double[parts][];
        Parallel.For(0, parts, p =>
        {
            var g = new double[cols * cols];
            int from = (int)((long)rows * p / parts), to = (int)((long)rows * (p + 1) / parts);
            for (int r = from; r < to; r++)
            {
                ReadOnlySpan<double> row = a.AsSpan(r * cols, cols);
                for (int i = 0; i < cols; i++)
                {
                    double v = row[i];
                    if (v != 0)
                    {
                        // Upper triangle only (j >= i); mirrored below.
                        Span<double> gi = g.AsSpan((i * cols) + i, cols - i);
                        TensorPrimitives.MultiplyAdd(row[i..], v, gi, gi);
                    }
                }
            }
            partial[p] = g;
        });
        var gram = Matrix<double>.Build.Dense(cols, cols);
        for (int i = 0; i < cols; i++)
        {
            for (int j = i; j < cols; j++)
            {
                double sum = 0;
                foreach (double[] g in partial)
                {
                    sum += g[(i * cols) + j];
                }
                gram[i, j] = sum;
                gram[j, i] = sum;
            }
        }
        Matrix<double> rInverse;
        try
        {
            Matrix<double> l = gram.Cholesky().Factor; // G = L Lᵀ, R = Lᵀ
            rInverse = l.Transpose().Inverse();
        }
        catch (ArgumentException)
        {
            return false;
        }
        double[] rinv = rInverse.ToRowMajorArray();
        foreach (double v in rinv)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }
        // A ← A R⁻¹, row by row (R⁻¹ is upper triangular).
        Parallel.For(0, rows, () => new double[cols], (r, _, buffer) =>
        {
            Span<double> row = a.AsSpan(r * cols, cols);
            Span<double> output = buffer;
            output.Clear();
            for (int i = 0; i < cols; i++)
            {
                double v = row[i];
                if (v != 0)
                {
                    TensorPrimitives.MultiplyAdd(rinv.AsSpan((i * cols) + i, cols - i), v, output[i..], output[i..]);
                }
            }
            output.CopyTo(row);
            return buffer;
        }, _ => { });
        return true;
    }

    private static float[] HouseholderOrthonormalize(float[] rowMajor, int rows, int cols)
    {
        Matrix<double> q = ToMatrix(rowMajor, rows, cols).QR(QRMethod.Thin).Q;
        var result = new float[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                result[(i * cols) + j] = (float)q[i, j];
            }
        }
        return result;
    }

    private static double Gaussian(Random random)
    {
        // Box-Muller: two uniforms give one standard normal (the second is not needed here).
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
