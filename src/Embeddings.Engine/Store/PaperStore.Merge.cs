using System.Diagnostics;

namespace Embeddings.Store;

internal sealed partial class PaperStore
{
    /// <summary>
    /// Combines shard stores into <paramref name="outputDirectory"/> (created if needed, or added to when it holds a
    /// store of the same model). All stores must be bound to the same model. Vectors are copied, not re-embedded;
    /// papers found in several inputs are deduplicated exactly as ingesting would (sources united, changed text
    /// becomes a new revision). Commits every <paramref name="commitEvery"/> papers, so it can be resumed after a crash.
    /// </summary>
    public static async Task<IngestSummary> MergeAsync(
        string outputDirectory,
        IReadOnlyList<string> shardDirectories,
        IProgress<WorkProgress>? progress = null,
        int commitEvery = 4096,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shardDirectories);
        if (shardDirectories.Count == 0)
        {
            throw new ArgumentException("give at least one shard store to merge", nameof(shardDirectories));
        }
        var clock = Stopwatch.StartNew();
        var shards = new List<PaperStore>();
        try
        {
            foreach (string dir in shardDirectories)
            {
                shards.Add(Open(dir));
            }
            PaperStore first = shards[0];
            foreach (PaperStore shard in shards)
            {
                if (shard.ModelFingerprint != first.ModelFingerprint || shard.Dimension != first.Dimension)
                {
                    throw new DataFormatException(StoreManifest.PathIn(shard.Directory),
                        $"shard is bound to model {shard.ModelFingerprint} (dimension {shard.Dimension}) but {first.Directory} to {first.ModelFingerprint} (dimension {first.Dimension}): shards of different models cannot be merged");
                }
            }
            using PaperStore output = OpenOrCreate(outputDirectory, first.ModelFingerprint, first.Dimension);
            long read = 0, fresh = 0, changed = 0, duplicate = 0;
            int commits = 0;
            var ready = new List<PendingRow>();
            var sightings = new List<(string, string, long)>();
            var pending = new Dictionary<string, Known>(StringComparer.Ordinal);
            var sightingKeys = new HashSet<(string, string)>();
            void CommitReady()
            {
                if (ready.Count == 0 && sightings.Count == 0)
                {
                    return;
                }
                output.Commit(ready, sightings);
                commits++;
                ready.Clear();
                sightings.Clear();
                pending.Clear();
                sightingKeys.Clear();
            }
            foreach (PaperStore shard in shards)
            {
                await foreach (StoredPaper paper in shard.ReadPapersAsync(cancellationToken).ConfigureAwait(false))
                {
                    read++;
                    string id = paper.Paper.Id;
                    Known? known = output.Lookup(id, pending);
                    if (known is { } k && k.HasSeen(paper.ContentHash))
                    {
                        duplicate++;
                        foreach (string source in paper.Sources)
                        {
                            if (!k.Sources.Contains(source) && sightingKeys.Add((id, source)))
                            {
                                sightings.Add((id, source, paper.FirstSeen.ToUnixTimeMilliseconds()));
                            }
                        }
                        continue;
                    }
                    StoredPaper row = paper;
                    if (known is { } old)
                    {
                        changed++;
                        var sources = new List<string>(old.Sources);
                        sources.AddRange(paper.Sources.Where(s => !sources.Contains(s)));
                        row = paper with
                        {
                            Revision = Math.Max(old.Revision + 1, paper.Revision),
                            Sources = sources,
                            FirstSeen = DateTimeOffset.FromUnixTimeMilliseconds(Math.Min(old.FirstSeenMs, paper.FirstSeen.ToUnixTimeMilliseconds())),
                        };
                    }
                    else
                    {
                        fresh++;
                    }
                    float[] vector = new float[shard.Dimension];
                    shard.ReadRow(paper.Row, vector);
                    ready.Add(new PendingRow { Paper = row, Vector = vector });
                    pending[id] = new Known(row.ContentHash, row.Revision, row.FirstSeen.ToUnixTimeMilliseconds(), row.Sources);
                    if (ready.Count >= commitEvery)
                    {
                        CommitReady();
                        progress?.Report(new WorkProgress("merging", read, null, "papers"));
                    }
                }
            }
            CommitReady();
            progress?.Report(new WorkProgress("merging", read, read, "papers"));
            return new IngestSummary(read, fresh, changed, duplicate, 0, new Dictionary<string, long>(), [], 0, 0, 0, 0, commits, clock.Elapsed.TotalSeconds, false);
        }
        finally
        {
            foreach (PaperStore shard in shards)
            {
                shard.Dispose();
            }
        }
    }
}
