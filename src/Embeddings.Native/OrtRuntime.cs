using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Embeddings.Native;

/// <summary>
/// A loaded ONNX Runtime native library: its C API table, one runtime environment, the CPU memory description
/// used for caller-owned tensors, and the runtime's recent warnings. Long-lived and thread-safe; one per
/// library per process (<see cref="Load"/> caches it). The native library is never unloaded.
/// </summary>
/// <remarks>
/// Library resolution, first match wins:
/// <list type="number">
/// <item>the <c>libraryPath</c> argument of <see cref="Load"/>;</item>
/// <item>the environment variable <c>EMBEDDINGS_ONNXRUNTIME</c>;</item>
/// <item><c>.native/onnxruntime-1.30.0/libonnxruntime.so.1</c> in the nearest folder above
/// <see cref="AppContext.BaseDirectory"/> (then above the current directory) that has a <c>.native</c> folder,
/// which is where <c>scripts/setup-native.sh</c> puts it;</item>
/// <item>the system loader's search (<c>LD_LIBRARY_PATH</c>, ld.so cache) for <c>libonnxruntime.so.1</c> /
/// <c>onnxruntime</c>.</item>
/// </list>
/// A path given explicitly (argument or variable) that does not work is an error; it never falls through to the
/// next source. Every failure is an <see cref="OnnxRuntimeNotFoundException"/> that says how to get the library.
/// </remarks>
public sealed unsafe class OrtRuntime
{
    /// <summary>Environment variable that points at another ONNX Runtime library (for example a CUDA build).</summary>
    public const string LibraryPathVariable = "EMBEDDINGS_ONNXRUNTIME";

    /// <summary>The ONNX Runtime version that scripts/setup-native.sh installs.</summary>
    public const string BundledVersion = "1.30.0";

    /// <summary>The oldest ONNX Runtime this binding accepts.</summary>
    public const string MinimumVersion = "1.20";

    /// <summary>The library's file name under <c>.native/onnxruntime-1.30.0/</c>.</summary>
    public const string BundledFileName = "libonnxruntime.so.1";

    private const int MaxLogMessages = 64;

    private static readonly Lock CacheLock = new();
    private static readonly Dictionary<string, OrtRuntime> Cache = new(StringComparer.Ordinal);

    private readonly ConcurrentQueue<string> _log = new();
    private long _logCount;

    private OrtRuntime(string libraryPath, string version, NativeApi api)
    {
        LibraryPath = libraryPath;
        Version = version;
        Api = api;
        // The environment's logger gets this runtime through a GCHandle that lives as long as the process:
        // the environment is never released, and ORT may log from its own threads at any time.
        var self = GCHandle.Alloc(this);
        fixed (byte* logId = "embeddings"u8)
        {
            Env = api.CreateEnv(&OnLog, GCHandle.ToIntPtr(self), OrtLoggingLevel.Warning, logId);
        }
        CpuMemory = api.CreateCpuMemoryInfo();
        DefaultAllocator = api.GetDefaultAllocator();
        AvailableProviders = Array.AsReadOnly(api.GetAvailableProviders());
    }

    /// <summary>Full path of the loaded library (or the bare name the system loader resolved).</summary>
    public string LibraryPath { get; }

    /// <summary>The runtime's version string, e.g. "1.30.0".</summary>
    public string Version { get; }

    /// <summary>
    /// Execution providers compiled into this build, e.g. "CPUExecutionProvider". Listed does not mean usable:
    /// CUDA also needs its provider libraries, CUDA and cuDNN.
    /// </summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    internal NativeApi Api { get; }

    internal OrtEnvHandle Env { get; }

    internal OrtMemoryInfoHandle CpuMemory { get; }

    /// <summary>The runtime's default CPU allocator; owned by the runtime, never freed.</summary>
    internal nint DefaultAllocator { get; }

    /// <summary>
    /// Loads (once per process and path) the ONNX Runtime library found as described on <see cref="OrtRuntime"/>.
    /// </summary>
    /// <param name="libraryPath">An explicit library path, or null to search.</param>
    /// <exception cref="OnnxRuntimeNotFoundException">No usable library: the message says how to get one.</exception>
    public static OrtRuntime Load(string? libraryPath = null)
    {
        var (candidate, tried, isExplicit) = Locate(libraryPath, Environment.GetEnvironmentVariable(LibraryPathVariable), SearchStarts());
        if (candidate is not null && File.Exists(candidate))
        {
            // libonnxruntime.so -> libonnxruntime.so.1 is one library (and one ORT environment): one runtime.
            candidate = new FileInfo(candidate).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? candidate;
        }
        lock (CacheLock)
        {
            if (candidate is not null && Cache.TryGetValue(candidate, out var cached))
            {
                return cached;
            }
            var (handle, path) = Open(candidate, tried, isExplicit);
            if (Cache.TryGetValue(path, out var loaded))
            {
                return loaded;
            }
            var runtime = Create(handle, path, tried);
            Cache[path] = runtime;
            if (candidate is not null)
            {
                Cache[candidate] = runtime;
            }
            return runtime;
        }
    }

    /// <summary>
    /// The library path <see cref="Load"/> would use, without loading it; null when it would fall back to the
    /// system loader's search.
    /// </summary>
    /// <param name="libraryPath">An explicit library path, or null to search.</param>
    public static string? ResolveLibraryPath(string? libraryPath = null) =>
        Locate(libraryPath, Environment.GetEnvironmentVariable(LibraryPathVariable), SearchStarts()).Path;

