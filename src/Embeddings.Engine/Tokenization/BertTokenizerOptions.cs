namespace Embeddings.Tokenization;

/// <summary>
/// How a BERT WordPiece tokenizer normalises and splits text. The defaults are those of bert-base-uncased /
/// all-MiniLM-L6-v2 (the Hugging Face <c>BertNormalizer</c> + <c>BertPreTokenizer</c> + <c>WordPiece</c> defaults).
/// </summary>
internal sealed class BertTokenizerOptions
{
    /// <summary>Lower-case the text (uncased models). Default true.</summary>
    public bool Lowercase { get; init; } = true;

    /// <summary>Remove accents (NFD, then drop every Mn char); null = same as <see cref="Lowercase"/>.</summary>
    public bool? StripAccents { get; init; }

    /// <summary>Drop control/format/private-use chars and turn every whitespace char into a space. Default true.</summary>
    public bool CleanText { get; init; } = true;

    /// <summary>Put spaces around CJK ideographs so each is its own word. Default true.</summary>
    public bool HandleChineseChars { get; init; } = true;

    /// <summary>A word longer than this (in code points) becomes one unknown token. Default 100.</summary>
    public int MaxInputCharsPerWord { get; init; } = 100;

    /// <summary>Prefix of pieces that continue a word. Default <c>##</c>.</summary>
    public string ContinuingSubwordPrefix { get; init; } = "##";

    /// <summary>The unknown token. Default <c>[UNK]</c>.</summary>
    public string UnknownToken { get; init; } = "[UNK]";

    /// <summary>The token opening a sequence. Default <c>[CLS]</c>.</summary>
    public string ClsToken { get; init; } = "[CLS]";

    /// <summary>The token closing a sequence. Default <c>[SEP]</c>.</summary>
    public string SepToken { get; init; } = "[SEP]";

    /// <summary>The padding token. Default <c>[PAD]</c>.</summary>
    public string PadToken { get; init; } = "[PAD]";

    /// <summary>
    /// Tokens matched literally (case-sensitive) in the raw text before any normalisation, each giving its own id.
    /// Null: the unknown, CLS, SEP, padding tokens and <c>[MASK]</c>, those the vocabulary has.
    /// </summary>
    public IReadOnlyList<string>? AddedTokens { get; init; }

    /// <summary>Longest model input in ids (special ids included), when known (e.g. 256 or 512).</summary>
    public int? MaxLength { get; init; }

    internal bool EffectiveStripAccents => StripAccents ?? Lowercase;
}
