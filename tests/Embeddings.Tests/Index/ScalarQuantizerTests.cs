using System.Runtime.Intrinsics.X86;
using Embeddings.Index;
using Embeddings.Numerics;

namespace Embeddings.Tests.Index;

public sealed unsafe class ScalarQuantizerTests
{
    [Fact]
    public void Every_kernel_computes_both_exact_integer_dot_products()
    {
        var random = new Random(5);
        foreach (int length in new[] { 16, 32, 48, 64, 112, 128, 384, 400, 512, 784 })
        {
            byte[] codes = new byte[length];
            sbyte[] high = new sbyte[length];
            sbyte[] low = new sbyte[length];
            random.NextBytes(codes);
            for (int i = 0; i < length; i++)
            {
                high[i] = (sbyte)random.Next(-128, 128);
                low[i] = (sbyte)random.Next(-64, 65);
            }
            // The extremes, where a saturating instruction would go wrong.
            (codes[0], high[0], codes[1], high[1]) = (255, -128, 255, 127);
            long expectedHigh = 0, expectedLow = 0;
            for (int i = 0; i < length; i++)
            {
                expectedHigh += codes[i] * high[i];
                expectedLow += codes[i] * low[i];
            }
            fixed (byte* c = codes)
            fixed (sbyte* h = high)
            fixed (sbyte* l = low)
            {
                var kernels = new List<(string Name, int High, int Low)>();
                kernels.Add(("portable", ScalarQuantizer.DotPortable(c, h, l, length, out int lowPortable), lowPortable));
                kernels.Add(("dispatched", ScalarQuantizer.Dot(c, h, l, length, out int lowDispatched), lowDispatched));
                if (Avx2.IsSupported)
                {
                    kernels.Add(("avx2", ScalarQuantizer.DotAvx2(c, h, l, length, out int lowAvx2), lowAvx2));
                }
                if (AvxVnni.IsSupported)
                {
                    kernels.Add(("avx-vnni", ScalarQuantizer.DotAvxVnni(c, h, l, length, out int lowVnni), lowVnni));
                }
                foreach ((string name, int sumHigh, int sumLow) in kernels)
                {
                    Assert.True(sumHigh == expectedHigh && sumLow == expectedLow, $"{name} at length {length}: {sumHigh}/{sumLow}, expected {expectedHigh}/{expectedLow}");
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
        sbyte[] weights = new sbyte[2 * quantizer.CodeLength];
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
        // Codes of 1/255 of each range: errors of a few thousandths on these unit vectors (measured: 0.004).
        Assert.True(worst < 0.01, $"largest error {worst:F4}");
    }
}
