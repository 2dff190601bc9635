using System.Globalization;
using System.Threading.Channels;
using Embeddings.Encoding;
using Microsoft.Extensions.AI;

namespace Embeddings;

/// <summary>Settings of an <see cref="EmbeddingBatcher"/>.</summary>
public sealed class EmbeddingBatcherOptions
{
    /// <summary>
    /// Most tokens in one model batch: requests waiting together are merged until the next would pass this (a request
    /// larger than it runs alone). Default 8192, the sentence-transformers encoder's budget per model run.
    /// </summary>
    public int MaxBatchTokens { get; set; } = 8192;

    /// <summary>Most texts in one model batch (default 256, the encoder's most rows per run).</summary>
    public int MaxBatchInputs { get; set; } = 256;

    /// <summary>Model batches in flight at once; 0 (default) is one per core, so every core has a batch to run.</summary>
    public int Workers { get; set; }

    /// <summary>The problems with these settings, one line each; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxBatchTokens < 1)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(MaxBatchTokens)} must be at least 1, not {MaxBatchTokens}."));
        }
        if (MaxBatchInputs < 1)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(MaxBatchInputs)} must be at least 1, not {MaxBatchInputs}."));
        }
        if (Workers < 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(Workers)} must be 0 (one per core) or more, not {Workers}."));
        }
        return problems;
    }
}

