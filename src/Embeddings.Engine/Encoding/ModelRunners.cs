using System.Buffers;
using System.Numerics.Tensors;
using Embeddings.Numerics;

namespace Embeddings.Encoding;

/// <summary>Where a runner reads the word pieces of the windows it is asked to embed.</summary>
internal interface IWindowSource
{
    /// <summary>The pieces of a window (no special ids).</summary>
    ReadOnlySpan<int> Window(int window);

    /// <summary>Number of pieces of a window.</summary>
    int LengthOf(int window);
}

/// <summary>Windows given as plain arrays (tests, benchmarks).</summary>
internal sealed class ArrayWindowSource(IReadOnlyList<int[]> windows) : IWindowSource
{
    public ReadOnlySpan<int> Window(int window) => windows[window];

    public int LengthOf(int window) => windows[window].Length;
}

/// <summary>
/// Turns a batch of windows into model inputs, runs the session and writes one vector per window. Thread-safe:
/// every run rents its own buffers, and the session allows concurrent runs.
/// </summary>
internal abstract class ModelRunner : IDisposable
{
    protected ModelRunner(OnnxModelSession session, ModelManifest manifest)
    {
        Session = session;
        Manifest = manifest;
        Dimension = manifest.Dimension;
    }

    public OnnxModelSession Session { get; }

    public ModelManifest Manifest { get; }

    public int Dimension { get; }

    /// <summary>Special ids added around each window ([CLS]/[SEP]: 2; USE-lite: 0).</summary>
    public abstract int SpecialTokens { get; }

    /// <summary>
    /// Embeds <paramref name="windows"/> (indices into <paramref name="source"/>) in one run; the vector of window w
    /// goes to <c>output[w * Dimension ..]</c>, pooled and normalised as the model requires.
    /// </summary>
    public abstract void Run(IWindowSource source, ReadOnlySpan<int> windows, Span<float> output, CancellationToken cancellationToken);

    public void Dispose() => Session.Dispose();

    private string[] _extraOutputs = [];
    private Action<ModelOutput>? _observer;

    /// <summary>
    /// Also fetches the graph outputs <paramref name="extraOutputs"/> on every run and hands them to
    /// <paramref name="observer"/> (as outputs 1.. of its argument; 0 is the model's own output), before the run's
    /// vectors are read. For quantisation's calibration, which reads intermediate tensors; not thread-safe with runs.
    /// </summary>
    internal void Observe(IReadOnlyList<string> extraOutputs, Action<ModelOutput> observer)
    {
        _extraOutputs = [.. extraOutputs];
        _observer = observer;
    }

    /// <summary>Runs the session for <paramref name="output"/> (and any observed outputs).</summary>
    protected ModelOutput RunSession(ReadOnlySpan<ModelInput> inputs, string output, CancellationToken cancellationToken)
    {
        if (_observer is null)
        {
            return Session.Run(inputs, output, cancellationToken);
        }
        ModelOutput result = Session.Run(inputs, [output, .. _extraOutputs], cancellationToken);
        try
        {
            _observer(result);
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return result;
    }

    protected static string RequireInput(OnnxModelSession session, ModelManifest manifest, string role, bool optional = false)
    {
        string name = manifest.Inputs.TryGetValue(role, out string? n) ? n : role;
        foreach (OnnxTensorInfo input in session.Inputs)
        {
            if (input.Name == name)
            {
                return name;
            }
        }
        if (optional)
        {
            return "";
        }
        throw new ModelLoadException(
            $"{manifest.ModelPath}: the graph has no input '{name}' (role {role}); its inputs are " +
            $"{string.Join(", ", session.Inputs.Select(i => i.Name))}. Fix 'inputs' in {ModelManifest.FileName} or use a model of kind {manifest.KindName}.");
    }

    protected static string RequireOutput(OnnxModelSession session, ModelManifest manifest)
    {
        foreach (OnnxTensorInfo output in session.Outputs)
        {
            if (output.Name == manifest.Output)
            {
                return manifest.Output;
            }
        }
        throw new ModelLoadException(
            $"{manifest.ModelPath}: the graph has no output '{manifest.Output}'; its outputs are " +
            $"{string.Join(", ", session.Outputs.Select(o => o.Name))}. Fix 'output' in {ModelManifest.FileName}.");
    }
}

/// <summary>
/// USE-lite: a batch is given in sparse form, <c>indices</c> [N, 2] = (row, position) and <c>values</c> [N] = ids;
/// the graph pools, projects and L2-normalises, so its [rows, 512] output is copied as is. Rows never have zero
/// pieces (the graph would drop a trailing empty row): empty texts are kept out by the caller.
/// </summary>
internal sealed class UseLiteRunner : ModelRunner
{
    private readonly string _indices;
    private readonly string _values;
    private readonly string _output;

