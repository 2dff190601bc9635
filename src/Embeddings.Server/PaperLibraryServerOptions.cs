using System.Globalization;

namespace Embeddings.Server;

/// <summary>
/// Settings of the HTTP endpoints (<c>services.AddPaperLibraryServer(o =&gt; ...)</c>, <c>embeddings serve</c>): who may
/// write, and the limits that make an overloaded or abused server answer instead of falling over.
/// </summary>
public sealed class PaperLibraryServerOptions
{
    /// <summary>
    /// The bearer token writes need (<c>Authorization: Bearer TOKEN</c>; 401 without one, 403 with another). Null: the
    /// server takes no writes at all (every write answers 403 and says to start it with a token).
    /// </summary>
    public string? Token { get; set; }

    /// <summary>Reads (search, papers, embeddings) need the token too. Off by default: reads need none. <c>/health</c> never does.</summary>
    public bool RequireTokenForReads { get; set; }

    /// <summary>
    /// Requests doing model or search work at once (embeddings, search, topics, digests, ingests); the next
    /// <see cref="MaxQueuedRequests"/> wait, and the rest get 429 with <c>Retry-After</c>. Default: 4 per core.
    /// </summary>
    public int MaxConcurrentRequests { get; set; } = 4 * Environment.ProcessorCount;

    /// <summary>Requests that may wait for a slot beyond <see cref="MaxConcurrentRequests"/> (default: as many again); 0 refuses at once.</summary>
    public int? MaxQueuedRequests { get; set; }

    /// <summary>Most texts in one embedding request (<c>input</c> array, TEI <c>inputs</c>); more answer 413 naming the limit.</summary>
    public int MaxInputsPerRequest { get; set; } = 256;

    /// <summary>Largest JSON request body in bytes (default 2 MiB); larger answer 413 naming the limit.</summary>
    public long MaxRequestBytes { get; set; } = 2 << 20;

    /// <summary>Largest ingest body (<c>POST /api/papers</c>) in bytes (default 1 GiB): it is streamed into the store, never held whole.</summary>
    public long MaxIngestBytes { get; set; } = 1L << 30;

    /// <summary>Most characters of one text to embed or search (default 200,000); longer answer 413. The model reads its token limit of it (windowed).</summary>
    public int MaxTextLength { get; set; } = 200_000;

    /// <summary>Most hits one search may ask for (<c>k</c>).</summary>
    public int MaxHits { get; set; } = 1000;

    /// <summary>How long a read or embedding request may take before it answers 504 (default 30 s). Ingests are not limited.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a digest or topics request may take (default 10 min: clustering a large store takes a while, and the result is kept until the store changes).</summary>
    public TimeSpan TopicsTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The seconds a 429 answer asks the client to wait (<c>Retry-After</c>).</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>How concurrent embedding requests are merged into model batches.</summary>
    public EmbeddingBatcherOptions Batching { get; set; } = new();

    /// <summary>The waiting requests allowed: <see cref="MaxQueuedRequests"/>, or <see cref="MaxConcurrentRequests"/> when unset.</summary>
    internal int QueueLimit => MaxQueuedRequests ?? MaxConcurrentRequests;

    /// <summary>The problems with these settings, one line each; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void Check(bool ok, FormattableString problem)
        {
            if (!ok)
            {
                problems.Add(problem.ToString(CultureInfo.InvariantCulture));
            }
        }
        Check(Token is null || (Token.Length > 0 && !Token.Any(char.IsWhiteSpace)),
            $"{nameof(Token)} must be non-empty without spaces (or unset to take no writes).");
        Check(!RequireTokenForReads || Token is not null, $"{nameof(RequireTokenForReads)} needs a {nameof(Token)}.");
        Check(MaxConcurrentRequests >= 1, $"{nameof(MaxConcurrentRequests)} must be at least 1, not {MaxConcurrentRequests}.");
        Check(MaxQueuedRequests is null or >= 0, $"{nameof(MaxQueuedRequests)} must be 0 or more, not {MaxQueuedRequests}.");
        Check(MaxInputsPerRequest >= 1, $"{nameof(MaxInputsPerRequest)} must be at least 1, not {MaxInputsPerRequest}.");
        Check(MaxRequestBytes >= 1024, $"{nameof(MaxRequestBytes)} must be at least 1024, not {MaxRequestBytes}.");
        Check(MaxIngestBytes >= 1024, $"{nameof(MaxIngestBytes)} must be at least 1024, not {MaxIngestBytes}.");
        Check(MaxTextLength >= 1, $"{nameof(MaxTextLength)} must be at least 1, not {MaxTextLength}.");
        Check(MaxHits >= 1, $"{nameof(MaxHits)} must be at least 1, not {MaxHits}.");
        Check(RequestTimeout > TimeSpan.Zero, $"{nameof(RequestTimeout)} must be positive, not {RequestTimeout}.");
        Check(TopicsTimeout > TimeSpan.Zero, $"{nameof(TopicsTimeout)} must be positive, not {TopicsTimeout}.");
        Check(RetryAfterSeconds >= 1, $"{nameof(RetryAfterSeconds)} must be at least 1, not {RetryAfterSeconds}.");
        problems.AddRange(Batching.Validate().Select(p => "Batching: " + p));
        return problems;
    }
}
