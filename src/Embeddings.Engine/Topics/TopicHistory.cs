using Embeddings.IO;

namespace Embeddings.Topics;

/// <summary>One topic as remembered between runs.</summary>
/// <param name="Id">Its stable id.</param>
/// <param name="Label">Its label then.</param>
/// <param name="Size">Number of papers then.</param>
/// <param name="Share">Share of that run's papers.</param>
/// <param name="Centroid">Unit centre in the embedding space.</param>
/// <param name="PaperIds">Its papers.</param>
internal sealed record TopicSnapshotEntry(int Id, string Label, int Size, double Share, IReadOnlyList<float> Centroid, IReadOnlyList<string> PaperIds);

/// <summary>The previous run's topics, persisted in the store folder so the next run can keep ids.</summary>
/// <param name="NextId">The next unused topic id (ids are never reused).</param>
/// <param name="Dimension">Embedding dimension of the centroids.</param>
/// <param name="Topics">The topics.</param>
internal sealed record TopicSnapshot(int NextId, int Dimension, IReadOnlyList<TopicSnapshotEntry> Topics);

/// <summary>Thresholds for matching a run's topics to the previous run's.</summary>
internal sealed record TopicMatchOptions
{
    /// <summary>Topics whose centres are at least this similar (cosine) may match.</summary>
    public double MinCentroidCosine { get; init; } = 0.85;

    /// <summary>Topics sharing at least this Jaccard overlap of the papers both runs saw may match.</summary>
    public double MinOverlap { get; init; } = 0.3;

    /// <summary>A matched topic is growing when its share rose by this factor, shrinking when it fell by it.</summary>
    public double TrendRatio { get; init; } = 1.25;
}

/// <summary>
/// Stable topic ids over time: matches a new model's topics to the previous run's by centre cosine and
/// membership overlap (greedy on the score matrix, best pair first, deterministic tie-breaks), carries the ids
/// over, gives unmatched topics fresh ids, and marks topics new, growing, shrinking or stable. Persists the
/// snapshot atomically as UTF-8 JSON in the checksummed container (magic "EMBTOPIC").
/// </summary>
internal static class TopicHistory
{
    /// <summary>The snapshot's file name inside a store folder.</summary>
    public const string FileName = "topics.snapshot";

    /// <summary>Format version written by this code.</summary>
    public const int FormatVersion = 1;

    /// <summary>The snapshot file: UTF-8 JSON in the <see cref="Container"/> (version 1 was already this layout).</summary>
    internal static readonly ContainerFormat Format = ContainerFormat.Create("topic snapshot", "EMBTOPIC", version: FormatVersion, oldestVersion: 1,
        fix: $"delete {FileName} in the store folder to start the topic history afresh");

