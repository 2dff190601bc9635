using System.Text.Json;
using Embeddings.Native;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Native;

/// <summary>
/// Shared, lazily created sessions over the real models in ../shared/models: creating a session costs a few
/// hundred milliseconds, so the native tests reuse one per model (sessions are safe to run concurrently).
/// The runtime is found exactly as the product finds it (OrtRuntime.Load(), after scripts/setup.sh).
/// </summary>
internal static class NativeFixtures
{
    public const string UseLiteOutput = "module_apply_default/Encoder_en/hidden_layers/l2_normalize";

    private static readonly Lazy<OnnxSession> UseLiteLazy = new(() =>
        OnnxSession.Create(OrtRuntime.Load(), UseLiteModelPath, new OnnxSessionOptions { IntraOpThreads = 1 }));

    private static readonly Lazy<OnnxSession> TinyBertLazy = new(() =>
        OnnxSession.Create(OrtRuntime.Load(), TinyBertModelPath, new OnnxSessionOptions { IntraOpThreads = 1 }));

    private static readonly Lazy<UseLiteReference> UseLiteReferenceLazy = new(LoadUseLiteReference);

    public static string UseLiteModelPath => TestPaths.SharedFile("models", "use-lite", "use_lite.onnx");

    public static string TinyBertModelPath => TestPaths.SharedFile("models", "tiny-bert", "model.onnx");

    public static OnnxSession UseLite => UseLiteLazy.Value;

    public static OnnxSession TinyBert => TinyBertLazy.Value;

    public static UseLiteReference UseLiteRef => UseLiteReferenceLazy.Value;

    /// <summary>The sparse USE-lite inputs for a batch of token-id lists: indices [N,2] = (row, position), values [N].</summary>
    public static (long[] Indices, long[] Values) Sparse(IReadOnlyList<long[]> batch)
    {
        int n = 0;
        foreach (var ids in batch)
        {
            n += ids.Length;
        }
        var indices = new long[n * 2];
        var values = new long[n];
        int k = 0;
        for (int row = 0; row < batch.Count; row++)
        {
            for (int pos = 0; pos < batch[row].Length; pos++)
            {
                indices[2 * k] = row;
                indices[2 * k + 1] = pos;
                values[k] = batch[row][pos];
                k++;
            }
        }
        return (indices, values);
    }

    /// <summary>Runs USE-lite on a batch and returns a copy of the [B,512] output.</summary>
    public static float[] EmbedUseLite(OnnxSession session, IReadOnlyList<long[]> batch, CancellationToken cancellationToken = default)
    {
        var (indices, values) = Sparse(batch);
        NamedTensor[] inputs =
        [
            NamedTensor.Int64("indices", indices, new long[] { values.Length, 2 }),
            NamedTensor.Int64("values", values, new long[] { values.Length }),
        ];
        using var outputs = session.Run(inputs, [UseLiteOutput], cancellationToken);
        Assert.Equal(new long[] { batch.Count, 512 }, outputs.GetShape(0).ToArray());
        return outputs.GetFloat32(0).ToArray();
    }

    public static float MaxAbsDiff(ReadOnlySpan<float> actual, IReadOnlyList<double> expected)
    {
        Assert.Equal(expected.Count, actual.Length);
        double max = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        }
        return (float)max;
    }

    private static UseLiteReference LoadUseLiteReference()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "use-lite", "reference_embeddings.json")));
        var root = doc.RootElement;
        var tokens = new List<long[]>();
        foreach (var row in root.GetProperty("token_ids").EnumerateArray())
        {
            tokens.Add(row.EnumerateArray().Select(e => e.GetInt64()).ToArray());
        }
        var embeddings = new List<double[]>();
        foreach (var row in root.GetProperty("embeddings").EnumerateArray())
        {
            embeddings.Add(row.EnumerateArray().Select(e => e.GetDouble()).ToArray());
        }
        return new UseLiteReference(tokens, embeddings);
    }
}

internal sealed record UseLiteReference(IReadOnlyList<long[]> TokenIds, IReadOnlyList<double[]> Embeddings);