/// <summary>
/// An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over an <see cref="EmbeddingModel"/> that merges concurrent
/// requests into model batches under a token budget (what an embedding server does: one model run for many small
/// requests instead of one each). Each request gets exactly the vectors the model gives its texts alone (a text's
/// vector does not depend on its batch), with its own usage.
/// </summary>
/// <remarks>
/// Requests queue in arrival order; each of <see cref="EmbeddingBatcherOptions.Workers"/> workers takes the requests
/// at the head of the queue while they fit <see cref="EmbeddingBatcherOptions.MaxBatchTokens"/> and
/// <see cref="EmbeddingBatcherOptions.MaxBatchInputs"/> (tokens counted with the model's tokenizer before encoding), and
/// runs them as one call of the model. A request cancelled while it waits leaves the queue; a batch whose requests were
/// all cancelled stops. The queue itself is not bounded: a host bounds it by limiting concurrent requests.
/// Thread-safe; dispose it to stop the workers (requests still waiting then fail with <see cref="ObjectDisposedException"/>).
/// </remarks>
public sealed class EmbeddingBatcher : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly EmbeddingModel _model;
    private readonly int _maxTokens;
    private readonly int _maxInputs;
    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly Lock _take = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private long _batches;
    private long _requests;

    /// <summary>Starts the workers over <paramref name="model"/> (the model itself is loaded by the first request).</summary>
    /// <exception cref="InvalidRequestException">The options are not valid.</exception>
    public EmbeddingBatcher(EmbeddingModel model, EmbeddingBatcherOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new EmbeddingBatcherOptions();
        IReadOnlyList<string> problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new InvalidRequestException("The batcher options are not valid: " + string.Join(" ", problems));
        }
        _model = model;
        _maxTokens = options.MaxBatchTokens;
        _maxInputs = options.MaxBatchInputs;
        _workers = new Task[options.Workers > 0 ? options.Workers : Environment.ProcessorCount];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = Task.Run(WorkAsync);
        }
    }

    /// <summary>The model the batches run on.</summary>
    public EmbeddingModel Model => _model;

    /// <summary>Model batches run so far (with <see cref="Requests"/>: how much merging happened).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Requests answered so far.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <inheritdoc/>
    /// <exception cref="DimensionsNotSupportedException"><see cref="EmbeddingGenerationOptions.Dimensions"/> asks for a length the model cannot give.</exception>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<string> texts = values as IReadOnlyList<string> ?? values.ToList();
        int dimension = _model.OutputDimension(options?.Dimensions);
        int tokens = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            tokens += _model.EstimateTokens(texts[i] ?? throw new ArgumentException("a text is null", nameof(values)));
        }
        var request = new Request(texts, dimension, tokens, cancellationToken);
        if (!_queue.Writer.TryWrite(request))
        {
            throw new ObjectDisposedException(nameof(EmbeddingBatcher));
        }
        return request.Completion;
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this : _model.GetService(serviceType, serviceKey);
    }

    /// <summary>Stops the workers after the batches they are running; waiting requests fail.</summary>
    public void Dispose()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        _queue.Writer.TryComplete();
        _stop.Cancel();
        try
        {
            Task.WaitAll(_workers);
        }
        catch (AggregateException)
        {
            // Workers end by cancellation; their requests were failed already.
        }
        while (_queue.Reader.TryRead(out Request? left))
        {
            left.Fail(new ObjectDisposedException(nameof(EmbeddingBatcher)));
        }
        _stop.Dispose();
    }

    private async Task WorkAsync()
    {
        var batch = new List<Request>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                TakeBatch(batch);
                if (batch.Count > 0)
                {
                    await RunAsync(batch).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    /// <summary>Takes the requests at the head of the queue that fit one batch (the first always does), skipping cancelled ones.</summary>
    private void TakeBatch(List<Request> batch)
    {
        batch.Clear();
        int tokens = 0, inputs = 0;
        lock (_take)
        {
            while (_queue.Reader.TryPeek(out Request? next))
            {
                if (next.IsCompleted)
                {
                    _queue.Reader.TryRead(out _); // cancelled while it waited
                    continue;
                }
                if (batch.Count > 0 && (tokens + next.Tokens > _maxTokens || inputs + next.Texts.Count > _maxInputs))
                {
                    break;
                }
                _queue.Reader.TryRead(out _);
                batch.Add(next);
                tokens += next.Tokens;
                inputs += next.Texts.Count;
            }
        }
    }

    private async Task RunAsync(List<Request> batch)
    {
        int total = 0;
        foreach (Request r in batch)
        {
            total += r.Texts.Count;
        }
        var texts = new string[total];
        int at = 0;
        foreach (Request r in batch)
        {
            for (int i = 0; i < r.Texts.Count; i++)
            {
                texts[at++] = r.Texts[i];
            }
        }
        // The batch stops only when every request in it was cancelled: one client going away does not fail the others.
        using var allGone = new CancellationTokenSource();
        int remaining = batch.Count;
        var registrations = new CancellationTokenRegistration[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            registrations[i] = batch[i].CancellationToken.Register(() =>
            {
                if (Interlocked.Decrement(ref remaining) == 0)
                {
                    allGone.Cancel();
                }
            });
        }
        try
        {
            ISentenceEncoder encoder = _model.Encoder();
            EmbeddingBatch vectors = await encoder.EncodeAsync(texts, allGone.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _batches);
            at = 0;
            foreach (Request r in batch)
            {
                r.Complete(_model.ToGenerated(encoder, vectors, at, r.Texts.Count, r.Dimension));
                at += r.Texts.Count;
            }
            Interlocked.Add(ref _requests, batch.Count);
        }
        catch (Exception e)
        {
            foreach (Request r in batch)
            {
                r.Fail(e);
            }
        }
        finally
        {
            foreach (CancellationTokenRegistration registration in registrations)
            {
                registration.Dispose();
            }
        }
    }

    /// <summary>One caller's texts waiting for a batch.</summary>
    private sealed class Request
    {
        private readonly TaskCompletionSource<GeneratedEmbeddings<Embedding<float>>> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration _cancel;

        public Request(IReadOnlyList<string> texts, int dimension, int tokens, CancellationToken cancellationToken)
        {
            Texts = texts;
            Dimension = dimension;
            Tokens = tokens;
            CancellationToken = cancellationToken;
            _cancel = cancellationToken.Register(() => _done.TrySetCanceled(cancellationToken));
        }

        public IReadOnlyList<string> Texts { get; }

        public int Dimension { get; }

        public int Tokens { get; }

        public CancellationToken CancellationToken { get; }

        public bool IsCompleted => _done.Task.IsCompleted;

        public Task<GeneratedEmbeddings<Embedding<float>>> Completion => _done.Task;

        public void Complete(GeneratedEmbeddings<Embedding<float>> result)
        {
            _cancel.Dispose();
            _done.TrySetResult(result);
        }

        public void Fail(Exception e)
        {
            _cancel.Dispose();
            if (e is OperationCanceledException && CancellationToken.IsCancellationRequested)
            {
                _done.TrySetCanceled(CancellationToken);
            }
            else
            {
                _done.TrySetException(e);
            }
        }
    }
}
