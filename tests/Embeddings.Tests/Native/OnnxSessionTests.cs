using System.Text.Json;
using Embeddings.Native;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Native;

/// <summary>The binding runs the real models and reproduces the reference runtime's outputs.</summary>
public sealed class OnnxSessionTests
{
    [Fact]
    public void UseLite_batch_of_reference_sentences_matches_reference_embeddings()
    {
        var reference = NativeFixtures.UseLiteRef;
        var output = NativeFixtures.EmbedUseLite(NativeFixtures.UseLite, reference.TokenIds);

        for (int row = 0; row < reference.TokenIds.Count; row++)
        {
            var actual = output.AsSpan(row * 512, 512);
            Assert.True(NativeFixtures.MaxAbsDiff(actual, reference.Embeddings[row]) <= 1e-5f, $"row {row} differs from reference_embeddings.json");
        }
    }

    [Fact]
    public void UseLite_each_sentence_alone_matches_reference_embeddings()
    {
        var reference = NativeFixtures.UseLiteRef;
        for (int row = 0; row < reference.TokenIds.Count; row++)
        {
            var output = NativeFixtures.EmbedUseLite(NativeFixtures.UseLite, [reference.TokenIds[row]]);
            Assert.True(NativeFixtures.MaxAbsDiff(output, reference.Embeddings[row]) <= 1e-5f, $"sentence {row} alone differs");
        }
    }

