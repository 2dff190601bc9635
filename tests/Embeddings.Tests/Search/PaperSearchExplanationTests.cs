using System.Numerics.Tensors;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Numerics;
using Embeddings.Search;
using Embeddings.Store;
using Embeddings.Tests.Encoding;

namespace Embeddings.Tests.Search;

/// <summary>
/// Explanations per mode (issue 13 item 6): shared words where words decided the ranking (lexical, hybrid), the hit's
/// sentence closest to the query where vectors did (vector mode, like/unlike), checked against the model run on each
/// sentence alone.
/// </summary>
public sealed class PaperSearchExplanationTests(SearchFixture fixture) : IClassFixture<SearchFixture>
{
    private const string Query = "reinforcement learning to improve the reasoning of large language models";

    [Fact]
    public async Task Lexical_and_hybrid_hits_are_explained_by_shared_words_only()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        foreach (RankingMode mode in new[] { RankingMode.Lexical, RankingMode.Hybrid })
        {
            foreach (SimilarQuery query in new[] { new SimilarQuery { Text = Query, K = 5, Mode = mode }, new SimilarQuery { PaperId = store.IdOfRow(0), K = 5, Mode = mode } })
            {
                SimilarResult hits = await search.SearchAsync(query);
                Assert.Equal(5, hits.Count);
                Assert.All(hits, h => Assert.Null(h.ClosestSentence));
                Assert.NotEmpty(hits[0].Why);
                // Each word shown is a word of the hit (its surface form, not a stem).
                Assert.All(hits, h => Assert.All(h.Why, w =>
                    Assert.Contains(w, store.GetPaper(h.Id)!.Paper.EmbeddingText, StringComparison.OrdinalIgnoreCase)));
            }
        }
    }

    [Fact]
    public async Task Vector_hits_are_explained_by_their_sentence_closest_to_the_query()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        ISentenceEncoder model = EncoderFixtures.UseLite;
        SimilarResult hits = await search.SearchAsync(new SimilarQuery { Text = Query, K = 5, Mode = RankingMode.Vector });
        Assert.Equal(5, hits.Count);
        float[] query = Normalised((await model.EncodeAsync([model.QueryText(Query)]))[0]);
        foreach (SimilarHit hit in hits)
        {
            Assert.Empty(hit.Why);
            await AssertClosestSentenceAsync(store.GetPaper(hit.Id)!.Paper, hit, query, model);
        }

        // Without explanations (bulk ranking) the same hits come back unexplained.
        SimilarResult plain = await search.SearchAsync(new SimilarQuery { Text = Query, K = 5, Mode = RankingMode.Vector, Explain = false });
        Assert.Equal(hits.Select(h => (h.Id, h.Score)), plain.Select(h => (h.Id, h.Score)));
        Assert.All(plain, h => Assert.True(h.ClosestSentence is null && h.Why.Count == 0));
    }

    [Fact]
    public async Task Like_and_unlike_hits_are_explained_by_their_sentence_closest_to_the_query_vector()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        string[] liked = [store.IdOfRow(0), store.IdOfRow(1)];
        string unliked = store.IdOfRow(2);
        SimilarResult hits = await search.SearchAsync(new SimilarQuery { Like = liked, Unlike = [unliked], K = 5, LikeRanking = LikeRanking.Rocchio });
        Assert.Equal(5, hits.Count);
        // The centre the ranking used: the liked papers' vectors moved away from the unliked one (Rocchio).
        var centre = new QueryVector(store.Dimension);
        foreach (string id in liked)
        {
            centre.AddLike(store.GetVector(id)!);
        }
        centre.AddUnlike(store.GetVector(unliked)!);
        float[] query = Normalised(centre.Build());
        foreach (SimilarHit hit in hits)
        {
            Assert.Empty(hit.Why);
            await AssertClosestSentenceAsync(store.GetPaper(hit.Id)!.Paper, hit, query, EncoderFixtures.UseLite);
        }
    }

    /// <summary>The hit's sentence is one of its own, and no other of its sentences is closer to the query (each embedded alone).</summary>
    private static async Task AssertClosestSentenceAsync(Paper paper, SimilarHit hit, float[] query, ISentenceEncoder model)
    {
        List<string> sentences = [.. PaperSearch.Sentences(paper)];
        Assert.True(sentences.Count >= 2, $"{paper.Id}: a title and at least one sentence");
        Assert.NotNull(hit.ClosestSentence);
        Assert.Contains(hit.ClosestSentence, sentences);
        Assert.Contains(hit.ClosestSentence, paper.EmbeddingText, StringComparison.Ordinal);
        var cosines = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (string sentence in sentences)
        {
            EmbeddingBatch alone = await model.EncodeAsync([sentence]);
            cosines[sentence] = TensorPrimitives.CosineSimilarity(query, alone[0]);
        }
        // Embedded alone or in one batch, a sentence's vector differs only by rounding.
        Assert.True(cosines[hit.ClosestSentence] >= cosines.Values.Max() - 1e-4f,
            $"{paper.Id}: chose '{hit.ClosestSentence}' ({cosines[hit.ClosestSentence]:F5}), best {cosines.Values.Max():F5}");
    }

    private static float[] Normalised(ReadOnlySpan<float> v)
    {
        float[] copy = v.ToArray();
        VectorMath.Normalize(copy);
        return copy;
    }
}
