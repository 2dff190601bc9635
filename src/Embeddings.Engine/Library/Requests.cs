
namespace Embeddings;

/// <summary>A stored paper as the library shows it (<see cref="PaperLibrary.GetPaperAsync"/>, <see cref="PaperLibrary.ListPapersAsync"/>).</summary>
public sealed record PaperDetails
{
    /// <summary>The paper id (the input's, or one derived from the normalised title).</summary>
    public required string Id { get; init; }

    /// <summary>Title (may be empty for id + text inputs).</summary>
    public required string Title { get; init; }

    /// <summary>Abstract (or the whole text for id + text inputs).</summary>
    public required string Abstract { get; init; }

    /// <summary>Author names, when the input listed them.</summary>
    public IReadOnlyList<string>? Authors { get; init; }

    /// <summary>Number of authors, when known (named or only counted, as the daily-papers pages do).</summary>
    public int? AuthorCount { get; init; }

    /// <summary>
    /// The paper's date in ISO 8601 at the precision the input gave ("2024-03-14", "2024-03" or "2024"), validated on
    /// input; null when the input had none, or gave no year (see <see cref="DateText"/>). Never a guess.
    /// </summary>
    public string? Date { get; init; }

    /// <summary>
    /// The input's wording of a date that is not one, shown as written and never compared: a month and day without a
    /// year ("Mar 14", as the daily-papers pages list papers), or, in stores made before dates were validated, any
    /// wording that is no date. Null when <see cref="Date"/> holds the date or there was none.
    /// </summary>
    public string? DateText { get; init; }

    /// <summary>Subject categories, when the input had them.</summary>
    public IReadOnlyList<string>? Categories { get; init; }

    /// <summary>A link to the paper: the input's <c>url</c>, else the arXiv abstract page of its arXiv id; null when neither.</summary>
    public string? Url { get; init; }

    /// <summary>File names of the dumps the paper was read from, in the order first seen.</summary>
    public required IReadOnlyList<string> Sources { get; init; }

    /// <summary>The dump the current text was read from (null in stores made before this was recorded).</summary>
    public string? SourceFile { get; init; }

    /// <summary>The 1-based line of the paper's record in <see cref="SourceFile"/>; 0 when unknown.</summary>
    public long SourceLine { get; init; }

    /// <summary>When the paper first entered the store.</summary>
    public required DateTimeOffset FirstSeen { get; init; }

    /// <summary>1 for the first text; each changed title or abstract adds one.</summary>
    public required int Revision { get; init; }

    /// <summary>Whether some of the text did not reach the model (over its token limit even after windowing).</summary>
    public bool Truncated { get; init; }

    /// <summary>Whether the text was empty (its vector is all zeros).</summary>
    public bool Empty { get; init; }
}

/// <summary>The answer to one query of a query file (<see cref="PaperLibrary.SimilarForQueriesAsync"/>).</summary>
/// <param name="QueryId">The query's id as the file gave it.</param>
/// <param name="Hits">Its hits, best first, with what the search found about the query.</param>
public sealed record SimilarAnswer(string QueryId, SimilarResult Hits);

/// <summary>How a run uses the store's topic history (stable ids, new and growing topics).</summary>
public enum TopicHistoryMode
{
    /// <summary>Compare with the history (ids and trends from the previous run) but write nothing: a dry run.</summary>
    Compare,

    /// <summary>Compare, then record this run as the one the next run compares with (the digest of a dump or period, <c>topics --save</c>).</summary>
    Record,

    /// <summary>Neither read nor write the history: ids 0..n-1, no trends.</summary>
    Ignore,
}

/// <summary>How topics are fitted (<see cref="PaperLibrary.TopicsAsync"/>, and the topics of <see cref="DigestRequest"/>).</summary>
public sealed record TopicsRequest
{
    /// <summary>Clustering method (default k-means: every paper in a topic).</summary>
    public TopicMethod Method { get; init; } = TopicMethod.KMeans;

    /// <summary>Vectors clustered on (default: neural + corpus-fitted LSA, the best on the development data).</summary>
    public RepresentationKind Representation { get; init; } = RepresentationKind.Hybrid;

