using System.Numerics.Tensors;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Index;
using Embeddings.Lexical;
using Embeddings.Numerics;
using Embeddings.Quality;
using Embeddings.Store;
using Embeddings.Tokenization;

namespace Embeddings.Search;

/// <summary>
/// Similar-paper search over a <see cref="PaperStore"/>: vector neighbours from the HNSW index (or the exact
/// index), BM25 over title and abstract, and their fusion. Opening brings the persisted indexes up to date with
/// the store (<see cref="SearchIndexes"/>); searches are then cheap and may run from several threads.
/// </summary>
internal sealed class PaperSearch : IDisposable
{
    private readonly PaperStore _store;
    private readonly ISentenceEncoder? _encoder;
    private readonly SearchIndexes _indexes;
    private readonly ReadOnlyMemory<float> _rows;
    private readonly int _dimension;
    private readonly Lazy<ExactIndex> _exact;
    private readonly TextAnalyzer _surfaceAnalyzer;

    private PaperSearch(PaperStore store, ISentenceEncoder? encoder, SearchIndexes indexes)
    {
        _store = store;
        _encoder = encoder;
        _indexes = indexes;
        _rows = store.GetAllRows();
        _dimension = store.Dimension;
        _exact = new Lazy<ExactIndex>(() => ExactIndex.Create(_rows, _dimension));
        _surfaceAnalyzer = TextAnalyzer.Create(indexes.Bm25.Options.Analyzer with { Stemmer = StemmerKind.None });
    }

    /// <summary>The store searched.</summary>
    public PaperStore Store => _store;

    /// <summary>The indexes in use.</summary>
    public SearchIndexes Indexes => _indexes;

    /// <summary>
    /// Opens search over <paramref name="store"/>, loading the persisted indexes and adding only the papers the
    /// store gained since they were saved. <paramref name="encoder"/> (the store's model) is needed for free-text
    /// queries in vector and hybrid modes; its fingerprint must match the store's.
    /// </summary>
    public static async Task<PaperSearch> OpenAsync(PaperStore store, ISentenceEncoder? encoder, SearchIndexOptions? options = null,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (encoder is not null && encoder.Fingerprint != store.ModelFingerprint)
        {
            throw new ModelMismatchException(store.Directory, store.ModelFingerprint, encoder.Fingerprint);
        }
        SearchIndexes indexes = await SearchIndexes.OpenAsync(store, options ?? new SearchIndexOptions(), progress, cancellationToken).ConfigureAwait(false);
        return new PaperSearch(store, encoder, indexes);
    }

    /// <summary>Answers one query; hits best first.</summary>
    public Task<SimilarResult> SearchAsync(SimilarQuery query, CancellationToken cancellationToken = default) =>
        SearchAsync(query, _encoder, cancellationToken);

