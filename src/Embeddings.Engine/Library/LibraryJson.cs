using System.Text.Encodings.Web;
using System.Text.Json;

namespace Embeddings;

/// <summary>
/// The JSON contracts of the engine's outputs, in one place: what <c>embeddings ... --json</c> prints and what hosts
/// answer with, so scripts read the same shape from both. Each is documented in docs/formats.md ("JSON outputs").
/// Output is deterministic: fixed key order, invariant number formatting, non-ASCII text unescaped.
/// </summary>
public static class LibraryJson
{
    /// <summary>Indented, for documents a person may read (topics, digest).</summary>
    internal static readonly JsonWriterOptions IndentedOptions = Digests.DigestRenderer.JsonOptions;

    /// <summary>One line, for summaries and JSON Lines.</summary>
    internal static readonly JsonWriterOptions CompactOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// An ingest or merge summary: <c>{"read", "new", "changed", "duplicate", "skipped", "embedded", "seconds",
    /// "papersPerSecond", "skippedReasons": {reason: n}, "otherShard", "truncated", "capped", "commits", "dryRun",
    /// "store", "count"?}</c> (<c>count</c>: papers in the store after the run, absent in a dry run).
    /// </summary>
    public static string Ingest(IngestSummary summary, string storeDirectory)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return Compact(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("read", summary.Read);
            w.WriteNumber("new", summary.New);
            w.WriteNumber("changed", summary.Changed);
            w.WriteNumber("duplicate", summary.Duplicate);
            w.WriteNumber("skipped", summary.Skipped);
            w.WriteNumber("embedded", summary.Embedded);
            w.WriteNumber("seconds", Math.Round(summary.Seconds, 3));
            w.WriteNumber("papersPerSecond", Math.Round(summary.PapersPerSecond, 1));
            w.WriteStartObject("skippedReasons");
            foreach (var (reason, n) in summary.SkippedReasons)
            {
                w.WriteNumber(reason, n);
            }
            w.WriteEndObject();
            w.WriteNumber("otherShard", summary.OtherShard);
            w.WriteNumber("truncated", summary.Truncated);
            w.WriteNumber("capped", summary.Capped);
            w.WriteNumber("commits", summary.Commits);
            w.WriteBoolean("dryRun", summary.DryRun);
            w.WriteString("store", storeDirectory);
            if (summary.StorePapers is int count)
            {
                w.WriteNumber("count", count);
            }
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// Similar papers: <c>{"queryPaper"?: {"id", "title"}, "hiddenDuplicates"?: n, "hits": [{"id", "title", "score",
    /// "lexical"?, "vector"?, "authors"?, "date"?, "categories"?, "url"?, "why": [...], "closestSentence"?}], "warnings"?: [...]}</c>, or for one
    /// query of a query file <c>{"query": id, ...}</c> with the same fields. <c>queryPaper</c> is the stored paper the
    /// query is (the <c>--id</c> paper, or the paper whose text was pasted); <c>hiddenDuplicates</c> counts its copies
    /// left out of the hits. <c>score</c> is in [0, 1] (<see cref="SimilarHit.Score"/>); <c>lexical</c> and
    /// <c>vector</c> are its components. Fields marked ? are absent when unknown or empty. Scores are rounded to 6 decimals.
    /// </summary>
    public static string Hits(IReadOnlyList<SimilarHit> hits, string? queryId = null)
    {
        ArgumentNullException.ThrowIfNull(hits);
        SimilarResult? result = hits as SimilarResult;
        return Compact(w =>
        {
            w.WriteStartObject();
            if (queryId is not null)
            {
                w.WriteString("query", queryId);
            }
            if (result?.QueryPaper is { } queryPaper)
            {
                w.WriteStartObject("queryPaper");
                w.WriteString("id", queryPaper.Id);
                w.WriteString("title", queryPaper.Title);
                w.WriteEndObject();
            }
            if (result is { HiddenDuplicates: > 0 })
            {
                w.WriteNumber("hiddenDuplicates", result.HiddenDuplicates);
            }
            w.WriteStartArray("hits");
            foreach (SimilarHit hit in hits)
            {
                w.WriteStartObject();
                w.WriteString("id", hit.Id);
                w.WriteString("title", hit.Title);
                w.WriteNumber("score", Math.Round(hit.Score, 6));
                if (hit.Lexical is float lexical)
                {
                    w.WriteNumber("lexical", Math.Round(lexical, 6));
                }
                if (hit.Vector is float vector)
                {
                    w.WriteNumber("vector", Math.Round(vector, 6));
                }
                WriteOptional(w, "authors", hit.Authors);
                WriteOptional(w, "date", hit.Date);
                WriteOptional(w, "categories", hit.Categories);
                WriteOptional(w, "url", hit.Url);
                WriteStrings(w, "why", hit.Why);
                WriteOptional(w, "closestSentence", hit.ClosestSentence);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (result is { Warnings.Count: > 0 })
            {
                WriteStrings(w, "warnings", result.Warnings);
            }
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// Topics: <c>{"method", "seed", "topics": [{"id", "label", "keywords": [...], "size", "share", "trend"?, "papers":
    /// [ids...]}], "outliers": [ids...]}</c>; <c>trend</c> (new, growing, shrinking, stable) only when a previous run was compared with.
    /// </summary>
    public static string Topics(TopicModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Write(IndentedOptions, w =>
        {
            w.WriteStartObject();
            w.WriteString("method", model.Method);
            w.WriteNumber("seed", model.Seed);
            w.WriteStartArray("topics");
            foreach (Topic t in model.Topics)
            {
                w.WriteStartObject();
                w.WriteNumber("id", t.Id);
                w.WriteString("label", t.Label);
                w.WriteStartArray("keywords");
                foreach (TopicKeyword k in t.Keywords)
                {
                    w.WriteStringValue(k.Term);
                }
                w.WriteEndArray();
                w.WriteNumber("size", t.Size);
                w.WriteNumber("share", Math.Round(t.Share, 6));
                if (t.Trend != TopicTrend.Unknown)
                {
                    w.WriteString("trend", t.Trend.ToString().ToLowerInvariant());
                }
                WriteStrings(w, "papers", t.PaperIds);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteStrings(w, "outliers", model.OutlierIds);
            w.WriteEndObject();
        });
    }

    /// <summary>A digest with every field, map included (the <c>digest --format json</c> document; see docs/formats.md).</summary>
    public static string Digest(Digest digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        return Digests.DigestRenderer.Render(digest, DigestFormat.Json);
    }

    /// <summary>
    /// One stored paper, on one line: <c>{"id", "title", "abstract", "authors"?, "authorCount"?, "date"?, "dateText"?,
    /// "categories"?, "url"?, "sources": [...], "sourceFile"?, "sourceLine"?, "firstSeen", "revision", "truncated",
    /// "empty"}</c>; absent fields are unknown. <c>date</c> is ISO 8601 (validated); <c>dateText</c> the input's
    /// wording of a date without a year ("Mar 14"), never a date.
    /// </summary>
    public static string Paper(PaperDetails paper)
    {
        ArgumentNullException.ThrowIfNull(paper);
        return Compact(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", paper.Id);
            w.WriteString("title", paper.Title);
            w.WriteString("abstract", paper.Abstract);
            WriteOptional(w, "authors", paper.Authors);
            if (paper.AuthorCount is int count)
            {
                w.WriteNumber("authorCount", count);
            }
            WriteOptional(w, "date", paper.Date);
            WriteOptional(w, "dateText", paper.DateText);
            WriteOptional(w, "categories", paper.Categories);
            WriteOptional(w, "url", paper.Url);
            WriteStrings(w, "sources", paper.Sources);
            WriteOptional(w, "sourceFile", paper.SourceFile);
            if (paper.SourceLine > 0)
            {
                w.WriteNumber("sourceLine", paper.SourceLine);
            }
            w.WriteString("firstSeen", paper.FirstSeen.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteNumber("revision", paper.Revision);
            w.WriteBoolean("truncated", paper.Truncated);
            w.WriteBoolean("empty", paper.Empty);
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// A library's state: <c>{"store", "exists", "papers", "vectorRows", "modelFingerprint"?, "dimension", "commits", "hnsw"?: {"path",
    /// "bytes", "m", "efConstruction", "efSearch", "dimension", "coveredRows", "live", "deleted"}}</c>.
    /// </summary>
    public static string Status(LibraryStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return Compact(w =>
        {
            w.WriteStartObject();
            w.WriteString("store", status.StoreDirectory);
            w.WriteBoolean("exists", status.StoreExists);
            w.WriteNumber("papers", status.Papers);
            w.WriteNumber("vectorRows", status.VectorRows);
            if (status.ModelFingerprint is { } fingerprint)
            {
                w.WriteString("modelFingerprint", fingerprint);
            }
            w.WriteNumber("dimension", status.Dimension);
            w.WriteNumber("commits", status.Commits);
            if (status.Hnsw is { } h)
            {
                w.WriteStartObject("hnsw");
                w.WriteString("path", h.Path);
                w.WriteNumber("bytes", h.Bytes);
                w.WriteNumber("m", h.M);
                w.WriteNumber("efConstruction", h.EfConstruction);
                w.WriteNumber("efSearch", h.EfSearch);
                w.WriteString("storage", h.Storage == HnswStorage.Int8 ? "int8" : "float32");
                w.WriteNumber("dimension", h.Dimension);
                w.WriteNumber("coveredRows", h.CoveredRows);
                w.WriteNumber("live", h.Live);
                w.WriteNumber("deleted", h.Deleted);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        });
    }

    /// <summary>A sync into a database: <c>{"written", "deleted", "unchanged", "seconds"}</c>.</summary>
    public static string Sync(SyncSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return Compact(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("written", summary.Written);
            w.WriteNumber("deleted", summary.Deleted);
            w.WriteNumber("unchanged", summary.Unchanged);
            w.WriteNumber("seconds", Math.Round(summary.Seconds, 3));
            w.WriteEndObject();
        });
    }

    /// <summary>An index build: <c>{"status", "papers", "seconds"}</c>.</summary>
    public static string Index(IndexSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return Compact(w =>
        {
            w.WriteStartObject();
            w.WriteString("status", summary.Status);
            w.WriteNumber("papers", summary.Papers);
            w.WriteNumber("seconds", Math.Round(summary.Seconds, 3));
            w.WriteEndObject();
        });
    }

    /// <summary>An export: <c>{"count", "dimension", "fingerprint", "output", "ids"?}</c> (<c>ids</c>: the npy export's ids file).</summary>
    public static string Export(ExportSummary summary, string output)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return Compact(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("count", summary.Count);
            w.WriteNumber("dimension", summary.Dimension);
            w.WriteString("fingerprint", summary.Fingerprint);
            w.WriteString("output", output);
            if (summary.IdsPath is { } ids)
            {
                w.WriteString("ids", ids);
            }
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// An embed run: <c>{"embedded", "truncated", "empty", "skipped", "repeatedIds", "seconds", "papersPerSecond",
    /// "format", "dimension", "fingerprint", "provider", "output"}</c>.
    /// </summary>
    public static string Embed(EmbedSummary summary, string output)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return Compact(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("embedded", summary.Embedded);
            w.WriteNumber("truncated", summary.Truncated);
            w.WriteNumber("empty", summary.Empty);
            w.WriteNumber("skipped", summary.Skipped);
            w.WriteNumber("repeatedIds", summary.RepeatedIds);
            w.WriteNumber("seconds", Math.Round(summary.Seconds, 3));
            w.WriteNumber("papersPerSecond", Math.Round(summary.PapersPerSecond, 1));
            w.WriteString("format", summary.Format.ToString().ToLowerInvariant());
            w.WriteNumber("dimension", summary.Dimension);
            w.WriteString("fingerprint", summary.Fingerprint);
            w.WriteString("provider", summary.Provider);
            w.WriteString("output", output);
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// A model: <c>{"name", "kind", "dimension", "fingerprint", "provider", "directory"?, "tokenLimit"?, "pooling"?,
    /// "normalize"?, "windowing", "windowTokenLimit"?, "maxWindowsPerText"?, "modelFile"?, "files": [{"path", "bytes",
    /// "sha256"}], "runtimeVersion"?, "warning"?}</c>.
    /// </summary>
    public static string Model(ModelInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return Compact(w =>
        {
            w.WriteStartObject();
            w.WriteString("name", info.Name);
            w.WriteString("kind", info.Kind);
            w.WriteNumber("dimension", info.Dimension);
            w.WriteString("fingerprint", info.Fingerprint);
            w.WriteString("provider", info.Provider);
            WriteOptional(w, "directory", info.Directory);
            w.WriteBoolean("default", info.IsDefault);
            if (info.TokenLimit is int limit)
            {
                w.WriteNumber("tokenLimit", limit);
            }
            WriteOptional(w, "pooling", info.Pooling);
            if (info.Normalize is bool normalize)
            {
                w.WriteBoolean("normalize", normalize);
            }
            w.WriteBoolean("windowing", info.Windowing);
            if (info.WindowTokenLimit is int window)
            {
                w.WriteNumber("windowTokenLimit", window);
            }
            if (info.MaxWindowsPerText is int windows)
            {
                w.WriteNumber("maxWindowsPerText", windows);
            }
            WriteOptional(w, "queryPrompt", info.QueryPrompt);
            WriteOptional(w, "modelFile", info.ModelFile);
            w.WriteStartArray("files");
            foreach (ModelFileInfo f in info.Files)
            {
                w.WriteStartObject();
                w.WriteString("path", f.RelativePath);
                w.WriteNumber("bytes", f.Bytes);
                w.WriteString("sha256", f.Sha256);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteOptional(w, "runtimeVersion", info.RuntimeVersion);
            WriteOptional(w, "runtimePath", info.RuntimePath);
            if (info.RuntimeVersion is not null)
            {
                w.WriteBoolean("runtimeGpuBuild", info.RuntimeIsGpuBuild);
            }
            WriteOptional(w, "warning", info.Warning);
            w.WriteEndObject();
        });
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    /// <summary>An array of strings, left out when there is none (an empty list is written: it says "known to be none").</summary>
    private static void WriteOptional(Utf8JsonWriter w, string name, IEnumerable<string>? values)
    {
        if (values is not null)
        {
            WriteStrings(w, name, values);
        }
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string value in values)
        {
            w.WriteStringValue(value);
        }
        w.WriteEndArray();
    }

    private static string Compact(Action<Utf8JsonWriter> write) => Write(CompactOptions, write);

    private static string Write(JsonWriterOptions options, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, options))
        {
            write(w);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
