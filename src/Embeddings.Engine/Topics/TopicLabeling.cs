using Embeddings.Corpus;
using Embeddings.Tokenization;

namespace Embeddings.Topics;

/// <summary>
/// The representative-title label (<see cref="TopicLabelKind.Title"/>): the title of the paper that stands for a topic,
/// chosen by the topic's own keywords.
/// </summary>
internal static class TopicLabeling
{
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
