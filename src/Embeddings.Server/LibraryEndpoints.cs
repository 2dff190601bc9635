using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Embeddings.Server;

/// <summary>
/// The paper API over <see cref="PaperLibrary"/>: similar papers, papers, topics, digests, and the ingest of new papers.
/// Every answer is one of the engine's JSON contracts (<see cref="LibraryJson"/>, docs/formats.md), the same shapes
/// the CLI prints with <c>--json</c>.
/// </summary>
internal static class LibraryEndpoints
{
    private const string Json = "application/json";
    private const string JsonLines = "application/x-ndjson";

    public static void Map(RouteGroupBuilder reads, RouteGroupBuilder writes)
    {
        reads.MapGet("/api/similar", SimilarGetAsync)
            .WithName("SimilarPapers")
            .WithTags("Papers")
            .WithSummary("The stored papers most similar to a text, a paper, or liked and unliked papers.")
            .WithDescription("Answers {\"hits\": [...]} (LibraryJson.Hits, docs/formats.md), best first. Give text, id or like; " +
                "filter takes the CLI's --filter expressions (repeat it).")
            .Produces(StatusCodes.Status200OK, contentType: Json)
            .WithComputeLimits();
        reads.MapPost("/api/similar", SimilarPostAsync)
            .WithName("SimilarPapersPost")
            .WithTags("Papers")
            .WithSummary("Similar papers, the query as a JSON body (long abstracts, like/unlike lists).")
            .WithBody<SimilarRequest>(Json, "A similar-paper query.")
            .Produces(StatusCodes.Status200OK, contentType: Json)
            .WithComputeLimits();
        reads.MapGet("/api/papers/{id}", PaperAsync)
            .WithName("GetPaper")
            .WithTags("Papers")
            .WithSummary("One stored paper (LibraryJson.Paper); 404 when there is none.")
            .Produces(StatusCodes.Status200OK, contentType: Json)
            .ProducesProblem(StatusCodes.Status404NotFound);
        reads.MapGet("/api/papers", ListAsync)
            .WithName("ListPapers")
            .WithTags("Papers")
            .WithSummary("The stored papers a filter lets through, streamed as JSON Lines (one LibraryJson.Paper per line).")
            .Produces(StatusCodes.Status200OK, contentType: JsonLines)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        reads.MapGet("/api/topics", TopicsAsync)
            .WithName("Topics")
            .WithTags("Topics")
            .WithSummary("The topics of every stored paper (LibraryJson.Topics); computed once per store state.")
            .Produces(StatusCodes.Status200OK, contentType: Json)
            .WithComputeLimits(RequestLimits.TopicsPolicy);
        reads.MapGet("/api/digest", DigestAsync)
            .WithName("Digest")
            .WithTags("Topics")
            .WithSummary("The digest of a dump, of the papers since a date, or of all: format json (default), html or md.")
            .Produces(StatusCodes.Status200OK, typeof(string), Json, "text/html", "text/markdown")
            .WithComputeLimits(RequestLimits.TopicsPolicy);
        writes.MapPost("/api/papers", IngestAsync)
            .WithName("IngestPapers")
            .WithTags("Papers")
            .WithSummary("Adds papers: a JSON Lines body (application/x-ndjson), one paper per line, as `embeddings ingest` reads them.")
            .WithDescription("Needs Authorization: Bearer TOKEN. Only new or changed papers are embedded. source names the upload as a dump " +
                "(default api-YYYY-MM-DD.jsonl, today's date); skipBad=true reports bad lines instead of stopping. Answers LibraryJson.Ingest. " +
                "Searches keep answering from the last committed state while it runs.")
            .WithBody<string>(JsonLines, "JSON Lines: one paper per line, {\"id\"?, \"title\", \"abstract\", \"authors\"?, \"date\"?, \"categories\"?} as `embeddings ingest` reads .jsonl files.")
            .Produces(StatusCodes.Status200OK, contentType: Json)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithComputeLimits(body: BodyLimit.Ingest)
            .DisableRequestTimeout();
    }

