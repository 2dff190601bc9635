using Embeddings.Index;
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

    /// <summary>
    /// The graph from each row's search over the set itself (<paramref name="results"/>[i]: row i's k + 1 best
    /// hits by inner product on unit vectors, best first): the row itself is dropped, scores become cosine
    /// distances (1 - dot, never below 0), equal distances are ordered by the lower row, missing slots are -1.
    /// </summary>
    internal static KnnGraph FromSearchResults(Neighbor[][] results, int k)
    {
        int n = results.Length;
        var neighbors = new int[n * k];
        var distances = new float[n * k];
        for (int i = 0; i < n; i++)
        {
            Span<int> rowNeighbors = neighbors.AsSpan(i * k, k);
            Span<float> rowDistances = distances.AsSpan(i * k, k);
            int filled = 0;
            foreach (Neighbor hit in results[i])
            {
                if (hit.Id == i || filled == k)
                {
                    continue;
                }
                float d = Math.Max(0f, 1f - hit.Score);
                int pos = filled++;
                while (pos > 0 && (rowDistances[pos - 1] > d || (rowDistances[pos - 1] == d && rowNeighbors[pos - 1] > hit.Id)))
                {
                    rowDistances[pos] = rowDistances[pos - 1];
                    rowNeighbors[pos] = rowNeighbors[pos - 1];
                    pos--;
                }
                rowDistances[pos] = d;
                rowNeighbors[pos] = hit.Id;
            }
            rowNeighbors[filled..].Fill(-1);
            rowDistances[filled..].Fill(float.PositiveInfinity);
        }
        return new KnnGraph(n, k, neighbors, distances);
    }
}

/// <summary>Builds k-nearest-neighbour graphs; the pipeline picks exact search for small sets and an approximate index for large.</summary>
internal interface IKnnGraphBuilder
{
    /// <summary>The <paramref name="k"/> nearest neighbours of every row of <paramref name="vectors"/> (unit vectors).</summary>
    KnnGraph Build(VectorSet vectors, int k, CancellationToken cancellationToken = default);
}

/// <summary>
/// Exact k-NN of every row: the batch search of <see cref="ExactIndex"/> (inner product on the unit rows), so the
/// graph and the search oracle are one brute-force implementation: the oracle and the small-set path.
/// </summary>
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
        if (k == 0)
        {
            return KnnGraph.FromArrays(n, 0, [], []);
        }
        var data = vectors.RawData.AsMemory(0, n * vectors.Dimension);
        var index = ExactIndex.Create(data, vectors.Dimension, SimilarityMetric.InnerProduct);
        return KnnGraph.FromSearchResults(index.SearchBatch(data, k + 1, cancellationToken: cancellationToken), k);
    }
}
