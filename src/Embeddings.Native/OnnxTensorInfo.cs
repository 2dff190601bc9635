namespace Embeddings.Native;

/// <summary>Name, element type and shape of a model input or output, as declared in the model.</summary>
public sealed class OnnxTensorInfo
{
    internal OnnxTensorInfo(string name, TensorElementType elementType, long[] shape, string[] dimensionNames)
    {
        Name = name;
        ElementType = elementType;
        Shape = Array.AsReadOnly(shape);
        DimensionNames = Array.AsReadOnly(dimensionNames);
    }

    /// <summary>The input or output name used in <see cref="OnnxSession.Run(ReadOnlySpan{NamedTensor}, ReadOnlySpan{string}, CancellationToken)"/>.</summary>
    public string Name { get; }

    /// <summary>Element type; <see cref="TensorElementType.Undefined"/> for non-tensor values (sequences, maps).</summary>
    public TensorElementType ElementType { get; }

    /// <summary>Declared dimensions; -1 marks a dimension fixed only at run time (batch, sequence length).</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Symbolic name of each dimension (e.g. "batch_size"), empty where the model gives none.</summary>
    public IReadOnlyList<string> DimensionNames { get; }

    /// <summary>e.g. <c>input_ids: Int64[batch_size, sequence_length]</c>.</summary>
    public override string ToString()
    {
        var dims = new string[Shape.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = Shape[i] >= 0
                ? Shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture)
                : DimensionNames[i].Length > 0 ? DimensionNames[i] : "?";
        }
        return $"{Name}: {ElementType}[{string.Join(", ", dims)}]";
    }
}
