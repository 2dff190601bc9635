using Embeddings.Corpus;
using Embeddings.Numerics;
using Embeddings.Tokenization;
using Embeddings.Topics;

namespace Embeddings.Digests;

/// <summary>Finds similar earlier papers (e.g. in the store, excluding the digest's own).</summary>
internal interface ISimilarPaperFinder
{
    /// <summary>Up to <paramref name="k"/> papers nearest to <paramref name="query"/> (a unit vector in the space topic centres live in).</summary>
    IReadOnlyList<DigestPaper> FindSimilar(ReadOnlySpan<float> query, int k);

    /// <summary>Up to <paramref name="k"/> papers nearest to paper <paramref name="paper"/> (its index in the digest's papers).</summary>
    IReadOnlyList<DigestPaper> FindSimilarToPaper(int paper, int k);
}

/// <summary>Options of <see cref="DigestBuilder"/>.</summary>
internal sealed record DigestOptions
{
    /// <summary>Heading of the digest.</summary>
    public string Title { get; init; } = "Topic digest";

    /// <summary>What was selected, shown under the heading.</summary>
    public string Selection { get; init; } = "all papers";

    /// <summary>
    /// The papers the digest covers (indices into the model's papers); null: all of them. The model's topics are the
    /// store's; the digest lists the selected papers under them, and topics without a selected paper are left out.
    /// </summary>
    public IReadOnlyList<int>? Selected { get; init; }

    /// <summary>Representative papers per topic.</summary>
    public int TopPapers { get; init; } = 5;

    /// <summary>Similar earlier papers per topic.</summary>
    public int SimilarEarlier { get; init; } = 3;

    /// <summary>Similar earlier papers per listed paper.</summary>
    public int SimilarPerPaper { get; init; } = 2;

    /// <summary>t-SNE iterations of the map (0 = PCA only).</summary>
    public int MapIterations { get; init; } = 500;

    /// <summary>Whether to mark trends (false when the run ignores the topic history: no new or growing marks at all).</summary>
    public bool Trends { get; init; } = true;

    /// <summary>A topic is growing when its share of the digest's papers is this factor above its share of the earlier ones (shrinking below).</summary>
    public double TrendRatio { get; init; } = 1.25;
}