    /// <summary>Number of k-means clusters; null picks sqrt(n/2), capped at 40.</summary>
    public int? K { get; init; }

    /// <summary>Seed of every random choice; same input and seed give identical topics.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Merge the most similar topics until at most this many remain (null: no limit).</summary>
    public int? MaxTopics { get; init; }

    /// <summary>
    /// What labels are made of: the best keywords (default) or the title of the paper that stands for the topic. Keywords
    /// are listed either way; the label does not change the topics, their ids or their history.
    /// </summary>
    public TopicLabelKind Label { get; init; } = TopicLabelKind.Keywords;

    /// <summary>
    /// How this run uses the topic history (default <see cref="TopicHistoryMode.Compare"/>: ids and trends from the last
    /// recorded run, nothing written). Each configuration (method, representation, k, topic limit, seed) has a history
    /// of its own, so trying another never changes the default's. Ignored inside a <see cref="DigestRequest"/>, which has its own.
    /// </summary>
    public TopicHistoryMode History { get; init; } = TopicHistoryMode.Compare;

    /// <summary>Receives progress of the clustering.</summary>
    public IProgress<WorkProgress>? Progress { get; init; }

    /// <summary>Refuses settings no clustering can honour (the CLI's --k 0, --topics -1).</summary>
    internal void Validate()
    {
        if (K is < 1)
        {
            throw new InvalidRequestException($"The number of topics K must be at least 1, not {K} (--k); leave it unset to pick sqrt(n/2).");
        }
        if (MaxTopics is < 1)
        {
            throw new InvalidRequestException($"The topic limit must be at least 1, not {MaxTopics} (--topics); leave it unset for no limit.");
        }
        if (!Enum.IsDefined(Method) || !Enum.IsDefined(Representation) || !Enum.IsDefined(Label))
        {
            throw new InvalidRequestException($"Unknown topic method {Method}, representation {Representation} or label kind {Label}.");
        }
    }
}

/// <summary>What a digest covers (<see cref="PaperLibrary.DigestAsync"/>).</summary>
public sealed record DigestRequest
{
    /// <summary>
    /// Only papers dated on or after this date (a date with a year; papers dated without one, as the daily-papers pages
    /// write "Mar 14", count by when they were first stored). Null with <see cref="Dump"/> null: every stored paper.
    /// </summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>
    /// Only the papers new in this dump (its file name, as ingested): those first read from it, not the ones an earlier
    /// dump already brought. Exclusive with <see cref="Since"/>.
    /// </summary>
    public string? Dump { get; init; }

    /// <summary>How the selected papers are clustered.</summary>
    public TopicsRequest Topics { get; init; } = new();

    /// <summary>The digest's heading.</summary>
    public string Title { get; init; } = "Topic digest";

    /// <summary>
    /// How the digest uses the topic history (default <see cref="TopicHistoryMode.Record"/>: the digest of a dump or
    /// period owns its entry; writing it again in another format compares with the same earlier run).
    /// </summary>
    public TopicHistoryMode History { get; init; } = TopicHistoryMode.Record;
}

/// <summary>Formats of <see cref="PaperLibrary.ExportAsync"/>.</summary>
public enum ExportFormat
{
    /// <summary>One <c>{"id", "title", "abstract", "authors"?, "date"?, "categories"?, "url"?, "vector"}</c> object per line: a JSONL input of embed and ingest again.</summary>
    Jsonl,

    /// <summary>The checksummed binary vector file of <c>embeddings embed</c> (docs/formats.md), with the model fingerprint.</summary>
    Bin,

    /// <summary>A numpy float32 matrix; the ids, one per line in the same order, go to a <c>.ids.txt</c> file beside it.</summary>
    Npy,
}

/// <summary>Where and how <see cref="PaperLibrary.ExportAsync"/> writes.</summary>
public sealed record ExportRequest
{
    /// <summary>The format.</summary>
    public required ExportFormat Format { get; init; }

    /// <summary>The output file, published atomically. Null when <see cref="OutputStream"/> is set.</summary>
    public string? OutputPath { get; init; }

