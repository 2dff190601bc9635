using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Embeddings.Server;

/// <summary>
/// The web page, rendered on the server from the same library calls as the API: every state is a link (<c>/?q=...</c>,
/// <c>/paper?id=...</c>, <c>/topics</c>), every action a link or a form, so it works without scripts, offline, and by
/// keyboard. Its stylesheet and small script are embedded in the assembly (no CDN).
/// </summary>
internal static class PageEndpoints
{
    private const string Html = "text/html; charset=utf-8";

    public static void Map(RouteGroupBuilder reads)
    {
        reads.MapGet("/", SearchAsync)
            .WithName("Page")
            .WithTags("Page")
            .WithSummary("The web page: paste an abstract or type a query; /?q=TEXT renders the results (also id, like, unlike, mode, k, filter).")
            .Produces(StatusCodes.Status200OK, contentType: "text/html")
            .WithComputeLimits();
        reads.MapGet("/paper", PaperAsync)
            .WithName("PaperPage")
            .WithTags("Page")
            .WithSummary("A paper's page with its similar papers (/paper?id=ID).")
            .Produces(StatusCodes.Status200OK, contentType: "text/html")
            .WithComputeLimits();
        reads.MapGet("/topics", TopicsAsync)
            .WithName("TopicsPage")
            .WithTags("Page")
            .WithSummary("The topics of the store with the digest's map.")
            .Produces(StatusCodes.Status200OK, contentType: "text/html")
            .WithComputeLimits(RequestLimits.TopicsPolicy);
        reads.MapGet("/page/{file}", Asset)
            .ExcludeFromDescription();
    }

    private static async Task<IResult> SearchAsync(HttpContext context, PaperLibrary library, IOptions<PaperLibraryServerOptions> options,
        [FromQuery] string? q, [FromQuery] string? id, [FromQuery] string[]? like, [FromQuery] string[]? unlike,
        [FromQuery] string? mode, [FromQuery] string? k, [FromQuery] string? filter)
    {
        CancellationToken ct = context.RequestAborted;
        var state = new SearchState(q, id, like ?? [], unlike ?? [], mode, k, filter);
        var page = new PageWriter(await HeaderAsync(library, ct).ConfigureAwait(false));
        PaperDetails? queryPaper = id is null ? null : await library.GetPaperAsync(id, ct).ConfigureAwait(false);
        var liked = await DetailsAsync(library, state.Like, ct).ConfigureAwait(false);
        var unliked = await DetailsAsync(library, state.Unlike, ct).ConfigureAwait(false);
        page.SearchForm(state, queryPaper, liked, unliked);
        int status = StatusCodes.Status200OK;
        if (state.HasQuery)
        {
            try
            {
                SimilarQuery query = LibraryEndpoints.Query(state.ToRequest(), options.Value);
                IReadOnlyList<SimilarHit> hits = await library.SimilarAsync(query, ct).ConfigureAwait(false);
                page.Hits(state, hits, await DetailsAsync(library, hits.Select(h => h.Id), ct).ConfigureAwait(false), query.Mode);
            }
            catch (Exception e) when (HttpProblem.Map(e) is { Status: < 500 } problem)
            {
                status = problem.Status;
                page.Error(problem.Detail);
            }
        }
        else
        {
            page.Welcome();
        }
        return Page(page.Finish(state.HasQuery ? $"Similar papers: {state.Describe(queryPaper)}" : "Find similar papers"), status);
    }

