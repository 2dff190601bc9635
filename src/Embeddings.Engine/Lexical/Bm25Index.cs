using System.Buffers;
using Embeddings.Corpus;
using Embeddings.IO;
using Embeddings.Quality;
using Embeddings.Tokenization;

namespace Embeddings.Lexical;

/// <summary>Options of a <see cref="Bm25Index"/>.</summary>
internal sealed record Bm25Options
{
    /// <summary>Term-frequency saturation. Default <see cref="QualityDefaults.Bm25K1"/>.</summary>
    public float K1 { get; init; } = QualityDefaults.Bm25K1;

    /// <summary>Length normalisation, 0 (none) to 1 (full). Default <see cref="QualityDefaults.Bm25B"/>.</summary>
    public float B { get; init; } = QualityDefaults.Bm25B;

    /// <summary>Text analysis of documents and queries.</summary>
    public TextAnalyzerOptions Analyzer { get; init; } = new();

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (!(K1 >= 0 && K1 <= 100) || !(B >= 0 && B <= 1))
        {
            throw new ArgumentException($"BM25 needs 0 <= k1 <= 100 (got {K1}) and 0 <= b <= 1 (got {B})");
        }
        Analyzer.Validate();
    }
}

/// <summary>
/// A BM25 lexical index over papers' title and abstract (Robertson/Sparck Jones weighting with Lucene's
/// non-negative idf <c>ln(1 + (N - df + 0.5)/(df + 0.5))</c>). Documents are added incrementally; each
/// term's postings (document numbers ascending, term frequencies) live in flat arrays. Searching is
/// thread-safe as long as nobody adds or removes at the same time.
/// </summary>
internal sealed class Bm25Index
{
    /// <summary>
    /// The file format: version 2 is the payload below in the <see cref="Container"/>; version 1 (the same payload in
    /// the earlier trailer layout) is still read.
    /// </summary>
    internal static readonly ContainerFormat Format = ContainerFormat.Create("BM25 index", "EMB-BM25", version: 2, oldestVersion: 1,
        fix: "rebuild it with `embeddings index build --rebuild --store DIR` (searches rebuild a damaged index by themselves)", trailerVersions: 1);

    private readonly TextAnalyzer _analyzer;
    private readonly TermVocabulary _vocabulary;
    private readonly Dictionary<string, int> _docByID = new(StringComparer.Ordinal);
    private readonly List<string> _docIds = [];
    private readonly List<int> _docLengths = [];
    private readonly List<bool> _deleted = [];
    private int[][] _postingDocs = [];
    private int[][] _postingFreqs = [];
    private int[] _postingCounts = [];
    private int[] _documentFrequency = [];
    private long _totalLength;

    // Reused by Add (single writer) so indexing allocates nothing per document beyond posting growth.
    private readonly List<int> _addScratch = [];
    private readonly List<int> _addIds = [];
    private readonly List<int> _addCounts = [];

    private Bm25Index(Bm25Options options, TermVocabulary vocabulary)
    {
        Options = options;
        _analyzer = TextAnalyzer.Create(options.Analyzer);
        _vocabulary = vocabulary;
    }

    /// <summary>The options the index was built with.</summary>
    public Bm25Options Options { get; }

    /// <summary>Number of documents that can be found (added and not removed).</summary>
    public int Count => _docByID.Count;

    /// <summary>Number of distinct terms seen.</summary>
    public int TermCount => _vocabulary.Count;

    /// <summary>Average analysed length of the live documents.</summary>
    public double AverageLength => Count == 0 ? 0 : (double)_totalLength / Count;

    /// <summary>Creates an empty index.</summary>
    public static Bm25Index Create(Bm25Options? options = null)
    {
        options ??= new Bm25Options();
        options.Validate();
        return new Bm25Index(options, new TermVocabulary());
    }

    /// <summary>Whether a live document has this id.</summary>
    public bool Contains(string id) => _docByID.ContainsKey(id);

    /// <summary>Adds (or replaces) a paper, indexing its title and abstract.</summary>
    public void Add(Paper paper)
    {
        ArgumentNullException.ThrowIfNull(paper);
        Add(paper.Id, paper.EmbeddingText);
    }

