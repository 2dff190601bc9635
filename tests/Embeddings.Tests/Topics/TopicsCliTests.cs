using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using Embeddings.Cli;
using Embeddings.Corpus;
using Embeddings.Store;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Topics;

public sealed class TopicsCliTests
{
    private static async Task<(int Code, string Out)> CliRunAsync(params string[] args)
    {
        var (exit, stdout, _) = await CliHarness.RunAsync(args);
        return (exit, stdout);
    }

    private static async Task<string> MakeStoreAsync(TempDir dir)
    {
        string storeDir = dir.File("store");
        using var encoder = new HashingTestEncoder(64, "test-double:hashing-words:64");
        using var store = PaperStore.OpenOrCreate(storeDir, encoder);
        var week1 = Synthetic.Papers(Enumerable.Range(0, 80).Select(i => i % 4).ToArray(), seed: 81, prefix: "w1-");
        var week2 = Synthetic.Papers(Enumerable.Range(0, 60).Select(i => i % 3).ToArray(), seed: 82, prefix: "w2-");
        await store.IngestAsync(Source(week1, "week1.txt"), encoder);
        await store.IngestAsync(Source(week2, "week2.txt"), encoder);
        return storeDir;
    }

    private static async IAsyncEnumerable<SourcedPaper> Source(Paper[] papers, string file)
    {
        await Task.Yield();
        for (int i = 0; i < papers.Length; i++)
        {
            yield return new SourcedPaper(papers[i], file, i + 1);
        }
    }

