namespace Embeddings;

/// <summary>A paper as shown in the digest.</summary>
/// <param name="Id">Paper id.</param>
/// <param name="Title">Title.</param>
/// <param name="Summary">One-line summary: the abstract's first sentence.</param>
/// <param name="Score">Cosine to the topic centre (or to the query for similar papers).</param>
public sealed record DigestPaper(string Id, string Title, string Summary, float Score)
{
    /// <summary>Author names, when the input listed them.</summary>
    public IReadOnlyList<string>? Authors { get; init; }

    /// <summary>The paper's date (ISO 8601, validated); null when unknown.</summary>
    public string? Date { get; init; }

    /// <summary>A link to the paper (the input's <c>url</c>, or the arXiv page of an arXiv id); null when unknown.</summary>
    public string? Url { get; init; }
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

    /// <summary>Papers in the topic.</summary>
    public required int Size { get; init; }

    /// <summary>Share of the digest's papers.</summary>
    public required double Share { get; init; }

    /// <summary>New / growing / shrinking / stable since the last run.</summary>
    public required TopicTrend Trend { get; init; }

    /// <summary>Size in the previous run when matched.</summary>
    public int? PreviousSize { get; init; }

    /// <summary>The most representative papers.</summary>
    public required IReadOnlyList<DigestPaper> TopPapers { get; init; }

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

    /// <summary>A self-contained HTML page (inline CSS and SVG, no scripts, no network).</summary>
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