    /// <summary>Adds (or replaces) a document with the given text.</summary>
    public void Add(string id, string text)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(text);
        Remove(id);
        List<int> scratch = _addScratch, ids = _addIds, counts = _addCounts;
        _analyzer.CountTerms(text, _vocabulary, addNewTerms: true, scratch, ids, counts);
        EnsureTermCapacity(_vocabulary.Count);
        int doc = _docIds.Count;
        for (int i = 0; i < ids.Count; i++)
        {
            int t = ids[i];
            int n = _postingCounts[t];
            if (n == _postingDocs[t].Length)
            {
                int grown = Math.Max(4, n * 2);
                Array.Resize(ref _postingDocs[t], grown);
                Array.Resize(ref _postingFreqs[t], grown);
            }
            _postingDocs[t][n] = doc;
            _postingFreqs[t][n] = counts[i];
            _postingCounts[t] = n + 1;
            _documentFrequency[t]++;
        }
        _docIds.Add(id);
        _docLengths.Add(scratch.Count);
        _deleted.Add(false);
        _docByID.Add(id, doc);
        _totalLength += scratch.Count;
    }

    /// <summary>
    /// Removes a document from search results and statistics; returns false when it is not there. Its
    /// postings stay until the next rebuild (they are skipped), so removal is cheap.
    /// </summary>
    public bool Remove(string id)
    {
        if (!_docByID.Remove(id, out int doc))
        {
            return false;
        }
        _deleted[doc] = true;
        _totalLength -= _docLengths[doc];
        for (int t = 0; t < _vocabulary.Count; t++)
        {
            if (FrequencyIn(t, doc) > 0)
            {
                _documentFrequency[t]--;
            }
        }
        return true;
    }

    /// <summary>The <paramref name="k"/> best documents for a free-text query, best first.</summary>
    public IReadOnlyList<ScoredDocument> Search(string query, int k)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Rank(QueryTerms(query), k, exclude: -1);
    }

    /// <summary>
    /// The <paramref name="k"/> documents most similar to document <paramref name="id"/>, using its own
    /// text as the query and leaving it out of the results.
    /// </summary>
    public IReadOnlyList<ScoredDocument> SearchByDocument(string id, int k)
    {
        int doc = DocumentNumber(id);
        return Rank(DocumentTerms(doc), k, exclude: doc);
    }

    /// <summary>
    /// Writes the BM25 score of every document for <paramref name="query"/> into <paramref name="scores"/>
    /// (length at least <see cref="DocumentSlots"/>, indexed by <see cref="DocumentSlot"/>); removed
    /// documents get <see cref="float.NegativeInfinity"/>.
    /// </summary>
    public void ScoreAll(string query, Span<float> scores)
    {
        ArgumentNullException.ThrowIfNull(query);
        Accumulate(QueryTerms(query), scores);
    }

    /// <summary>
    /// The score no document can reach for <paramref name="query"/>: every query term (one the index has never seen
    /// included, at the rarest term's weight) at saturated term frequency, Σ qtf·idf·(k1 + 1). Dividing a BM25 score
    /// by it gives a lexical match in [0, 1) with the same meaning for every query: the share of the query's words a
    /// document matches, weighted by their rarity and by how often it repeats them.
    /// </summary>
    public float MaxAttainableScore(string query)
    {
        ArgumentNullException.ThrowIfNull(query);
        (int[] terms, int[] counts) = QueryTerms(query);
        int known = 0;
        double total = 0;
        for (int q = 0; q < terms.Length; q++)
        {
            known += counts[q];
            total += (double)counts[q] * (_documentFrequency[terms[q]] == 0 ? UnseenIdf() : Idf(terms[q]));
        }
        int unseen = Math.Max(0, _analyzer.Terms(query).Count - known);
        total += unseen * UnseenIdf();
        return (float)(total * (Options.K1 + 1));
    }

    /// <summary>Number of document slots (live and removed) for <see cref="ScoreAll"/>.</summary>
    public int DocumentSlots => _docIds.Count;

    /// <summary>The slot of a live document in <see cref="ScoreAll"/>'s array, or -1.</summary>
    public int DocumentSlot(string id) => _docByID.TryGetValue(id, out int doc) ? doc : -1;

    /// <summary>The id of the document in slot <paramref name="slot"/>.</summary>
    public string DocumentId(int slot) => _docIds[slot];

    /// <summary>The BM25 score of one document for a query.</summary>
    public float Score(string query, string id)
    {
        ArgumentNullException.ThrowIfNull(query);
        int doc = DocumentNumber(id);
        float total = 0;
        foreach (TermContribution c in Contributions(QueryTerms(query), doc))
        {
            total += c.Score;
        }
        return total;
    }

    /// <summary>
    /// The query terms that contribute most to document <paramref name="id"/>'s score, largest first:
    /// why a paper matched.
    /// </summary>
    public IReadOnlyList<TermContribution> Explain(string query, string id, int maxTerms = 10)
    {
        ArgumentNullException.ThrowIfNull(query);
        return Top(Contributions(QueryTerms(query), DocumentNumber(id)), maxTerms);
    }

    /// <summary>The terms two documents share that contribute most to their similarity, largest first.</summary>
    public IReadOnlyList<TermContribution> ExplainByDocument(string queryId, string id, int maxTerms = 10) =>
        Top(Contributions(DocumentTerms(DocumentNumber(queryId)), DocumentNumber(id)), maxTerms);

    /// <summary>Saves the index to <paramref name="path"/> atomically, in the checksummed <see cref="Container"/>.</summary>
    public void Save(string path)
    {
        Container.Write(path, Format, w =>
        {
            w.Write(Options.K1);
            w.Write(Options.B);
            Options.Analyzer.WriteTo(w);
            w.Write(_docIds.Count);
            for (int d = 0; d < _docIds.Count; d++)
            {
                w.Write(_docIds[d]);
                w.Write(_docLengths[d]);
                w.Write(_deleted[d]);
            }
            w.Write(_vocabulary.Count);
            for (int t = 0; t < _vocabulary.Count; t++)
            {
                w.Write(_vocabulary[t]);
                int n = _postingCounts[t];
                w.Write(n);
                w.WriteWords<int>(_postingDocs[t].AsSpan(0, n));
                w.WriteWords<int>(_postingFreqs[t].AsSpan(0, n));
            }
        });
    }

    /// <summary>Loads an index saved by <see cref="Save"/>; a bad file raises <see cref="DataFormatException"/>.</summary>
    public static Bm25Index Load(string path) =>
        Container.Read(path, Format, c =>
        {
            BinaryReader r = c.Binary;
            var options = new Bm25Options { K1 = r.ReadSingle(), B = r.ReadSingle(), Analyzer = TextAnalyzerOptions.ReadFrom(r) };
            options.Validate();
            int docs = c.ReadCount(c.Length, "document");
            var ids = new string[docs];
            var lengths = new int[docs];
            var deleted = new bool[docs];
            for (int d = 0; d < docs; d++)
            {
                ids[d] = r.ReadString();
                lengths[d] = r.ReadInt32();
                deleted[d] = r.ReadBoolean();
            }
            int terms = c.ReadCount(c.Length, "term");
            var termList = new string[terms];
            var postingDocs = new int[terms][];
            var postingFreqs = new int[terms][];
            for (int t = 0; t < terms; t++)
            {
                termList[t] = r.ReadString();
                int n = c.ReadCount(docs, "posting");
                postingDocs[t] = new int[n];
                postingFreqs[t] = new int[n];
                c.ReadWords<int>(postingDocs[t]);
                c.ReadWords<int>(postingFreqs[t]);
            }
            var index = new Bm25Index(options, new TermVocabulary(termList));
            index.Restore(ids, lengths, deleted, postingDocs, postingFreqs);
            return index;
        });

    private void Restore(string[] ids, int[] lengths, bool[] deleted, int[][] postingDocs, int[][] postingFreqs)
    {
        for (int d = 0; d < ids.Length; d++)
        {
            _docIds.Add(ids[d]);
            _docLengths.Add(lengths[d]);
            _deleted.Add(deleted[d]);
            if (!deleted[d])
            {
                if (!_docByID.TryAdd(ids[d], d))
                {
                    throw new InvalidDataException($"document id '{ids[d]}' appears twice");
                }
                _totalLength += lengths[d];
            }
        }
        _postingDocs = postingDocs;
        _postingFreqs = postingFreqs;
        _postingCounts = new int[postingDocs.Length];
        _documentFrequency = new int[postingDocs.Length];
        for (int t = 0; t < postingDocs.Length; t++)
        {
            int[] docs = postingDocs[t];
            _postingCounts[t] = docs.Length;
            for (int i = 0; i < docs.Length; i++)
            {
                int d = docs[i];
                if (d < 0 || d >= ids.Length || (i > 0 && d <= docs[i - 1]) || postingFreqs[t][i] <= 0)
                {
                    throw new InvalidDataException($"postings of term {t} are not ascending document numbers with positive counts");
                }
                if (!deleted[d])
                {
                    _documentFrequency[t]++;
                }
            }
        }
    }

    private int DocumentNumber(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return _docByID.TryGetValue(id, out int doc)
            ? doc
            : throw new KeyNotFoundException($"document '{id}' is not in the BM25 index");
    }

    private void EnsureTermCapacity(int terms)
    {
        if (terms <= _postingCounts.Length)
        {
            return;
        }
        int size = Math.Max(terms, _postingCounts.Length * 2);
        int old = _postingCounts.Length;
        Array.Resize(ref _postingDocs, size);
        Array.Resize(ref _postingFreqs, size);
        Array.Resize(ref _postingCounts, size);
        Array.Resize(ref _documentFrequency, size);
        for (int t = old; t < size; t++)
        {
            _postingDocs[t] = [];
            _postingFreqs[t] = [];
        }
    }

    /// <summary>Distinct query terms known to the index, with their counts in the query.</summary>
    private (int[] Terms, int[] Counts) QueryTerms(string query)
    {
        var scratch = new List<int>();
        var ids = new List<int>();
        var counts = new List<int>();
        _analyzer.CountTerms(query, _vocabulary, addNewTerms: false, scratch, ids, counts);
        return (ids.ToArray(), counts.ToArray());
    }

    /// <summary>The terms of an indexed document with their counts, recovered from the postings.</summary>
    private (int[] Terms, int[] Counts) DocumentTerms(int doc)
    {
        var ids = new List<int>();
        var counts = new List<int>();
        for (int t = 0; t < _vocabulary.Count; t++)
        {
            int tf = FrequencyIn(t, doc);
            if (tf > 0)
            {
                ids.Add(t);
                counts.Add(tf);
            }
        }
        return (ids.ToArray(), counts.ToArray());
    }

    private int FrequencyIn(int term, int doc)
    {
        int i = Array.BinarySearch(_postingDocs[term], 0, _postingCounts[term], doc);
        return i >= 0 ? _postingFreqs[term][i] : 0;
    }

    private float Idf(int term)
    {
        double n = Count;
        double df = _documentFrequency[term];
        return (float)Math.Log(1 + ((n - df + 0.5) / (df + 0.5)));
    }

    /// <summary>The idf of a term no live document has.</summary>
    private float UnseenIdf() => (float)Math.Log(1 + ((Count + 0.5) / 0.5));

    private float TermWeight(int tf, int length, float averageLength)
    {
        float k1 = Options.K1;
        float norm = k1 * (1 - Options.B + (Options.B * length / averageLength));
        return tf * (k1 + 1) / (tf + norm);
    }

    private void Accumulate((int[] Terms, int[] Counts) query, Span<float> scores)
    {
        int slots = _docIds.Count;
        if (scores.Length < slots)
        {
            throw new ArgumentException($"score buffer holds {scores.Length} entries, the index has {slots} slots", nameof(scores));
        }
        scores[..slots].Clear();
        float averageLength = (float)Math.Max(AverageLength, 1e-6);
        for (int q = 0; q < query.Terms.Length; q++)
        {
            int t = query.Terms[q];
            if (_documentFrequency[t] == 0)
            {
                continue;
            }
            float idf = Idf(t) * query.Counts[q];
            int[] docs = _postingDocs[t];
            int[] freqs = _postingFreqs[t];
            int n = _postingCounts[t];
            for (int i = 0; i < n; i++)
            {
                int d = docs[i];
                scores[d] += idf * TermWeight(freqs[i], _docLengths[d], averageLength);
            }
        }
        for (int d = 0; d < slots; d++)
        {
            if (_deleted[d])
            {
                scores[d] = float.NegativeInfinity;
            }
        }
    }

    private ScoredDocument[] Rank((int[] Terms, int[] Counts) query, int k, int exclude)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        int slots = _docIds.Count;
        float[] scores = ArrayPool<float>.Shared.Rent(Math.Max(slots, 1));
        try
        {
            Accumulate(query, scores);
            if (exclude >= 0)
            {
                scores[exclude] = float.NegativeInfinity;
            }
            int[] best = TopK.Select(scores.AsSpan(0, slots), k);
            var hits = new List<ScoredDocument>(best.Length);
            foreach (int d in best)
            {
                // Documents that share no term with the query are not results.
                if (scores[d] > 0)
                {
                    hits.Add(new ScoredDocument(_docIds[d], scores[d]));
                }
            }
            return [.. hits];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scores);
        }
    }

    private List<TermContribution> Contributions((int[] Terms, int[] Counts) query, int doc)
    {
        var result = new List<TermContribution>();
        float averageLength = (float)Math.Max(AverageLength, 1e-6);
        for (int q = 0; q < query.Terms.Length; q++)
        {
            int t = query.Terms[q];
            int tf = FrequencyIn(t, doc);
            if (tf > 0)
            {
                float s = Idf(t) * query.Counts[q] * TermWeight(tf, _docLengths[doc], averageLength);
                result.Add(new TermContribution(_vocabulary[t], s));
            }
        }
        return result;
    }

    private static TermContribution[] Top(List<TermContribution> all, int max)
    {
        all.Sort(static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.Term, b.Term));
        return [.. all.Take(Math.Max(0, max))];
    }
}
