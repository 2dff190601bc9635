using System.Numerics.Tensors;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Tokenization;

namespace Embeddings.Topics;

/// <summary>
/// What turns a topic's c-TF-IDF keywords into the label a reader sees: re-ranking them by the model's own embeddings
/// (KeyBERT-style: a keyword whose embedding is near the topic's centre names the topic; "hard" or "distribution" in a
/// topic about generative models does not), and the representative-title label.
/// </summary>
internal static class TopicLabeling
{
    /// <summary>
    /// Re-ranks every topic's keywords by (1 - <paramref name="embeddingWeight"/>) x c-TF-IDF weight +
    /// <paramref name="embeddingWeight"/> x cosine of the keyword's embedding to the topic's centre (each scaled to 0..1
    /// within the topic), and labels the topic from the new order. The keywords stay those MMR chose (so no inflection
    /// or sub-phrase pairs come back); only their order and the label change. Topic centres must be in the encoder's
    /// space (the store's own vectors).
    /// </summary>
    public static async Task<TopicModel> RerankAsync(TopicModel model, ISentenceEncoder encoder, double embeddingWeight, CancellationToken ct)
    {
        var terms = model.Topics.SelectMany(t => t.Keywords.Select(k => k.Term)).Distinct(StringComparer.Ordinal).ToList();
        if (terms.Count == 0 || embeddingWeight <= 0)
        {
            return model;
        }
        EmbeddingBatch batch = await encoder.EncodeAsync(terms, ct).ConfigureAwait(false);
        var row = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < terms.Count; i++)
        {
            row[terms[i]] = i;
        }
        int d = batch.Dimension;
        var topics = model.Topics.Select(t =>
        {
            if (t.Keywords.Count < 2 || t.Centroid.Count != d)
            {
                return t;
            }
            float[] centre = [.. t.Centroid];
            var cosines = t.Keywords.Select(k =>
            {
                ReadOnlySpan<float> v = batch.Vectors.AsSpan(row[k.Term] * d, d);
                return (double)TensorPrimitives.CosineSimilarity(v, centre);
            }).ToArray();
            var weights = t.Keywords.Select(k => k.Score).ToArray();
            var reordered = Rerank(t.Keywords, weights, cosines, embeddingWeight);
            return t with { Keywords = reordered, Label = ClassTfidf.Label(reordered) };
        }).ToArray();
        return model with { Topics = topics };
    }

    /// <summary>
    /// The keywords ordered by the mixed relevance of <see cref="RerankAsync"/>; ties keep the c-TF-IDF order.
    /// <paramref name="weights"/> and <paramref name="cosines"/> are per keyword.
    /// </summary>
    internal static IReadOnlyList<TopicKeyword> Rerank(IReadOnlyList<TopicKeyword> keywords, double[] weights, double[] cosines, double embeddingWeight)
    {
        double[] w = Scaled(weights), c = Scaled(cosines);
        var order = Enumerable.Range(0, keywords.Count)
            .OrderByDescending(i => (1 - embeddingWeight) * w[i] + embeddingWeight * c[i])
            .ThenBy(i => i);
        return order.Select(i => keywords[i]).ToArray();
    }

    private static double[] Scaled(double[] values)
    {
        double lo = values.Min(), hi = values.Max();
        return values.Select(v => hi > lo ? (v - lo) / (hi - lo) : 1).ToArray();
    }

    /// <summary>
    /// The title of the paper that stands for the topic: among its papers, the title that uses the most of the topic's
    /// best keywords (the first counts most: weight 1 / rank), ties to the paper closer to the centre; the closest
    /// paper's title when no title uses one. <paramref name="titleOf"/> gives a paper's title by id.
    /// </summary>
    public static string RepresentativeTitle(Topic topic, Func<string, string> titleOf, int keywords = 5)
    {
        if (topic.PaperIds.Count == 0)
        {
            return "(no papers)";
        }
        var analyzer = TextAnalyzer.Create(TextAnalyzerOptions.TopicLabels);
        // Each keyword as the analyser writes it: its longest term ("neural networks" -> "neural network").
        var wanted = topic.Keywords.Take(keywords)
            .Select(k => analyzer.Terms(k.Term).OrderByDescending(t => t.Length).ThenBy(t => t, StringComparer.Ordinal).FirstOrDefault())
            .ToArray();
        string best = titleOf(topic.PaperIds[0]);
        double bestScore = 0;
        foreach (string id in topic.PaperIds) // closest to the centre first, so ties keep the closer paper
        {
            string title = titleOf(id);
            var terms = analyzer.Terms(title).ToHashSet(StringComparer.Ordinal);
            double score = 0;
            for (int r = 0; r < wanted.Length; r++)
            {
                if (wanted[r] is { } term && terms.Contains(term))
                {
                    score += 1.0 / (r + 1);
                }
            }
            if (score > bestScore)
            {
                bestScore = score;
                best = title;
            }
        }
        return best;
    }

    /// <summary>The model with each topic labelled by its <see cref="RepresentativeTitle"/> (keywords unchanged).</summary>
    public static TopicModel WithTitleLabels(TopicModel model, IReadOnlyList<Paper> papers)
    {
        var titles = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Paper p in papers)
        {
            titles.TryAdd(p.Id, p.Title.Length > 0 ? p.Title : p.Id);
        }
        return model with { Topics = model.Topics.Select(t => t with { Label = RepresentativeTitle(t, id => titles.GetValueOrDefault(id, id)) }).ToArray() };
    }
}
