using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Embeddings.Numerics;

namespace Embeddings.Index;

/// <summary>
/// Per-dimension int8 scalar quantisation for the graph of an <see cref="HnswIndex"/>: dimension <c>d</c> of a vector
/// is stored as a code <c>c</c> in 0..255 with <c>x ≈ low[d] + step[d]·c</c>, the range fitted on the vectors.
/// <para>
/// Scoring a query <c>q</c> against codes: <c>q·x ≈ Σ q[d]·mid[d] + Σ w[d]·(c[d] − 128)</c> with <c>mid = low + 128·step</c>
/// and <c>w = q∘step</c>. The weights are rounded to 14-bit integers split into two int8 halves,
/// <c>w ≈ scale·(128·high + low)</c>, so the second sum is two integer dot products of the unsigned codes by signed
/// bytes — what VPDPBUSD computes, sharing each load of the codes — minus <c>128·Σ(128·high + low)</c>. Rounding the
/// weights to 8 bits only would add an error as large as the codes' own (it measurably costs recall at small ef);
/// 14 bits make it negligible. Centring the codes on 128 keeps that error proportional to <c>|c − 128|</c>.
/// Codes and weights are padded to a multiple of 16 bytes; padded weights are zero.
/// </para>
/// </summary>
internal sealed unsafe class ScalarQuantizer
{
    /// <summary>Refits stop once a fit has seen this many vectors: the ranges are settled by then.</summary>
    public const int RefitLimit = 65_536;

    private readonly float[] _low;
    private readonly float[] _step;
    private readonly float[] _mid;

    public ScalarQuantizer(int dimension)
    {
        Dimension = dimension;
        CodeLength = (dimension + 15) & ~15;
        _low = GC.AllocateArray<float>(dimension, pinned: true);
        _step = GC.AllocateArray<float>(dimension, pinned: true);
        _mid = GC.AllocateArray<float>(dimension, pinned: true);
    }

    public int Dimension { get; }

    /// <summary>Bytes of one vector's codes as the kernels read them: the dimension rounded up to 16.</summary>
    public int CodeLength { get; }

    /// <summary>How many vectors the current ranges were fitted on; 0 before the first fit.</summary>
    public int FittedOn { get; private set; }

    public ReadOnlySpan<float> Low => _low;

    public ReadOnlySpan<float> Step => _step;

    /// <summary>Whether adding <paramref name="incoming"/> vectors to an index of <paramref name="count"/> calls for a (re)fit.</summary>
    public bool NeedsFit(int count, int incoming) =>
        FittedOn == 0 || (FittedOn < RefitLimit && (long)count + incoming >= 2L * FittedOn);

    /// <summary>Sets the ranges from per-dimension minima and maxima.</summary>
    public void SetRanges(ReadOnlySpan<float> min, ReadOnlySpan<float> max, int fittedOn)
    {
        for (int d = 0; d < Dimension; d++)
        {
            float low = min[d];
            float range = max[d] - low;
            if (!(range > 1e-12f))
            {
                // A constant dimension (or a single vector): any small step keeps it exact.
                range = Math.Max(Math.Abs(low), 1f) * 1e-3f;
                low -= range / 2;
            }
            _low[d] = low;
            _step[d] = range / 255f;
            _mid[d] = low + 128f * _step[d];
        }
        FittedOn = Math.Max(fittedOn, 1);
    }

    /// <summary>Restores ranges read from a file (already validated).</summary>
    public void Restore(ReadOnlySpan<float> low, ReadOnlySpan<float> step, int fittedOn)
    {
        low.CopyTo(_low);
        step.CopyTo(_step);
        for (int d = 0; d < Dimension; d++)
        {
            _mid[d] = _low[d] + 128f * _step[d];
        }
        FittedOn = fittedOn;
    }

    /// <summary>Writes the codes of <paramref name="vector"/> (values outside the range are clamped), zero-padded to <see cref="CodeLength"/>.</summary>
    public void Encode(ReadOnlySpan<float> vector, byte* codes)
    {
        for (int d = 0; d < Dimension; d++)
        {
            float c = MathF.Round((vector[d] - _low[d]) / _step[d]);
            codes[d] = (byte)Math.Clamp(c, 0f, 255f);
        }
        new Span<byte>(codes + Dimension, CodeLength - Dimension).Clear();
    }

