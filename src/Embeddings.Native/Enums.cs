namespace Embeddings.Native;

/// <summary>ONNX Runtime error codes (<c>OrtErrorCode</c>), as carried by <see cref="OnnxRuntimeException"/>.</summary>
/// <remarks>Newer runtimes may report codes past <see cref="EpFail"/>; they keep their number.</remarks>
public enum OrtErrorCode
{
    /// <summary>No error.</summary>
    Ok = 0,
    /// <summary>Generic failure (also: a shared library such as a provider could not be loaded).</summary>
    Fail = 1,
    /// <summary>An argument was rejected (wrong input name, type or shape).</summary>
    InvalidArgument = 2,
    /// <summary>A file does not exist.</summary>
    NoSuchFile = 3,
    /// <summary>No model was loaded.</summary>
    NoModel = 4,
    /// <summary>An execution engine failed.</summary>
    EngineError = 5,
    /// <summary>An exception was raised while running the graph.</summary>
    RuntimeException = 6,
    /// <summary>The model file is not a valid ONNX protobuf (corrupt or not a model).</summary>
    InvalidProtobuf = 7,
    /// <summary>A model was already loaded.</summary>
    ModelLoaded = 8,
    /// <summary>The operation or an operator is not implemented by this build.</summary>
    NotImplemented = 9,
    /// <summary>The graph is invalid (bad node, type mismatch, unknown operator).</summary>
    InvalidGraph = 10,
    /// <summary>An execution provider failed.</summary>
    EpFail = 11,
}

/// <summary>Element type of a tensor (<c>ONNXTensorElementDataType</c>).</summary>
public enum TensorElementType
{
    /// <summary>Not a tensor, or unknown.</summary>
    Undefined = 0,
    /// <summary>32-bit IEEE float.</summary>
    Float32 = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>String (not supported for inputs by this binding).</summary>
    String = 8,
    /// <summary>Boolean (one byte).</summary>
    Bool = 9,
    /// <summary>16-bit IEEE float.</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float.</summary>
    Float64 = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
    /// <summary>Complex of two 32-bit floats.</summary>
    Complex64 = 14,
    /// <summary>Complex of two 64-bit floats.</summary>
    Complex128 = 15,
    /// <summary>bfloat16.</summary>
    BFloat16 = 16,
}

/// <summary>How much the runtime rewrites the graph when a session is created (<c>GraphOptimizationLevel</c>).</summary>
public enum GraphOptimizationLevel
{
    /// <summary>No graph rewrites.</summary>
    DisableAll = 0,
    /// <summary>Semantics-preserving rewrites such as constant folding and redundant node removal.</summary>
    Basic = 1,
    /// <summary>Basic plus node fusions.</summary>
    Extended = 2,
    /// <summary>Everything, including layout optimisations (the runtime's default).</summary>
    All = 99,
}

/// <summary>Where a session runs its graph.</summary>
public enum ExecutionProvider
{
    /// <summary>The CPU execution provider, always available.</summary>
    Cpu = 0,
    /// <summary>
    /// NVIDIA CUDA. Needs a GPU build of ONNX Runtime (libonnxruntime_providers_cuda.so and
    /// libonnxruntime_providers_shared.so beside libonnxruntime.so.1), CUDA 12 and cuDNN 9.
    /// </summary>
    Cuda = 1,
}