/// <summary>Builds a <see cref="Digest"/> from a fitted model, its papers and vectors.</summary>
internal static class DigestBuilder
{
    /// <summary>
    /// Assembles the topics of the selected papers, every selected paper under its topic (link, authors, date,
    /// first-sentence summary, similar earlier papers), similar earlier papers per topic, trends and the map.
    /// </summary>
    /// <param name="model">Topics fitted on <paramref name="papers"/>.</param>
    /// <param name="papers">The papers the model was fitted on, in its order.</param>
    /// <param name="vectors">Their clustering vectors (row-major, the model's dimension), for the map.</param>
    /// <param name="options">What to show.</param>
    /// <param name="earlier">Where similar earlier papers come from.</param>
    /// <param name="cancellationToken">Cancels the map layout.</param>
    public static Digest Build(
        TopicModel model,
        IReadOnlyList<Paper> papers,
        ReadOnlySpan<float> vectors,
        DigestOptions? options = null,
        ISimilarPaperFinder? earlier = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(papers);
        options ??= new DigestOptions();
        if (papers.Count != model.PaperIds.Count)
        {
            throw new ArgumentException($"the model was fitted on {model.PaperIds.Count} papers, {papers.Count} given", nameof(papers));
        }
        int total = papers.Count;
        IReadOnlyList<int> selected = options.Selected ?? Enumerable.Range(0, total).ToArray();
        var isSelected = new bool[total];
        foreach (int i in selected)
        {
            isSelected[i] = true;
        }
        int earlierCount = total - selected.Count;
        var rowOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < total; i++)
        {
            rowOf.TryAdd(papers[i].Id, i);
        }
        DigestPaper Show(int row, float score, bool withSimilar)
        {
            Paper p = papers[row];
            return new DigestPaper(p.Id, p.Title.Length > 0 ? p.Title : SentenceSplitter.FirstSentence(p.Abstract, 100), SentenceSplitter.FirstSentence(p.Abstract), score)
            {
                Url = p.Url,
                Authors = p.Authors,
                AuthorCount = p.AuthorCount ?? p.Authors?.Count,
                Date = p.Date ?? p.DateText,
                SimilarEarlier = withSimilar && earlier is not null && options.SimilarPerPaper > 0 ? earlier.FindSimilarToPaper(row, options.SimilarPerPaper) : [],
            };
        }
        var topics = new List<DigestTopic>();
        foreach (var t in model.Topics)
        {
            var listed = new List<DigestPaper>();
            for (int i = 0; i < t.PaperIds.Count; i++)
            {
                int row = rowOf[t.PaperIds[i]];
                if (isSelected[row])
                {
                    listed.Add(Show(row, t.PaperScores[i], withSimilar: true));
                }
            }
            if (listed.Count == 0)
            {
                continue;
            }
            var similar = earlier is null || options.SimilarEarlier <= 0
                ? []
                : earlier.FindSimilar(t.Centroid.ToArray(), options.SimilarEarlier);
            topics.Add(new DigestTopic
            {
                Id = t.Id,
                Label = t.Label,
                Keywords = t.Keywords.Select(k => k.Term).ToArray(),
                Size = listed.Count,
                StoreSize = t.Size,
                Share = selected.Count == 0 ? 0 : (double)listed.Count / selected.Count,
                Trend = options.Trends ? Trend(t, listed.Count, selected.Count, earlierCount, options.TrendRatio) : TopicTrend.Unknown,
                PreviousSize = t.PreviousSize,
                TopPapers = listed.Take(options.TopPapers).ToArray(),
                Papers = listed,
                SimilarEarlier = similar,
            });
        }
        // Largest first in the digest's own papers (the store's order breaks ties), so the digest leads with this week's main topics.
        topics = topics.Select((t, order) => (t, order)).OrderByDescending(x => x.t.Size).ThenBy(x => x.order).Select(x => x.t).ToList();
        var outliers = new List<DigestPaper>();
        for (int i = 0; i < total; i++)
        {
            if (model.Assignments[i] < 0 && isSelected[i])
            {
                outliers.Add(Show(i, model.Scores[i], withSimilar: true));
            }
        }
        // Map of the selected papers: an evenly spread, deterministic sample when there are too many.
        int n = selected.Count;
        var rows = n <= MapProjection.MaxPoints
            ? selected.ToArray()
            : Enumerable.Range(0, MapProjection.MaxPoints).Select(i => selected[(int)((long)i * n / MapProjection.MaxPoints)]).ToArray();
        var unit = VectorSet.Normalized(vectors, model.Dimension).Select(rows);
        var xy = MapProjection.Layout(unit, options.MapIterations, cancellationToken);
        var topicIndex = new Dictionary<int, int>();
        for (int i = 0; i < topics.Count; i++)
        {
            topicIndex[topics[i].Id] = i;
        }
        MapProjection.SeparateTopics(xy, rows.Select(i => model.Assignments[i] >= 0 ? topicIndex[model.Assignments[i]] : -1).ToArray(), topics.Count);
        var map = new DigestPoint[rows.Length];
        for (int r = 0; r < rows.Length; r++)
        {
            int i = rows[r];
            map[r] = new DigestPoint(xy[2 * r], xy[2 * r + 1], model.Assignments[i], papers[i].Id, papers[i].Title);
        }
        return new Digest
        {
            Title = options.Title,
            Selection = options.Selection,
            PaperCount = n,
            Topics = topics,
            Outliers = outliers,
            Map = map,
            HasHistory = topics.Any(t => t.Trend != TopicTrend.Unknown),
        };
    }

    /// <summary>
    /// New when no topic of the previous recorded run matched (or, without a history, when none of the earlier papers
    /// is in it); otherwise, when the store has earlier papers, growing or shrinking by the topic's share of the
    /// digest's papers against its share of the earlier ones; else the history's trend (share against the previous run's).
    /// </summary>
    private static TopicTrend Trend(Topic t, int listed, int selected, int earlierCount, double ratio)
    {
        if (t.Trend == TopicTrend.New || earlierCount == 0)
        {
            return t.Trend;
        }
        int before = t.Size - listed;
        if (before == 0)
        {
            return t.Trend == TopicTrend.Unknown ? TopicTrend.New : TopicTrend.Growing;
        }
        double now = (double)listed / selected, then = (double)before / earlierCount;
        return now >= then * ratio ? TopicTrend.Growing : now * ratio <= then ? TopicTrend.Shrinking : TopicTrend.Stable;
    }
}
