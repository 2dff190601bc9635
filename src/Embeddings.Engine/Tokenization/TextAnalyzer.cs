using Embeddings.Quality;

namespace Embeddings.Tokenization;

/// <summary>How text becomes terms; recorded with every index and model built from it.</summary>
internal sealed record TextAnalyzerOptions
{
    /// <summary>Drop English stop words (<see cref="EnglishStopWords"/>). Default true.</summary>
    public bool RemoveStopWords { get; init; } = true;

    /// <summary>Stemmer applied to kept tokens. Default <see cref="QualityDefaults.Stemmer"/>.</summary>
    public StemmerKind Stemmer { get; init; } = QualityDefaults.Stemmer;

    /// <summary>Also emit bigrams of consecutive kept terms ("heart failur"). Default false.</summary>
    public bool Bigrams { get; init; }

    /// <summary>Tokens shorter than this many characters are dropped (scikit-learn keeps 2+). Default 2.</summary>
    public int MinTokenLength { get; init; } = 2;

    /// <summary>Tokens longer than this are dropped (sequences, URLs, noise). Default 40.</summary>
    public int MaxTokenLength { get; init; } = 40;

    /// <summary>
    /// Also drop the words every abstract uses ("propose", "results", "state-of-the-art": <see cref="AbstractBoilerplate"/>).
    /// A topic-label setting: never persisted (see <see cref="IsLabelProfile"/>).
    /// </summary>
    public bool RemoveBoilerplate { get; init; }

    /// <summary>
    /// Keep hyphenated words whole ("in-context", "pre-training", "COVID-19") instead of splitting them at the hyphen.
    /// A topic-label setting: never persisted.
    /// </summary>
    public bool JoinHyphenated { get; init; }

    /// <summary>
    /// Drop what is markup, not words: LaTeX command names (<c>\mathcal</c>, <c>\mathbb</c>), URLs, and tokens without a
    /// letter ("2024", "4.5"). A topic-label setting: never persisted.
    /// </summary>
    public bool SkipMarkup { get; init; }

    /// <summary>
    /// Bigrams only of words that stand next to each other in the text: never across a dropped stop word or punctuation
    /// (so "learning of graphs" gives no "learning graphs"). Without it bigrams join consecutive kept terms, as the
    /// persisted BM25 and LSA analyses do. A topic-label setting: never persisted.
    /// </summary>
    public bool AdjacentBigramsOnly { get; init; }

    /// <summary>
    /// With <see cref="Bigrams"/>, also emit trigrams of words that stand next to each other ("graph neural networks",
    /// "stochastic gradient descent"). A topic-label setting: never persisted.
    /// </summary>
    public bool Trigrams { get; init; }

    /// <summary>
    /// The profile topic labels use: English stop words and abstract boilerplate dropped, plurals folded ("groups" and
    /// "group" are one term) but no deeper stemming, so the words shown are real words; hyphenated words kept whole;
    /// markup skipped; bigrams of adjacent words only, so phrases read as written.
    /// </summary>
    public static TextAnalyzerOptions TopicLabels { get; } = new()
    {
        Stemmer = StemmerKind.Plural,
        Bigrams = true,
        Trigrams = true,
        RemoveBoilerplate = true,
        JoinHyphenated = true,
        SkipMarkup = true,
        AdjacentBigramsOnly = true,
    };

