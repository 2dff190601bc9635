using System.Text.RegularExpressions;
using Embeddings.Corpus;
using Embeddings.Tests.Encoding;
using Embeddings.Tokenization;
using Embeddings.Topics;

namespace Embeddings.Tests.Topics;

/// <summary>
/// The label rules of issue 12 on real text: the shared daily-papers dumps, with topics seeded by what their titles
/// say (so the test needs no model and is exact), labelled by the class-based TF-IDF stage the pipeline runs.
/// </summary>
public sealed class TopicLabelTests
{
    /// <summary>Seeded topics: a paper whose title matches is in the topic; every other paper is one more class.</summary>
    private static readonly (string Name, Regex Title)[] Seeds =
    [
        ("quantization", new Regex(@"quantiz", RegexOptions.IgnoreCase)),
        ("adversarial", new Regex(@"adversarial", RegexOptions.IgnoreCase)),
        ("pruning", new Regex(@"prun|sparsit|sparse", RegexOptions.IgnoreCase)),
        ("PDEs", new Regex(@"\bPDEs?\b|differential equation|operator learning|neural operator", RegexOptions.IgnoreCase)),
        ("language models", new Regex(@"language model|\bLLMs?\b", RegexOptions.IgnoreCase)),
    ];

    private static readonly Lazy<(Paper[] Papers, int[] Labels, ClassTfidf Tfidf)> Seeded = new(() =>
    {
        Paper[] papers = [.. EncoderFixtures.DumpPapers.DistinctBy(p => p.Id)];
        int[] labels = papers.Select(p => Array.FindIndex(Seeds, s => s.Title.IsMatch(p.Title)) is int c and >= 0 ? c : Seeds.Length).ToArray();
        var tfidf = ClassTfidf.Compute(papers.Select(p => p.Abstract).ToArray(), papers.Select(p => p.Title).ToArray(), labels, Seeds.Length + 1,
            new TermOptions(), default);
        return (papers, labels, tfidf);
    });

    private static List<TopicKeyword> Keywords(int c)
    {
        var (_, labels, tfidf) = Seeded.Value;
        var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToList();
        return tfidf.Diverse(c, members, 10, 0.3);
    }

    private static readonly TextAnalyzer Analyzer = TextAnalyzer.Create(TextAnalyzerOptions.TopicLabels);

    /// <summary>The term a shown keyword stands for: its longest analysed term ("neural networks" -> "neural network").</summary>
    private static string TermOf(string keyword) => Analyzer.Terms(keyword).OrderByDescending(t => t.Length).First();

