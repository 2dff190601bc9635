using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Embeddings.Topics;

namespace Embeddings.Digests;

/// <summary>Renders a <see cref="Digest"/> as Markdown, HTML or JSON. Output is deterministic.</summary>
internal static class DigestRenderer
{
    /// <summary>The digest's JSON: indented, non-ASCII text unescaped (the library's JSON outputs share these options).</summary>
    internal static readonly JsonWriterOptions JsonOptions = new()
    {
        Indented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Colours of topics in order (Tableau 20, reordered for contrast); outliers are grey.</summary>
    private static readonly string[] Palette =
    [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#2f4b7c",
        "#a0cbe8", "#ffbe7d", "#8cd17d", "#d37295", "#86bcb6", "#f1ce63", "#d4a6c8", "#bab0ac", "#499894", "#e6a157",
    ];

    private const string OutlierColour = "#c9ccd1";

    /// <summary>Renders in <paramref name="format"/>.</summary>
    public static string Render(Digest digest, DigestFormat format) => format switch
    {
        DigestFormat.Markdown => Markdown(digest),
        DigestFormat.Html => Html(digest),
        DigestFormat.Json => Json(digest),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Use md, html or json."),
    };

    /// <summary>Parses a format name: md/markdown, html, json (case-insensitive).</summary>
    public static DigestFormat ParseFormat(string name) => name.ToLowerInvariant() switch
    {
        "md" or "markdown" => DigestFormat.Markdown,
        "html" or "htm" => DigestFormat.Html,
        "json" => DigestFormat.Json,
        _ => throw new ArgumentException($"unknown digest format '{name}'; use md, html or json"),
    };

    private static string Pct(double share) => (share * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string TrendText(DigestTopic t) => t.Trend switch
    {
        TopicTrend.New => "new",
        TopicTrend.Growing => "growing",
        TopicTrend.Shrinking => "shrinking",
        TopicTrend.Stable => "stable",
        _ => "",
    };

    /// <summary>Markdown: a summary table, then one section per topic.</summary>
    public static string Markdown(Digest digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        var sb = new StringBuilder();
        sb.Append("# ").Append(MdEscape(digest.Title)).Append("\n\n");
        sb.Append('*').Append(MdEscape(digest.Selection)).Append("*: ")
          .Append(digest.PaperCount.ToString(CultureInfo.InvariantCulture)).Append(" papers, ")
          .Append(digest.Topics.Count.ToString(CultureInfo.InvariantCulture)).Append(" topics, ")
          .Append(digest.Outliers.Count.ToString(CultureInfo.InvariantCulture)).Append(" outliers\n\n");
        if (digest.Topics.Count > 0)
        {
            sb.Append("| # | Topic | Papers | Share |").Append(digest.HasHistory ? " Trend |" : "").Append('\n');
            sb.Append("|---|---|---:|---:|").Append(digest.HasHistory ? "---|" : "").Append('\n');
            foreach (var t in digest.Topics)
            {
                sb.Append("| ").Append(t.Id.ToString(CultureInfo.InvariantCulture)).Append(" | [").Append(MdEscape(t.Label)).Append("](#topic-")
                  .Append(t.Id.ToString(CultureInfo.InvariantCulture)).Append(") | ").Append(t.Size.ToString(CultureInfo.InvariantCulture))
                  .Append(" | ").Append(Pct(t.Share)).Append(" |");
                if (digest.HasHistory)
                {
                    sb.Append(' ').Append(TrendText(t)).Append(" |");
                }
                sb.Append('\n');
            }
            sb.Append('\n');
        }
        foreach (var t in digest.Topics)
        {
            sb.Append("<a id=\"topic-").Append(t.Id.ToString(CultureInfo.InvariantCulture)).Append("\"></a>\n");
            sb.Append("## ").Append(MdEscape(t.Label));
            if (t.Trend is TopicTrend.New or TopicTrend.Growing or TopicTrend.Shrinking)
            {
                sb.Append(" **").Append(TrendText(t)).Append("**");
            }
            sb.Append("\n\n");
            sb.Append(t.Size.ToString(CultureInfo.InvariantCulture)).Append(" papers (").Append(Pct(t.Share)).Append(')');
            if (t.PreviousSize is int prev)
            {
                sb.Append(", ").Append(prev.ToString(CultureInfo.InvariantCulture)).Append(" last time");
            }
            sb.Append(". Keywords: ").Append(MdEscape(string.Join(", ", t.Keywords))).Append("\n\n");
            foreach (var p in t.TopPapers)
            {
                sb.Append("- **").Append(MdEscape(p.Title)).Append("** (").Append(MdEscape(p.Id)).Append("): ").Append(MdEscape(p.Summary)).Append('\n');
            }
            if (t.SimilarEarlier.Count > 0)
            {
                sb.Append("\nSimilar earlier papers:\n\n");
                foreach (var p in t.SimilarEarlier)
                {
                    sb.Append("- ").Append(MdEscape(p.Title)).Append(" (").Append(MdEscape(p.Id)).Append(")\n");
                }
            }
            sb.Append('\n');
        }
        if (digest.Outliers.Count > 0)
        {
            sb.Append("## Outside every topic\n\n");
            foreach (var p in digest.Outliers.Take(20))
            {
                sb.Append("- ").Append(MdEscape(p.Title)).Append(" (").Append(MdEscape(p.Id)).Append(")\n");
            }
            if (digest.Outliers.Count > 20)
            {
                sb.Append("- and ").Append((digest.Outliers.Count - 20).ToString(CultureInfo.InvariantCulture)).Append(" more\n");
            }
        }
        return sb.ToString();
    }

    private static string MdEscape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (c is '\\' or '*' or '_' or '[' or ']' or '|' or '`' or '<' or '>' or '#')
            {
                sb.Append('\\');
            }
            sb.Append(c is '\n' or '\r' ? ' ' : c);
        }
        return sb.ToString();
    }

