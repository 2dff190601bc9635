using System.Text;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Lexical;
using Embeddings.Search;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace Embeddings.Postgres;

/// <summary>Rows one endpoint (the table, or one shard) sent for the last query.</summary>
/// <param name="Endpoint">host:port/database and table.</param>
/// <param name="Rows">Candidate rows read (vector and lexical candidates, and scores looked up for fusion).</param>
internal readonly record struct EndpointRows(string Endpoint, long Rows);

/// <summary>
/// Similar-paper search answered by PostgreSQL alone (behind <see cref="PostgresPaperBackend"/>), with the same
/// queries, exclusions, Rocchio query vector (<see cref="QueryVector"/>), fusion and JSON as the local search:
/// pgvector HNSW (cosine) for vector candidates with <c>hnsw.ef_search</c> from <see cref="SimilarQuery.Ef"/> (a
/// sequential scan when <see cref="SimilarQuery.Exact"/>), PostgreSQL full-text ranking (<c>ts_rank(tsv, q, 1)</c>
/// over the <c>tsv</c> column, a query's lexemes OR-ed) for lexical candidates, fused by <see cref="ScoreFusion.Fuse"/>
/// exactly as the local hybrid, filters as SQL. On a sharded table each shard is asked
/// for its own top candidates at once and the caller merges them, so a shard streams at most as many rows as the
/// query needs. Thread-safe: queries may run concurrently.
/// </summary>
internal sealed class PostgresPaperSearch : IAsyncDisposable
{
    private const string Config = PostgresTable.TextSearchConfig;

    /// <summary>Vector candidates asked beyond K, for near-duplicates of the query that are dropped.</summary>
    private const int VectorMargin = 5;

    /// <summary>pgvector's default <c>hnsw.ef_search</c>, used when the query does not set one.</summary>
    private const int DefaultEfSearch = 40;

    private readonly PostgresTable _table;
    private Task<LexemeStatistics>? _statistics;
    private readonly Lock _gate = new();
    private EndpointRows[] _lastRows = [];

    private PostgresPaperSearch(PostgresTable table)
    {
        _table = table;
    }

    /// <summary>The table's catalog entry (model fingerprint, dimension, shards).</summary>
    public PostgresTableInfo Info => _table.Info!;

    /// <summary>The table searched (its coordinator, name and endpoints).</summary>
    public PostgresTable Table => _table;

    /// <summary>Rows each endpoint sent for the most recent query (the measure that stays bounded when sharded).</summary>
    public IReadOnlyList<EndpointRows> LastQueryRows
    {
        get
        {
            lock (_gate)
            {
                return _lastRows;
            }
        }
    }

