using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Embeddings.Native;

/// <summary>
/// The ONNX Runtime C API function table (<c>struct OrtApi</c>), read once through <c>OrtApiBase::GetApi</c>.
/// This is the only file that knows slot numbers; everything else calls the typed wrappers below.
/// </summary>
/// <remarks>
/// <para><c>OrtApi</c> is a struct of function pointers that only ever grows at its end, so a slot number never
/// changes between releases. Slot = 0-based index of the member in the struct, checked against
/// <c>include/onnxruntime/core/session/onnxruntime_c_api.h</c> (microsoft/onnxruntime; slots 0-130 read member
/// by member, 204-208 from the 1.2x header, the rest of the verified table on this machine with
/// offsetof on the API 29 header).</para>
/// <code>
///  slot  function                                slot  function
///     1  GetErrorCode                              62  GetDimensions
///     2  GetErrorMessage                           63  GetSymbolicDimensions
///     4  CreateEnvWithCustomLogger                 65  GetTensorTypeAndShape
///     7  CreateSession                             69  CreateCpuMemoryInfo
///     9  Run                                       76  AllocatorFree
///    10  CreateSessionOptions                      78  GetAllocatorWithDefaultOptions
///    13  SetSessionExecutionMode                   92  ReleaseEnv
///    23  SetSessionGraphOptimizationLevel          93  ReleaseStatus
///    24  SetIntraOpNumThreads                      94  ReleaseMemoryInfo
///    25  SetInterOpNumThreads                      95  ReleaseSession
///    30  SessionGetInputCount                      96  ReleaseValue
///    31  SessionGetOutputCount                     97  ReleaseRunOptions
///    33  SessionGetInputTypeInfo                   98  ReleaseTypeInfo
///    34  SessionGetOutputTypeInfo                  99  ReleaseTensorTypeAndShapeInfo
///    36  SessionGetInputName                      100  ReleaseSessionOptions
///    37  SessionGetOutputName                     125  GetAvailableProviders
///    39  CreateRunOptions                         126  ReleaseAvailableProviders
///    46  RunOptionsSetTerminate                   130  AddSessionConfigEntry
///    49  CreateTensorWithDataAsOrtValue           204  SessionOptionsAppendExecutionProvider_CUDA_V2
///    51  GetTensorMutableData                     205  CreateCUDAProviderOptions
///    55  CastTypeInfoToTensorInfo                 206  UpdateCUDAProviderOptions
///    60  GetTensorElementType                     208  ReleaseCUDAProviderOptions
///    61  GetDimensionsCount
/// </code>
/// <para>All functions use the platform C calling convention; strings are null-terminated UTF-8 on Linux and
/// macOS. Every <c>OrtStatus*</c> result goes through <see cref="Check"/>.</para>
/// </remarks>
internal sealed unsafe class NativeApi
{
    /// <summary>The API version we ask for: ONNX Runtime 1.20 or newer has every slot in the table.</summary>
    internal const uint ApiVersion = 20;

