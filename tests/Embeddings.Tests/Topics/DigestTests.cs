using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using Embeddings.Digests;
using Embeddings.Topics;

namespace Embeddings.Tests.Topics;

public sealed class DigestTests
{
    private static (Digest Digest, TopicModel Model) Build(int outliers = 6)
    {
        var (v, gold) = Synthetic.Blobs(25, 4, 32, noise: 1.2f, seed: 71, outliers: outliers);
        var papers = Synthetic.Papers(gold, seed: 72);
        var model = TopicPipeline.Fit(papers, v, 32, new TopicOptions { Method = TopicMethod.Hdbscan, Hdbscan = new HdbscanOptions { MinClusterSize = 8 } });
        var earlier = new FixedFinder();
        var digest = DigestBuilder.Build(model, papers, v, new DigestOptions { Title = "Week <12> & more", MapIterations = 300 }, earlier);
        return (digest, model);
    }

    private sealed class FixedFinder : ISimilarPaperFinder
    {
        public IReadOnlyList<DigestPaper> FindSimilar(ReadOnlySpan<float> query, int k) =>
            Enumerable.Range(0, k).Select(i => new DigestPaper($"old{i}", $"Earlier paper {i}", "", 0.5f)).ToArray();

        public IReadOnlyList<DigestPaper> FindSimilarToPaper(int paper, int k) =>
            Enumerable.Range(0, k).Select(i => new DigestPaper($"old{paper}-{i}", $"Earlier paper of {paper} #{i}", "", 0.5f)).ToArray();
    }

    [Fact]
    public void Html_is_well_formed_with_a_map_dot_per_paper_and_every_topic()
    {
        var (digest, model) = Build();
        string html = DigestRenderer.Html(digest);
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore };
        using var reader = XmlReader.Create(new StringReader(html), settings);
        var doc = XDocument.Load(reader);
        XNamespace svg = "http://www.w3.org/2000/svg";
        var svgs = doc.Descendants(svg + "svg").ToList();
        Assert.Equal(2, svgs.Count);
        var dots = svgs[0].Descendants(svg + "circle").Where(c => ((string?)c.Attribute("class"))?.StartsWith("dot", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(model.PaperIds.Count, dots.Count);
        Assert.All(dots, d => Assert.False(string.IsNullOrEmpty(d.Element(svg + "title")?.Value)));
        // One bar and one card per topic, in order, with the label.
        var bars = svgs[1].Descendants(svg + "rect").ToList();
        Assert.Equal(model.Topics.Count, bars.Count);
        var cards = doc.Descendants().Where(e => e.Name.LocalName == "article").ToList();
        Assert.Equal(model.Topics.Select(t => "topic-" + t.Id), cards.Select(c => (string?)c.Attribute("id")));
        for (int i = 0; i < cards.Count; i++)
        {
            Assert.Contains(model.Topics[i].Label, cards[i].Value);
            Assert.Contains("Earlier paper 0", cards[i].Value);
        }
        Assert.Equal("Week <12> & more", doc.Descendants().First(e => e.Name.LocalName == "h1").Value);
        // One inline script (zoom, details), no external resource.
        Assert.DoesNotContain("<script src", html);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", ""));
        Assert.DoesNotContain("https://", html);
    }

    [Fact]
    public void Map_keeps_topics_apart()
    {
        var (digest, _) = Build(outliers: 0);
        // Mean distance between papers of the same topic is well below that between papers of different topics.
        double same = 0, other = 0;
        int ns = 0, no = 0;
        var map = digest.Map;
        for (int i = 0; i < map.Count; i++)
        {
            for (int j = i + 1; j < map.Count; j++)
            {
                double d = Math.Sqrt(Math.Pow(map[i].X - map[j].X, 2) + Math.Pow(map[i].Y - map[j].Y, 2));
                if (map[i].TopicId == map[j].TopicId)
                {
                    same += d;
                    ns++;
                }
                else
                {
                    other += d;
                    no++;
                }
            }
        }
        Assert.True(same / ns < 0.5 * (other / no), $"same {same / ns}, other {other / no}");
        Assert.All(map, p => Assert.InRange(p.X, 0f, 1f));
    }

    [Fact]
    public void Markdown_and_json_list_every_topic_with_its_papers()
    {
        var (digest, model) = Build();
        string md = DigestRenderer.Markdown(digest);
        Assert.StartsWith("# Week \\<12\\> & more", md);
        foreach (var t in model.Topics)
        {
            Assert.Contains("## " + t.Label.Replace("/", "/", StringComparison.Ordinal), md);
            Assert.Contains(digest.Topics.First(x => x.Id == t.Id).TopPapers[0].Summary, md);
        }
        using var json = JsonDocument.Parse(DigestRenderer.Json(digest));
        var topics = json.RootElement.GetProperty("topics");
        Assert.Equal(model.Topics.Count, topics.GetArrayLength());
        for (int i = 0; i < model.Topics.Count; i++)
        {
            Assert.Equal(model.Topics[i].Id, topics[i].GetProperty("id").GetInt32());
            Assert.Equal(model.Topics[i].Size, topics[i].GetProperty("size").GetInt32());
            Assert.Equal(Math.Min(5, model.Topics[i].Size), topics[i].GetProperty("top_papers").GetArrayLength());
        }
        Assert.Equal(model.OutlierIds.Count, json.RootElement.GetProperty("outliers").GetArrayLength());
        Assert.Equal(model.PaperIds.Count, json.RootElement.GetProperty("map").GetArrayLength());
        // Deterministic output.
        Assert.Equal(DigestRenderer.Json(digest), DigestRenderer.Json(Build().Digest));
        Assert.Equal(DigestRenderer.Html(digest), DigestRenderer.Html(Build().Digest));
    }

    [Fact]
    public void Empty_and_single_paper_digests_render()
    {
        var empty = TopicPipeline.Fit([], [], 4);
        var d0 = DigestBuilder.Build(empty, [], []);
        Assert.Contains("0 papers", DigestRenderer.Markdown(d0));
        XDocument.Load(XmlReader.Create(new StringReader(DigestRenderer.Html(d0)), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore }));
        var paper = new Embeddings.Corpus.Paper("x1", "Only one", "A single paper. Nothing else.");
        var one = TopicPipeline.Fit([paper], [1, 0, 0, 0], 4);
        var d1 = DigestBuilder.Build(one, [paper], [1, 0, 0, 0]);
        Assert.Single(d1.Map);
        Assert.Contains("A single paper.", DigestRenderer.Json(d1));
    }
}
