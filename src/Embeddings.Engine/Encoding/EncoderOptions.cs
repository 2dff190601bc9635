using Embeddings.Numerics;

namespace Embeddings.Encoding;

/// <summary>How runs of the model are spread over the cores.</summary>
internal enum EncoderParallelism
{
    /// <summary>Picks the measured faster one for the model kind (see docs/encoder.md).</summary>
    Auto,

    /// <summary>Several batches in flight at once, one intra-op thread each.</summary>
    ConcurrentBatches,

    /// <summary>One batch at a time, with all threads inside its operators.</summary>
    IntraOp,
}

/// <summary>Settings of <see cref="SentenceEncoder.Load"/>. Immutable; defaults suit a CPU machine.</summary>
internal sealed class EncoderOptions
{
    /// <summary>Defaults: all cores, CPU, windowing as the model manifest says.</summary>
    public static EncoderOptions Default { get; } = new();

    /// <summary>Threads for the model; 0 (default) uses every core of the machine.</summary>
    public int Threads { get; init; }

    /// <summary>How the threads are used.</summary>
    public EncoderParallelism Parallelism { get; init; } = EncoderParallelism.Auto;

    /// <summary>CPU (default) or CUDA.</summary>
    public ComputeDevice Device { get; init; } = ComputeDevice.Cpu;

    /// <summary>
    /// When <see cref="Device"/> is CUDA and CUDA cannot be used: true runs on CPU (see
    /// <see cref="OnnxSentenceEncoder.ProviderWarning"/>), false (default) fails with an
    /// <see cref="ExecutionProviderUnavailableException"/> naming what is missing.
    /// </summary>
    public bool AllowCpuFallback { get; init; }

    /// <summary>
    /// ONNX Runtime session settings (threads, spinning, execution mode, optimisation), for tuning. Null (default)
    /// derives them from <see cref="Threads"/> and <see cref="Parallelism"/>: one intra-op thread per concurrent batch,
    /// or every thread inside one batch; spinning on; sequential execution. When set, its thread counts are used as
    /// given (per session run) and <see cref="Device"/>, <see cref="AllowCpuFallback"/> and
    /// <see cref="NativeLibraryPath"/> still apply.
    /// </summary>
    public OnnxSessionSettings? Session { get; init; }

    /// <summary>
    /// Most tokens (rows x longest row, padding included) per model run; 0 picks the measured default (USE-lite 4096;
    /// sentence-transformers 2048 on a CPU, where a run's activations then stay in the caches, 8192 on CUDA). Larger
    /// batches amortise the per-run overhead; smaller ones keep more batches available to run side by side.
    /// </summary>
    public int TokenBudgetPerBatch { get; init; }

    /// <summary>
    /// Sentence windowing of texts over the token limit: null (default) follows the model manifest (on for the
    /// models shipped here); false cuts long texts to the first window, exactly like sentence-transformers.
    /// </summary>
    public bool? Windowing { get; init; }

    /// <summary>Cap on windows per text (null: the manifest's); text beyond it is cut and flagged truncated.</summary>
    public int? MaxWindowsPerText { get; init; }

    /// <summary>Check the size and sha256 of every model file against the manifest at load (default true).</summary>
    public bool VerifyModelFiles { get; init; } = true;

    /// <summary>
    /// A libonnxruntime file to use; null (default) follows <see cref="OnnxRuntimeLibrary"/>'s resolution
    /// (EMBEDDINGS_ONNXRUNTIME, the GPU build for CUDA, else the CPU library beside the program).
    /// </summary>
    public string? NativeLibraryPath { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Threads, nameof(Threads));
        ArgumentOutOfRangeException.ThrowIfNegative(TokenBudgetPerBatch, nameof(TokenBudgetPerBatch));
        if (MaxWindowsPerText is int m)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(m, 1, nameof(MaxWindowsPerText));
        }
        Session?.Validate();
        if (!Enum.IsDefined(Parallelism))
        {
            throw new ArgumentOutOfRangeException(nameof(Parallelism), Parallelism, "Accepted: Auto, ConcurrentBatches, IntraOp.");
        }
    }
}
