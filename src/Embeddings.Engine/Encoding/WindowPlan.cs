using System.Buffers;
using Embeddings.Tokenization;

namespace Embeddings.Encoding;

/// <summary>
/// The token windows of one call: every non-empty text becomes one or more windows of at most
/// <c>bodyLimit</c> word pieces (special ids are added later by the model runner). All ids live in one pooled
/// arena; windows are (text, start, length) triples into it. Short texts (the common case for titles, and every
/// text within the limit) are one window tokenized as a whole, exactly as the reference pipelines do.
/// </summary>
/// <remarks>
/// Long texts, with windowing on: the text is split into sentences, each sentence tokenized on its own, and whole
/// sentences are packed greedily into windows; a sentence longer than the limit is cut into limit-sized chunks.
/// Past <c>maxWindows</c> windows the rest of the text is dropped and the text is flagged truncated. With windowing
/// off a long text keeps its first <c>bodyLimit</c> pieces (flagged truncated).
/// </remarks>
internal sealed class WindowPlan : IWindowSource, IDisposable
{
    private int[] _ids;
    private int _idCount;
    private int[] _winText;
    private int[] _winStart;
    private int[] _winLength;

    private WindowPlan(int textCount, int expectedIds)
    {
        _ids = ArrayPool<int>.Shared.Rent(Math.Max(256, expectedIds));
        _winText = ArrayPool<int>.Shared.Rent(Math.Max(16, textCount * 2));
        _winStart = ArrayPool<int>.Shared.Rent(_winText.Length);
        _winLength = ArrayPool<int>.Shared.Rent(_winText.Length);
        FirstWindow = new int[textCount];
        WindowCounts = new int[textCount];
        Truncated = new bool[textCount];
        IsEmpty = new bool[textCount];
    }

    /// <summary>Number of windows.</summary>
    public int WindowCount { get; private set; }

    /// <summary>Total word pieces over all windows.</summary>
    public long TokenCount { get; private set; }

    /// <summary>Index of each text's first window (its windows are consecutive).</summary>
    public int[] FirstWindow { get; }

    /// <summary>Windows per text (0 for empty texts).</summary>
    public int[] WindowCounts { get; }

    /// <summary>Whether part of the text was left out.</summary>
    public bool[] Truncated { get; }

    /// <summary>Whether the text was empty or whitespace only (or had no pieces at all).</summary>
    public bool[] IsEmpty { get; }

    /// <summary>The text a window belongs to.</summary>
    public int TextOf(int window) => _winText[window];

    /// <summary>The pieces of a window.</summary>
    public ReadOnlySpan<int> Window(int window) => _ids.AsSpan(_winStart[window], _winLength[window]);

    /// <summary>The number of pieces of a window.</summary>
    public int LengthOf(int window) => _winLength[window];

