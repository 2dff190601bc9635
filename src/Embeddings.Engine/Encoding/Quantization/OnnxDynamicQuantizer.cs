using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Embeddings.Encoding.Onnx;
using Google.Protobuf;

namespace Embeddings.Encoding;

/// <summary>What <see cref="OnnxDynamicQuantizer.Quantize"/> changed in a graph.</summary>
/// <param name="QuantizedMatMuls">MatMul nodes with a constant weight, now int8.</param>
/// <param name="QuantizedGemms">Gemm nodes (alpha = beta = 1, no transA), now int8.</param>
/// <param name="FusedBiases">Bias Adds folded into the quantised node.</param>
/// <param name="FloatMatMuls">MatMul / Gemm nodes left in float: both operands computed (attention scores and context), or a shape the quantiser does not handle.</param>
/// <param name="WeightsBefore">Bytes of the float weights that were replaced.</param>
/// <param name="WeightsAfter">Bytes of their int8 copies with scales and zero points.</param>
internal sealed record QuantizationCounts(int QuantizedMatMuls, int QuantizedGemms, int FusedBiases, int FloatMatMuls, long WeightsBefore, long WeightsAfter);

/// <summary>
/// Dynamic int8 quantisation of an ONNX graph, in the way ONNX Runtime's own dynamic quantiser does it for MatMul: every
/// MatMul or Gemm whose right operand is a float initializer of rank 2 becomes one <c>com.microsoft</c>
/// <c>DynamicQuantizeMatMul</c> node. Its weight is stored as int8, symmetric (zero point 0), with one scale per output
/// column (per channel: a column's scale follows its own largest weight, so a few large columns do not flatten the
/// others); the activation is quantised to uint8 per tensor by the runtime on each run, from its actual range, so no
/// calibration data is needed. With calibrated activation ranges (<see cref="ActivationCalibration"/>) the scales are
/// fixed instead: a QuantizeLinear per activation tensor feeds <c>MatMulIntegerToFloat</c> nodes, so a text's vector
/// no longer depends on the other rows of its batch tensor. A following bias Add of a constant vector is folded into the node (its optional bias
/// input). Everything else stays float: embeddings (Gather), LayerNorm, softmax, GELU, the activation-by-activation
/// MatMuls of attention and, outside the graph, pooling and normalisation.
/// </summary>
/// <remarks>
/// On x86 CPUs without VNNI, ONNX Runtime's uint8 x int8 kernels add pairs of products in 16 bits with saturation
/// (VPMADDUBSW), which 8-bit weights can overflow; <see cref="QuantizeOptions.WeightBits"/> 7 keeps the weights in
/// [-63, 63] so that cannot happen (at a small cost in precision). With VNNI (or on Arm) 8 bits are exact.
/// </remarks>
internal static class OnnxDynamicQuantizer
{
    /// <summary>The contrib-operator domain of ONNX Runtime.</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>The operator the quantised nodes use.</summary>
    public const string QuantizedOperator = "DynamicQuantizeMatMul";

    /// <summary>The operator of statically quantised nodes (after a QuantizeLinear of their input).</summary>
    public const string StaticOperator = "MatMulIntegerToFloat";

    /// <summary>A node to quantise: its constant weight, whether that is stored transposed, and the bias it takes.</summary>
    private sealed record Candidate(NodeProto Node, bool IsGemm, TensorProto Weight, bool TransposeWeight, string? BiasName, NodeProto? FusedAdd);

    /// <summary>
    /// The activation tensors the quantised nodes of <paramref name="model"/> would read (their first inputs, each
    /// once): what a calibration run measures.
    /// </summary>
    public static IReadOnlyList<string> ActivationInputs(ModelProto model, string source)
    {
        GraphProto graph = model.Graph ?? throw new ModelLoadException($"{source}: the ONNX file has no graph.");
        var names = new List<string>();
        foreach (Candidate c in FindCandidates(graph, source, out _))
        {
            if (!names.Contains(c.Node.Input[0]))
            {
                names.Add(c.Node.Input[0]);
            }
        }
        return names;
    }

