using System.Numerics.Tensors;
using Embeddings.Numerics;
using Embeddings.Search;
using Embeddings.Store;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Search;

/// <summary>The like/unlike classifier (<see cref="LikeClassifier"/>) and its use by the search and the CLI.</summary>
public sealed class LikeClassifierTests(SearchFixture fixture) : IClassFixture<SearchFixture>
{
    private const int Dimension = 16;

    /// <summary>
    /// Unit vectors around a topic axis: the liked topic (axis 0), the unliked topic (axis 1) and a background spread
    /// over the other axes, with a shared component on axis 2 that the liked papers have most of. The centroid of the
    /// liked papers leans on axis 2 and so ranks some background papers above liked-topic ones; a linear separator
    /// of liked from the rest must not.
    /// </summary>
    private static (List<float[]> Liked, List<float[]> Unliked, List<float[]> Background, List<float[]> Relevant) SyntheticSet()
    {
        var random = new Random(7);
        float[] Point(int axis, float shared)
        {
            var v = new float[Dimension];
            for (int i = 0; i < Dimension; i++)
            {
                v[i] = (float)(random.NextDouble() - 0.5) * 0.3f;
            }
            v[axis] += 1;
            v[2] += shared;
            VectorMath.Normalize(v);
            return v;
        }
        List<float[]> liked = [.. Enumerable.Range(0, 5).Select(_ => Point(0, 1.2f))];
        List<float[]> relevant = [.. Enumerable.Range(0, 40).Select(_ => Point(0, 0.2f))];
        List<float[]> unliked = [.. Enumerable.Range(0, 5).Select(_ => Point(1, 0))];
        List<float[]> background = [.. Enumerable.Range(0, 200).Select(i => Point(3 + (i % (Dimension - 3)), i % 2 == 0 ? 1.2f : 0))];
        background.AddRange(relevant);
        return (liked, unliked, background, relevant);
    }

    [Fact]
    public void The_classifier_ranks_a_separable_set_with_the_liked_topic_first_and_deterministically()
    {
        (List<float[]> liked, List<float[]> unliked, List<float[]> background, List<float[]> relevant) = SyntheticSet();
        float[] w = LikeClassifier.Train(liked, unliked, background, Dimension);
        Assert.Equal(1f, TensorPrimitives.Norm(w), 3);
        Assert.Equal(w, LikeClassifier.Train(liked, unliked, background, Dimension));

        // Every paper of the liked topic scores above every paper of another topic (the set is separable).
        var others = background.Except(relevant).Concat(unliked).ToList();
        float lowestRelevant = relevant.Min(v => TensorPrimitives.Dot(w, v));
        float highestOther = others.Max(v => TensorPrimitives.Dot(w, v));
        Assert.True(lowestRelevant > highestOther, $"lowest relevant {lowestRelevant}, highest other {highestOther}");

        // The centroid does not separate them: the liked papers' shared component pulls background papers up.
        var centre = new QueryVector(Dimension);
        liked.ForEach(v => centre.AddLike(v));
        unliked.ForEach(v => centre.AddUnlike(v));
        float[] c = centre.Build();
        Assert.True(relevant.Min(v => TensorPrimitives.Dot(c, v)) < others.Max(v => TensorPrimitives.Dot(c, v)));
    }

    [Fact]
    public void The_background_is_an_even_deterministic_stride_over_live_rows_without_the_excluded()
    {
        bool[] live = [.. Enumerable.Range(0, 10_000).Select(i => i % 10 != 0)];
        int liveCount = live.Count(x => x);
        List<int> rows = LikeClassifier.BackgroundRows(live, liveCount, row => row == 1);
        Assert.True(rows.Count is > LikeClassifier.MaxBackground / 2 and <= LikeClassifier.MaxBackground, rows.Count.ToString());
        Assert.All(rows, r => Assert.True(live[r] && r != 1));
        Assert.Equal(rows, LikeClassifier.BackgroundRows(live, liveCount, row => row == 1));
        Assert.True(rows[^1] > 9_000, "the stride covers the whole store");
        // A small store trains on all of it.
        Assert.Equal([0, 2, 3], LikeClassifier.BackgroundRows([true, true, true, true, false], 4, row => row == 1));
    }