    /// <summary>
    /// Returns <paramref name="current"/> with ids carried over from <paramref name="previous"/> and trends set
    /// (every topic <see cref="TopicTrend.Unknown"/> without a previous run; ids then stay 0..n-1).
    /// </summary>
    public static TopicModel Align(TopicModel current, TopicSnapshot? previous, TopicMatchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        options ??= new TopicMatchOptions();
        if (previous is null || previous.Topics.Count == 0)
        {
            if (previous is null)
            {
                return current;
            }
            // An empty previous run: everything is new, ids continue after the old ones.
            return Renumber(current, current.Topics.Select((t, i) => previous.NextId + i).ToArray(), current.Topics.Select(_ => ((TopicSnapshotEntry?)null)).ToArray(), options);
        }
        // Centres are compared only when both runs measured them in one space (the store's own model vectors); a
        // snapshot of another space (an older version kept centres in the LSA-extended clustering space, whose width
        // follows the corpus) is matched by papers alone, never refused.
        int dimension = CentroidDimension(current);
        bool centres = previous.Dimension == dimension && dimension > 0;
        var oldPapers = new HashSet<string>(previous.Topics.SelectMany(t => t.PaperIds), StringComparer.Ordinal);
        var newPapers = new HashSet<string>(current.PaperIds, StringComparer.Ordinal);
        var pairs = new List<(int New, int Old, double Score)>();
        for (int a = 0; a < current.Topics.Count; a++)
        {
            var ta = current.Topics[a];
            var sharedA = new HashSet<string>(ta.PaperIds.Where(oldPapers.Contains), StringComparer.Ordinal);
            for (int b = 0; b < previous.Topics.Count; b++)
            {
                var tb = previous.Topics[b];
                double cos = centres && tb.Centroid.Count == dimension ? Dot(ta.Centroid, tb.Centroid) : 0;
                var sharedB = tb.PaperIds.Where(newPapers.Contains).ToList();
                int both = sharedB.Count(sharedA.Contains);
                int union = sharedA.Count + sharedB.Count - both;
                double overlap = union == 0 ? 0 : (double)both / union;
                if (cos < options.MinCentroidCosine && overlap < options.MinOverlap)
                {
                    continue;
                }
                double score = union == 0 ? cos : !centres ? overlap : 0.5 * cos + 0.5 * overlap;
                pairs.Add((a, b, score));
            }
        }
        pairs.Sort((x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.New != y.New ? x.New.CompareTo(y.New) : x.Old.CompareTo(y.Old));
        var matchOf = new TopicSnapshotEntry?[current.Topics.Count];
        var oldUsed = new bool[previous.Topics.Count];
        foreach (var (a, b, _) in pairs)
        {
            if (matchOf[a] is null && !oldUsed[b])
            {
                matchOf[a] = previous.Topics[b];
                oldUsed[b] = true;
            }
        }
        int next = Math.Max(previous.NextId, previous.Topics.Max(t => t.Id) + 1);
        var ids = new int[current.Topics.Count];
        for (int a = 0; a < ids.Length; a++)
        {
            ids[a] = matchOf[a]?.Id ?? next++;
        }
        return Renumber(current, ids, matchOf, options);
    }

    private static TopicModel Renumber(TopicModel current, int[] ids, TopicSnapshotEntry?[] matchOf, TopicMatchOptions options)
    {
        var map = new Dictionary<int, int>();
        var topics = new Topic[current.Topics.Count];
        for (int a = 0; a < topics.Length; a++)
        {
            var t = current.Topics[a];
            map[t.Id] = ids[a];
            var old = matchOf[a];
            TopicTrend trend = old is null ? TopicTrend.New
                : t.Share >= old.Share * options.TrendRatio ? TopicTrend.Growing
                : t.Share * options.TrendRatio <= old.Share ? TopicTrend.Shrinking
                : TopicTrend.Stable;
            topics[a] = t with { Id = ids[a], Trend = trend, PreviousSize = old?.Size };
        }
        return current with
        {
            Topics = topics,
            Assignments = current.Assignments.Select(x => x < 0 ? -1 : map[x]).ToArray(),
            Hierarchy = current.Hierarchy.Select(m => new TopicMerge(m.Left.Select(x => map[x]).ToArray(), m.Right.Select(x => map[x]).ToArray(), m.Similarity)).ToArray(),
        };
    }

    /// <summary>The length of the model's topic centres (the embedding space they were measured in), 0 without topics.</summary>
    private static int CentroidDimension(TopicModel model) => model.Topics.Count == 0 ? model.Dimension : model.Topics[0].Centroid.Count;

    private static double Dot(IReadOnlyList<float> a, IReadOnlyList<float> b)
    {
        double s = 0;
        int n = Math.Min(a.Count, b.Count);
        for (int i = 0; i < n; i++)
        {
            s += (double)a[i] * b[i];
        }
        return s;
    }

    /// <summary>The snapshot of an (aligned) model to persist for the next run.</summary>
    public static TopicSnapshot Snapshot(TopicModel model, TopicSnapshot? previous = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        int next = previous?.NextId ?? 0;
        foreach (var t in model.Topics)
        {
            next = Math.Max(next, t.Id + 1);
        }
        return new TopicSnapshot(next, CentroidDimension(model),
            model.Topics.Select(t => new TopicSnapshotEntry(t.Id, t.Label, t.Size, t.Share, t.Centroid.ToArray(), t.PaperIds.ToArray())).ToArray());
    }

    /// <summary>Writes the snapshot atomically (temp file + fsync + rename).</summary>
    public static void Save(string path, TopicSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Container.WriteJson(path, Format, snapshot);
    }

    /// <summary>Reads a snapshot; null when the file does not exist. Bad magic, version or checksum throw <see cref="DataFormatException"/>.</summary>
    public static TopicSnapshot? Load(string path) => Container.ReadJson<TopicSnapshot>(path, Format);
}

/// <summary>One run recorded in a <see cref="TopicHistoryLog"/>.</summary>
/// <param name="Run">What the run covered: "dump:NAME", "since:DATE", "store:COUNT-HASH" (the papers of a <c>topics --save</c>).</param>
/// <param name="Snapshot">Its topics.</param>
internal sealed record TopicHistoryRun(string Run, TopicSnapshot Snapshot);

/// <summary>
/// The topic history of one clustering configuration (method, representation, k, topic limit, seed): the runs that own
/// it, oldest first. A run compares with the run before it, so writing the digest of one dump again (HTML, then MD,
/// then JSON) compares with the same earlier run and gives the same ids and trends; trying another method or
/// representation reads and writes another configuration's log and never touches this one. Ids are never reused
/// within a log. Persisted as UTF-8 JSON in the checksummed container (magic "EMBTHIST").
/// </summary>
internal sealed record TopicHistoryLog(string Configuration, int NextId, IReadOnlyList<TopicHistoryRun> Runs)
{
    /// <summary>The folder of the logs inside a store folder.</summary>
    public const string FolderName = "topic-history";

