using System.Numerics.Tensors;
using Embeddings.Numerics;

namespace Embeddings.Topics;

/// <summary>
/// The k nearest neighbours of every vector (itself excluded), by cosine distance (1 - dot on unit
/// vectors), nearest first; ties broken by the lower row index so the graph is deterministic.
/// </summary>
internal sealed class KnnGraph
{
    internal KnnGraph(int count, int k, int[] neighbors, float[] distances)
    {
        Count = count;
        K = k;
        Neighbors = neighbors;
        Distances = distances;
    }

    /// <summary>Number of vectors.</summary>
    public int Count { get; }

    /// <summary>Neighbours per vector (at most Count - 1).</summary>
    public int K { get; }

    /// <summary>Row-major Count x K neighbour rows; -1 where a row has fewer than K neighbours.</summary>
    internal int[] Neighbors { get; }

    /// <summary>Row-major Count x K cosine distances matching <see cref="Neighbors"/>.</summary>
    internal float[] Distances { get; }

    /// <summary>Neighbour rows of vector <paramref name="i"/>, nearest first.</summary>
    public ReadOnlySpan<int> NeighborsOf(int i) => Neighbors.AsSpan(i * K, K);

    /// <summary>Cosine distances to the neighbours of vector <paramref name="i"/>.</summary>
    public ReadOnlySpan<float> DistancesOf(int i) => Distances.AsSpan(i * K, K);

    /// <summary>Builds a graph from already computed neighbour lists (row-major, nearest first).</summary>
    public static KnnGraph FromArrays(int count, int k, int[] neighbors, float[] distances)
    {
        ArgumentNullException.ThrowIfNull(neighbors);
        ArgumentNullException.ThrowIfNull(distances);
        if (neighbors.Length != (long)count * k || distances.Length != neighbors.Length)
        {
            throw new ArgumentException("neighbors and distances must hold count x k entries");
        }
        return new KnnGraph(count, k, neighbors, distances);
    }
}

/// <summary>Builds k-nearest-neighbour graphs; the pipeline picks exact search for small sets and an approximate index for large.</summary>
internal interface IKnnGraphBuilder
{
    /// <summary>The <paramref name="k"/> nearest neighbours of every row of <paramref name="vectors"/> (unit vectors).</summary>
    KnnGraph Build(VectorSet vectors, int k, CancellationToken cancellationToken = default);
}

/// <summary>Exact k-NN by comparing every pair (O(n^2 d)), in parallel over fixed row blocks: the oracle and the small-set path.</summary>
internal sealed class ExactKnnGraphBuilder : IKnnGraphBuilder
{
    /// <summary>The shared instance.</summary>
    public static ExactKnnGraphBuilder Instance { get; } = new();

    /// <inheritdoc/>
    public KnnGraph Build(VectorSet vectors, int k, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        int n = vectors.Count;
        k = Math.Max(0, Math.Min(k, n - 1));
        var neighbors = new int[n * k];
        var distances = new float[n * k];
        if (k == 0)
        {
            return new KnnGraph(n, 0, neighbors, distances);
        }
        int chunks = Parallelism.ChunkCount(n, 64);
        Parallelism.ForChunks(n, chunks, cancellationToken, (_, start, end) =>
        {
            var dots = new float[n];
            var data = vectors.Data;
            int dim = vectors.Dimension;
            for (int i = start; i < end; i++)
            {
                if ((i & 63) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
                var row = vectors[i];
                for (int j = 0; j < n; j++)
                {
                    dots[j] = TensorPrimitives.Dot(row, data.Slice(j * dim, dim));
                }
                SelectNearest(dots, i, k, neighbors.AsSpan(i * k, k), distances.AsSpan(i * k, k));
            }
        });
        return new KnnGraph(n, k, neighbors, distances);
    }

    /// <summary>Keeps the k largest dot products (excluding <paramref name="self"/>) as ascending distances.</summary>
    internal static void SelectNearest(ReadOnlySpan<float> dots, int self, int k, Span<int> outIdx, Span<float> outDist)
    {
        int filled = 0;
        for (int j = 0; j < dots.Length; j++)
        {
            if (j == self)
            {
                continue;
            }
            float d = 1f - dots[j];
            if (filled == k && d >= outDist[k - 1])
            {
                continue; // equal distance: the earlier (lower) index already kept wins
            }
            int pos = filled == k ? k - 1 : filled++;
            while (pos > 0 && outDist[pos - 1] > d)
            {
                outDist[pos] = outDist[pos - 1];
                outIdx[pos] = outIdx[pos - 1];
                pos--;
            }
            outDist[pos] = d;
            outIdx[pos] = j;
        }
        for (int p = filled; p < k; p++)
        {
            outIdx[p] = -1;
            outDist[p] = float.PositiveInfinity;
        }
    }
}
