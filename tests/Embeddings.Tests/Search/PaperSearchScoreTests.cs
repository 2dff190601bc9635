using System.Numerics.Tensors;
using System.Text.Json;
using Embeddings.Lexical;
using Embeddings.Quality;
using Embeddings.Search;
using Embeddings.Store;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Search;

/// <summary>
/// Scores with one meaning across queries (fixed-scale fusion, checked against an exact oracle), the query paper named
/// and its copies counted, and the similar-papers table; on the fixture's store of every shared dump.
/// </summary>
public sealed partial class PaperSearchTests
{
    /// <summary>Queries written for this test about subjects the dumps cover (none is a title in them).</summary>
    private static readonly string[] OnTopic =
    [
        "prompt-based continual learning that avoids catastrophic forgetting without rehearsal",
        "reward model overoptimization when aligning language models with human feedback",
        "pruning the weights of large language models using gradients",
        "quantization of neural networks for efficient inference",
        "training-free acceleration of sampling in diffusion models",
        "knowledge distillation from a teacher network to a student network",
    ];

    /// <summary>Control queries about subjects no paper of the dumps is about (no dump mentions proteins, steel, poetry, cattle or bonds).</summary>
    private static readonly string[] OffTopic =
    [
        "protein structure prediction from amino acid sequences",
        "corrosion of stainless steel welds in seawater",
        "medieval troubadour poetry and its manuscripts",
        "milk yield of dairy cattle under different feeding regimes",
        "municipal bond markets and local tax policy",
    ];

    [Fact]
    public async Task Off_topic_queries_score_below_on_topic_ones_and_min_score_separates_them()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        // The fixed-scale fusion at the weight measured best for the fixture's model, USE-lite (QUALITY.md).
        var fixedScale = new SimilarQuery { Fusion = FusionMethod.FixedScale, VectorWeight = 0.35f };
        async Task<float> Best(string text) => (await search.SearchAsync(fixedScale with { Text = text, K = 1 }))[0].Score;

        float[] onTopic = [.. await Task.WhenAll(OnTopic.Select(Best))];
        float[] offTopic = [.. await Task.WhenAll(OffTopic.Select(Best))];
        float lowestOn = onTopic.Min(), highestOff = offTopic.Max();
        Assert.True(highestOff < lowestOn,
            $"best hit scores: on-topic {string.Join(", ", onTopic.Select(s => s.ToString("F3")))}; off-topic {string.Join(", ", offTopic.Select(s => s.ToString("F3")))}");

