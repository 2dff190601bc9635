using System.Runtime.Intrinsics.X86;
using Embeddings.Index;

namespace Embeddings.Tests.Index;

public sealed unsafe class ScalarQuantizerTests
{
    [Fact]
    public void Every_kernel_computes_the_exact_integer_dot_product()
    {
        var random = new Random(5);
        foreach (int length in new[] { 16, 32, 48, 64, 112, 128, 384, 400, 512, 784 })
        {
            byte[] codes = new byte[length];
            sbyte[] weights = new sbyte[length];
            random.NextBytes(codes);
            for (int i = 0; i < length; i++)
            {
                weights[i] = (sbyte)random.Next(-128, 128);
            }
            // The extremes, where a saturating instruction would go wrong.
            codes[0] = 255;
            weights[0] = -128;
            codes[1] = 255;
            weights[1] = 127;
            long expected = 0;
            for (int i = 0; i < length; i++)
            {
                expected += codes[i] * weights[i];
            }
            fixed (byte* c = codes)
            fixed (sbyte* w = weights)
            {
                Assert.Equal(expected, ScalarQuantizer.DotPortable(c, w, length));
                Assert.Equal(expected, ScalarQuantizer.Dot(c, w, length));
                if (Avx2.IsSupported)
                {
                    Assert.Equal(expected, ScalarQuantizer.DotAvx2(c, w, length));
                }
                if (AvxVnni.IsSupported)
                {
                    Assert.Equal(expected, ScalarQuantizer.DotAvxVnni(c, w, length));
                }
            }
        }
    }

    [Fact]
    public void Scores_of_codes_are_close_to_the_exact_inner_products()
    {
        const int dim = 100;
        float[] vectors = SyntheticVectors.Clustered(2000, dim, clusters: 20, seed: 3);
        var quantizer = new ScalarQuantizer(dim);
        var min = new float[dim];
        var max = new float[dim];
        Array.Fill(min, float.PositiveInfinity);
        Array.Fill(max, float.NegativeInfinity);
        for (int i = 0; i < 2000; i++)
        {
            for (int d = 0; d < dim; d++)
            {
                min[d] = Math.Min(min[d], vectors[i * dim + d]);
                max[d] = Math.Max(max[d], vectors[i * dim + d]);
            }
        }
        quantizer.SetRanges(min, max, 2000);
        byte[] codes = new byte[quantizer.CodeLength];
        sbyte[] weights = new sbyte[quantizer.CodeLength];
        float[] scratch = new float[2 * dim];
        double worst = 0;
        fixed (byte* c = codes)
        fixed (sbyte* w = weights)
        {
            for (int i = 0; i < 200; i++)
            {
                ReadOnlySpan<float> q = vectors.AsSpan(i * dim, dim);
                HnswQuery prepared = quantizer.Prepare(q, w, scratch);
                for (int j = 1000; j < 1100; j++)
                {
                    ReadOnlySpan<float> x = vectors.AsSpan(j * dim, dim);
                    quantizer.Encode(x, c);
                    float exact = VectorMath.Dot(q, x);
                    worst = Math.Max(worst, Math.Abs(ScalarQuantizer.Score(prepared, c) - exact));
                }
            }
        }
        Assert.True(worst < 0.02, $"largest error {worst:F4}");
    }
}