    /// <summary>The vector the codes stand for.</summary>
    public void Decode(byte* codes, Span<float> destination)
    {
        for (int d = 0; d < Dimension; d++)
        {
            destination[d] = _low[d] + _step[d] * codes[d];
        }
    }

    /// <summary>
    /// Turns a float query into weights (2 x <see cref="CodeLength"/> bytes at <paramref name="weights"/>: the high
    /// halves, then the low halves) and the constants that make <see cref="Score"/> approximate <c>query · x</c>;
    /// <paramref name="scratch"/> holds Dimension floats.
    /// </summary>
    public HnswQuery Prepare(ReadOnlySpan<float> query, sbyte* weights, Span<float> scratch)
    {
        const int Limit = 127 * 128;
        Span<float> w = scratch[..Dimension];
        TensorPrimitives.Multiply(query, _step, w);
        float bias = TensorPrimitives.Dot(query, _mid);
        float largest = Math.Abs(TensorPrimitives.MaxMagnitude(w));
        float scale = largest > 0 && float.IsFinite(largest) ? largest / Limit : 0f;
        float inverse = scale > 0 ? 1f / scale : 0f;
        sbyte* high = weights;
        sbyte* low = weights + CodeLength;
        int highSum = 0, lowSum = 0;
        for (int d = 0; d < Dimension; d++)
        {
            int wi = Math.Clamp((int)MathF.Round(w[d] * inverse), -Limit, Limit);
            int h = (wi + (wi >= 0 ? 64 : -64)) / 128;
            int l = wi - 128 * h;
            high[d] = (sbyte)h;
            low[d] = (sbyte)l;
            highSum += h;
            lowSum += l;
        }
        new Span<sbyte>(high + Dimension, CodeLength - Dimension).Clear();
        new Span<sbyte>(low + Dimension, CodeLength - Dimension).Clear();
        // Σ w·(c − 128) ≈ scale·(128·Σ high·c + Σ low·c) − scale·128·(128·Σhigh + Σlow): the constant part goes into the bias.
        return new HnswQuery
        {
            Weights = weights,
            Length = CodeLength,
            HighScale = 128f * scale,
            LowScale = scale,
            Bias = bias - scale * 128f * (128f * highSum + lowSum),
        };
    }

    /// <summary>
    /// Prepares a stored vector as a query (for the neighbour heuristic and pruning, which compare stored vectors
    /// with each other): decodes its codes and rounds the weights as for any query.
    /// </summary>
    public HnswQuery PrepareStored(byte* codes, sbyte* weights, Span<float> scratch)
    {
        Span<float> decoded = scratch[..Dimension];
        Decode(codes, decoded);
        return Prepare(decoded, weights, scratch[Dimension..]);
    }

    /// <summary>The approximate inner product of a prepared query and a vector's codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Score(in HnswQuery query, byte* codes)
    {
        int high = Dot(codes, query.Weights, query.Weights + query.Length, query.Length, out int low);
        return query.Bias + query.HighScale * high + query.LowScale * low;
    }

    /// <summary>
    /// Σ codes[i]·high[i] (returned) and Σ codes[i]·low[i] (<paramref name="lowSum"/>) over <paramref name="length"/>
    /// bytes (a multiple of 16), exact in 32-bit integers; each load of the codes serves both sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot(byte* codes, sbyte* high, sbyte* low, int length, out int lowSum)
    {
        if (AvxVnni.IsSupported)
        {
            return DotAvxVnni(codes, high, low, length, out lowSum);
        }
        if (Avx2.IsSupported)
        {
            return DotAvx2(codes, high, low, length, out lowSum);
        }
        return DotPortable(codes, high, low, length, out lowSum);
    }