    /// <summary>
    /// Whether a topic-label setting is on. Label profiles are never written into an index or model: the bytes of
    /// <see cref="WriteTo"/> and the text of <see cref="Describe"/> are part of LSA fingerprints and stay what they were.
    /// </summary>
    public bool IsLabelProfile => RemoveBoilerplate || JoinHyphenated || SkipMarkup || AdjacentBigramsOnly || Trigrams;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (MinTokenLength < 1 || MaxTokenLength < MinTokenLength || MaxTokenLength > 256)
        {
            throw new ArgumentException($"token lengths must satisfy 1 <= MinTokenLength ({MinTokenLength}) <= MaxTokenLength ({MaxTokenLength}) <= 256");
        }
        if (Trigrams && !Bigrams)
        {
            throw new ArgumentException("trigrams need bigrams: set Bigrams too");
        }
        if (!Enum.IsDefined(Stemmer))
        {
            throw new ArgumentException($"unknown stemmer {Stemmer}; known: None, Plural, Porter");
        }
    }

    /// <summary>
    /// Writes the options into a persisted index or model (BM25, LSA). The bytes are part of LSA fingerprints, so they
    /// never change for a given set of options.
    /// </summary>
    internal void WriteTo(BinaryWriter w)
    {
        ThrowIfLabelProfile();
        w.Write(RemoveStopWords);
        w.Write((int)Stemmer);
        w.Write(Bigrams);
        w.Write(MinTokenLength);
        w.Write(MaxTokenLength);
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote, validated.</summary>
    internal static TextAnalyzerOptions ReadFrom(BinaryReader r)
    {
        var a = new TextAnalyzerOptions
        {
            RemoveStopWords = r.ReadBoolean(),
            Stemmer = (StemmerKind)r.ReadInt32(),
            Bigrams = r.ReadBoolean(),
            MinTokenLength = r.ReadInt32(),
            MaxTokenLength = r.ReadInt32(),
        };
        a.Validate();
        return a;
    }

    /// <summary>A short stable description, part of model fingerprints.</summary>
    public string Describe()
    {
        ThrowIfLabelProfile();
        return $"stop={(RemoveStopWords ? 1 : 0)};stem={Stemmer};bigrams={(Bigrams ? 1 : 0)};len={MinTokenLength}-{MaxTokenLength}";
    }

    private void ThrowIfLabelProfile()
    {
        if (IsLabelProfile)
        {
            throw new InvalidOperationException("A topic-label analysis profile is not persisted: indexes and models use the plain analysis options.");
        }
    }
}

/// <summary>Receives the terms of a text one at a time (spans valid only during the call).</summary>
internal interface ITermSink
{
    /// <summary>Whether <see cref="Term"/> wants the surface form (a constant of the sink type, so the analyser skips the work otherwise).</summary>
    bool WantsSurface { get; }

    /// <summary>
    /// One term (lower-cased, stemmed; a bigram is two terms joined by a space) and, when <see cref="WantsSurface"/>,
    /// the words as the text wrote them ("LLMs", "Neural networks"); empty otherwise.
    /// </summary>
    void Term(ReadOnlySpan<char> term, ReadOnlySpan<char> surface);
}

/// <summary>
/// Text analysis shared by BM25, LSA and topic labels: word tokens (runs of letters and digits),
/// lower-cased, English stop words removed, stemmed, optionally with bigrams. Works on spans with stack
/// buffers: no string is made per token. Thread-safe and immutable.
/// </summary>
internal sealed class TextAnalyzer
{
    private const int MaxStack = 256;

    private readonly bool _labelProfile;

    private TextAnalyzer(TextAnalyzerOptions options)
    {
        Options = options;
        _labelProfile = options.IsLabelProfile;
    }

    /// <summary>The options.</summary>
    public TextAnalyzerOptions Options { get; }

    /// <summary>An analyzer with the given options (defaults when null).</summary>
    public static TextAnalyzer Create(TextAnalyzerOptions? options = null)
    {
        options ??= new TextAnalyzerOptions();
        options.Validate();
        return new TextAnalyzer(options);
    }

    /// <summary>The terms of <paramref name="text"/> in order (allocates; for tests, labels and tools).</summary>
    public IReadOnlyList<string> Terms(ReadOnlySpan<char> text)
    {
        var sink = new StringSink { Terms = [] };
        Analyze(text, ref sink);
        return sink.Terms;
    }

