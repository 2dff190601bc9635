using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Embeddings.Tokenization;

/// <summary>
/// SentencePiece unigram tokenizer of Universal Sentence Encoder Lite (<c>vocab.json</c>: an array of
/// <c>[piece, score]</c>, id = index). Reproduces the original TF.js tokenizer id for id, quirks included:
/// NFKC, U+2581 for the leading position and every U+0020, Viterbi over all vocabulary prefixes with the
/// <c>best == 0 || score &gt;= best</c> update, backtracking by piece length, runs of unknowns collapsed.
/// No lower-casing and no special ids are added.
/// </summary>
internal sealed class SentencePieceUnigramTokenizer : Tokenizer
{
    /// <summary>Ids below this are reserved (unknown, &lt;s&gt;, &lt;/s&gt;, extras) and never matched in text.</summary>
    public const int FirstMatchableId = 6;

    private const char WordBoundary = '\u2581';

    private readonly CharTrie _trie;
    private readonly double[] _scores;
    private readonly int[] _pieceLengths;
    private readonly string[] _pieces;

    private SentencePieceUnigramTokenizer(string[] pieces, double[] scores) : base([], [])
    {
        _pieces = pieces;
        _scores = scores;
        _pieceLengths = new int[pieces.Length];
        var entries = new List<(string, int)>(pieces.Length);
        for (int id = 0; id < pieces.Length; id++)
        {
            // Backtracking steps back by the piece's UTF-16 length (as the original); never by 0.
            _pieceLengths[id] = Math.Max(1, pieces[id].Length);
            if (id >= FirstMatchableId && pieces[id].Length > 0)
            {
                entries.Add((pieces[id], id)); // a repeated piece keeps its last id, as the original trie does
            }
        }
        _trie = CharTrie.Build(entries);
    }

    /// <inheritdoc/>
    public override int VocabularySize => _pieces.Length;

    /// <inheritdoc/>
    public override int UnknownId => 0;

