using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Embeddings.Native;

/// <summary>
/// A loaded ONNX model ready to run. Create it once (<see cref="Create"/>) and keep it: creation optimises the
/// graph and takes hundreds of milliseconds, a run takes milliseconds.
/// </summary>
/// <remarks>
/// Thread safety: <see cref="Run(ReadOnlySpan{NamedTensor}, ReadOnlySpan{string}, CancellationToken)"/> may be
/// called from several threads at once on the same session (ONNX Runtime allows concurrent runs; each call has
/// its own input and output values). The metadata properties are immutable. <see cref="Dispose"/> waits for
/// nothing: a run in progress keeps the native session alive until it returns, then the session is released.
/// </remarks>
public sealed unsafe class OnnxSession : IDisposable
{
    private const string CudaProviderName = "CUDAExecutionProvider";

    private readonly OrtRuntime _runtime;
    private readonly NativeApi _api;
    private readonly OrtSessionHandle _session;
    private readonly Dictionary<string, int> _inputIndex;
    private readonly Dictionary<string, int> _outputIndex;
    // Null-terminated UTF-8 names on the pinned object heap: Run hands their addresses to the runtime as-is.
    private readonly nint[] _inputNames;
    private readonly nint[] _outputNames;
    // The arrays behind those addresses: the pinned object heap still frees unreferenced arrays, so the session
    // must hold them, or a later allocation (another session's names) reuses the memory under Run's feet.
    private readonly byte[][] _nameBuffers;
    private readonly string[] _allOutputNames;

    private OnnxSession(OrtRuntime runtime, string modelPath, OrtSessionHandle session, ExecutionProvider provider, string? warning)
    {
        _runtime = runtime;
        _api = runtime.Api;
        _session = session;
        ModelPath = modelPath;
        ExecutionProvider = provider;
        ProviderWarning = warning;
        var inputs = ReadInfo(output: false);
        var outputs = ReadInfo(output: true);
        Inputs = Array.AsReadOnly(inputs);
        Outputs = Array.AsReadOnly(outputs);
        var buffers = new List<byte[]>();
        (_inputIndex, _inputNames) = IndexNames(inputs, buffers);
        (_outputIndex, _outputNames) = IndexNames(outputs, buffers);
        _nameBuffers = buffers.ToArray();
        _allOutputNames = Array.ConvertAll(outputs, o => o.Name);
    }

    /// <summary>The model file this session was created from (full path).</summary>
    public string ModelPath { get; }

    /// <summary>The model's inputs in declaration order.</summary>
    public IReadOnlyList<OnnxTensorInfo> Inputs { get; }

