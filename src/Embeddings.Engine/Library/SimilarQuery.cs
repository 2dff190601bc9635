using Embeddings.Quality;
using Embeddings.Search;

namespace Embeddings;

/// <summary>How hits are ranked.</summary>
public enum RankingMode
{
    /// <summary>Vector similarity alone (cosine over the store's embeddings, through HNSW or the exact index).</summary>
    Vector,

    /// <summary>BM25 over title and abstract alone.</summary>
    Lexical,

    /// <summary>
    /// BM25 fused with vector similarity on min-max normalised scores. The default: on scientific abstracts
    /// BM25 alone beats the shipped neural model, and the fusion beats both (see QUALITY.md).
    /// </summary>
    Hybrid,
}

/// <summary>
/// A similar-paper query: papers like a stored paper (<see cref="PaperId"/>), like a free text, and/or like
/// several examples and unlike others. At least one of <see cref="PaperId"/>, <see cref="Text"/> or
/// <see cref="Like"/> is required.
/// </summary>
public sealed record SimilarQuery
{
    /// <summary>Id of a stored paper to find neighbours of; it is excluded from the hits.</summary>
    public string? PaperId { get; init; }

    /// <summary>Free text (a title and/or an abstract); encoded with the store's model.</summary>
    public string? Text { get; init; }

    /// <summary>Ids of stored papers the hits should resemble ("more like these").</summary>
    public IReadOnlyList<string> Like { get; init; } = [];

    /// <summary>Ids of stored papers the hits should not resemble ("less like those").</summary>
    public IReadOnlyList<string> Unlike { get; init; } = [];

    /// <summary>Number of hits.</summary>
    public int K { get; init; } = 10;

    /// <summary>Hits scoring below this are dropped (the score's scale depends on <see cref="Mode"/>).</summary>
    public float? MinScore { get; init; }

    /// <summary>Ranking; the default is the one that scored best on the development data.</summary>
    public RankingMode Mode { get; init; } = SearchDefaults.Mode;

    /// <summary>Fusion used by <see cref="RankingMode.Hybrid"/>.</summary>
    public FusionMethod Fusion { get; init; } = FusionMethod.WeightedMinMax;

    /// <summary>Weight of the vector score in weighted fusion (0..1).</summary>
    public float VectorWeight { get; init; } = QualityDefaults.FusionVectorWeight;

    /// <summary>Restricts the hits (date range, categories, ids).</summary>
    public PaperFilter? Filter { get; init; }

    /// <summary>Use the exact index (brute force, the oracle) instead of HNSW.</summary>
    public bool Exact { get; init; }

    /// <summary>HNSW search breadth; 0 = the index default.</summary>
    public int Ef { get; init; }

    /// <summary>Drop hits that are the same text as a query paper (another dump's copy, another id).</summary>
    public bool ExcludeDuplicates { get; init; } = true;

    /// <summary>The most hits a query may ask for.</summary>
    internal const int MaxK = 10_000;

    /// <summary>The widest HNSW search breadth a query may ask for.</summary>
    internal const int MaxEf = 100_000;

    internal void Validate()
    {
        if (PaperId is null && string.IsNullOrWhiteSpace(Text) && Like.Count == 0)
        {
            throw new ArgumentException("A similar-paper query needs a paper id, a text, or at least one --like paper.");
        }
        if (K is < 1 or > MaxK)
        {
            throw new ArgumentException($"The number of hits K must be between 1 and {MaxK}, not {K} (-k)");
        }
        if (!float.IsFinite(VectorWeight) || VectorWeight is < 0 or > 1)
        {
            throw new ArgumentException($"The vector weight must be between 0 and 1, not {VectorWeight}");
        }
        if (MinScore is { } min && !float.IsFinite(min))
        {
            throw new ArgumentException($"The minimum score must be a finite number, not {min} (--min-score)");
        }
        if (Ef is < 0 or > MaxEf)
        {
            throw new ArgumentException($"The HNSW search breadth must be between 0 (the index's default) and {MaxEf}, not {Ef} (--ef)");
        }
        if (!Enum.IsDefined(Mode) || !Enum.IsDefined(Fusion))
        {
            throw new ArgumentException($"Unknown ranking mode {Mode} or fusion {Fusion}");
        }
    }
}

/// <summary>One similar paper.</summary>
/// <param name="Id">Paper id.</param>
/// <param name="Title">Paper title.</param>
/// <param name="Score">Ranking score (higher is more similar); cosine in vector mode, BM25 in lexical mode,
/// the fused score in hybrid mode.</param>
/// <param name="Why">The few terms the query and the hit share most strongly (stemmed forms).</param>
public sealed record SimilarHit(string Id, string Title, float Score, IReadOnlyList<string> Why);

/// <summary>How BM25 and vector rankings are fused.</summary>
public enum FusionMethod
{
    /// <summary>Weighted sum of scores min-max normalised per query over the union of candidates.</summary>
    WeightedMinMax = 0,

    /// <summary>Reciprocal rank fusion: sum of weight / (k + rank).</summary>
    ReciprocalRank = 1,
}

