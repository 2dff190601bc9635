using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Encoding.Lsa;
using Embeddings.Quality;
using Embeddings.Tokenization;

namespace Embeddings.Topics;

/// <summary>
/// Builds the vectors topics are clustered on. LSA must be fitted on the corpus it clusters, and topic ids are
/// matched across runs by centroid, so the LSA model is fitted once on the store's papers, kept in the store
/// folder (<see cref="LsaFolderName"/>) and reused: later papers are projected with it, so centroids of different
/// runs live in one space. It is refitted when the store has more than doubled since the fit; delete the folder to
/// refit sooner.
/// </summary>
internal static class ClusteringRepresentation
{
    /// <summary>The default, chosen by measurement (QUALITY.md).</summary>
    public const RepresentationKind Default = RepresentationKind.Hybrid;

    /// <summary>Folder in the store holding the clustering LSA model.</summary>
    public const string LsaFolderName = "lsa-clustering";

    /// <summary>Below this many papers the neural vectors are used whatever the representation asked.</summary>
    public const int MinPapersForLsa = 20;

    /// <summary>Parses the CLI's name of a representation (neural, lsa, hybrid).</summary>
    public static RepresentationKind Parse(string name) => name.ToLowerInvariant() switch
    {
        "neural" => RepresentationKind.Neural,
        "lsa" => RepresentationKind.Lsa,
        "hybrid" => RepresentationKind.Hybrid,
        _ => throw new ArgumentException($"unknown representation '{name}'; use neural, lsa or hybrid"),
    };

    /// <summary>
    /// The clustering vectors of <paramref name="papers"/> (row-major), whose neural vectors are
    /// <paramref name="neural"/> (<paramref name="neuralDimension"/> wide). <paramref name="storeDirectory"/> keeps
    /// the fitted LSA model; it is fitted on <paramref name="papers"/> when absent.
    /// </summary>
    public static async Task<(float[] Vectors, int Dimension)> BuildAsync(IReadOnlyList<Paper> papers, float[] neural, int neuralDimension,
        RepresentationKind kind, string storeDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(papers);
        ArgumentNullException.ThrowIfNull(neural);
        // LSA needs a corpus: on a handful of papers it has almost no shared vocabulary to factor.
        if (kind == RepresentationKind.Neural || papers.Count < MinPapersForLsa)
        {
            return (neural, neuralDimension);
        }
        var texts = new string[papers.Count];
        for (int i = 0; i < texts.Length; i++)
        {
            texts[i] = papers[i].EmbeddingText;
        }
        using LsaEncoder lsa = LoadOrFit(storeDirectory, texts, cancellationToken);
        EmbeddingBatch lsaVectors = await lsa.EncodeAsync(texts, cancellationToken).ConfigureAwait(false);
        if (kind == RepresentationKind.Lsa)
        {
            return (lsaVectors.Vectors, lsaVectors.Dimension);
        }
        var neuralBatch = new EmbeddingBatch(neuralDimension, neural, new bool[papers.Count], new bool[papers.Count]);
        EmbeddingBatch hybrid = HybridEncoder.Combine(neuralBatch, lsaVectors, QualityDefaults.ClusteringNeuralWeight);
        return (hybrid.Vectors, hybrid.Dimension);
    }

    private static LsaEncoder LoadOrFit(string storeDirectory, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        string folder = Path.Combine(storeDirectory, LsaFolderName);
        if (LsaEncoder.IsLsaModel(folder))
        {
            LsaEncoder kept = LsaEncoder.Load(folder);
            // Refit only when the corpus has more than doubled since the fit: rare enough for topic ids to be
            // matched across runs in one space, often enough for the vocabulary to follow the corpus.
            if (texts.Count <= 2 * kept.FittedDocuments)
            {
                return kept;
            }
            kept.Dispose();
        }
        LsaEncoder fitted = LsaEncoder.Fit(texts, new LsaOptions
        {
            Dimensions = QualityDefaults.ClusteringLsaDimensions,
            Analyzer = new TextAnalyzerOptions { Bigrams = QualityDefaults.ClusteringLsaBigrams },
        }, cancellationToken: cancellationToken);
        fitted.Save(folder);
        return fitted;
    }
}
