using Embeddings.Corpus;
using Embeddings.Evaluation;
using Embeddings.Tokenization;
using Embeddings.Topics;

namespace Embeddings.Tests.Topics;

public sealed class TopicPipelineTests
{
    [Fact]
    public void Class_tfidf_scores_follow_the_bertopic_formula_over_papers_using_each_term()
    {
        // Two topics. Topic 0 texts: "graph graph node", "graph edge"; topic 1: "protein fold", "protein node".
        // Papers using each kept term (min df 1 under 20 papers; phrases of adjacent words; a repeated word counts once):
        // class 0: graph 2, node 1, edge 1, "graph graph" 1, "graph node" 1, "graph graph node" 1, "graph edge" 1 -> total 8
        // class 1: protein 2, fold 1, node 1, "protein fold" 1, "protein node" 1 -> total 6
        // A = 14 / 2 = 7; f(graph) = 2, f(node) = 2. c-TF-IDF(graph, 0) = 2/8 * ln(1 + 7/2), all of graph's papers are
        // in class 0; c-TF-IDF(node, 0) = 1/8 * ln(1 + 7/2), half of node's are. Rank weight = c-TF-IDF * sqrt(share).
        string[] texts = ["graph graph node", "graph edge", "protein fold", "protein node"];
        // Phrases and the modifier rule off: this checks the weights alone ("graph" starts a phrase at each use here).
        var tfidf = ClassTfidf.Compute(texts, null, [0, 0, 1, 1], 2, new TermOptions { PhraseShare = 2, ModifierShare = 2 }, default);
        var c0 = tfidf.Candidates[0];
        Assert.Equal("graph", c0[0].Term);
        Assert.Equal(2.0 / 8 * Math.Log(1 + 7.0 / 2), c0[0].Score, 12);
        Assert.Equal(1.0 / 8 * Math.Log(1 + 7.0 / 2) * Math.Sqrt(0.5), c0.Single(k => k.Term == "node").Score, 12);
        Assert.Equal(1.0 / 8 * Math.Log(1 + 7.0 / 1), c0.Single(k => k.Term == "edge").Score, 12);
        Assert.Equal("protein", tfidf.Candidates[1][0].Term);
        Assert.Equal(2.0 / 6 * Math.Log(1 + 7.0 / 2), tfidf.Candidates[1][0].Score, 12);
        // A term the other class shares ranks below an exclusive term of equal count.
        Assert.True(c0.Single(k => k.Term == "edge").Score > c0.Single(k => k.Term == "node").Score);
    }

