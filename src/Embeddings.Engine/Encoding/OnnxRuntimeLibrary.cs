using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Embeddings.Encoding;

/// <summary>The ONNX Runtime native library this process runs on.</summary>
/// <param name="Path">Full path of the loaded library.</param>
/// <param name="Version">Its version string, e.g. "1.31.1".</param>
/// <param name="IsGpuBuild">Whether it is a CUDA build (its provider library sits beside it).</param>
internal sealed record OnnxRuntimeInfo(string Path, string Version, bool IsGpuBuild);

/// <summary>
/// Chooses and loads the ONNX Runtime native library for the managed API (Microsoft.ML.OnnxRuntime.Managed), once per
/// process, through a native-library resolver. CPU and CUDA builds of ONNX Runtime are both called
/// <c>libonnxruntime.so</c> and cannot share a folder, so each has its own and the first model loaded picks one:
/// <list type="number">
/// <item>an explicit path (<see cref="EncoderOptions.NativeLibraryPath"/>, else <c>EMBEDDINGS_ONNXRUNTIME</c>): that
/// library, for either device;</item>
/// <item>CUDA: <c>.native/onnxruntime-gpu-1.31.0/</c> in the nearest folder above the program (then above the current
/// directory) that has a <c>.native</c> folder, where <c>scripts/setup.sh --cuda</c> puts the GPU package's files;</item>
/// <item>CPU: <c>onnxruntime/cpu/</c> beside the program, where the build copies the CPU package's library for this
/// machine (see src/Embeddings.Engine/OnnxRuntime.targets).</item>
/// </list>
/// Before a CUDA build is loaded, the CUDA and cuDNN libraries it needs are probed by name, so a missing one is named
/// in the error (ONNX Runtime itself only says "Failed to load shared library").
/// </summary>
internal static class OnnxRuntimeLibrary
{
    /// <summary>Environment variable naming another ONNX Runtime library (a file path).</summary>
    public const string LibraryPathVariable = "EMBEDDINGS_ONNXRUNTIME";

    /// <summary>The ONNX Runtime version of the CPU library the build copies.</summary>
    public const string Version = "1.31.1";

    /// <summary>The version of the GPU package that <c>scripts/setup.sh --cuda</c> installs.</summary>
    public const string GpuVersion = "1.31.0";

    /// <summary>The oldest ONNX Runtime accepted (the managed API is 1.31).</summary>
    public const string MinimumVersion = "1.31";

    /// <summary>Folder under <c>.native/</c> where <c>scripts/setup.sh --cuda</c> puts the GPU build.</summary>
    public const string GpuFolderName = "onnxruntime-gpu-" + GpuVersion;