    /// <summary>JSON with every field of the digest (map included).</summary>
    public static string Json(Digest digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, JsonOptions))
        {
            w.WriteStartObject();
            w.WriteString("title", digest.Title);
            w.WriteString("selection", digest.Selection);
            w.WriteNumber("papers", digest.PaperCount);
            w.WriteStartArray("topics");
            foreach (var t in digest.Topics)
            {
                w.WriteStartObject();
                w.WriteNumber("id", t.Id);
                w.WriteString("label", t.Label);
                w.WriteStartArray("keywords");
                foreach (var k in t.Keywords)
                {
                    w.WriteStringValue(k);
                }
                w.WriteEndArray();
                w.WriteNumber("size", t.Size);
                w.WriteNumber("share", Math.Round(t.Share, 6));
                w.WriteString("trend", t.Trend.ToString().ToLowerInvariant());
                if (t.PreviousSize is int prev)
                {
                    w.WriteNumber("previous_size", prev);
                }
                WritePapers(w, "top_papers", t.TopPapers);
                WritePapers(w, "similar_earlier", t.SimilarEarlier);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WritePapers(w, "outliers", digest.Outliers);
            w.WriteStartArray("map");
            foreach (var p in digest.Map)
            {
                w.WriteStartObject();
                w.WriteString("id", p.PaperId);
                w.WriteNumber("topic", p.TopicId);
                w.WriteNumber("x", Math.Round(p.X, 4));
                w.WriteNumber("y", Math.Round(p.Y, 4));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WritePapers(Utf8JsonWriter w, string name, IReadOnlyList<DigestPaper> papers)
    {
        w.WriteStartArray(name);
        foreach (var p in papers)
        {
            w.WriteStartObject();
            w.WriteString("id", p.Id);
            w.WriteString("title", p.Title);
            w.WriteString("summary", p.Summary);
            w.WriteNumber("score", Math.Round(p.Score, 4));
            if (p.Authors is { } authors)
            {
                w.WriteStartArray("authors");
                foreach (string a in authors)
                {
                    w.WriteStringValue(a);
                }
                w.WriteEndArray();
            }
            if (p.Date is { } date)
            {
                w.WriteString("date", date);
            }
            if (p.Url is { } url)
            {
                w.WriteString("url", url);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static string H(string s) => WebUtility.HtmlEncode(s);

    private static string Colour(int topicIndex) => topicIndex < 0 ? OutlierColour : Palette[topicIndex % Palette.Length];

    /// <summary>
    /// A self-contained page (well-formed XHTML syntax, so XML tools can read it): header, a 2-D map of the papers
    /// coloured by topic with hover titles, a bar chart of topic sizes, and one card per topic.
    /// </summary>
    public static string Html(Digest digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        var index = new Dictionary<int, int>();
        for (int i = 0; i < digest.Topics.Count; i++)
        {
            index[digest.Topics[i].Id] = i;
        }
        int TopicIndex(int id) => id >= 0 && index.TryGetValue(id, out int i) ? i : -1;
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
        sb.Append("<title>").Append(H(digest.Title)).Append("</title>\n<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n<main>\n");
        sb.Append("<header>\n<h1>").Append(H(digest.Title)).Append("</h1>\n<p class=\"sub\">").Append(H(digest.Selection)).Append("</p>\n");
        sb.Append("<div class=\"stats\">");
        Stat(sb, digest.PaperCount, "papers");
        Stat(sb, digest.Topics.Count, "topics");
        Stat(sb, digest.Outliers.Count, "outside any topic");
        if (digest.HasHistory)
        {
            Stat(sb, digest.Topics.Count(t => t.Trend == TopicTrend.New), "new topics");
            Stat(sb, digest.Topics.Count(t => t.Trend == TopicTrend.Growing), "growing");
        }
        sb.Append("</div>\n</header>\n");

        sb.Append("<section class=\"overview\">\n<figure class=\"panel map\">\n<figcaption>Map of the papers<span>each dot is a paper, coloured by topic; hover for its title</span></figcaption>\n");
        MapSvg(sb, digest, TopicIndex);
        sb.Append("</figure>\n<figure class=\"panel bars\">\n<figcaption>Topic sizes<span>papers per topic</span></figcaption>\n");
        BarsSvg(sb, digest);
        sb.Append("</figure>\n</section>\n");

        sb.Append("<section class=\"topics\">\n");
        for (int i = 0; i < digest.Topics.Count; i++)
        {
            TopicCard(sb, digest.Topics[i], i);
        }
        sb.Append("</section>\n");
        if (digest.Outliers.Count > 0)
        {
            sb.Append("<section class=\"panel outliers\">\n<h2>Outside every topic</h2>\n<ul>\n");
            foreach (var p in digest.Outliers.Take(30))
            {
                sb.Append("<li><span class=\"t\">").Append(H(p.Title)).Append("</span> <span class=\"id\">").Append(H(p.Id)).Append("</span></li>\n");
            }
            if (digest.Outliers.Count > 30)
            {
                sb.Append("<li class=\"more\">and ").Append((digest.Outliers.Count - 30).ToString(CultureInfo.InvariantCulture)).Append(" more</li>\n");
            }
            sb.Append("</ul>\n</section>\n");
        }
        sb.Append("<footer>Made offline by <code>embeddings digest</code>.</footer>\n</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static void Stat(StringBuilder sb, int value, string what) =>
        sb.Append("<div class=\"stat\"><b>").Append(value.ToString(CultureInfo.InvariantCulture)).Append("</b><span>").Append(H(what)).Append("</span></div>");

    private static void MapSvg(StringBuilder sb, Digest digest, Func<int, int> topicIndex)
    {
        const double w = 760, h = 560, pad = 24;
        double r = digest.Map.Count <= 300 ? 5 : digest.Map.Count <= 800 ? 3.8 : 3;
        sb.Append("<svg class=\"mapsvg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ").Append(F(w)).Append(' ').Append(F(h))
          .Append("\" role=\"img\" aria-label=\"Map of the papers coloured by topic\">\n");
        sb.Append("<rect x=\"0\" y=\"0\" width=\"").Append(F(w)).Append("\" height=\"").Append(F(h)).Append("\" rx=\"10\" class=\"bg\"/>\n");
        double X(float x) => pad + x * (w - 2 * pad);
        double Y(float y) => pad + (1 - y) * (h - 2 * pad);
        // Outliers first so topic dots draw on top.
        foreach (var pass in new[] { true, false })
        {
            foreach (var p in digest.Map)
            {
                int ti = topicIndex(p.TopicId);
                if ((ti < 0) != pass)
                {
                    continue;
                }
                string topicLabel = ti < 0 ? "outside any topic" : digest.Topics[ti].Label;
                sb.Append("<circle cx=\"").Append(F(X(p.X))).Append("\" cy=\"").Append(F(Y(p.Y))).Append("\" r=\"").Append(F(r))
                  .Append("\" fill=\"").Append(Colour(ti)).Append("\" class=\"").Append(ti < 0 ? "dot out" : "dot").Append("\" data-topic=\"")
                  .Append(p.TopicId.ToString(CultureInfo.InvariantCulture)).Append("\"><title>").Append(H(p.Title)).Append(" (").Append(H(topicLabel))
                  .Append(")</title></circle>\n");
            }
        }
        // Topic labels (the 12 largest topics, to stay readable).
        for (int ti = 0; ti < Math.Min(12, digest.Topics.Count); ti++)
        {
            int id = digest.Topics[ti].Id;
            var xs = digest.Map.Where(p => p.TopicId == id).Select(p => p.X).OrderBy(v => v).ToList();
            var ys = digest.Map.Where(p => p.TopicId == id).Select(p => p.Y).OrderBy(v => v).ToList();
            if (xs.Count == 0)
            {
                continue;
            }
            // At the topic's most representative paper when it is on the map (inside the cluster's core),
            // else at the median of its dots.
            string? rep = digest.Topics[ti].TopPapers.Count > 0 ? digest.Topics[ti].TopPapers[0].Id : null;
            var anchorPoint = digest.Map.FirstOrDefault(p => p.PaperId == rep && p.TopicId == id);
            bool onMap = rep is not null && anchorPoint.PaperId == rep;
            double cx = X(onMap ? anchorPoint.X : xs[xs.Count / 2]), cy = Y(onMap ? anchorPoint.Y : ys[ys.Count / 2]) - 8;
            string label = Shorten(digest.Topics[ti].Label, 30);
            string anchor = cx < w * 0.2 ? "start" : cx > w * 0.8 ? "end" : "middle";
            sb.Append("<text x=\"").Append(F(cx)).Append("\" y=\"").Append(F(cy)).Append("\" text-anchor=\"").Append(anchor)
              .Append("\" class=\"maplabel\">").Append(H(label)).Append("</text>\n");
        }
        sb.Append("</svg>\n");
    }

    private static void BarsSvg(StringBuilder sb, Digest digest)
    {
        const double w = 440, row = 24, labelWidth = 190, top = 8;
        int rows = Math.Max(1, digest.Topics.Count);
        double h = top * 2 + rows * row;
        int max = Math.Max(1, digest.Topics.Count == 0 ? 1 : digest.Topics.Max(t => t.Size));
        sb.Append("<svg class=\"barsvg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ").Append(F(w)).Append(' ').Append(F(h))
          .Append("\" role=\"img\" aria-label=\"Bar chart of topic sizes\">\n");
        if (digest.Topics.Count == 0)
        {
            sb.Append("<text x=\"10\" y=\"24\" class=\"barlabel\">no topics</text>\n");
        }
        for (int i = 0; i < digest.Topics.Count; i++)
        {
            var t = digest.Topics[i];
            double y = top + i * row;
            double bw = Math.Max(2, (w - labelWidth - 50) * t.Size / max);
            sb.Append("<a href=\"#topic-").Append(t.Id.ToString(CultureInfo.InvariantCulture)).Append("\">");
            sb.Append("<text x=\"").Append(F(labelWidth - 8)).Append("\" y=\"").Append(F(y + row * 0.66)).Append("\" text-anchor=\"end\" class=\"barlabel\">")
              .Append(H(Shorten(t.Label, 28))).Append("<title>").Append(H(t.Label)).Append("</title></text>");
            sb.Append("<rect x=\"").Append(F(labelWidth)).Append("\" y=\"").Append(F(y + 4)).Append("\" width=\"").Append(F(bw)).Append("\" height=\"")
              .Append(F(row - 8)).Append("\" rx=\"3\" fill=\"").Append(Colour(i)).Append("\"/>");
            sb.Append("<text x=\"").Append(F(labelWidth + bw + 6)).Append("\" y=\"").Append(F(y + row * 0.66)).Append("\" class=\"barvalue\">")
              .Append(t.Size.ToString(CultureInfo.InvariantCulture)).Append("</text></a>\n");
        }
        sb.Append("</svg>\n");
    }

    private static void TopicCard(StringBuilder sb, DigestTopic t, int i)
    {
        string id = t.Id.ToString(CultureInfo.InvariantCulture);
        sb.Append("<article class=\"panel topic\" id=\"topic-").Append(id).Append("\" style=\"border-top-color:").Append(Colour(i)).Append("\">\n");
        sb.Append("<h2><span class=\"swatch\" style=\"background:").Append(Colour(i)).Append("\"></span>").Append(H(t.Label));
        string trend = TrendText(t);
        if (t.Trend is TopicTrend.New or TopicTrend.Growing or TopicTrend.Shrinking)
        {
            sb.Append(" <span class=\"badge ").Append(trend).Append("\">").Append(trend).Append("</span>");
        }
        sb.Append("</h2>\n<p class=\"meta\">Topic ").Append(id).Append(" \u00b7 ").Append(t.Size.ToString(CultureInfo.InvariantCulture)).Append(" papers \u00b7 ").Append(Pct(t.Share));
        if (t.PreviousSize is int prev)
        {
            sb.Append(" \u00b7 ").Append(prev.ToString(CultureInfo.InvariantCulture)).Append(" last time");
        }
        sb.Append("</p>\n<ul class=\"kw\">");
        foreach (var k in t.Keywords)
        {
            sb.Append("<li>").Append(H(k)).Append("</li>");
        }
        sb.Append("</ul>\n<ol class=\"papers\">\n");
        foreach (var p in t.TopPapers)
        {
            sb.Append("<li><span class=\"t\">").Append(H(p.Title)).Append("</span><span class=\"s\">").Append(H(p.Summary)).Append("</span></li>\n");
        }
        sb.Append("</ol>\n");
        if (t.SimilarEarlier.Count > 0)
        {
            sb.Append("<div class=\"similar\"><h3>Similar earlier papers</h3><ul>");
            foreach (var p in t.SimilarEarlier)
            {
                sb.Append("<li>").Append(H(p.Title)).Append(" <span class=\"id\">").Append(H(p.Id)).Append("</span></li>");
            }
            sb.Append("</ul></div>\n");
        }
        sb.Append("</article>\n");
    }

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)].TrimEnd() + "\u2026";

    private const string Css = """
        :root { --ink: #1f2430; --muted: #667085; --line: #e4e7ec; --bg: #f5f6f8; --card: #ffffff; }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 1280px; margin: 0 auto; padding: 28px 28px 40px; }
        header h1 { margin: 0; font-size: 28px; letter-spacing: -0.01em; }
        header .sub { margin: 2px 0 14px; color: var(--muted); }
        .stats { display: flex; gap: 12px; flex-wrap: wrap; }
        .stat { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 8px 16px; min-width: 120px; }
        .stat b { display: block; font-size: 22px; }
        .stat span { color: var(--muted); font-size: 13px; }
        .panel { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 16px 18px; margin: 0; }
        .overview { display: grid; grid-template-columns: minmax(0, 1.7fr) minmax(0, 1fr); gap: 18px; margin: 22px 0; align-items: start; }
        figcaption { font-weight: 600; margin-bottom: 8px; }
        figcaption span { display: block; font-weight: 400; color: var(--muted); font-size: 13px; }
        svg { width: 100%; height: auto; display: block; }
        .bg { fill: #fbfbfc; stroke: var(--line); }
        .dot { stroke: #ffffff; stroke-width: 0.6; opacity: 0.9; }
        .dot.out { opacity: 0.7; }
        .dot:hover { stroke: #111111; stroke-width: 1.5; }
        .maplabel { font-size: 13px; font-weight: 700; fill: #1f2430; paint-order: stroke; stroke: #ffffff; stroke-width: 4px; stroke-linejoin: round; pointer-events: none; }
        .barlabel { font-size: 12.5px; fill: #1f2430; }
        .barvalue { font-size: 12px; fill: var(--muted); }
        a:hover .barlabel { text-decoration: underline; }
        .topics { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 18px; }
        .topic { border-top: 5px solid #4e79a7; }
        .topic h2 { font-size: 18px; margin: 0 0 2px; display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
        .swatch { width: 12px; height: 12px; border-radius: 50%; display: inline-block; flex: none; }
        .meta { margin: 0 0 8px; color: var(--muted); font-size: 13px; }
        .badge { font-size: 11px; text-transform: uppercase; letter-spacing: 0.05em; border-radius: 999px; padding: 2px 8px; font-weight: 700; }
        .badge.new { background: #e0f2fe; color: #075985; }
        .badge.growing { background: #dcfce7; color: #166534; }
        .badge.shrinking { background: #fee2e2; color: #991b1b; }
        .kw { list-style: none; padding: 0; margin: 0 0 10px; display: flex; flex-wrap: wrap; gap: 6px; }
        .kw li { background: #f0f2f5; border-radius: 6px; padding: 1px 8px; font-size: 12.5px; }
        .papers { margin: 0; padding-left: 20px; }
        .papers li { margin-bottom: 8px; }
        .papers .t { display: block; font-weight: 600; font-size: 14px; }
        .papers .s { display: block; color: #475467; font-size: 13px; }
        .similar h3 { font-size: 13px; color: var(--muted); margin: 10px 0 4px; text-transform: uppercase; letter-spacing: 0.04em; }
        .similar ul, .outliers ul { margin: 0; padding-left: 18px; font-size: 13px; }
        .id { color: var(--muted); font-size: 12px; }
        .outliers { margin-top: 18px; }
        .outliers h2 { font-size: 18px; margin: 0 0 8px; }
        footer { margin-top: 24px; color: var(--muted); font-size: 12px; }
        @media (max-width: 900px) { .overview { grid-template-columns: 1fr; } }

        """;
}
