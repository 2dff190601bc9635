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

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (MinTokenLength < 1 || MaxTokenLength < MinTokenLength || MaxTokenLength > 256)
        {
            throw new ArgumentException($"token lengths must satisfy 1 <= MinTokenLength ({MinTokenLength}) <= MaxTokenLength ({MaxTokenLength}) <= 256");
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
    public string Describe() =>
        $"stop={(RemoveStopWords ? 1 : 0)};stem={Stemmer};bigrams={(Bigrams ? 1 : 0)};len={MinTokenLength}-{MaxTokenLength}";
}

/// <summary>Receives the terms of a text one at a time (span valid only during the call).</summary>
internal interface ITermSink
{
    void Term(ReadOnlySpan<char> term);
}

/// <summary>
/// Text analysis shared by BM25, LSA and topic labels: word tokens (runs of letters and digits),
/// lower-cased, English stop words removed, stemmed, optionally with bigrams. Works on spans with stack
/// buffers: no string is made per token. Thread-safe and immutable.
/// </summary>
internal sealed class TextAnalyzer
{
    private const int MaxStack = 256;

    private TextAnalyzer(TextAnalyzerOptions options)
    {
        Options = options;
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
        Span<char> token = stackalloc char[MaxStack];
        Span<char> previous = stackalloc char[MaxStack];
        Span<char> pair = stackalloc char[2 * MaxStack + 1];
        int previousLength = 0;
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
            int length = i - start;
            if (length < o.MinTokenLength || length > o.MaxTokenLength)
            {
                continue;
            }
            Span<char> t = token[..length];
            text.Slice(start, length).ToLowerInvariant(t);
            if (o.RemoveStopWords && EnglishStopWords.Contains(t))
            {
                continue;
            }
            int stemmed = Stemmers.Stem(o.Stemmer, t);
            if (stemmed == 0)
            {
                continue;
            }
            t = t[..stemmed];
            sink.Term(t);
            if (o.Bigrams)
            {
                if (previousLength > 0)
                {
                    previous[..previousLength].CopyTo(pair);
                    pair[previousLength] = ' ';
                    t.CopyTo(pair[(previousLength + 1)..]);
                    sink.Term(pair[..(previousLength + 1 + t.Length)]);
                }
                t.CopyTo(previous);
                previousLength = t.Length;
            }
        }
    }

    private struct StringSink : ITermSink
    {
        public List<string> Terms;

        public readonly void Term(ReadOnlySpan<char> term) => Terms.Add(term.ToString());
    }

    private struct IdSink : ITermSink
    {
        public TermVocabulary Vocabulary;
        public bool Add;
        public List<int> Ids;

        public readonly void Term(ReadOnlySpan<char> term)
        {
            int id = Add ? Vocabulary.GetOrAdd(term) : Vocabulary.IdOf(term);
            if (id >= 0)
            {
                Ids.Add(id);
            }
        }
    }
}