    public UseLiteRunner(OnnxModelSession session, ModelManifest manifest) : base(session, manifest)
    {
        _indices = RequireInput(session, manifest, "indices");
        _values = RequireInput(session, manifest, "values");
        _output = RequireOutput(session, manifest);
    }

    public override int SpecialTokens => 0;

    public override void Run(IWindowSource source, ReadOnlySpan<int> windows, Span<float> output, CancellationToken cancellationToken)
    {
        int tokens = 0;
        foreach (int w in windows)
        {
            tokens += source.LengthOf(w);
        }
        long[] indices = ArrayPool<long>.Shared.Rent(tokens * 2);
        long[] values = ArrayPool<long>.Shared.Rent(tokens);
        try
        {
            int k = 0;
            for (int row = 0; row < windows.Length; row++)
            {
                ReadOnlySpan<int> ids = source.Window(windows[row]);
                for (int p = 0; p < ids.Length; p++, k++)
                {
                    indices[2 * k] = row;
                    indices[2 * k + 1] = p;
                    values[k] = ids[p];
                }
            }
            ReadOnlySpan<ModelInput> inputs =
            [
                new ModelInput(_indices, new Memory<long>(indices, 0, tokens * 2), [tokens, 2]),
                new ModelInput(_values, new Memory<long>(values, 0, tokens), [tokens]),
            ];
            using ModelOutput result = RunSession(inputs, _output, cancellationToken);
            long[] shape = result.Shape;
            if (shape.Length != 2 || shape[0] != windows.Length || shape[1] != Dimension)
            {
                throw new EmbeddingsException(
                    $"{Manifest.ModelPath}: output shape [{string.Join(", ", shape)}] for {windows.Length} texts; " +
                    $"expected [{windows.Length}, {Dimension}]. Is the manifest's dimension right?");
            }
            ReadOnlySpan<float> data = result.Floats;
            for (int row = 0; row < windows.Length; row++)
            {
                data.Slice(row * Dimension, Dimension).CopyTo(output.Slice(windows[row] * Dimension, Dimension));
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(indices);
            ArrayPool<long>.Shared.Return(values);
        }
    }
}

/// <summary>
/// sentence-transformers: each window becomes <c>[CLS] pieces [SEP]</c>, right-padded with 0 to the longest row
/// (attention mask 0 there, token types all 0); <c>last_hidden_state</c> [rows, seq, hidden] is pooled (mean over
/// the mask, or the [CLS] row) in double precision and L2-normalised when the model has a Normalize module.
/// </summary>
internal sealed class BertRunner : ModelRunner
{
    private readonly string _inputIds;
    private readonly string _attentionMask;
    private readonly string _tokenTypeIds;
    private readonly string _output;
    private readonly int _cls;
    private readonly int _sep;
    private readonly int _pad;

    public BertRunner(OnnxModelSession session, ModelManifest manifest, int clsId, int sepId, int padId) : base(session, manifest)
    {
        _inputIds = RequireInput(session, manifest, "input_ids");
        _attentionMask = RequireInput(session, manifest, "attention_mask");
        _tokenTypeIds = RequireInput(session, manifest, "token_type_ids", optional: true);
        _output = RequireOutput(session, manifest);
        _cls = clsId;
        _sep = sepId;
        _pad = padId < 0 ? 0 : padId;
    }

    public override int SpecialTokens => 2;