    /// <summary>
    /// Answers one query with <paramref name="encoder"/> (the store's model, for free-text queries) instead of the one
    /// given at open: a library loads its model only when a query needs it.
    /// </summary>
    internal async Task<SimilarResult> SearchAsync(SimilarQuery query, ISentenceEncoder? encoder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        if (encoder is not null && encoder.Fingerprint != _store.ModelFingerprint)
        {
            throw new ModelMismatchException(_store.Directory, _store.ModelFingerprint, encoder.Fingerprint);
        }
        QueryParts parts = ResolveQuery(query);
        float[]? queryVector = query.Mode == RankingMode.Lexical ? null : await QueryVectorAsync(query, parts, encoder, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        IdFilter filter = BuildFilter(query, parts);
        int candidates = Math.Max(query.K, SearchDefaults.FusionCandidates) + parts.ExcludedRows.Count;
        Dictionary<int, float> vectorScores = queryVector is null ? [] : VectorCandidates(queryVector, candidates, query, filter);
        float[]? lexical = query.Mode == RankingMode.Vector ? null : LexicalScores(parts);
        Dictionary<int, float> lexicalScores = lexical is null ? [] : LexicalCandidates(lexical, candidates, filter);

        List<(int Row, float Score)> ranked = query.Mode switch
        {
            RankingMode.Vector => [.. vectorScores.Select(p => (p.Key, p.Value))],
            RankingMode.Lexical => [.. lexicalScores.Select(p => (p.Key, p.Value))],
            _ => Fuse(query, queryVector!, lexical!, vectorScores, lexicalScores),
        };
        ranked.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Row.CompareTo(b.Row));

        // The stored paper the query is: the --id paper, or the paper whose text was pasted (found among the best
        // candidates by its near-identical vector or its very text); its copies are hidden unless asked for.
        QueryPaper? queryPaper = query.PaperId is not null && parts.Likes.Count == 1 ? Named(parts.Likes[0].Paper) : null;
        bool pasted = parts.Text is not null && parts.Likes.Count == 0 && parts.Unlikes.Count == 0;
        int hidden = CountHashCopies(parts);
        // Words decide lexical and hybrid rankings of a text or a paper: they explain those. Where vectors decide (vector
        // mode, a like/unlike centre) the hit's sentence closest to the query vector explains it instead.
        bool bySentence = queryVector is not null && query.ExplainsBySentence;
        bool byWords = query.Explain && !bySentence;
        var hits = new List<SimilarHit>(query.K);
        var hitPapers = new List<Paper>(query.K);
        foreach ((int row, float score) in ranked)
        {
            if (hits.Count == query.K || (query.MinScore is float min && score < min))
            {
                break;
            }
            Paper paper = _indexes.PaperOfRow(row);
            if (parts.CheckNearDuplicates && IsCopyOfQuery(parts, queryVector, row, paper))
            {
                if (pasted && queryPaper is null)
                {
                    queryPaper = Named(paper);
                }
                if (query.ExcludeDuplicates)
                {
                    hidden++;
                    continue;
                }
            }
            hits.Add(Hit(paper, score, byWords ? Why(parts, paper) : []) with
            {
                Lexical = lexical is null ? null : LexicalOfRow(lexical, row),
                Vector = query.Mode == RankingMode.Vector ? score : queryVector is null ? null : Cosine(queryVector, row),
            });
            hitPapers.Add(paper);
        }
        if (bySentence && encoder is not null)
        {
            await AddClosestSentencesAsync(hits, hitPapers, queryVector!, encoder, cancellationToken).ConfigureAwait(false);
        }
        List<string> warnings = [];
        if (query.Filter?.Categories is not null && !_indexes.AnyCategories)
        {
            warnings.Add(NoCategoriesWarning(query.Filter));
        }
        return new SimilarResult(hits, queryPaper, hidden, warnings);
    }

    private static QueryPaper Named(Paper paper) => new(paper.Id, paper.Title);

    /// <summary>
    /// Whether the hit at <paramref name="row"/> is the query itself under another id or as pasted text: a vector
    /// (nearly) identical to the query's, or the same text (an abstract pasted without its title embeds differently).
    /// </summary>
    private bool IsCopyOfQuery(QueryParts parts, float[]? queryVector, int row, Paper paper) =>
        (queryVector is not null && Cosine(queryVector, row) >= SearchDefaults.DuplicateCosine)
        || (parts.PastedText is not null && IsSameText(parts.PastedText, paper));

    /// <summary>
    /// A pasted text (whitespace collapsed, as stored texts are) is a paper's when it is its abstract, or its title and
    /// abstract with or without the full stop <see cref="Paper.EmbeddingText"/> puts between them.
    /// </summary>
    private static bool IsSameText(string pasted, Paper paper)
    {
        if (pasted == paper.Abstract)
        {
            return true;
        }
        int rest = pasted.Length - paper.Abstract.Length;
        if (paper.Title.Length == 0 || rest < paper.Title.Length + 1 || !pasted.EndsWith(paper.Abstract, StringComparison.Ordinal)
            || !pasted.StartsWith(paper.Title, StringComparison.Ordinal))
        {
            return false;
        }
        ReadOnlySpan<char> between = pasted.AsSpan(paper.Title.Length, rest - paper.Title.Length);
        return between is " " or ". ";
    }