    /// <summary>Format version written by this code.</summary>
    public const int FormatVersion = 1;

    internal static readonly ContainerFormat Format = ContainerFormat.Create("topic history", "EMBTHIST", version: FormatVersion, oldestVersion: 1,
        fix: $"delete the file in {FolderName}/ in the store folder to start that configuration's topic history afresh");

    /// <summary>
    /// The snapshot a run covering <paramref name="run"/> compares with: the run recorded before it when it was recorded
    /// already, else the latest; null when there is none (or the run is the first recorded). Its next id is the log's,
    /// so fresh ids never collide with ids a later run gave.
    /// </summary>
    public TopicSnapshot? PreviousOf(string run)
    {
        int at = -1;
        for (int i = 0; i < Runs.Count; i++)
        {
            if (string.Equals(Runs[i].Run, run, StringComparison.Ordinal))
            {
                at = i;
                break;
            }
        }
        // The first recorded run had nothing before it, and so has its rerun (same ids, no trends).
        TopicSnapshot? previous = at < 0 ? (Runs.Count > 0 ? Runs[^1].Snapshot : null) : at > 0 ? Runs[at - 1].Snapshot : null;
        if (previous is null)
        {
            return null;
        }
        // A rerun of the latest run gives its new topics the ids the first writing gave (no run was recorded since);
        // otherwise fresh ids start after every id the log ever gave.
        return at == Runs.Count - 1 ? previous : previous with { NextId = Math.Max(NextId, previous.NextId) };
    }

    /// <summary>The log with <paramref name="run"/>'s topics recorded (replacing that run's earlier record, in its place).</summary>
    public TopicHistoryLog With(string run, TopicSnapshot snapshot)
    {
        var runs = Runs.ToList();
        int at = runs.FindIndex(r => string.Equals(r.Run, run, StringComparison.Ordinal));
        if (at >= 0)
        {
            runs[at] = new TopicHistoryRun(run, snapshot);
        }
        else
        {
            runs.Add(new TopicHistoryRun(run, snapshot));
        }
        return this with { NextId = Math.Max(NextId, snapshot.NextId), Runs = runs };
    }

    /// <summary>Writes the log atomically.</summary>
    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Container.WriteJson(path, Format, this);
    }

    /// <summary>Reads a log; null when the file does not exist. Bad magic, version or checksum throw <see cref="DataFormatException"/>.</summary>
    public static TopicHistoryLog? Load(string path) => Container.ReadJson<TopicHistoryLog>(path, Format);
}
