namespace Embeddings.Native;

/// <summary>
/// ONNX Runtime reported an error (a non-null <c>OrtStatus</c>). Carries the runtime's error code and message.
/// </summary>
public class OnnxRuntimeException : Exception
{
    /// <summary>Creates the exception for a failed runtime call.</summary>
    /// <param name="operation">The C API function that failed, e.g. <c>CreateSession</c>.</param>
    /// <param name="errorCode">The runtime's error code.</param>
    /// <param name="runtimeMessage">The runtime's own message.</param>
    public OnnxRuntimeException(string operation, OrtErrorCode errorCode, string runtimeMessage)
        : this(operation, errorCode, runtimeMessage, $"ONNX Runtime {operation} failed ({errorCode}): {runtimeMessage}")
    {
    }

    /// <summary>Creates the exception with a message written for the caller.</summary>
    protected OnnxRuntimeException(string operation, OrtErrorCode errorCode, string runtimeMessage, string message)
        : base(message)
    {
        Operation = operation;
        ErrorCode = errorCode;
        RuntimeMessage = runtimeMessage;
    }

    /// <summary>The C API function that failed.</summary>
    public string Operation { get; }

    /// <summary>The runtime's error code.</summary>
    public OrtErrorCode ErrorCode { get; }

    /// <summary>The runtime's message, unchanged.</summary>
    public string RuntimeMessage { get; }
}

/// <summary>
/// An execution provider (CUDA) was asked for but cannot be used, and CPU fallback was not allowed.
/// The message says what is missing.
/// </summary>
public sealed class ExecutionProviderUnavailableException : OnnxRuntimeException
{
    internal ExecutionProviderUnavailableException(ExecutionProvider provider, string operation, OrtErrorCode errorCode, string runtimeMessage, string message)
        : base(operation, errorCode, runtimeMessage, message)
    {
        Provider = provider;
    }

    /// <summary>The provider that could not be enabled.</summary>
    public ExecutionProvider Provider { get; }
}

/// <summary>
/// The ONNX Runtime native library (libonnxruntime.so.1) is missing, cannot be loaded, or is not a usable
/// ONNX Runtime. The message says where it was looked for and how to get it.
/// </summary>
public sealed class OnnxRuntimeNotFoundException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="problem">What went wrong.</param>
    /// <param name="candidates">The paths that were tried, in order.</param>
    /// <param name="inner">The loader's error, if any.</param>
    public OnnxRuntimeNotFoundException(string problem, IReadOnlyList<string> candidates, Exception? inner = null)
        : base(Describe(problem, candidates), inner)
    {
        Problem = problem;
        Candidates = candidates;
    }

    /// <summary>What went wrong, without the advice.</summary>
    public string Problem { get; }

    /// <summary>The library paths that were tried, in order.</summary>
    public IReadOnlyList<string> Candidates { get; }

    private static string Describe(string problem, IReadOnlyList<string> candidates)
    {
        var tried = candidates.Count == 0 ? "" : " Looked for: " + string.Join(", ", candidates) + ".";
        return $"ONNX Runtime native library not available: {problem}.{tried} " +
               $"Fix: run scripts/setup-native.sh (or scripts/setup.sh) in the repository to download ONNX Runtime " +
               $"{OrtRuntime.BundledVersion} into .native/, or set {OrtRuntime.LibraryPathVariable}=/path/to/libonnxruntime.so.1 " +
               $"(ONNX Runtime {OrtRuntime.MinimumVersion} or newer; a GPU build for CUDA).";
    }
}
