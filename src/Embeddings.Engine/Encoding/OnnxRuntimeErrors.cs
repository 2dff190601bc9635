namespace Embeddings;

/// <summary>
/// The ONNX Runtime native library is missing, cannot be loaded, or is too old. The message says where it was looked
/// for and how to get one. Users see it as a <see cref="ModelRuntimeException"/>.
/// </summary>
internal sealed class OnnxRuntimeNotFoundException : ModelRuntimeException
{
    /// <summary>Creates the error.</summary>
    /// <param name="problem">What went wrong.</param>
    /// <param name="candidates">The library paths that were tried, in order.</param>
    /// <param name="inner">The loader's error, if any.</param>
    public OnnxRuntimeNotFoundException(string problem, IReadOnlyList<string> candidates, Exception? inner = null)
        : base(Describe(problem, candidates), inner ?? new InvalidOperationException(problem))
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
        string tried = candidates.Count == 0 ? "" : " Looked for: " + string.Join(", ", candidates) + ".";
        return $"ONNX Runtime native library not available: {problem}.{tried} Fix: rebuild the project (the build copies " +
               $"ONNX Runtime {Encoding.OnnxRuntimeLibrary.Version} from the Microsoft.ML.OnnxRuntime NuGet package into onnxruntime/cpu/ " +
               $"beside the program), or set {Encoding.OnnxRuntimeLibrary.LibraryPathVariable}=/path/to/libonnxruntime.so " +
               $"(ONNX Runtime {Encoding.OnnxRuntimeLibrary.MinimumVersion} or newer).";
    }
}

/// <summary>
/// ONNX Runtime rejected a model or failed while running it. Carries the runtime's own message and error code
/// (for example <c>InvalidArgument</c> for a wrong input shape). Users see it as a <see cref="ModelRuntimeException"/>.
/// </summary>
internal sealed class OnnxRuntimeException : ModelRuntimeException
{
    /// <summary>Creates the error for a failed runtime call.</summary>
    public OnnxRuntimeException(string message, string runtimeErrorCode, string runtimeMessage, Exception inner)
        : base(message, inner)
    {
        RuntimeErrorCode = runtimeErrorCode;
        RuntimeMessage = runtimeMessage;
    }

    /// <summary>The runtime's error code name (Fail, InvalidArgument, InvalidProtobuf, ...), or "" when it gave none.</summary>
    public string RuntimeErrorCode { get; }

    /// <summary>The runtime's message, unchanged.</summary>
    public string RuntimeMessage { get; }
}
