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

/// <summary>How liked and unliked papers (<see cref="SimilarQuery.Like"/>, <see cref="SimilarQuery.Unlike"/>) become a query vector.</summary>
public enum LikeRanking
{
    /// <summary>
    /// A linear SVM trained for the request: the liked papers against the unliked ones and a background of other stored
    /// papers; hits are ranked by its decision value. The default: it beat the centroid on the arXiv dev task (QUALITY.md).
    /// </summary>
    Classifier,

    /// <summary>Rocchio: the centre of the liked vectors minus half the centre of the unliked ones.</summary>
    Rocchio,
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

    /// <summary>
    /// How <see cref="Like"/> and <see cref="Unlike"/> rank (used when either is given); the default is the one measured best.
    /// A query with only a paper id or a text ranks by its vector alone. A PostgreSQL table ranks by
    /// <see cref="LikeRanking.Rocchio"/> whatever this says (the classifier's background of stored vectors is a local store's).
    /// </summary>
    public LikeRanking LikeRanking { get; init; } = SearchDefaults.LikeRanking;

    /// <summary>Number of hits.</summary>
    public int K { get; init; } = 10;

    /// <summary>Hits scoring below this are dropped (see <see cref="SimilarHit.Score"/> for what a score means in each mode).</summary>
    public float? MinScore { get; init; }

    /// <summary>Ranking; the default is the one that scored best on the development data.</summary>
    public RankingMode Mode { get; init; } = SearchDefaults.Mode;

    /// <summary>Fusion used by <see cref="RankingMode.Hybrid"/>; the default is the best measured with the default model (QUALITY.md).</summary>
    public FusionMethod Fusion { get; init; } = SearchDefaults.Fusion;

    /// <summary>Weight of the vector score in weighted fusion (0..1).</summary>
    public float VectorWeight { get; init; } = QualityDefaults.FusionVectorWeight;

    /// <summary>Restricts the hits (date range, categories, ids).</summary>
    public PaperFilter? Filter { get; init; }

    /// <summary>Use the exact index (brute force, the oracle) instead of HNSW.</summary>
    public bool Exact { get; init; }

    /// <summary>HNSW search breadth; 0 = the index default.</summary>
    public int Ef { get; init; }

    /// <summary>
    /// Drop hits that are copies of the query (the same text under another id, or the stored paper a pasted text is);
    /// <see cref="SimilarResult.HiddenDuplicates"/> counts them.
    /// </summary>
    public bool ExcludeDuplicates { get; init; } = true;

    /// <summary>
    /// Explain each hit (<see cref="SimilarHit.Why"/> or <see cref="SimilarHit.ClosestSentence"/>); false ranks only, for
    /// callers that run many queries and read ids and scores (the closest sentence costs a model pass over the hits' sentences).
    /// </summary>
    public bool Explain { get; init; } = true;

    /// <summary>
    /// Whether hits are explained by their sentence closest to the query vector: where vectors decide the ranking (vector
    /// mode, a like/unlike centre). Words explain the lexical and hybrid rankings of a text or a paper.
    /// </summary>
    internal bool ExplainsBySentence =>
        Explain && Mode != RankingMode.Lexical && (Mode == RankingMode.Vector || Like.Count > 0 || Unlike.Count > 0);

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
        if (!Enum.IsDefined(Mode) || !Enum.IsDefined(Fusion) || !Enum.IsDefined(LikeRanking))
        {
            throw new ArgumentException($"Unknown ranking mode {Mode}, fusion {Fusion} or like ranking {LikeRanking}");
        }
    }
}

/// <summary>One similar paper.</summary>
/// <param name="Id">Paper id.</param>
/// <param name="Title">Paper title.</param>
/// <param name="Score">
/// How similar the paper is (higher is more similar): the cosine in vector mode and the lexical match in lexical mode,
/// both with the same meaning for every query; in hybrid mode, with <see cref="FusionMethod.FixedScale"/> (the default),
/// (1 - w) x lexical + w x cosine in [0, 1], also comparable across queries, and with the min-max and RRF fusions a
/// per-query ranking score, not comparable across queries (see <see cref="Lexical"/>, <see cref="Vector"/>).
/// </param>
/// <param name="Why">
/// Lexical evidence, in lexical and hybrid modes for a text or <see cref="SimilarQuery.PaperId"/> query: the few words the
/// query and the hit share that weigh most in BM25. Empty in vector mode and for like/unlike queries, where words did
/// not decide (see <see cref="ClosestSentence"/>).
/// </param>
public sealed record SimilarHit(string Id, string Title, float Score, IReadOnlyList<string> Why)
{
    /// <summary>
    /// The lexical match in [0, 1): BM25 divided by the largest score the query could reach (every query word at
    /// saturated frequency); null in vector mode.
    /// </summary>
    public float? Lexical { get; init; }

