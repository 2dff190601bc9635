namespace Embeddings.Server;

/// <summary>
/// Answers that cost a clustering (topics, digests), computed once per store state and shared: kept until the store
/// gains a commit (<see cref="LibraryStatus.Commits"/>). Concurrent requests for the same answer wait for one
/// computation; a client that goes away stops waiting, not the computation (the next request finds it done); a
/// failed computation is not kept.
/// </summary>
internal sealed class LibraryCache(PaperLibrary library)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (int Commits, Task<object> Answer)> _answers = new(StringComparer.Ordinal);

    /// <summary>The answer kept for <paramref name="key"/> at the store's current state, computing it when there is none.</summary>
    public async Task<T> GetAsync<T>(string key, Func<PaperLibrary, CancellationToken, Task<T>> compute, CancellationToken cancellationToken)
        where T : class
    {
        int commits = (await library.GetStatusAsync(cancellationToken).ConfigureAwait(false)).Commits;
        Task<object> answer;
        lock (_gate)
        {
            if (!_answers.TryGetValue(key, out var kept) || kept.Commits != commits || kept.Answer.IsFaulted || kept.Answer.IsCanceled)
            {
                // Older states' answers go: one per key is kept.
                kept = (commits, Task.Run<object>(async () => await compute(library, CancellationToken.None).ConfigureAwait(false), CancellationToken.None));
                _answers[key] = kept;
            }
            answer = kept.Answer;
        }
        return (T)await answer.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