    [Fact]
    public async Task Search_ranks_likes_by_the_classifier_by_default_and_by_the_centroid_when_asked()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        using PaperSearch search = await fixture.OpenAsync(store);
        string[] liked = [store.IdOfRow(0), store.IdOfRow(1), store.IdOfRow(2)];
        string unliked = store.IdOfRow(3);
        // Copies of the examples stay in (ExcludeDuplicates off), so the rows left out are exactly the four examples.
        var query = new SimilarQuery { Like = liked, Unlike = [unliked], K = 10, Mode = RankingMode.Vector, Exact = true, Explain = false, ExcludeDuplicates = false };
        SimilarResult classifier = await search.SearchAsync(query);
        SimilarResult rocchio = await search.SearchAsync(query with { LikeRanking = LikeRanking.Rocchio });
        Assert.Equal(LikeRanking.Classifier, new SimilarQuery().LikeRanking);

        // Each is the exact ranking by its own query vector: the classifier's weights over the same background, or the centroid.
        var excluded = new HashSet<int>([0, 1, 2, 3]);
        bool[] live = search.Indexes.LiveRows;
        float[] Row(int row)
        {
            var v = new float[store.Dimension];
            store.ReadRow(row, v);
            return v;
        }
        List<float[]> Vectors(IEnumerable<int> rows) => [.. rows.Select(Row)];
        float[] w = LikeClassifier.Train(Vectors([0, 1, 2]), Vectors([3]),
            Vectors(LikeClassifier.BackgroundRows(live, search.Indexes.LiveCount, excluded.Contains)), store.Dimension);
        var centre = new QueryVector(store.Dimension);
        Vectors([0, 1, 2]).ForEach(v => centre.AddLike(v));
        centre.AddUnlike(Row(3));
        Assert.Equal(ExactTop(live, Row, store, w, excluded, 10), classifier.Select(h => h.Id));
        Assert.Equal(ExactTop(live, Row, store, centre.Build(), excluded, 10), rocchio.Select(h => h.Id));
        Assert.NotEqual(classifier.Select(h => h.Id), rocchio.Select(h => h.Id));
    }

    [Fact]
    public async Task The_cli_takes_like_ranking_and_refuses_a_wrong_id_or_ranking_in_one_line()
    {
        using PaperStore store = PaperStore.Open(fixture.StoreDir);
        string a = store.IdOfRow(0), b = store.IdOfRow(1), c = store.IdOfRow(2);
        store.Dispose();
        foreach (string ranking in new[] { "classifier", "rocchio" })
        {
            var (exit, stdout, stderr) = await CliHarness.RunAsync("similar", "--store", fixture.StoreDir, "--like", a, b, "--unlike", c,
                "--like-ranking", ranking, "--mode", "vector", "--exact", "-k", "3", "--json", "--quiet");
            Assert.True(exit == 0, stderr);
            using var json = System.Text.Json.JsonDocument.Parse(stdout);
            Assert.Equal(3, json.RootElement.GetProperty("hits").GetArrayLength());
        }
        var (code, _, err) = await CliHarness.RunAsync("similar", "--store", fixture.StoreDir, "--like", a, "--unlike", "no-such-paper", "--quiet");
        Assert.Equal(2, code);
        Assert.Contains("no-such-paper", err, StringComparison.Ordinal);
        Assert.Single(err.Trim().Split('\n'));
        (code, _, err) = await CliHarness.RunAsync("similar", "--store", fixture.StoreDir, "--like", a, "--like-ranking", "svm", "--quiet");
        Assert.NotEqual(0, code);
        Assert.Contains("svm", err, StringComparison.Ordinal);
    }

    /// <summary>The oracle: the ids of the live, not excluded rows with the highest dot product with <paramref name="query"/>.</summary>
    private static List<string> ExactTop(bool[] live, Func<int, float[]> row, PaperStore store, float[] query, HashSet<int> excluded, int k)
    {
        var scored = new List<(int Row, float Score)>();
        for (int r = 0; r < live.Length; r++)
        {
            if (live[r] && !excluded.Contains(r))
            {
                scored.Add((r, TensorPrimitives.Dot(query, row(r))));
            }
        }
        return [.. scored.OrderByDescending(s => s.Score).ThenBy(s => s.Row).Take(k).Select(s => store.IdOfRow(s.Row))];
    }
}
