using System.CommandLine;
using System.Globalization;
using System.Numerics.Tensors;
using Embeddings.Corpus;
using Embeddings.Digests;
using Embeddings.Store;
using Embeddings.Topics;

namespace Embeddings.Cli.Commands;

/// <summary>Shared plumbing of <c>topics</c> and <c>digest</c>: options, reading papers and vectors from a store.</summary>
internal static class TopicStoreInput
{
    public static Option<string> StoreOption() => new("--store") { Description = "Store folder (made by `embeddings ingest`).", Required = true };

    public static Option<string> MethodOption()
    {
        var o = new Option<string>("--method") { Description = "Clustering: kmeans (default; every paper in a topic), hdbscan (finds the number of topics, reports outliers) or communities (tight groups, near-duplicates).", DefaultValueFactory = _ => "kmeans" };
        o.AcceptOnlyFromAmong("kmeans", "hdbscan", "communities");
        return o;
    }

    public static Option<int?> KOption() => new("--k") { Description = "Number of k-means clusters (default: sqrt(n/2), capped at 40)." };

    public static Option<int> SeedOption() => new("--seed") { Description = "Seed; same input and seed give identical output.", DefaultValueFactory = _ => 42 };

    public static Option<string> RepresentationOption()
    {
        var o = new Option<string>("--representation")
        {
            Description = "Vectors to cluster: hybrid (default: neural + corpus-fitted LSA, the best on the development data, see QUALITY.md), lsa or neural.",
            DefaultValueFactory = _ => "hybrid",
        };
        o.AcceptOnlyFromAmong("hybrid", "lsa", "neural");
        return o;
    }

    /// <summary>The clustering vectors of <paramref name="papers"/> (all of them share one fitted LSA space).</summary>
    public static Task<(float[] Vectors, int Dimension)> RepresentAsync(PaperStore store, IReadOnlyList<StoredPaper> papers, string representation,
        CancellationToken ct) =>
        ClusteringRepresentation.BuildAsync(papers.Select(p => p.Paper).ToArray(), Vectors(store, papers), store.Dimension,
            ClusteringRepresentation.Parse(representation), store.Directory, ct);

    /// <summary>The rows <paramref name="indices"/> of a row-major matrix.</summary>
    public static float[] Rows(float[] vectors, int dimension, IReadOnlyList<int> indices)
    {
        var rows = new float[indices.Count * dimension];
        for (int i = 0; i < indices.Count; i++)
        {
            vectors.AsSpan(indices[i] * dimension, dimension).CopyTo(rows.AsSpan(i * dimension, dimension));
        }
        return rows;
    }

    public static Option<int?> TopicsOption() => new("--topics") { Description = "Merge the most similar topics until at most N remain." };

    public static TopicOptions Options(string method, int? k, int seed, int? maxTopics) => new()
    {
        Method = method switch
        {
            "hdbscan" => TopicMethod.Hdbscan,
            "communities" => TopicMethod.Communities,
            _ => TopicMethod.KMeans,
        },
        K = k,
        Seed = seed,
        MaxTopics = maxTopics,
    };

    /// <summary>Every live paper of the store with its vector row, in store row order.</summary>
    public static async Task<List<StoredPaper>> ReadAllAsync(PaperStore store, CancellationToken ct)
    {
        var list = new List<StoredPaper>(store.Count);
        await foreach (var p in store.ReadPapersAsync(ct).ConfigureAwait(false))
        {
            list.Add(p);
        }
        return list;
    }

    /// <summary>The rows' vectors gathered into one flat array.</summary>
    public static float[] Vectors(PaperStore store, IReadOnlyList<StoredPaper> papers)
    {
        int d = store.Dimension;
        var all = store.GetAllRows().Span;
        var v = new float[papers.Count * d];
        for (int i = 0; i < papers.Count; i++)
        {
            all.Slice(papers[i].Row * d, d).CopyTo(v.AsSpan(i * d, d));
        }
        return v;
    }

    /// <summary>Papers dated (or, without a date, first stored) on or after <paramref name="since"/>.</summary>
    public static bool IsSince(StoredPaper p, DateTimeOffset since)
    {
        if (p.Paper.Date is { Length: > 0 } text &&
            DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            return date >= since;
        }
        return p.FirstSeen >= since;
    }

    public static DateTimeOffset ParseDate(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d)
            ? d
            : throw new ArgumentException($"--since '{text}' is not a date; use ISO 8601, e.g. 2024-03-01");
}

/// <summary>Similar earlier papers: the exact index (the search oracle) over the store papers outside the digest.</summary>
internal sealed class StoreSimilarFinder : ISimilarPaperFinder
{
    private readonly IReadOnlyList<StoredPaper> _papers;
    private readonly Embeddings.Index.ExactIndex? _index;

    /// <param name="earlier">The papers to link to.</param>
    /// <param name="vectors">Their unit vectors, row-major, in the space the topic centres live in.</param>
    /// <param name="dimension">Vector length.</param>
    public StoreSimilarFinder(IReadOnlyList<StoredPaper> earlier, float[] vectors, int dimension)
    {
        _papers = earlier;
        _index = earlier.Count == 0 ? null : Embeddings.Index.ExactIndex.Create(vectors, dimension);
    }

    public IReadOnlyList<DigestPaper> FindSimilar(ReadOnlySpan<float> query, int k)
    {
        if (_index is null || k <= 0)
        {
            return [];
        }
        return _index.Search(query, k).Select(n =>
        {
            var p = _papers[n.Id].Paper;
            return new DigestPaper(p.Id, p.Title, p.Abstract.Length > 160 ? p.Abstract[..160] + "\u2026" : p.Abstract, n.Score);
        }).ToArray();
    }
}