    /// <summary>Where to write instead of a file (stdout, an HTTP response). Not for <see cref="ExportFormat.Npy"/>, whose ids need a file of their own.</summary>
    public Stream? OutputStream { get; init; }
}

/// <summary>What <see cref="PaperLibrary.ExportAsync"/> wrote.</summary>
/// <param name="Count">Papers written.</param>
/// <param name="Dimension">Vector length.</param>
/// <param name="Fingerprint">The store's model fingerprint.</param>
/// <param name="IdsPath">For <see cref="ExportFormat.Npy"/>: the ids file written beside the matrix.</param>
public sealed record ExportSummary(long Count, int Dimension, string Fingerprint, string? IdsPath);

/// <summary>What a sync of a library's store into a database did (<c>SyncToPostgresAsync</c> of Embeddings.Postgres, <c>embeddings sync</c>).</summary>
/// <param name="Written">Papers inserted or rewritten: new in the store, changed since the last sync, or seen in another dump since.</param>
/// <param name="Deleted">Rows removed because the store no longer holds their paper.</param>
/// <param name="Unchanged">Papers the table already held as the store does.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record SyncSummary(long Written, long Deleted, long Unchanged, double Seconds)
{
    /// <summary>Papers written per second.</summary>
    public double PapersPerSecond => Seconds > 0 ? Written / Seconds : 0;
}

/// <summary>How <see cref="PaperLibrary.BuildIndexesAsync"/> works.</summary>
public sealed record IndexBuildOptions
{
    /// <summary>Build from scratch instead of adding only the papers the store gained.</summary>
    public bool Rebuild { get; init; }

    /// <summary>Receives progress of the build.</summary>
    public IProgress<WorkProgress>? Progress { get; init; }
}

/// <summary>The state of a library: its store, model binding and indexes (<see cref="PaperLibrary.GetStatusAsync"/>).</summary>
public sealed record LibraryStatus
{
    /// <summary>The store folder (full path); for a library over a database, the table and its server.</summary>
    public required string StoreDirectory { get; init; }

    /// <summary>Whether a store exists there (false until the first ingest; always true for a database table).</summary>
    public required bool StoreExists { get; init; }

    /// <summary>Distinct papers (latest revisions).</summary>
    public required int Papers { get; init; }

    /// <summary>Vector rows, earlier revisions included.</summary>
    public required int VectorRows { get; init; }

    /// <summary>Fingerprint of the model the store's vectors came from; null without a store.</summary>
    public string? ModelFingerprint { get; init; }

    /// <summary>Vector length; 0 without a store.</summary>
    public int Dimension { get; init; }

    /// <summary>
    /// Commits the store holds: grows with every commit (new papers, new revisions, papers seen in another dump), so a
    /// host can tell whether what it computed from the store (topics, a digest) is still current. 0 without a store, and
    /// over a database (which serves no topics or digests).
    /// </summary>
    public int Commits { get; init; }

    /// <summary>The persisted HNSW index, when there is one (a store's; a database keeps its own index).</summary>
    public HnswIndexStatus? Hnsw { get; init; }
}

/// <summary>The persisted HNSW index of a store.</summary>
/// <param name="Path">The index file.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="M">Links per node.</param>
/// <param name="EfConstruction">Build breadth.</param>
/// <param name="EfSearch">Default search breadth.</param>
/// <param name="Dimension">Vector length.</param>
/// <param name="CoveredRows">Store rows the index covers (the next search or build adds the rest).</param>
/// <param name="Live">Vectors searchable.</param>
/// <param name="Deleted">Vectors of replaced revisions, kept as tombstones.</param>
/// <param name="Storage">How the graph holds vectors.</param>
public sealed record HnswIndexStatus(string Path, long Bytes, int M, int EfConstruction, int EfSearch, int Dimension, int CoveredRows, int Live, int Deleted,
    HnswStorage Storage);

/// <summary>What <see cref="PaperLibrary.BuildIndexesAsync"/> did.</summary>
/// <param name="Status">What had to be done ("BM25 loaded, 12 papers added; HNSW loaded, 12 vectors added, 0 replaced").</param>
/// <param name="Papers">Papers indexed.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record IndexSummary(string Status, int Papers, double Seconds);