    /// <summary>Plans the windows of <paramref name="texts"/>.</summary>
    /// <param name="texts">The texts.</param>
    /// <param name="tokenizer">The model's tokenizer (pieces only; no special ids).</param>
    /// <param name="splitSentences">Sentence ranges of a text, in order.</param>
    /// <param name="bodyLimit">Most pieces per window, special ids excluded.</param>
    /// <param name="windowing">Whether long texts are windowed (else cut).</param>
    /// <param name="maxWindows">Most windows per text.</param>
    public static WindowPlan Build(
        IReadOnlyList<string> texts,
        Tokenizer tokenizer,
        Action<string, List<Range>> splitSentences,
        int bodyLimit,
        bool windowing,
        int maxWindows)
    {
        long chars = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            chars += texts[i]?.Length ?? 0;
        }
        var plan = new WindowPlan(texts.Count, (int)Math.Min(chars / 3 + 64, 1 << 24));
        var sentences = new List<Range>();
        for (int t = 0; t < texts.Count; t++)
        {
            plan.AddText(t, texts[t] ?? throw new ArgumentException($"text {t} is null", nameof(texts)), tokenizer,
                splitSentences, sentences, bodyLimit, windowing, maxWindows);
        }
        return plan;
    }

    public void Dispose()
    {
        ArrayPool<int>.Shared.Return(_ids);
        ArrayPool<int>.Shared.Return(_winText);
        ArrayPool<int>.Shared.Return(_winStart);
        ArrayPool<int>.Shared.Return(_winLength);
        _ids = [];
        _winText = _winStart = _winLength = [];
    }

    private void AddText(int t, string text, Tokenizer tokenizer, Action<string, List<Range>> splitSentences,
        List<Range> sentences, int bodyLimit, bool windowing, int maxWindows)
    {
        FirstWindow[t] = WindowCount;
        if (string.IsNullOrWhiteSpace(text))
        {
            IsEmpty[t] = true;
            return;
        }

        // Whole text first: most texts fit, and then the ids are exactly those of the reference pipelines.
        int start = _idCount;
        int total = Tokenize(text.AsSpan(), tokenizer);
        if (total == 0)
        {
            // Only characters the tokenizer drops (control, zero-width): nothing reaches the model.
            IsEmpty[t] = true;
            return;
        }
        if (total <= bodyLimit)
        {
            AddWindow(t, start, total);
            return;
        }
        if (!windowing)
        {
            AddWindow(t, start, bodyLimit);
            Truncated[t] = true;
            return;
        }

        // Long text: drop the whole-text ids, tokenize sentence by sentence, pack whole sentences greedily.
        _idCount = start;
        sentences.Clear();
        splitSentences(text, sentences);
        if (sentences.Count == 0)
        {
            sentences.Add(Range.All);
        }
        int windowStart = _idCount;
        int windowLength = 0;
        int windows = 0;
        foreach (Range range in sentences)
        {
            int sentenceStart = _idCount;
            int pieces = Tokenize(text.AsSpan()[range], tokenizer);
            if (pieces == 0)
            {
                continue;
            }
            if (windowLength > 0 && windowLength + pieces > bodyLimit)
            {
                // Close the open window; the sentence starts the next one.
                if (windows == maxWindows)
                {
                    break;
                }
                AddWindow(t, windowStart, windowLength);
                windows++;
                windowStart = sentenceStart;
                windowLength = 0;
            }
            windowLength += pieces;
            // A sentence over the limit on its own: emit full chunks, keep the remainder open for packing.
            while (windowLength > bodyLimit)
            {
                if (windows == maxWindows)
                {
                    break;
                }
                AddWindow(t, windowStart, bodyLimit);
                windows++;
                windowStart += bodyLimit;
                windowLength -= bodyLimit;
            }
            if (windows == maxWindows)
            {
                break;
            }
        }
        if (windows == maxWindows)
        {
            Truncated[t] = true;
        }
        else if (windowLength > 0)
        {
            AddWindow(t, windowStart, windowLength);
        }
        if (WindowCounts[t] == 0)
        {
            IsEmpty[t] = true;
        }
    }

    /// <summary>Appends the pieces of <paramref name="text"/> to the arena; returns how many.</summary>
    private int Tokenize(ReadOnlySpan<char> text, Tokenizer tokenizer)
    {
        // A piece covers at least one char (SentencePiece adds one leading U+2581), so Length + 2 always suffices;
        // DestinationTooSmall is still handled, in case a tokenizer ever breaks that bound.
        EnsureIds(_idCount + text.Length + 2);
        OperationStatus status = tokenizer.EncodeToIds(text, _ids.AsSpan(_idCount), out int written);
        if (status == OperationStatus.DestinationTooSmall)
        {
            int needed = tokenizer.CountTokens(text);
            EnsureIds(_idCount + needed);
            status = tokenizer.EncodeToIds(text, _ids.AsSpan(_idCount), out written);
        }
        if (status != OperationStatus.Done)
        {
            throw new InvalidOperationException($"tokenizer returned {status}");
        }
        _idCount += written;
        return written;
    }

    private void AddWindow(int text, int start, int length)
    {
        if (WindowCount == _winText.Length)
        {
            Grow(ref _winText, WindowCount * 2);
            Grow(ref _winStart, WindowCount * 2);
            Grow(ref _winLength, WindowCount * 2);
        }
        _winText[WindowCount] = text;
        _winStart[WindowCount] = start;
        _winLength[WindowCount] = length;
        WindowCount++;
        WindowCounts[text]++;
        TokenCount += length;
    }

    private void EnsureIds(int needed)
    {
        if (needed > _ids.Length)
        {
            Grow(ref _ids, Math.Max(needed, _ids.Length * 2));
        }
    }

    private void Grow(ref int[] array, int size)
    {
        int[] bigger = ArrayPool<int>.Shared.Rent(size);
        array.AsSpan().CopyTo(bigger);
        ArrayPool<int>.Shared.Return(array);
        array = bigger;
    }
}
