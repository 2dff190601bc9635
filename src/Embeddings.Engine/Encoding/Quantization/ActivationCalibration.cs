using System.Numerics.Tensors;
using Embeddings.Encoding.Onnx;
using Google.Protobuf;

namespace Embeddings.Encoding;

/// <summary>The range of values an activation tensor took over the calibration texts.</summary>
/// <param name="Min">Smallest value seen.</param>
/// <param name="Max">Largest value seen.</param>
internal readonly record struct ActivationRange(float Min, float Max)
{
    /// <summary>No value seen yet.</summary>
    public static ActivationRange Empty => new(float.PositiveInfinity, float.NegativeInfinity);

    /// <summary>This range widened to hold <paramref name="values"/>.</summary>
    public ActivationRange Including(ReadOnlySpan<float> values) =>
        values.IsEmpty ? this : new(MathF.Min(Min, TensorPrimitives.Min(values)), MathF.Max(Max, TensorPrimitives.Max(values)));

    /// <summary>
    /// uint8 scale and zero point that cover the range widened to hold 0 (so a zero, such as padding, stays exact):
    /// scale = (max - min) / 255, zero point = round(-min / scale).
    /// </summary>
    public (float Scale, byte ZeroPoint) UInt8Parameters()
    {
        float lo = MathF.Min(float.IsFinite(Min) ? Min : 0f, 0f);
        float hi = MathF.Max(float.IsFinite(Max) ? Max : 0f, 0f);
        if (hi - lo <= 0f)
        {
            return (1f, 0);
        }
        float scale = (hi - lo) / 255f;
        float zero = MathF.Round(-lo / scale, MidpointRounding.ToEven);
        return (scale, (byte)Math.Clamp(zero, 0f, 255f));
    }
}

/// <summary>
/// Calibration of static int8 quantisation: runs the float model over sample texts and records the range of every
/// activation tensor a quantised node will read. Each text runs alone (one window, cut at the token limit), so no
/// padding row enters a range. The ranges fix the activation scales of the quantised graph, which is what makes its
/// vector of a text independent of the other texts in a batch (ONNX Runtime's dynamic quantisation takes one scale per
/// batch tensor, so a text's vector moves with its companions).
/// </summary>
internal static class ActivationCalibration
{
    /// <summary>Texts beyond this many are not read: the ranges of all-MiniLM-L6-v2 stop widening well before.</summary>
    public const int MaxTexts = 1000;

    /// <summary>
    /// Ranges of <paramref name="tensors"/> over <paramref name="texts"/> (at most <see cref="MaxTexts"/>; empty texts
    /// are passed over). <paramref name="workDirectory"/> holds the source folder's tokenizer files (the quantiser's
    /// staging folder); the calibration graph is written there and removed.
    /// </summary>
    /// <returns>The range of each tensor, and how many texts were measured (empty ones and those past the cap are not).</returns>
    /// <exception cref="ModelLoadException">No text gave the model anything to read.</exception>
    public static (Dictionary<string, ActivationRange> Ranges, int MeasuredTexts) Measure(ModelManifest source, ModelProto model, IReadOnlyList<string> tensors,
        IReadOnlyList<string> texts, string workDirectory, IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        // The float graph with every measured tensor as an extra output (no shape given: the runtime infers it).
        ModelProto calibration = model.Clone();
        foreach (string name in tensors)
        {
            calibration.Graph.Output.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        }
        string file = ".calibration." + Guid.NewGuid().ToString("N") + ".onnx";
        string path = Path.Combine(workDirectory, file);
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            calibration.WriteTo(stream);
        }
        try
        {
            ModelManifest manifest = source.Derive(workDirectory, source.Name, file, [], quantization: null);
            using OnnxSentenceEncoder encoder = OnnxSentenceEncoder.Create(manifest, new EncoderOptions { Windowing = false }, verifyFiles: false);
            var ranges = new ActivationRange[tensors.Count];
            Array.Fill(ranges, ActivationRange.Empty);
            encoder.Runner.Observe(tensors, output =>
            {
                for (int i = 0; i < ranges.Length; i++)
                {
                    ranges[i] = ranges[i].Including(output.FloatsOf(i + 1));
                }
            });
            int count = Math.Min(texts.Count, MaxTexts), measured = 0;
            string[] one = new string[1];
            for (int t = 0; t < count; t++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                one[0] = texts[t];
                EmbeddingBatch batch = encoder.Encode(one, cancellationToken: cancellationToken);
                measured += batch.IsEmpty[0] ? 0 : 1;
                if (t % 50 == 0)
                {
                    progress?.Report(new WorkProgress("calibrating activation ranges", t, count, "texts"));
                }
            }
            if (measured == 0)
            {
                throw new ModelLoadException("the calibration texts are all empty; give files with titles or abstracts to calibrate on.");
            }
            progress?.Report(new WorkProgress("calibrating activation ranges", count, count, "texts"));
            var result = new Dictionary<string, ActivationRange>(StringComparer.Ordinal);
            for (int i = 0; i < tensors.Count; i++)
            {
                result[tensors[i]] = ranges[i];
            }
            return (result, measured);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