    /// <summary>
    /// Appends the term ids of <paramref name="text"/> to <paramref name="termIds"/>. Terms not in
    /// <paramref name="vocabulary"/> are added when <paramref name="addNewTerms"/>, skipped otherwise.
    /// </summary>
    public void AnalyzeToIds(ReadOnlySpan<char> text, TermVocabulary vocabulary, bool addNewTerms, List<int> termIds)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(termIds);
        var sink = new IdSink { Vocabulary = vocabulary, Add = addNewTerms, Ids = termIds };
        Analyze(text, ref sink);
    }

    /// <summary>
    /// The distinct term ids of <paramref name="text"/> with their counts, sorted by id, in
    /// <paramref name="ids"/>/<paramref name="counts"/> (cleared first). <paramref name="scratch"/> is reused.
    /// </summary>
    public void CountTerms(ReadOnlySpan<char> text, TermVocabulary vocabulary, bool addNewTerms,
        List<int> scratch, List<int> ids, List<int> counts)
    {
        ArgumentNullException.ThrowIfNull(scratch);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(counts);
        scratch.Clear();
        ids.Clear();
        counts.Clear();
        AnalyzeToIds(text, vocabulary, addNewTerms, scratch);
        scratch.Sort();
        for (int i = 0; i < scratch.Count;)
        {
            int id = scratch[i];
            int j = i + 1;
            while (j < scratch.Count && scratch[j] == id)
            {
                j++;
            }
            ids.Add(id);
            counts.Add(j - i);
            i = j;
        }
    }

    internal void Analyze<TSink>(ReadOnlySpan<char> text, ref TSink sink) where TSink : struct, ITermSink
    {
        TextAnalyzerOptions o = Options;
        // The label settings are checked only when one is on, so the persisted analyses (BM25, LSA) run the plain loop.
        bool labels = _labelProfile;
        bool adjacentOnly = labels && o.AdjacentBigramsOnly;
        Span<char> token = stackalloc char[MaxStack];
        // The previous kept term (and, for trigrams, the one before it), stemmed, and where they stand in the text.
        Span<char> previous = stackalloc char[MaxStack];
        Span<char> before = stackalloc char[o.Trigrams ? MaxStack : 0];
        Span<char> phrase = stackalloc char[3 * MaxStack + 2];
        Span<char> phraseSurface = stackalloc char[sink.WantsSurface && o.Bigrams ? 3 * MaxStack + 2 : 0];
        int previousLength = 0, beforeLength = 0;
        int previousStart = 0, previousEnd = 0, beforeStart = 0;
        int chain = 0; // how many of previous, before can start a phrase with the next term
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetterOrDigit(text[i]))
            {
                i++;
            }
            int start = i;
            while (i < text.Length && char.IsLetterOrDigit(text[i]))
            {
                i++;
            }
            if (labels && o.JoinHyphenated)
            {
                while (i + 1 < text.Length && text[i] is '-' or '\u2010' && char.IsLetterOrDigit(text[i + 1]))
                {
                    i++;
                    while (i < text.Length && char.IsLetterOrDigit(text[i]))
                    {
                        i++;
                    }
                }
            }
            int length = i - start;
            if (labels && o.SkipMarkup && IsMarkup(text, start, ref i))
            {
                chain = adjacentOnly ? 0 : chain;
                continue;
            }
            if (length < o.MinTokenLength || length > o.MaxTokenLength)
            {
                chain = adjacentOnly ? 0 : chain;
                continue;
            }
            Span<char> t = token[..length];
            text.Slice(start, length).ToLowerInvariant(t);
            if ((o.RemoveStopWords && EnglishStopWords.Contains(t)) ||
                (labels && ((o.RemoveBoilerplate && AbstractBoilerplate.Contains(t)) || (o.SkipMarkup && AbstractBoilerplate.IsLatexWord(t)))))
            {
                chain = adjacentOnly ? 0 : chain;
                continue;
            }
            int stemmed = Stemmers.Stem(o.Stemmer, t);
            if (stemmed == 0)
            {
                continue;
            }
            t = t[..stemmed];
            ReadOnlySpan<char> surface = sink.WantsSurface ? text.Slice(start, length) : default;
            sink.Term(t, surface);
            if (!o.Bigrams)
            {
                continue;
            }
            if (adjacentOnly && chain > 0 && !IsSpaceOnly(text[previousEnd..start]))
            {
                chain = 0;
            }
            if (chain >= 1)
            {
                int n = Join(phrase, previous[..previousLength], t);
                sink.Term(phrase[..n], sink.WantsSurface ? Written(text[previousStart..(start + length)], phraseSurface) : default);
            }
            if (chain >= 2)
            {
                // before + previous + t: "graph neural networks".
                int n = Join(phrase, before[..beforeLength], previous[..previousLength]);
                phrase[n++] = ' ';
                t.CopyTo(phrase[n..]);
                n += t.Length;
                sink.Term(phrase[..n], sink.WantsSurface ? Written(text[beforeStart..(start + length)], phraseSurface) : default);
            }
            if (o.Trigrams)
            {
                previous[..previousLength].CopyTo(before);
                beforeLength = previousLength;
                beforeStart = previousStart;
            }
            t.CopyTo(previous);
            previousLength = t.Length;
            previousStart = start;
            previousEnd = start + length;
            chain = o.Trigrams ? Math.Min(chain + 1, 2) : 1;
        }
    }

    /// <summary>Writes <paramref name="first"/>, a space and <paramref name="second"/> into <paramref name="buffer"/>; returns the length.</summary>
    private static int Join(Span<char> buffer, ReadOnlySpan<char> first, ReadOnlySpan<char> second)
    {
        first.CopyTo(buffer);
        buffer[first.Length] = ' ';
        second.CopyTo(buffer[(first.Length + 1)..]);
        return first.Length + 1 + second.Length;
    }

    /// <summary>A phrase as the text writes it, each run of white space (a line break too) made one space.</summary>
    private static ReadOnlySpan<char> Written(ReadOnlySpan<char> words, Span<char> buffer)
    {
        int n = 0;
        bool space = false;
        foreach (char c in words)
        {
            if (char.IsWhiteSpace(c))
            {
                space = true;
                continue;
            }
            if (n + 2 > buffer.Length)
            {
                break;
            }
            if (space && n > 0)
            {
                buffer[n++] = ' ';
            }
            space = false;
            buffer[n++] = c;
        }
        return buffer[..n];
    }

    /// <summary>
    /// Whether the token at <paramref name="start"/> (ending at <paramref name="end"/>) is markup: a LaTeX command name,
    /// a URL (then <paramref name="end"/> moves past it), or a token without a letter.
    /// </summary>
    private static bool IsMarkup(ReadOnlySpan<char> text, int start, ref int end)
    {
        if (start > 0 && text[start - 1] == '\\')
        {
            return true;
        }
        ReadOnlySpan<char> rest = text[start..];
        if (rest.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || rest.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ||
            rest.StartsWith("www.", StringComparison.OrdinalIgnoreCase))
        {
            int space = rest.IndexOfAny(' ', '\n', '\t');
            end = space < 0 ? text.Length : start + space;
            return true;
        }
        foreach (char c in text[start..end])
        {
            if (char.IsLetter(c))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsSpaceOnly(ReadOnlySpan<char> gap)
    {
        foreach (char c in gap)
        {
            if (!char.IsWhiteSpace(c))
            {
                return false;
            }
        }
        return true;
    }

    private struct StringSink : ITermSink
    {
        public List<string> Terms;

        public readonly bool WantsSurface => false;

        public readonly void Term(ReadOnlySpan<char> term, ReadOnlySpan<char> surface) => Terms.Add(term.ToString());
    }

    private struct IdSink : ITermSink
    {
        public TermVocabulary Vocabulary;
        public bool Add;
        public List<int> Ids;

        public readonly bool WantsSurface => false;

        public readonly void Term(ReadOnlySpan<char> term, ReadOnlySpan<char> surface)
        {
            int id = Add ? Vocabulary.GetOrAdd(term) : Vocabulary.IdOf(term);
            if (id >= 0)
            {
                Ids.Add(id);
            }
        }
    }
}