    private static async Task<IResult> SimilarGetAsync(HttpContext context, PaperLibrary library, IOptions<PaperLibraryServerOptions> options,
        [FromQuery] string? text, [FromQuery] string? id, [FromQuery] string? k, [FromQuery] string? mode, [FromQuery] string[]? filter,
        [FromQuery] string[]? like, [FromQuery] string[]? unlike, [FromQuery(Name = "min_score")] string? minScore, [FromQuery] string? exact,
        [FromQuery(Name = "like_ranking")] string? likeRanking)
    {
        var request = new SimilarRequest
        {
            Text = text,
            Id = id,
            K = ParseInt(k, "k"),
            Mode = mode,
            Filter = filter,
            Like = like,
            Unlike = unlike,
            LikeRanking = likeRanking,
            MinScore = minScore is null ? null : float.TryParse(minScore, NumberStyles.Float, CultureInfo.InvariantCulture, out float m) && float.IsFinite(m)
                ? m : throw HttpProblem.BadRequest($"parameter 'min_score': '{minScore}' is not a number."),
            Exact = exact is null ? null : bool.TryParse(exact, out bool e) ? e : throw HttpProblem.BadRequest($"parameter 'exact': '{exact}' is not true or false."),
        };
        IReadOnlyList<SimilarHit> hits = await library.SimilarAsync(Query(request, options.Value), context.RequestAborted).ConfigureAwait(false);
        return Results.Text(LibraryJson.Hits(hits), Json, System.Text.Encoding.UTF8);
    }

    private static async Task<IResult> SimilarPostAsync(HttpContext context, PaperLibrary library, IOptions<PaperLibraryServerOptions> options)
    {
        SimilarRequest request = await RequestBody.ReadJsonAsync(context.Request, ServerJson.Default.SimilarRequest, context.RequestAborted).ConfigureAwait(false);
        IReadOnlyList<SimilarHit> hits = await library.SimilarAsync(Query(request, options.Value), context.RequestAborted).ConfigureAwait(false);
        return Results.Text(LibraryJson.Hits(hits), Json, System.Text.Encoding.UTF8);
    }

    private static async Task<IResult> PaperAsync(HttpContext context, PaperLibrary library, string id)
    {
        PaperDetails paper = await library.GetPaperAsync(id, context.RequestAborted).ConfigureAwait(false)
            ?? throw new HttpProblemException(StatusCodes.Status404NotFound, $"No paper with id '{id}' in this store; GET /api/papers lists the stored papers.");
        return Results.Text(LibraryJson.Paper(paper), Json, System.Text.Encoding.UTF8);
    }

    private static async Task ListAsync(HttpContext context, PaperLibrary library, [FromQuery] string[]? filter, [FromQuery] string? limit)
    {
        PaperFilter? parsed = ParseFilter(filter);
        int max = ParseInt(limit, "limit") is int l ? l >= 1 ? l : throw HttpProblem.BadRequest("parameter 'limit': must be at least 1.") : int.MaxValue;
        context.Response.ContentType = JsonLines;
        int written = 0;
        var line = new StringBuilder();
        await foreach (PaperDetails paper in library.ListPapersAsync(parsed, context.RequestAborted).ConfigureAwait(false))
        {
            if (written++ == max)
            {
                break;
            }
            line.Clear().Append(LibraryJson.Paper(paper)).Append('\n');
            await context.Response.WriteAsync(line.ToString(), context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static async Task<IResult> TopicsAsync(HttpContext context, LibraryCache cache)
    {
        string json = await cache.GetAsync("topics", async (library, ct) => LibraryJson.Topics(await library.TopicsAsync(cancellationToken: ct).ConfigureAwait(false)),
            context.RequestAborted).ConfigureAwait(false);
        return Results.Text(json, Json, System.Text.Encoding.UTF8);
    }

    private static async Task<IResult> DigestAsync(HttpContext context, LibraryCache cache,
        [FromQuery] string? dump, [FromQuery] string? since, [FromQuery] string? format)
    {
        (DigestFormat kind, string contentType) = (format ?? "json").ToLowerInvariant() switch
        {
            "json" => (DigestFormat.Json, Json),
            "html" => (DigestFormat.Html, "text/html"),
            "md" or "markdown" => (DigestFormat.Markdown, "text/markdown"),
            _ => throw HttpProblem.BadRequest($"parameter 'format': '{format}' is not one of json, html, md."),
        };
        DateTimeOffset? from = since is null ? null
            : DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset d) ? d
            : throw HttpProblem.BadRequest($"parameter 'since': '{since}' is not a date; use ISO 8601, e.g. 2025-03-01.");
        Digest digest = await DigestOf(cache, new DigestRequest { Dump = dump, Since = from }, context.RequestAborted).ConfigureAwait(false);
        return Results.Text(digest.Render(kind), contentType, System.Text.Encoding.UTF8);
    }

    /// <summary>The digest of a selection, computed once per store state (shared by every format and the topics page).</summary>
    internal static Task<Digest> DigestOf(LibraryCache cache, DigestRequest request, CancellationToken cancellationToken) =>
        cache.GetAsync(string.Create(CultureInfo.InvariantCulture, $"digest|{request.Dump}|{request.Since:O}"),
            (library, ct) => library.DigestAsync(request, ct), cancellationToken);

    private static async Task<IResult> IngestAsync(HttpContext context, PaperLibrary library, ILoggerFactory logs,
        [FromQuery] string? source, [FromQuery] string? skipBad)
    {
        string? contentType = context.Request.ContentType?.Split(';', 2)[0].Trim();
        if (contentType is not ("application/x-ndjson" or "application/jsonl" or "application/json-lines" or "application/jsonlines"))
        {
            throw new HttpProblemException(StatusCodes.Status415UnsupportedMediaType,
                $"Send the papers as JSON Lines with Content-Type: application/x-ndjson, not '{contentType ?? "(none)"}'.");
        }
        string name = source ?? string.Create(CultureInfo.InvariantCulture, $"api-{DateTime.UtcNow:yyyy-MM-dd}.jsonl");
        if (!name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) && !name.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase))
        {
            name += ".jsonl";
        }
        bool skip = skipBad is null ? false : bool.TryParse(skipBad, out bool s) ? s : throw HttpProblem.BadRequest($"parameter 'skipBad': '{skipBad}' is not true or false.");
        IngestSummary summary = await library.IngestAsync(context.Request.Body, name, new IngestOptions { SkipBad = skip }, context.RequestAborted).ConfigureAwait(false);
        ServerLog.Ingested(logs.CreateLogger("Embeddings.Server"), name, summary.New, summary.Changed, summary.Duplicate, summary.StorePapers);
        return Results.Text(LibraryJson.Ingest(summary, library.StoreDirectory), Json, System.Text.Encoding.UTF8);
    }

