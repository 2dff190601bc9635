using System.Globalization;
using Embeddings.Corpus;
using Embeddings.Index;
using Embeddings.Numerics;
using Embeddings.Store;
using Embeddings.Tokenization;
using Embeddings.Topics;

namespace Embeddings.Digests;

/// <summary>
/// Topics and digests of a <see cref="PaperStore"/>: reads the papers and their vectors, builds the clustering
/// representation (one fitted LSA space per store), fits, keeps topic ids stable through the history kept in the
/// store folder, and links similar earlier papers. What <c>embeddings topics</c> and <c>digest</c> run.
/// </summary>
internal static class StoreTopics
{
    /// <summary>The topic history an earlier version kept for <c>digest</c> (read once into the default configuration's log).</summary>
    public const string LegacyDigestSnapshotFileName = "digest-topics.snapshot";

    /// <summary>
    /// Topics of every stored paper, ids from the configuration's history. With <see cref="TopicHistoryMode.Record"/>
    /// (<c>topics --save</c>) this run, keyed by the store's papers, becomes what the next run compares with.
    /// </summary>
    public static async Task<TopicModel> FitAsync(PaperStore store, TopicsRequest request, TopicHistoryMode history, CancellationToken cancellationToken)
    {
        List<StoredPaper> papers = await ReadAllAsync(store, cancellationToken).ConfigureAwait(false);
        StoreFit fit = await FitStoreAsync(store, papers, request, StoreRunKey(papers), history, cancellationToken).ConfigureAwait(false);
        return fit.Model;
    }

    /// <summary>
    /// The digest of the papers <paramref name="request"/> selects: the store's topics (fitted on every stored paper,
    /// ids from the history), listing the selected papers under them, with similar earlier papers.
    /// </summary>
    public static async Task<Digest> DigestAsync(PaperStore store, DigestRequest request, TopicHistoryMode history, CancellationToken cancellationToken)
    {
        if (request.Since is not null && request.Dump is not null)
        {
            throw new InvalidRequestException("A digest covers the papers since a date or the papers of one dump: give Since or Dump, not both.");
        }
        List<StoredPaper> all = await ReadAllAsync(store, cancellationToken).ConfigureAwait(false);
        Func<StoredPaper, bool> selected = _ => true;
        string selection = "all stored papers";
        string run = StoreRunKey(all);
        if (request.Since is DateTimeOffset since)
        {
            selected = p => IsSince(p, since);
            string day = since.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            selection = "papers since " + day;
            run = "since:" + day;
        }
        else if (request.Dump is { } dump)
        {
            // A dump's new papers: those it brought first (a paper repeated from an earlier dump is not this week's).
            string name = Path.GetFileName(dump);
            if (!all.Any(p => p.Sources.Contains(name, StringComparer.Ordinal)))
            {
                throw new InvalidRequestException($"No stored paper was read from {name}: ingest it first (embeddings ingest --store DIR {dump}), or name a dump as it was ingested.");
            }
            selected = p => p.Sources.Count > 0 && string.Equals(p.Sources[0], name, StringComparison.Ordinal);
            selection = "papers new in " + name;
            run = "dump:" + name;
        }
        var chosenRows = new List<int>();
        var earlierRows = new List<int>();
        for (int i = 0; i < all.Count; i++)
        {
            (selected(all[i]) ? chosenRows : earlierRows).Add(i);
        }
        StoreFit fit = await FitStoreAsync(store, all, request.Topics, run, history, cancellationToken).ConfigureAwait(false);
        TopicModel model = fit.Model;
        var finder = new StoreSimilarFinder(all, fit.Neural, store.Dimension, earlierRows);
        Digest digest = DigestBuilder.Build(model, all.Select(p => p.Paper).ToArray(), fit.Vectors,
            new DigestOptions { Title = request.Title, Selection = selection, Selected = chosenRows, Trends = history != TopicHistoryMode.Ignore }, finder, cancellationToken);
        return digest with { StorePaperCount = all.Count };
    }

    /// <summary>The store's neural and clustering vectors, and the topics fitted on them (centres in the neural space, ids from the history).</summary>
    private sealed record StoreFit(float[] Neural, float[] Vectors, TopicModel Model);