    /// <summary>Connects to the table made by <see cref="PostgresSync"/> and finds its shards.</summary>
    /// <exception cref="PostgresBackendException">No such table, or an unreachable server.</exception>
    public static async Task<PostgresPaperSearch> OpenAsync(PostgresLibraryOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        PostgresTable table = await PostgresTable.ConnectAsync(options.ConnectionString, options.Table, cancellationToken).ConfigureAwait(false);
        try
        {
            if (table.Info is null)
            {
                throw new PostgresBackendException(
                    $"no {table.Describe} made by `embeddings sync`; create it with `embeddings sync --store DIR --postgres CONN --table {table.Table.Display}`.");
            }
            await table.ResolveEndpointsAsync(options.Shards, cancellationToken).ConfigureAwait(false);
            return new PostgresPaperSearch(table);
        }
        catch
        {
            await table.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Answers a query that has no free text to embed (an id, liked papers, or lexical mode).</summary>
    public async Task<IReadOnlyList<SimilarHit>> SearchAsync(SimilarQuery query, CancellationToken cancellationToken = default) =>
        await SearchAsync(query, null, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Answers one query as <see cref="PaperLibrary.SimilarAsync"/> over a store of the same papers: hits best first, the
    /// stored paper the query is (the id's, or the one whose text was pasted, found by its near-identical vector) and how
    /// many of its copies were left out.
    /// <paramref name="encoder"/> (the table's model) embeds the free text of a vector or hybrid query, and the hits'
    /// sentences where vectors decided (<see cref="SimilarHit.ClosestSentence"/>); without it those hits are not explained.
    /// </summary>
    /// <exception cref="PaperNotFoundException">A paper id of the query is not in the table.</exception>
    public async Task<SimilarResult> SearchAsync(SimilarQuery query, ISentenceEncoder? encoder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        if (encoder is not null && encoder.Fingerprint != Info.ModelFingerprint)
        {
            throw ModelMismatchException.ForLocation(_table.Describe, Info.ModelFingerprint, encoder.Fingerprint);
        }
        var rows = new long[_table.Endpoints.Count];
        QueryParts parts = await ResolveQueryAsync(query, cancellationToken).ConfigureAwait(false);
        float[]? queryVector = query.Mode == RankingMode.Lexical ? null : await QueryVectorAsync(parts, encoder, Info.Dimension, cancellationToken).ConfigureAwait(false);
        // Fusion needs each ranking's top FusionCandidates (from every shard, so the merge is the whole table's). A
        // vector ranking alone needs only the top K: ask for a few more than K plus the excluded papers, and again
        // for twice as many in the rare case near-duplicates leave fewer than K (the answer is then the local one).
        int candidates = query.Mode == RankingMode.Vector
            ? query.K + parts.ExcludedIds.Count + VectorMargin
            : Math.Max(query.K, SearchDefaults.FusionCandidates) + parts.ExcludedIds.Count;
        List<(string Id, float Score)> chosen;
        string? firstCopy;
        int hiddenCopies;
        while (true)
        {
            Array.Clear(rows);
            (chosen, int found, bool belowMinScore, firstCopy, hiddenCopies) = await RankAsync(query, parts, queryVector, candidates, rows, cancellationToken).ConfigureAwait(false);
            if (query.Mode != RankingMode.Vector || chosen.Count >= query.K || found < candidates || belowMinScore)
            {
                break;
            }
            candidates *= 2;
        }
        (List<SimilarHit> hits, List<Paper> papers) = await DescribeHitsAsync(chosen, parts, cancellationToken).ConfigureAwait(false);
        if (!query.Explain || query.Mode == RankingMode.Vector || query.Like.Count > 0 || query.Unlike.Count > 0)
        {
            // Shared words explain only rankings that words decided (SimilarHit.Why).
            hits = [.. hits.Select(h => h with { Why = [] })];
        }
        if (queryVector is not null && encoder is not null && query.ExplainsBySentence)
        {
            // Where vectors decided, each hit's sentence closest to the query, as a store answers it.
            await PaperSearch.AddClosestSentencesAsync(hits, papers, queryVector, encoder, cancellationToken).ConfigureAwait(false);
        }
        QueryPaper? queryPaper = query.PaperId is not null && parts.Likes.Count == 1 ? new QueryPaper(parts.Likes[0].Id, parts.Likes[0].Title)
            : parts.Text is not null && parts.Likes.Count == 0 && parts.Unlikes.Count == 0 && firstCopy is not null
                && (await FetchPapersAsync([firstCopy], cancellationToken).ConfigureAwait(false)).TryGetValue(firstCopy, out StoredQueryPaper? copy)
                ? new QueryPaper(copy.Id, copy.Title)
                : null;
        int hidden = hiddenCopies + await CountHashCopiesAsync(parts, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _lastRows = [.. _table.Endpoints.Select((e, i) => new EndpointRows(e.Describe, rows[i]))];
        }
        return new SimilarResult(hits, queryPaper, hidden);
    }

    /// <summary>The papers under other ids with the text of a query paper (left out of the hits), counted as a store counts them.</summary>
    private async Task<int> CountHashCopiesAsync(QueryParts parts, CancellationToken cancellationToken)
    {
        if (parts.ExcludedHashes.Count == 0)
        {
            return 0;
        }
        long copies = 0;
        await ForEachEndpointAsync(async (endpoint, c, _) =>
        {
            await using var command = new NpgsqlCommand(
                $"SELECT count(*) FROM {endpoint.Table.Sql} p WHERE p.content_hash = ANY(@hashes) AND p.id <> ALL(@ids)", c);
            command.Parameters.Add(new NpgsqlParameter("hashes", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = parts.ExcludedHashes.ToArray() });
            command.Parameters.AddWithValue("ids", parts.ExcludedIds.ToArray());
            long n = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            Interlocked.Add(ref copies, n);
            return 0;
        }, null, cancellationToken).ConfigureAwait(false);
        return (int)Math.Min(copies, int.MaxValue);
    }

    /// <summary>Candidates from the database, ranked (fused in hybrid mode), cut to K without near-duplicates of the query.</summary>
    private async Task<(List<(string Id, float Score)> Chosen, int VectorCandidates, bool BelowMinScore, string? FirstCopy, int HiddenCopies)> RankAsync(SimilarQuery query, QueryParts parts, float[]? queryVector,
        int candidates, long[] rows, CancellationToken cancellationToken)
    {
        Dictionary<string, float> vectorScores = queryVector is null ? new(StringComparer.Ordinal)
            : await VectorCandidatesAsync(queryVector, candidates, query, parts, rows, cancellationToken).ConfigureAwait(false);
        LexicalQuery? lexical = query.Mode == RankingMode.Vector ? null : await LexicalQueryAsync(parts, cancellationToken).ConfigureAwait(false);
        Dictionary<string, float> lexicalScores = lexical is null ? new(StringComparer.Ordinal)
            : await LexicalCandidatesAsync(lexical, candidates, query, parts, rows, cancellationToken).ConfigureAwait(false);

        List<(string Id, float Score)> ranked;
        if (query.Mode == RankingMode.Vector)
        {
            ranked = [.. vectorScores.Select(p => (p.Key, p.Value))];
        }
        else if (query.Mode == RankingMode.Lexical)
        {
            ranked = [.. lexicalScores.Select(p => (p.Key, p.Value))];
        }
        else
        {
            ranked = await FuseAsync(query, queryVector!, lexical, vectorScores, lexicalScores, rows, cancellationToken).ConfigureAwait(false);
        }
        ranked.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.Id, b.Id));

        var chosen = new List<(string Id, float Score)>(query.K);
        bool belowMinScore = false;
        string? firstCopy = null;
        int hiddenCopies = 0;
        foreach ((string id, float score) in ranked)
        {
            if (query.MinScore is float min && score < min)
            {
                belowMinScore = true;
                break;
            }
            if (chosen.Count == query.K)
            {
                break;
            }
            if (parts.CheckNearDuplicates && queryVector is not null
                && vectorScores.TryGetValue(id, out float cosine) && cosine >= SearchDefaults.DuplicateCosine)
            {
                firstCopy ??= id;
                if (query.ExcludeDuplicates)
                {
                    hiddenCopies++;
                    continue;
                }
            }
            chosen.Add((id, score));
        }
        return (chosen, vectorScores.Count, belowMinScore, firstCopy, hiddenCopies);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _table.DisposeAsync();

    // ------------------------------------------------------------------ query parts

    /// <summary>A stored paper a query is made of.</summary>
    private sealed record StoredQueryPaper(string Id, string Title, byte[] Hash, float[] Vector, string[] Lexemes, int[] Frequencies);

    private sealed class QueryParts
    {
        public List<StoredQueryPaper> Likes { get; } = [];
        public List<StoredQueryPaper> Unlikes { get; } = [];
        public string? Text { get; init; }
        public (string[] Lexemes, int[] Frequencies)? TextLexemes { get; set; }
        public List<string> ExcludedIds { get; } = [];
        public List<byte[]> ExcludedHashes { get; } = [];
        /// <summary>Whether hits may be copies of the query to look for: a single paper or a pasted text (as a store looks).</summary>
        public bool CheckNearDuplicates { get; set; }
        public PaperFilter? Filter { get; init; }
    }

    private async Task<QueryParts> ResolveQueryAsync(SimilarQuery query, CancellationToken cancellationToken)
    {
        var parts = new QueryParts { Text = string.IsNullOrWhiteSpace(query.Text) ? null : query.Text, Filter = query.Filter };
        List<string> likeIds = [.. (query.PaperId is null ? Array.Empty<string>() : [query.PaperId]).Concat(query.Like)];
        string[] wanted = [.. likeIds.Concat(query.Unlike).Distinct(StringComparer.Ordinal)];
        Dictionary<string, StoredQueryPaper> found = wanted.Length == 0 ? [] : await FetchPapersAsync(wanted, cancellationToken).ConfigureAwait(false);
        StoredQueryPaper Require(string id) => found.TryGetValue(id, out StoredQueryPaper? p) ? p : throw new PaperNotFoundException(
            id, _table.Describe, "`embeddings sync` it from its store first.");
        parts.Likes.AddRange(likeIds.Select(Require));
        parts.Unlikes.AddRange(query.Unlike.Select(Require));
        foreach (StoredQueryPaper p in parts.Likes.Concat(parts.Unlikes))
        {
            parts.ExcludedIds.Add(p.Id);
            if (query.ExcludeDuplicates)
            {
                parts.ExcludedHashes.Add(p.Hash);
            }
        }
        parts.CheckNearDuplicates = parts.Text is not null || parts.Likes.Count == 1;
        if (parts.Text is not null)
        {
            parts.TextLexemes = await TextLexemesAsync(parts.Text, cancellationToken).ConfigureAwait(false);
        }
        return parts;
    }

    private async Task<Dictionary<string, StoredQueryPaper>> FetchPapersAsync(string[] ids, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, StoredQueryPaper>(StringComparer.Ordinal);
        await ForEachEndpointAsync(async (endpoint, c, _) =>
        {
            await using var command = new NpgsqlCommand(
                $"""
                SELECT p.id, p.title, p.content_hash, p.embedding,
                       ARRAY(SELECT l.lexeme FROM unnest(p.tsv) l ORDER BY l.lexeme),
                       ARRAY(SELECT coalesce(array_length(l.positions, 1), 1) FROM unnest(p.tsv) l ORDER BY l.lexeme)
                FROM {endpoint.Table.Sql} p WHERE p.id = ANY(@ids)
                """, c);
            command.Parameters.AddWithValue("ids", ids);
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var paper = new StoredQueryPaper(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<byte[]>(2), reader.GetFieldValue<Vector>(3).ToArray(),
                    reader.GetFieldValue<string[]>(4), reader.GetFieldValue<int[]>(5));
                lock (found)
                {
                    found[paper.Id] = paper;
                }
            }
            return 0;
        }, null, cancellationToken).ConfigureAwait(false);
        return found;
    }

    private Task<(string[], int[])> TextLexemesAsync(string text, CancellationToken cancellationToken) => _table.Guard(async () =>
    {
        await using NpgsqlConnection c = await _table.Coordinator.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            $"SELECT l.lexeme, coalesce(array_length(l.positions, 1), 1) FROM unnest(to_tsvector('{Config}', @text)) l ORDER BY l.lexeme", c);
        command.Parameters.AddWithValue("text", text);
        var lexemes = new List<string>();
        var frequencies = new List<int>();
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            lexemes.Add(reader.GetString(0));
            frequencies.Add(reader.GetInt32(1));
        }
        return (lexemes.ToArray(), frequencies.ToArray());
    });

    /// <summary>
    /// Rocchio, as the local search (<see cref="QueryVector"/>): the liked papers and the text, minus a share of the unliked
    /// ones. Always, whatever <see cref="SimilarQuery.LikeRanking"/> asks: the classifier trains on a background of stored
    /// vectors, which a table would have to send over the wire per request.
    /// </summary>
    private static async Task<float[]> QueryVectorAsync(QueryParts parts, ISentenceEncoder? encoder, int dimension, CancellationToken cancellationToken)
    {
        var vector = new QueryVector(dimension);
        foreach (StoredQueryPaper p in parts.Likes)
        {
            vector.AddLike(p.Vector);
        }
        if (parts.Text is not null)
        {
            if (encoder is null)
            {
                throw new EmbeddingsException("A free-text query in vector or hybrid mode needs the table's model; pass --model DIR, or use --mode lexical.");
            }
            EmbeddingBatch batch = await encoder.EncodeAsync([encoder.QueryText(parts.Text)], cancellationToken).ConfigureAwait(false);
            vector.AddLike(batch[0]);
        }
        foreach (StoredQueryPaper p in parts.Unlikes)
        {
            vector.AddUnlike(p.Vector);
        }
        return vector.Build();
    }

    // ------------------------------------------------------------------ SQL pieces

    /// <summary>The WHERE clause of the filters and exclusions, with its parameters.</summary>
    private static string Where(QueryParts parts, NpgsqlParameterCollection parameters)
    {
        var sql = new StringBuilder("TRUE");
        if (parts.ExcludedIds.Count > 0)
        {
            sql.Append(" AND p.id <> ALL(@excluded_ids)");
            parameters.AddWithValue("excluded_ids", parts.ExcludedIds.ToArray());
        }
        if (parts.ExcludedHashes.Count > 0)
        {
            sql.Append(" AND p.content_hash <> ALL(@excluded_hashes)");
            parameters.Add(new NpgsqlParameter("excluded_hashes", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = parts.ExcludedHashes.ToArray() });
        }
        if (parts.Filter is { } filter)
        {
            AppendFilter(sql, filter, parameters);
        }
        return sql.ToString();
    }

    /// <summary>
    /// <paramref name="filter"/> as SQL conditions on the papers table aliased <c>p</c> (each appended as <c> AND ...</c>),
    /// letting through exactly the papers <c>PaperFilter.Matches</c> lets through locally.
    /// </summary>
    public static void AppendFilter(StringBuilder sql, PaperFilter filter, NpgsqlParameterCollection parameters)
    {
        if (filter.DateFrom is not null || filter.DateTo is not null)
        {
            sql.Append(" AND p.date <> ''"); // an undated paper never passes a date bound
        }
        if (filter.DateFrom is not null)
        {
            sql.Append(" AND p.date >= @date_from");
            parameters.AddWithValue("date_from", filter.DateFrom);
        }
        if (filter.DateTo is not null)
        {
            // A prefix bound ("2025-03") includes every date that starts with it, as PaperFilter.Matches.
            sql.Append(" AND (p.date <= @date_to OR starts_with(p.date, @date_to))");
            parameters.AddWithValue("date_to", filter.DateTo);
        }
        if (filter.Categories is not null)
        {
            sql.Append(" AND p.categories && @categories");
            parameters.AddWithValue("categories", filter.Categories.ToArray());
        }
        if (filter.Ids is not null)
        {
            sql.Append(" AND p.id = ANY(@filter_ids)");
            parameters.AddWithValue("filter_ids", filter.Ids.ToArray());
        }
    }

    /// <summary>Runs <paramref name="body"/> on every endpoint at once, each with its own connection; results in endpoint order.</summary>
    private async Task<T[]> ForEachEndpointAsync<T>(Func<TableEndpoint, NpgsqlConnection, int, Task<T>> body, long[]? rows, CancellationToken cancellationToken)
    {
        return await Task.WhenAll(_table.Endpoints.Select((endpoint, i) => endpoint.Guard(async () =>
        {
            await using NpgsqlConnection c = await endpoint.Source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await body(endpoint, c, i).ConfigureAwait(false);
        }))).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ vector

    private async Task<Dictionary<string, float>> VectorCandidatesAsync(float[] queryVector, int candidates, SimilarQuery query, QueryParts parts,
        long[] rows, CancellationToken cancellationToken)
    {
        var q = new Vector(queryVector);
        // pgvector's HNSW returns at most ef_search rows per scan; strict iterative scans go on when filters drop rows.
        int ef = Math.Clamp(Math.Max(query.Ef > 0 ? query.Ef : DefaultEfSearch, candidates), 1, 1000);
        List<(string Id, float Score)>[] perEndpoint = await ForEachEndpointAsync(async (endpoint, c, i) =>
        {
            await using var batch = new NpgsqlBatch(c);
            var settings = new NpgsqlBatchCommand(
                "SELECT set_config('hnsw.ef_search', @ef, true), set_config('hnsw.iterative_scan', 'strict_order', true), " +
                "set_config('enable_indexscan', @indexscan, true)");
            settings.Parameters.AddWithValue("ef", ef.ToString(System.Globalization.CultureInfo.InvariantCulture));
            settings.Parameters.AddWithValue("indexscan", query.Exact ? "off" : "on");
            batch.BatchCommands.Add(settings);
            var select = new NpgsqlBatchCommand();
            string where = Where(parts, select.Parameters);
            select.CommandText = $"SELECT p.id, p.embedding <=> @q FROM {endpoint.Table.Sql} p WHERE {where} ORDER BY p.embedding <=> @q LIMIT @n";
            select.Parameters.AddWithValue("q", q);
            select.Parameters.AddWithValue("n", candidates);
            batch.BatchCommands.Add(select);
            var found = new List<(string, float)>();
            await using NpgsqlDataReader reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found.Add((reader.GetString(0), (float)(1 - reader.GetDouble(1))));
            }
            Interlocked.Add(ref rows[i], found.Count);
            return found;
        }, rows, cancellationToken).ConfigureAwait(false);
        return TopOf(perEndpoint, candidates);
    }

    private static Dictionary<string, float> TopOf(List<(string Id, float Score)>[] perEndpoint, int candidates)
    {
        List<(string Id, float Score)> all = [.. perEndpoint.SelectMany(x => x)];
        all.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.Id, b.Id));
        var result = new Dictionary<string, float>(Math.Min(all.Count, candidates), StringComparer.Ordinal);
        for (int i = 0; i < all.Count && i < candidates; i++)
        {
            result[all[i].Id] = all[i].Score;
        }
        return result;
    }

    // ------------------------------------------------------------------ lexical

    /// <summary>
    /// The lexical side of a query, as the local BM25 side: one OR-query per text (the free text, each liked paper)
    /// with weight 1, one per unliked paper with weight -UnlikeWeight/count; a single query keeps raw ranks, several
    /// are each divided by their best rank over the whole table first.
    /// </summary>
    private sealed record LexicalQuery(string[] Queries, float[] Weights, float[] Norms);

    private async Task<LexicalQuery?> LexicalQueryAsync(QueryParts parts, CancellationToken cancellationToken)
    {
        var queries = new List<string>();
        var weights = new List<float>();
        if (parts.TextLexemes is { } text && text.Lexemes.Length > 0)
        {
            queries.Add(OrQuery(text.Lexemes));
            weights.Add(1);
        }
        foreach (StoredQueryPaper p in parts.Likes.Where(p => p.Lexemes.Length > 0))
        {
            queries.Add(OrQuery(p.Lexemes));
            weights.Add(1);
        }
        int likeQueries = queries.Count;
        foreach (StoredQueryPaper p in parts.Unlikes.Where(p => p.Lexemes.Length > 0))
        {
            queries.Add(OrQuery(p.Lexemes));
            weights.Add(-SearchDefaults.UnlikeWeight / parts.Unlikes.Count);
        }
        if (likeQueries == 0)
        {
            return null;
        }
        var norms = new float[queries.Count];
        Array.Fill(norms, 1f);
        if (queries.Count > 1)
        {
            string[] all = [.. queries];
            float[][] maxima = await ForEachEndpointAsync(async (endpoint, c, _) =>
            {
                await using var command = new NpgsqlCommand(
                    $"""
                    SELECT q.n, max(ts_rank(p.tsv, q.query, 1))
                    FROM {endpoint.Table.Sql} p JOIN unnest(@queries::tsquery[]) WITH ORDINALITY AS q(query, n) ON p.tsv @@ q.query
                    GROUP BY q.n
                    """, c);
                command.Parameters.AddWithValue("queries", all);
                var max = new float[all.Length];
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    max[(int)reader.GetInt64(0) - 1] = reader.GetFloat(1);
                }
                return max;
            }, null, cancellationToken).ConfigureAwait(false);
            for (int q = 0; q < norms.Length; q++)
            {
                float max = maxima.Max(m => m[q]);
                norms[q] = max > 0 ? max : 1;
            }
        }
        return new LexicalQuery([.. queries], [.. weights], norms);
    }

    /// <summary>A tsquery text matching any of the lexemes (quoted, so the cast does not stem them again).</summary>
    private static string OrQuery(string[] lexemes)
    {
        var text = new StringBuilder();
        foreach (string lexeme in lexemes)
        {
            if (text.Length > 0)
            {
                text.Append(" | ");
            }
            text.Append('\'').Append(lexeme.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal)).Append('\'');
        }
        return text.ToString();
    }

    /// <summary>
    /// The combined lexical score of a row: the weighted sum of its ranks against each query, each divided by that
    /// query's norm. ts_rank with normalisation 1 (divided by 1 + log of the document length) ranked SciFact best of
    /// PostgreSQL's rankings (nDCG@10 61.6 vs 60.1 plain, 42.4 for ts_rank_cd; QUALITY.md).
    /// </summary>
    private const string LexicalScoreSql = "sum(q.weight * ts_rank(p.tsv, q.query, 1) / q.norm) FILTER (WHERE p.tsv @@ q.query)";

    private async Task<Dictionary<string, float>> LexicalCandidatesAsync(LexicalQuery lexical, int candidates, SimilarQuery query, QueryParts parts,
        long[] rows, CancellationToken cancellationToken)
    {
        List<(string Id, float Score)>[] perEndpoint = await ForEachEndpointAsync(async (endpoint, c, i) =>
        {
            await using var command = new NpgsqlCommand { Connection = c };
            string where = Where(parts, command.Parameters);
            command.CommandText =
                $"""
                SELECT p.id, {LexicalScoreSql} AS score
                FROM {endpoint.Table.Sql} p JOIN unnest(@queries::tsquery[], @weights::real[], @norms::real[]) AS q(query, weight, norm) ON p.tsv @@ q.query
                WHERE {where}
                GROUP BY p.id HAVING {LexicalScoreSql} > 0
                ORDER BY score DESC, p.id LIMIT @n
                """;
            command.Parameters.AddWithValue("queries", lexical.Queries);
            command.Parameters.AddWithValue("weights", lexical.Weights);
            command.Parameters.AddWithValue("norms", lexical.Norms);
            command.Parameters.AddWithValue("n", candidates);
            var found = new List<(string, float)>();
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found.Add((reader.GetString(0), (float)reader.GetDouble(1)));
            }
            Interlocked.Add(ref rows[i], found.Count);
            return found;
        }, rows, cancellationToken).ConfigureAwait(false);
        return TopOf(perEndpoint, candidates);
    }

    // ------------------------------------------------------------------ fusion

    private async Task<List<(string Id, float Score)>> FuseAsync(SimilarQuery query, float[] queryVector, LexicalQuery? lexical,
        Dictionary<string, float> vectorScores, Dictionary<string, float> lexicalScores, long[] rows, CancellationToken cancellationToken)
    {
        // As the local hybrid: a candidate found by one ranking only gets its true score from the other, not a floor.
        string[] needLexical = [.. vectorScores.Keys.Where(id => !lexicalScores.ContainsKey(id))];
        string[] needVector = [.. lexicalScores.Keys.Where(id => !vectorScores.ContainsKey(id))];
        var q = new Vector(queryVector);
        await ForEachEndpointAsync(async (endpoint, c, i) =>
        {
            if (needVector.Length > 0)
            {
                await using var command = new NpgsqlCommand($"SELECT p.id, p.embedding <=> @q FROM {endpoint.Table.Sql} p WHERE p.id = ANY(@ids)", c);
                command.Parameters.AddWithValue("q", q);
                command.Parameters.AddWithValue("ids", needVector);
                await ReadScoresAsync(command, vectorScores, d => (float)(1 - d), rows, i, cancellationToken).ConfigureAwait(false);
            }
            if (needLexical.Length > 0)
            {
                if (lexical is null)
                {
                    lock (lexicalScores)
                    {
                        foreach (string id in needLexical)
                        {
                            lexicalScores.TryAdd(id, 0);
                        }
                    }
                }
                else
                {
                    await using var command = new NpgsqlCommand(
                        $"""
                        SELECT p.id, coalesce({LexicalScoreSql}, 0)
                        FROM {endpoint.Table.Sql} p CROSS JOIN unnest(@queries::tsquery[], @weights::real[], @norms::real[]) AS q(query, weight, norm)
                        WHERE p.id = ANY(@ids) GROUP BY p.id
                        """, c);
                    command.Parameters.AddWithValue("queries", lexical.Queries);
                    command.Parameters.AddWithValue("weights", lexical.Weights);
                    command.Parameters.AddWithValue("norms", lexical.Norms);
                    command.Parameters.AddWithValue("ids", needLexical);
                    await ReadScoresAsync(command, lexicalScores, d => (float)d, rows, i, cancellationToken).ConfigureAwait(false);
                }
            }
            return 0;
        }, rows, cancellationToken).ConfigureAwait(false);

        ScoredDocument[] fused = ScoreFusion.Fuse(Ranking(lexicalScores, exclude: needLexical), Ranking(vectorScores, exclude: needVector),
            lexicalScores.Count + vectorScores.Count,
            // ts_rank has no maximum attainable score as BM25 has, so the fixed-scale fusion of local stores is not
            // available here: the database fuses min-max per query (scores rank, not comparable across queries).
            new FusionOptions
            {
                Method = query.Fusion == FusionMethod.FixedScale ? FusionMethod.WeightedMinMax : query.Fusion,
                VectorWeight = query.VectorWeight,
                Candidates = int.MaxValue,
            },
            lexicalScore: id => lexicalScores.GetValueOrDefault(id),
            vectorScore: id => vectorScores.GetValueOrDefault(id));
        return [.. fused.Select(d => (d.Id, d.Score))];
    }

    private static async Task ReadScoresAsync(NpgsqlCommand command, Dictionary<string, float> into, Func<double, float> convert, long[] rows, int endpoint,
        CancellationToken cancellationToken)
    {
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            float score = convert(reader.GetDouble(1));
            lock (into)
            {
                into[reader.GetString(0)] = score;
            }
            Interlocked.Increment(ref rows[endpoint]);
        }
    }

    /// <summary>The candidates of one ranking (those looked up for fusion left out), best first.</summary>
    private static ScoredDocument[] Ranking(Dictionary<string, float> scores, string[] exclude)
    {
        var skip = new HashSet<string>(exclude, StringComparer.Ordinal);
        ScoredDocument[] ranking = [.. scores.Where(p => !skip.Contains(p.Key)).Select(p => new ScoredDocument(p.Key, p.Value))];
        Array.Sort(ranking, (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.Id, b.Id));
        return ranking;
    }

    // ------------------------------------------------------------------ hits

    /// <summary>Titles and the "why" of each hit: the lexemes it shares most strongly with the query, shown as the hit's own words.</summary>
    private async Task<(List<SimilarHit> Hits, List<Paper> Papers)> DescribeHitsAsync(List<(string Id, float Score)> chosen, QueryParts parts,
        CancellationToken cancellationToken)
    {
        if (chosen.Count == 0)
        {
            return ([], []);
        }
        (string[] Lexemes, int[] Frequencies)? whyQuery = parts.TextLexemes ?? (parts.Likes.Count > 0 ? (parts.Likes[0].Lexemes, parts.Likes[0].Frequencies) : null);
        string[] ids = [.. chosen.Select(c => c.Id)];
        var texts = new Dictionary<string, (string Title, string Abstract)>(StringComparer.Ordinal);
        var why = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        await ForEachEndpointAsync(async (endpoint, c, _) =>
        {
            LexemeStatistics statistics = await StatisticsAsync(cancellationToken).ConfigureAwait(false);
            var shared = new Dictionary<string, List<(string Lexeme, int Frequency)>>(StringComparer.Ordinal);
            await using (var command = new NpgsqlCommand(
                $"""
                SELECT p.id, p.title, p.abstract,
                       ARRAY(SELECT l.lexeme FROM unnest(p.tsv) l WHERE l.lexeme = ANY(@lexemes) ORDER BY l.lexeme),
                       ARRAY(SELECT coalesce(array_length(l.positions, 1), 1) FROM unnest(p.tsv) l WHERE l.lexeme = ANY(@lexemes) ORDER BY l.lexeme)
                FROM {endpoint.Table.Sql} p WHERE p.id = ANY(@ids)
                """, c))
            {
                command.Parameters.AddWithValue("lexemes", whyQuery?.Lexemes ?? []);
                command.Parameters.AddWithValue("ids", ids);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    string id = reader.GetString(0);
                    lock (texts)
                    {
                        texts[id] = (reader.GetString(1), reader.GetString(2));
                    }
                    string[] lexemes = reader.GetFieldValue<string[]>(3);
                    int[] frequencies = reader.GetFieldValue<int[]>(4);
                    shared[id] = [.. lexemes.Zip(frequencies)];
                }
            }
            if (whyQuery is not { } query || shared.Count == 0)
            {
                return 0;
            }
            var queryFrequency = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < query.Lexemes.Length; i++)
            {
                queryFrequency[query.Lexemes[i]] = query.Frequencies[i];
            }
            var top = new Dictionary<string, string[]>(StringComparer.Ordinal);
            foreach ((string id, List<(string Lexeme, int Frequency)> terms) in shared)
            {
                top[id] = [.. terms
                    .Select(t => (t.Lexeme, Weight: queryFrequency[t.Lexeme] * statistics.Idf(t.Lexeme) * (t.Frequency * 2.2f / (t.Frequency + 1.2f))))
                    .OrderByDescending(t => t.Weight).ThenBy(t => t.Lexeme, StringComparer.Ordinal)
                    .Take(SearchDefaults.WhyTerms)
                    .Select(t => t.Lexeme)];
            }
            Dictionary<(string, string), string> surface = await SurfaceFormsAsync(endpoint, c, top, cancellationToken).ConfigureAwait(false);
            lock (why)
            {
                foreach ((string id, string[] lexemes) in top)
                {
                    why[id] = [.. lexemes.Select(l => surface.GetValueOrDefault((id, l), l))];
                }
            }
            return 0;
        }, null, cancellationToken).ConfigureAwait(false);
        List<(string Id, float Score)> found = [.. chosen.Where(c => texts.ContainsKey(c.Id))];
        return ([.. found.Select(c => new SimilarHit(c.Id, texts[c.Id].Title, c.Score, why.GetValueOrDefault(c.Id) ?? []))],
            [.. found.Select(c => new Paper(c.Id, texts[c.Id].Title, texts[c.Id].Abstract))]);
    }

    /// <summary>For each hit and lexeme, the first word of the hit's text that PostgreSQL turns into that lexeme ("catastroph" -> "catastrophic").</summary>
    private static async Task<Dictionary<(string, string), string>> SurfaceFormsAsync(TableEndpoint endpoint, NpgsqlConnection c,
        Dictionary<string, string[]> lexemesById, CancellationToken cancellationToken)
    {
        var result = new Dictionary<(string, string), string>();
        string[] wanted = [.. lexemesById.Values.SelectMany(x => x).Distinct(StringComparer.Ordinal)];
        if (wanted.Length == 0)
        {
            return result;
        }
        await using var command = new NpgsqlCommand(
            $"""
            SELECT p.id, lower(d.token), d.lexemes[1]
            FROM {endpoint.Table.Sql} p, LATERAL ts_debug('{Config}', p.title || E'.\n' || p.abstract) WITH ORDINALITY AS d
            WHERE p.id = ANY(@ids) AND d.lexemes && @wanted
            ORDER BY p.id, d.ordinality
            """, c);
        command.Parameters.AddWithValue("ids", lexemesById.Keys.ToArray());
        command.Parameters.AddWithValue("wanted", wanted);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.TryAdd((reader.GetString(0), reader.GetString(2)), reader.GetString(1));
        }
        return result;
    }

    private Task<LexemeStatistics> StatisticsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_statistics is null || _statistics.IsFaulted || _statistics.IsCanceled)
            {
                _statistics = LexemeStatistics.LoadAsync(_table.Endpoints, cancellationToken);
            }
            return _statistics;
        }
    }
}

