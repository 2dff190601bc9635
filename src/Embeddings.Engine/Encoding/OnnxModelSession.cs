using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OrtException = Microsoft.ML.OnnxRuntime.OnnxRuntimeException;

namespace Embeddings.Encoding;

/// <summary>
/// How ONNX Runtime runs a model: the knobs that decide throughput on a CPU (threads, spinning, execution mode) and
/// the device. Immutable; <see cref="EncoderOptions.Session"/> passes one to the encoder, which otherwise derives it from
/// <see cref="EncoderOptions.Threads"/> and <see cref="EncoderOptions.Parallelism"/>.
/// </summary>
internal sealed record OnnxSessionSettings
{
    /// <summary>Threads inside one operator (matrix products). 0 lets the runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads running independent graph branches; used only with <see cref="ParallelExecution"/>.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>
    /// Whether idle runtime worker threads busy-wait for the next piece of work (the runtime's default, true). Spinning
    /// shaves latency off each operator but burns cores between runs; turn it off when other work shares the cores.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>Run independent graph branches at once (ORT_PARALLEL) instead of node by node (default, best for encoders).</summary>
    public bool ParallelExecution { get; init; }

    /// <summary>Graph rewrites applied at load. Default: all.</summary>
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>CPU (default) or CUDA.</summary>
    public ComputeDevice Device { get; init; } = ComputeDevice.Cpu;

    /// <summary>The CUDA device number.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>With <see cref="Device"/> CUDA: run on the CPU with a warning when CUDA cannot be used (else fail).</summary>
    public bool AllowCpuFallback { get; init; }

    /// <summary>A libonnxruntime file to use instead of the resolution of <see cref="OnnxRuntimeLibrary"/>.</summary>
    public string? NativeLibraryPath { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads, nameof(IntraOpThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(InterOpThreads, nameof(InterOpThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(CudaDeviceId, nameof(CudaDeviceId));
        if (!Enum.IsDefined(Device))
        {
            throw new ArgumentOutOfRangeException(nameof(Device), Device, "Accepted: Cpu, Cuda.");
        }
    }
}

/// <summary>Name, element type and shape of a model input or output, as declared in the graph.</summary>
/// <param name="Name">The name inputs are fed and outputs asked for by.</param>
/// <param name="ElementType">e.g. Int64, Float.</param>
/// <param name="Shape">Declared dimensions; -1 where fixed only at run time (batch, sequence).</param>
/// <param name="DimensionNames">Symbolic names of the dimensions ("batch_size"), "" where the graph gives none.</param>
internal sealed record OnnxTensorInfo(string Name, TensorElementType ElementType, IReadOnlyList<long> Shape, IReadOnlyList<string> DimensionNames)
{
    /// <summary>e.g. <c>input_ids: Int64[batch_size, sequence_length]</c>.</summary>
    public override string ToString()
    {
        var dims = new string[Shape.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = Shape[i] >= 0
                ? Shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture)
                : DimensionNames.Count > i && DimensionNames[i].Length > 0 ? DimensionNames[i] : "?";
        }
        return $"{Name}: {ElementType}[{string.Join(", ", dims)}]";
    }
}

/// <summary>A model input of one run: int64 data owned by the caller (pooled), read in place by the runtime.</summary>
internal readonly record struct ModelInput(string Name, Memory<long> Data, long[] Shape);

/// <summary>
/// One ONNX model loaded into an ONNX Runtime session (the managed API over the native library that
/// <see cref="OnnxRuntimeLibrary"/> chose). Thread-safe: runs may overlap (each has its own values). Inputs are wrapped,
/// not copied; a run is cancellable (RunOptions terminate); every runtime failure is an
/// <see cref="OnnxRuntimeException"/> and a missing model file a <see cref="ModelLoadException"/>.
/// </summary>
internal sealed class OnnxModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private int _disposed;

    private OnnxModelSession(InferenceSession session, string modelPath, OnnxRuntimeInfo runtime, ComputeDevice device, string? warning)
    {
        _session = session;
        ModelPath = modelPath;
        Runtime = runtime;
        Device = device;
        ProviderWarning = warning;
        Inputs = session.InputNames.Select(n => Describe(n, session.InputMetadata[n])).ToArray();
        Outputs = session.OutputNames.Select(n => Describe(n, session.OutputMetadata[n])).ToArray();
    }

    /// <summary>The model file (full path).</summary>
    public string ModelPath { get; }

    /// <summary>The native library the session runs on.</summary>
    public OnnxRuntimeInfo Runtime { get; }

    /// <summary>Where the session runs (CPU after a CUDA fallback).</summary>
    public ComputeDevice Device { get; }

    /// <summary>Set when CUDA was asked for and the session runs on the CPU: what was missing.</summary>
    public string? ProviderWarning { get; }

    /// <summary>The graph's inputs in declaration order.</summary>
    public IReadOnlyList<OnnxTensorInfo> Inputs { get; }

    /// <summary>The graph's outputs in declaration order.</summary>
    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }

