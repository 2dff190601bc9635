using Embeddings.Index;

namespace Embeddings.Tests.Index;

public sealed class ExactIndexTests
{
    private static float[] RandomVectors(int n, int dim, int seed)
    {
        var random = new Random(seed);
        var v = new float[n * dim];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return v;
    }

    /// <summary>The plain double-precision loop the index must agree with.</summary>
    private static List<(int Id, double Score)> Naive(float[] v, int dim, float[] q, int k, bool cosine, Func<int, bool>? allow = null)
    {
        double qn = cosine ? Math.Sqrt(q.Sum(x => (double)x * x)) : 1;
        var all = new List<(int, double)>();
        for (int i = 0; i < v.Length / dim; i++)
        {
            if (allow is not null && !allow(i))
            {
                continue;
            }
            double dot = 0, norm = 0;
            for (int d = 0; d < dim; d++)
            {
                dot += (double)v[i * dim + d] * q[d];
                norm += (double)v[i * dim + d] * v[i * dim + d];
            }
            all.Add((i, cosine ? dot / Math.Sqrt(norm) / qn : dot));
        }
        return [.. all.OrderByDescending(x => x.Item2).ThenBy(x => x.Item1).Take(k)];
    }

    [Theory]
    [InlineData(nameof(SimilarityMetric.InnerProduct), 37, 1000)]
    [InlineData(nameof(SimilarityMetric.Cosine), 512, 3000)]
    [InlineData(nameof(SimilarityMetric.Cosine), 5, 40_000)]
    public void Matches_naive_loop(string metricName, int dim, int n)
    {
        SimilarityMetric metric = Enum.Parse<SimilarityMetric>(metricName);
        float[] v = RandomVectors(n, dim, seed: dim);
        var index = ExactIndex.Create(v, dim, metric);
        float[] queries = RandomVectors(5, dim, seed: 99);
        for (int qi = 0; qi < 5; qi++)
        {
            float[] q = queries.AsSpan(qi * dim, dim).ToArray();
            Neighbor[] hits = index.Search(q, 10);
            var expected = Naive(v, dim, q, 10, metric == SimilarityMetric.Cosine);
            Assert.Equal(10, hits.Length);
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal(expected[i].Score, hits[i].Score, 1e-4);
                // Ties within float rounding may swap; the id must score the same as the expected one.
                Assert.True(hits[i].Id == expected[i].Id || Math.Abs(expected[i].Score - hits[i].Score) < 1e-5);
            }
        }
    }

    [Fact]
    public void Batch_equals_single_queries_and_filters_apply()
    {
        const int dim = 24;
        float[] v = RandomVectors(20_000, dim, seed: 3);
        var index = ExactIndex.Create(v, dim, SimilarityMetric.InnerProduct);
        float[] queries = RandomVectors(19, dim, seed: 4);
        Neighbor[][] batch = index.SearchBatch(queries, 7);
        for (int qi = 0; qi < 19; qi++)
        {
            Assert.Equal(index.Search(queries.AsSpan(qi * dim, dim), 7), batch[qi]);
        }

        float[] q = queries[..dim];
        Neighbor[] even = index.Search(q, 5, IdFilter.FromPredicate(id => id % 2 == 0));
        Assert.Equal(Naive(v, dim, q, 5, false, id => id % 2 == 0).Select(x => x.Id), even.Select(h => h.Id));

        Neighbor[] listed = index.Search(q, 5, IdFilter.FromIds([5, 17, 19_999, 123_456]));
        Assert.Equal(Naive(v, dim, q, 5, false, id => id is 5 or 17 or 19_999).Select(x => x.Id), listed.Select(h => h.Id));
        Assert.Equal(3, listed.Length);
    }

    [Fact]
    public void Handles_k_larger_than_count_and_empty_index()
    {
        var index = ExactIndex.Create(new float[] { 1, 0, 0, 1, 0.6f, 0.8f }, 2, SimilarityMetric.InnerProduct);
        Neighbor[] hits = index.Search([1f, 0f], 10);
        Assert.Equal([0, 2, 1], hits.Select(h => h.Id));
        Assert.Equal([1f, 0.6f, 0f], hits.Select(h => h.Score));
        Assert.Empty(ExactIndex.Create(ReadOnlyMemory<float>.Empty, 4).Search([1f, 0, 0, 0], 3));
        Assert.Throws<ArgumentException>(() => index.Search([1f, 0f, 0f], 1));
    }
}