/// <summary>
/// Document frequencies of lexemes from PostgreSQL's own statistics of the tsv column (<c>pg_stats.most_common_elems</c>,
/// kept by ANALYZE, which sync runs): the idf behind the "why" of a hit. A lexeme not among the most common is rarer
/// than the least common listed one; it counts as half that frequency, as the planner assumes.
/// </summary>
internal sealed class LexemeStatistics
{
    private readonly Dictionary<string, float> _frequency;
    private readonly float _rare;

    private LexemeStatistics(Dictionary<string, float> frequency, float rare)
    {
        _frequency = frequency;
        _rare = rare;
    }

    public float Idf(string lexeme)
    {
        float f = Math.Clamp(_frequency.GetValueOrDefault(lexeme, _rare), 1e-6f, 1f);
        return MathF.Log(1 + ((1 - f + 1e-6f) / f));
    }

    /// <summary>The statistics of every endpoint, merged weighted by their row counts (so a sharded table explains as one table).</summary>
    public static async Task<LexemeStatistics> LoadAsync(IReadOnlyList<TableEndpoint> endpoints, CancellationToken cancellationToken)
    {
        var parts = await Task.WhenAll(endpoints.Select(e => LoadOneAsync(e, cancellationToken))).ConfigureAwait(false);
        double rows = Math.Max(1, parts.Sum(p => p.Rows));
        var merged = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (string lexeme in parts.SelectMany(p => p.Frequency.Keys).Distinct(StringComparer.Ordinal))
        {
            merged[lexeme] = (float)(parts.Sum(p => p.Rows * p.Frequency.GetValueOrDefault(lexeme, p.Rare)) / rows);
        }
        return new LexemeStatistics(merged, (float)(parts.Sum(p => p.Rows * p.Rare) / rows));
    }