    [Fact]
    public void TinyBert_raw_last_hidden_state_matches_golden()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "tiny-bert", "golden_embeddings.json")));
        var raw = doc.RootElement.GetProperty("raw_last_hidden_state");
        long[] ids = raw.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var expected = new List<double>();
        foreach (var batch in raw.GetProperty("last_hidden_state").EnumerateArray())
        {
            foreach (var token in batch.EnumerateArray())
            {
                expected.AddRange(token.EnumerateArray().Select(e => e.GetDouble()));
            }
        }
        long[] shape = [1, ids.Length];
        var mask = Enumerable.Repeat(1L, ids.Length).ToArray();
        var types = new long[ids.Length];

        var session = NativeFixtures.TinyBert;
        NamedTensor[] inputs =
        [
            // Deliberately not in the model's declaration order: inputs are matched by name.
            NamedTensor.Int64("token_type_ids", types, shape),
            NamedTensor.Int64("input_ids", ids, shape),
            NamedTensor.Int64("attention_mask", mask, shape),
        ];
        using var outputs = session.Run(inputs);

        Assert.Equal("last_hidden_state", outputs.GetName(0));
        Assert.Equal(TensorElementType.Float32, outputs.GetElementType(0));
        Assert.Equal(raw.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), outputs.GetShape(0).ToArray());
        Assert.True(NativeFixtures.MaxAbsDiff(outputs.GetFloat32(0), expected) <= 1e-4f);
    }

    [Fact]
    public void Metadata_is_read_from_the_models()
    {
        var use = NativeFixtures.UseLite;
        Assert.Equal(["indices", "values"], use.Inputs.Select(i => i.Name).Order().ToArray());
        Assert.All(use.Inputs, i => Assert.Equal(TensorElementType.Int64, i.ElementType));
        var indices = use.Inputs.Single(i => i.Name == "indices");
        Assert.Equal(2, indices.Shape.Count);
        Assert.Equal(2, indices.Shape[1]);
        Assert.True(indices.Shape[0] < 0, "the row count of indices is dynamic");
        var output = Assert.Single(use.Outputs);
        Assert.Equal(NativeFixtures.UseLiteOutput, output.Name);
        Assert.Equal(TensorElementType.Float32, output.ElementType);
        Assert.Equal(ExecutionProvider.Cpu, use.ExecutionProvider);
        Assert.Null(use.ProviderWarning);

        var bert = NativeFixtures.TinyBert;
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], bert.Inputs.Select(i => i.Name).ToArray());
        var inputIds = bert.Inputs[0];
        Assert.Equal(TensorElementType.Int64, inputIds.ElementType);
        Assert.Equal([-1L, -1L], inputIds.Shape.ToArray());
        Assert.Equal(["batch_size", "sequence_length"], inputIds.DimensionNames.ToArray());
        Assert.Equal("input_ids: Int64[batch_size, sequence_length]", inputIds.ToString());
        var hidden = Assert.Single(bert.Outputs);
        Assert.Equal("last_hidden_state", hidden.Name);
        Assert.Equal(3, hidden.Shape.Count);
        Assert.Equal(32, hidden.Shape[2]);
    }

    [Fact]
    public void Concurrent_runs_on_one_session_give_the_same_vectors()
    {
        var reference = NativeFixtures.UseLiteRef;
        var session = NativeFixtures.UseLite;
        var results = new float[8][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var ids = reference.TokenIds[i % reference.TokenIds.Count];
            results[i] = NativeFixtures.EmbedUseLite(session, [ids]);
        });
        for (int i = 0; i < results.Length; i++)
        {
            Assert.True(NativeFixtures.MaxAbsDiff(results[i], reference.Embeddings[i % reference.TokenIds.Count]) <= 1e-5f);
        }
    }

    [Fact]
    public void Outputs_can_be_disposed_twice_and_refuse_reads_afterwards()
    {
        var ids = NativeFixtures.UseLiteRef.TokenIds[0];
        var (indices, values) = NativeFixtures.Sparse([ids]);
        var outputs = NativeFixtures.UseLite.Run(
            [NamedTensor.Int64("indices", indices, new long[] { ids.Length, 2 }), NamedTensor.Int64("values", values, new long[] { ids.Length })],
            [NativeFixtures.UseLiteOutput]);
        Assert.Equal(512, outputs.GetFloat32(0).Length);
        Assert.Throws<InvalidOperationException>(() => outputs.GetInt64(0));

        outputs.Dispose();
        outputs.Dispose();

        Assert.Throws<ObjectDisposedException>(() => outputs.GetFloat32(0).Length);
        Assert.Throws<ObjectDisposedException>(() => outputs.GetShape(0).Length);
    }

    [Fact]
    public void Unknown_names_and_wrong_types_are_caller_errors_that_list_the_model_io()
    {
        var session = NativeFixtures.UseLite;
        long[] data = [1, 2, 3];
        var badInput = Assert.Throws<ArgumentException>(() =>
            session.Run([NamedTensor.Int64("tokens", data, new long[] { 3 })], [NativeFixtures.UseLiteOutput]));
        Assert.Contains("indices", badInput.Message);
        Assert.Contains("values", badInput.Message);

        var badOutput = Assert.Throws<ArgumentException>(() =>
            session.Run([NamedTensor.Int64("values", data, new long[] { 3 })], ["embedding"]));
        Assert.Contains(NativeFixtures.UseLiteOutput, badOutput.Message);

        var badType = Assert.Throws<ArgumentException>(() =>
            session.Run([NamedTensor.Float32("values", new float[] { 1, 2, 3 }, new long[] { 3 })], [NativeFixtures.UseLiteOutput]));
        Assert.Contains("Int64", badType.Message);

        Assert.Throws<ArgumentException>(() => NamedTensor.Int64("values", data, new long[] { 4 }));
        Assert.Throws<ArgumentException>(() => NamedTensor.Int64("values", data, new long[] { -3 }));
    }

    [Fact]
    public void A_shape_the_model_rejects_is_a_runtime_error_with_its_code()
    {
        var session = NativeFixtures.TinyBert;
        long[] ids = [101, 7592, 102];
        // Rank 1 where the model declares [batch, sequence].
        NamedTensor[] inputs =
        [
            NamedTensor.Int64("input_ids", ids, new long[] { 3 }),
            NamedTensor.Int64("attention_mask", new long[] { 1, 1, 1 }, new long[] { 3 }),
            NamedTensor.Int64("token_type_ids", new long[3], new long[] { 3 }),
        ];
        var error = Assert.Throws<OnnxRuntimeException>(() => session.Run(inputs).Dispose());
        Assert.Equal(OrtErrorCode.InvalidArgument, error.ErrorCode);
        Assert.Equal("Run", error.Operation);
    }

    [Fact]
    public void A_cancelled_token_stops_the_run()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            NativeFixtures.EmbedUseLite(NativeFixtures.UseLite, [NativeFixtures.UseLiteRef.TokenIds[0]], cancelled.Token));

        // A token that is never cancelled goes through the run-options path and still gives the right vector.
        using var live = new CancellationTokenSource();
        var output = NativeFixtures.EmbedUseLite(NativeFixtures.UseLite, [NativeFixtures.UseLiteRef.TokenIds[0]], live.Token);
        Assert.True(NativeFixtures.MaxAbsDiff(output, NativeFixtures.UseLiteRef.Embeddings[0]) <= 1e-5f);
    }

    [Fact]
    public void Cancelling_during_a_long_run_terminates_it()
    {
        // 96 texts of 128 pieces: hundreds of milliseconds of work, cancelled after 20 ms.
        var random = new Random(42);
        var batch = new List<long[]>();
        for (int i = 0; i < 96; i++)
        {
            batch.Add(Enumerable.Range(0, 128).Select(_ => (long)random.Next(6, 8000)).ToArray());
        }
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var error = Assert.ThrowsAny<OperationCanceledException>(() => NativeFixtures.EmbedUseLite(NativeFixtures.UseLite, batch, cancellation.Token));

        Assert.Equal(cancellation.Token, error.CancellationToken);
        // The session is still usable afterwards.
        var output = NativeFixtures.EmbedUseLite(NativeFixtures.UseLite, [NativeFixtures.UseLiteRef.TokenIds[4]]);
        Assert.True(NativeFixtures.MaxAbsDiff(output, NativeFixtures.UseLiteRef.Embeddings[4]) <= 1e-5f);
    }

    [Fact]
    public void Session_options_are_applied_and_results_do_not_depend_on_them()
    {
        var runtime = OrtRuntime.Load();
        using var session = OnnxSession.Create(runtime, NativeFixtures.UseLiteModelPath, new OnnxSessionOptions
        {
            IntraOpThreads = 2,
            InterOpThreads = 2,
            OptimizationLevel = GraphOptimizationLevel.Basic,
            AllowSpinning = false,
        });
        var output = NativeFixtures.EmbedUseLite(session, [NativeFixtures.UseLiteRef.TokenIds[3]]);
        Assert.True(NativeFixtures.MaxAbsDiff(output, NativeFixtures.UseLiteRef.Embeddings[3]) <= 1e-5f);

        Assert.Throws<ArgumentOutOfRangeException>(() =>
            OnnxSession.Create(runtime, NativeFixtures.UseLiteModelPath, new OnnxSessionOptions { IntraOpThreads = -1 }));
    }

    [Fact]
    public void An_empty_batch_runs_and_gives_an_empty_output()
    {
        long[] shape = [0, 4];
        using var outputs = NativeFixtures.TinyBert.Run(
        [
            NamedTensor.Int64("input_ids", Array.Empty<long>(), shape),
            NamedTensor.Int64("attention_mask", Array.Empty<long>(), shape),
            NamedTensor.Int64("token_type_ids", Array.Empty<long>(), shape),
        ]);
        Assert.Equal([0L, 4L, 32L], outputs.GetShape(0).ToArray());
        Assert.True(outputs.GetFloat32(0).IsEmpty);
    }

    [Fact]
    public void Disposed_session_refuses_to_run()
    {
        var session = OnnxSession.Create(OrtRuntime.Load(), NativeFixtures.TinyBertModelPath);
        session.Dispose();
        session.Dispose();
        long[] ids = [101, 102];
        Assert.Throws<ObjectDisposedException>(() => session.Run(
        [
            NamedTensor.Int64("input_ids", ids, new long[] { 1, 2 }),
            NamedTensor.Int64("attention_mask", new long[] { 1, 1 }, new long[] { 1, 2 }),
            NamedTensor.Int64("token_type_ids", new long[2], new long[] { 1, 2 }),
        ]));
    }
}