    /// <summary>
    /// Libraries the CUDA provider of the 1.31 GPU build loads, probed before it is used so that the error can name the
    /// missing ones: the NVIDIA driver's libcuda, the CUDA 13 runtime, cuBLAS, cuBLASLt and cuRAND (the provider's
    /// DT_NEEDED entries) and cuDNN 9 (opened by the provider at run time).
    /// </summary>
    public static IReadOnlyList<string> CudaDependencies { get; } =
        ["libcuda.so.1", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcurand.so.10", "libcudnn.so.9"];

    private const int MaxLogLines = 64;

    private static readonly Lock Gate = new();
    private static readonly ConcurrentQueue<string> Log = new();
    // The runtime logs through this delegate for the life of the process: kept in a static so it is never collected.
    private static readonly DOrtLoggingFunction LogCallback = OnLog;
    private static OnnxRuntimeInfo? _loaded;
    private static nint _handle;
    private static bool _resolverInstalled;
    private static long _logCount;

    /// <summary>The library this process runs on, or null before the first model is loaded.</summary>
    public static OnnxRuntimeInfo? Loaded
    {
        get
        {
            lock (Gate)
            {
                return _loaded;
            }
        }
    }

    /// <summary>The runtime's most recent warning and error log lines (at most 64), oldest first.</summary>
    public static IReadOnlyList<string> RecentLogMessages() => Log.ToArray();

    internal static long LogCount => Interlocked.Read(ref _logCount);

    /// <summary>Log lines received after <paramref name="since"/> (a <see cref="LogCount"/> value).</summary>
    internal static string[] LogMessagesSince(long since)
    {
        long fresh = LogCount - since;
        if (fresh <= 0)
        {
            return [];
        }
        string[] all = Log.ToArray();
        return all[^(int)Math.Min(fresh, all.Length)..];
    }

    /// <summary>
    /// Makes sure a library is loaded for <paramref name="device"/> and returns it, with a warning when CUDA was asked
    /// for and the CPU will be used instead (only with <paramref name="allowCpuFallback"/>).
    /// </summary>
    /// <exception cref="OnnxRuntimeNotFoundException">No usable library.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA cannot be used and fallback is off.</exception>
    internal static (OnnxRuntimeInfo Runtime, ComputeDevice Device, string? Warning) EnsureLoaded(
        ComputeDevice device, string? libraryPath, bool allowCpuFallback)
    {
        string? explicitPath = !string.IsNullOrWhiteSpace(libraryPath) ? libraryPath
            : Environment.GetEnvironmentVariable(LibraryPathVariable) is { Length: > 0 } fromVariable ? fromVariable : null;
        lock (Gate)
        {
            if (_loaded is null)
            {
                string? cudaProblem = null;
                IReadOnlyList<string> missing = [];
                string path;
                if (explicitPath is not null)
                {
                    path = Path.GetFullPath(explicitPath);
                }
                else if (device == ComputeDevice.Cuda && FindGpuLibrary() is { } gpu)
                {
                    missing = MissingCudaLibraries(gpu);
                    if (missing.Count > 0)
                    {
                        cudaProblem = DescribeMissing(gpu, missing);
                        path = CpuLibraryOrThrow(cudaProblem, missing, allowCpuFallback);
                    }
                    else
                    {
                        path = gpu;
                    }
                }
                else
                {
                    if (device == ComputeDevice.Cuda)
                    {
                        missing = ["libonnxruntime_providers_cuda.so", .. MissingCudaLibraries(null)];
                        cudaProblem = $"the GPU build of ONNX Runtime is not installed (no .native/{GpuFolderName}/ above " +
                                      $"{AppContext.BaseDirectory} or the current directory): run scripts/setup.sh --cuda. " +
                                      $"Missing: {string.Join(", ", missing)}";
                        path = CpuLibraryOrThrow(cudaProblem, missing, allowCpuFallback);
                    }
                    else
                    {
                        path = FindCpuLibrary();
                    }
                }
                Load(path, explicitPath is not null);
                if (cudaProblem is not null)
                {
                    return (_loaded!, ComputeDevice.Cpu, FallbackWarning(cudaProblem));
                }
            }
            else if (explicitPath is not null)
            {
                string asked = Path.GetFullPath(explicitPath);
                if (!File.Exists(asked))
                {
                    throw new OnnxRuntimeNotFoundException($"{asked}: the given path does not exist", [asked]);
                }
                if (!SameFile(asked, _loaded.Path))
                {
                    throw new EmbeddingsException(
                        $"ONNX Runtime {asked} was asked for, but this process already runs {_loaded.Path} and a process can use only " +
                        $"one ONNX Runtime library: start a new process (or set {LibraryPathVariable} before the first model is loaded).");
                }
            }
            if (device == ComputeDevice.Cpu)
            {
                return (_loaded!, ComputeDevice.Cpu, null);
            }
            return CheckCudaOnLoaded(allowCpuFallback);
        }
    }

    /// <summary>Message of a CUDA request that runs on the CPU instead.</summary>
    internal static string FallbackWarning(string problem) =>
        $"CUDA is not usable: {problem}. Running on CPU instead (--allow-cpu-fallback).";

    /// <summary>The error for a CUDA request that cannot be served.</summary>
    internal static ExecutionProviderUnavailableException CudaUnavailable(string problem, IReadOnlyList<string> missing, Exception? inner = null) =>
        new($"CUDA is not usable: {problem}. Fix that, or add --allow-cpu-fallback (EmbeddingModelOptions.AllowCpuFallback) to run " +
            "on the CPU instead.", missing, inner);

    /// <summary>The CUDA libraries (of <see cref="CudaDependencies"/>) that the loader cannot find, in order.</summary>
    /// <param name="gpuLibrary">The GPU build's libonnxruntime.so: its own folder is searched too (some installs put CUDA there).</param>
    public static IReadOnlyList<string> MissingCudaLibraries(string? gpuLibrary)
    {
        var missing = new List<string>();
        string? folder = gpuLibrary is null ? null : Path.GetDirectoryName(gpuLibrary);
        if (folder is not null)
        {
            foreach (string provider in new[] { "libonnxruntime_providers_cuda.so", "libonnxruntime_providers_shared.so" })
            {
                if (!File.Exists(Path.Combine(folder, provider)))
                {
                    missing.Add(provider);
                }
            }
        }
        foreach (string name in CudaDependencies)
        {
            bool found = folder is not null && File.Exists(Path.Combine(folder, name));
            if (!found && NativeLibrary.TryLoad(name, out nint handle))
            {
                // Probing only: the runtime loads it again itself (the loader keeps one copy).
                NativeLibrary.Free(handle);
                found = true;
            }
            if (!found)
            {
                missing.Add(name);
            }
        }
        return missing;
    }

    /// <summary>The GPU build's libonnxruntime.so under the nearest <c>.native</c> folder, or null.</summary>
    public static string? FindGpuLibrary()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string native = Path.Combine(dir.FullName, ".native");
                if (Directory.Exists(native))
                {
                    string candidate = Path.Combine(native, GpuFolderName, NativeFileName);
                    return File.Exists(candidate) ? candidate : null;
                }
            }
        }
        return null;
    }

    private static bool SameFile(string a, string b)
    {
        static string Real(string p) => new FileInfo(p).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? p;
        return string.Equals(Real(a), Real(b), StringComparison.Ordinal);
    }

    private static string NativeFileName =>
        OperatingSystem.IsWindows() ? "onnxruntime.dll" : OperatingSystem.IsMacOS() ? "libonnxruntime.dylib" : "libonnxruntime.so";

    private static string CpuLibraryOrThrow(string cudaProblem, IReadOnlyList<string> missing, bool allowCpuFallback) =>
        allowCpuFallback ? FindCpuLibrary() : throw CudaUnavailable(cudaProblem, missing);

    private static string FindCpuLibrary()
    {
        // Beside the program (the build's copy); then the layout of an app that references Microsoft.ML.OnnxRuntime
        // itself; then beside the engine's own assembly, for hosts that load it from a build folder that is not theirs
        // (a notebook's #r of the engine, a plug-in).
        string programFolder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(AppContext.BaseDirectory));
        string? engineFolder = Path.GetDirectoryName(typeof(OnnxRuntimeLibrary).Assembly.Location); // "" in a single-file app
        string[] folders = string.IsNullOrEmpty(engineFolder) || Path.GetFullPath(engineFolder) == programFolder
            ? [programFolder]
            : [programFolder, Path.GetFullPath(engineFolder)];
        var candidates = new List<string>();
        foreach (string folder in folders)
        {
            candidates.Add(Path.Combine(folder, "onnxruntime", "cpu", NativeFileName));
            candidates.Add(Path.Combine(folder, NativeFileName));
            candidates.Add(Path.Combine(folder, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", NativeFileName));
        }
        foreach (string candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new OnnxRuntimeNotFoundException("the CPU library is not beside the program", candidates);
    }

    private static string DescribeMissing(string gpuLibrary, IReadOnlyList<string> missing) =>
        $"the GPU build of ONNX Runtime ({gpuLibrary}) needs {string.Join(", ", missing)}, which the loader cannot find. " +
        "Install the NVIDIA driver, CUDA 13 and cuDNN 9 for CUDA 13 and put their lib folders on LD_LIBRARY_PATH (and run " +
        "on a machine with an NVIDIA GPU)";

    private static (OnnxRuntimeInfo, ComputeDevice, string?) CheckCudaOnLoaded(bool allowCpuFallback)
    {
        OnnxRuntimeInfo loaded = _loaded!;
        string? problem = null;
        IReadOnlyList<string> missing = [];
        if (!loaded.IsGpuBuild)
        {
            problem = $"this process already runs the CPU build of ONNX Runtime ({loaded.Path}); a process uses one build, " +
                      "so load the CUDA model first or in its own process (the GPU build also runs CPU models)";
        }
        else
        {
            missing = MissingCudaLibraries(loaded.Path);
            if (missing.Count > 0)
            {
                problem = DescribeMissing(loaded.Path, missing);
            }
        }
        if (problem is null)
        {
            return (loaded, ComputeDevice.Cuda, null);
        }
        return allowCpuFallback ? (loaded, ComputeDevice.Cpu, FallbackWarning(problem)) : throw CudaUnavailable(problem, missing);
    }

    private static void Load(string path, bool isExplicit)
    {
        OrtTelemetry.DisableBeforeLoad(); // before the library and its environment start: its telemetry crashed on long command lines
        var tried = new List<string> { path };
        if (!File.Exists(path))
        {
            throw new OnnxRuntimeNotFoundException($"{path}: {(isExplicit ? "the given path does not exist" : "the library file is missing")}", tried);
        }
        nint handle;
        try
        {
            handle = NativeLibrary.Load(path);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            throw new OnnxRuntimeNotFoundException($"{path} cannot be loaded ({e.Message.ReplaceLineEndings(" ").Trim()})", tried, e);
        }
        string version = ReadVersion(handle, path, tried);
        if (!IsSupported(version))
        {
            throw new OnnxRuntimeNotFoundException($"{path} is ONNX Runtime {version}; {MinimumVersion} or newer is needed", tried);
        }
        InstallResolver();
        _handle = handle;
        bool gpu = File.Exists(Path.Combine(Path.GetDirectoryName(path)!, "libonnxruntime_providers_cuda.so"));
        _loaded = new OnnxRuntimeInfo(path, version, gpu);
        CreateEnvironment(path, tried);
    }

    /// <summary>
    /// The version string through the library's one C entry point (<c>OrtGetApiBase()->GetVersionString()</c>), read
    /// before the managed API binds to the library: an old or foreign library gives this clear error instead of a type
    /// initialisation failure inside the managed API.
    /// </summary>
    private static unsafe string ReadVersion(nint handle, string path, List<string> tried)
    {
        if (!NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out nint getApiBase))
        {
            throw new OnnxRuntimeNotFoundException($"{path} is not an ONNX Runtime library (it has no OrtGetApiBase)", tried);
        }
        // OrtApiBase { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); }
        nint* apiBase = ((delegate* unmanaged<nint*>)getApiBase)();
        if (apiBase is null)
        {
            throw new OnnxRuntimeNotFoundException($"{path}: OrtGetApiBase returned nothing", tried);
        }
        return Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)apiBase[1])()) ?? "unknown";
    }

    private static bool IsSupported(string version)
    {
        string[] parts = version.Split('.');
        return parts.Length >= 2
               && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int major)
               && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int minor)
               && (major > 1 || (major == 1 && minor >= 31));
    }

    private static void InstallResolver()
    {
        if (_resolverInstalled)
        {
            return;
        }
        _resolverInstalled = true;
        // Must happen before the managed API's first native call; its own resolver would look elsewhere.
        OrtEnv.DisableDllImportResolver = true;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(OrtEnv).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // The host registered its own resolver for the ONNX Runtime assembly: it decides, and we still loaded ours
            // first, which the loader hands out again for the same name.
        }
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName is "onnxruntime" or "libonnxruntime" or "onnxruntime.dll" or "libonnxruntime.so" ? _handle : 0;

    private static void CreateEnvironment(string path, List<string> tried)
    {
        if (OrtEnv.IsCreated)
        {
            return;
        }
        var options = new EnvironmentCreationOptions
        {
            logId = "embeddings",
            logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
            loggingFunction = LogCallback,
        };
        try
        {
            OrtEnv.CreateInstanceWithOptions(ref options);
        }
        catch (Exception e) when (e is TypeInitializationException or EntryPointNotFoundException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            throw new OnnxRuntimeNotFoundException($"{path} does not work with the ONNX Runtime {Version} API ({e.GetBaseException().Message})", tried, e);
        }
    }

    /// <summary>
    /// The runtime's log sink: keeps warnings and errors instead of letting the runtime print them (a library does not
    /// write to the console). Must never throw into native code.
    /// </summary>
    private static void OnLog(nint param, OrtLoggingLevel severity, string category, string logId, string codeLocation, string message)
    {
        try
        {
            string level = severity switch
            {
                OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING => "warning",
                OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR => "error",
                OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL => "fatal",
                _ => "info",
            };
            Log.Enqueue($"[{level}] {message}");
            Interlocked.Increment(ref _logCount);
            while (Log.Count > MaxLogLines && Log.TryDequeue(out _))
            {
            }
        }
        catch (Exception)
        {
            // Dropping one log line is harmless; throwing into the runtime is not.
        }
    }
}
