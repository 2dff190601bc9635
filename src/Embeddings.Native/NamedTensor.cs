using System.Buffers;

namespace Embeddings.Native;

/// <summary>
/// A model input: a name, a shape and caller-owned data that the runtime reads in place (no copy). The data is
/// pinned only for the duration of <see cref="OnnxSession.Run(ReadOnlySpan{NamedTensor}, ReadOnlySpan{string}, CancellationToken)"/>;
/// do not change it while a run that uses it is in progress.
/// </summary>
public readonly struct NamedTensor
{
    private readonly ReadOnlyMemory<long> _int64;
    private readonly ReadOnlyMemory<float> _float32;
    private readonly ReadOnlyMemory<int> _int32;

    private NamedTensor(string name, TensorElementType type, ReadOnlyMemory<long> shape, int length,
        ReadOnlyMemory<long> int64, ReadOnlyMemory<float> float32, ReadOnlyMemory<int> int32)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        long expected = ElementCount(name, shape.Span);
        if (expected != length)
        {
            throw new ArgumentException(
                $"Input '{name}': shape [{string.Join(", ", shape.ToArray())}] needs {expected} elements but the data has {length}.",
                nameof(shape));
        }
        Name = name;
        ElementType = type;
        Shape = shape;
        _int64 = int64;
        _float32 = float32;
        _int32 = int32;
    }

    /// <summary>The model input this tensor feeds.</summary>
    public string Name { get; }

    /// <summary>Element type of the data.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>Dimensions; their product equals the data length.</summary>
    public ReadOnlyMemory<long> Shape { get; }

    /// <summary>An int64 tensor over <paramref name="data"/> (row-major).</summary>
    /// <exception cref="ArgumentException">The shape does not match the data length.</exception>
    public static NamedTensor Int64(string name, ReadOnlyMemory<long> data, ReadOnlyMemory<long> shape) =>
        new(name, TensorElementType.Int64, shape, data.Length, data, default, default);

    /// <summary>A float32 tensor over <paramref name="data"/> (row-major).</summary>
    /// <exception cref="ArgumentException">The shape does not match the data length.</exception>
    public static NamedTensor Float32(string name, ReadOnlyMemory<float> data, ReadOnlyMemory<long> shape) =>
        new(name, TensorElementType.Float32, shape, data.Length, default, data, default);

    /// <summary>An int32 tensor over <paramref name="data"/> (row-major).</summary>
    /// <exception cref="ArgumentException">The shape does not match the data length.</exception>
    public static NamedTensor Int32(string name, ReadOnlyMemory<int> data, ReadOnlyMemory<long> shape) =>
        new(name, TensorElementType.Int32, shape, data.Length, default, default, data);

    /// <summary>Pins the data; the caller disposes the handle after the native value over it is released.</summary>
    internal MemoryHandle Pin(out nuint byteLength)
    {
        switch (ElementType)
        {
            case TensorElementType.Int64:
                byteLength = (nuint)_int64.Length * sizeof(long);
                return _int64.Pin();
            case TensorElementType.Float32:
                byteLength = (nuint)_float32.Length * sizeof(float);
                return _float32.Pin();
            case TensorElementType.Int32:
                byteLength = (nuint)_int32.Length * sizeof(int);
                return _int32.Pin();
            default:
                throw new InvalidOperationException("A default(NamedTensor) has no data; create one with NamedTensor.Int64/Float32/Int32.");
        }
    }

    private static long ElementCount(string name, ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (long dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException($"Input '{name}': dimension {dim} is negative; run-time shapes are concrete.", nameof(shape));
            }
            count = checked(count * dim);
        }
        return count;
    }
}