    /// <summary>The runtime's most recent warning and error log lines (at most 64), oldest first.</summary>
    public IReadOnlyList<string> RecentLogMessages() => _log.ToArray();

    internal long LogCount => Interlocked.Read(ref _logCount);

    /// <summary>Log lines received after <paramref name="since"/> (a <see cref="LogCount"/> value).</summary>
    internal string[] LogMessagesSince(long since)
    {
        long fresh = LogCount - since;
        if (fresh <= 0)
        {
            return [];
        }
        var all = _log.ToArray();
        int take = (int)Math.Min(fresh, all.Length);
        return all[^take..];
    }

    private static string[] SearchStarts() => [AppContext.BaseDirectory, Environment.CurrentDirectory];

    /// <summary>Applies the resolution order; <paramref name="variable"/> is the value of EMBEDDINGS_ONNXRUNTIME.</summary>
    internal static (string? Path, List<string> Tried, bool IsExplicit) Locate(string? libraryPath, string? variable, IEnumerable<string> searchStarts)
    {
        var tried = new List<string>();
        if (!string.IsNullOrWhiteSpace(libraryPath))
        {
            tried.Add(Path.GetFullPath(libraryPath));
            return (tried[0], tried, true);
        }
        if (variable is { Length: > 0 } fromVariable)
        {
            tried.Add(Path.GetFullPath(fromVariable));
            return (tried[0], tried, true);
        }
        foreach (var start in searchStarts)
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (!Directory.Exists(Path.Combine(dir.FullName, ".native")))
                {
                    continue;
                }
                var bundled = Path.Combine(dir.FullName, ".native", "onnxruntime-" + BundledVersion, BundledFileName);
                if (!tried.Contains(bundled))
                {
                    tried.Add(bundled);
                }
                if (File.Exists(bundled))
                {
                    return (bundled, tried, false);
                }
                break;
            }
        }
        return (null, tried, false);
    }

    private static (nint Handle, string Path) Open(string? candidate, List<string> tried, bool isExplicit)
    {
        if (candidate is not null)
        {
            if (!File.Exists(candidate))
            {
                var source = isExplicit ? "the given path does not exist" : "the library file is missing";
                throw new OnnxRuntimeNotFoundException($"{candidate}: {source}", tried);
            }
            try
            {
                return (NativeLibrary.Load(candidate), candidate);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                throw new OnnxRuntimeNotFoundException($"{candidate} cannot be loaded ({e.Message})", tried, e);
            }
        }
        // Nothing set up locally: let the system loader search its usual places.
        foreach (var name in new[] { BundledFileName, "onnxruntime" })
        {
            tried.Add(name + " (system search)");
            if (NativeLibrary.TryLoad(name, typeof(OrtRuntime).Assembly, DllImportSearchPath.SafeDirectories, out var handle))
            {
                return (handle, name);
            }
        }
        throw new OnnxRuntimeNotFoundException("no libonnxruntime.so.1 found", tried);
    }

    private static OrtRuntime Create(nint library, string path, List<string> tried)
    {
        if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out var getApiBase))
        {
            throw new OnnxRuntimeNotFoundException($"{path} is not an ONNX Runtime library (it has no OrtGetApiBase)", tried);
        }
        // OrtApiBase: { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); }
        var apiBase = ((delegate* unmanaged<void**>)getApiBase)();
        if (apiBase is null)
        {
            throw new OnnxRuntimeNotFoundException($"{path}: OrtGetApiBase returned nothing", tried);
        }
        var version = NativeApi.Utf8(((delegate* unmanaged<byte*>)apiBase[1])()) ?? "unknown";
        if (!IsSupported(version))
        {
            throw new OnnxRuntimeNotFoundException($"{path} is ONNX Runtime {version}; {MinimumVersion} or newer is needed", tried);
        }
        var table = ((delegate* unmanaged<uint, void**>)apiBase[0])(NativeApi.ApiVersion);
        if (table is null)
        {
            throw new OnnxRuntimeNotFoundException($"{path} (ONNX Runtime {version}) does not offer C API version {NativeApi.ApiVersion}", tried);
        }
        return new OrtRuntime(path, version, new NativeApi(table));
    }

    private static bool IsSupported(string version)
    {
        var parts = version.Split('.');
        return parts.Length >= 2
               && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int major)
               && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int minor)
               && (major > 1 || (major == 1 && minor >= 20));
    }

    /// <summary>
    /// ORT's logging callback (<c>OrtLoggingFunction</c>). Keeps the message instead of letting the runtime
    /// print to stderr: a library must not write to the console. Must never throw into native code.
    /// </summary>
    [UnmanagedCallersOnly]
    private static void OnLog(nint param, int severity, byte* category, byte* logId, byte* codeLocation, byte* message)
    {
        try
        {
            if (GCHandle.FromIntPtr(param).Target is not OrtRuntime runtime)
            {
                return;
            }
            var level = severity switch
            {
                (int)OrtLoggingLevel.Warning => "warning",
                (int)OrtLoggingLevel.Error => "error",
                (int)OrtLoggingLevel.Fatal => "fatal",
                _ => "info",
            };
            runtime.AddLog($"[{level}] {NativeApi.Utf8(message)}");
        }
        catch (Exception)
        {
            // Nothing sensible to do inside a native callback; dropping one log line is harmless.
        }
    }

    private void AddLog(string line)
    {
        _log.Enqueue(line);
        Interlocked.Increment(ref _logCount);
        while (_log.Count > MaxLogMessages && _log.TryDequeue(out _))
        {
        }
    }
}
