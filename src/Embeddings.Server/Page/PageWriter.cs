using System.Globalization;
using System.Net;
using System.Text;

namespace Embeddings.Server;

/// <summary>What every page's header shows.</summary>
internal sealed record PageHeader(int Papers, string? Model);

/// <summary>The search a page shows, as its URL says it: text, a paper, liked and unliked papers, ranking, count, filter.</summary>
internal sealed record SearchState(string? Text, string? Id, IReadOnlyList<string> Like, IReadOnlyList<string> Unlike, string? Mode, string? K, string? Filter)
{
    public bool HasQuery => !string.IsNullOrWhiteSpace(Text) || !string.IsNullOrWhiteSpace(Id) || Like.Count > 0;

    public SimilarRequest ToRequest() => new()
    {
        Text = Text,
        Id = Id,
        Like = Like,
        Unlike = Unlike,
        Mode = string.IsNullOrEmpty(Mode) ? null : Mode,
        K = int.TryParse(K, NumberStyles.Integer, CultureInfo.InvariantCulture, out int k) ? k : null,
        Filter = string.IsNullOrWhiteSpace(Filter) ? null : Filter.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
    };

    /// <summary>The link to this search with <paramref name="change"/> applied.</summary>
    public string Link(Func<SearchState, SearchState>? change = null)
    {
        SearchState s = change is null ? this : change(this);
        var parts = new List<(string, string)>();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                parts.Add((key, value));
            }
        }
        Add("q", s.Text);
        Add("id", s.Id);
        foreach (string id in s.Like)
        {
            Add("like", id);
        }
        foreach (string id in s.Unlike)
        {
            Add("unlike", id);
        }
        Add("mode", s.Mode);
        Add("k", s.K);
        Add("filter", s.Filter);
        return "/?" + string.Join("&", parts.Select(p => p.Item1 + "=" + Uri.EscapeDataString(p.Item2)));
    }

    public SearchState Liking(string id) => this with { Like = [.. Like.Where(x => x != id), id], Unlike = [.. Unlike.Where(x => x != id)] };

    public SearchState Unliking(string id) => this with { Unlike = [.. Unlike.Where(x => x != id), id], Like = [.. Like.Where(x => x != id)] };

    public SearchState Without(string id) => this with { Like = [.. Like.Where(x => x != id)], Unlike = [.. Unlike.Where(x => x != id)] };

    /// <summary>A short description for the page title.</summary>
    public string Describe(PaperDetails? queryPaper) =>
        !string.IsNullOrWhiteSpace(Text) ? (Text.Length > 60 ? Text[..60].TrimEnd() + "…" : Text)
        : queryPaper is not null ? queryPaper.Title
        : $"{Like.Count} liked papers";
}

/// <summary>
/// Builds one HTML page: header, main content, footer. Every text is HTML-encoded; every link is built from encoded
/// parts. The markup is plain and semantic (landmarks, headings, labelled controls, lists) so keyboards and screen
/// readers find their way, and the stylesheet lays it out from 320 px up.
/// </summary>
internal sealed class PageWriter(PageHeader header)
{
    private readonly StringBuilder _main = new();

