using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Embeddings.Tokenization;

/// <summary>
/// BERT WordPiece tokenizer (bert-base-uncased, all-MiniLM, bge, SPECTER ...), id-for-id the Hugging Face
/// Rust <c>tokenizers</c> pipeline that sentence-transformers uses: literal added tokens first, then
/// clean text, CJK split, accent strip (NFD, drop Mn), lower-case per char, split on whitespace and
/// punctuation, greedy longest-match WordPiece with a continuation prefix, too-long or uncoverable words
/// -> <c>[UNK]</c>. Model input is <c>[CLS] pieces [SEP]</c>. ASCII text takes a copy-free fast path.
/// </summary>
internal sealed class BertWordPieceTokenizer : Tokenizer
{
    private static readonly SearchValues<char> AsciiControls = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000B\u000C\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F");

    private static readonly SearchValues<char> AsciiWhitespace = SearchValues.Create(" \t\n\r");

    private readonly string[] _tokens;
    private readonly CharTrie _trie;
    private readonly int _continuationRoot;
    private readonly (string Content, int Id)[] _added; // longest first
    private readonly SearchValues<char>? _addedFirstChars;
    private readonly bool _lowercase;
    private readonly bool _stripAccents;
    private readonly bool _cleanText;
    private readonly bool _handleChineseChars;
    private readonly int _maxCharsPerWord;
    private readonly int _unk;
    private readonly int _cls;
    private readonly int _sep;
    private readonly int _pad;
    private readonly int? _maxLength;

    private BertWordPieceTokenizer(string[] tokens, Dictionary<string, int> vocab, List<(string, int)> added,
        BertTokenizerOptions options, int unk, int cls, int sep, int pad, string source)
        : base([cls], [sep])
    {
        _tokens = tokens;
        _unk = unk;
        _cls = cls;
        _sep = sep;
        _pad = pad;
        _lowercase = options.Lowercase;
        _stripAccents = options.EffectiveStripAccents;
        _cleanText = options.CleanText;
        _handleChineseChars = options.HandleChineseChars;
        _maxCharsPerWord = options.MaxInputCharsPerWord;
        _maxLength = options.MaxLength;

        var entries = new List<(string, int)>(vocab.Count);
        foreach (var (piece, id) in vocab)
        {
            if (piece.Length > 0)
            {
                entries.Add((piece, id));
            }
        }
        _trie = CharTrie.Build(entries);
        _continuationRoot = options.ContinuingSubwordPrefix.Length == 0
            ? CharTrie.Root
            : _trie.Find(options.ContinuingSubwordPrefix);

        added.RemoveAll(a => a.Item1.Length == 0);
        added.Sort((a, b) => b.Item1.Length.CompareTo(a.Item1.Length));
        _added = [.. added];
        _addedFirstChars = _added.Length == 0 ? null : SearchValues.Create(string.Concat(_added.Select(a => a.Content[0])));
        Source = source;
    }

    /// <summary>The file the vocabulary came from.</summary>
    public string Source { get; }

    /// <inheritdoc/>
    public override int VocabularySize => _tokens.Length;

    /// <inheritdoc/>
    public override int UnknownId => _unk;

    /// <inheritdoc/>
    public override int ClsId => _cls;

    /// <inheritdoc/>
    public override int SepId => _sep;

    /// <inheritdoc/>
    public override int PadId => _pad;

    /// <inheritdoc/>
    public override int? MaxLength => _maxLength;

