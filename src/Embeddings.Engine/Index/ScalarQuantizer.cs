using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Embeddings.Index;

/// <summary>
/// Per-dimension int8 scalar quantisation for the graph of an <see cref="HnswIndex"/>: dimension <c>d</c> of a vector
/// is stored as a code <c>c</c> in 0..255 with <c>x ≈ low[d] + step[d]·c</c>, the range fitted on the vectors.
/// <para>
/// Scoring a query <c>q</c> against codes: <c>q·x ≈ Σ q[d]·mid[d] + Σ w[d]·(c[d] − 128)</c> with <c>mid = low + 128·step</c>
/// and <c>w = q∘step</c>. The weights are themselves rounded to int8 (<c>w ≈ scale·wi</c>), so the second sum is one
/// integer dot product of unsigned codes by signed weights — exactly what VPDPBUSD computes — minus <c>128·Σwi</c>.
/// Centring the codes on 128 keeps the error that the weight rounding adds proportional to <c>|c − 128|</c>, not to
/// <c>c</c>. Codes and weights are padded to a multiple of 16 bytes; padded weights are zero.
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
    /// Turns a float query into int8 weights (<see cref="CodeLength"/> bytes at <paramref name="weights"/>) and the
    /// constants that make <see cref="Score"/> approximate <c>query · x</c>; <paramref name="scratch"/> holds Dimension floats.
    /// </summary>
    public HnswQuery Prepare(ReadOnlySpan<float> query, sbyte* weights, Span<float> scratch)
    {
        Span<float> w = scratch[..Dimension];
        TensorPrimitives.Multiply(query, _step, w);
        float bias = TensorPrimitives.Dot(query, _mid);
        float largest = Math.Abs(TensorPrimitives.MaxMagnitude(w));
        float scale = largest > 0 && float.IsFinite(largest) ? largest / 127f : 0f;
        float inverse = scale > 0 ? 1f / scale : 0f;
        int sum = 0;
        for (int d = 0; d < Dimension; d++)
        {
            int wi = (int)MathF.Round(w[d] * inverse);
            weights[d] = (sbyte)wi;
            sum += wi;
        }
        new Span<sbyte>(weights + Dimension, CodeLength - Dimension).Clear();
        return new HnswQuery { Weights = weights, Length = CodeLength, Scale = scale, Bias = bias, Correction = 128 * sum };
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
    public static float Score(in HnswQuery query, byte* codes) =>
        query.Bias + query.Scale * (Dot(codes, query.Weights, query.Length) - query.Correction);

    /// <summary>Σ codes[i]·weights[i] over <paramref name="length"/> bytes (a multiple of 16), exact in 32-bit integers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Dot(byte* codes, sbyte* weights, int length)
    {
        if (AvxVnni.IsSupported)
        {
            return DotAvxVnni(codes, weights, length);
        }
        if (Avx2.IsSupported)
        {
            return DotAvx2(codes, weights, length);
        }
        return DotPortable(codes, weights, length);
    }

    /// <summary>VPDPBUSD on 256-bit registers: 32 products per instruction, two accumulators.</summary>
    internal static int DotAvxVnni(byte* a, sbyte* b, int n)
    {
        Vector256<int> s0 = Vector256<int>.Zero, s1 = s0;
        int i = 0;
        for (; i <= n - 64; i += 64)
        {
            s0 = AvxVnni.MultiplyWideningAndAdd(s0, Vector256.Load(a + i), Vector256.Load(b + i));
            s1 = AvxVnni.MultiplyWideningAndAdd(s1, Vector256.Load(a + i + 32), Vector256.Load(b + i + 32));
        }
        if (i <= n - 32)
        {
            s0 = AvxVnni.MultiplyWideningAndAdd(s0, Vector256.Load(a + i), Vector256.Load(b + i));
            i += 32;
        }
        Vector256<int> s = s0 + s1;
        Vector128<int> t = s.GetLower() + s.GetUpper();
        if (i < n)
        {
            t = AvxVnni.MultiplyWideningAndAdd(t, Vector128.Load(a + i), Vector128.Load(b + i));
        }
        return Vector128.Sum(t);
    }

    /// <summary>AVX2 without VNNI: widen both to int16 and multiply-add adjacent pairs into int32 (VPMADDWD).</summary>
    internal static int DotAvx2(byte* a, sbyte* b, int n)
    {
        Vector256<int> s0 = Vector256<int>.Zero, s1 = s0;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            s0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(a + i)), Avx2.ConvertToVector256Int16(Vector128.Load(b + i)));
            s1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(a + i + 16)), Avx2.ConvertToVector256Int16(Vector128.Load(b + i + 16)));
        }
        if (i < n)
        {
            s0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(a + i)), Avx2.ConvertToVector256Int16(Vector128.Load(b + i)));
        }
        return Vector256.Sum(s0 + s1);
    }

    /// <summary>Any CPU: 16 bytes at a time widened to int16 (a product of a code and a weight fits), summed in int32.</summary>
    internal static int DotPortable(byte* a, sbyte* b, int n)
    {
        Vector128<int> sum = Vector128<int>.Zero;
        for (int i = 0; i < n; i += 16)
        {
            (Vector128<ushort> aLow, Vector128<ushort> aHigh) = Vector128.Widen(Vector128.Load(a + i));
            (Vector128<short> bLow, Vector128<short> bHigh) = Vector128.Widen(Vector128.Load(b + i));
            Vector128<short> pLow = aLow.AsInt16() * bLow;
            Vector128<short> pHigh = aHigh.AsInt16() * bHigh;
            (Vector128<int> p0, Vector128<int> p1) = Vector128.Widen(pLow);
            (Vector128<int> p2, Vector128<int> p3) = Vector128.Widen(pHigh);
            sum += (p0 + p1) + (p2 + p3);
        }
        return Vector128.Sum(sum);
    }
}

/// <summary>
/// A query as the graph walk scores it: the float vector (float graphs) or int8 weights with the constants of
/// <see cref="ScalarQuantizer.Score"/> (int8 graphs). Points into per-thread scratch; valid until that is reused.
/// </summary>
internal unsafe struct HnswQuery
{
    public float* Floats;
    public sbyte* Weights;
    public int Length;
    public float Scale;
    public float Bias;
    public int Correction;
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
