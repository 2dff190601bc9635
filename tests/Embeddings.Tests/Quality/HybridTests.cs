using Embeddings.Encoding;
using Embeddings.Evaluation;
using Embeddings.Lexical;
using Embeddings.Search;

namespace Embeddings.Tests.Quality;

public sealed class HybridTests
{
    private sealed class FixedEncoder(string name, float[][] vectors) : ISentenceEncoder
    {
        public string Fingerprint => name;

        public int Dimension => vectors[0].Length;

        public Task<EmbeddingBatch> EncodeAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
        {
            var flat = texts.SelectMany(t => vectors[int.Parse(t, System.Globalization.CultureInfo.InvariantCulture)]).ToArray();
            return Task.FromResult(new EmbeddingBatch(Dimension, flat, new bool[texts.Count], new bool[texts.Count]));
        }

        public void Dispose()
        {
        }
    }

    private static float Cos(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b);

    [Fact]
    public async Task Concatenation_cosine_is_the_weighted_blend()
    {
        var random = new Random(11);
        float[][] Make(int dim) => Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, dim).Select(_ => (float)(random.NextDouble() - 0.3) * 3).ToArray()).ToArray();
        float[][] first = Make(5), second = Make(3);
        const float a = 0.3f;
        using var hybrid = HybridEncoder.Create(new FixedEncoder("n", first), new FixedEncoder("l", second), a);
        Assert.Equal(8, hybrid.Dimension);
        Assert.Equal("hybrid(a=0.3;n;l)", hybrid.Fingerprint);
        EmbeddingBatch batch = await hybrid.EncodeAsync(["0", "1"]);
        Assert.Equal(1f, MathF.Sqrt(batch[0].ToArray().Sum(v => v * v)), 5);
        float expected = ((a * a * Cos(first[0], first[1])) + ((1 - a) * (1 - a) * Cos(second[0], second[1]))) / ((a * a) + ((1 - a) * (1 - a)));
        Assert.Equal(expected, Cos(batch[0], batch[1]), 5);
    }

    [Fact]
    public void Weighted_min_max_fusion_matches_hand_computation()
    {
        string[] candidates = ["a", "b", "c"];
        float[] bm25 = [10, 4, 6];  // normalised: 1, 0, 1/3
        float[] cosine = [0.2f, 0.8f, 0.5f]; // normalised: 0, 1, 0.5
        ScoredDocument[] fused = ScoreFusion.WeightedMinMax(candidates, [bm25, cosine], [0.7f, 0.3f], 3);
        // a: 0.7; b: 0.3; c: 0.7/3 + 0.15 = 0.38333
        Assert.Equal(["a", "c", "b"], fused.Select(f => f.Id));
        Assert.Equal(0.7f, fused[0].Score, 5);
        Assert.Equal((0.7f / 3) + 0.15f, fused[1].Score, 5);
        Assert.Equal(0.3f, fused[2].Score, 5);
        // All-equal scores carry no information: they add nothing.
        Assert.Equal(["a", "b"], ScoreFusion.WeightedMinMax(["a", "b"], [[1f, 1f], [0.9f, 0.1f]], [0.5f, 0.5f], 2).Select(f => f.Id));
    }

    [Fact]
    public void Fuse_fills_missing_scores_exactly_or_with_the_list_floor()
    {
        ScoredDocument[] lexical = [new("a", 10), new("b", 4)];
        ScoredDocument[] vector = [new("c", 0.8f), new("a", 0.2f)];
        var options = new FusionOptions { VectorWeight = 0.5f };
        // Exact scores for the missing ones: lexical c = 6, vector b = 0.5.
        // Normalised lexical: a 1, b 0, c 1/3; vector: a 0, b 0.5, c 1 -> a 0.5, b 0.25, c 0.6667.
        ScoredDocument[] exact = ScoreFusion.Fuse(lexical, vector, 3, options, id => id == "c" ? 6 : float.NaN, id => id == "b" ? 0.5f : float.NaN);
        Assert.Equal(["c", "a", "b"], exact.Select(d => d.Id));
        Assert.Equal(0.5f * ((1f / 3) + 1), exact[0].Score, 5);
        Assert.Equal(0.25f, exact[2].Score, 5);
        // Without scorers: c gets lexical floor 4 (-> 0), b gets vector floor 0.2 (-> 0): a 0.5, c 0.5, b 0.
        ScoredDocument[] floor = ScoreFusion.Fuse(lexical, vector, 3, options);
        Assert.Equal(["a", "c", "b"], floor.Select(d => d.Id));
        Assert.Equal(0f, floor[2].Score, 5);
    }

    [Fact]
    public void Reciprocal_rank_fusion_sums_one_over_k_plus_rank()
    {
        ScoredDocument[] lexical = [new("a", 9), new("b", 5), new("c", 1)];
        ScoredDocument[] vector = [new("c", 0.9f), new("a", 0.8f)];
        ScoredDocument[] fused = ScoreFusion.ReciprocalRank([lexical, vector], [1f, 1f], 10, rrfK: 60);
        Assert.Equal(["a", "c", "b"], fused.Select(f => f.Id));
        Assert.Equal((1f / 61) + (1f / 62), fused[0].Score, 6);
        Assert.Equal((1f / 63) + (1f / 61), fused[1].Score, 6);
        Assert.Equal(1f / 62, fused[2].Score, 6);
    }

    [Fact]
    public void Eval_kmeans_recovers_separated_clusters()
    {
        var random = new Random(5);
        const int perCluster = 40, dim = 4;
        var vectors = new float[3 * perCluster * dim];
        var gold = new int[3 * perCluster];
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < perCluster; i++)
            {
                int row = (c * perCluster) + i;
                gold[row] = c;
                for (int j = 0; j < dim; j++)
                {
                    vectors[(row * dim) + j] = (j == c ? 10f : 0f) + (float)random.NextDouble();
                }
            }
        }
        int[] labels = new TopicsKMeans().Cluster(vectors, gold.Length, dim, 3, seed: 1, CancellationToken.None);
        Assert.Equal(1.0, ClusteringMetrics.VMeasure(gold, labels).VMeasure, 9);
        Assert.Equal(1.0, ClusteringMetrics.AdjustedRandIndex(gold, labels), 9);
    }
}