    /// <summary>
    /// Fits the store's topics, starting k-means from the previous recorded run's topics (so topics that still hold
    /// keep their papers), aligns ids with that run, and records this run under <paramref name="run"/> when asked.
    /// </summary>
    private static async Task<StoreFit> FitStoreAsync(PaperStore store, List<StoredPaper> papers, TopicsRequest request, string run,
        TopicHistoryMode mode, CancellationToken cancellationToken)
    {
        string path = HistoryPath(store.Directory, request);
        TopicHistoryLog? log = mode == TopicHistoryMode.Ignore ? null
            : TopicHistoryLog.Load(path) ?? new TopicHistoryLog(Path.GetFileNameWithoutExtension(path), 0, LegacyRuns(store.Directory, request));
        TopicSnapshot? previous = log?.PreviousOf(run);
        float[] neural = NeuralRows(store, papers);
        (float[] vectors, int dimension) = await ClusteringRepresentation.BuildAsync(papers.Select(p => p.Paper).ToArray(), neural, store.Dimension,
            request.Representation, store.Directory, cancellationToken).ConfigureAwait(false);
        TopicOptions options = Options(request) with { PreviousTopics = previous?.Topics.Select(t => t.PaperIds).ToArray() };
        TopicModel model = TopicPipeline.Fit(papers.Select(p => p.Paper).ToArray(), vectors, dimension, options, request.Progress, cancellationToken);
        model = WithNeuralCentres(model, neural, store.Dimension);
        if (request.Label == TopicLabelKind.Title)
        {
            model = TopicLabeling.WithTitleLabels(model, papers.Select(p => p.Paper).ToArray());
        }
        if (log is not null)
        {
            model = TopicHistory.Align(model, previous);
            if (mode == TopicHistoryMode.Record)
            {
                log.With(run, TopicHistory.Snapshot(model, previous)).Save(path);
            }
        }
        return new StoreFit(neural, vectors, model);
    }

