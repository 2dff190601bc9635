namespace Embeddings;

/// <summary>Which stemmer the text analyser (<c>Embeddings.Tokenization.TextAnalyzer</c>) applies to each kept token.</summary>
public enum StemmerKind
{
    /// <summary>No stemming.</summary>
    None = 0,

    /// <summary>Harman's S-stemmer (plural forms only): "studies" -> "study", "cells" -> "cell".</summary>
    Plural = 1,

    /// <summary>Porter (1980) suffix stripper: "treatments", "treated", "treating" -> "treat".</summary>
    Porter = 2,
}