        // One threshold between them keeps every on-topic query's best hit and drops every off-topic query's hits.
        float threshold = (lowestOn + highestOff) / 2;
        foreach (string text in OnTopic)
        {
            Assert.NotEmpty(await search.SearchAsync(fixedScale with { Text = text, MinScore = threshold }));
        }
        foreach (string text in OffTopic)
        {
            Assert.Empty(await search.SearchAsync(fixedScale with { Text = text, MinScore = threshold }));
        }
    }

    [Fact]
    public async Task Hybrid_scores_are_the_fixed_scale_fusion_of_bm25_over_its_maximum_and_the_cosine_against_an_exact_oracle()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        Bm25Index bm25 = search.Indexes.Bm25;
        const float w = QualityDefaults.FusionVectorWeight;
        foreach (string text in OnTopic.Take(3).Concat(OffTopic.Take(1)))
        {
            float[] q = (await EncoderFixtures.UseLite.EncodeAsync([text]))[0].ToArray();
            float max = bm25.MaxAttainableScore(text);
            // The oracle: every stored paper scored from its BM25 score and its stored vector.
            var oracle = new List<(string Id, float Score)>();
            await foreach (StoredPaper p in store.ReadPapersAsync())
            {
                float lexical = bm25.Score(text, p.Paper.Id) / max;
                float cosine = TensorPrimitives.Dot(q, store.GetVector(p.Paper.Id)!);
                oracle.Add((p.Paper.Id, ((1 - w) * Math.Clamp(lexical, 0, 1)) + (w * Math.Clamp(cosine, 0, 1))));
            }
            string[] expected = [.. oracle.OrderByDescending(o => o.Score).ThenBy(o => o.Id, StringComparer.Ordinal).Take(10).Select(o => o.Id)];

            SimilarResult hits = await search.SearchAsync(new SimilarQuery { Text = text, K = 10, Exact = true, Fusion = FusionMethod.FixedScale });
            Assert.Equal(expected, hits.Select(h => h.Id));
            foreach (SimilarHit hit in hits)
            {
                float lexical = bm25.Score(text, hit.Id) / max;
                float cosine = TensorPrimitives.Dot(q, store.GetVector(hit.Id)!);
                Assert.Equal(lexical, hit.Lexical!.Value, 5);
                Assert.Equal(cosine, hit.Vector!.Value, 5);
                Assert.Equal(((1 - w) * lexical) + (w * Math.Max(0, cosine)), hit.Score, 5);
                Assert.InRange(hit.Score, 0f, 1f);
                Assert.InRange(hit.Lexical.Value, 0f, 1f);
            }
        }
    }

    [Fact]
    public async Task Lexical_mode_scores_are_bm25_over_the_querys_maximum_attainable_score()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        const string text = "reinforcement learning for reasoning in large language models";
        SimilarResult hits = await search.SearchAsync(new SimilarQuery { Text = text, Mode = RankingMode.Lexical, K = 5 });
        Assert.NotEmpty(hits);
        float max = search.Indexes.Bm25.MaxAttainableScore(text);
        foreach (SimilarHit hit in hits)
        {
            Assert.Equal(search.Indexes.Bm25.Score(text, hit.Id) / max, hit.Score, 5);
            Assert.Equal(hit.Score, hit.Lexical!.Value, 5);
            Assert.Null(hit.Vector);
        }
        Assert.Contains("reinforc", string.Join(" ", hits[0].Why), StringComparison.Ordinal);
        SimilarResult vector = await search.SearchAsync(new SimilarQuery { Text = text, Mode = RankingMode.Vector, K = 5 });
        Assert.All(vector, h => Assert.Equal((h.Score, (float?)null), (h.Vector!.Value, h.Lexical)));
    }

    [Fact]
    public async Task The_query_paper_is_named_and_its_hidden_copies_are_counted()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        StoredPaper paper = store.GetPaper(store.IdOfRow(5))!;
        var named = new QueryPaper(paper.Paper.Id, paper.Paper.Title);

        SimilarResult byId = await search.SearchAsync(new SimilarQuery { PaperId = paper.Paper.Id });
        Assert.Equal(named, byId.QueryPaper);

        foreach (RankingMode mode in Enum.GetValues<RankingMode>())
        {
            // A pasted abstract (with or without its title) is the stored paper: named, and hidden as a copy of the query.
            foreach (string pasted in new[] { paper.Paper.EmbeddingText, paper.Paper.Abstract })
            {
                SimilarResult hidden = await search.SearchAsync(new SimilarQuery { Text = pasted, Mode = mode });
                Assert.Equal(named, hidden.QueryPaper);
                Assert.DoesNotContain(hidden, h => h.Id == paper.Paper.Id);
                Assert.True(hidden.HiddenDuplicates >= 1, mode.ToString());
                SimilarResult shown = await search.SearchAsync(new SimilarQuery { Text = pasted, Mode = mode, ExcludeDuplicates = false });
                Assert.Equal((named, 0, paper.Paper.Id), (shown.QueryPaper, shown.HiddenDuplicates, shown[0].Id));
            }
        }
        SimilarResult free = await search.SearchAsync(new SimilarQuery { Text = OnTopic[0] });
        Assert.Equal((null, 0), (free.QueryPaper, free.HiddenDuplicates));
    }

    [Fact]
    public async Task Cli_similar_names_the_query_paper_in_json_in_the_table_and_on_stderr_when_piped()
    {
        StoredPaper paper;
        using (PaperStore store = PaperStore.Open(fixture.StoreDir))
        {
            paper = store.GetPaper(store.IdOfRow(5))!;
        }
        using var dir = new TempDir();
        string pasted = dir.File("abstract.txt");
        File.WriteAllText(pasted, paper.Paper.Abstract);

        var (exit, stdout, stderr) = await CliHarness.RunAsync("similar", "--store", fixture.StoreDir, "--file", pasted, "-k", "3", "--json", "--quiet");
        Assert.True(exit == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            JsonElement root = doc.RootElement;
            Assert.Equal((paper.Paper.Id, paper.Paper.Title),
                (root.GetProperty("queryPaper").GetProperty("id").GetString(), root.GetProperty("queryPaper").GetProperty("title").GetString()));
            Assert.True(root.GetProperty("hiddenDuplicates").GetInt32() >= 1);
            foreach (JsonElement hit in root.GetProperty("hits").EnumerateArray())
            {
                Assert.NotEqual(paper.Paper.Id, hit.GetProperty("id").GetString());
                Assert.InRange(hit.GetProperty("lexical").GetDouble(), 0, 1);
                Assert.InRange(hit.GetProperty("vector").GetDouble(), -1, 1);
            }
        }
        (exit, stdout, stderr) = await CliHarness.RunAsync("similar", "--store", fixture.StoreDir, "--file", pasted, "-k", "3", "--include-duplicates", "--json", "--quiet");
        Assert.True(exit == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.Equal(paper.Paper.Id, doc.RootElement.GetProperty("hits")[0].GetProperty("id").GetString());
            Assert.False(doc.RootElement.TryGetProperty("hiddenDuplicates", out _));
        }

        // Vector mode: each hit explained by its sentence closest to the query paper, not by shared words.
        (exit, stdout, stderr) = await CliHarness.RunAsync("similar", "--store", fixture.StoreDir, "--id", paper.Paper.Id, "--mode", "vector", "-k", "3", "--json", "--quiet");
        Assert.True(exit == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        using (PaperStore store = PaperStore.Open(fixture.StoreDir))
        {
            JsonElement hits = doc.RootElement.GetProperty("hits");
            Assert.Equal(3, hits.GetArrayLength());
            foreach (JsonElement hit in hits.EnumerateArray())
            {
                Assert.Equal(0, hit.GetProperty("why").GetArrayLength());
                string sentence = hit.GetProperty("closestSentence").GetString()!;
                Assert.Contains(sentence, PaperSearch.Sentences(store.GetPaper(hit.GetProperty("id").GetString()!)!.Paper));
            }
        }

        // A terminal 80 columns wide: the query on a header line, labelled columns, whole titles wrapped between words.
        (exit, stdout, stderr) = await CliHarness.RunAsync(terminalWidth: 80, "similar", "--store", fixture.StoreDir, "--id", paper.Paper.Id, "-k", "5", "--quiet");
        Assert.True(exit == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith($"query: {paper.Paper.Id}", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^\s*#\s+score\s+id\s+title\s+why$", lines.First(l => l.TrimStart().StartsWith('#')));
        Assert.All(lines, l => Assert.True(l.Length <= 80, l));
        string table = string.Join(" ", lines.Select(l => l.Trim()));
        using (PaperStore store = PaperStore.Open(fixture.StoreDir))
        using (PaperSearch search = await fixture.OpenAsync(store))
        {
            foreach (SimilarHit hit in await search.SearchAsync(new SimilarQuery { PaperId = paper.Paper.Id, K = 5 }))
            {
                Assert.Contains(hit.Id, table, StringComparison.Ordinal);
                foreach (string word in hit.Title.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    Assert.Contains(word, table, StringComparison.Ordinal); // no word cut or dropped
                }
            }
        }

        // Piped: one tab-separated line per hit (rank, score, id, title, why), the query named on stderr.
        (exit, stdout, stderr) = await CliHarness.RunAsync("similar", "--store", fixture.StoreDir, "--id", paper.Paper.Id, "-k", "5", "--quiet");
        Assert.True(exit == 0, stderr);
        lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.All(lines, l => Assert.Equal(5, l.Split('\t').Length));
        Assert.Equal("1", lines[0].Split('\t')[0]);
        Assert.Contains($"query: {paper.Paper.Id}  {paper.Paper.Title}", stderr, StringComparison.Ordinal);
    }
}
