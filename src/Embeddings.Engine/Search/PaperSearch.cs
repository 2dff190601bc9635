using System.Numerics.Tensors;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Index;
using Embeddings.Lexical;
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
    public Task<IReadOnlyList<SimilarHit>> SearchAsync(SimilarQuery query, CancellationToken cancellationToken = default) =>
        SearchAsync(query, _encoder, cancellationToken);

    /// <summary>
    /// Answers one query with <paramref name="encoder"/> (the store's model, for free-text queries) instead of the one
    /// given at open: a library loads its model only when a query needs it.
    /// </summary>
    internal async Task<IReadOnlyList<SimilarHit>> SearchAsync(SimilarQuery query, ISentenceEncoder? encoder, CancellationToken cancellationToken)
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
        Dictionary<int, float> lexicalScores = query.Mode == RankingMode.Vector ? [] : LexicalCandidates(parts, candidates, filter);

        List<(int Row, float Score)> ranked = query.Mode switch
        {
            RankingMode.Vector => [.. vectorScores.Select(p => (p.Key, p.Value))],
            RankingMode.Lexical => [.. lexicalScores.Select(p => (p.Key, p.Value))],
            _ => Fuse(query, parts, queryVector!, vectorScores, lexicalScores),
        };
        ranked.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Row.CompareTo(b.Row));

        var hits = new List<SimilarHit>(query.K);
        foreach ((int row, float score) in ranked)
        {
            if (hits.Count == query.K || (query.MinScore is float min && score < min))
            {
                break;
            }
            if (query.ExcludeDuplicates && queryVector is not null && parts.ExcludeNearDuplicates && Cosine(queryVector, row) >= SearchDefaults.DuplicateCosine)
            {
                continue;
            }
            string id = _store.IdOfRow(row);
            StoredPaper paper = _store.GetPaper(id)!;
            hits.Add(new SimilarHit(id, paper.Paper.Title, score, Why(parts, paper.Paper)));
        }
        return hits;
    }

    /// <inheritdoc />
    public void Dispose() => _indexes.Dispose();

    // ------------------------------------------------------------------ query parts

    /// <summary>The stored papers and texts a query is made of, and the rows it must not return.</summary>
    private sealed class QueryParts
    {
        public List<StoredPaper> Likes { get; } = [];
        public List<StoredPaper> Unlikes { get; } = [];
        public string? Text { get; init; }
        public HashSet<int> ExcludedRows { get; } = [];
        public HashSet<UInt128> ExcludedHashes { get; } = [];
        public bool ExcludeNearDuplicates { get; set; }
    }

    private QueryParts ResolveQuery(SimilarQuery query)
    {
        var parts = new QueryParts { Text = string.IsNullOrWhiteSpace(query.Text) ? null : query.Text };
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
        parts.ExcludeNearDuplicates = query.ExcludeDuplicates && (parts.Text is not null || parts.Likes.Count == 1);
        return parts;
    }

    private StoredPaper Require(string id) =>
        _store.GetPaper(id) ?? throw new PaperNotFoundException(id, _store.Directory);

    private async Task<float[]> QueryVectorAsync(SimilarQuery query, QueryParts parts, ISentenceEncoder? encoder, CancellationToken cancellationToken)
    {
        var vector = new QueryVector(_dimension);
        var row = new float[_dimension];
        foreach (StoredPaper p in parts.Likes)
        {
            _store.ReadRow(p.Row, row);
            vector.AddLike(row);
        }
        if (parts.Text is not null)
        {
            if (encoder is null)
            {
                throw new EmbeddingsException("A free-text query in vector or hybrid mode needs the store's model; pass --model DIR, or use --mode lexical.");
            }
            EmbeddingBatch batch = await encoder.EncodeAsync([encoder.QueryText(parts.Text)], cancellationToken).ConfigureAwait(false);
            vector.AddLike(batch[0]);
        }
        foreach (StoredPaper p in parts.Unlikes)
        {
            _store.ReadRow(p.Row, row);
            vector.AddUnlike(row);
        }
        return vector.Build();
    }

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
        for (int row = 0; row < live.Length; row++)
        {
            if (live[row] && !Excluded(parts, row) && paperFilter.Matches(_indexes.PaperOfRow(row)))
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

    private Dictionary<int, float> LexicalCandidates(QueryParts parts, int candidates, IdFilter filter)
    {
        float[] scores = LexicalScores(parts);
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

    /// <summary>BM25 of every document against the query: the text and each liked paper's text, minus the unliked ones.</summary>
    private float[] LexicalScores(QueryParts parts)
    {
        Bm25Index bm25 = _indexes.Bm25;
        var total = new float[bm25.DocumentSlots];
        List<string> likeTexts = [.. LikeTexts(parts)];
        if (likeTexts.Count == 1 && parts.Unlikes.Count == 0)
        {
            // A single query keeps raw BM25 scores, so lexical mode shows familiar BM25 values.
            bm25.ScoreAll(likeTexts[0], total);
            return total;
        }
        var one = new float[bm25.DocumentSlots];
        foreach (string text in likeTexts)
        {
            bm25.ScoreAll(text, one);
            NormaliseByMax(one);
            TensorPrimitives.Add(total, one, total);
        }
        foreach (StoredPaper p in parts.Unlikes)
        {
            bm25.ScoreAll(p.Paper.EmbeddingText, one);
            NormaliseByMax(one);
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

    private static void NormaliseByMax(Span<float> scores)
    {
        float max = TensorPrimitives.Max(scores);
        if (max > 0)
        {
            TensorPrimitives.Divide(scores, max, scores);
        }
    }

    // ------------------------------------------------------------------ fusion

    private List<(int Row, float Score)> Fuse(SimilarQuery query, QueryParts parts, float[] queryVector,
        Dictionary<int, float> vectorScores, Dictionary<int, float> lexicalScores)
    {
        // The same fusion code as `embeddings eval` measured (ScoreFusion.Fuse), so the default ranking is the
        // measured one. A candidate found by one ranking only gets its true score from the other, not a floor.
        float[]? allLexical = null;
        ScoredDocument[] fused = ScoreFusion.Fuse(Ranking(lexicalScores), Ranking(vectorScores), lexicalScores.Count + vectorScores.Count,
            new FusionOptions { Method = query.Fusion, VectorWeight = query.VectorWeight, Candidates = int.MaxValue },
            lexicalScore: id =>
            {
                allLexical ??= LexicalScores(parts);
                int slot = _indexes.Bm25.DocumentSlot(id);
                return slot >= 0 ? allLexical[slot] : 0;
            },
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