    /// <summary>Live papers left out because they have a query paper's text under another id.</summary>
    private int CountHashCopies(QueryParts parts)
    {
        if (parts.ExcludedHashes.Count == 0)
        {
            return 0;
        }
        int copies = 0;
        bool[] live = _indexes.LiveRows;
        for (int row = 0; row < live.Length; row++)
        {
            if (live[row] && !parts.ExcludedRows.Contains(row) && parts.ExcludedHashes.Contains(_indexes.ContentHashOfRow(row)))
            {
                copies++;
            }
        }
        return copies;
    }

    /// <summary>A hit with the paper's metadata.</summary>
    internal static SimilarHit Hit(Paper paper, float score, IReadOnlyList<string> why) => new(paper.Id, paper.Title, score, why)
    {
        Authors = paper.Authors,
        Date = paper.Date,
        Categories = paper.Categories,
        Url = paper.Url,
    };

    /// <summary>The warning for a category filter over a store where no paper has categories (it can match nothing).</summary>
    internal static string NoCategoriesWarning(PaperFilter filter) =>
        $"--filter category={string.Join(",", filter.Categories!.Order(StringComparer.Ordinal))} matches nothing: no stored paper has categories " +
        "(they come from a 'categories' or 'tags' field or column of the input, as in the arXiv CSV; daily-papers dumps have none)";

    /// <inheritdoc />
    public void Dispose() => _indexes.Dispose();

    // ------------------------------------------------------------------ query parts

    /// <summary>The stored papers and texts a query is made of, and the rows it must not return.</summary>
    private sealed class QueryParts
    {
        public List<StoredPaper> Likes { get; } = [];
        public List<StoredPaper> Unlikes { get; } = [];
        public string? Text { get; init; }

        /// <summary>The text with its whitespace collapsed as stored texts are, to recognise a pasted stored paper.</summary>
        public string? PastedText { get; init; }
        public HashSet<int> ExcludedRows { get; } = [];
        public HashSet<UInt128> ExcludedHashes { get; } = [];

        /// <summary>Whether hits may be copies of the query to look for: a single paper or a pasted text.</summary>
        public bool CheckNearDuplicates { get; set; }
    }

    private QueryParts ResolveQuery(SimilarQuery query)
    {
        string? text = string.IsNullOrWhiteSpace(query.Text) ? null : query.Text;
        var parts = new QueryParts { Text = text, PastedText = text is null ? null : ReadContext.CollapseWhitespace(text) };
        if (query.PaperId is not null)
        {
            parts.Likes.Add(Require(query.PaperId));
        }
        foreach (string id in query.Like)
        {
            parts.Likes.Add(Require(id));
        }
        foreach (string id in query.Unlike)
        {
            parts.Unlikes.Add(Require(id));
        }
        foreach (StoredPaper p in parts.Likes.Concat(parts.Unlikes))
        {
            parts.ExcludedRows.Add(p.Row);
            if (query.ExcludeDuplicates)
            {
                parts.ExcludedHashes.Add(p.ContentHash);
            }
        }
        // A query paper's duplicates under other ids share its text hash; a pasted text that is a stored
        // paper is caught by its near-identical vector.
        parts.CheckNearDuplicates = parts.Text is not null || parts.Likes.Count == 1;
        return parts;
    }

    private StoredPaper Require(string id) =>
        _store.GetPaper(id) ?? throw new PaperNotFoundException(id, _store.Directory);

