namespace Embeddings;

/// <summary>A paper as shown in the digest.</summary>
/// <param name="Id">Paper id.</param>
/// <param name="Title">Title.</param>
/// <param name="Summary">One-line summary: the abstract's first sentence.</param>
/// <param name="Score">Cosine to the topic centre (or to the query for similar papers).</param>
public sealed record DigestPaper(string Id, string Title, string Summary, float Score)
{
    /// <summary>Where the paper can be read, when known (the input's <c>url</c>, or the arXiv page of an arXiv id); null otherwise.</summary>
    public string? Url { get; init; }

    /// <summary>Author names, when the input listed them.</summary>
    public IReadOnlyList<string>? Authors { get; init; }

    /// <summary>Number of authors when known (named or only counted, as the daily-papers pages do).</summary>
    public int? AuthorCount { get; init; }

    /// <summary>The date as the input wrote it ("2024-03-14", or "Mar 14" when the page gave no year: never completed with a guessed year).</summary>
    public string? Date { get; init; }

    /// <summary>Similar earlier papers of this paper (store papers outside the digest), most similar first.</summary>
    public IReadOnlyList<DigestPaper> SimilarEarlier { get; init; } = [];
}

/// <summary>One topic of the digest.</summary>
public sealed record DigestTopic
{
    /// <summary>Stable topic id.</summary>
    public required int Id { get; init; }

    /// <summary>Short label.</summary>
    public required string Label { get; init; }

    /// <summary>Keywords, best first.</summary>
    public required IReadOnlyList<string> Keywords { get; init; }

    /// <summary>The digest's papers in the topic.</summary>
    public required int Size { get; init; }

    /// <summary>Papers of the whole store in the topic (the digest's included); equals <see cref="Size"/> for a digest of every paper.</summary>
    public int StoreSize { get; init; }

    /// <summary>Share of the digest's papers.</summary>
    public required double Share { get; init; }

    /// <summary>
    /// New (no topic of the previous recorded run matches), else growing / shrinking / stable: the topic's share of the
    /// digest's papers against its share of the earlier papers (or, for a digest of every paper, of the previous run's).
    /// </summary>
    public required TopicTrend Trend { get; init; }

    /// <summary>Store papers in the topic in the previous recorded run, when matched.</summary>
    public int? PreviousSize { get; init; }

    /// <summary>The most representative papers (the first of <see cref="Papers"/>).</summary>
    public required IReadOnlyList<DigestPaper> TopPapers { get; init; }

    /// <summary>Every paper of the digest in the topic, closest to the topic's centre first.</summary>
    public IReadOnlyList<DigestPaper> Papers { get; init; } = [];

    /// <summary>Similar earlier papers from the store (not in this digest).</summary>
    public required IReadOnlyList<DigestPaper> SimilarEarlier { get; init; }
}

/// <summary>A point of the 2-D map: position in [0, 1]^2, its topic (-1 outlier) and the paper's title.</summary>
public readonly record struct DigestPoint(float X, float Y, int TopicId, string PaperId, string Title);

/// <summary>Everything a digest shows; rendered by <see cref="DigestExtensions.Render"/> as Markdown, HTML or JSON.</summary>
public sealed record Digest
{
    /// <summary>Heading.</summary>
    public required string Title { get; init; }

    /// <summary>What was selected ("since 2024-03-01", "dump 004.txt").</summary>
    public required string Selection { get; init; }

    /// <summary>Number of papers in the digest.</summary>
    public required int PaperCount { get; init; }

    /// <summary>Topics, largest first.</summary>
    public required IReadOnlyList<DigestTopic> Topics { get; init; }

    /// <summary>Papers in no topic.</summary>
    public required IReadOnlyList<DigestPaper> Outliers { get; init; }

    /// <summary>The map (at most 1,200 papers: an evenly spread, deterministic sample of larger digests).</summary>
    public required IReadOnlyList<DigestPoint> Map { get; init; }

    /// <summary>Whether a previous run was compared with (trend marks are meaningful).</summary>
    public required bool HasHistory { get; init; }

    /// <summary>Papers in the store the digest was made from (those outside the selection are the "earlier" papers).</summary>
    public int StorePaperCount { get; init; }
}

/// <summary>Digest output formats.</summary>
public enum DigestFormat
{
    /// <summary>Markdown.</summary>
    Markdown,

    /// <summary>A self-contained HTML page (inline CSS, SVG map and a small inline script for zoom and details; no network).</summary>
    Html,

    /// <summary>JSON.</summary>
    Json,
}

/// <summary>Renders a <see cref="Digest"/>.</summary>
public static class DigestExtensions
{
    /// <summary>The digest as Markdown, a self-contained HTML page (inline CSS and SVG map, no network) or JSON; deterministic.</summary>
    public static string Render(this Digest digest, DigestFormat format)
    {
        ArgumentNullException.ThrowIfNull(digest);
        return Digests.DigestRenderer.Render(digest, format);
    }
}
