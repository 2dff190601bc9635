
namespace Embeddings.Quality;

/// <summary>
/// The defaults chosen by measurement on the development sets (see QUALITY.md for the table and the
/// command that reproduces it). Similar-paper search, topics and the CLI read them from here.
/// </summary>
internal static class QualityDefaults
{
    /// <summary>Stemmer of the shared text analysis.</summary>
    public const StemmerKind Stemmer = StemmerKind.Porter;

    /// <summary>BM25 term-frequency saturation k1.</summary>
    public const float Bm25K1 = 1.2f;

    /// <summary>BM25 length normalisation b.</summary>
    public const float Bm25B = 0.75f;

    /// <summary>LSA dimensions for retrieval/similar-paper vectors.</summary>
    public const int LsaDimensions = 384;

    /// <summary>LSA dimensions for the clustering representation.</summary>
    public const int ClusteringLsaDimensions = 128;

    /// <summary>Minimum document frequency of an LSA term.</summary>
    public const int LsaMinDocumentFrequency = 2;

    /// <summary>Vocabulary cap of the LSA TF-IDF (most frequent terms kept).</summary>
    public const int LsaMaxFeatures = 100_000;

    /// <summary>Whether the clustering LSA includes bigrams (phrases such as "neural network" name topics).</summary>
    public const bool ClusteringLsaBigrams = true;

    /// <summary>Whether the LSA TF-IDF includes bigrams.</summary>
    public const bool LsaBigrams = false;

    /// <summary>
    /// Weight of the neural vector in the concatenated hybrid vector (LSA gets 1 - this): the best single-vector
    /// representation for retrieval with all-MiniLM-L6-v2 (SciFact train nDCG@10 67.4 vs the model alone 66.1 and LSA
    /// 51.9), for HNSW search when no BM25 index is at hand.
    /// </summary>
    public const float HybridNeuralWeight = 0.75f;

    /// <summary>
    /// Weight of the neural vector in the clustering representation (LSA-128 with bigrams gets 1 - this): arXiv math
    /// V-measure 53.6 / ARI 32.1 with the topics pipeline's k-means (10 seeds) vs all-MiniLM-L6-v2 alone 52.9 / 30.9.
    /// </summary>
    public const float ClusteringNeuralWeight = 0.75f;

    /// <summary>
    /// The default similar-paper ranking (<see cref="Fusion"/>): BM25 fused with the paper's neural vector (the store's own
    /// vectors), with this weight on the vector (BM25 gets 1 - this), over the union of each ranker's top
    /// <see cref="FusionCandidates"/>. With all-MiniLM-L6-v2 and the fixed scale: SciFact train nDCG@10 73.8 vs BM25 alone
    /// 69.9, the model alone 66.1, RRF 71.4 (fixed-scale 73.1-73.8 from 0.3 to 0.65, the peak at 0.45-0.5).
    /// </summary>
    public const float FusionVectorWeight = 0.5f;

    /// <summary>
    /// The default hybrid fusion (weight <see cref="FusionVectorWeight"/>): the fixed scale, (1 - w) BM25 over the query's
    /// maximum attainable BM25 + w cosine, a score in [0, 1] that means the same for every query (so --min-score separates
    /// relevant from irrelevant hits). With all-MiniLM-L6-v2 on SciFact train it is also the better ranking: nDCG@10 73.8 /
    /// recall@100 96.1 / MRR@10 70.7 at w = 0.5 vs min-max 73.3 / 95.5 / 69.9 (min-max's best weight, 0.65: 73.5 / 95.9 / 70.2).
    /// </summary>
    public const FusionMethod Fusion = FusionMethod.FixedScale;

    /// <summary>Candidates taken from each ranker before fusion.</summary>
    public const int FusionCandidates = 100;

    /// <summary>The k of reciprocal rank fusion (Cormack et al. 2009).</summary>
    public const int RrfK = 60;
}
