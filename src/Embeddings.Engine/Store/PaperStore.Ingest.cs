using System.Diagnostics;
using System.Text.RegularExpressions;
using Embeddings.Corpus;
using Embeddings.Encoding;

namespace Embeddings.Store;

internal sealed partial class PaperStore
{
    private const int MaxIssuesKept = 1000;

    /// <summary>
    /// Reads <paramref name="files"/> (any format <see cref="PaperReader"/> knows) and ingests them; bad records stop
    /// the run with <see cref="InputFormatException"/> unless <see cref="IngestOptions.SkipBad"/> is set, in which case
    /// they are counted in the summary. Whatever was committed before an error stays committed.
    /// </summary>
    public Task<IngestSummary> IngestFilesAsync(
        IReadOnlyList<string> files, ISentenceEncoder encoder, IngestOptions? options = null, CancellationToken cancellationToken = default) =>
        IngestInputAsync(IngestInput.FromFiles(files), encoder, options, cancellationToken);

    /// <summary>Reads <paramref name="input"/> (files, or a stream named like a file) and ingests it, as <see cref="IngestFilesAsync"/>.</summary>
    public async Task<IngestSummary> IngestInputAsync(
        IngestInput input, ISentenceEncoder encoder, IngestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        options ??= new IngestOptions();
        var issues = new IssueCollector();
        Action<PaperReadIssue>? report = options.OnIssue;
        var readerOptions = new PaperReaderOptions
        {
            SkipBad = options.SkipBad,
            OnIssue = issue =>
            {
                issues.Add(issue);
                report?.Invoke(issue);
            },
        };
        input.Check(); // a missing file, a directory or an unknown extension fails before any work
        return await IngestCoreAsync(input.ReadAsync(readerOptions, cancellationToken), encoder, options, issues, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reports what ingesting <paramref name="files"/> into the store at <paramref name="directory"/> would do, without
    /// embedding or writing anything and without the writer lock. A missing store counts every paper as new.
    /// </summary>
    public static Task<IngestSummary> DryRunAsync(
        string directory, IReadOnlyList<string> files, ISentenceEncoder encoder, IngestOptions? options = null, CancellationToken cancellationToken = default) =>
        DryRunAsync(directory, IngestInput.FromFiles(files), encoder, options, cancellationToken);

    /// <summary>Reports what ingesting <paramref name="input"/> would do, as the file overload does.</summary>
    public static async Task<IngestSummary> DryRunAsync(
        string directory, IngestInput input, ISentenceEncoder encoder, IngestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        options = (options ?? new IngestOptions()) with { DryRun = true };
        using PaperStore store = Exists(directory)
            ? Open(directory, new StoreOpenOptions { ExpectedFingerprint = encoder.Fingerprint, VerifyVectors = false })
            : new PaperStore(Path.GetFullPath(directory),
                new StoreManifest(FormatVersion, encoder.Fingerprint, encoder.Dimension, 0, 0, 1, [], DateTimeOffset.UtcNow, DateTimeOffset.UtcNow), null);
        return await store.IngestInputAsync(input, encoder, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ingests papers: each is classified by id and content hash as new, changed (re-embedded as a new revision) or
    /// duplicate (only its source dump is recorded; a text equal to an earlier revision also counts as duplicate); only new and changed papers are embedded, in batches of
    /// <see cref="IngestOptions.BatchSize"/>, and committed every <see cref="IngestOptions.CommitEvery"/> papers or
    /// <see cref="IngestOptions.CommitInterval"/>. Memory stays bounded by one commit. Cancelling keeps what was committed.
    /// </summary>
    public Task<IngestSummary> IngestAsync(
        IAsyncEnumerable<SourcedPaper> papers, ISentenceEncoder encoder, IngestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(papers);
        return IngestCoreAsync(papers, encoder, options ?? new IngestOptions(), new IssueCollector(), cancellationToken);
    }

    private sealed class IssueCollector
    {
        public readonly List<PaperReadIssue> Kept = [];
        public readonly Dictionary<string, long> Reasons = new(StringComparer.Ordinal);
        public long Skipped;
        public long Capped;

        public void Add(PaperReadIssue issue)
        {
            if (issue.Kind == PaperIssueKind.Skipped)
            {
                Skipped++;
                string reason = Reason(issue);
                Reasons[reason] = Reasons.GetValueOrDefault(reason) + 1;
            }
            else
            {
                Capped++;
            }
            if (Kept.Count < MaxIssuesKept)
            {
                Kept.Add(issue);
            }
        }
    }

    /// <summary>A short reason for grouping: the problem without quoted values, numbers and details in parentheses.</summary>
    internal static string Reason(PaperReadIssue issue)
    {
        string problem = issue.Problem;
        int cut = problem.IndexOfAny(['(', ':']);
        if (cut > 0)
        {
            problem = problem[..cut];
        }
        problem = QuotedOrNumber().Replace(problem, "").Trim();
        problem = Regex.Replace(problem, @"\s+", " ");
        return issue.Field is null ? problem : $"{issue.Field}: {problem}";
    }

    [GeneratedRegex(@"'[^']*'|\b\d+\b")]
    private static partial Regex QuotedOrNumber();

    /// <summary>Known state of an id during a run: committed, or waiting in the current commit.</summary>
    private readonly record struct Known(UInt128 Hash, int Revision, long FirstSeenMs, IReadOnlyList<string> Sources, UInt128[]? EarlierHashes = null)
    {
        /// <summary>
        /// Whether the text is the latest revision or an earlier one: an old text met again (re-ingesting the dump it
        /// came from) is not a change, so re-running the same dumps never flips a paper between revisions.
        /// </summary>
        public bool HasSeen(UInt128 hash) => Hash == hash || (EarlierHashes is { } earlier && Array.IndexOf(earlier, hash) >= 0);
    }

    private async Task<IngestSummary> IngestCoreAsync(
        IAsyncEnumerable<SourcedPaper> papers, ISentenceEncoder encoder, IngestOptions options, IssueCollector issues, CancellationToken cancellationToken)
    {
        CheckCanIngest(encoder, options);
        var run = new IngestRun(this, encoder, options, cancellationToken);
        await foreach (SourcedPaper item in papers.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (run.Classify(item) && run.BatchFull)
            {
                await run.EmbedPendingAsync().ConfigureAwait(false);
                options.Progress?.Report(new WorkProgress("ingesting", run.Read, null, "papers"));
                if (run.CommitDue)
                {
                    run.CommitReady();
                }
            }
        }
        if (!options.DryRun)
        {
            await run.EmbedPendingAsync().ConfigureAwait(false);
            run.CommitReady();
        }
        options.Progress?.Report(new WorkProgress("ingesting", run.Read, run.Read, "papers"));
        return run.Summary(issues);
    }

    private void CheckCanIngest(ISentenceEncoder encoder, IngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CommitEvery, 1);
        if (encoder.Fingerprint != ModelFingerprint || encoder.Dimension != Dimension)
        {
            throw new DataFormatException(StoreManifest.PathIn(Directory),
                $"the store is bound to model fingerprint {ModelFingerprint} (dimension {Dimension}), but the encoder is {encoder.Fingerprint} (dimension {encoder.Dimension}). " +
                "Vectors of different models cannot be mixed: use the store's model (--model) or another store directory.");
        }
        if (!options.DryRun && !IsWritable)
        {
            throw new InvalidOperationException("the store was opened read-only; open it with Writable = true (or PaperStore.OpenOrCreate) to ingest");
        }
    }

    /// <summary>
    /// The state of one ingest run: papers classified but not committed yet (waiting for the encoder, or embedded and
    /// waiting for the commit), sightings of stored papers in new dumps, and the counts of the summary.
    /// </summary>
    private sealed class IngestRun(PaperStore store, ISentenceEncoder encoder, IngestOptions options, CancellationToken cancellationToken)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Dictionary<string, Known> _pending = new(StringComparer.Ordinal);
        private readonly List<PendingRow> _toEmbed = new(options.BatchSize);
        private readonly List<PendingRow> _ready = new(Math.Min(options.CommitEvery, 1 << 16));
        private readonly List<(string Id, string Source, long TimeMs)> _sightings = [];
        private readonly HashSet<(string, string)> _sightingKeys = [];
        private TimeSpan _lastCommit = TimeSpan.Zero;
        private long _fresh, _changed, _duplicate, _otherShard, _embedded, _truncated;
        private int _commits;

        public long Read { get; private set; }

        /// <summary>Whether a full batch waits for the encoder.</summary>
        public bool BatchFull => _toEmbed.Count >= options.BatchSize;

        /// <summary>Whether enough papers or time have gone by since the last commit.</summary>
        public bool CommitDue => _ready.Count >= options.CommitEvery || _clock.Elapsed - _lastCommit >= options.CommitInterval;

        /// <summary>
        /// Sorts one paper into new, changed (both queued for embedding; true is returned) or duplicate (its dump is
        /// recorded), or leaves it to another shard.
        /// </summary>
        public bool Classify(SourcedPaper item)
        {
            Read++;
            Paper paper = item.Paper;
            if (options.Shard is { } shard && !shard.Contains(paper.Id))
            {
                _otherShard++;
                return false;
            }
            string source = Path.GetFileName(item.File);
            UInt128 hash = PaperIdentity.ContentHash(paper);
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Known? known = store.Lookup(paper.Id, _pending);
            if (known is { } k && k.HasSeen(hash))
            {
                _duplicate++;
                RecordSighting(paper.Id, source, k, now);
                return false;
            }
            int revision = 1;
            long firstSeen = now;
            List<string> rowSources = [source];
            if (known is { } old)
            {
                _changed++;
                revision = old.Revision + 1;
                firstSeen = old.FirstSeenMs;
                rowSources = [.. old.Sources];
                if (!rowSources.Contains(source))
                {
                    rowSources.Add(source);
                }
            }
            else
            {
                _fresh++;
            }
            UInt128[]? earlier = known is { } before ? [.. before.EarlierHashes ?? [], before.Hash] : null;
            _pending[paper.Id] = new Known(hash, revision, firstSeen, rowSources, earlier);
            if (options.DryRun)
            {
                return false;
            }
            _toEmbed.Add(new PendingRow
            {
                Paper = new StoredPaper(paper, rowSources, DateTimeOffset.FromUnixTimeMilliseconds(firstSeen), revision, hash, StoredPaperFlags.None, -1,
                    source, item.Line),
            });
            return true;
        }

        /// <summary>A known text met in another dump: the dump joins its sources (in the waiting row, or as a sighting).</summary>
        private void RecordSighting(string id, string source, Known known, long now)
        {
            if (known.Sources.Contains(source) || !_sightingKeys.Add((id, source)))
            {
                return;
            }
            if (_pending.TryGetValue(id, out Known waiting) && !options.DryRun)
            {
                // The revision is not committed yet: its sources list can still take the dump.
                PendingRow? row = FindPending(id, _toEmbed, _ready);
                if (row is not null)
                {
                    var sources = new List<string>(row.Paper.Sources) { source };
                    row.Paper = row.Paper with { Sources = sources };
                    _pending[id] = waiting with { Sources = sources };
                    return;
                }
            }
            _sightings.Add((id, source, now));
        }

        /// <summary>Embeds the queued papers in one encoder call; they then wait for the commit.</summary>
        public async Task EmbedPendingAsync()
        {
            if (_toEmbed.Count == 0)
            {
                return;
            }
            var texts = new string[_toEmbed.Count];
            for (int i = 0; i < texts.Length; i++)
            {
                texts[i] = _toEmbed[i].Paper.Paper.EmbeddingText;
            }
            EmbeddingBatch batch = await encoder.EncodeAsync(texts, cancellationToken).ConfigureAwait(false);
            if (batch.Count != texts.Length || batch.Dimension != store.Dimension)
            {
                throw new EmbeddingsException($"the encoder returned {batch.Count} vectors of dimension {batch.Dimension} for {texts.Length} texts (expected dimension {store.Dimension})");
            }
            for (int i = 0; i < texts.Length; i++)
            {
                PendingRow row = _toEmbed[i];
                row.Vector = batch[i].ToArray();
                StoredPaperFlags flags = (batch.Truncated[i] ? StoredPaperFlags.Truncated : 0) | (batch.IsEmpty[i] ? StoredPaperFlags.Empty : 0);
                if (flags != StoredPaperFlags.None)
                {
                    row.Paper = row.Paper with { Flags = flags };
                }
                _truncated += batch.Truncated[i] ? 1 : 0;
                _ready.Add(row);
            }
            _embedded += texts.Length;
            _toEmbed.Clear();
        }

        /// <summary>Commits the embedded papers and the sightings.</summary>
        public void CommitReady()
        {
            if (_ready.Count == 0 && _sightings.Count == 0)
            {
                return;
            }
            store.Commit(_ready, _sightings);
            _commits++;
            _ready.Clear();
            _sightings.Clear();
            _sightingKeys.Clear();
            _pending.Clear();
            _lastCommit = _clock.Elapsed;
        }

        public IngestSummary Summary(IssueCollector issues) =>
            new(Read, _fresh, _changed, _duplicate, issues.Skipped, issues.Reasons, issues.Kept, issues.Capped, _otherShard,
                _embedded, _truncated, _commits, _clock.Elapsed.TotalSeconds, options.DryRun);
    }

    private static PendingRow? FindPending(string id, List<PendingRow> toEmbed, List<PendingRow> ready)
    {
        for (int i = toEmbed.Count - 1; i >= 0; i--)
        {
            if (toEmbed[i].Paper.Paper.Id == id)
            {
                return toEmbed[i];
            }
        }
        for (int i = ready.Count - 1; i >= 0; i--)
        {
            if (ready[i].Paper.Paper.Id == id)
            {
                return ready[i];
            }
        }
        return null;
    }

    private Known? Lookup(string id, Dictionary<string, Known> pending)
    {
        if (pending.TryGetValue(id, out Known k))
        {
            return k;
        }
        lock (_gate)
        {
            if (!_byId.TryGetValue(id, out PaperEntry? entry))
            {
                return null;
            }
            string[] sources = new string[entry.Sources.Length];
            for (int i = 0; i < sources.Length; i++)
            {
                sources[i] = _sourceNames[entry.Sources[i]];
            }
            return new Known(entry.Hash, entry.Revision, entry.FirstSeenMs, sources, entry.EarlierHashes);
        }
    }
}