    /// <summary>The model's outputs in declaration order.</summary>
    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }

    /// <summary>The provider the session actually runs on (CPU after a CUDA fallback).</summary>
    public ExecutionProvider ExecutionProvider { get; }

    /// <summary>
    /// Set when the requested provider could not be used and the session fell back to CPU
    /// (<see cref="OnnxSessionOptions.AllowCpuFallback"/>): what was missing and what to do. Null otherwise.
    /// </summary>
    public string? ProviderWarning { get; }

    /// <summary>The runtime this session belongs to.</summary>
    public OrtRuntime Runtime => _runtime;

    /// <summary>Loads <paramref name="modelPath"/> into a new session.</summary>
    /// <param name="runtime">The loaded runtime (<see cref="OrtRuntime.Load"/>).</param>
    /// <param name="modelPath">An .onnx file.</param>
    /// <param name="options">Threads, optimisation level and execution provider; null for defaults.</param>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="OnnxRuntimeException">The runtime rejected the model (e.g. <see cref="OrtErrorCode.InvalidProtobuf"/> for a corrupt file).</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA was asked for, cannot be used, and fallback is off.</exception>
    public static OnnxSession Create(OrtRuntime runtime, string modelPath, OnnxSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        options ??= OnnxSessionOptions.Default;
        options.Validate();
        var fullPath = Path.GetFullPath(modelPath);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"ONNX model file not found: {fullPath}", fullPath);
        }

        if (options.ExecutionProvider == ExecutionProvider.Cpu)
        {
            using var cpuOptions = CreateOptions(runtime, options);
            return Open(runtime, fullPath, cpuOptions, ExecutionProvider.Cpu, warning: null);
        }

        // CUDA: appending the provider loads its libraries (and through them CUDA and cuDNN); a missing GPU or
        // driver may only show when the session is created. Either failure is "CUDA unavailable", unless the
        // same model also fails on CPU, in which case the model is at fault and that error is the one to report.
        long logMark = runtime.LogCount;
        OnnxRuntimeException? cudaError = null;
        using (var cudaOptions = CreateOptions(runtime, options))
        {
            try
            {
                AppendCuda(runtime, cudaOptions, options.CudaDeviceId);
                return Open(runtime, fullPath, cudaOptions, ExecutionProvider.Cuda, warning: null);
            }
            catch (OnnxRuntimeException e)
            {
                cudaError = e;
            }
        }

        var message = DescribeCudaFailure(runtime, options.CudaDeviceId, cudaError, runtime.LogMessagesSince(logMark));
        using var fallbackOptions = CreateOptions(runtime, options);
        var cpuSession = Open(runtime, fullPath, fallbackOptions, ExecutionProvider.Cpu,
            options.AllowCpuFallback ? message + " Running on CPU instead (AllowCpuFallback is set)." : null);
        if (!options.AllowCpuFallback)
        {
            cpuSession.Dispose();
            throw new ExecutionProviderUnavailableException(ExecutionProvider.Cuda, cudaError.Operation, cudaError.ErrorCode,
                cudaError.RuntimeMessage, message);
        }
        return cpuSession;
    }

    /// <summary>Runs the model on <paramref name="inputs"/> and returns every output, in <see cref="Outputs"/> order.</summary>
    /// <inheritdoc cref="Run(ReadOnlySpan{NamedTensor}, ReadOnlySpan{string}, CancellationToken)"/>
    public OnnxOutputs Run(ReadOnlySpan<NamedTensor> inputs, CancellationToken cancellationToken = default) =>
        Run(inputs, _allOutputNames, cancellationToken);

    /// <summary>
    /// Runs the model. The inputs are read in place from the caller's memory (pinned for the call, no copy).
    /// </summary>
    /// <param name="inputs">One tensor per model input, by name, in any order.</param>
    /// <param name="outputNames">The outputs wanted; the result holds them in this order.</param>
    /// <param name="cancellationToken">Cancels the run: the runtime stops at its next check and this throws.</param>
    /// <returns>The outputs; dispose them to release the native memory they live in.</returns>
    /// <exception cref="ArgumentException">An unknown input or output name, or an input of the wrong element type.</exception>
    /// <exception cref="OnnxRuntimeException">The runtime failed (e.g. <see cref="OrtErrorCode.InvalidArgument"/> for a wrong shape).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public OnnxOutputs Run(ReadOnlySpan<NamedTensor> inputs, ReadOnlySpan<string> outputNames, CancellationToken cancellationToken = default)
    {
        if (outputNames.IsEmpty)
        {
            throw new ArgumentException("Ask for at least one output. Outputs: " + string.Join(", ", _allOutputNames), nameof(outputNames));
        }
        cancellationToken.ThrowIfCancellationRequested();
        int inputCount = inputs.Length;
        int outputCount = outputNames.Length;
        Span<nint> inputNames = inputCount <= 16 ? stackalloc nint[16] : new nint[inputCount];
        Span<nint> inputValues = inputCount <= 16 ? stackalloc nint[16] : new nint[inputCount];
        Span<nint> outputNamePointers = outputCount <= 16 ? stackalloc nint[16] : new nint[outputCount];
        Span<nint> outputValues = outputCount <= 16 ? stackalloc nint[16] : new nint[outputCount];
        inputValues.Clear();
        outputValues.Clear();

        var names = new string[outputCount];
        for (int i = 0; i < outputCount; i++)
        {
            names[i] = outputNames[i];
            outputNamePointers[i] = _outputNames[OutputIndex(outputNames[i])];
        }

        var pins = inputCount == 0 ? [] : new MemoryHandle[inputCount];
        var values = inputCount == 0 ? [] : new OrtValueHandle?[inputCount];
        OrtRunOptionsHandle? runOptions = null;
        CancellationTokenRegistration registration = default;
        bool sessionAddRef = false;
        try
        {
            for (int i = 0; i < inputCount; i++)
            {
                ref readonly var tensor = ref inputs[i];
                int index = InputIndex(tensor);
                inputNames[i] = _inputNames[index];
                pins[i] = tensor.Pin(out nuint byteLength);
                void* data = pins[i].Pointer;
                if (data is null)
                {
                    // An empty tensor: the runtime wants a non-null address even for zero bytes.
                    data = Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(EmptyData));
                }
                var shape = tensor.Shape.Span;
                fixed (long* shapePointer = shape)
                {
                    values[i] = _api.CreateTensorWithData(_runtime.CpuMemory, data, byteLength, shapePointer, shape.Length, tensor.ElementType);
                }
                inputValues[i] = values[i]!.DangerousGetHandle();
            }

            nint runOptionsPointer = 0;
            if (cancellationToken.CanBeCanceled)
            {
                runOptions = _api.CreateRunOptions();
                runOptionsPointer = runOptions.DangerousGetHandle();
                registration = cancellationToken.UnsafeRegister(static state => Terminate((OrtRunOptionsHandle)state!), runOptions);
            }

            _session.DangerousAddRef(ref sessionAddRef);
            nint status;
            fixed (nint* inNames = inputNames, inValues = inputValues, outNames = outputNamePointers, outValues = outputValues)
            {
                status = _api.Run(_session.DangerousGetHandle(), runOptionsPointer, inNames, inValues, inputCount, outNames, outputCount, outValues);
            }
            // Wait for a cancellation callback that may be touching the run options before they are released.
            registration.Dispose();

            var outputs = new OrtValueHandle[outputCount];
            for (int i = 0; i < outputCount; i++)
            {
                outputs[i] = new OrtValueHandle(_api);
                outputs[i].Attach(outputValues[i]);
            }
            if (status != 0)
            {
                foreach (var output in outputs)
                {
                    output.Dispose();
                }
                if (cancellationToken.IsCancellationRequested)
                {
                    try
                    {
                        _api.Check(status, "Run");
                    }
                    catch (OnnxRuntimeException e)
                    {
                        throw new OperationCanceledException("The model run was cancelled.", e, cancellationToken);
                    }
                }
                _api.Check(status, "Run");
            }
            if (cancellationToken.IsCancellationRequested)
            {
                // The runtime checks the terminate flag only between graph nodes, so a run can finish after the
                // cancellation arrived; the caller asked to stop, so it gets the cancellation, not a late result.
                foreach (var output in outputs)
                {
                    output.Dispose();
                }
                throw new OperationCanceledException("The model run was cancelled.", cancellationToken);
            }
            return new OnnxOutputs(_api, names, outputs);
        }
        finally
        {
            registration.Dispose();
            runOptions?.Dispose();
            if (sessionAddRef)
            {
                _session.DangerousRelease();
            }
            // Release each native value before unpinning the memory it points into.
            for (int i = 0; i < inputCount; i++)
            {
                values[i]?.Dispose();
                pins[i].Dispose();
            }
        }
    }

    /// <summary>Releases the native session (after any run in progress has returned).</summary>
    public void Dispose() => _session.Dispose();

    private static readonly byte[] EmptyData = GC.AllocateArray<byte>(8, pinned: true);

    private static void Terminate(OrtRunOptionsHandle runOptions)
    {
        bool added = false;
        try
        {
            runOptions.DangerousAddRef(ref added);
            runOptions.Terminate();
        }
        catch (Exception e) when (e is ObjectDisposedException or OnnxRuntimeException)
        {
            // The run already finished; nothing to stop.
        }
        finally
        {
            if (added)
            {
                runOptions.DangerousRelease();
            }
        }
    }

    private int InputIndex(in NamedTensor tensor)
    {
        if (tensor.Name is null || !_inputIndex.TryGetValue(tensor.Name, out int index))
        {
            throw new ArgumentException(
                $"Model {Path.GetFileName(ModelPath)} has no input '{tensor.Name}'. Inputs: {string.Join(", ", Inputs)}.", "inputs");
        }
        var declared = Inputs[index].ElementType;
        if (declared != TensorElementType.Undefined && declared != tensor.ElementType)
        {
            throw new ArgumentException(
                $"Input '{tensor.Name}' of {Path.GetFileName(ModelPath)} takes {declared} elements, got {tensor.ElementType}.", "inputs");
        }
        return index;
    }

    private int OutputIndex(string name)
    {
        if (name is null || !_outputIndex.TryGetValue(name, out int index))
        {
            throw new ArgumentException(
                $"Model {Path.GetFileName(ModelPath)} has no output '{name}'. Outputs: {string.Join(", ", Outputs)}.", "outputNames");
        }
        return index;
    }

    private static OnnxSession Open(OrtRuntime runtime, string fullPath, OrtSessionOptionsHandle options, ExecutionProvider provider, string? warning)
    {
        var pathUtf8 = NullTerminated(fullPath);
        OrtSessionHandle handle;
        fixed (byte* path = pathUtf8)
        {
            handle = runtime.Api.CreateSession(runtime.Env, path, options);
        }
        try
        {
            return new OnnxSession(runtime, fullPath, handle, provider, warning);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static OrtSessionOptionsHandle CreateOptions(OrtRuntime runtime, OnnxSessionOptions options)
    {
        var api = runtime.Api;
        var handle = api.CreateSessionOptions();
        try
        {
            api.SetGraphOptimizationLevel(handle, options.OptimizationLevel);
            if (options.IntraOpThreads > 0)
            {
                api.SetIntraOpNumThreads(handle, options.IntraOpThreads);
            }
            if (options.InterOpThreads > 0)
            {
                api.SetInterOpNumThreads(handle, options.InterOpThreads);
            }
            api.SetExecutionMode(handle, parallel: options.InterOpThreads > 1);
            if (!options.AllowSpinning)
            {
                api.AddSessionConfigEntry(handle, "session.intra_op.allow_spinning\0"u8, "0\0"u8);
                api.AddSessionConfigEntry(handle, "session.inter_op.allow_spinning\0"u8, "0\0"u8);
            }
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void AppendCuda(OrtRuntime runtime, OrtSessionOptionsHandle options, int deviceId)
    {
        var api = runtime.Api;
        if (!runtime.AvailableProviders.Contains(CudaProviderName))
        {
            throw new OnnxRuntimeException("SessionOptionsAppendExecutionProvider_CUDA_V2", OrtErrorCode.Fail,
                $"this ONNX Runtime build has no {CudaProviderName} (providers: {string.Join(", ", runtime.AvailableProviders)})");
        }
        using var cuda = api.CreateCudaProviderOptions();
        var key = NullTerminated("device_id");
        var value = NullTerminated(deviceId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        fixed (byte* keyPointer = key, valuePointer = value)
        {
            byte* keys = keyPointer, values = valuePointer;
            api.UpdateCudaProviderOptions(cuda, &keys, &values, 1);
        }
        api.AppendCudaExecutionProvider(options, cuda);
    }

    private static string DescribeCudaFailure(OrtRuntime runtime, int deviceId, OnnxRuntimeException error, string[] log)
    {
        var details = new StringBuilder();
        details.Append("CUDA execution provider (device ").Append(deviceId).Append(") is not usable with ")
            .Append(runtime.LibraryPath).Append(" (ONNX Runtime ").Append(runtime.Version).Append("): ")
            .Append(error.RuntimeMessage.Trim());
        foreach (var line in log)
        {
            details.Append(" | runtime log: ").Append(line.Trim());
        }
        details.Append(". CUDA needs a GPU build of ONNX Runtime whose provider libraries ")
            .Append("libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so sit beside libonnxruntime.so.1 ")
            .Append("(the npm onnxruntime-node package that scripts/setup-native.sh installs has neither), ")
            .Append("the CUDA 12 runtime libraries (libcudart, libcublas, libcublasLt, libcufft, libcurand) and cuDNN 9 on the ")
            .Append("loader path, and an NVIDIA GPU with its driver. Set ")
            .Append(OrtRuntime.LibraryPathVariable)
            .Append(" to the libonnxruntime.so.1 of such a build (for example from the onnxruntime-gpu Python wheel or the ")
            .Append("Microsoft.ML.OnnxRuntime.Gpu.Linux package), or run on the CPU.");
        return details.ToString();
    }

    private OnnxTensorInfo[] ReadInfo(bool output)
    {
        int count = _api.SessionGetCount(_session, output);
        var infos = new OnnxTensorInfo[count];
        for (int i = 0; i < count; i++)
        {
            var name = _api.SessionGetName(_session, output, i, _runtime.DefaultAllocator);
            using var typeInfo = _api.SessionGetTypeInfo(_session, output, i);
            nint tensorInfo = _api.CastTypeInfoToTensorInfo(typeInfo);
            if (tensorInfo == 0)
            {
                infos[i] = new OnnxTensorInfo(name, TensorElementType.Undefined, [], []);
                continue;
            }
            var type = _api.GetTensorElementType(tensorInfo);
            var shape = _api.GetDimensions(tensorInfo);
            var dimensionNames = _api.GetSymbolicDimensions(tensorInfo, shape.Length);
            infos[i] = new OnnxTensorInfo(name, type, shape, dimensionNames);
        }
        return infos;
    }

    private static (Dictionary<string, int>, nint[]) IndexNames(OnnxTensorInfo[] infos, List<byte[]> keepAlive)
    {
        var index = new Dictionary<string, int>(infos.Length, StringComparer.Ordinal);
        var pointers = new nint[infos.Length];
        for (int i = 0; i < infos.Length; i++)
        {
            index[infos[i].Name] = i;
            var utf8 = NullTerminated(infos[i].Name, pinned: true);
            keepAlive.Add(utf8);
            pointers[i] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(utf8));
        }
        return (index, pointers);
    }

    private static byte[] NullTerminated(string text, bool pinned = false)
    {
        int length = Encoding.UTF8.GetByteCount(text);
        var bytes = GC.AllocateArray<byte>(length + 1, pinned);
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}