    /// <inheritdoc/>
    public override string IdToToken(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, _tokens.Length);
        return _tokens[id];
    }

    /// <summary>Loads a <c>vocab.txt</c> (one piece per line, id = line number - 1).</summary>
    /// <exception cref="ModelLoadException">Missing or unreadable file, or a special token the vocabulary lacks.</exception>
    public static BertWordPieceTokenizer FromVocabTxt(string path, BertTokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new BertTokenizerOptions();
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path, System.Text.Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"{path}: cannot read the WordPiece vocabulary ({e.Message}); the model folder needs vocab.txt or tokenizer.json.", e);
        }
        var vocab = new Dictionary<string, int>(lines.Length, StringComparer.Ordinal);
        for (int i = 0; i < lines.Length; i++)
        {
            string piece = lines[i].TrimEnd(); // as the Rust reader
            vocab[piece] = i;
        }
        if (vocab.Count == 0)
        {
            throw new ModelLoadException($"{path}: the vocabulary is empty; expected one WordPiece token per line.");
        }
        var added = new List<(string, int)>();
        var literal = options.AddedTokens ?? [options.PadToken, options.UnknownToken, options.ClsToken, options.SepToken, "[MASK]"];
        foreach (string token in literal)
        {
            if (vocab.TryGetValue(token, out int id))
            {
                added.Add((token, id));
            }
            else if (options.AddedTokens is not null)
            {
                throw new ModelLoadException($"{path}: added token '{token}' is not in the vocabulary.");
            }
        }
        return Create(path, ToTokenArray(vocab, added), vocab, added, options);
    }

    /// <summary>
    /// Loads a Hugging Face <c>tokenizer.json</c> with a <c>BertNormalizer</c> and a <c>WordPiece</c> model:
    /// lower-casing, accent stripping, clean-text, CJK handling, the continuation prefix, the word length
    /// limit, added tokens, [CLS]/[SEP] of the post-processor and the truncation length come from the file.
    /// </summary>
    /// <exception cref="ModelLoadException">Missing file, bad JSON, or a model other than WordPiece.</exception>
    public static BertWordPieceTokenizer FromTokenizerJson(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"{path}: cannot read the tokenizer ({e.Message}); the model folder needs tokenizer.json or vocab.txt.", e);
        }
        try
        {
            using var doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            return ParseTokenizerJson(doc.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{path}: not valid JSON at line {e.LineNumber + 1} ({e.Message}); expected a Hugging Face tokenizer.json.", e);
        }
        catch (InvalidOperationException e)
        {
            throw new ModelLoadException($"{path}: unexpected value type ({e.Message}); expected a Hugging Face tokenizer.json.", e);
        }
    }

    private static BertWordPieceTokenizer ParseTokenizerJson(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
        {
            throw new ModelLoadException($"{path}: no \"model\" object; expected a Hugging Face tokenizer.json.");
        }
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "WordPiece";
        if (type != "WordPiece")
        {
            throw new ModelLoadException($"{path}: model type '{type}' is not supported; only WordPiece (BERT-style) tokenizers are.");
        }
        if (!model.TryGetProperty("vocab", out var vocabJson) || vocabJson.ValueKind != JsonValueKind.Object)
        {
            throw new ModelLoadException($"{path}: model.vocab is missing or not an object of piece -> id.");
        }
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabJson.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
            {
                throw new ModelLoadException($"{path}: model.vocab[\"{entry.Name}\"] is not a non-negative integer id.");
            }
            vocab[entry.Name] = id;
        }
        if (vocab.Count == 0)
        {
            throw new ModelLoadException($"{path}: model.vocab is empty.");
        }

        bool lowercase = true, clean = true, chinese = true;
        bool? strip = null;
        if (root.TryGetProperty("normalizer", out var norm) && norm.ValueKind == JsonValueKind.Object)
        {
            string normType = norm.TryGetProperty("type", out var nt) ? nt.GetString() ?? "" : "";
            if (normType != "BertNormalizer")
            {
                throw new ModelLoadException($"{path}: normalizer '{normType}' is not supported; only BertNormalizer is.");
            }
            lowercase = Bool(norm, "lowercase", true);
            clean = Bool(norm, "clean_text", true);
            chinese = Bool(norm, "handle_chinese_chars", true);
            strip = norm.TryGetProperty("strip_accents", out var sa) && sa.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? sa.GetBoolean()
                : null;
        }
        string unkToken = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : "[UNK]";
        string prefix = model.TryGetProperty("continuing_subword_prefix", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "##";
        int maxChars = model.TryGetProperty("max_input_chars_per_word", out var mc) && mc.ValueKind == JsonValueKind.Number ? mc.GetInt32() : 100;

        var added = new List<(string, int)>();
        if (root.TryGetProperty("added_tokens", out var addedJson) && addedJson.ValueKind == JsonValueKind.Array)
        {
            foreach (var a in addedJson.EnumerateArray())
            {
                string? content = a.TryGetProperty("content", out var c) ? c.GetString() : null;
                if (content is null || !a.TryGetProperty("id", out var idJson) || !idJson.TryGetInt32(out int id))
                {
                    throw new ModelLoadException($"{path}: an added_tokens entry lacks \"content\" or \"id\".");
                }
                added.Add((content, id));
            }
        }

        string cls = "[CLS]", sep = "[SEP]";
        if (root.TryGetProperty("post_processor", out var post) && post.ValueKind == JsonValueKind.Object)
        {
            string postType = post.TryGetProperty("type", out var pt) ? pt.GetString() ?? "" : "";
            if (postType == "BertProcessing")
            {
                cls = post.GetProperty("cls")[0].GetString()!;
                sep = post.GetProperty("sep")[0].GetString()!;
            }
            else if (postType == "TemplateProcessing" && post.TryGetProperty("single", out var single))
            {
                var specials = single.EnumerateArray()
                    .Where(e => e.TryGetProperty("SpecialToken", out _))
                    .Select(e => e.GetProperty("SpecialToken").GetProperty("id").GetString()!)
                    .ToList();
                if (specials.Count == 2)
                {
                    cls = specials[0];
                    sep = specials[1];
                }
            }
        }
        int? maxLength = root.TryGetProperty("truncation", out var trunc) && trunc.ValueKind == JsonValueKind.Object
            && trunc.TryGetProperty("max_length", out var ml) && ml.ValueKind == JsonValueKind.Number
            ? ml.GetInt32()
            : null;
        string pad = root.TryGetProperty("padding", out var padding) && padding.ValueKind == JsonValueKind.Object
            && padding.TryGetProperty("pad_token", out var ptk) && ptk.ValueKind == JsonValueKind.String
            ? ptk.GetString()!
            : "[PAD]";

        var options = new BertTokenizerOptions
        {
            Lowercase = lowercase,
            StripAccents = strip,
            CleanText = clean,
            HandleChineseChars = chinese,
            MaxInputCharsPerWord = maxChars,
            ContinuingSubwordPrefix = prefix,
            UnknownToken = unkToken,
            ClsToken = cls,
            SepToken = sep,
            PadToken = pad,
            AddedTokens = added.ConvertAll(a => a.Item1),
            MaxLength = maxLength,
        };
        return Create(path, ToTokenArray(vocab, added), vocab, added, options);
    }

    private static bool Bool(JsonElement obj, string name, bool fallback) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;

    private static string[] ToTokenArray(Dictionary<string, int> vocab, List<(string, int)> added)
    {
        int size = 0;
        foreach (int id in vocab.Values)
        {
            size = Math.Max(size, id + 1);
        }
        foreach (var (_, id) in added)
        {
            size = Math.Max(size, id + 1);
        }
        var tokens = new string[size];
        Array.Fill(tokens, string.Empty);
        foreach (var (piece, id) in vocab)
        {
            tokens[id] = piece;
        }
        foreach (var (content, id) in added)
        {
            tokens[id] = content;
        }
        return tokens;
    }

    private static BertWordPieceTokenizer Create(string path, string[] tokens, Dictionary<string, int> vocab,
        List<(string, int)> added, BertTokenizerOptions options)
    {
        int Require(string token, string role)
        {
            if (vocab.TryGetValue(token, out int id))
            {
                return id;
            }
            foreach (var (content, addedId) in added)
            {
                if (content == token)
                {
                    return addedId;
                }
            }
            throw new ModelLoadException($"{path}: the {role} token '{token}' is not in the vocabulary; is this a BERT WordPiece vocabulary?");
        }
        if (options.MaxInputCharsPerWord < 1)
        {
            throw new ModelLoadException($"{path}: max_input_chars_per_word must be at least 1.");
        }
        int unk = Require(options.UnknownToken, "unknown");
        int cls = Require(options.ClsToken, "CLS");
        int sep = Require(options.SepToken, "SEP");
        int pad = vocab.TryGetValue(options.PadToken, out int padId) ? padId : 0;
        if (options.MaxLength is < 2)
        {
            throw new ModelLoadException($"{path}: the maximum length {options.MaxLength} cannot hold [CLS] and [SEP].");
        }
        return new BertWordPieceTokenizer(tokens, vocab, added, options, unk, cls, sep, pad, path);
    }

    // ---------------------------------------------------------------- encoding

    /// <summary>Collects ids into the caller's span, counting past its end.</summary>
    private ref struct IdSink
    {
        public Span<int> Destination;
        public int Count;
        public bool StopWhenFull;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(int id)
        {
            if ((uint)Count < (uint)Destination.Length)
            {
                Destination[Count] = id;
            }
            Count++;
        }

        /// <summary>True when nothing more is wanted (checked only at word boundaries).</summary>
        public readonly bool Full => StopWhenFull && Count > Destination.Length;
    }

    private protected override int EncodeCore(ReadOnlySpan<char> text, Span<int> destination, bool countAll)
    {
        var sink = new IdSink { Destination = destination, StopWhenFull = !countAll };
        int pos = 0;
        while (pos < text.Length && !sink.Full)
        {
            int matchStart = text.Length, matchLength = 0, matchId = -1;
            if (_addedFirstChars is not null)
            {
                FindAddedToken(text, pos, out matchStart, out matchLength, out matchId);
            }
            EncodeSegment(text[pos..matchStart], ref sink);
            if (matchId >= 0 && !sink.Full)
            {
                sink.Add(matchId);
            }
            pos = matchStart + matchLength;
        }
        return sink.Count;
    }

    /// <summary>Leftmost, then longest, literal added token at or after <paramref name="from"/>.</summary>
    private void FindAddedToken(ReadOnlySpan<char> text, int from, out int start, out int length, out int id)
    {
        int i = from;
        while (i < text.Length)
        {
            int hit = text[i..].IndexOfAny(_addedFirstChars!);
            if (hit < 0)
            {
                break;
            }
            i += hit;
            foreach (var (content, addedId) in _added) // longest first
            {
                if (text[i..].StartsWith(content, StringComparison.Ordinal))
                {
                    start = i;
                    length = content.Length;
                    id = addedId;
                    return;
                }
            }
            i++;
        }
        start = text.Length;
        length = 0;
        id = -1;
    }

    private void EncodeSegment(ReadOnlySpan<char> segment, ref IdSink sink)
    {
        if (segment.IsEmpty)
        {
            return;
        }
        if (!_cleanText)
        {
            EncodeUnicode(segment, ref sink);
            return;
        }
        // Chunks between ASCII whitespace are independent (no word, mark or reordering crosses a space), so
        // the ASCII ones keep the fast path even in a text with a few accents or dashes.
        while (!segment.IsEmpty && !sink.Full)
        {
            int space = segment.IndexOfAny(AsciiWhitespace);
            var chunk = space < 0 ? segment : segment[..space];
            if (!chunk.IsEmpty)
            {
                if (Ascii.IsValid(chunk) && !chunk.ContainsAny(AsciiControls))
                {
                    EncodeAscii(chunk, ref sink);
                }
                else
                {
                    EncodeUnicode(chunk, ref sink);
                }
            }
            segment = space < 0 ? default : segment[(space + 1)..];
        }
    }

    /// <summary>
    /// ASCII without control chars: NFD, accent stripping and CJK handling change nothing, so words are
    /// slices of the input and lower-casing happens inside the vocabulary walk.
    /// </summary>
    private void EncodeAscii(ReadOnlySpan<char> text, ref IdSink sink)
    {
        int wordStart = -1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsAsciiLetterOrDigit(c))
            {
                if (wordStart < 0)
                {
                    wordStart = i;
                }
                continue;
            }
            if (wordStart >= 0)
            {
                WordPiece(text[wordStart..i], _lowercase, ref sink);
                wordStart = -1;
                if (sink.Full)
                {
                    return;
                }
            }
            if (c > ' ')
            {
                WordPiece(text.Slice(i, 1), false, ref sink); // ASCII punctuation: a word of its own
                if (sink.Full)
                {
                    return;
                }
            }
        }
        if (wordStart >= 0)
        {
            WordPiece(text[wordStart..], _lowercase, ref sink);
        }
    }

    /// <summary>The full pipeline on code points; only for text with non-ASCII or control chars.</summary>
    private void EncodeUnicode(ReadOnlySpan<char> text, ref IdSink sink)
    {
        var cleaned = new PooledBuffer<int>(text.Length + 16);
        var decomposed = new PooledBuffer<int>(text.Length + 16);
        var normalized = new PooledBuffer<char>(text.Length + 16);
        try
        {
            // clean_text + handle_chinese_chars
            for (int i = 0; i < text.Length;)
            {
                int cp = SentencePieceUnigramTokenizer.ReadCodePoint(text, ref i);
                if (_cleanText)
                {
                    if (cp == 0 || cp == 0xFFFD || IsControl(cp))
                    {
                        continue;
                    }
                    if (IsWhitespace(cp))
                    {
                        cp = ' ';
                    }
                }
                if (_handleChineseChars && IsCjkIdeograph(cp))
                {
                    cleaned.Add(' ');
                    cleaned.Add(cp);
                    cleaned.Add(' ');
                }
                else
                {
                    cleaned.Add(cp);
                }
            }

            // strip accents: NFD, then drop every non-spacing mark
            ReadOnlySpan<int> cps = cleaned.Span;
            if (_stripAccents)
            {
                foreach (int cp in cps)
                {
                    UnicodeNormalizer.AppendDecomposed(cp, compatibility: false, ref decomposed);
                }
                cps = decomposed.Span;
            }

            // lowercase char by char (no final-sigma rule), back to UTF-16
            foreach (int cp in cps)
            {
                if (_stripAccents && cp >= 0x300 && GetCategory(cp) == UnicodeCategory.NonSpacingMark)
                {
                    continue;
                }
                int lower = _lowercase ? ToLower(cp) : cp;
                if (lower <= char.MaxValue)
                {
                    normalized.Add((char)lower);
                }
                else
                {
                    normalized.Add((char)(0xD800 + ((lower - 0x10000) >> 10)));
                    normalized.Add((char)(0xDC00 + ((lower - 0x10000) & 0x3FF)));
                }
            }

            SplitWords(normalized.Span, ref sink);
        }
        finally
        {
            cleaned.Dispose();
            decomposed.Dispose();
            normalized.Dispose();
        }
    }

    /// <summary>BertPreTokenizer: split on whitespace; every punctuation char is a word of its own.</summary>
    private void SplitWords(ReadOnlySpan<char> text, ref IdSink sink)
    {
        int wordStart = -1;
        for (int i = 0; i < text.Length;)
        {
            int start = i;
            int cp = SentencePieceUnigramTokenizer.ReadCodePoint(text, ref i);
            bool space = IsWhitespace(cp);
            bool punct = !space && IsPunctuation(cp);
            if (!space && !punct)
            {
                if (wordStart < 0)
                {
                    wordStart = start;
                }
                continue;
            }
            if (wordStart >= 0)
            {
                WordPiece(text[wordStart..start], false, ref sink);
                wordStart = -1;
                if (sink.Full)
                {
                    return;
                }
            }
            if (punct)
            {
                WordPiece(text[start..i], false, ref sink);
                if (sink.Full)
                {
                    return;
                }
            }
        }
        if (wordStart >= 0)
        {
            WordPiece(text[wordStart..], false, ref sink);
        }
    }

    /// <summary>Greedy longest-match WordPiece of one word; the whole word becomes [UNK] when it cannot be covered.</summary>
    private void WordPiece(ReadOnlySpan<char> word, bool lowerAscii, ref IdSink sink)
    {
        if (word.Length > _maxCharsPerWord && CountCodePoints(word) > _maxCharsPerWord)
        {
            sink.Add(_unk);
            return;
        }
        CharTrie trie = _trie;
        int mark = sink.Count;
        int pos = 0;
        while (pos < word.Length)
        {
            int node = pos == 0 ? CharTrie.Root : _continuationRoot;
            int bestId = -1, bestEnd = pos;
            for (int j = pos; j < word.Length && node >= 0; j++)
            {
                char c = word[j];
                if (lowerAscii && char.IsAsciiLetterUpper(c))
                {
                    c = (char)(c | 0x20);
                }
                node = trie.Next(node, c);
                if (node >= 0)
                {
                    int id = trie.ValueAt(node);
                    if (id >= 0)
                    {
                        bestId = id;
                        bestEnd = j + 1;
                    }
                }
            }
            if (bestId < 0)
            {
                sink.Count = mark; // roll the partial pieces back
                sink.Add(_unk);
                return;
            }
            sink.Add(bestId);
            pos = bestEnd;
        }
    }

    private static int CountCodePoints(ReadOnlySpan<char> word)
    {
        int count = 0;
        for (int i = 0; i < word.Length; i++)
        {
            if (!(char.IsLowSurrogate(word[i]) && i > 0 && char.IsHighSurrogate(word[i - 1])))
            {
                count++;
            }
        }
        return count;
    }

    private static UnicodeCategory GetCategory(int cp) => CharUnicodeInfo.GetUnicodeCategory(cp);

    private static int ToLower(int cp)
    {
        if (cp < 0x80)
        {
            return cp is >= 'A' and <= 'Z' ? cp | 0x20 : cp;
        }
        if (cp is >= 0xD800 and <= 0xDFFF)
        {
            return cp; // lone surrogate
        }
        return Rune.ToLowerInvariant(new Rune(cp)).Value;
    }

    /// <summary>Cc, Cf, Co, Cs except tab, newline and carriage return (which count as whitespace).</summary>
    private static bool IsControl(int cp)
    {
        if (cp is '\t' or '\n' or '\r')
        {
            return false;
        }
        var cat = GetCategory(cp);
        return cat is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;
    }

    /// <summary>Unicode White_Space (Rust <c>char::is_whitespace</c>).</summary>
    private static bool IsWhitespace(int cp)
    {
        if (cp < 0x80)
        {
            return cp is ' ' or (>= '\t' and <= '\r');
        }
        return cp is 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;
    }

    /// <summary>ASCII non-alphanumeric printable chars and Unicode P* (BertPreTokenizer's rule).</summary>
    private static bool IsPunctuation(int cp)
    {
        if (cp < 0x80)
        {
            return cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126);
        }
        if (cp is >= 0xD800 and <= 0xDFFF)
        {
            return false;
        }
        return GetCategory(cp) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
            or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation;
    }

    private static bool IsCjkIdeograph(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