    private static string H(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string PaperLink(string id) => "/paper?id=" + Uri.EscapeDataString(id);

    public void Welcome()
    {
        _main.Append("<section class=\"welcome\" aria-labelledby=\"welcome-h\"><h2 id=\"welcome-h\">Find papers like an abstract</h2>")
            .Append("<p>Paste an abstract, a title or a few words above and press <kbd>Search</kbd> (or <kbd>Ctrl</kbd>+<kbd>Enter</kbd>). ")
            .Append("Each result links to its paper page; <em>More like this</em> searches from a result, and <em>Like</em> / <em>Unlike</em> steer the next search.</p>")
            .Append("<p>Browse the store's <a href=\"/topics\">topics</a>, or call the same engine from scripts: <a href=\"/openapi/v1.json\">the API</a>.</p></section>\n");
    }

    public void Error(string message) =>
        _main.Append("<div class=\"error\" role=\"alert\"><strong>Cannot answer:</strong> ").Append(H(message)).Append("</div>\n");

    public void SearchForm(SearchState state, PaperDetails? queryPaper, Dictionary<string, PaperDetails> liked, Dictionary<string, PaperDetails> unliked)
    {
        _main.Append("<form class=\"search\" action=\"/\" method=\"get\" role=\"search\">\n")
            .Append("<label for=\"q\" class=\"search-label\">Paste an abstract or type a query</label>\n")
            .Append("<textarea id=\"q\" name=\"q\" rows=\"4\" placeholder=\"e.g. We study sparse attention for long documents…\"")
            .Append(state.HasQuery ? "" : " autofocus").Append('>').Append(H(state.Text)).Append("</textarea>\n")
            .Append("<div class=\"controls\">\n")
            .Append("<label>Ranking <select name=\"mode\">");
        foreach ((string value, string label) in new[] { ("", "hybrid (best)"), ("vector", "meaning (vector)"), ("lexical", "words (BM25)") })
        {
            _main.Append("<option value=\"").Append(value).Append('"').Append((state.Mode ?? "") == value ? " selected" : "").Append('>')
                .Append(label).Append("</option>");
        }
        _main.Append("</select></label>\n")
            .Append("<label>Results <input type=\"number\" name=\"k\" min=\"1\" max=\"100\" inputmode=\"numeric\" value=\"").Append(H(state.K ?? "10")).Append("\"></label>\n")
            .Append("<label class=\"filter\">Filter <input type=\"text\" name=\"filter\" placeholder=\"date>=2025-03-01; category=cs.CL\" value=\"").Append(H(state.Filter)).Append("\"></label>\n");
        if (state.Id is not null)
        {
            _main.Append("<input type=\"hidden\" name=\"id\" value=\"").Append(H(state.Id)).Append("\">");
        }
        foreach (string id in state.Like)
        {
            _main.Append("<input type=\"hidden\" name=\"like\" value=\"").Append(H(id)).Append("\">");
        }
        foreach (string id in state.Unlike)
        {
            _main.Append("<input type=\"hidden\" name=\"unlike\" value=\"").Append(H(id)).Append("\">");
        }
        _main.Append("<button type=\"submit\">Search</button>\n</div>\n</form>\n");

        if (state.Id is not null || state.Like.Count > 0 || state.Unlike.Count > 0)
        {
            _main.Append("<section class=\"steering\" aria-label=\"What the search is steered by\">\n");
            if (state.Id is not null)
            {
                _main.Append("<p><span class=\"tag\">Like this paper</span> ")
                    .Append(queryPaper is null ? H(state.Id) : $"<a href=\"{H(PaperLink(state.Id))}\">{H(queryPaper.Title)}</a>")
                    .Append(" <a class=\"remove\" href=\"").Append(H(state.Link(s => s with { Id = null }))).Append("\">remove</a></p>\n");
            }
            Chips("More like", state.Like, liked, state, "liked");
            Chips("Less like", state.Unlike, unliked, state, "unliked");
            _main.Append("</section>\n");
        }
    }

    private void Chips(string label, IReadOnlyList<string> ids, Dictionary<string, PaperDetails> details, SearchState state, string kind)
    {
        if (ids.Count == 0)
        {
            return;
        }
        _main.Append("<p class=\"chips ").Append(kind).Append("\"><span class=\"tag\">").Append(label).Append("</span> ");
        foreach (string id in ids)
        {
            string title = details.TryGetValue(id, out PaperDetails? p) ? p.Title : id;
            _main.Append("<span class=\"chip\">").Append(H(Shorten(title, 70)))
                .Append(" <a class=\"remove\" href=\"").Append(H(state.Link(s => s.Without(id)))).Append("\" aria-label=\"Stop using ")
                .Append(H(Shorten(title, 70))).Append("\">×</a></span> ");
        }
        _main.Append("</p>\n");
    }

    public void Hits(SearchState state, IReadOnlyList<SimilarHit> hits, Dictionary<string, PaperDetails> details, RankingMode mode)
    {
        _main.Append("<section class=\"results\" aria-labelledby=\"results-h\">\n<h2 id=\"results-h\">")
            .Append(hits.Count == 0 ? "No similar papers found" : hits.Count == 1 ? "1 similar paper" : $"{hits.Count} similar papers")
            .Append("</h2>\n");
        if (hits.Count == 0)
        {
            _main.Append("<p>Try other words, another ranking, or a wider filter.</p>\n");
        }
        HitList(hits, details, mode, state);
        _main.Append("</section>\n");
    }

    private void HitList(IReadOnlyList<SimilarHit> hits, Dictionary<string, PaperDetails> details, RankingMode mode, SearchState? state)
    {
        if (hits.Count == 0)
        {
            return;
        }
        _main.Append("<ol class=\"hits\">\n");
        foreach (SimilarHit hit in hits)
        {
            details.TryGetValue(hit.Id, out PaperDetails? paper);
            string link = PaperLink(hit.Id);
            _main.Append("<li class=\"hit\">\n<h3><a href=\"").Append(H(link)).Append("\">").Append(H(hit.Title)).Append("</a></h3>\n<p class=\"meta\">");
            Meta(paper);
            _main.Append("<span class=\"score\" title=\"").Append(ScoreMeaning(mode)).Append("\">score ")
                .Append(hit.Score.ToString("0.000", CultureInfo.InvariantCulture)).Append("</span></p>\n");
            if (hit.Why.Count > 0)
            {
                _main.Append("<p class=\"why\"><span class=\"why-label\">Why:</span> ");
                foreach (string term in hit.Why)
                {
                    _main.Append("<span class=\"term\">").Append(H(term)).Append("</span> ");
                }
                _main.Append("</p>\n");
            }
            if (paper is not null && paper.Abstract.Length > 0)
            {
                _main.Append("<p class=\"snippet\">").Append(H(Shorten(paper.Abstract, 260))).Append("</p>\n");
            }
            string title = H(Shorten(hit.Title, 80));
            _main.Append("<p class=\"actions\"><a href=\"").Append(H(new SearchState(null, hit.Id, [], [], state?.Mode, state?.K, state?.Filter).Link()))
                .Append("\" aria-label=\"More like ").Append(title).Append("\">More like this</a>");
            if (state is not null)
            {
                bool liked = state.Like.Contains(hit.Id), unliked = state.Unlike.Contains(hit.Id);
                _main.Append("<a href=\"").Append(H(state.Link(s => liked ? s.Without(hit.Id) : s.Liking(hit.Id)))).Append("\" aria-label=\"")
                    .Append(liked ? "Stop liking " : "Like ").Append(title).Append("\"").Append(liked ? " aria-pressed=\"true\" class=\"on\"" : "")
                    .Append(">").Append(liked ? "Liked" : "Like").Append("</a>");
                _main.Append("<a href=\"").Append(H(state.Link(s => unliked ? s.Without(hit.Id) : s.Unliking(hit.Id)))).Append("\" aria-label=\"")
                    .Append(unliked ? "Stop unliking " : "Unlike ").Append(title).Append("\"").Append(unliked ? " aria-pressed=\"true\" class=\"on\"" : "")
                    .Append(">").Append(unliked ? "Unliked" : "Unlike").Append("</a>");
            }
            _main.Append("</p>\n</li>\n");
        }
        _main.Append("</ol>\n");
    }

    private void Meta(PaperDetails? paper)
    {
        if (paper is null)
        {
            return;
        }
        if (paper.Authors is { Count: > 0 } authors)
        {
            _main.Append("<span class=\"authors\">").Append(H(string.Join(", ", authors.Take(4))))
                .Append(authors.Count > 4 ? $" and {authors.Count - 4} more" : "").Append("</span>");
        }
        else if (paper.AuthorCount is int n)
        {
            _main.Append("<span class=\"authors\">").Append(n == 1 ? "1 author" : $"{n} authors").Append("</span>");
        }
        if (paper.Date is { } date)
        {
            _main.Append("<time datetime=\"").Append(H(date)).Append("\">").Append(H(date)).Append("</time>");
        }
        if (paper.Categories is { Count: > 0 } categories)
        {
            _main.Append("<span class=\"categories\">").Append(H(string.Join(", ", categories))).Append("</span>");
        }
    }

    public void Paper(PaperDetails paper, IReadOnlyList<SimilarHit> hits, Dictionary<string, PaperDetails> details)
    {
        _main.Append("<article class=\"paper\" aria-labelledby=\"paper-h\">\n<h2 id=\"paper-h\">").Append(H(paper.Title)).Append("</h2>\n<p class=\"meta\">");
        Meta(paper);
        _main.Append("<span class=\"id\">id ").Append(H(paper.Id)).Append("</span></p>\n");
        _main.Append("<p class=\"abstract\">").Append(H(paper.Abstract)).Append("</p>\n");
        _main.Append("<p class=\"sources\">From ").Append(H(string.Join(", ", paper.Sources))).Append(", first stored ")
            .Append(paper.FirstSeen.ToUniversalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(".</p>\n");
        _main.Append("<p class=\"actions\"><a href=\"").Append(H(new SearchState(null, paper.Id, [], [], null, null, null).Link())).Append("\">More like this</a>")
            .Append("<a href=\"").Append(H(new SearchState(null, null, [paper.Id], [], null, null, null).Link())).Append("\">Start a search liking it</a>")
            .Append("<a href=\"/api/papers/").Append(H(Uri.EscapeDataString(paper.Id))).Append("\">JSON</a></p>\n</article>\n");
        _main.Append("<section class=\"results\" aria-labelledby=\"similar-h\"><h2 id=\"similar-h\">Similar papers</h2>\n");
        if (hits.Count == 0)
        {
            _main.Append("<p>No other paper in the store is similar.</p>\n");
        }
        HitList(hits, details, new SimilarQuery().Mode, null);
        _main.Append("</section>\n");
    }

    public void Topics(Digest digest)
    {
        _main.Append("<section class=\"topics\" aria-labelledby=\"topics-h\">\n<h2 id=\"topics-h\">Topics</h2>\n<p>")
            .Append(digest.PaperCount.ToString(CultureInfo.InvariantCulture)).Append(" papers in ")
            .Append(digest.Topics.Count.ToString(CultureInfo.InvariantCulture)).Append(" topics")
            .Append(digest.Outliers.Count > 0 ? $", {digest.Outliers.Count} in none" : "")
            .Append(". <a href=\"/api/digest?format=html\">Open the full digest</a> · <a href=\"/api/digest?format=md\">Markdown</a> · <a href=\"/api/topics\">JSON</a></p>\n");
        _main.Append("<figure class=\"map\"><iframe src=\"/api/digest?format=html\" title=\"The digest: a map of the papers coloured by topic, then every topic\" loading=\"lazy\"></iframe>")
            .Append("<figcaption>The digest's map: each dot a paper, coloured by topic.</figcaption></figure>\n");
        _main.Append("<ol class=\"topic-list\">\n");
        foreach (DigestTopic topic in digest.Topics)
        {
            _main.Append("<li class=\"topic\">\n<h3>").Append(H(topic.Label)).Append("</h3>\n<p class=\"meta\"><span>")
                .Append(topic.Size.ToString(CultureInfo.InvariantCulture)).Append(" papers</span><span>")
                .Append((topic.Share * 100).ToString("0.#", CultureInfo.InvariantCulture)).Append("%</span>")
                .Append(digest.HasHistory && topic.Trend != TopicTrend.Unknown ? $"<span class=\"trend\">{H(topic.Trend.ToString().ToLowerInvariant())}</span>" : "")
                .Append("</p>\n<p class=\"keywords\">");
            foreach (string keyword in topic.Keywords.Take(8))
            {
                _main.Append("<span class=\"term\">").Append(H(keyword)).Append("</span> ");
            }
            _main.Append("</p>\n<ul class=\"top-papers\">");
            foreach (DigestPaper p in topic.TopPapers.Take(3))
            {
                _main.Append("<li><a href=\"").Append(H(PaperLink(p.Id))).Append("\">").Append(H(p.Title)).Append("</a></li>");
            }
            _main.Append("</ul>\n<p class=\"actions\"><a href=\"").Append(H(new SearchState(string.Join(" ", topic.Keywords.Take(6)), null, [], [], null, null, null).Link()))
                .Append("\" aria-label=\"Search papers about ").Append(H(topic.Label)).Append("\">Search this topic</a></p>\n</li>\n");
        }
        _main.Append("</ol>\n</section>\n");
    }

    /// <summary>The whole page with <paramref name="title"/>.</summary>
    public string Finish(string title)
    {
        var page = new StringBuilder(_main.Length + 2048);
        page.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(H(title)).Append(" · Embeddings</title>\n")
            .Append("<link rel=\"icon\" href=\"/page/icon.svg\" type=\"image/svg+xml\">\n")
            .Append("<link rel=\"stylesheet\" href=\"/page/app.css\">\n<script src=\"/page/app.js\" defer></script>\n</head>\n<body>\n")
            .Append("<a class=\"skip\" href=\"#main\">Skip to content</a>\n")
            .Append("<header class=\"bar\"><a class=\"brand\" href=\"/\">Embeddings</a>\n<nav aria-label=\"Pages\"><a href=\"/\">Search</a><a href=\"/topics\">Topics</a><a href=\"/openapi/v1.json\">API</a></nav>\n")
            .Append("<p class=\"store\">").Append(header.Papers.ToString("N0", CultureInfo.InvariantCulture)).Append(" papers")
            .Append(header.Model is null ? "" : " · " + H(header.Model)).Append("</p></header>\n")
            .Append("<main id=\"main\" tabindex=\"-1\">\n").Append(_main).Append("</main>\n")
            .Append("<footer><p>Embeddings ").Append(H(ServiceEndpoints.Version)).Append(" · offline: nothing on this page leaves this server.</p></footer>\n")
            .Append("</body>\n</html>\n");
        return page.ToString();
    }

    private static string ScoreMeaning(RankingMode mode) => mode switch
    {
        RankingMode.Vector => "cosine similarity of the embeddings",
        RankingMode.Lexical => "BM25 score of the shared words",
        _ => "words (BM25) and meaning (cosine) combined",
    };

    private static string Shorten(string text, int length)
    {
        if (text.Length <= length)
        {
            return text;
        }
        int cut = text.LastIndexOf(' ', length);
        return text[..(cut > length / 2 ? cut : length)].TrimEnd(',', ';', ' ') + "…";
    }
}
