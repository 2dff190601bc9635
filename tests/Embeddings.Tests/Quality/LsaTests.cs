using Embeddings.Encoding.Lsa;
using Embeddings.Numerics;
using Embeddings.Tests.Support;
using Embeddings.Tokenization;
using MathNet.Numerics.LinearAlgebra;

namespace Embeddings.Tests.Quality;

public sealed class LsaTests
{
    private static float[,] LowRankSparse(int rows, int cols, int rank, int seed)
    {
        var random = new Random(seed);
        var a = new double[rows, rank];
        var b = new double[rank, cols];
        for (int i = 0; i < rows; i++)
        {
            for (int r = 0; r < rank; r++)
            {
                a[i, r] = random.NextDouble() < 0.5 ? 0 : random.NextDouble() * (rank - r);
            }
        }
        for (int r = 0; r < rank; r++)
        {
            for (int j = 0; j < cols; j++)
            {
                b[r, j] = random.NextDouble() < 0.6 ? 0 : random.NextDouble();
            }
        }
        var m = new float[rows, cols];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int r = 0; r < rank; r++)
                {
                    s += a[i, r] * b[r, j];
                }
                // Small noise on some entries so the spectrum has a tail.
                m[i, j] = (float)(s + (random.NextDouble() < 0.05 ? 0.01 * random.NextDouble() : 0));
            }
        }
        return m;
    }

    [Fact]
    public void Randomized_svd_matches_exact_svd_and_is_orthonormal()
    {
        float[,] dense = LowRankSparse(120, 80, 12, seed: 3);
        var x = SparseMatrix.FromDense(dense);
        const int k = 8;
        TruncatedSvd svd = RandomizedSvd.Compute(x, k, oversampling: 10, powerIterations: 4, seed: 1);

        var exact = Matrix<double>.Build.Dense(120, 80, (i, j) => dense[i, j]).Svd(computeVectors: true);
        for (int c = 0; c < k; c++)
        {
            Assert.Equal(exact.S[c], svd.SingularValues[c], exact.S[c] * 1e-4);
        }
        var v = Matrix<double>.Build.Dense(80, k, (j, c) => svd.RightVectors[(j * k) + c]);
        var gram = v.TransposeThisAndMultiply(v);
        for (int a = 0; a < k; a++)
        {
            for (int b = 0; b < k; b++)
            {
                Assert.Equal(a == b ? 1.0 : 0.0, gram[a, b], 1e-4);
            }
        }
        // Reconstruction error of X V Vᵀ equals the best rank-k error sqrt(sum of the other σ²).
        var xm = Matrix<double>.Build.Dense(120, 80, (i, j) => dense[i, j]);
        double error = (xm - (xm * v * v.Transpose())).FrobeniusNorm();
        double best = Math.Sqrt(exact.S.Skip(k).Sum(s => s * s));
        Assert.Equal(best, error, best * 1e-3 + 1e-6);
    }

    [Fact]
    public void Orthonormalize_gives_an_orthonormal_basis_of_the_same_columns_even_when_ill_conditioned()
    {
        var random = new Random(9);
        const int rows = 500, cols = 12;
        var a = new float[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                // Column scales from 1 to 1e-3 and nearly parallel columns: condition number around 1e4.
                a[(i * cols) + j] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, -3.0 * j / (cols - 1)) + (i % 7 == 0 ? 1 : 0));
            }
        }
        float[] q = RandomizedSvd.Orthonormalize(a, rows, cols);
        var qm = Matrix<double>.Build.Dense(rows, cols, (i, j) => q[(i * cols) + j]);
        var am = Matrix<double>.Build.Dense(rows, cols, (i, j) => a[(i * cols) + j]);
        var gram = qm.TransposeThisAndMultiply(qm);
        Assert.True((gram - Matrix<double>.Build.DenseIdentity(cols)).InfinityNorm() < 1e-5);
        // Same column space: projecting A on Q changes nothing.
        double residual = (am - (qm * qm.TransposeThisAndMultiply(am))).FrobeniusNorm() / am.FrobeniusNorm();
        Assert.True(residual < 1e-5, $"residual {residual}");
    }

    private static readonly string[] Corpus =
    [
        "Gene expression of p53 in breast cancer cells and tumour growth.",
        "Breast cancer tumour suppressor genes and p53 mutations.",
        "Insulin resistance and type 2 diabetes in obese patients.",
        "Obesity, insulin and glucose metabolism in diabetes.",
        "Vaccination reduces influenza infection in elderly patients.",
        "Influenza vaccine effectiveness against infection in elderly adults.",
        "Deep brain stimulation for Parkinson disease motor symptoms.",
        "Parkinson disease patients and dopamine treatment of motor symptoms.",
        "Cancer cells metabolism of glucose and tumour growth.",
        "Infection and immune response of patients after vaccination.",
    ];

    [Fact]
    public async Task Projecting_a_training_text_equals_its_fitted_row_and_save_load_round_trips()
    {
        var options = new LsaOptions { Dimensions = 4, MinDocumentFrequency = 2, Seed = 5 };
        using LsaEncoder model = LsaEncoder.Fit(Corpus, options);
        Assert.Equal(4, model.Dimension);
        Assert.StartsWith("lsa-4-", model.Fingerprint, StringComparison.Ordinal);
        var batch = await model.EncodeAsync(Corpus);
        for (int i = 0; i < Corpus.Length; i++)
        {
            for (int c = 0; c < 4; c++)
            {
                Assert.Equal(model.FittedVectors![(i * 4) + c], batch[i][c], 5);
            }
            Assert.Equal(1f, MathF.Sqrt(batch[i].ToArray().Sum(v => v * v)), 4);
        }
        // Related papers land nearer each other than unrelated ones.
        float Cos(int a, int b) => batch[a].ToArray().Zip(batch[b].ToArray(), (p, q) => p * q).Sum();
        Assert.True(Cos(2, 3) > Cos(2, 6));

        using var dir = new TempDir();
        model.Save(dir.Path);
        Assert.True(LsaEncoder.IsLsaModel(dir.Path));
        using LsaEncoder loaded = LsaEncoder.Load(dir.Path);
        Assert.Equal(model.Fingerprint, loaded.Fingerprint);
        var again = await loaded.EncodeAsync(Corpus);
        Assert.Equal(batch.Vectors, again.Vectors);

        // Same data and seed give the same model.
        using LsaEncoder refit = LsaEncoder.Fit(Corpus, options);
        Assert.Equal(model.Fingerprint, refit.Fingerprint);

        var empty = await model.EncodeAsync(["", "zebra xylophone"]);
        Assert.True(empty.IsEmpty[0]);
        Assert.False(empty.IsEmpty[1]);
        Assert.All(empty.Vectors, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Load_detects_corruption_and_wrong_kind()
    {
        using var dir = new TempDir();
        using LsaEncoder model = LsaEncoder.Fit(Corpus, new LsaOptions { Dimensions = 3, Analyzer = new TextAnalyzerOptions { Bigrams = true } });
        model.Save(dir.Path);
        string data = dir.File("lsa.bin");
        byte[] bytes = File.ReadAllBytes(data);
        bytes[bytes.Length - 20] ^= 1;
        File.WriteAllBytes(data, bytes);
        Assert.Throws<ModelLoadException>(() => LsaEncoder.Load(dir.Path));
        File.WriteAllText(dir.File("embeddings-model.json"), "{\"kind\":\"use-lite\"}");
        Assert.False(LsaEncoder.IsLsaModel(dir.Path));
        Assert.Contains("kind", Assert.Throws<ModelLoadException>(() => LsaEncoder.Load(dir.Path)).Message, StringComparison.Ordinal);
    }
}