    private static async Task<IResult> PaperAsync(HttpContext context, PaperLibrary library, [FromQuery] string? id)
    {
        CancellationToken ct = context.RequestAborted;
        var page = new PageWriter(await HeaderAsync(library, ct).ConfigureAwait(false));
        PaperDetails? paper = string.IsNullOrWhiteSpace(id) ? null : await library.GetPaperAsync(id, ct).ConfigureAwait(false);
        if (paper is null)
        {
            page.Error(id is null ? "Give a paper id: /paper?id=ID." : $"No paper with id '{id}' in this store.");
            return Page(page.Finish("Paper not found"), StatusCodes.Status404NotFound);
        }
        IReadOnlyList<SimilarHit> hits = await library.SimilarAsync(new SimilarQuery { PaperId = paper.Id, K = 10 }, ct).ConfigureAwait(false);
        page.Paper(paper, hits, await DetailsAsync(library, hits.Select(h => h.Id), ct).ConfigureAwait(false));
        return Page(page.Finish(paper.Title), StatusCodes.Status200OK);
    }

    private static async Task<IResult> TopicsAsync(HttpContext context, PaperLibrary library, LibraryCache cache)
    {
        CancellationToken ct = context.RequestAborted;
        var page = new PageWriter(await HeaderAsync(library, ct).ConfigureAwait(false));
        int status = StatusCodes.Status200OK;
        try
        {
            Digest digest = await LibraryEndpoints.DigestOf(cache, new DigestRequest(), ct).ConfigureAwait(false);
            page.Topics(digest);
        }
        catch (Exception e) when (HttpProblem.Map(e) is { } problem)
        {
            status = problem.Status;
            page.Error(problem.Detail);
        }
        return Page(page.Finish("Topics"), status);
    }

    private static IResult Asset(HttpContext context, string file)
    {
        if (Assets.Get(file) is not { } asset)
        {
            return HttpProblem.Result(StatusCodes.Status404NotFound, $"The page has no file '{file}'.");
        }
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        context.Response.Headers.ETag = asset.ETag;
        context.Response.Headers.CacheControl = "public, max-age=3600";
        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private static IResult Page(string html, int status) => Results.Content(html, Html, System.Text.Encoding.UTF8, status);

    private static async Task<PageHeader> HeaderAsync(PaperLibrary library, CancellationToken ct)
    {
        LibraryStatus status = await library.GetStatusAsync(ct).ConfigureAwait(false);
        return new PageHeader(status.Papers, library.Embeddings.IsLoaded ? library.Embeddings.Info.Name : null);
    }

    /// <summary>The stored details of <paramref name="ids"/> (authors, date, abstract), by id; unknown ids are left out.</summary>
    private static async Task<Dictionary<string, PaperDetails>> DetailsAsync(PaperLibrary library, IEnumerable<string> ids, CancellationToken ct)
    {
        var details = new Dictionary<string, PaperDetails>(StringComparer.Ordinal);
        foreach (string id in ids)
        {
            if (!details.ContainsKey(id) && await library.GetPaperAsync(id, ct).ConfigureAwait(false) is { } paper)
            {
                details[id] = paper;
            }
        }
        return details;
    }

    /// <summary>The page's embedded files (stylesheet, script, icon), read once.</summary>
    private static class Assets
    {
        private static readonly Dictionary<string, (byte[] Bytes, string ContentType, string ETag)> Files = Load();

        public static (byte[] Bytes, string ContentType, string ETag)? Get(string name) =>
            Files.TryGetValue(name, out var asset) ? asset : null;

        private static Dictionary<string, (byte[], string, string)> Load()
        {
            var files = new Dictionary<string, (byte[], string, string)>(StringComparer.Ordinal);
            Assembly assembly = typeof(PageEndpoints).Assembly;
            foreach (string resource in assembly.GetManifestResourceNames())
            {
                if (!resource.StartsWith("page/", StringComparison.Ordinal))
                {
                    continue;
                }
                using Stream stream = assembly.GetManifestResourceStream(resource)!;
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                byte[] bytes = copy.ToArray();
                string name = resource["page/".Length..];
                string type = Path.GetExtension(name) switch
                {
                    ".css" => "text/css; charset=utf-8",
                    ".js" => "text/javascript; charset=utf-8",
                    ".svg" => "image/svg+xml",
                    _ => "application/octet-stream",
                };
                string etag = "\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..16] + "\"";
                files[name] = (bytes, type, etag);
            }
            return files;
        }
    }
}
