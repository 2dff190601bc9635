using Embeddings.Corpus;
using Embeddings.Numerics;
using Embeddings.Tokenization;
using Embeddings.Topics;

namespace Embeddings.Digests;

/// <summary>Finds similar earlier papers (e.g. in the store, excluding the digest's own).</summary>
internal interface ISimilarPaperFinder
{
    /// <summary>Up to <paramref name="k"/> papers nearest to <paramref name="query"/> (a unit vector).</summary>
    IReadOnlyList<DigestPaper> FindSimilar(ReadOnlySpan<float> query, int k);
}

/// <summary>Options of <see cref="DigestBuilder"/>.</summary>
internal sealed record DigestOptions
{
    /// <summary>Heading of the digest.</summary>
    public string Title { get; init; } = "Topic digest";

    /// <summary>What was selected, shown under the heading.</summary>
    public string Selection { get; init; } = "all papers";

    /// <summary>Representative papers per topic.</summary>
    public int TopPapers { get; init; } = 5;

    /// <summary>Similar earlier papers per topic.</summary>
    public int SimilarEarlier { get; init; } = 3;

    /// <summary>t-SNE iterations of the map (0 = PCA only).</summary>
    public int MapIterations { get; init; } = 500;
}

/// <summary>Builds a <see cref="Digest"/> from a fitted model, its papers and vectors.</summary>
internal static class DigestBuilder
{
    /// <summary>Assembles topics, top papers with first-sentence summaries, similar earlier papers and the map.</summary>
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
        var byId = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < papers.Count; i++)
        {
            byId.TryAdd(papers[i].Id, i);
        }
        DigestPaper Show(string id, float score)
        {
            var p = papers[byId[id]];
            return new DigestPaper(id, p.Title.Length > 0 ? p.Title : SentenceSplitter.FirstSentence(p.Abstract, 100), SentenceSplitter.FirstSentence(p.Abstract), score)
            {
                Authors = p.Authors,
                Date = p.Date,
                Url = p.Url,
            };
        }
        var topics = new List<DigestTopic>();
        foreach (var t in model.Topics)
        {
            var top = new List<DigestPaper>();
            for (int i = 0; i < Math.Min(options.TopPapers, t.Size); i++)
            {
                top.Add(Show(t.PaperIds[i], t.PaperScores[i]));
            }
            var similar = earlier is null || options.SimilarEarlier <= 0
                ? []
                : earlier.FindSimilar(t.Centroid.ToArray(), options.SimilarEarlier);
            topics.Add(new DigestTopic
            {
                Id = t.Id,
                Label = t.Label,
                Keywords = t.Keywords.Select(k => k.Term).ToArray(),
                Size = t.Size,
                Share = t.Share,
                Trend = t.Trend,
                PreviousSize = t.PreviousSize,
                TopPapers = top,
                SimilarEarlier = similar,
            });
        }
        var outliers = new List<DigestPaper>();
        for (int i = 0; i < model.PaperIds.Count; i++)
        {
            if (model.Assignments[i] < 0)
            {
                outliers.Add(Show(model.PaperIds[i], model.Scores[i]));
            }
        }
        // Map: an evenly spread, deterministic sample when there are too many papers.
        int n = papers.Count;
        var rows = n <= MapProjection.MaxPoints
            ? Enumerable.Range(0, n).ToArray()
            : Enumerable.Range(0, MapProjection.MaxPoints).Select(i => (int)((long)i * n / MapProjection.MaxPoints)).ToArray();
        var unit = VectorSet.Normalized(vectors, model.Dimension).Select(rows);
        var xy = MapProjection.Layout(unit, options.MapIterations, cancellationToken);
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
            HasHistory = model.Topics.Any(t => t.Trend != TopicTrend.Unknown),
        };
    }
}