    /// <summary>
    /// The model with each topic's centre measured in the store's own (model) space: it does not change when the
    /// clustering LSA is refitted or the corpus grows, so history matches and similar-paper search use it.
    /// </summary>
    private static TopicModel WithNeuralCentres(TopicModel model, float[] neural, int d)
    {
        var rowOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < model.PaperIds.Count; i++)
        {
            rowOf.TryAdd(model.PaperIds[i], i);
        }
        var topics = model.Topics.Select(t =>
        {
            var sum = new double[d];
            foreach (string id in t.PaperIds)
            {
                ReadOnlySpan<float> row = neural.AsSpan(rowOf[id] * d, d);
                for (int j = 0; j < d; j++)
                {
                    sum[j] += row[j];
                }
            }
            var centroid = new float[d];
            VectorMath.NormalizeTo(sum, centroid);
            return t with { Centroid = centroid };
        }).ToArray();
        return model with { Topics = topics };
    }

    /// <summary>The history key of a run over every stored paper: their count and a hash of their ids.</summary>
    private static string StoreRunKey(List<StoredPaper> papers)
    {
        var hash = new System.IO.Hashing.XxHash64();
        foreach (string id in papers.Select(p => p.Paper.Id).Order(StringComparer.Ordinal))
        {
            hash.Append(System.Text.Encoding.UTF8.GetBytes(id));
            hash.Append([0]);
        }
        return "store:" + papers.Count.ToString(CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    /// <summary>
    /// The history log of a configuration: one file per method, representation, k, topic limit and seed, so trying an
    /// option reads and writes its own history and never the default's.
    /// </summary>
    internal static string HistoryPath(string storeDirectory, TopicsRequest request)
    {
        var inv = CultureInfo.InvariantCulture;
        string name = string.Join('-',
            request.Method.ToString().ToLowerInvariant(),
            request.Representation.ToString().ToLowerInvariant(),
            request.K is int k ? "k" + k.ToString(inv) : "kauto",
            request.MaxTopics is int m ? "t" + m.ToString(inv) : "tall",
            "s" + request.Seed.ToString(inv));
        return Path.Combine(storeDirectory, TopicHistoryLog.FolderName, name + ".history");
    }

    private static bool IsDefaultConfiguration(TopicsRequest r)
    {
        var d = new TopicsRequest();
        return r.Method == d.Method && r.Representation == d.Representation && r.K == d.K && r.MaxTopics == d.MaxTopics && r.Seed == d.Seed;
    }

    /// <summary>
    /// The history an earlier version kept (one snapshot for <c>topics</c>, one for <c>digest</c>, centres in the
    /// clustering space): the start of the default configuration's log, matched by papers, so its ids carry on.
    /// </summary>
    private static IReadOnlyList<TopicHistoryRun> LegacyRuns(string storeDirectory, TopicsRequest request)
    {
        if (!IsDefaultConfiguration(request))
        {
            return [];
        }
        foreach (string name in new[] { TopicHistory.FileName, LegacyDigestSnapshotFileName })
        {
            if (TopicHistory.Load(Path.Combine(storeDirectory, name)) is { } snapshot)
            {
                return [new TopicHistoryRun("legacy:" + name, snapshot)];
            }
        }
        return [];
    }

    private static TopicOptions Options(TopicsRequest request) => new()
    {
        Method = request.Method,
        K = request.K,
        Seed = request.Seed,
        MaxTopics = request.MaxTopics,
    };

    /// <summary>Every live paper of the store with its vector row, in store row order.</summary>
    private static async Task<List<StoredPaper>> ReadAllAsync(PaperStore store, CancellationToken cancellationToken)
    {
        var list = new List<StoredPaper>(store.Count);
        await foreach (StoredPaper p in store.ReadPapersAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(p);
        }
        return list;
    }

    /// <summary>The store's own (model) vectors of <paramref name="papers"/>, row-major.</summary>
    private static float[] NeuralRows(PaperStore store, IReadOnlyList<StoredPaper> papers)
    {
        int d = store.Dimension;
        ReadOnlySpan<float> all = store.GetAllRows().Span;
        var neural = new float[papers.Count * d];
        for (int i = 0; i < papers.Count; i++)
        {
            all.Slice(papers[i].Row * d, d).CopyTo(neural.AsSpan(i * d, d));
        }
        return neural;
    }

    /// <summary>
    /// Papers dated on or after <paramref name="since"/>; a date of month or year precision counts from its first day. A
    /// paper without a date (none, or a page date without a year such as "Mar 14", which is never completed with a
    /// guessed year) counts by when it was first stored.
    /// </summary>
    private static bool IsSince(StoredPaper p, DateTimeOffset since)
    {
        if (p.Paper.Date is { } date && Corpus.PaperMetadata.TryGetDateRange(date, out DateOnly first, out _))
        {
            return first >= DateOnly.FromDateTime(since.UtcDateTime);
        }
        return p.FirstSeen >= since;
    }

    /// <summary>
    /// Similar earlier papers: the exact index (the search oracle) over the store papers outside the digest, in the
    /// store's own model space (as <c>similar --mode vector</c> ranks).
    /// </summary>
    private sealed class StoreSimilarFinder : ISimilarPaperFinder
    {
        private readonly IReadOnlyList<StoredPaper> _all;
        private readonly float[] _neural;
        private readonly int _dimension;
        private readonly IReadOnlyList<int> _earlier;
        private readonly ExactIndex? _index;

        /// <param name="all">Every store paper, in the digest's order.</param>
        /// <param name="neural">Their unit model vectors, row-major.</param>
        /// <param name="dimension">Vector length.</param>
        /// <param name="earlier">The rows to link to (the papers outside the digest).</param>
        public StoreSimilarFinder(IReadOnlyList<StoredPaper> all, float[] neural, int dimension, IReadOnlyList<int> earlier)
        {
            _all = all;
            _neural = neural;
            _dimension = dimension;
            _earlier = earlier;
            if (earlier.Count > 0)
            {
                var rows = new float[earlier.Count * dimension];
                for (int i = 0; i < earlier.Count; i++)
                {
                    neural.AsSpan(earlier[i] * dimension, dimension).CopyTo(rows.AsSpan(i * dimension, dimension));
                }
                _index = ExactIndex.Create(rows, dimension);
            }
        }

        public IReadOnlyList<DigestPaper> FindSimilar(ReadOnlySpan<float> query, int k)
        {
            if (_index is null || k <= 0)
            {
                return [];
            }
            return _index.Search(query, k).Select(n =>
            {
                Paper p = _all[_earlier[n.Id]].Paper;
                return new DigestPaper(p.Id, p.Title, SentenceSplitter.FirstSentence(p.Abstract), n.Score) { Url = p.Url, Authors = p.Authors, Date = p.Date ?? p.DateText };
            }).ToArray();
        }

        public IReadOnlyList<DigestPaper> FindSimilarToPaper(int paper, int k) => FindSimilar(_neural.AsSpan(paper * _dimension, _dimension), k);
    }
}