    private async Task<float[]> QueryVectorAsync(SimilarQuery query, QueryParts parts, ISentenceEncoder? encoder, CancellationToken cancellationToken)
    {
        var liked = new List<float[]>(parts.Likes.Count + 1);
        foreach (StoredPaper p in parts.Likes)
        {
            liked.Add(ReadRow(p.Row));
        }
        if (parts.Text is not null)
        {
            if (encoder is null)
            {
                throw new EmbeddingsException("A free-text query in vector or hybrid mode needs the store's model; pass --model DIR, or use --mode lexical.");
            }
            EmbeddingBatch batch = await encoder.EncodeAsync([encoder.QueryText(parts.Text)], cancellationToken).ConfigureAwait(false);
            liked.Add(batch[0].ToArray());
        }
        var unliked = new List<float[]>(parts.Unlikes.Count);
        foreach (StoredPaper p in parts.Unlikes)
        {
            unliked.Add(ReadRow(p.Row));
        }
        // A paper id or a text alone is one vector: only liked and unliked examples are worth a classifier.
        LikeRanking ranking = query.Like.Count > 0 || query.Unlike.Count > 0 ? query.LikeRanking : LikeRanking.Rocchio;
        return QueryVector.FromExamples(ranking, liked, unliked,
            () => [.. LikeClassifier.BackgroundRows(_indexes.LiveRows, _indexes.LiveCount, row => Excluded(parts, row)).Select(ReadRow)], _dimension);
    }

    private float[] ReadRow(int row) => _rows.Span.Slice(row * _dimension, _dimension).ToArray();

    private IdFilter BuildFilter(SimilarQuery query, QueryParts parts)
    {
        PaperFilter? paperFilter = query.Filter;
        bool[] live = _indexes.LiveRows;
        if (paperFilter is null)
        {
            return IdFilter.FromPredicate(row => (uint)row < (uint)live.Length && live[row] && !Excluded(parts, row),
                _indexes.LiveCount - parts.ExcludedRows.Count);
        }
        // Filters are evaluated once over the live papers so the index knows how selective they are and can
        // answer a very selective one exactly.
        var allowed = new List<int>();
        Func<Paper, bool> matches = paperFilter.Matcher();
        for (int row = 0; row < live.Length; row++)
        {
            if (live[row] && !Excluded(parts, row) && matches(_indexes.PaperOfRow(row)))
            {
                allowed.Add(row);
            }
        }
        return IdFilter.FromIds(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(allowed));
    }

    private bool Excluded(QueryParts parts, int row) =>
        parts.ExcludedRows.Contains(row) || (parts.ExcludedHashes.Count > 0 && parts.ExcludedHashes.Contains(_indexes.ContentHashOfRow(row)));

    private Dictionary<int, float> VectorCandidates(float[] queryVector, int candidates, SimilarQuery query, IdFilter filter)
    {
        Neighbor[] neighbours = query.Exact || _indexes.Hnsw is null
            ? _exact.Value.Search(queryVector, candidates, filter)
            : _indexes.Hnsw.Search(queryVector, candidates, query.Ef, filter);
        var scores = new Dictionary<int, float>(neighbours.Length);
        foreach (Neighbor n in neighbours)
        {
            scores[n.Id] = n.Score;
        }
        return scores;
    }

