using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Numerics.Tensors;

namespace Embeddings.Index;

/// <summary>
/// The inner product on raw pointers, the one operation every index search spends its time in.
/// Hand-written SIMD with four independent accumulators so the FMA latency is hidden; the tail
/// falls back to scalar code, so any dimension works.
/// </summary>
internal static unsafe class VectorMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            return Dot512(a, b, n);
        }
        if (Vector256.IsHardwareAccelerated && n >= 16)
        {
            return Dot256(a, b, n);
        }
        return TensorPrimitives.Dot(new ReadOnlySpan<float>(a, n), new ReadOnlySpan<float>(b, n));
    }

    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        fixed (float* pa = a)
        fixed (float* pb = b)
        {
            return Dot(pa, pb, Math.Min(a.Length, b.Length));
        }
    }

    private static float Dot512(float* a, float* b, int n)
    {
        Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i <= n - 64; i += 64)
        {
            s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), s0);
            s1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), s1);
            s2 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 32), Vector512.Load(b + i + 32), s2);
            s3 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 48), Vector512.Load(b + i + 48), s3);
        }
        for (; i <= n - 16; i += 16)
        {
            s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), s0);
        }
        float sum = Vector512.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private static float Dot256(float* a, float* b, int n)
    {
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            s0 = Fma256(Vector256.Load(a + i), Vector256.Load(b + i), s0);
            s1 = Fma256(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), s1);
            s2 = Fma256(Vector256.Load(a + i + 16), Vector256.Load(b + i + 16), s2);
            s3 = Fma256(Vector256.Load(a + i + 24), Vector256.Load(b + i + 24), s3);
        }
        for (; i <= n - 8; i += 8)
        {
            s0 = Fma256(Vector256.Load(a + i), Vector256.Load(b + i), s0);
        }
        float sum = Vector256.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma256(Vector256<float> x, Vector256<float> y, Vector256<float> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, y, acc) : acc + x * y;

    /// <summary>Scales <paramref name="v"/> to unit length in place; a zero vector stays zero.</summary>
    public static void Normalize(Span<float> v)
    {
        float norm = TensorPrimitives.Norm(v);
        if (norm > 0f && float.IsFinite(norm))
        {
            TensorPrimitives.Multiply(v, 1f / norm, v);
        }
    }
}