    /// <summary>
    /// Rewrites <paramref name="model"/> in place. With <paramref name="activationRanges"/> (one per name of
    /// <see cref="ActivationInputs"/>) the activations get fixed scales (static quantisation: a QuantizeLinear of each
    /// input, then MatMulIntegerToFloat); without, the runtime computes one scale per input tensor on each run.
    /// </summary>
    /// <exception cref="ModelLoadException">The graph cannot be quantised (no graph, external weights, nothing to quantise).</exception>
    public static QuantizationCounts Quantize(ModelProto model, int weightBits, string source,
        IReadOnlyDictionary<string, ActivationRange>? activationRanges = null)
    {
        if (weightBits is not (7 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(weightBits), weightBits, "7 or 8");
        }
        GraphProto graph = model.Graph ?? throw new ModelLoadException($"{source}: the ONNX file has no graph.");
        if (model.OpsetImport.Any(o => o.Domain == MicrosoftDomain && o.Version != 1))
        {
            throw new ModelLoadException($"{source}: the graph imports {MicrosoftDomain} version other than 1; it cannot be quantised here.");
        }
        List<Candidate> candidates = FindCandidates(graph, source, out int floatNodes);
        if (candidates.Count == 0)
        {
            throw new ModelLoadException(
                $"{source}: no MatMul or Gemm with a constant float weight was found, so there is nothing to quantise " +
                "(is the model already quantised, or are its weights stored outside the file?).");
        }
        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (TensorProto t in graph.Initializer)
        {
            initializers[t.Name] = t;
        }

        var quantizedWeights = new Dictionary<string, (string Weight, string Scale, string ZeroPoint)>(StringComparer.Ordinal);
        // Static quantisation: one QuantizeLinear per activation tensor, shared by the nodes that read it (Q, K and V).
        var quantizedInputs = new Dictionary<string, (NodeProto Node, string Scale, string ZeroPoint)>(StringComparer.Ordinal);
        var removedNodes = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        var replacements = new Dictionary<NodeProto, List<NodeProto>>(ReferenceEqualityComparer.Instance);
        var droppedTensors = new HashSet<string>(StringComparer.Ordinal);
        int matMuls = 0, gemms = 0, biases = 0;
        long before = 0, after = 0;

        foreach (Candidate c in candidates)
        {
            NodeProto node = c.Node;
            TensorProto weight = c.Weight;
            string output = node.Output[0];
            string key = weight.Name + (c.TransposeWeight ? "\u0001T" : "");
            if (!quantizedWeights.TryGetValue(key, out var names))
            {
                (TensorProto q, TensorProto scale, TensorProto zero) = QuantizeWeight(weight, c.TransposeWeight, weightBits, Unique(initializers, weight.Name + "_int8"));
                AddInitializer(graph, initializers, q);
                AddInitializer(graph, initializers, scale);
                AddInitializer(graph, initializers, zero);
                names = (q.Name, scale.Name, zero.Name);
                quantizedWeights[key] = names;
                before += checked((long)weight.Dims[0] * weight.Dims[1] * sizeof(float));
                after += q.RawData.Length + scale.RawData.Length + zero.RawData.Length;
            }

            string name = node.Name.Length > 0 ? node.Name + "_quant" : Unique(initializers, output + "_quant");
            var emitted = new List<NodeProto>(2);
            NodeProto quantized;
            if (activationRanges is null)
            {
                quantized = new NodeProto { Name = name, OpType = QuantizedOperator, Domain = MicrosoftDomain };
                quantized.Input.Add(node.Input[0]);
                quantized.Input.Add(names.Weight);
                quantized.Input.Add(names.Scale);
                quantized.Input.Add(names.ZeroPoint);
                if (c.BiasName is not null)
                {
                    quantized.Input.Add(c.BiasName);
                }
            }
            else
            {
                string input = node.Input[0];
                if (!quantizedInputs.TryGetValue(input, out var q))
                {
                    if (!activationRanges.TryGetValue(input, out ActivationRange range))
                    {
                        throw new ArgumentException($"no activation range for '{input}' (calibrate every name of ActivationInputs).", nameof(activationRanges));
                    }
                    q = QuantizeActivation(graph, initializers, input, range);
                    emitted.Add(q.Node);
                    quantizedInputs[input] = q;
                }
                // MatMulIntegerToFloat(A, B, a_scale, b_scale, a_zero_point, b_zero_point, bias).
                quantized = new NodeProto { Name = name, OpType = StaticOperator, Domain = MicrosoftDomain };
                quantized.Input.Add(q.Node.Output[0]);
                quantized.Input.Add(names.Weight);
                quantized.Input.Add(q.Scale);
                quantized.Input.Add(names.Scale);
                quantized.Input.Add(q.ZeroPoint);
                quantized.Input.Add(names.ZeroPoint);
                if (c.BiasName is not null)
                {
                    quantized.Input.Add(c.BiasName);
                }
            }
            emitted.Add(quantized);
            if (c.FusedAdd is not null)
            {
                quantized.Output.Add(c.FusedAdd.Output[0]);
                removedNodes.Add(c.FusedAdd);
                droppedTensors.Add(output);
                biases++;
            }
            else
            {
                quantized.Output.Add(output);
                if (c.IsGemm && c.BiasName is not null)
                {
                    biases++;
                }
            }
            replacements[node] = emitted;
            if (c.IsGemm)
            {
                gemms++;
            }
            else
            {
                matMuls++;
            }
        }

        var nodes = new List<NodeProto>(graph.Node.Count + quantizedInputs.Count);
        foreach (NodeProto node in graph.Node)
        {
            if (removedNodes.Contains(node))
            {
                continue;
            }
            if (replacements.TryGetValue(node, out List<NodeProto>? q))
            {
                nodes.AddRange(q);
            }
            else
            {
                nodes.Add(node);
            }
        }
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        DropUnusedInitializers(graph);
        RemoveValueInfo(graph, droppedTensors);
        if (!model.OpsetImport.Any(o => o.Domain == MicrosoftDomain))
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        }
        return new QuantizationCounts(matMuls, gemms, biases, floatNodes, before, after);
    }

    /// <summary>Every MatMul / Gemm with a constant float weight, in graph order; the others are counted as float nodes.</summary>
    private static List<Candidate> FindCandidates(GraphProto graph, string source, out int floatNodes)
    {
        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (TensorProto t in graph.Initializer)
        {
            initializers[t.Name] = t;
        }
        var graphOutputs = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        var graphInputs = new HashSet<string>(graph.Input.Select(o => o.Name), StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (NodeProto node in graph.Node)
        {
            foreach (string input in node.Input)
            {
                if (!consumers.TryGetValue(input, out List<NodeProto>? list))
                {
                    consumers[input] = list = [];
                }
                list.Add(node);
            }
        }
        var candidates = new List<Candidate>();
        floatNodes = 0;
        foreach (NodeProto node in graph.Node)
        {
            bool isMatMul = node.OpType == "MatMul" && node.Domain.Length == 0;
            bool isGemm = node.OpType == "Gemm" && node.Domain.Length == 0;
            if (!isMatMul && !isGemm)
            {
                continue;
            }
            string? biasName = null;
            bool transposeWeight = false;
            if (!TryGetWeight(node, isGemm, initializers, graphInputs, out TensorProto? weight, ref transposeWeight, ref biasName, source))
            {
                floatNodes++;
                continue;
            }
            string output = node.Output[0];
            NodeProto? fusedAdd = null;
            if (biasName is null && isMatMul && !graphOutputs.Contains(output)
                && consumers.TryGetValue(output, out List<NodeProto>? users) && users.Count == 1
                && users[0] is { OpType: "Add", Domain: "" } add && add.Input.Count == 2)
            {
                string other = add.Input[0] == output ? add.Input[1] : add.Input[0];
                long columns = transposeWeight ? weight.Dims[0] : weight.Dims[1];
                if (initializers.TryGetValue(other, out TensorProto? bias) && !graphInputs.Contains(other)
                    && bias.DataType == (int)TensorProto.Types.DataType.Float && bias.Dims.Count == 1 && bias.Dims[0] == columns)
                {
                    biasName = other;
                    fusedAdd = add;
                }
            }
            candidates.Add(new Candidate(node, isGemm, weight, transposeWeight, biasName, fusedAdd));
        }
        return candidates;
    }

    /// <summary>
    /// QuantizeLinear of <paramref name="input"/> to uint8 with the fixed scale and zero point of its calibrated range
    /// (widened to hold 0, so a zero stays exact): scale = (max - min) / 255, zero point = round(-min / scale). Values
    /// outside the range saturate at 0 or 255.
    /// </summary>
    private static (NodeProto Node, string Scale, string ZeroPoint) QuantizeActivation(GraphProto graph, Dictionary<string, TensorProto> initializers,
        string input, ActivationRange range)
    {
        (float scale, byte zeroPoint) = range.UInt8Parameters();
        string baseName = Unique(initializers, input + "_quant_input");
        var scaleTensor = new TensorProto { Name = baseName + "_scale", DataType = (int)TensorProto.Types.DataType.Float };
        var scaleBytes = new byte[sizeof(float)];
        BinaryPrimitives.WriteSingleLittleEndian(scaleBytes, scale);
        scaleTensor.RawData = ByteString.CopyFrom(scaleBytes);
        var zeroTensor = new TensorProto { Name = baseName + "_zero_point", DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom([zeroPoint]) };
        AddInitializer(graph, initializers, scaleTensor);
        AddInitializer(graph, initializers, zeroTensor);
        var node = new NodeProto { Name = baseName, OpType = "QuantizeLinear", Domain = "" };
        node.Input.Add(input);
        node.Input.Add(scaleTensor.Name);
        node.Input.Add(zeroTensor.Name);
        node.Output.Add(baseName);
        return (node, scaleTensor.Name, zeroTensor.Name);
    }

    private static void AddInitializer(GraphProto graph, Dictionary<string, TensorProto> initializers, TensorProto tensor)
    {
        initializers[tensor.Name] = tensor;
        graph.Initializer.Add(tensor);
    }

    /// <summary>The constant weight of a MatMul (input B) or a Gemm we can express as x W + b.</summary>
    private static bool TryGetWeight(NodeProto node, bool isGemm, Dictionary<string, TensorProto> initializers, HashSet<string> graphInputs,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TensorProto? weight, ref bool transpose, ref string? bias, string source)
    {
        weight = null;
        if (node.Input.Count < 2 || graphInputs.Contains(node.Input[1]) || !initializers.TryGetValue(node.Input[1], out TensorProto? w)
            || w.DataType != (int)TensorProto.Types.DataType.Float || w.Dims.Count != 2)
        {
            return false;
        }
        if (w.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new ModelLoadException(
                $"{source}: weight '{w.Name}' is stored in an external data file; quantising needs the weights inside the .onnx file " +
                "(models under 2 GB: export without external data).");
        }
        if (isGemm)
        {
            foreach (AttributeProto a in node.Attribute)
            {
                bool ok = a.Name switch
                {
                    "alpha" or "beta" => a.F == 1f,
                    "transA" => a.I == 0,
                    "transB" => a.I is 0 or 1,
                    _ => false,
                };
                if (!ok)
                {
                    return false;
                }
                if (a.Name == "transB")
                {
                    transpose = a.I == 1;
                }
            }
            if (node.Input.Count >= 3 && node.Input[2].Length > 0)
            {
                long columns = transpose ? w.Dims[0] : w.Dims[1];
                if (graphInputs.Contains(node.Input[2]) || !initializers.TryGetValue(node.Input[2], out TensorProto? c)
                    || c.DataType != (int)TensorProto.Types.DataType.Float || c.Dims.Count != 1 || c.Dims[0] != columns)
                {
                    return false;
                }
                bias = c.Name;
            }
        }
        weight = w;
        return true;
    }

    /// <summary>
    /// Symmetric per-column int8: scale_n = max_k |W[k,n]| / qmax, q = round-half-even(W / scale_n), clamped to
    /// [-qmax, qmax], zero point 0. Returns the int8 weight [K, N], the scales [N] and the zero points [N].
    /// </summary>
    internal static (TensorProto Weight, TensorProto Scale, TensorProto ZeroPoint) QuantizeWeight(TensorProto weight, bool transpose, int weightBits, string name)
    {
        float[] values = ReadFloats(weight);
        int rows = checked((int)weight.Dims[0]);
        int cols = checked((int)weight.Dims[1]);
        int k = transpose ? cols : rows;
        int n = transpose ? rows : cols;
        // Element (kk, nn) of the logical [K, N] weight.
        int At(int kk, int nn) => transpose ? nn * cols + kk : kk * cols + nn;
        float qmax = weightBits == 8 ? 127f : 63f;
        var scales = new float[n];
        for (int nn = 0; nn < n; nn++)
        {
            float max = 0f;
            for (int kk = 0; kk < k; kk++)
            {
                max = MathF.Max(max, MathF.Abs(values[At(kk, nn)]));
            }
            scales[nn] = max > 0f ? max / qmax : 1f;
        }
        var q = new byte[checked(k * n)];
        for (int kk = 0; kk < k; kk++)
        {
            for (int nn = 0; nn < n; nn++)
            {
                float v = MathF.Round(values[At(kk, nn)] / scales[nn], MidpointRounding.ToEven);
                q[kk * n + nn] = (byte)(sbyte)Math.Clamp(v, -qmax, qmax);
            }
        }
        var qTensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom(q) };
        qTensor.Dims.Add(k);
        qTensor.Dims.Add(n);
        var scaleBytes = new byte[n * sizeof(float)];
        for (int i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(scaleBytes.AsSpan(i * sizeof(float)), scales[i]);
        }
        var scaleTensor = new TensorProto { Name = name + "_scale", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(scaleBytes) };
        scaleTensor.Dims.Add(n);
        var zeroTensor = new TensorProto { Name = name + "_zero_point", DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom(new byte[n]) };
        zeroTensor.Dims.Add(n);
        return (qTensor, scaleTensor, zeroTensor);
    }

    /// <summary>The values of a float tensor, from <c>raw_data</c> (little-endian) or <c>float_data</c>.</summary>
    internal static float[] ReadFloats(TensorProto tensor)
    {
        long count = 1;
        foreach (long d in tensor.Dims)
        {
            count = checked(count * d);
        }
        var values = new float[count];
        if (!tensor.RawData.IsEmpty)
        {
            ReadOnlySpan<byte> raw = tensor.RawData.Span;
            if (raw.Length != count * sizeof(float))
            {
                throw new ModelLoadException($"initializer '{tensor.Name}': {raw.Length} bytes of data for {count} floats; the ONNX file is damaged.");
            }
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
            }
            else
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * sizeof(float))..]);
                }
            }
        }
        else
        {
            if (tensor.FloatData.Count != count)
            {
                throw new ModelLoadException($"initializer '{tensor.Name}': {tensor.FloatData.Count} floats for shape of {count}; the ONNX file is damaged.");
            }
            tensor.FloatData.CopyTo(values, 0);
        }
        return values;
    }

    /// <summary>Removes initializers no node (or subgraph) reads any more, and the graph inputs that only declared them.</summary>
    private static void DropUnusedInitializers(GraphProto graph)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        CollectInputs(graph, used);
        foreach (ValueInfoProto o in graph.Output)
        {
            used.Add(o.Name);
        }
        var dropped = new HashSet<string>(StringComparer.Ordinal);
        for (int i = graph.Initializer.Count - 1; i >= 0; i--)
        {
            if (!used.Contains(graph.Initializer[i].Name))
            {
                dropped.Add(graph.Initializer[i].Name);
                graph.Initializer.RemoveAt(i);
            }
        }
        for (int i = graph.Input.Count - 1; i >= 0; i--)
        {
            if (dropped.Contains(graph.Input[i].Name))
            {
                graph.Input.RemoveAt(i);
            }
        }
        RemoveValueInfo(graph, dropped);
    }

    /// <summary>Every tensor name a node of <paramref name="graph"/> or of its subgraphs (If, Loop, Scan bodies) reads.</summary>
    private static void CollectInputs(GraphProto graph, HashSet<string> used)
    {
        foreach (NodeProto node in graph.Node)
        {
            foreach (string input in node.Input)
            {
                used.Add(input);
            }
            foreach (AttributeProto a in node.Attribute)
            {
                if (a.G is { } g)
                {
                    CollectInputs(g, used);
                }
                foreach (GraphProto sub in a.Graphs)
                {
                    CollectInputs(sub, used);
                }
            }
        }
    }

    private static void RemoveValueInfo(GraphProto graph, HashSet<string> names)
    {
        for (int i = graph.ValueInfo.Count - 1; i >= 0; i--)
        {
            if (names.Contains(graph.ValueInfo[i].Name))
            {
                graph.ValueInfo.RemoveAt(i);
            }
        }
    }

    private static string Unique(Dictionary<string, TensorProto> initializers, string name)
    {
        string candidate = name;
        for (int i = 1; initializers.ContainsKey(candidate) || initializers.ContainsKey(candidate + "_scale"); i++)
        {
            candidate = name + "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return candidate;
    }
}
