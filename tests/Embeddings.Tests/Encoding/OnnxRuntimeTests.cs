using System.Diagnostics;
using System.Text.Json;
using Embeddings.Encoding;
using Embeddings.Tests.Support;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Embeddings.Tests.Encoding;

/// <summary>
/// The ONNX Runtime layer (Microsoft.ML.OnnxRuntime.Managed over the native library that OnnxRuntimeLibrary picks):
/// the library found, graph metadata, raw outputs against a reference, typed errors, cancellation, CUDA without CUDA.
/// </summary>
public sealed class OnnxRuntimeTests
{
    private static readonly Lazy<OnnxModelSession> TinyBert = new(() =>
        OnnxModelSession.Create(TestPaths.SharedFile("models", "tiny-bert", "model.onnx"), new OnnxSessionSettings { IntraOpThreads = 1 }));

    private static readonly Lazy<OnnxModelSession> UseLite = new(() =>
        OnnxModelSession.Create(Path.Combine(EncoderFixtures.UseLiteDir, "use_lite.onnx"), new OnnxSessionSettings { IntraOpThreads = 1 }));

    private const string UseLiteOutput = "module_apply_default/Encoder_en/hidden_layers/l2_normalize";

    [Fact]
    public void The_cpu_library_beside_the_program_is_loaded_unless_another_is_named()
    {
        OnnxRuntimeInfo runtime = TinyBert.Value.Runtime;
        Assert.Same(runtime, OnnxRuntimeLibrary.Loaded);
        Assert.StartsWith("1.3", runtime.Version, StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable(OnnxRuntimeLibrary.LibraryPathVariable) is not { Length: > 0 })
        {
            Assert.Equal(OnnxRuntimeLibrary.Version, runtime.Version);
            Assert.Equal(Path.Combine(AppContext.BaseDirectory, "onnxruntime", "cpu", "libonnxruntime.so"), runtime.Path);
            Assert.False(runtime.IsGpuBuild);
        }
        Assert.Equal(ComputeDevice.Cpu, TinyBert.Value.Device);
        Assert.Null(TinyBert.Value.ProviderWarning);
    }

