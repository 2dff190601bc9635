using System.Buffers;

namespace Embeddings.Tokenization;

/// <summary>
/// A text-to-ids tokenizer of a sentence-embedding model. Thread-safe: one instance serves every thread.
/// Two forms of output:
/// <list type="bullet">
/// <item><b>pieces</b> (<see cref="EncodeToIds(ReadOnlySpan{char}, Span{int}, out int)"/>,
/// <see cref="CountTokens"/>): the model's word pieces alone, for callers that assemble windows themselves;</item>
/// <item><b>model input</b> (<see cref="EncodeWithSpecialTokens(ReadOnlySpan{char}, Span{int}, out bool)"/>,
/// <see cref="Encode"/>): pieces wrapped in <see cref="LeadingSpecialIds"/> / <see cref="TrailingSpecialIds"/>
/// (BERT: <c>[CLS] ... [SEP]</c>) and cut to a maximum length, keeping the first pieces.</item>
/// </list>
/// </summary>
internal abstract class Tokenizer
{
    private readonly int[] _leading;
    private readonly int[] _trailing;

    /// <summary>Sets the special ids put around the pieces of one sequence.</summary>
    private protected Tokenizer(int[] leadingSpecialIds, int[] trailingSpecialIds)
    {
        _leading = leadingSpecialIds;
        _trailing = trailingSpecialIds;
    }

    /// <summary>Number of ids in the vocabulary (ids are 0..VocabularySize-1).</summary>
    public abstract int VocabularySize { get; }

    /// <summary>The id of unknown text.</summary>
    public abstract int UnknownId { get; }

    /// <summary>The id that opens a sequence (<c>[CLS]</c>), or -1 when the model has none.</summary>
    public virtual int ClsId => -1;

    /// <summary>The id that closes a sequence (<c>[SEP]</c>), or -1 when the model has none.</summary>
    public virtual int SepId => -1;

    /// <summary>The padding id of batched input, or -1 when the model takes no padding.</summary>
    public virtual int PadId => -1;

    /// <summary>The longest model input (special ids included) the tokenizer files ask for, when they say.</summary>
    public virtual int? MaxLength => null;

    /// <summary>Ids put before the pieces of a sequence (empty when none).</summary>
    public ReadOnlySpan<int> LeadingSpecialIds => _leading;

    /// <summary>Ids put after the pieces of a sequence (empty when none).</summary>
    public ReadOnlySpan<int> TrailingSpecialIds => _trailing;

    /// <summary>Number of special ids added around one sequence.</summary>
    public int SpecialTokenCount => _leading.Length + _trailing.Length;

    /// <summary>The vocabulary string of <paramref name="id"/> (for display and tests).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is not in the vocabulary.</exception>
    public abstract string IdToToken(int id);

    /// <summary>
    /// Writes the pieces of <paramref name="text"/> (no special ids) into <paramref name="destination"/>.
    /// Returns <see cref="OperationStatus.Done"/> when all fit, else <see cref="OperationStatus.DestinationTooSmall"/>
    /// with the destination holding the FIRST <c>destination.Length</c> pieces (the truncated form);
    /// <see cref="CountTokens"/> tells the size needed.
    /// </summary>
    public OperationStatus EncodeToIds(ReadOnlySpan<char> text, Span<int> destination, out int written)
    {
        int result = EncodeCore(text, destination, countAll: false);
        if (result > destination.Length)
        {
            written = destination.Length;
            return OperationStatus.DestinationTooSmall;
        }
        written = result;
        return OperationStatus.Done;
    }

    /// <summary>The pieces of <paramref name="text"/>, without special ids.</summary>
    public int[] EncodeToIds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return EncodeToIds(text.AsSpan());
    }

    /// <summary>The pieces of <paramref name="text"/>, without special ids.</summary>
    public int[] EncodeToIds(ReadOnlySpan<char> text)
    {
        var scratch = ArrayPool<int>.Shared.Rent(Math.Min(Math.Max(16, text.Length + 2), 1 << 20));
        try
        {
            int count = EncodeCore(text, scratch, countAll: true);
            if (count <= scratch.Length)
            {
                return scratch.AsSpan(0, count).ToArray();
            }
            var ids = new int[count];
            EncodeCore(text, ids, countAll: true);
            return ids;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(scratch);
        }
    }

    /// <summary>Number of pieces of <paramref name="text"/> (no special ids), without keeping them.</summary>
    public int CountTokens(ReadOnlySpan<char> text) => EncodeCore(text, [], countAll: true);

    /// <summary>
    /// Writes the model input for <paramref name="text"/>: leading special ids, the first pieces that fit,
    /// trailing special ids. <c>destination.Length</c> is the maximum length; <paramref name="truncated"/> says
    /// whether pieces were left out. Returns the number of ids written.
    /// </summary>
    /// <exception cref="ArgumentException">The destination cannot even hold the special ids.</exception>
    public int EncodeWithSpecialTokens(ReadOnlySpan<char> text, Span<int> destination, out bool truncated)
    {
        int specials = SpecialTokenCount;
        if (destination.Length < specials)
        {
            throw new ArgumentException(
                $"The destination holds {destination.Length} ids but the special ids alone need {specials}; give at least {specials}.",
                nameof(destination));
        }
        _leading.CopyTo(destination);
        var body = destination[_leading.Length..^_trailing.Length];
        int result = EncodeCore(text, body, countAll: false);
        truncated = result > body.Length;
        int pieces = Math.Min(result, body.Length);
        _trailing.CopyTo(destination[(_leading.Length + pieces)..]);
        return pieces + specials;
    }

    /// <summary>
    /// The model input for <paramref name="text"/> (special ids included), cut to <paramref name="maxLength"/>
    /// ids keeping the first pieces; default: <see cref="MaxLength"/> when the tokenizer files give one, else no limit.
    /// </summary>
    public TokenizedText Encode(string text, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        int limit = maxLength ?? MaxLength ?? int.MaxValue;
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, SpecialTokenCount, nameof(maxLength));
        var pieces = EncodeToIds(text.AsSpan());
        int body = Math.Min(pieces.Length, limit - SpecialTokenCount);
        var ids = new int[body + SpecialTokenCount];
        _leading.CopyTo(ids, 0);
        pieces.AsSpan(0, body).CopyTo(ids.AsSpan(_leading.Length));
        _trailing.CopyTo(ids, _leading.Length + body);
        return new TokenizedText(ids, pieces.Length > body, pieces.Length + SpecialTokenCount);
    }

    /// <summary>
    /// Encodes into <paramref name="destination"/> (no special ids) and returns the full number of pieces.
    /// Writes the first <c>min(total, destination.Length)</c> ids. When <paramref name="countAll"/> is false the
    /// implementation may stop as soon as the destination is full and return any value above its length.
    /// </summary>
    private protected abstract int EncodeCore(ReadOnlySpan<char> text, Span<int> destination, bool countAll);
}

/// <summary>Model input for one text.</summary>
/// <param name="Ids">Special ids and pieces, at most the requested length.</param>
/// <param name="Truncated">True when pieces were cut off the end.</param>
/// <param name="UntruncatedLength">Length the input would have had without the cut (special ids included).</param>
internal sealed record TokenizedText(int[] Ids, bool Truncated, int UntruncatedLength);