    /// <summary>VPDPBUSD on 256-bit registers: 32 products per instruction, one accumulator per half.</summary>
    internal static int DotAvxVnni(byte* a, sbyte* high, sbyte* low, int n, out int lowSum)
    {
        Vector256<int> h = Vector256<int>.Zero, l = h;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            Vector256<byte> c = Vector256.Load(a + i);
            h = AvxVnni.MultiplyWideningAndAdd(h, c, Vector256.Load(high + i));
            l = AvxVnni.MultiplyWideningAndAdd(l, c, Vector256.Load(low + i));
        }
        Vector128<int> h128 = h.GetLower() + h.GetUpper();
        Vector128<int> l128 = l.GetLower() + l.GetUpper();
        if (i < n)
        {
            Vector128<byte> c = Vector128.Load(a + i);
            h128 = AvxVnni.MultiplyWideningAndAdd(h128, c, Vector128.Load(high + i));
            l128 = AvxVnni.MultiplyWideningAndAdd(l128, c, Vector128.Load(low + i));
        }
        lowSum = Vector128.Sum(l128);
        return Vector128.Sum(h128);
    }

    /// <summary>AVX2 without VNNI: codes widened to int16 once, multiply-added with both halves (VPMADDWD).</summary>
    internal static int DotAvx2(byte* a, sbyte* high, sbyte* low, int n, out int lowSum)
    {
        Vector256<int> h = Vector256<int>.Zero, l = h;
        for (int i = 0; i < n; i += 16)
        {
            Vector256<short> c = Avx2.ConvertToVector256Int16(Vector128.Load(a + i));
            h += Avx2.MultiplyAddAdjacent(c, Avx2.ConvertToVector256Int16(Vector128.Load(high + i)));
            l += Avx2.MultiplyAddAdjacent(c, Avx2.ConvertToVector256Int16(Vector128.Load(low + i)));
        }
        lowSum = Vector256.Sum(l);
        return Vector256.Sum(h);
    }

    /// <summary>Any CPU: 16 bytes at a time widened to int16 (a product of a code and a byte fits), summed in int32.</summary>
    internal static int DotPortable(byte* a, sbyte* high, sbyte* low, int n, out int lowSum)
    {
        Vector128<int> h = Vector128<int>.Zero, l = h;
        for (int i = 0; i < n; i += 16)
        {
            (Vector128<ushort> c0, Vector128<ushort> c1) = Vector128.Widen(Vector128.Load(a + i));
            h += Products(c0.AsInt16(), c1.AsInt16(), Vector128.Load(high + i));
            l += Products(c0.AsInt16(), c1.AsInt16(), Vector128.Load(low + i));
        }
        lowSum = Vector128.Sum(l);
        return Vector128.Sum(h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Products(Vector128<short> c0, Vector128<short> c1, Vector128<sbyte> weights)
    {
        (Vector128<short> w0, Vector128<short> w1) = Vector128.Widen(weights);
        (Vector128<int> p0, Vector128<int> p1) = Vector128.Widen(c0 * w0);
        (Vector128<int> p2, Vector128<int> p3) = Vector128.Widen(c1 * w1);
        return (p0 + p1) + (p2 + p3);
    }
}

/// <summary>
/// A query as the graph walk scores it: the float vector (float graphs) or int8 weights with the constants of
/// <see cref="ScalarQuantizer.Score"/> (int8 graphs). Points into per-thread scratch; valid until that is reused.
/// </summary>
internal unsafe struct HnswQuery
{
    /// <summary>Float graphs: the query vector.</summary>
    public float* Floats;

    /// <summary>Int8 graphs: the high halves of the weights, followed by the low halves.</summary>
    public sbyte* Weights;

    /// <summary>Floats (float graphs) or weight bytes per half (int8 graphs, a multiple of 16).</summary>
    public int Length;

    public float HighScale;
    public float LowScale;
    public float Bias;
}

/// <summary>How the graph walk scores a stored vector; a struct type argument, so each space compiles its own loops.</summary>
internal unsafe interface IHnswSpace
{
    static abstract float Score(in HnswQuery query, byte* vector);
}

/// <summary>float32 vectors in the graph: the exact inner product.</summary>
internal readonly unsafe struct FloatSpace : IHnswSpace
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Score(in HnswQuery query, byte* vector) => VectorMath.Dot(query.Floats, (float*)vector, query.Length);
}

/// <summary>int8 codes in the graph: the approximate inner product of <see cref="ScalarQuantizer"/>.</summary>
internal readonly unsafe struct Int8Space : IHnswSpace
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Score(in HnswQuery query, byte* vector) => ScalarQuantizer.Score(query, vector);
}
