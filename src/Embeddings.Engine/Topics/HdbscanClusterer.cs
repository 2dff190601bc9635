using System.Numerics.Tensors;
using Embeddings.Numerics;

namespace Embeddings.Topics;

/// <summary>How HDBSCAN picks flat clusters from the condensed tree.</summary>
internal enum ClusterSelection
{
    /// <summary>Excess of mass: the most persistent clusters (fewer, larger).</summary>
    ExcessOfMass,

    /// <summary>The leaves of the condensed tree (more, smaller, more homogeneous).</summary>
    Leaf,
}

/// <summary>Options of <see cref="HdbscanClusterer"/>.</summary>
internal sealed record HdbscanOptions
{
    /// <summary>Smallest group reported as a cluster.</summary>
    public int MinClusterSize { get; init; } = 10;

    /// <summary>
    /// Neighbourhood size for the core distance, counting the point itself (scikit-learn's convention);
    /// null = <see cref="MinClusterSize"/>. Lower values leave fewer outliers.
    /// </summary>
    public int? MinSamples { get; init; } = 5;

    /// <summary>Excess of mass or leaf selection.</summary>
    public ClusterSelection Selection { get; init; } = ClusterSelection.ExcessOfMass;

    /// <summary>Whether the whole data set may come out as one cluster.</summary>
    public bool AllowSingleCluster { get; init; }

    /// <summary>Neighbours per point in the k-NN graph the spanning tree is built on (at least MinSamples - 1).</summary>
    public int GraphNeighbors { get; init; } = 15;

    /// <summary>Where the k-NN graph comes from; null = exact search up to 15,000 vectors, HNSW above.</summary>
    public IKnnGraphBuilder? GraphBuilder { get; init; }
}

/// <summary>
/// HDBSCAN (Campello, Moulavi, Sander 2013; McInnes' hdbscan) on cosine distance: core distances and mutual
/// reachability over a k-NN graph, minimum spanning tree by Kruskal over the graph's edges (components left
/// apart by a sparse graph are joined through exact mutual-reachability links between representatives),
/// single-linkage tree, condensed tree with the minimum cluster size, and excess-of-mass or leaf selection.
/// </summary>
internal sealed class HdbscanClusterer : IClusterer
{
    /// <summary>Creates the clusterer.</summary>
    public HdbscanClusterer(HdbscanOptions? options = null) => Options = options ?? new HdbscanOptions();

    /// <summary>The options.</summary>
    public HdbscanOptions Options { get; }

    /// <inheritdoc/>
    public string Name => "hdbscan";

    /// <inheritdoc/>
    public ClusterAssignment Cluster(VectorSet vectors, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        int n = vectors.Count;
        if (n == 0)
        {
            return new ClusterAssignment([], 0);
        }
        int minSamples = Math.Clamp(Options.MinSamples ?? Options.MinClusterSize, 1, n);
        int k = Math.Min(n - 1, Math.Max(Options.GraphNeighbors, minSamples - 1));
        var graph = (Options.GraphBuilder ?? AutoKnnGraphBuilder.Instance).Build(vectors, k, cancellationToken);
        return Run(graph, vectors, Options with { MinSamples = minSamples }, cancellationToken).Assignment;
    }

    /// <summary>
    /// The whole algorithm over a given neighbour graph (any metric). <paramref name="vectors"/> (unit, cosine) is
    /// only used to join components that the graph leaves apart; without it they are joined at the largest distance.
    /// </summary>
    internal static HdbscanTrace Run(KnnGraph graph, VectorSet? vectors, HdbscanOptions options, CancellationToken ct)
    {
        int n = graph.Count;
        int minSamples = Math.Clamp(options.MinSamples ?? options.MinClusterSize, 1, Math.Max(1, n));
        var core = CoreDistances(graph, minSamples);
        var mst = SpanningTree(graph, core, vectors, ct);
        var linkage = SingleLinkage(mst, n);
        var condensed = Condense(linkage, n, Math.Max(2, options.MinClusterSize));
        var stability = Stabilities(condensed);
        var selected = options.Selection == ClusterSelection.Leaf
            ? SelectLeaves(condensed, options.AllowSingleCluster)
            : SelectExcessOfMass(condensed, stability, options.AllowSingleCluster);
        var assignment = Label(condensed, selected, n);
        return new HdbscanTrace(core, mst, condensed, stability, selected, assignment);
    }