    [Fact]
    public void Input_and_output_names_and_shapes_are_read_from_the_graph()
    {
        OnnxModelSession bert = TinyBert.Value;
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], bert.Inputs.Select(i => i.Name).ToArray());
        Assert.All(bert.Inputs, i => Assert.Equal(TensorElementType.Int64, i.ElementType));
        Assert.Equal([-1L, -1L], bert.Inputs[0].Shape.ToArray());
        Assert.Equal("input_ids: Int64[batch_size, sequence_length]", bert.Inputs[0].ToString());
        OnnxTensorInfo hidden = Assert.Single(bert.Outputs);
        Assert.Equal("last_hidden_state", hidden.Name);
        Assert.Equal(32, hidden.Shape[2]);

        OnnxModelSession use = UseLite.Value;
        Assert.Equal(["indices", "values"], use.Inputs.Select(i => i.Name).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(2, use.Inputs.Single(i => i.Name == "indices").Shape[1]);
        Assert.Equal(UseLiteOutput, Assert.Single(use.Outputs).Name);
    }

    [Fact]
    public void Raw_last_hidden_state_of_tiny_bert_matches_the_golden_file()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "tiny-bert", "golden_embeddings.json")));
        JsonElement raw = doc.RootElement.GetProperty("raw_last_hidden_state");
        long[] ids = raw.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var expected = new List<float>();
        foreach (JsonElement batch in raw.GetProperty("last_hidden_state").EnumerateArray())
        {
            foreach (JsonElement token in batch.EnumerateArray())
            {
                expected.AddRange(token.EnumerateArray().Select(e => e.GetSingle()));
            }
        }
        long[] shape = [1, ids.Length];
        long[] mask = Enumerable.Repeat(1L, ids.Length).ToArray();
        ModelInput[] inputs =
        [
            // Not in declaration order: inputs are matched by name.
            new("token_type_ids", new long[ids.Length], shape),
            new("input_ids", ids, shape),
            new("attention_mask", mask, shape),
        ];
        using ModelOutput output = TinyBert.Value.Run(inputs, "last_hidden_state", CancellationToken.None);
        Assert.Equal(raw.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), output.Shape);
        Assert.True(EncoderFixtures.MaxAbsDiff(output.Floats, expected.ToArray()) <= 1e-4f);
        // The input arrays are the caller's and were read in place, never changed.
        Assert.All(mask, m => Assert.Equal(1L, m));
    }

    [Fact]
    public void A_shape_the_graph_rejects_is_an_onnx_runtime_exception_with_its_code()
    {
        long[] ids = [101, 7592, 102];
        ModelInput[] inputs =
        [
            new("input_ids", ids, [3]),
            new("attention_mask", new long[] { 1, 1, 1 }, [3]),
            new("token_type_ids", new long[3], [3]),
        ];
        var error = Assert.Throws<OnnxRuntimeException>(() => TinyBert.Value.Run(inputs, "last_hidden_state", CancellationToken.None).Dispose());
        Assert.Equal("InvalidArgument", error.RuntimeErrorCode);
        Assert.Contains("model.onnx", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<EmbeddingsException>(error);
    }

    [Fact]
    public void Corrupt_or_missing_model_file_is_a_model_load_exception_naming_it()
    {
        using var dir = new TempDir();
        string model = dir.File("corrupt.onnx");
        var bytes = new byte[10_000];
        new Random(1234).NextBytes(bytes);
        File.WriteAllBytes(model, bytes);
        var corrupt = Assert.Throws<ModelLoadException>(() => OnnxModelSession.Create(model, new OnnxSessionSettings()));
        Assert.Contains("corrupt.onnx", corrupt.Message, StringComparison.Ordinal);
        Assert.Contains("InvalidProtobuf", corrupt.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<ModelLoadException>(() => OnnxModelSession.Create(dir.File("none.onnx"), new OnnxSessionSettings()));
        Assert.Contains("none.onnx", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cancelled_token_stops_a_run_before_during_or_right_after_it()
    {
        using var before = new CancellationTokenSource();
        before.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => RunUseLite(UseLite.Value, [[1, 2, 3]], before.Token));

        // 96 texts of 128 pieces: far longer than the 20 ms before the token is cancelled. Whether the runtime stops
        // between nodes or the run ends first, the caller gets the cancellation (checked after the run as well).
        var random = new Random(42);
        var batch = Enumerable.Range(0, 96).Select(_ => Enumerable.Range(0, 128).Select(_ => (long)random.Next(6, 8000)).ToArray()).ToList();
        using var during = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        var error = Assert.ThrowsAny<OperationCanceledException>(() => RunUseLite(UseLite.Value, batch, during.Token));
        Assert.Equal(during.Token, error.CancellationToken);

        // The session still works, with a live token too.
        using var live = new CancellationTokenSource();
        Assert.Equal(512, RunUseLite(UseLite.Value, [[5, 6, 7]], live.Token).Length);
    }

    [Fact]
    public void Session_settings_change_speed_not_vectors()
    {
        long[][] batch = [[12, 400, 35, 9], [77, 78, 79, 80, 81, 82, 83]];
        float[] reference = RunUseLite(UseLite.Value, batch, CancellationToken.None);
        using OnnxModelSession tuned = OnnxModelSession.Create(Path.Combine(EncoderFixtures.UseLiteDir, "use_lite.onnx"), new OnnxSessionSettings
        {
            IntraOpThreads = 2,
            InterOpThreads = 2,
            ParallelExecution = true,
            AllowSpinning = false,
            OptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        });
        Assert.True(EncoderFixtures.MaxAbsDiff(RunUseLite(tuned, batch, CancellationToken.None), reference) <= 1e-5f);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            OnnxModelSession.Create(Path.Combine(EncoderFixtures.UseLiteDir, "use_lite.onnx"), new OnnxSessionSettings { IntraOpThreads = -1 }));
    }

    [Fact]
    public void Cuda_without_the_gpu_build_or_cuda_fails_naming_what_is_missing_or_falls_back_with_a_warning()
    {
        OnnxModelSession session;
        try
        {
            session = OnnxModelSession.Create(TestPaths.SharedFile("models", "tiny-bert", "model.onnx"),
                new OnnxSessionSettings { Device = ComputeDevice.Cuda, IntraOpThreads = 1 });
        }
        catch (ExecutionProviderUnavailableException e)
        {
            Assert.Contains("CUDA is not usable", e.Message, StringComparison.Ordinal);
            Assert.Contains("--allow-cpu-fallback", e.Message, StringComparison.Ordinal);
            if (OnnxRuntimeLibrary.Loaded is { IsGpuBuild: false })
            {
                // A CPU build is running (here, CI): the message says so or names the missing GPU build and libraries.
                Assert.True(e.Message.Contains("CPU build", StringComparison.Ordinal) || e.Message.Contains("setup.sh --cuda", StringComparison.Ordinal)
                    || e.MissingLibraries.Count > 0, e.Message);
            }
            foreach (string library in e.MissingLibraries)
            {
                Assert.Contains(library, e.Message, StringComparison.Ordinal);
            }
            using OnnxModelSession fallback = OnnxModelSession.Create(TestPaths.SharedFile("models", "tiny-bert", "model.onnx"),
                new OnnxSessionSettings { Device = ComputeDevice.Cuda, AllowCpuFallback = true, IntraOpThreads = 1 });
            Assert.Equal(ComputeDevice.Cpu, fallback.Device);
            Assert.Contains("Running on CPU instead", fallback.ProviderWarning, StringComparison.Ordinal);
            return;
        }
        // A machine with a GPU, CUDA 13, cuDNN 9 and the GPU build loaded first: then CUDA really runs.
        using (session)
        {
            Assert.Equal(ComputeDevice.Cuda, session.Device);
            Assert.Null(session.ProviderWarning);
        }
    }

    [Fact]
    public void Missing_cuda_libraries_are_named_by_the_probe()
    {
        // None of these exist on a machine without CUDA; on a CUDA machine the probe finds them and the list is shorter.
        IReadOnlyList<string> missing = OnnxRuntimeLibrary.MissingCudaLibraries(Path.Combine(Path.GetTempPath(), "no-such-gpu-build", "libonnxruntime.so"));
        Assert.Contains("libonnxruntime_providers_cuda.so", missing);
        Assert.Contains("libonnxruntime_providers_shared.so", missing);
        Assert.All(missing, m => Assert.True(m.StartsWith("libonnxruntime_providers_", StringComparison.Ordinal) || OnnxRuntimeLibrary.CudaDependencies.Contains(m)));
    }

    [Fact]
    public void An_explicit_library_path_that_does_not_exist_says_how_to_get_the_runtime()
    {
        _ = TinyBert.Value;
        var error = Assert.Throws<OnnxRuntimeNotFoundException>(() =>
            OnnxModelSession.Create(TestPaths.SharedFile("models", "tiny-bert", "model.onnx"),
                new OnnxSessionSettings { NativeLibraryPath = "/nonexistent/libonnxruntime.so" }));
        Assert.Contains("/nonexistent/libonnxruntime.so", error.Message, StringComparison.Ordinal);
        Assert.Contains(OnnxRuntimeLibrary.LibraryPathVariable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_that_is_not_onnx_runtime_is_one_clear_line_from_the_cli()
    {
        // A fresh process: the library is chosen once per process, and this one already has it.
        string cli = Path.Combine(AppContext.BaseDirectory, "embeddings.dll");
        using var dir = new TempDir();
        string garbage = dir.File("libonnxruntime.so");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 4096).Select(i => (byte)(i * 31)).ToArray());
        var psi = new ProcessStartInfo("dotnet", [cli, "model", "info", "--model", TestPaths.SharedFile("models", "tiny-bert")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        psi.Environment[OnnxRuntimeLibrary.LibraryPathVariable] = garbage;
        using Process process = Process.Start(psi)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync();
        await stdout;
        await process.WaitForExitAsync();
        Assert.Equal(1, process.ExitCode);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(garbage, line, StringComparison.Ordinal);
        Assert.Contains("cannot be loaded", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    private static float[] RunUseLite(OnnxModelSession session, IReadOnlyList<long[]> batch, CancellationToken cancellationToken)
    {
        int n = batch.Sum(b => b.Length);
        var indices = new long[n * 2];
        var values = new long[n];
        int k = 0;
        for (int row = 0; row < batch.Count; row++)
        {
            for (int pos = 0; pos < batch[row].Length; pos++, k++)
            {
                indices[2 * k] = row;
                indices[(2 * k) + 1] = pos;
                values[k] = batch[row][pos];
            }
        }
        ModelInput[] inputs = [new("indices", indices, [n, 2]), new("values", values, [n])];
        using ModelOutput output = session.Run(inputs, UseLiteOutput, cancellationToken);
        Assert.Equal([batch.Count, 512L], output.Shape);
        return output.Floats.ToArray();
    }
}