    /// <inheritdoc/>
    public override string IdToToken(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, _pieces.Length);
        return _pieces[id];
    }

    /// <summary>Loads a USE-lite <c>vocab.json</c> (JSON array of <c>[piece, score]</c>; a null score counts as 0).</summary>
    /// <exception cref="ModelLoadException">The file is missing, unreadable or not in that format.</exception>
    public static SentencePieceUnigramTokenizer FromVocabJson(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(
                $"{path}: cannot read the SentencePiece vocabulary ({e.Message}); the model folder needs vocab.json.", e);
        }
        try
        {
            return Parse(bytes, path);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(
                $"{path}: not valid JSON at line {e.LineNumber + 1} ({e.Message}); expected an array of [piece, score].", e);
        }
    }

    /// <summary>Builds the tokenizer from pieces and scores in id order.</summary>
    /// <exception cref="ArgumentException">Not more pieces than the reserved ids, or a null piece.</exception>
    public static SentencePieceUnigramTokenizer FromPieces(IReadOnlyList<(string Piece, double Score)> pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        if (pieces.Count <= FirstMatchableId)
        {
            throw new ArgumentException($"A unigram vocabulary needs more than {FirstMatchableId} pieces.", nameof(pieces));
        }
        var strings = new string[pieces.Count];
        var scores = new double[pieces.Count];
        for (int i = 0; i < pieces.Count; i++)
        {
            strings[i] = pieces[i].Piece ?? throw new ArgumentException($"Piece {i} is null.", nameof(pieces));
            scores[i] = pieces[i].Score;
        }
        return new SentencePieceUnigramTokenizer(strings, scores);
    }

    private static SentencePieceUnigramTokenizer Parse(byte[] bytes, string path)
    {
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new ModelLoadException($"{path}: expected a JSON array of [piece, score] at the top level.");
        }
        var pieces = new List<string>(8192);
        var scores = new List<double>(8192);
        while (true)
        {
            if (!reader.Read())
            {
                throw new ModelLoadException($"{path}: the array is not closed; the file looks truncated.");
            }
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                break;
            }
            int entry = pieces.Count;
            if (reader.TokenType != JsonTokenType.StartArray
                || !reader.Read() || reader.TokenType != JsonTokenType.String)
            {
                throw Malformed(path, entry, "expected [piece, score] with a string piece");
            }
            pieces.Add(reader.GetString()!);
            if (!reader.Read())
            {
                throw Malformed(path, entry, "truncated entry");
            }
            scores.Add(reader.TokenType switch
            {
                JsonTokenType.Number => reader.GetDouble(),
                JsonTokenType.Null => 0.0, // the original adds null scores as 0 (JS null + x == x)
                _ => throw Malformed(path, entry, "the score must be a number or null"),
            });
            if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)
            {
                throw Malformed(path, entry, "expected exactly two items, [piece, score]");
            }
        }
        if (pieces.Count <= FirstMatchableId)
        {
            throw new ModelLoadException(
                $"{path}: only {pieces.Count} pieces; a USE-lite vocabulary has thousands (ids 0-5 reserved). Is this the right file?");
        }
        return new SentencePieceUnigramTokenizer([.. pieces], [.. scores]);
    }

    private static ModelLoadException Malformed(string path, int entry, string problem) =>
        new($"{path}: entry {entry}: {problem}; vocab.json must be an array of [piece, score].");

    private protected override int EncodeCore(ReadOnlySpan<char> text, Span<int> destination, bool countAll)
    {
        if (text.IsEmpty)
        {
            return 0;
        }
        var symbols = new PooledBuffer<int>(text.Length + 1);
        var reversed = new PooledBuffer<int>(text.Length + 1);
        double[]? best = null;
        int[]? words = null;
        try
        {
            ToSymbols(text, ref symbols);
            ReadOnlySpan<int> sym = symbols.Span;
            int n = sym.Length;
            best = ArrayPool<double>.Shared.Rent(n + 1);
            words = ArrayPool<int>.Shared.Rent(n + 1);
            Viterbi(sym, best.AsSpan(0, n + 1), words.AsSpan(0, n + 1));

            // Backtrack from the end by the chosen piece's length.
            int[] lengths = _pieceLengths;
            for (int it = n; it > 0; it -= lengths[words[it]])
            {
                reversed.Add(words[it]);
            }

            // Reverse and collapse runs of unknown (0) into one.
            ReadOnlySpan<int> rev = reversed.Span;
            int count = 0;
            bool previousUnknown = false;
            for (int i = rev.Length - 1; i >= 0; i--)
            {
                int id = rev[i];
                if (id == 0 && previousUnknown)
                {
                    continue;
                }
                previousUnknown = id == 0;
                if (count < destination.Length)
                {
                    destination[count] = id;
                }
                count++;
            }
            return count;
        }
        finally
        {
            if (best is not null)
            {
                ArrayPool<double>.Shared.Return(best);
            }
            if (words is not null)
            {
                ArrayPool<int>.Shared.Return(words);
            }
            symbols.Dispose();
            reversed.Dispose();
        }
    }

    /// <summary>NFKC, then U+2581 in front and in place of every U+0020, as code points.</summary>
    private static void ToSymbols(ReadOnlySpan<char> text, ref PooledBuffer<int> symbols)
    {
        symbols.Add(WordBoundary);
        if (Ascii.IsValid(text))
        {
            // ASCII is already NFKC.
            var span = symbols.AppendSpan(text.Length);
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                span[i] = c == ' ' ? WordBoundary : c;
            }
            return;
        }
        // NFKC run by run: a code point below U+00A0 followed by one below U+0300 is stable (it has no
        // decomposition, combining class 0, and every composition's second part is >= U+0300), and it also
        // separates what comes before from what follows; only the runs between such points are normalised.
        var run = new PooledBuffer<int>(16);
        try
        {
            int i = 0;
            int cp = ReadCodePoint(text, ref i);
            while (true)
            {
                bool atEnd = i >= text.Length;
                int next = atEnd ? -1 : ReadCodePoint(text, ref i);
                if (cp < 0xA0 && (atEnd || next < 0x300))
                {
                    FlushRun(ref run, ref symbols);
                    symbols.Add(cp == ' ' ? WordBoundary : cp);
                }
                else
                {
                    UnicodeNormalizer.AppendDecomposed(cp, compatibility: true, ref run);
                }
                if (atEnd)
                {
                    break;
                }
                cp = next;
            }
            FlushRun(ref run, ref symbols);
        }
        finally
        {
            run.Dispose();
        }
    }

    private static void FlushRun(ref PooledBuffer<int> run, ref PooledBuffer<int> symbols)
    {
        if (run.Count == 0)
        {
            return;
        }
        int length = UnicodeNormalizer.Compose(run.Span);
        foreach (int cp in run.Span[..length])
        {
            symbols.Add(cp == ' ' ? WordBoundary : cp);
        }
        run.Clear();
    }

    /// <summary>Next code point; a lone surrogate stands for itself (as in JavaScript strings).</summary>
    internal static int ReadCodePoint(ReadOnlySpan<char> text, ref int index)
    {
        char c = text[index++];
        if (char.IsHighSurrogate(c) && index < text.Length && char.IsLowSurrogate(text[index]))
        {
            return char.ConvertToUtf32(c, text[index++]);
        }
        return c;
    }

    /// <summary>
    /// Forward pass of the original lattice: for each end position the edges arrive in ascending start order,
    /// which is the order this loop over starts produces, so the quirky tie rule sees the same sequence.
    /// </summary>
    private void Viterbi(ReadOnlySpan<int> sym, Span<double> best, Span<int> words)
    {
        best.Clear();
        words.Clear();
        CharTrie trie = _trie;
        double[] scores = _scores;
        int n = sym.Length;
        for (int start = 0; start < n; start++)
        {
            double baseScore = best[start];
            bool matched = false;
            int node = CharTrie.Root;
            for (int j = start; j < n; j++)
            {
                int cp = sym[j];
                if (cp > char.MaxValue)
                {
                    break; // every piece is in the BMP
                }
                node = trie.Next(node, (char)cp);
                if (node < 0)
                {
                    break;
                }
                int id = trie.ValueAt(node);
                if (id >= 0)
                {
                    matched = true;
                    Relax(best, words, j + 1, scores[id] + baseScore, id);
                }
            }
            if (!matched)
            {
                Relax(best, words, start + 1, baseScore, 0);
            }
        }
    }

    private static void Relax(Span<double> best, Span<int> words, int end, double score, int id)
    {
        // `== 0 ||` and `>=` are quirks of the original; both change ids, keep them.
        if (best[end] == 0 || score >= best[end])
        {
            best[end] = score;
            words[end] = id;
        }
    }
}