    private static Task<(Dictionary<string, float> Frequency, float Rare, double Rows)> LoadOneAsync(TableEndpoint endpoint, CancellationToken cancellationToken) =>
        endpoint.Guard(async () =>
        {
            await using NpgsqlConnection c = await endpoint.Source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(
                "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, greatest(c.reltuples, 0)::float8 " +
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
                "LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = 'tsv' " +
                "WHERE n.nspname = @schema AND c.relname = @table", c);
            command.Parameters.AddWithValue("schema", endpoint.Table.Schema);
            command.Parameters.AddWithValue("table", endpoint.Table.Name);
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var frequency = new Dictionary<string, float>(StringComparer.Ordinal);
            float rare = 0.5f;
            double rows = 0;
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows = reader.GetDouble(2);
                if (!reader.IsDBNull(0) && !reader.IsDBNull(1))
                {
                    string[] lexemes = reader.GetFieldValue<string[]>(0);
                    float[] frequencies = reader.GetFieldValue<float[]>(1);
                    for (int i = 0; i < lexemes.Length && i < frequencies.Length; i++)
                    {
                        frequency[lexemes[i]] = frequencies[i];
                    }
                    // After the per-lexeme frequencies come the minimum, the maximum and the null fraction.
                    rare = frequencies.Length > lexemes.Length ? frequencies[lexemes.Length] / 2 : 0.5f;
                }
            }
            return (frequency, rare, rows);
        });
}