    /// <summary>Loads <paramref name="modelPath"/>.</summary>
    /// <exception cref="ModelLoadException">The file is missing or ONNX Runtime cannot load it (corrupt, not a model).</exception>
    /// <exception cref="OnnxRuntimeNotFoundException">No usable native library.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA was asked for, cannot be used, and fallback is off.</exception>
    public static OnnxModelSession Create(string modelPath, OnnxSessionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        string fullPath = Path.GetFullPath(modelPath);
        if (!File.Exists(fullPath))
        {
            throw new ModelLoadException($"{fullPath}: ONNX model file not found. Copy the complete model folder again.");
        }
        (OnnxRuntimeInfo runtime, ComputeDevice device, string? warning) =
            OnnxRuntimeLibrary.EnsureLoaded(settings.Device, settings.NativeLibraryPath, settings.AllowCpuFallback);
        if (device == ComputeDevice.Cuda)
        {
            long logMark = OnnxRuntimeLibrary.LogCount;
            try
            {
                return Open(fullPath, settings, runtime, ComputeDevice.Cuda, null);
            }
            catch (OnnxRuntimeException e)
            {
                // The provider library failed to start (no GPU, driver too old, a library of the wrong version). If the
                // model itself is bad, the CPU attempt below fails too and reports that instead.
                string log = string.Join(" | ", OnnxRuntimeLibrary.LogMessagesSince(logMark));
                string problem = $"ONNX Runtime could not start CUDA device {settings.CudaDeviceId} ({e.RuntimeMessage}" +
                                 (log.Length > 0 ? "; runtime log: " + log : "") + ")";
                if (!settings.AllowCpuFallback)
                {
                    using (Open(fullPath, settings with { Device = ComputeDevice.Cpu }, runtime, ComputeDevice.Cpu, null))
                    {
                    }
                    throw OnnxRuntimeLibrary.CudaUnavailable(problem, [], e);
                }
                warning = OnnxRuntimeLibrary.FallbackWarning(problem);
            }
        }
        return Open(fullPath, settings, runtime, ComputeDevice.Cpu, warning);
    }