    /// <summary>A similar-paper request as a library query, checked against the server's limits.</summary>
    internal static SimilarQuery Query(SimilarRequest request, PaperLibraryServerOptions options)
    {
        if (request.Text is { } text && text.Length > options.MaxTextLength)
        {
            throw HttpProblem.TooLarge(string.Create(CultureInfo.InvariantCulture,
                $"field 'text': {text.Length} characters; this server takes at most {options.MaxTextLength}."));
        }
        int k = request.K ?? 10;
        if (k < 1 || k > options.MaxHits)
        {
            throw HttpProblem.BadRequest(string.Create(CultureInfo.InvariantCulture, $"field 'k': must be between 1 and {options.MaxHits}, not {k}."));
        }
        RankingMode mode = request.Mode is null ? new SimilarQuery().Mode : request.Mode.ToLowerInvariant() switch
        {
            "hybrid" => RankingMode.Hybrid,
            "vector" => RankingMode.Vector,
            "lexical" => RankingMode.Lexical,
            _ => throw HttpProblem.BadRequest($"field 'mode': '{request.Mode}' is not one of hybrid, vector, lexical."),
        };
        LikeRanking likeRanking = request.LikeRanking is null ? new SimilarQuery().LikeRanking : request.LikeRanking.ToLowerInvariant() switch
        {
            "classifier" => LikeRanking.Classifier,
            "rocchio" => LikeRanking.Rocchio,
            _ => throw HttpProblem.BadRequest($"field 'like_ranking': '{request.LikeRanking}' is not one of classifier, rocchio."),
        };
        var query = new SimilarQuery
        {
            Text = string.IsNullOrWhiteSpace(request.Text) ? null : request.Text,
            PaperId = string.IsNullOrWhiteSpace(request.Id) ? null : request.Id,
            Like = request.Like ?? [],
            Unlike = request.Unlike ?? [],
            LikeRanking = likeRanking,
            K = k,
            Mode = mode,
            Filter = ParseFilter(request.Filter),
            MinScore = request.MinScore,
            Exact = request.Exact ?? false,
        };
        if (query.Text is null && query.PaperId is null && query.Like.Count == 0)
        {
            throw HttpProblem.Unprocessable("Give text (an abstract or a query), id (a stored paper) or like (stored papers) to search with.");
        }
        return query;
    }

    private static PaperFilter? ParseFilter(IReadOnlyList<string>? expressions)
    {
        if (expressions is null || expressions.Count == 0)
        {
            return null;
        }
        try
        {
            return PaperFilter.Parse(expressions);
        }
        catch (ArgumentException e)
        {
            throw HttpProblem.BadRequest("field 'filter': " + e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    private static int? ParseInt(string? value, string name) =>
        value is null ? null
        : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n
        : throw HttpProblem.BadRequest($"parameter '{name}': '{value}' is not a whole number.");
}