    private Dictionary<int, float> LexicalCandidates(float[] scores, int candidates, IdFilter filter)
    {
        // Keep the best allowed rows; slots are BM25 document numbers, mapped to store rows.
        var best = new List<(int Row, float Score)>();
        for (int slot = 0; slot < scores.Length; slot++)
        {
            if (scores[slot] <= 0)
            {
                continue;
            }
            int row = _indexes.RowOfLexicalSlot(slot);
            if (row >= 0 && filter.Allows(row))
            {
                best.Add((row, scores[slot]));
            }
        }
        best.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Row.CompareTo(b.Row));
        var result = new Dictionary<int, float>(Math.Min(best.Count, candidates));
        for (int i = 0; i < best.Count && i < candidates; i++)
        {
            result[best[i].Row] = best[i].Score;
        }
        return result;
    }

    /// <summary>The lexical match of the paper at <paramref name="row"/> (0 when BM25 does not index it).</summary>
    private float LexicalOfRow(float[] lexical, int row)
    {
        int slot = _indexes.Bm25.DocumentSlot(_indexes.PaperOfRow(row).Id);
        return slot >= 0 ? Math.Max(0, lexical[slot]) : 0;
    }

    /// <summary>
    /// The lexical match of every document, on a fixed scale: each query text's BM25 divided by the largest score it
    /// could reach (<see cref="Bm25Index.MaxAttainableScore"/>), in [0, 1); for several liked papers their mean, minus a
    /// share of the mean over the unliked ones.
    /// </summary>
    private float[] LexicalScores(QueryParts parts)
    {
        Bm25Index bm25 = _indexes.Bm25;
        var total = new float[bm25.DocumentSlots];
        List<string> likeTexts = [.. LikeTexts(parts)];
        var one = new float[bm25.DocumentSlots];
        foreach (string text in likeTexts)
        {
            bm25.ScoreAll(text, one);
            ScaleByMaxAttainable(bm25, text, one);
            TensorPrimitives.Add(total, one, total);
        }
        if (likeTexts.Count > 1)
        {
            TensorPrimitives.Divide(total, likeTexts.Count, total);
        }
        foreach (StoredPaper p in parts.Unlikes)
        {
            bm25.ScoreAll(p.Paper.EmbeddingText, one);
            ScaleByMaxAttainable(bm25, p.Paper.EmbeddingText, one);
            TensorPrimitives.MultiplyAdd(one, -SearchDefaults.UnlikeWeight / parts.Unlikes.Count, total, total);
        }
        return total;
    }

    private static IEnumerable<string> LikeTexts(QueryParts parts)
    {
        if (parts.Text is not null)
        {
            yield return parts.Text;
        }
        foreach (StoredPaper p in parts.Likes)
        {
            yield return p.Paper.EmbeddingText;
        }
    }

    private static void ScaleByMaxAttainable(Bm25Index bm25, string text, Span<float> scores)
    {
        float max = bm25.MaxAttainableScore(text);
        if (max > 0)
        {
            TensorPrimitives.Divide(scores, max, scores);
        }
    }

    // ------------------------------------------------------------------ fusion

    private List<(int Row, float Score)> Fuse(SimilarQuery query, float[] queryVector, float[] lexical,
        Dictionary<int, float> vectorScores, Dictionary<int, float> lexicalScores)
    {
        if (query.Fusion == FusionMethod.FixedScale)
        {
            // Each candidate's score depends on it alone: lexical match and cosine on their fixed scales.
            var candidates = new HashSet<int>(lexicalScores.Keys);
            candidates.UnionWith(vectorScores.Keys);
            var scored = new List<(int, float)>(candidates.Count);
            foreach (int row in candidates)
            {
                scored.Add((row, ScoreFusion.FixedScale(LexicalOfRow(lexical, row), Cosine(queryVector, row), query.VectorWeight)));
            }
            return scored;
        }
        // The same fusion code as `embeddings eval` measured (ScoreFusion.Fuse), so the ranking is the measured one.
        // A candidate found by one ranking only gets its true score from the other, not a floor.
        ScoredDocument[] fused = ScoreFusion.Fuse(Ranking(lexicalScores), Ranking(vectorScores), lexicalScores.Count + vectorScores.Count,
            new FusionOptions { Method = query.Fusion, VectorWeight = query.VectorWeight, Candidates = int.MaxValue },
            lexicalScore: id => LexicalOfRow(lexical, _indexes.RowOf(id)),
            vectorScore: id => Cosine(queryVector, _indexes.RowOf(id)));
        var result = new List<(int, float)>(fused.Length);
        foreach (ScoredDocument d in fused)
        {
            result.Add((_indexes.RowOf(d.Id), d.Score));
        }
        return result;
    }

    /// <summary>Candidates as a ranking of paper ids, best first.</summary>
    private ScoredDocument[] Ranking(Dictionary<int, float> scores)
    {
        var ranking = new ScoredDocument[scores.Count];
        int i = 0;
        foreach ((int row, float score) in scores)
        {
            ranking[i++] = new ScoredDocument(_indexes.PaperOfRow(row).Id, score);
        }
        Array.Sort(ranking, (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.Id, b.Id));
        return ranking;
    }

    private float Cosine(float[] queryVector, int row) =>
        TensorPrimitives.Dot(queryVector, _rows.Span.Slice(row * _dimension, _dimension));

    /// <summary>
    /// Sets each hit's <see cref="SimilarHit.ClosestSentence"/>: its title and abstract sentences are embedded by the
    /// store's model in one batch and the one with the highest cosine to <paramref name="queryVector"/> is chosen.
    /// </summary>
    internal static async Task AddClosestSentencesAsync(List<SimilarHit> hits, List<Paper> papers, float[] queryVector, ISentenceEncoder encoder,
        CancellationToken cancellationToken)
    {
        var sentences = new List<string>();
        var owner = new List<int>();
        for (int i = 0; i < papers.Count; i++)
        {
            foreach (string sentence in Sentences(papers[i]))
            {
                sentences.Add(sentence);
                owner.Add(i);
            }
        }
        if (sentences.Count == 0)
        {
            return;
        }
        EmbeddingBatch batch = await encoder.EncodeAsync(sentences, cancellationToken).ConfigureAwait(false);
        var best = new int[hits.Count];
        var bestScore = new float[hits.Count];
        Array.Fill(best, -1);
        for (int j = 0; j < sentences.Count; j++)
        {
            float cosine = VectorMath.Cosine(queryVector, batch[j]);
            int i = owner[j];
            if (best[i] < 0 || cosine > bestScore[i])
            {
                (best[i], bestScore[i]) = (j, cosine);
            }
        }
        for (int i = 0; i < hits.Count; i++)
        {
            if (best[i] >= 0)
            {
                hits[i] = hits[i] with { ClosestSentence = sentences[best[i]] };
            }
        }
    }

    /// <summary>The sentences a hit is explained by: its title and its abstract's sentences (at most <see cref="SearchDefaults.SentencesPerHit"/>).</summary>
    internal static IEnumerable<string> Sentences(Paper paper)
    {
        int count = 0;
        if (paper.Title.Length > 0)
        {
            count++;
            yield return paper.Title;
        }
        foreach (Range range in SentenceSplitter.Split(paper.Abstract))
        {
            if (count++ == SearchDefaults.SentencesPerHit)
            {
                yield break;
            }
            yield return paper.Abstract[range];
        }
    }

    private IReadOnlyList<string> Why(QueryParts parts, Paper hit)
    {
        string hitId = hit.Id;
        IReadOnlyList<TermContribution> terms = parts.Text is not null
            ? _indexes.Bm25.Explain(parts.Text, hitId, SearchDefaults.WhyTerms)
            : parts.Likes.Count > 0
                ? _indexes.Bm25.ExplainByDocument(parts.Likes[0].Paper.Id, hitId, SearchDefaults.WhyTerms)
                : [];
        return terms.Count == 0 ? [] : SurfaceForms(hit.EmbeddingText, terms);
    }

    /// <summary>
    /// BM25 works on stems ("catastroph"); a reader wants words. Each stem is shown as the first word of the hit's
    /// text that has it as its stem ("catastrophic"), or as the stem when no word does.
    /// </summary>
    private IReadOnlyList<string> SurfaceForms(string text, IReadOnlyList<TermContribution> terms)
    {
        StemmerKind stemmer = _indexes.Bm25.Options.Analyzer.Stemmer;
        var wanted = new Dictionary<string, string?>(terms.Count, StringComparer.Ordinal);
        foreach (TermContribution t in terms)
        {
            wanted.TryAdd(t.Term, null);
        }
        Span<char> buffer = stackalloc char[64];
        foreach (string word in _surfaceAnalyzer.Terms(text))
        {
            if (word.Length > buffer.Length)
            {
                continue;
            }
            word.AsSpan().CopyTo(buffer);
            string stem = new(buffer[..Stemmers.Stem(stemmer, buffer[..word.Length])]);
            if (wanted.TryGetValue(stem, out string? surface) && surface is null)
            {
                wanted[stem] = word;
            }
        }
        var why = new string[terms.Count];
        for (int i = 0; i < why.Length; i++)
        {
            why[i] = wanted[terms[i].Term] ?? terms[i].Term;
        }
        return why;
    }
}