    [Fact]
    public void Labels_fold_inflections_skip_markup_and_one_paper_words_and_prefer_phrases()
    {
        // Topic 0: in-context learning papers writing "group"/"groups" and LaTeX; one of them repeats "reports".
        // Topic 1: protein folding papers. Topic 2: filler, so that terms of the other two are not in most papers.
        var texts = new List<string>();
        var titles = new List<string>();
        var labels = new List<int>();
        for (int i = 0; i < 12; i++)
        {
            titles.Add(i % 2 == 0 ? "In-Context Learning of Symmetry Groups" : "Transformers learn in-context");
            texts.Add((i % 2 == 0 ? "We study in-context learning over groups $\\mathcal{G}$ and mathbb R." : "In-context learning of a group action, cdot.")
                + (i == 3 ? " Reports reports reports reports reports reports reports." : ""));
            labels.Add(0);
        }
        for (int i = 0; i < 12; i++)
        {
            titles.Add("Protein folding with residues");
            texts.Add(i % 3 == 0 ? "Protein structure prediction from residue contacts." : "Folding proteins, residue by residue.");
            labels.Add(1);
        }
        for (int i = 0; i < 16; i++)
        {
            titles.Add($"Filler title {i}");
            texts.Add($"Unrelated words number {i}, weather, cooking, travel.");
            labels.Add(2);
        }
        var tfidf = ClassTfidf.Compute(texts, titles, labels, 3, new TermOptions(), default);
        var keywords = tfidf.Diverse(0, Enumerable.Range(0, 12).ToList(), 10, 0.3);
        string label = ClassTfidf.Label(keywords);
        Assert.Equal("in-context learning / groups", label);
        var terms = keywords.Select(k => k.Term).ToList();
        Assert.DoesNotContain(terms, t => t.Contains("mathcal", StringComparison.Ordinal) || t.Contains("mathbb", StringComparison.Ordinal) || t.Contains("cdot", StringComparison.Ordinal));
        Assert.DoesNotContain(terms, t => t.Contains("reports", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("group", terms); // "groups" is shown (the form papers write most), never both
        Assert.StartsWith("protein folding", ClassTfidf.Label(tfidf.Diverse(1, Enumerable.Range(12, 12).ToList(), 10, 0.3)), StringComparison.Ordinal);
    }

    [Fact]
    public void Pipeline_labels_topics_by_their_vocabulary()
    {
        var (v, gold) = Synthetic.Blobs(40, 4, 32, noise: 1.2f, seed: 21);
        var papers = Synthetic.Papers(gold, seed: 22);
        var model = TopicPipeline.Fit(papers, v, 32, new TopicOptions { K = 4 });
        Assert.Equal(4, model.Topics.Count);
        string[][] expectedWords = [["graph", "neural", "molecule", "message", "passing", "node", "edge", "chemistry"],
            ["protein", "folding", "structure", "residue", "sequence", "alignment", "amino", "enzyme"],
            ["language", "model", "token", "prompt", "instruction", "reasoning", "decoder", "llm"],
            ["robot", "control", "policy", "locomotion", "manipulation", "grasp", "actuator", "motion"]];
        foreach (var topic in model.Topics)
        {
            Assert.Equal(40, topic.Size);
            Assert.Equal(0.25, topic.Share, 9);
            int goldClass = gold[int.Parse(topic.PaperIds[0][1..], System.Globalization.CultureInfo.InvariantCulture)];
            // Top keywords come from the topic's own vocabulary, not the shared words.
            Assert.All(topic.Keywords.Take(3), k => Assert.Contains(k.Term.Split(' ')[0], expectedWords[goldClass]));
            Assert.Contains(" / ", topic.Label);
            // At most 10; a topic written with 8 random words has fewer distinct keywords, because a phrase made of
            // words already chosen ("graph", "graph neural") is never a keyword of its own.
            Assert.InRange(topic.Keywords.Count, 5, 10);
            Assert.DoesNotContain(topic.Keywords, k => topic.Keywords.Any(o => o.Term != k.Term && k.Term.Split(' ').All(o.Term.Split(' ').Contains)));
            Assert.Equal(topic.Keywords.Count, topic.Keywords.Select(k => k.Term).Distinct().Count());
            // Members sorted by closeness to the centre.
            for (int i = 1; i < topic.PaperScores.Count; i++)
            {
                Assert.True(topic.PaperScores[i - 1] >= topic.PaperScores[i]);
            }
        }
        Assert.Equal(3, model.Hierarchy.Count);
        Assert.Empty(model.OutlierIds);
    }

    [Fact]
    public void Same_input_and_seed_give_identical_models()
    {
        var (v, gold) = Synthetic.Blobs(30, 5, 24, noise: 2f, seed: 31, outliers: 15);
        var papers = Synthetic.Papers(gold, seed: 32);
        foreach (var method in new[] { TopicMethod.KMeans, TopicMethod.Hdbscan, TopicMethod.Communities })
        {
            var options = new TopicOptions { Method = method, Seed = 5, Communities = new CommunityOptions { Threshold = 0.6f } };
            var a = TopicPipeline.Fit(papers, v, 24, options);
            var b = TopicPipeline.Fit(papers, v, 24, options);
            Assert.Equal(LibraryJson.Topics(a), LibraryJson.Topics(b));
            Assert.Equal(a.Scores, b.Scores);
            Assert.Equal(a.Topics.SelectMany(t => t.Centroid), b.Topics.SelectMany(t => t.Centroid));
        }
    }

    [Fact]
    public void Assign_new_reproduces_the_training_assignment()
    {
        var (v, gold) = Synthetic.Blobs(50, 4, 64, noise: 1.5f, seed: 41, outliers: 10);
        var papers = Synthetic.Papers(gold, seed: 42);
        foreach (var options in new[]
                 {
                     new TopicOptions { K = 4 },
                     new TopicOptions { Method = TopicMethod.Hdbscan, ReducedDimension = 16 },
                     new TopicOptions { Method = TopicMethod.Hdbscan, AssignOutliers = true },
                 })
        {
            var model = TopicPipeline.Fit(papers, v, 64, options);
            var again = model.AssignNew(v);
            Assert.Equal(model.Assignments, again.Select(a => a.TopicId).ToArray());
            Assert.Equal(model.Scores, again.Select(a => a.Score).ToArray());
            if (options.Method == TopicMethod.Hdbscan && !options.AssignOutliers)
            {
                // The 10 scattered papers are outliers, blob papers are not.
                Assert.Equal(Enumerable.Range(200, 10).Select(i => $"p{i:D5}"), model.OutlierIds);
                Assert.True(ClusteringMetrics.VMeasure([.. gold], [.. model.Assignments]).VMeasure > 0.95);
            }
            if (options.AssignOutliers)
            {
                Assert.Empty(model.OutlierIds);
            }
        }
    }

    [Fact]
    public void Max_topics_merges_the_most_similar_clusters()
    {
        // Six blobs where blobs 0/1 and 2/3 are near-copies: asking for 4 topics merges exactly those pairs.
        var (v, gold) = Synthetic.Blobs(20, 4, 32, noise: 0.5f, seed: 51);
        int n = gold.Length;
        var all = new float[2 * n * 32];
        var labels = new int[2 * n];
        var rng = new Random(1);
        for (int i = 0; i < 2 * n; i++)
        {
            int src = i % n;
            for (int j = 0; j < 32; j++)
            {
                all[i * 32 + j] = v[src * 32 + j] + (i >= n ? 0.35f * ((j + gold[src]) % 2 == 0 ? 1 : -1) / MathF.Sqrt(32) : 0f);
            }
            labels[i] = gold[src];
        }
        var papers = Synthetic.Papers(labels, seed: 52);
        var model = TopicPipeline.Fit(papers, all, 32, new TopicOptions { K = 8, MaxTopics = 4 });
        Assert.Equal(4, model.Topics.Count);
        Assert.Equal(1.0, ClusteringMetrics.VMeasure([.. labels], [.. model.Assignments]).VMeasure, 6);
        Assert.Equal(3, model.Hierarchy.Count);
        Assert.True(model.Hierarchy[0].Similarity >= model.Hierarchy[^1].Similarity);
    }

    [Fact]
    public void Empty_and_single_paper_inputs_give_valid_models()
    {
        foreach (var method in new[] { TopicMethod.KMeans, TopicMethod.Hdbscan, TopicMethod.Communities })
        {
            var empty = TopicPipeline.Fit([], [], 8, new TopicOptions { Method = method });
            Assert.Empty(empty.Topics);
            Assert.Empty(empty.Assignments);
            Assert.DoesNotContain(empty.AssignNew(new float[8]), a => a.TopicId >= 0);

            var one = TopicPipeline.Fit([new Paper("only", "A lonely paper", "It has one sentence.")], [1, 0, 0, 0, 0, 0, 0, 0], 8, new TopicOptions { Method = method });
            Assert.Single(one.PaperIds);
            if (method == TopicMethod.KMeans)
            {
                Assert.Single(one.Topics);
                Assert.Equal(["only"], one.Topics[0].PaperIds);
            }
            else
            {
                Assert.Equal(["only"], one.OutlierIds);
            }
        }
    }

    [Fact]
    public void Bad_vector_length_is_rejected_with_the_counts()
    {
        var e = Assert.Throws<ArgumentException>(() => TopicPipeline.Fit([new Paper("a", "t", "x")], new float[5], 4));
        Assert.Contains("1 papers need 4 floats", e.Message);
    }
}