    private static class Slot
    {
        public const int GetErrorCode = 1;
        public const int GetErrorMessage = 2;
        public const int CreateEnvWithCustomLogger = 4;
        public const int CreateSession = 7;
        public const int Run = 9;
        public const int CreateSessionOptions = 10;
        public const int SetSessionExecutionMode = 13;
        public const int SetSessionGraphOptimizationLevel = 23;
        public const int SetIntraOpNumThreads = 24;
        public const int SetInterOpNumThreads = 25;
        public const int SessionGetInputCount = 30;
        public const int SessionGetOutputCount = 31;
        public const int SessionGetInputTypeInfo = 33;
        public const int SessionGetOutputTypeInfo = 34;
        public const int SessionGetInputName = 36;
        public const int SessionGetOutputName = 37;
        public const int CreateRunOptions = 39;
        public const int RunOptionsSetTerminate = 46;
        public const int CreateTensorWithDataAsOrtValue = 49;
        public const int GetTensorMutableData = 51;
        public const int CastTypeInfoToTensorInfo = 55;
        public const int GetTensorElementType = 60;
        public const int GetDimensionsCount = 61;
        public const int GetDimensions = 62;
        public const int GetSymbolicDimensions = 63;
        public const int GetTensorTypeAndShape = 65;
        public const int CreateCpuMemoryInfo = 69;
        public const int AllocatorFree = 76;
        public const int GetAllocatorWithDefaultOptions = 78;
        public const int ReleaseEnv = 92;
        public const int ReleaseStatus = 93;
        public const int ReleaseMemoryInfo = 94;
        public const int ReleaseSession = 95;
        public const int ReleaseValue = 96;
        public const int ReleaseRunOptions = 97;
        public const int ReleaseTypeInfo = 98;
        public const int ReleaseTensorTypeAndShapeInfo = 99;
        public const int ReleaseSessionOptions = 100;
        public const int GetAvailableProviders = 125;
        public const int ReleaseAvailableProviders = 126;
        public const int AddSessionConfigEntry = 130;
        public const int SessionOptionsAppendExecutionProviderCudaV2 = 204;
        public const int CreateCudaProviderOptions = 205;
        public const int UpdateCudaProviderOptions = 206;
        public const int ReleaseCudaProviderOptions = 208;
    }

    // OrtStatus* is returned as nint: zero means success.
    private readonly delegate* unmanaged<nint, int> _getErrorCode;
    private readonly delegate* unmanaged<nint, byte*> _getErrorMessage;
    private readonly delegate* unmanaged<delegate* unmanaged<nint, int, byte*, byte*, byte*, byte*, void>, nint, int, byte*, nint*, nint> _createEnvWithCustomLogger;
    private readonly delegate* unmanaged<nint, byte*, nint, nint*, nint> _createSession;
    private readonly delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint> _run;
    private readonly delegate* unmanaged<nint*, nint> _createSessionOptions;
    private readonly delegate* unmanaged<nint, int, nint> _setSessionExecutionMode;
    private readonly delegate* unmanaged<nint, int, nint> _setSessionGraphOptimizationLevel;
    private readonly delegate* unmanaged<nint, int, nint> _setIntraOpNumThreads;
    private readonly delegate* unmanaged<nint, int, nint> _setInterOpNumThreads;
    private readonly delegate* unmanaged<nint, nuint*, nint> _sessionGetInputCount;
    private readonly delegate* unmanaged<nint, nuint*, nint> _sessionGetOutputCount;
    private readonly delegate* unmanaged<nint, nuint, nint*, nint> _sessionGetInputTypeInfo;
    private readonly delegate* unmanaged<nint, nuint, nint*, nint> _sessionGetOutputTypeInfo;
    private readonly delegate* unmanaged<nint, nuint, nint, byte**, nint> _sessionGetInputName;
    private readonly delegate* unmanaged<nint, nuint, nint, byte**, nint> _sessionGetOutputName;
    private readonly delegate* unmanaged<nint*, nint> _createRunOptions;
    private readonly delegate* unmanaged<nint, nint> _runOptionsSetTerminate;
    private readonly delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint> _createTensorWithDataAsOrtValue;
    private readonly delegate* unmanaged<nint, void**, nint> _getTensorMutableData;
    private readonly delegate* unmanaged<nint, nint*, nint> _castTypeInfoToTensorInfo;
    private readonly delegate* unmanaged<nint, int*, nint> _getTensorElementType;
    private readonly delegate* unmanaged<nint, nuint*, nint> _getDimensionsCount;
    private readonly delegate* unmanaged<nint, long*, nuint, nint> _getDimensions;
    private readonly delegate* unmanaged<nint, byte**, nuint, nint> _getSymbolicDimensions;
    private readonly delegate* unmanaged<nint, nint*, nint> _getTensorTypeAndShape;
    private readonly delegate* unmanaged<int, int, nint*, nint> _createCpuMemoryInfo;
    private readonly delegate* unmanaged<nint, void*, nint> _allocatorFree;
    private readonly delegate* unmanaged<nint*, nint> _getAllocatorWithDefaultOptions;
    private readonly delegate* unmanaged<nint, void> _releaseEnv;
    private readonly delegate* unmanaged<nint, void> _releaseStatus;
    private readonly delegate* unmanaged<nint, void> _releaseMemoryInfo;
    private readonly delegate* unmanaged<nint, void> _releaseSession;
    private readonly delegate* unmanaged<nint, void> _releaseValue;
    private readonly delegate* unmanaged<nint, void> _releaseRunOptions;
    private readonly delegate* unmanaged<nint, void> _releaseTypeInfo;
    private readonly delegate* unmanaged<nint, void> _releaseTensorTypeAndShapeInfo;
    private readonly delegate* unmanaged<nint, void> _releaseSessionOptions;
    private readonly delegate* unmanaged<byte***, int*, nint> _getAvailableProviders;
    private readonly delegate* unmanaged<byte**, int, nint> _releaseAvailableProviders;
    private readonly delegate* unmanaged<nint, byte*, byte*, nint> _addSessionConfigEntry;
    private readonly delegate* unmanaged<nint, nint, nint> _appendExecutionProviderCudaV2;
    private readonly delegate* unmanaged<nint*, nint> _createCudaProviderOptions;
    private readonly delegate* unmanaged<nint, byte**, byte**, nuint, nint> _updateCudaProviderOptions;
    private readonly delegate* unmanaged<nint, void> _releaseCudaProviderOptions;