    /// <summary>The cosine between the query's vector and the paper's; null in lexical mode.</summary>
    public float? Vector { get; init; }

    /// <summary>Author names, when the input listed them.</summary>
    public IReadOnlyList<string>? Authors { get; init; }

    /// <summary>The paper's date (ISO 8601 at the precision known, see <see cref="PaperDetails.Date"/>); null when unknown.</summary>
    public string? Date { get; init; }

    /// <summary>Subject categories, when the input had them.</summary>
    public IReadOnlyList<string>? Categories { get; init; }

    /// <summary>A link to the paper (the input's <c>url</c>, or the arXiv page of an arXiv id); null when unknown.</summary>
    public string? Url { get; init; }

    /// <summary>
    /// In vector mode and for like/unlike queries (where the model's vectors decide): the sentence of the hit's title and
    /// abstract whose vector is closest to the query's (for like/unlike, to the liked papers' centre moved away from the
    /// unliked ones); null in the other modes, over PostgreSQL, or when the store's model cannot be loaded.
    /// </summary>
    public string? ClosestSentence { get; init; }
}

/// <summary>The stored paper a query was made from: the <c>--id</c> paper, or a stored paper whose text was pasted.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Title">Its title.</param>
public sealed record QueryPaper(string Id, string Title);

/// <summary>
/// The answer to a similar-paper query: the hits, best first (the result is the list of hits itself), with what the
/// search found about the query: which stored paper it is, how many copies of it were left out, and warnings (a filter
/// that nothing can match, say).
/// </summary>
public sealed class SimilarResult : IReadOnlyList<SimilarHit>
{
    /// <summary>A result with no hits and nothing to say.</summary>
    public static SimilarResult Empty { get; } = new([]);

    /// <summary>Creates a result.</summary>
    public SimilarResult(IReadOnlyList<SimilarHit> hits, QueryPaper? queryPaper = null, int hiddenDuplicates = 0, IReadOnlyList<string>? warnings = null)
    {
        ArgumentNullException.ThrowIfNull(hits);
        Hits = hits;
        QueryPaper = queryPaper;
        HiddenDuplicates = hiddenDuplicates;
        Warnings = warnings ?? [];
    }

    /// <summary>The hits, best first.</summary>
    public IReadOnlyList<SimilarHit> Hits { get; }

    /// <summary>The stored paper the query is (by id, or as pasted text); null for a query that is no stored paper.</summary>
    public QueryPaper? QueryPaper { get; }

    /// <summary>Copies of the query paper (same text under another id, or a near-identical vector) left out of the hits.</summary>
    public int HiddenDuplicates { get; }

    /// <summary>What the caller should know about the query ("no stored paper has categories: category=cs.CL matches nothing").</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <inheritdoc/>
    public int Count => Hits.Count;

    /// <inheritdoc/>
    public SimilarHit this[int index] => Hits[index];

    /// <inheritdoc/>
    public IEnumerator<SimilarHit> GetEnumerator() => Hits.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>How BM25 and vector rankings are fused.</summary>
public enum FusionMethod
{
    /// <summary>Weighted sum of scores min-max normalised per query over the union of candidates.</summary>
    WeightedMinMax = 0,

    /// <summary>Reciprocal rank fusion: sum of weight / (k + rank).</summary>
    ReciprocalRank = 1,

    /// <summary>
    /// Weighted sum on a fixed scale: BM25 divided by the largest score the query could reach (its words at saturated
    /// frequency) and the cosine, each in [0, 1]. A score means the same for every query, so off-topic queries score
    /// low and <see cref="SimilarQuery.MinScore"/> separates relevant from irrelevant hits.
    /// </summary>
    FixedScale = 2,
}

