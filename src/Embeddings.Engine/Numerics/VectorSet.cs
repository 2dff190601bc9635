namespace Embeddings.Numerics;

/// <summary>
/// A read-only set of row-major vectors: <see cref="Count"/> rows of <see cref="Dimension"/> floats in one
/// flat array. The topic stages take this instead of jagged arrays so hot loops stay over spans.
/// </summary>
internal sealed class VectorSet
{
    private readonly float[] _data;

    private VectorSet(float[] data, int count, int dimension)
    {
        _data = data;
        Count = count;
        Dimension = dimension;
    }

    /// <summary>Number of rows.</summary>
    public int Count { get; }

    /// <summary>Floats per row.</summary>
    public int Dimension { get; }

    /// <summary>The flat row-major data (not copied; do not modify).</summary>
    public ReadOnlySpan<float> Data => _data.AsSpan(0, Count * Dimension);

    /// <summary>Row <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> this[int index] => _data.AsSpan(index * Dimension, Dimension);

    internal float[] RawData => _data;

    /// <summary>
    /// Wraps <paramref name="vectors"/> (length must be a multiple of <paramref name="dimension"/>) without copying.
    /// The caller must not modify the array afterwards.
    /// </summary>
    public static VectorSet Wrap(float[] vectors, int dimension)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (vectors.Length % dimension != 0)
        {
            throw new ArgumentException($"vectors has {vectors.Length} floats, not a multiple of the dimension {dimension}", nameof(vectors));
        }
        return new VectorSet(vectors, vectors.Length / dimension, dimension);
    }

    /// <summary>
    /// Copies the rows and scales each to unit length (cosine geometry). Zero rows stay zero.
    /// Non-finite values are rejected: they would poison every distance.
    /// </summary>
    public static VectorSet Normalized(ReadOnlySpan<float> vectors, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (vectors.Length % dimension != 0)
        {
            throw new ArgumentException($"vectors has {vectors.Length} floats, not a multiple of the dimension {dimension}", nameof(vectors));
        }
        var copy = vectors.ToArray();
        int n = copy.Length / dimension;
        for (int i = 0; i < n; i++)
        {
            if (!float.IsFinite(VectorMath.Normalize(copy.AsSpan(i * dimension, dimension))))
            {
                throw new ArgumentException($"vector {i} holds a NaN or infinite value", nameof(vectors));
            }
        }
        return new VectorSet(copy, n, dimension);
    }

    /// <summary>The rows at <paramref name="rows"/>, copied into a new set (in that order).</summary>
    public VectorSet Select(ReadOnlySpan<int> rows)
    {
        var data = new float[rows.Length * Dimension];
        for (int i = 0; i < rows.Length; i++)
        {
            this[rows[i]].CopyTo(data.AsSpan(i * Dimension, Dimension));
        }
        return new VectorSet(data, rows.Length, Dimension);
    }
}