    private static OnnxModelSession Open(string path, OnnxSessionSettings settings, OnnxRuntimeInfo runtime, ComputeDevice device, string? warning)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = settings.OptimizationLevel,
            ExecutionMode = settings.ParallelExecution ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
        };
        try
        {
            if (settings.IntraOpThreads > 0)
            {
                options.IntraOpNumThreads = settings.IntraOpThreads;
            }
            if (settings.InterOpThreads > 0)
            {
                options.InterOpNumThreads = settings.InterOpThreads;
            }
            if (!settings.AllowSpinning)
            {
                options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
                options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
            }
            if (device == ComputeDevice.Cuda)
            {
                options.AppendExecutionProvider_CUDA(settings.CudaDeviceId);
            }
            return new OnnxModelSession(new InferenceSession(path, options), path, runtime, device, warning);
        }
        catch (OrtException e)
        {
            OnnxRuntimeException error = RuntimeError(e, path);
            if (device == ComputeDevice.Cuda)
            {
                throw error;
            }
            throw new ModelLoadException(
                $"{path}: ONNX Runtime cannot load the model ({error.RuntimeErrorCode}: {error.RuntimeMessage}). The file may be " +
                "corrupt or not an ONNX model; replace it with a good copy.", error);
        }
    }

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> and returns the output <paramref name="outputName"/>; dispose it. The
    /// input memory is pinned and read in place for the call.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled (before, during or right after the run).</exception>
    /// <exception cref="OnnxRuntimeException">The runtime failed (e.g. InvalidArgument for a shape the graph rejects).</exception>
    public ModelOutput Run(ReadOnlySpan<ModelInput> inputs, string outputName, CancellationToken cancellationToken) =>
        Run(inputs, [outputName], cancellationToken);

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> and returns the outputs <paramref name="outputNames"/>, in that order
    /// (<see cref="ModelOutput.Floats"/> is the first); dispose them.
    /// </summary>
    /// <inheritdoc cref="Run(ReadOnlySpan{ModelInput}, string, CancellationToken)"/>
    public ModelOutput Run(ReadOnlySpan<ModelInput> inputs, string[] outputNames, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var names = new string[inputs.Length];
        var values = new OrtValue[inputs.Length];
        RunOptions? runOptions = null;
        CancellationTokenRegistration registration = default;
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                names[i] = inputs[i].Name;
                values[i] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, inputs[i].Data, inputs[i].Shape);
            }
            runOptions = new RunOptions();
            if (cancellationToken.CanBeCanceled)
            {
                registration = cancellationToken.UnsafeRegister(static state => ((RunOptions)state!).Terminate = true, runOptions);
            }
            IDisposableReadOnlyCollection<OrtValue> outputs;
            try
            {
                outputs = _session.Run(runOptions, names, values, outputNames);
            }
            catch (OrtException e)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("The model run was cancelled.", e, cancellationToken);
                }
                throw RuntimeError(e, ModelPath);
            }
            // Wait for a cancellation callback that may still be setting Terminate before the options are released.
            registration.Dispose();
            if (cancellationToken.IsCancellationRequested)
            {
                // The runtime checks Terminate only between graph nodes, so a run can finish after the cancellation
                // arrived; the caller asked to stop, so it gets the cancellation, not a late result.
                outputs.Dispose();
                throw new OperationCanceledException("The model run was cancelled.", cancellationToken);
            }
            return new ModelOutput(outputs);
        }
        finally
        {
            registration.Dispose();
            runOptions?.Dispose();
            foreach (OrtValue? value in values)
            {
                value?.Dispose();
            }
        }
    }

    /// <summary>Releases the session.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _session.Dispose();
        }
    }

    /// <summary>Our typed error for an exception of the ONNX Runtime API, reading its "[ErrorCode:X]" prefix.</summary>
    private static OnnxRuntimeException RuntimeError(OrtException e, string what)
    {
        string message = e.Message;
        string code = "";
        const string prefix = "[ErrorCode:";
        if (message.StartsWith(prefix, StringComparison.Ordinal) && message.IndexOf(']', StringComparison.Ordinal) is int end and > 0)
        {
            code = message[prefix.Length..end];
            message = message[(end + 1)..].Trim();
        }
        return new OnnxRuntimeException($"{what}: ONNX Runtime failed ({(code.Length > 0 ? code : "error")}): {message}", code, message, e);
    }

    private static OnnxTensorInfo Describe(string name, NodeMetadata metadata)
    {
        if (!metadata.IsTensor)
        {
            return new OnnxTensorInfo(name, TensorElementType.DataTypeMax, [], []);
        }
        long[] shape = Array.ConvertAll(metadata.Dimensions, d => (long)d);
        string[] symbols = metadata.SymbolicDimensions ?? [];
        return new OnnxTensorInfo(name, metadata.ElementDataType, shape, symbols);
    }
}

/// <summary>The outputs of one run: float tensors in native memory, valid until disposed.</summary>
internal sealed class ModelOutput(IDisposableReadOnlyCollection<OrtValue> values) : IDisposable
{
    /// <summary>How many outputs the run returned.</summary>
    public int Count => values.Count;

    /// <summary>The concrete shape of the first output, e.g. [rows, seq, hidden].</summary>
    public long[] Shape => ShapeOf(0);

    /// <summary>The first output's float32 data, row-major, read in place.</summary>
    /// <exception cref="EmbeddingsException">The output is not float32.</exception>
    public ReadOnlySpan<float> Floats => FloatsOf(0);

    /// <summary>The concrete shape of output <paramref name="index"/>.</summary>
    public long[] ShapeOf(int index) => values[index].GetTensorTypeAndShape().Shape;

    /// <summary>The float32 data of output <paramref name="index"/>, row-major, read in place.</summary>
    /// <exception cref="EmbeddingsException">The output is not float32.</exception>
    public ReadOnlySpan<float> FloatsOf(int index) =>
        values[index].GetTensorTypeAndShape().ElementDataType == TensorElementType.Float
            ? values[index].GetTensorDataAsSpan<float>()
            : throw new EmbeddingsException($"the model's output holds {values[index].GetTensorTypeAndShape().ElementDataType} elements, not float32.");

    public void Dispose() => values.Dispose();
}