    /// <summary>Distance to the (minSamples - 1)-th other neighbour, i.e. the minSamples-th point counting itself.</summary>
    internal static double[] CoreDistances(KnnGraph graph, int minSamples)
    {
        int n = graph.Count;
        var core = new double[n];
        if (minSamples <= 1 || graph.K == 0)
        {
            return core;
        }
        int idx = Math.Min(minSamples - 2, graph.K - 1);
        for (int i = 0; i < n; i++)
        {
            var d = graph.DistancesOf(i);
            int j = idx;
            while (j > 0 && graph.NeighborsOf(i)[j] < 0)
            {
                j--;
            }
            core[i] = Math.Max(0, d[j]);
        }
        return core;
    }

    internal readonly record struct Edge(int A, int B, double Weight);

    /// <summary>Kruskal over the mutual-reachability graph; ascending weight, ties by (A, B).</summary>
    internal static Edge[] SpanningTree(KnnGraph graph, double[] core, VectorSet? vectors, CancellationToken ct)
    {
        int n = graph.Count;
        var edges = new List<Edge>(n * Math.Max(1, graph.K));
        for (int i = 0; i < n; i++)
        {
            var nb = graph.NeighborsOf(i);
            var ds = graph.DistancesOf(i);
            for (int t = 0; t < nb.Length; t++)
            {
                int j = nb[t];
                if (j < 0 || j == i)
                {
                    continue;
                }
                double w = Math.Max(Math.Max(core[i], core[j]), Math.Max(0, ds[t]));
                edges.Add(new Edge(Math.Min(i, j), Math.Max(i, j), w));
            }
        }
        ct.ThrowIfCancellationRequested();
        var sorted = edges.ToArray();
        Array.Sort(sorted, CompareEdges);
        var uf = new UnionFind(n);
        var tree = new List<Edge>(Math.Max(0, n - 1));
        foreach (var e in sorted)
        {
            if (uf.Union(e.A, e.B))
            {
                tree.Add(e);
                if (tree.Count == n - 1)
                {
                    break;
                }
            }
        }
        if (tree.Count < n - 1)
        {
            JoinComponents(tree, uf, core, vectors, n);
        }
        var result = tree.ToArray();
        Array.Sort(result, CompareEdges);
        return result;
    }

    private static int CompareEdges(Edge x, Edge y)
    {
        int c = x.Weight.CompareTo(y.Weight);
        if (c != 0)
        {
            return c;
        }
        c = x.A.CompareTo(y.A);
        return c != 0 ? c : x.B.CompareTo(y.B);
    }