    [Fact]
    public void Seeded_topics_of_the_shared_dumps_are_named_by_their_labels()
    {
        for (int c = 0; c < Seeds.Length; c++)
        {
            string label = ClassTfidf.Label(Keywords(c));
            Assert.Contains(Seeds[c].Name, label, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void No_keyword_is_an_inflection_or_a_part_of_another_and_no_label_pairs_a_word_with_its_inflection()
    {
        for (int c = 0; c <= Seeds.Length; c++)
        {
            var keywords = Keywords(c).Select(k => k.Term).ToList();
            Assert.Equal(keywords.Count, keywords.Distinct(StringComparer.OrdinalIgnoreCase).Count());
            foreach (string a in keywords)
            {
                foreach (string b in keywords.Where(b => b != a))
                {
                    // "group" with "groups", "graph" with "graph neural networks": the words of one inside the other.
                    string[] wa = Stems(a), wb = Stems(b);
                    Assert.False(wa.All(wb.Contains), $"topic {c}: '{a}' is inside '{b}'");
                    Assert.False(ClassTfidf.AbbreviationPair(a, b), $"topic {c}: '{a}' abbreviates '{b}'");
                }
            }
            string[] parts = ClassTfidf.Label(Keywords(c)).Split(" / ");
            Assert.True(parts.Length == 1 || !ClassTfidf.ShareAWord(parts[0], parts[1]), string.Join(" / ", parts));
        }
    }

    [Fact]
    public void Keywords_carry_no_latex_no_boilerplate_and_no_word_of_one_paper()
    {
        var (papers, labels, _) = Seeded.Value;
        for (int c = 0; c <= Seeds.Length; c++)
        {
            var memberTerms = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c)
                .Select(i => Analyzer.Terms(papers[i].Title + "\n" + papers[i].Abstract).ToHashSet(StringComparer.Ordinal)).ToList();
            foreach (TopicKeyword k in Keywords(c))
            {
                foreach (string word in k.Term.ToLowerInvariant().Split(' '))
                {
                    Assert.False(AbstractBoilerplate.IsLatexWord(word), $"topic {c}: LaTeX '{k.Term}'");
                    Assert.False(AbstractBoilerplate.Contains(word), $"topic {c}: boilerplate '{k.Term}'");
                }
                string term = TermOf(k.Term);
                int using_ = memberTerms.Count(t => t.Contains(term));
                Assert.True(using_ >= 2, $"topic {c}: '{k.Term}' is used by {using_} paper(s) of the topic");
            }
        }
    }

    [Fact]
    public void Phrases_stand_where_their_words_would_and_modifiers_never_stand_alone()
    {
        for (int c = 0; c <= Seeds.Length; c++)
        {
            var keywords = Keywords(c).Select(k => k.Term).ToList();
            Assert.Contains(keywords, k => k.Contains(' ', StringComparison.Ordinal));
            // Words the dumps write almost only before another word ("deep learning", "neural networks", "large
            // language models") are half a phrase: their phrases are keywords, they are not.
            Assert.DoesNotContain(keywords, k => k is "deep" or "neural" or "large" or "pre-trained");
        }
        Assert.Contains("language models", Keywords(4).Select(k => k.Term));
    }

    [Fact]
    public void Abbreviations_pair_with_the_phrases_they_abbreviate_only()
    {
        Assert.True(ClassTfidf.AbbreviationPair("PDEs", "partial differential equations"));
        Assert.True(ClassTfidf.AbbreviationPair("large language models", "LLMs"));
        Assert.True(ClassTfidf.AbbreviationPair("ICL", "in-context learning"));
        Assert.True(ClassTfidf.ShareAWord("PDEs", "partial differential equations"));
        Assert.False(ClassTfidf.AbbreviationPair("PDEs", "neural operators"));
        Assert.False(ClassTfidf.AbbreviationPair("am", "adaptive momentum")); // a plain word, not an abbreviation
        Assert.False(ClassTfidf.AbbreviationPair("GNNs", "graph networks"));
    }

    [Fact]
    public void Representative_title_is_the_title_that_uses_most_of_the_best_keywords()
    {
        var (papers, labels, _) = Seeded.Value;
        var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == 0).ToList();
        var topic = new Topic
        {
            Id = 0,
            Label = "",
            Keywords = Keywords(0),
            Share = 0,
            PaperIds = members.Select(i => papers[i].Id).ToArray(),
            PaperScores = members.Select(_ => 1f).ToArray(),
            Centroid = [],
        };
        var byId = papers.ToDictionary(p => p.Id, p => p.Title);
        string title = TopicLabeling.RepresentativeTitle(topic, id => byId[id]);
        Assert.Contains(title, members.Select(i => papers[i].Title));
        // No member's title scores higher (weight 1 / rank over the five best keywords).
        string[] best = topic.Keywords.Take(5).Select(k => TermOf(k.Term)).ToArray();
        double Score(string t)
        {
            var terms = Analyzer.Terms(t).ToHashSet(StringComparer.Ordinal);
            return best.Select((k, r) => terms.Contains(k) ? 1.0 / (r + 1) : 0).Sum();
        }
        Assert.True(Score(title) > 0);
        Assert.All(members, i => Assert.True(Score(papers[i].Title) <= Score(title)));
    }

    private static string[] Stems(string term) =>
        term.ToLowerInvariant().Split([' ', '-'], StringSplitOptions.RemoveEmptyEntries).Select(w =>
        {
            char[] buffer = w.ToCharArray();
            return new string(buffer, 0, Stemmers.Porter(buffer));
        }).Distinct().ToArray();
}
