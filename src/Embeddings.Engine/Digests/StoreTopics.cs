using System.Globalization;
using Embeddings.Corpus;
using Embeddings.Index;
using Embeddings.Store;
using Embeddings.Topics;

namespace Embeddings.Digests;

/// <summary>
/// Topics and digests of a <see cref="PaperStore"/>: reads the papers and their vectors, builds the clustering
/// representation (one fitted LSA space per store), fits, keeps topic ids stable through the history kept in the
/// store folder, and links similar earlier papers. What <c>embeddings topics</c> and <c>digest</c> run.
/// </summary>
internal static class StoreTopics
{
    /// <summary>The digest's own topic history (kept apart from <c>topics</c>, which covers the whole store).</summary>
    public const string DigestSnapshotFileName = "digest-topics.snapshot";

    /// <summary>Topics of every stored paper; with <paramref name="saveHistory"/> the aligned topics become the next run's history.</summary>
    public static async Task<TopicModel> FitAsync(PaperStore store, TopicsRequest request, bool saveHistory, CancellationToken cancellationToken)
    {
        List<StoredPaper> papers = await ReadAllAsync(store, cancellationToken).ConfigureAwait(false);
        (float[] vectors, int dimension) = await RepresentAsync(store, papers, request.Representation, cancellationToken).ConfigureAwait(false);
        TopicModel model = TopicPipeline.Fit(papers.Select(p => p.Paper).ToArray(), vectors, dimension, Options(request), request.Progress, cancellationToken);
        return AlignWithHistory(model, Path.Combine(store.Directory, TopicHistory.FileName), saveHistory);
    }

    /// <summary>The digest of the papers <paramref name="request"/> selects, grouped into topics, with similar earlier papers.</summary>
    public static async Task<Digest> DigestAsync(PaperStore store, DigestRequest request, bool saveHistory, CancellationToken cancellationToken)
    {
        if (request.Since is not null && request.Dump is not null)
        {
            throw new InvalidRequestException("A digest covers the papers since a date or the papers of one dump: give Since or Dump, not both.");
        }
        List<StoredPaper> all = await ReadAllAsync(store, cancellationToken).ConfigureAwait(false);
        Func<StoredPaper, bool> selected = _ => true;
        string selection = "all stored papers";
        if (request.Since is DateTimeOffset since)
        {
            selected = p => IsSince(p, since);
            selection = "papers since " + since.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }
        else if (request.Dump is { } dump)
        {
            string name = Path.GetFileName(dump);
            selected = p => p.Sources.Contains(name, StringComparer.Ordinal);
            selection = "papers of " + name;
        }
        var chosenRows = new List<int>();
        var earlierRows = new List<int>();
        for (int i = 0; i < all.Count; i++)
        {
            (selected(all[i]) ? chosenRows : earlierRows).Add(i);
        }
        // One representation for the whole store, so topic centres and earlier papers are compared in one space.
        (float[] allVectors, int dimension) = await RepresentAsync(store, all, request.Topics.Representation, cancellationToken).ConfigureAwait(false);
        float[] vectors = Rows(allVectors, dimension, chosenRows);
        Paper[] papers = chosenRows.Select(i => all[i].Paper).ToArray();
        TopicModel model = TopicPipeline.Fit(papers, vectors, dimension, Options(request.Topics), request.Topics.Progress, cancellationToken);
        model = AlignWithHistory(model, Path.Combine(store.Directory, DigestSnapshotFileName), saveHistory);
        var finder = new StoreSimilarFinder(earlierRows.Select(i => all[i]).ToList(), Rows(allVectors, dimension, earlierRows), dimension);
        Digest digest = DigestBuilder.Build(model, papers, vectors, new DigestOptions { Title = request.Title, Selection = selection }, finder, cancellationToken);
        return digest with { StorePaperCount = all.Count };
    }

    private static TopicModel AlignWithHistory(TopicModel model, string snapshotPath, bool save)
    {
        TopicSnapshot? previous = TopicHistory.Load(snapshotPath);
        model = TopicHistory.Align(model, previous);
        if (save)
        {
            TopicHistory.Save(snapshotPath, TopicHistory.Snapshot(model, previous));
        }
        return model;
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

    /// <summary>The clustering vectors of <paramref name="papers"/> (all of them share one fitted LSA space).</summary>
    private static Task<(float[] Vectors, int Dimension)> RepresentAsync(PaperStore store, IReadOnlyList<StoredPaper> papers,
        RepresentationKind representation, CancellationToken cancellationToken)
    {
        int d = store.Dimension;
        ReadOnlySpan<float> all = store.GetAllRows().Span;
        var neural = new float[papers.Count * d];
        for (int i = 0; i < papers.Count; i++)
        {
            all.Slice(papers[i].Row * d, d).CopyTo(neural.AsSpan(i * d, d));
        }
        return ClusteringRepresentation.BuildAsync(papers.Select(p => p.Paper).ToArray(), neural, d, representation, store.Directory, cancellationToken);
    }

    /// <summary>The rows <paramref name="indices"/> of a row-major matrix.</summary>
    private static float[] Rows(float[] vectors, int dimension, IReadOnlyList<int> indices)
    {
        var rows = new float[indices.Count * dimension];
        for (int i = 0; i < indices.Count; i++)
        {
            vectors.AsSpan(indices[i] * dimension, dimension).CopyTo(rows.AsSpan(i * dimension, dimension));
        }
        return rows;
    }

    /// <summary>
    /// Papers dated (or, without a date, first stored) on or after <paramref name="since"/>; a date of month or year
    /// precision counts from its first day. A daily-papers "Mar 14" has no year, so no date: its first-stored time decides.
    /// </summary>
    private static bool IsSince(StoredPaper p, DateTimeOffset since)
    {
        if (p.Paper.Date is { } date && Corpus.PaperMetadata.TryGetDateRange(date, out DateOnly first, out _))
        {
            return first >= DateOnly.FromDateTime(since.UtcDateTime);
        }
        return p.FirstSeen >= since;
    }

    /// <summary>Similar earlier papers: the exact index (the search oracle) over the store papers outside the digest.</summary>
    private sealed class StoreSimilarFinder : ISimilarPaperFinder
    {
        private readonly IReadOnlyList<StoredPaper> _papers;
        private readonly ExactIndex? _index;

        /// <param name="earlier">The papers to link to.</param>
        /// <param name="vectors">Their unit vectors, row-major, in the space the topic centres live in.</param>
        /// <param name="dimension">Vector length.</param>
        public StoreSimilarFinder(IReadOnlyList<StoredPaper> earlier, float[] vectors, int dimension)
        {
            _papers = earlier;
            _index = earlier.Count == 0 ? null : ExactIndex.Create(vectors, dimension);
        }

        public IReadOnlyList<DigestPaper> FindSimilar(ReadOnlySpan<float> query, int k)
        {
            if (_index is null || k <= 0)
            {
                return [];
            }
            return _index.Search(query, k).Select(n =>
            {
                Paper p = _papers[n.Id].Paper;
                return new DigestPaper(p.Id, p.Title, p.Abstract.Length > 160 ? p.Abstract[..160] + "\u2026" : p.Abstract, n.Score)
                {
                    Authors = p.Authors,
                    Date = p.Date,
                    Url = p.Url,
                };
            }).ToArray();
        }
    }
}