    /// <summary>
    /// A sparse k-NN graph can fall apart into components. Each component is represented by its member nearest
    /// to the component's mean; representatives are linked by exact mutual-reachability distance and a spanning
    /// tree over them joins the components (these links sit at the top of the hierarchy).
    /// </summary>
    private static void JoinComponents(List<Edge> tree, UnionFind uf, double[] core, VectorSet? vectors, int n)
    {
        var rootToComponent = new Dictionary<int, int>();
        var componentOf = new int[n];
        for (int i = 0; i < n; i++)
        {
            int r = uf.Find(i);
            if (!rootToComponent.TryGetValue(r, out int c))
            {
                c = rootToComponent.Count;
                rootToComponent[r] = c;
            }
            componentOf[i] = c;
        }
        int m = rootToComponent.Count;
        var reps = new int[m];
        if (vectors is null)
        {
            Array.Fill(reps, -1);
            for (int i = 0; i < n; i++)
            {
                if (reps[componentOf[i]] < 0)
                {
                    reps[componentOf[i]] = i;
                }
            }
        }
        else
        {
            int d = vectors.Dimension;
            var means = new float[m * d];
            for (int i = 0; i < n; i++)
            {
                var dst = means.AsSpan(componentOf[i] * d, d);
                TensorPrimitives.Add(dst, vectors[i], dst);
            }
            var best = new float[m];
            Array.Fill(best, float.NegativeInfinity);
            for (int i = 0; i < n; i++)
            {
                int c = componentOf[i];
                float s = TensorPrimitives.Dot(vectors[i], means.AsSpan(c * d, d));
                if (s > best[c])
                {
                    best[c] = s;
                    reps[c] = i;
                }
            }
        }
        double maxWeight = 0;
        foreach (var e in tree)
        {
            maxWeight = Math.Max(maxWeight, e.Weight);
        }
        var links = new List<Edge>(m * (m - 1) / 2);
        for (int a = 0; a < m; a++)
        {
            for (int b = a + 1; b < m; b++)
            {
                int i = reps[a], j = reps[b];
                double dist = vectors is null ? maxWeight * 2 + 1 : Math.Max(0, 1.0 - TensorPrimitives.Dot(vectors[i], vectors[j]));
                double w = Math.Max(Math.Max(core[i], core[j]), Math.Max(dist, maxWeight));
                links.Add(new Edge(Math.Min(i, j), Math.Max(i, j), w));
            }
        }
        var sorted = links.ToArray();
        Array.Sort(sorted, CompareEdges);
        foreach (var e in sorted)
        {
            if (uf.Union(e.A, e.B))
            {
                tree.Add(e);
            }
        }
    }

    /// <summary>Single-linkage merges (scipy layout): row t joins nodes Left and Right into node n + t.</summary>
    internal readonly record struct Merge(int Left, int Right, double Distance, int Size);

