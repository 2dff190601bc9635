using Embeddings.Encoding;

namespace Embeddings.Tests.Support;

/// <summary>
/// A test encoder whose calls can be held at a gate, to look at the library or the server while a call is inside the
/// model: <see cref="Entered"/> completes when a call reaches the closed gate, <see cref="Cancelled"/> when a held call
/// saw its cancellation. Records the size of every call, in order.
/// </summary>
internal sealed class GatedEncoder(ISentenceEncoder inner) : ISentenceEncoder
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<int> _calls = [];
    private volatile TaskCompletionSource? _gate;

    public string Fingerprint => inner.Fingerprint;

    public int Dimension => inner.Dimension;

    /// <summary>Completes when a call has reached the closed gate.</summary>
    public Task Entered => _entered.Task;

    /// <summary>Completes when a call held at the gate was cancelled.</summary>
    public Task Cancelled => _cancelled.Task;

    /// <summary>Texts per call, in call order.</summary>
    public IReadOnlyList<int> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    public void Close() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate?.TrySetResult();

    public async Task<EmbeddingBatch> EncodeAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        lock (_calls)
        {
            _calls.Add(texts.Count);
        }
        if (_gate is { } gate && !gate.Task.IsCompleted)
        {
            _entered.TrySetResult();
            try
            {
                await gate.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                _cancelled.TrySetResult();
                throw;
            }
        }
        return await inner.EncodeAsync(texts, cancellationToken);
    }

    public void Dispose() => inner.Dispose();
}
