using System.Diagnostics;
using Embeddings.Corpus;
using Embeddings.Quality;
using Embeddings.Encoding.Lsa;
using Embeddings.Tokenization;
using Embeddings.Store;

namespace Embeddings;

/// <summary>What <see cref="EmbeddingModel.FitLsaAsync"/> fits a corpus-fitted LSA model (TF-IDF + truncated SVD) on, and how.</summary>
public sealed record LsaFitRequest
{
    /// <summary>The model folder to write (replaced atomically).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Fit on the papers of this store. Exclusive with <see cref="InputFiles"/>.</summary>
    public string? StoreDirectory { get; init; }

    /// <summary>Fit on the papers of these files (dumps, JSONL, CSV, optionally .gz). Exclusive with <see cref="StoreDirectory"/>.</summary>
    public IReadOnlyList<string> InputFiles { get; init; } = [];

    /// <summary>Output dimensions.</summary>
    public int Dimensions { get; init; } = QualityDefaults.LsaDimensions;

    /// <summary>Minimum document frequency of a term.</summary>
    public int MinDocumentFrequency { get; init; } = QualityDefaults.LsaMinDocumentFrequency;

    /// <summary>Vocabulary cap (most frequent terms).</summary>
    public int MaxFeatures { get; init; } = QualityDefaults.LsaMaxFeatures;

    /// <summary>Add bigram features (better topics, a larger model).</summary>
    public bool Bigrams { get; init; }

    /// <summary>The stemmer of the text analysis.</summary>
    public StemmerKind Stemmer { get; init; } = QualityDefaults.Stemmer;

    /// <summary>Seed of the randomized SVD; same input and seed give the same model.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Receives progress of the fit.</summary>
    public IProgress<WorkProgress>? Progress { get; init; }
}

/// <summary>What <see cref="EmbeddingModel.FitLsaAsync"/> made.</summary>
/// <param name="Documents">Papers fitted on.</param>
/// <param name="Dimension">Output dimensions.</param>
/// <param name="VocabularySize">Terms kept.</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="Directory">The model folder (full path).</param>
/// <param name="Fingerprint">The model's fingerprint.</param>
public sealed record LsaFitSummary(int Documents, int Dimension, int VocabularySize, double Seconds, string Directory, string Fingerprint);

public sealed partial class EmbeddingModel
{
    /// <summary>
    /// Fits a corpus-fitted LSA model on the papers of a store or of files and writes it as a model folder, usable
    /// wherever a model folder is (<c>--model DIR</c>, <see cref="EmbeddingModelOptions.ModelDirectory"/>).
    /// </summary>
    /// <exception cref="InvalidRequestException">Neither or both of a store and input files were given.</exception>
    public static Task<LsaFitSummary> FitLsaAsync(LsaFitRequest request, CancellationToken cancellationToken = default) =>
        LibraryErrors.Guard(() => FitLsaCoreAsync(request, cancellationToken));

    /// <summary>A file name inside the model folder, for the rule that no output lands in a store folder.</summary>
    private const string LsaModelMarker = "embeddings-model.json";

    private static async Task<LsaFitSummary> FitLsaCoreAsync(LsaFitRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if ((request.StoreDirectory is null) == (request.InputFiles.Count == 0))
        {
            throw new InvalidRequestException("Fit the model on a store or on input files: give either --store DIR or --input FILES.");
        }
        InputFiles.Check(request.InputFiles);
        OutputFile.CheckNotInStore(Path.Combine(request.OutputDirectory, LsaModelMarker));
        var clock = Stopwatch.StartNew();
        var texts = new List<string>();
        if (request.StoreDirectory is { } storeDirectory)
        {
            using PaperStore store = PaperStore.Open(storeDirectory);
            await foreach (StoredPaper p in store.ReadPapersAsync(cancellationToken).ConfigureAwait(false))
            {
                texts.Add(p.Paper.EmbeddingText);
            }
        }
        else
        {
            await foreach (SourcedPaper p in PaperReader.ReadAllAsync(request.InputFiles, null, cancellationToken).ConfigureAwait(false))
            {
                texts.Add(p.Paper.EmbeddingText);
            }
        }
        var options = new LsaOptions
        {
            Dimensions = request.Dimensions,
            MinDocumentFrequency = request.MinDocumentFrequency,
            MaxFeatures = request.MaxFeatures,
            Seed = request.Seed,
            Analyzer = new TextAnalyzerOptions { Bigrams = request.Bigrams, Stemmer = request.Stemmer },
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidRequestException(e.Message.Split(" (Parameter", 2)[0], e);
        }
        using LsaEncoder model = LsaEncoder.Fit(texts, options, request.Progress, cancellationToken);
        model.Save(request.OutputDirectory);
        return new LsaFitSummary(model.FittedDocuments, model.Dimension, model.VocabularySize, clock.Elapsed.TotalSeconds,
            Path.GetFullPath(request.OutputDirectory), model.Fingerprint);
    }
}