    internal static Merge[] SingleLinkage(Edge[] mst, int n)
    {
        var parent = new int[2 * n];
        var size = new int[2 * n];
        for (int i = 0; i < 2 * n; i++)
        {
            parent[i] = i;
            size[i] = i < n ? 1 : 0;
        }
        int Find(int x)
        {
            while (parent[x] != x)
            {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            return x;
        }
        var merges = new Merge[mst.Length];
        int next = n;
        for (int t = 0; t < mst.Length; t++)
        {
            int a = Find(mst[t].A), b = Find(mst[t].B);
            merges[t] = new Merge(Math.Min(a, b), Math.Max(a, b), mst[t].Weight, size[a] + size[b]);
            parent[a] = next;
            parent[b] = next;
            size[next] = size[a] + size[b];
            next++;
        }
        return merges;
    }

    /// <summary>
    /// The condensed tree: clusters numbered 0 (root) upward in breadth-first order, so a child always has a
    /// larger number than its parent. Points record the cluster they fall out of and at which lambda = 1/distance.
    /// </summary>
    internal sealed class CondensedTree
    {
        public required int[] PointCluster { get; init; }
        public required double[] PointLambda { get; init; }
        public required List<int> ClusterParent { get; init; }
        public required List<double> ClusterBirth { get; init; }
        public required List<int> ClusterSize { get; init; }

        public int ClusterCount => ClusterParent.Count;
    }

    private static double Lambda(double distance) => 1.0 / Math.Max(distance, 1e-9);

    internal static CondensedTree Condense(Merge[] merges, int n, int minClusterSize)
    {
        var pointCluster = new int[n];
        var pointLambda = new double[n];
        var clusterParent = new List<int> { -1 };
        var clusterBirth = new List<double> { 0 };
        var clusterSize = new List<int> { n };
        var tree = new CondensedTree
        {
            PointCluster = pointCluster,
            PointLambda = pointLambda,
            ClusterParent = clusterParent,
            ClusterBirth = clusterBirth,
            ClusterSize = clusterSize,
        };
        if (n == 0)
        {
            return tree;
        }
        if (merges.Length == 0)
        {
            // One point (or none joined): it falls out of the root at once.
            for (int i = 0; i < n; i++)
            {
                pointCluster[i] = 0;
                pointLambda[i] = 0;
            }
            return tree;
        }
        int Size(int node) => node < n ? 1 : merges[node - n].Size;
        // Queue of (hierarchy node, condensed cluster it belongs to).
        var queue = new Queue<(int Node, int Cluster)>();
        queue.Enqueue((n + merges.Length - 1, 0));
        var stack = new Stack<int>();
        void FallOut(int node, int cluster, double lambda)
        {
            stack.Push(node);
            while (stack.Count > 0)
            {
                int x = stack.Pop();
                if (x < n)
                {
                    pointCluster[x] = cluster;
                    pointLambda[x] = lambda;
                }
                else
                {
                    stack.Push(merges[x - n].Right);
                    stack.Push(merges[x - n].Left);
                }
            }
        }
        while (queue.Count > 0)
        {
            var (node, cluster) = queue.Dequeue();
            if (node < n)
            {
                // A single point carried as the continuation of a cluster: it leaves at the cluster's death.
                pointCluster[node] = cluster;
                pointLambda[node] = clusterBirth[cluster];
                continue;
            }
            var m = merges[node - n];
            double lambda = Lambda(m.Distance);
            int ls = Size(m.Left), rs = Size(m.Right);
            bool bigLeft = ls >= minClusterSize, bigRight = rs >= minClusterSize;
            if (bigLeft && bigRight)
            {
                foreach (var (child, size) in new[] { (m.Left, ls), (m.Right, rs) })
                {
                    int id = clusterParent.Count;
                    clusterParent.Add(cluster);
                    clusterBirth.Add(lambda);
                    clusterSize.Add(size);
                    queue.Enqueue((child, id));
                }
            }
            else if (!bigLeft && !bigRight)
            {
                FallOut(m.Left, cluster, lambda);
                FallOut(m.Right, cluster, lambda);
            }
            else if (!bigLeft)
            {
                FallOut(m.Left, cluster, lambda);
                ContinueAt(m.Right, cluster, lambda);
            }
            else
            {
                FallOut(m.Right, cluster, lambda);
                ContinueAt(m.Left, cluster, lambda);
            }
        }
        return tree;

        void ContinueAt(int child, int cluster, double lambda)
        {
            if (child < n)
            {
                pointCluster[child] = cluster;
                pointLambda[child] = lambda;
            }
            else
            {
                queue.Enqueue((child, cluster));
            }
        }
    }

    /// <summary>Stability(c) = sum over members of (lambda leaving c - lambda c was born), child clusters weighted by size.</summary>
    internal static double[] Stabilities(CondensedTree tree)
    {
        int m = tree.ClusterCount;
        var s = new double[m];
        for (int p = 0; p < tree.PointCluster.Length; p++)
        {
            int c = tree.PointCluster[p];
            s[c] += tree.PointLambda[p] - tree.ClusterBirth[c];
        }
        for (int c = 1; c < m; c++)
        {
            int parent = tree.ClusterParent[c];
            s[parent] += (tree.ClusterBirth[c] - tree.ClusterBirth[parent]) * tree.ClusterSize[c];
        }
        return s;
    }

    internal static bool[] SelectExcessOfMass(CondensedTree tree, double[] stability, bool allowSingleCluster)
    {
        int m = tree.ClusterCount;
        var selected = new bool[m];
        var subtree = (double[])stability.Clone();
        var childSum = new double[m];
        var children = Children(tree);
        int first = allowSingleCluster ? 0 : 1;
        // Children have larger ids than parents: walk bottom-up.
        for (int c = m - 1; c >= first; c--)
        {
            double sum = 0;
            foreach (int ch in children[c])
            {
                sum += subtree[ch];
            }
            if (children[c].Count > 0 && sum > stability[c])
            {
                subtree[c] = sum;
                selected[c] = false;
            }
            else
            {
                selected[c] = true;
                subtree[c] = stability[c];
                Deselect(children, selected, c);
            }
        }
        return selected;
    }

    internal static bool[] SelectLeaves(CondensedTree tree, bool allowSingleCluster)
    {
        int m = tree.ClusterCount;
        var selected = new bool[m];
        var children = Children(tree);
        for (int c = 1; c < m; c++)
        {
            selected[c] = children[c].Count == 0;
        }
        if (m == 1 && allowSingleCluster)
        {
            selected[0] = true;
        }
        return selected;
    }

    private static List<int>[] Children(CondensedTree tree)
    {
        int m = tree.ClusterCount;
        var children = new List<int>[m];
        for (int c = 0; c < m; c++)
        {
            children[c] = [];
        }
        for (int c = 1; c < m; c++)
        {
            children[tree.ClusterParent[c]].Add(c);
        }
        return children;
    }

    private static void Deselect(List<int>[] children, bool[] selected, int root)
    {
        var stack = new Stack<int>(children[root]);
        while (stack.Count > 0)
        {
            int c = stack.Pop();
            selected[c] = false;
            foreach (int ch in children[c])
            {
                stack.Push(ch);
            }
        }
    }

    /// <summary>Points take the selected cluster above where they fell out; strength = lambda / max lambda of that cluster.</summary>
    internal static ClusterAssignment Label(CondensedTree tree, bool[] selected, int n)
    {
        int m = tree.ClusterCount;
        var owner = new int[m];
        for (int c = 0; c < m; c++)
        {
            owner[c] = selected[c] ? c : c == 0 ? -1 : owner[tree.ClusterParent[c]];
        }
        // Number the selected clusters by their lowest point index: stable, input-order numbering.
        var finalId = new int[m];
        Array.Fill(finalId, -1);
        int count = 0;
        var labels = new int[n];
        for (int p = 0; p < n; p++)
        {
            int o = owner[tree.PointCluster[p]];
            if (o < 0)
            {
                labels[p] = -1;
                continue;
            }
            if (finalId[o] < 0)
            {
                finalId[o] = count++;
            }
            labels[p] = finalId[o];
        }
        var maxLambda = new double[count];
        for (int p = 0; p < n; p++)
        {
            if (labels[p] >= 0)
            {
                maxLambda[labels[p]] = Math.Max(maxLambda[labels[p]], tree.PointLambda[p]);
            }
        }
        var strengths = new float[n];
        for (int p = 0; p < n; p++)
        {
            if (labels[p] >= 0)
            {
                double max = maxLambda[labels[p]];
                strengths[p] = max > 0 ? (float)Math.Min(1.0, tree.PointLambda[p] / max) : 1f;
            }
        }
        return new ClusterAssignment(labels, count, strengths);
    }

    private sealed class UnionFind
    {
        private readonly int[] _parent;
        private readonly int[] _rank;

        public UnionFind(int n)
        {
            _parent = new int[n];
            _rank = new int[n];
            for (int i = 0; i < n; i++)
            {
                _parent[i] = i;
            }
        }

        public int Find(int x)
        {
            while (_parent[x] != x)
            {
                _parent[x] = _parent[_parent[x]];
                x = _parent[x];
            }
            return x;
        }

        public bool Union(int a, int b)
        {
            int ra = Find(a), rb = Find(b);
            if (ra == rb)
            {
                return false;
            }
            if (_rank[ra] < _rank[rb])
            {
                (ra, rb) = (rb, ra);
            }
            _parent[rb] = ra;
            if (_rank[ra] == _rank[rb])
            {
                _rank[ra]++;
            }
            return true;
        }
    }
}

/// <summary>Intermediate results of one HDBSCAN run, for tests and diagnostics.</summary>
internal sealed record HdbscanTrace(
    double[] CoreDistances,
    HdbscanClusterer.Edge[] SpanningTree,
    HdbscanClusterer.CondensedTree Condensed,
    double[] Stability,
    bool[] Selected,
    ClusterAssignment Assignment);