    /// <summary>Reads the function pointers out of the table that <c>GetApi</c> returned.</summary>
    internal NativeApi(void** table)
    {
        _getErrorCode = (delegate* unmanaged<nint, int>)table[Slot.GetErrorCode];
        _getErrorMessage = (delegate* unmanaged<nint, byte*>)table[Slot.GetErrorMessage];
        _createEnvWithCustomLogger = (delegate* unmanaged<delegate* unmanaged<nint, int, byte*, byte*, byte*, byte*, void>, nint, int, byte*, nint*, nint>)table[Slot.CreateEnvWithCustomLogger];
        _createSession = (delegate* unmanaged<nint, byte*, nint, nint*, nint>)table[Slot.CreateSession];
        _run = (delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)table[Slot.Run];
        _createSessionOptions = (delegate* unmanaged<nint*, nint>)table[Slot.CreateSessionOptions];
        _setSessionExecutionMode = (delegate* unmanaged<nint, int, nint>)table[Slot.SetSessionExecutionMode];
        _setSessionGraphOptimizationLevel = (delegate* unmanaged<nint, int, nint>)table[Slot.SetSessionGraphOptimizationLevel];
        _setIntraOpNumThreads = (delegate* unmanaged<nint, int, nint>)table[Slot.SetIntraOpNumThreads];
        _setInterOpNumThreads = (delegate* unmanaged<nint, int, nint>)table[Slot.SetInterOpNumThreads];
        _sessionGetInputCount = (delegate* unmanaged<nint, nuint*, nint>)table[Slot.SessionGetInputCount];
        _sessionGetOutputCount = (delegate* unmanaged<nint, nuint*, nint>)table[Slot.SessionGetOutputCount];
        _sessionGetInputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)table[Slot.SessionGetInputTypeInfo];
        _sessionGetOutputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)table[Slot.SessionGetOutputTypeInfo];
        _sessionGetInputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)table[Slot.SessionGetInputName];
        _sessionGetOutputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)table[Slot.SessionGetOutputName];
        _createRunOptions = (delegate* unmanaged<nint*, nint>)table[Slot.CreateRunOptions];
        _runOptionsSetTerminate = (delegate* unmanaged<nint, nint>)table[Slot.RunOptionsSetTerminate];
        _createTensorWithDataAsOrtValue = (delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)table[Slot.CreateTensorWithDataAsOrtValue];
        _getTensorMutableData = (delegate* unmanaged<nint, void**, nint>)table[Slot.GetTensorMutableData];
        _castTypeInfoToTensorInfo = (delegate* unmanaged<nint, nint*, nint>)table[Slot.CastTypeInfoToTensorInfo];
        _getTensorElementType = (delegate* unmanaged<nint, int*, nint>)table[Slot.GetTensorElementType];
        _getDimensionsCount = (delegate* unmanaged<nint, nuint*, nint>)table[Slot.GetDimensionsCount];
        _getDimensions = (delegate* unmanaged<nint, long*, nuint, nint>)table[Slot.GetDimensions];
        _getSymbolicDimensions = (delegate* unmanaged<nint, byte**, nuint, nint>)table[Slot.GetSymbolicDimensions];
        _getTensorTypeAndShape = (delegate* unmanaged<nint, nint*, nint>)table[Slot.GetTensorTypeAndShape];
        _createCpuMemoryInfo = (delegate* unmanaged<int, int, nint*, nint>)table[Slot.CreateCpuMemoryInfo];
        _allocatorFree = (delegate* unmanaged<nint, void*, nint>)table[Slot.AllocatorFree];
        _getAllocatorWithDefaultOptions = (delegate* unmanaged<nint*, nint>)table[Slot.GetAllocatorWithDefaultOptions];
        _releaseEnv = (delegate* unmanaged<nint, void>)table[Slot.ReleaseEnv];
        _releaseStatus = (delegate* unmanaged<nint, void>)table[Slot.ReleaseStatus];
        _releaseMemoryInfo = (delegate* unmanaged<nint, void>)table[Slot.ReleaseMemoryInfo];
        _releaseSession = (delegate* unmanaged<nint, void>)table[Slot.ReleaseSession];
        _releaseValue = (delegate* unmanaged<nint, void>)table[Slot.ReleaseValue];
        _releaseRunOptions = (delegate* unmanaged<nint, void>)table[Slot.ReleaseRunOptions];
        _releaseTypeInfo = (delegate* unmanaged<nint, void>)table[Slot.ReleaseTypeInfo];
        _releaseTensorTypeAndShapeInfo = (delegate* unmanaged<nint, void>)table[Slot.ReleaseTensorTypeAndShapeInfo];
        _releaseSessionOptions = (delegate* unmanaged<nint, void>)table[Slot.ReleaseSessionOptions];
        _getAvailableProviders = (delegate* unmanaged<byte***, int*, nint>)table[Slot.GetAvailableProviders];
        _releaseAvailableProviders = (delegate* unmanaged<byte**, int, nint>)table[Slot.ReleaseAvailableProviders];
        _addSessionConfigEntry = (delegate* unmanaged<nint, byte*, byte*, nint>)table[Slot.AddSessionConfigEntry];
        _appendExecutionProviderCudaV2 = (delegate* unmanaged<nint, nint, nint>)table[Slot.SessionOptionsAppendExecutionProviderCudaV2];
        _createCudaProviderOptions = (delegate* unmanaged<nint*, nint>)table[Slot.CreateCudaProviderOptions];
        _updateCudaProviderOptions = (delegate* unmanaged<nint, byte**, byte**, nuint, nint>)table[Slot.UpdateCudaProviderOptions];
        _releaseCudaProviderOptions = (delegate* unmanaged<nint, void>)table[Slot.ReleaseCudaProviderOptions];
    }

    // ---- status ---------------------------------------------------------------------------------------------

    /// <summary>Turns a non-null <c>OrtStatus*</c> into an <see cref="OnnxRuntimeException"/>; the status is always released.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Check(nint status, string operation)
    {
        if (status != 0)
        {
            Throw(status, operation);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Throw(nint status, string operation)
    {
        OrtErrorCode code;
        string message;
        try
        {
            code = (OrtErrorCode)_getErrorCode(status);
            message = Utf8(_getErrorMessage(status)) ?? "(no message)";
        }
        finally
        {
            _releaseStatus(status);
        }
        throw new OnnxRuntimeException(operation, code, message);
    }

    internal static string? Utf8(byte* text) => text is null ? null : Marshal.PtrToStringUTF8((nint)text);

    // ---- environment, allocator, memory info ----------------------------------------------------------------

    internal OrtEnvHandle CreateEnv(delegate* unmanaged<nint, int, byte*, byte*, byte*, byte*, void> logger, nint loggerParam, OrtLoggingLevel level, byte* logId)
    {
        var handle = new OrtEnvHandle(this);
        nint env;
        Check(_createEnvWithCustomLogger(logger, loggerParam, (int)level, logId, &env), "CreateEnvWithCustomLogger");
        handle.Attach(env);
        return handle;
    }

    internal nint GetDefaultAllocator()
    {
        nint allocator;
        Check(_getAllocatorWithDefaultOptions(&allocator), "GetAllocatorWithDefaultOptions");
        return allocator;
    }

    internal void AllocatorFree(nint allocator, void* pointer) => Check(_allocatorFree(allocator, pointer), "AllocatorFree");

    internal OrtMemoryInfoHandle CreateCpuMemoryInfo()
    {
        const int OrtArenaAllocator = 1, OrtMemTypeDefault = 0;
        var handle = new OrtMemoryInfoHandle(this);
        nint info;
        Check(_createCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &info), "CreateCpuMemoryInfo");
        handle.Attach(info);
        return handle;
    }

    internal string[] GetAvailableProviders()
    {
        byte** names;
        int count;
        Check(_getAvailableProviders(&names, &count), "GetAvailableProviders");
        try
        {
            var result = new string[count];
            for (int i = 0; i < count; i++)
            {
                result[i] = Utf8(names[i]) ?? string.Empty;
            }
            return result;
        }
        finally
        {
            Check(_releaseAvailableProviders(names, count), "ReleaseAvailableProviders");
        }
    }

    // ---- session options -----------------------------------------------------------------------------------

    internal OrtSessionOptionsHandle CreateSessionOptions()
    {
        var handle = new OrtSessionOptionsHandle(this);
        nint options;
        Check(_createSessionOptions(&options), "CreateSessionOptions");
        handle.Attach(options);
        return handle;
    }

    internal void SetExecutionMode(OrtSessionOptionsHandle options, bool parallel) =>
        Check(_setSessionExecutionMode(options.DangerousGetHandle(), parallel ? 1 : 0), "SetSessionExecutionMode");

    internal void SetGraphOptimizationLevel(OrtSessionOptionsHandle options, GraphOptimizationLevel level) =>
        Check(_setSessionGraphOptimizationLevel(options.DangerousGetHandle(), (int)level), "SetSessionGraphOptimizationLevel");

    internal void SetIntraOpNumThreads(OrtSessionOptionsHandle options, int threads) =>
        Check(_setIntraOpNumThreads(options.DangerousGetHandle(), threads), "SetIntraOpNumThreads");

    internal void SetInterOpNumThreads(OrtSessionOptionsHandle options, int threads) =>
        Check(_setInterOpNumThreads(options.DangerousGetHandle(), threads), "SetInterOpNumThreads");

    /// <summary>Sets a session configuration entry (keys from onnxruntime_session_options_config_keys.h).</summary>
    internal void AddSessionConfigEntry(OrtSessionOptionsHandle options, ReadOnlySpan<byte> keyUtf8z, ReadOnlySpan<byte> valueUtf8z)
    {
        fixed (byte* key = keyUtf8z, value = valueUtf8z)
        {
            Check(_addSessionConfigEntry(options.DangerousGetHandle(), key, value), "AddSessionConfigEntry");
        }
    }

    internal OrtCudaProviderOptionsHandle CreateCudaProviderOptions()
    {
        var handle = new OrtCudaProviderOptionsHandle(this);
        nint options;
        Check(_createCudaProviderOptions(&options), "CreateCUDAProviderOptions");
        handle.Attach(options);
        return handle;
    }

    internal void UpdateCudaProviderOptions(OrtCudaProviderOptionsHandle options, byte** keys, byte** values, int count) =>
        Check(_updateCudaProviderOptions(options.DangerousGetHandle(), keys, values, (nuint)count), "UpdateCUDAProviderOptions");

    internal void AppendCudaExecutionProvider(OrtSessionOptionsHandle options, OrtCudaProviderOptionsHandle cuda) =>
        Check(_appendExecutionProviderCudaV2(options.DangerousGetHandle(), cuda.DangerousGetHandle()), "SessionOptionsAppendExecutionProvider_CUDA_V2");

    // ---- session ---------------------------------------------------------------------------------------------

    internal OrtSessionHandle CreateSession(OrtEnvHandle env, byte* modelPath, OrtSessionOptionsHandle options)
    {
        var handle = new OrtSessionHandle(this);
        nint session;
        Check(_createSession(env.DangerousGetHandle(), modelPath, options.DangerousGetHandle(), &session), "CreateSession");
        handle.Attach(session);
        return handle;
    }

    internal int SessionGetCount(OrtSessionHandle session, bool outputs)
    {
        nuint count;
        if (outputs)
        {
            Check(_sessionGetOutputCount(session.DangerousGetHandle(), &count), "SessionGetOutputCount");
        }
        else
        {
            Check(_sessionGetInputCount(session.DangerousGetHandle(), &count), "SessionGetInputCount");
        }
        return checked((int)count);
    }

    /// <summary>The name of input/output <paramref name="index"/>; ORT allocates it, we free it on the default allocator.</summary>
    internal string SessionGetName(OrtSessionHandle session, bool output, int index, nint allocator)
    {
        byte* name = null;
        try
        {
            if (output)
            {
                Check(_sessionGetOutputName(session.DangerousGetHandle(), (nuint)index, allocator, &name), "SessionGetOutputName");
            }
            else
            {
                Check(_sessionGetInputName(session.DangerousGetHandle(), (nuint)index, allocator, &name), "SessionGetInputName");
            }
            return Utf8(name) ?? string.Empty;
        }
        finally
        {
            if (name is not null)
            {
                AllocatorFree(allocator, name);
            }
        }
    }

    internal OrtTypeInfoHandle SessionGetTypeInfo(OrtSessionHandle session, bool output, int index)
    {
        var handle = new OrtTypeInfoHandle(this);
        nint info;
        if (output)
        {
            Check(_sessionGetOutputTypeInfo(session.DangerousGetHandle(), (nuint)index, &info), "SessionGetOutputTypeInfo");
        }
        else
        {
            Check(_sessionGetInputTypeInfo(session.DangerousGetHandle(), (nuint)index, &info), "SessionGetInputTypeInfo");
        }
        handle.Attach(info);
        return handle;
    }

    /// <summary>The tensor view of a type info, or 0 when the value is not a tensor. Owned by the type info: do not release.</summary>
    internal nint CastTypeInfoToTensorInfo(OrtTypeInfoHandle typeInfo)
    {
        nint tensorInfo;
        Check(_castTypeInfoToTensorInfo(typeInfo.DangerousGetHandle(), &tensorInfo), "CastTypeInfoToTensorInfo");
        return tensorInfo;
    }

    internal TensorElementType GetTensorElementType(nint tensorInfo)
    {
        int type;
        Check(_getTensorElementType(tensorInfo, &type), "GetTensorElementType");
        return (TensorElementType)type;
    }

    internal long[] GetDimensions(nint tensorInfo)
    {
        nuint count;
        Check(_getDimensionsCount(tensorInfo, &count), "GetDimensionsCount");
        var dims = new long[checked((int)count)];
        fixed (long* p = dims)
        {
            Check(_getDimensions(tensorInfo, p, count), "GetDimensions");
        }
        return dims;
    }

    internal string[] GetSymbolicDimensions(nint tensorInfo, int rank)
    {
        var names = new string[rank];
        if (rank == 0)
        {
            return names;
        }
        var pointers = new nint[rank];
        fixed (nint* p = pointers)
        {
            Check(_getSymbolicDimensions(tensorInfo, (byte**)p, (nuint)rank), "GetSymbolicDimensions");
        }
        for (int i = 0; i < rank; i++)
        {
            // The strings belong to the type info; copy them out.
            names[i] = Utf8((byte*)pointers[i]) ?? string.Empty;
        }
        return names;
    }

    // ---- values ----------------------------------------------------------------------------------------------

    /// <summary>Wraps caller memory as a tensor without copying; the memory must stay pinned until the value is released.</summary>
    internal OrtValueHandle CreateTensorWithData(OrtMemoryInfoHandle memoryInfo, void* data, nuint byteLength, long* shape, int rank, TensorElementType type)
    {
        var handle = new OrtValueHandle(this);
        nint value;
        Check(_createTensorWithDataAsOrtValue(memoryInfo.DangerousGetHandle(), data, byteLength, shape, (nuint)rank, (int)type, &value), "CreateTensorWithDataAsOrtValue");
        handle.Attach(value);
        return handle;
    }

    internal void* GetTensorMutableData(nint value)
    {
        void* data;
        Check(_getTensorMutableData(value, &data), "GetTensorMutableData");
        return data;
    }

    /// <summary>Element type and shape of a tensor value.</summary>
    internal (TensorElementType Type, long[] Shape) GetTensorTypeAndShape(nint value)
    {
        nint info;
        Check(_getTensorTypeAndShape(value, &info), "GetTensorTypeAndShape");
        try
        {
            return (GetTensorElementType(info), GetDimensions(info));
        }
        finally
        {
            _releaseTensorTypeAndShapeInfo(info);
        }
    }

    // ---- run ---------------------------------------------------------------------------------------------------

    internal OrtRunOptionsHandle CreateRunOptions()
    {
        var handle = new OrtRunOptionsHandle(this);
        nint options;
        Check(_createRunOptions(&options), "CreateRunOptions");
        handle.Attach(options);
        return handle;
    }

    internal void SetTerminate(nint runOptions) => Check(_runOptionsSetTerminate(runOptions), "RunOptionsSetTerminate");

    internal nint Run(nint session, nint runOptions, nint* inputNames, nint* inputs, int inputCount, nint* outputNames, int outputCount, nint* outputs) =>
        _run(session, runOptions, inputNames, inputs, (nuint)inputCount, outputNames, (nuint)outputCount, outputs);

    // ---- release -----------------------------------------------------------------------------------------------

    internal void ReleaseEnv(nint p) => _releaseEnv(p);
    internal void ReleaseMemoryInfo(nint p) => _releaseMemoryInfo(p);
    internal void ReleaseSession(nint p) => _releaseSession(p);
    internal void ReleaseValue(nint p) => _releaseValue(p);
    internal void ReleaseRunOptions(nint p) => _releaseRunOptions(p);
    internal void ReleaseTypeInfo(nint p) => _releaseTypeInfo(p);
    internal void ReleaseSessionOptions(nint p) => _releaseSessionOptions(p);
    internal void ReleaseCudaProviderOptions(nint p) => _releaseCudaProviderOptions(p);
}

/// <summary>ORT log severities (<c>OrtLoggingLevel</c>).</summary>
internal enum OrtLoggingLevel
{
    Verbose = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
    Fatal = 4,
}