    public override void Run(IWindowSource source, ReadOnlySpan<int> windows, Span<float> output, CancellationToken cancellationToken)
    {
        int rows = windows.Length;
        int seq = 0;
        foreach (int w in windows)
        {
            seq = Math.Max(seq, source.LengthOf(w) + 2);
        }
        int cells = rows * seq;
        long[] ids = ArrayPool<long>.Shared.Rent(cells);
        long[] mask = ArrayPool<long>.Shared.Rent(cells);
        long[] types = ArrayPool<long>.Shared.Rent(cells);
        double[] sum = ArrayPool<double>.Shared.Rent(Dimension);
        try
        {
            ids.AsSpan(0, cells).Fill(_pad);
            mask.AsSpan(0, cells).Clear();
            types.AsSpan(0, cells).Clear();
            for (int row = 0; row < rows; row++)
            {
                ReadOnlySpan<int> pieces = source.Window(windows[row]);
                Span<long> rowIds = ids.AsSpan(row * seq, seq);
                rowIds[0] = _cls;
                for (int p = 0; p < pieces.Length; p++)
                {
                    rowIds[p + 1] = pieces[p];
                }
                rowIds[pieces.Length + 1] = _sep;
                mask.AsSpan(row * seq, pieces.Length + 2).Fill(1);
            }
            long[] shape = [rows, seq];
            ReadOnlySpan<ModelInput> inputs = _tokenTypeIds.Length == 0
                ? [new ModelInput(_inputIds, new Memory<long>(ids, 0, cells), shape),
                   new ModelInput(_attentionMask, new Memory<long>(mask, 0, cells), shape)]
                : [new ModelInput(_inputIds, new Memory<long>(ids, 0, cells), shape),
                   new ModelInput(_attentionMask, new Memory<long>(mask, 0, cells), shape),
                   new ModelInput(_tokenTypeIds, new Memory<long>(types, 0, cells), shape)];
            using ModelOutput result = RunSession(inputs, _output, cancellationToken);
            long[] outShape = result.Shape;
            if (outShape.Length != 3 || outShape[0] != rows || outShape[1] != seq || outShape[2] != Dimension)
            {
                throw new EmbeddingsException(
                    $"{Manifest.ModelPath}: output shape [{string.Join(", ", outShape)}]; expected [{rows}, {seq}, {Dimension}]. " +
                    "Is the manifest's dimension (hidden_size) right?");
            }
            ReadOnlySpan<float> hidden = result.Floats;
            Span<double> acc = sum.AsSpan(0, Dimension);
            for (int row = 0; row < rows; row++)
            {
                int length = source.LengthOf(windows[row]) + 2;
                ReadOnlySpan<float> rowHidden = hidden.Slice(row * seq * Dimension, seq * Dimension);
                Span<float> target = output.Slice(windows[row] * Dimension, Dimension);
                if (Manifest.Pooling == PoolingMode.Cls)
                {
                    for (int d = 0; d < Dimension; d++)
                    {
                        acc[d] = rowHidden[d];
                    }
                }
                else
                {
                    acc.Clear();
                    for (int s = 0; s < length; s++)
                    {
                        ReadOnlySpan<float> h = rowHidden.Slice(s * Dimension, Dimension);
                        for (int d = 0; d < Dimension; d++)
                        {
                            acc[d] += h[d];
                        }
                    }
                    double inv = 1.0 / Math.Max(length, 1e-9);
                    for (int d = 0; d < Dimension; d++)
                    {
                        acc[d] *= inv;
                    }
                }
                if (Manifest.Normalize)
                {
                    VectorMath.NormalizeTo(acc, target);
                }
                else
                {
                    for (int d = 0; d < Dimension; d++)
                    {
                        target[d] = (float)acc[d];
                    }
                }
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<long>.Shared.Return(mask);
            ArrayPool<long>.Shared.Return(types);
            ArrayPool<double>.Shared.Return(sum);
        }
    }
}

/// <summary>Combines the window vectors of one text.</summary>
internal static class WindowCombiner
{
    /// <summary>
    /// Token-count weighted mean of the window vectors, re-normalised when <paramref name="normalize"/>. One window is
    /// copied unchanged, so a text within the limit gets exactly the model's vector.
    /// </summary>
    public static void Combine(ReadOnlySpan<float> windowVectors, ReadOnlySpan<int> weights, int dimension, bool normalize, Span<float> target)
    {
        if (weights.Length == 1)
        {
            windowVectors[..dimension].CopyTo(target);
            return;
        }
        target.Clear();
        long total = 0;
        for (int w = 0; w < weights.Length; w++)
        {
            TensorPrimitives.MultiplyAdd(windowVectors.Slice(w * dimension, dimension), (float)weights[w], target, target);
            total += weights[w];
        }
        if (normalize)
        {
            VectorMath.Normalize(target);
        }
        else if (total > 0)
        {
            TensorPrimitives.Divide(target, total, target);
        }
    }
}
