using System.Runtime.InteropServices;

namespace Embeddings.Native;

/// <summary>
/// The outputs of one <see cref="OnnxSession.Run(ReadOnlySpan{NamedTensor}, ReadOnlySpan{string}, CancellationToken)"/>,
/// in the order they were asked for. The data lives in native memory owned by this object: read it through the
/// spans, copy what you keep, then dispose (disposing twice is harmless). Spans obtained before
/// <see cref="Dispose"/> must not be used after it. Not meant for use from several threads at once.
/// </summary>
public sealed unsafe class OnnxOutputs : IDisposable
{
    private readonly string[] _names;
    private readonly OrtValueHandle[] _values;
    private readonly TensorElementType[] _types;
    private readonly long[][] _shapes;
    private readonly nint[] _data;
    private readonly int[] _lengths;
    private bool _disposed;

    internal OnnxOutputs(NativeApi api, string[] names, OrtValueHandle[] values)
    {
        _names = names;
        _values = values;
        _types = new TensorElementType[values.Length];
        _shapes = new long[values.Length][];
        _data = new nint[values.Length];
        _lengths = new int[values.Length];
        try
        {
            for (int i = 0; i < values.Length; i++)
            {
                nint value = values[i].DangerousGetHandle();
                (_types[i], _shapes[i]) = api.GetTensorTypeAndShape(value);
                long count = 1;
                foreach (long dim in _shapes[i])
                {
                    count = checked(count * dim);
                }
                _lengths[i] = checked((int)count);
                if (_types[i] != TensorElementType.String && count > 0)
                {
                    _data[i] = (nint)api.GetTensorMutableData(value);
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Number of outputs.</summary>
    public int Count => _values.Length;

    /// <summary>Name of output <paramref name="index"/>.</summary>
    public string GetName(int index) => _names[index];

    /// <summary>Position of the output called <paramref name="name"/>, or -1.</summary>
    public int IndexOf(string name) => Array.IndexOf(_names, name);

    /// <summary>Element type of output <paramref name="index"/>.</summary>
    public TensorElementType GetElementType(int index) => _types[index];

    /// <summary>Concrete shape of output <paramref name="index"/>, e.g. [batch, 512].</summary>
    public ReadOnlySpan<long> GetShape(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _shapes[index];
    }

    /// <summary>The float32 data of output <paramref name="index"/>, row-major, read in place.</summary>
    /// <exception cref="InvalidOperationException">The output is not float32.</exception>
    public ReadOnlySpan<float> GetFloat32(int index) => Data<float>(index, TensorElementType.Float32);

    /// <summary>The int64 data of output <paramref name="index"/>, row-major, read in place.</summary>
    /// <exception cref="InvalidOperationException">The output is not int64.</exception>
    public ReadOnlySpan<long> GetInt64(int index) => Data<long>(index, TensorElementType.Int64);

    /// <summary>The int32 data of output <paramref name="index"/>, row-major, read in place.</summary>
    /// <exception cref="InvalidOperationException">The output is not int32.</exception>
    public ReadOnlySpan<int> GetInt32(int index) => Data<int>(index, TensorElementType.Int32);

    /// <summary>Releases the native output values. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (var value in _values)
        {
            value.Dispose();
        }
    }

    private ReadOnlySpan<T> Data<T>(int index, TensorElementType expected) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_types[index] != expected)
        {
            throw new InvalidOperationException($"Output '{_names[index]}' holds {_types[index]} elements, not {expected}.");
        }
        return _lengths[index] == 0 ? [] : new ReadOnlySpan<T>((void*)_data[index], _lengths[index]);
    }
}
