namespace Embeddings.Native;

/// <summary>How <see cref="OnnxSession.Create"/> sets up a session. Immutable once built.</summary>
public sealed class OnnxSessionOptions
{
    /// <summary>Defaults: runtime-chosen thread counts, all graph optimisations, CPU.</summary>
    public static OnnxSessionOptions Default { get; } = new();

    /// <summary>
    /// Threads used inside one operator (matrix products etc.). 0 lets the runtime choose (one per physical
    /// core). Use 1 when running several sessions or runs side by side and parallelising yourself.
    /// </summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Threads used to run independent graph branches at the same time. 0 or 1 runs nodes in order (the
    /// sequential execution mode, best for transformer encoders); above 1 switches to the parallel mode.
    /// </summary>
    public int InterOpThreads { get; init; }

    /// <summary>
    /// Whether idle runtime worker threads busy-wait for the next piece of work (the runtime's default, true).
    /// Spinning shaves latency off each operator but burns whole cores between runs; set false when the caller
    /// does other work (tokenising the next batch) on the same cores while the model runs.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>Graph rewrites applied when the session is created. Default <see cref="GraphOptimizationLevel.All"/>.</summary>
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.All;

    /// <summary>Where to run. Default <see cref="ExecutionProvider.Cpu"/>.</summary>
    public ExecutionProvider ExecutionProvider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>The CUDA device to use when <see cref="ExecutionProvider"/> is <see cref="ExecutionProvider.Cuda"/>.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>
    /// When CUDA was asked for but cannot be used: true runs on CPU and sets <see cref="OnnxSession.ProviderWarning"/>;
    /// false (default) throws <see cref="ExecutionProviderUnavailableException"/>.
    /// </summary>
    public bool AllowCpuFallback { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads, nameof(IntraOpThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(InterOpThreads, nameof(InterOpThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(CudaDeviceId, nameof(CudaDeviceId));
        if (!Enum.IsDefined(OptimizationLevel))
        {
            throw new ArgumentOutOfRangeException(nameof(OptimizationLevel), OptimizationLevel,
                "Accepted: DisableAll, Basic, Extended, All.");
        }
        if (!Enum.IsDefined(ExecutionProvider))
        {
            throw new ArgumentOutOfRangeException(nameof(ExecutionProvider), ExecutionProvider, "Accepted: Cpu, Cuda.");
        }
    }
}
