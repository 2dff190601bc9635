using Embeddings.Encoding;
using Microsoft.Extensions.Logging;

namespace Embeddings;

/// <summary>When a similar-paper query needs the model, the same for every backend (the store folder, a database table).</summary>
internal static class SimilarQueryModel
{
    /// <summary>
    /// The encoder <paramref name="query"/> needs: always for free text in a vector or hybrid ranking (a model that cannot
    /// be loaded is then the query's error); for the closest-sentence explanation only when the model loads (a library
    /// whose model cannot be loaded here still answers, with the other explanations only, and logs why); else null, and
    /// nothing is loaded.
    /// </summary>
    public static ISentenceEncoder? EncoderFor(SimilarQuery query, EmbeddingModel model, ILogger logger)
    {
        if (query.Mode != RankingMode.Lexical && !string.IsNullOrWhiteSpace(query.Text))
        {
            return model.Encoder();
        }
        if (!query.ExplainsBySentence)
        {
            return null;
        }
        try
        {
            return model.Encoder();
        }
        catch (EmbeddingsException e)
        {
            PaperLibraryLog.NoSentenceExplanations(logger, e.Message);
            return null;
        }
    }
}
