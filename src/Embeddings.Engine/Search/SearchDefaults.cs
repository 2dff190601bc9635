using Embeddings.Quality;

namespace Embeddings.Search;

/// <summary>Search defaults chosen by measurement (QUALITY.md).</summary>
internal static class SearchDefaults
{
    /// <summary>The default ranking: hybrid won on SciFact train nDCG@10 (see QUALITY.md).</summary>
    public const RankingMode Mode = RankingMode.Hybrid;

    /// <summary>The default hybrid fusion (QUALITY.md).</summary>
    public const FusionMethod Fusion = QualityDefaults.Fusion;

    /// <summary>Candidates taken from each ranking before fusion.</summary>
    public const int FusionCandidates = QualityDefaults.FusionCandidates;

    /// <summary>How liked and unliked papers rank: the classifier won on the arXiv dev task (QUALITY.md).</summary>
    public const LikeRanking LikeRanking = Embeddings.LikeRanking.Classifier;

    /// <summary>Weight of the unlike examples against the like examples (Rocchio's gamma / beta).</summary>
    public const float UnlikeWeight = 0.5f;

    /// <summary>Cosine above which a hit counts as a duplicate of the query paper.</summary>
    public const float DuplicateCosine = 0.995f;

    /// <summary>Terms shown as the "why" of a hit.</summary>
    public const int WhyTerms = 5;

    /// <summary>
    /// The most sentences of one hit embedded to find its closest sentence (title first): an abstract has about 5-10,
    /// and a whole text given as the abstract should not cost a model pass over every sentence it has.
    /// </summary>
    public const int SentencesPerHit = 32;
}