    [Fact]
    public async Task Topics_json_lists_every_paper_once_and_ids_are_stable_across_runs()
    {
        using var dir = new TempDir();
        string store = await MakeStoreAsync(dir);
        var (code, output) = await CliRunAsync("topics", "--store", store, "--k", "4", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var topics = doc.RootElement.GetProperty("topics");
        Assert.Equal(4, topics.GetArrayLength());
        var ids = topics.EnumerateArray().SelectMany(t => t.GetProperty("papers").EnumerateArray().Select(p => p.GetString()!)).ToList();
        ids.AddRange(doc.RootElement.GetProperty("outliers").EnumerateArray().Select(p => p.GetString()!));
        Assert.Equal(140, ids.Count);
        Assert.Equal(140, ids.Distinct().Count());
        Assert.All(topics.EnumerateArray(), t => Assert.True(t.GetProperty("keywords").GetArrayLength() > 0));
        // Without --save the history is only read: nothing is written.
        Assert.False(Directory.Exists(Path.Combine(store, Embeddings.Topics.TopicHistoryLog.FolderName)));
        Assert.Equal(0, (await CliRunAsync("topics", "--store", store, "--k", "4", "--json", "--save")).Code);
        Assert.Single(Directory.GetFiles(Path.Combine(store, Embeddings.Topics.TopicHistoryLog.FolderName)));

        var (code2, again) = await CliRunAsync("topics", "--store", store, "--k", "4", "--json", "--seed", "7");
        Assert.Equal(0, code2);
        using var doc2 = JsonDocument.Parse(again);
        Assert.Equal(topics.EnumerateArray().Select(t => t.GetProperty("id").GetInt32()).Order(),
            doc2.RootElement.GetProperty("topics").EnumerateArray().Select(t => t.GetProperty("id").GetInt32()).Order());
    }

    [Fact]
    public async Task Label_title_names_each_topic_by_one_of_its_papers_titles_and_keeps_topics_and_keywords()
    {
        using var dir = new TempDir();
        string store = await MakeStoreAsync(dir);
        var papers = Synthetic.Papers(Enumerable.Range(0, 80).Select(i => i % 4).ToArray(), seed: 81, prefix: "w1-")
            .Concat(Synthetic.Papers(Enumerable.Range(0, 60).Select(i => i % 3).ToArray(), seed: 82, prefix: "w2-"))
            .ToDictionary(p => p.Id, p => p.Title);
        var (code, keywordsOut) = await CliRunAsync("topics", "--store", store, "--k", "4", "--json");
        Assert.Equal(0, code);
        var (titleCode, titleOut) = await CliRunAsync("topics", "--store", store, "--k", "4", "--json", "--label", "title");
        Assert.Equal(0, titleCode);
        using var byKeywords = JsonDocument.Parse(keywordsOut);
        using var byTitle = JsonDocument.Parse(titleOut);
        var keywordTopics = byKeywords.RootElement.GetProperty("topics").EnumerateArray().ToList();
        var titleTopics = byTitle.RootElement.GetProperty("topics").EnumerateArray().ToList();
        Assert.Equal(keywordTopics.Count, titleTopics.Count);
        for (int t = 0; t < titleTopics.Count; t++)
        {
            var members = titleTopics[t].GetProperty("papers").EnumerateArray().Select(p => p.GetString()!).ToList();
            // The same topics and keywords; only the label is a title, and a title of the topic's own papers.
            Assert.Equal(keywordTopics[t].GetProperty("papers").EnumerateArray().Select(p => p.GetString()), members);
            Assert.Equal(keywordTopics[t].GetProperty("keywords").ToString(), titleTopics[t].GetProperty("keywords").ToString());
            Assert.Contains(titleTopics[t].GetProperty("label").GetString(), members.Select(id => papers[id]));
        }
        Assert.Equal(2, (await CliRunAsync("topics", "--store", store, "--label", "abstract")).Code);
    }

    [Fact]
    public async Task Digest_of_one_dump_links_to_earlier_papers_in_all_formats()
    {
        using var dir = new TempDir();
        string store = await MakeStoreAsync(dir);
        string html = dir.File("d.html");
        var (code, _) = await CliRunAsync("digest", "--store", store, "--dump", "week2.txt", "--k", "3", "-o", html);
        Assert.Equal(0, code);
        var doc = XDocument.Load(XmlReader.Create(html, new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore }));
        XNamespace svg = "http://www.w3.org/2000/svg";
        Assert.Equal(60, doc.Descendants(svg + "circle").Count(c => ((string?)c.Attribute("class"))?.StartsWith("dot", StringComparison.Ordinal) == true));
        var cards = doc.Descendants().Where(e => e.Name.LocalName == "article").ToList();
        Assert.Equal(3, cards.Count);
        Assert.All(cards, c => Assert.Contains("Similar earlier papers", c.Value));

        string json = dir.File("d.json");
        Assert.Equal(0, (await CliRunAsync("digest", "--store", store, "--dump", "week2.txt", "--k", "3", "-o", json)).Code);
        using var parsed = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(60, parsed.RootElement.GetProperty("papers").GetInt32());
        // Similar earlier papers, of each topic and of each paper, come from week 1; every week-2 paper is listed once.
        var jsonTopics = parsed.RootElement.GetProperty("topics").EnumerateArray().ToList();
        Assert.All(jsonTopics, t => Assert.All(t.GetProperty("similar_earlier").EnumerateArray(), p => Assert.StartsWith("w1-", p.GetProperty("id").GetString())));
        var listed = jsonTopics.SelectMany(t => t.GetProperty("papers").EnumerateArray()).ToList();
        Assert.Equal(60, listed.Select(p => p.GetProperty("id").GetString()).Distinct().Count());
        Assert.All(listed, p => Assert.StartsWith("w2-", p.GetProperty("id").GetString()));
        Assert.All(listed, p => Assert.All(p.GetProperty("similar_earlier").EnumerateArray(), q => Assert.StartsWith("w1-", q.GetProperty("id").GetString())));
        // Writing the digest of the same dump again compares with the same earlier run: the same ids and trends.
        string again = dir.File("again.json");
        Assert.Equal(0, (await CliRunAsync("digest", "--store", store, "--dump", "week2.txt", "--k", "3", "-o", again)).Code);
        Assert.Equal(File.ReadAllText(json), File.ReadAllText(again));

        string md = dir.File("d.md");
        Assert.Equal(0, (await CliRunAsync("digest", "--store", store, "--since", "1970-01-01", "--format", "md", "--k", "4", "-o", md)).Code);
        Assert.Contains("140 papers", File.ReadAllText(md));
    }

    [Fact]
    public async Task Missing_store_is_a_clear_error()
    {
        using var dir = new TempDir();
        var (code, _) = await CliRunAsync("topics", "--store", dir.File("nope"));
        Assert.NotEqual(0, code);
    }
}
