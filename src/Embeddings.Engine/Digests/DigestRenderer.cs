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

    /// <summary>
    /// 40 distinct topic colours: hues a golden angle apart at three lightness levels (OKLCH, so equal steps look
    /// equal), the first ten the most saturated; outliers are grey. Past 40 topics colours repeat, the legend still names each.
    /// </summary>
    private static readonly string[] Palette = MakePalette(40);

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
            foreach (var p in t.Papers.Count > 0 ? t.Papers : t.TopPapers)
            {
                sb.Append("- ").Append(MdTitle(p));
                if (Byline(p) is { Length: > 0 } byline)
                {
                    sb.Append(" \u00b7 ").Append(MdEscape(byline));
                }
                sb.Append("  \n  ").Append(MdEscape(p.Summary));
                if (p.SimilarEarlier.Count > 0)
                {
                    sb.Append("  \n  *Similar earlier:* ").Append(string.Join("; ", p.SimilarEarlier.Select(MdTitle)));
                }
                sb.Append('\n');
            }
            if (t.SimilarEarlier.Count > 0)
            {
                sb.Append("\nSimilar earlier papers of the topic:\n\n");
                foreach (var p in t.SimilarEarlier)
                {
                    sb.Append("- ").Append(MdTitle(p)).Append('\n');
                }
            }
            sb.Append('\n');
        }
        if (digest.Outliers.Count > 0)
        {
            sb.Append("## Outside every topic\n\n");
            foreach (var p in digest.Outliers)
            {
                sb.Append("- ").Append(MdTitle(p)).Append("  \n  ").Append(MdEscape(p.Summary)).Append('\n');
            }
        }
        return sb.ToString();
    }

    /// <summary>A paper's title in bold, linked when its source is known.</summary>
    private static string MdTitle(DigestPaper p) =>
        p.Url is { } url ? "[**" + MdEscape(p.Title) + "**](" + url + ")" : "**" + MdEscape(p.Title) + "**";

    /// <summary>"A. Author, B. Author et al. · 2024-03-14", "4 authors · Mar 14", or empty when nothing is known.</summary>
    private static string Byline(DigestPaper p)
    {
        var parts = new List<string>(2);
        if (p.Authors is { Count: > 0 } authors)
        {
            parts.Add(authors.Count <= 3 ? string.Join(", ", authors) : string.Join(", ", authors.Take(3)) + " et al.");
        }
        else if (p.AuthorCount is int n && n > 0)
        {
            parts.Add(n == 1 ? "1 author" : n.ToString(CultureInfo.InvariantCulture) + " authors");
        }
        if (p.Date is { Length: > 0 } date)
        {
            parts.Add(date);
        }
        return string.Join(" \u00b7 ", parts);
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
                w.WriteNumber("store_size", t.StoreSize);
                w.WriteNumber("share", Math.Round(t.Share, 6));
                w.WriteString("trend", t.Trend.ToString().ToLowerInvariant());
                if (t.PreviousSize is int prev)
                {
                    w.WriteNumber("previous_size", prev);
                }
                WritePapers(w, "top_papers", t.TopPapers);
                WritePapers(w, "papers", t.Papers);
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
            if (p.Url is { } url)
            {
                w.WriteString("url", url);
            }
            if (p.Authors is { Count: > 0 } authors)
            {
                w.WriteStartArray("authors");
                foreach (string a in authors)
                {
                    w.WriteStringValue(a);
                }
                w.WriteEndArray();
            }
            if (p.AuthorCount is int count)
            {
                w.WriteNumber("author_count", count);
            }
            if (p.Date is { } date)
            {
                w.WriteString("date", date);
            }
            if (p.SimilarEarlier.Count > 0)
            {
                WritePapers(w, "similar_earlier", p.SimilarEarlier);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static string H(string s) => WebUtility.HtmlEncode(s);

    private static string Colour(int topicIndex) => topicIndex < 0 ? OutlierColour : Palette[topicIndex % Palette.Length];

    private static string[] MakePalette(int count)
    {
        double[] lightness = [0.62, 0.47, 0.76];
        var colours = new string[count];
        for (int i = 0; i < count; i++)
        {
            double hue = (25 + i * 137.50776) % 360 * Math.PI / 180;
            double l = lightness[i / 10 % 3 == 0 ? 0 : (i % 2 == 0 ? 1 : 2)];
            double c = i < 10 ? 0.16 : 0.13;
            colours[i] = OklchToHex(l, c, hue);
        }
        return colours;
    }

    /// <summary>OKLCH (Ottosson's OKLab in polar form) to an sRGB hex colour, clipped into the gamut.</summary>
    private static string OklchToHex(double l, double c, double h)
    {
        double a = c * Math.Cos(h), b = c * Math.Sin(h);
        double l1 = Math.Pow(l + 0.3963377774 * a + 0.2158037573 * b, 3);
        double m1 = Math.Pow(l - 0.1055613458 * a - 0.0638541728 * b, 3);
        double s1 = Math.Pow(l - 0.0894841775 * a - 1.2914855480 * b, 3);
        double r = 4.0767416621 * l1 - 3.3077115913 * m1 + 0.2309699292 * s1;
        double g = -1.2684380046 * l1 + 2.6097574011 * m1 - 0.3413193965 * s1;
        double bl = -0.0041960863 * l1 - 0.7034186147 * m1 + 1.7076147010 * s1;
        static int Channel(double v)
        {
            v = Math.Clamp(v, 0, 1);
            double srgb = v <= 0.0031308 ? 12.92 * v : 1.055 * Math.Pow(v, 1 / 2.4) - 0.055;
            return (int)Math.Round(srgb * 255);
        }
        return "#" + Channel(r).ToString("x2", CultureInfo.InvariantCulture) + Channel(g).ToString("x2", CultureInfo.InvariantCulture) + Channel(bl).ToString("x2", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A self-contained page (well-formed XHTML syntax, so XML tools can read it; no network): header, a zoomable map
    /// of the papers with topics as coloured regions, non-colliding labels and a legend (hover or tap a dot for its
    /// paper), a bar chart of topic sizes, and one card per topic listing every paper (collapsible).
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
        // Every listed paper gets an anchor the map's details link to.
        var anchors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in digest.Topics.SelectMany(t => t.Papers).Concat(digest.Outliers))
        {
            anchors.TryAdd(p.Id, "paper-" + anchors.Count.ToString(CultureInfo.InvariantCulture));
        }
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

        sb.Append("<section class=\"overview\">\n<figure class=\"panel map\">\n<figcaption>Map of the papers<span>each dot is a paper, each coloured region a topic; hover or tap a dot for its paper, scroll or use + and \u2212 to zoom, drag to pan</span></figcaption>\n");
        sb.Append("<div class=\"zoom\"><button type=\"button\" data-zoom=\"in\" aria-label=\"Zoom in\">+</button><button type=\"button\" data-zoom=\"out\" aria-label=\"Zoom out\">\u2212</button><button type=\"button\" data-zoom=\"reset\">reset</button></div>\n");
        MapSvg(sb, digest, TopicIndex, anchors);
        sb.Append("<div id=\"details\" class=\"details\" aria-live=\"polite\">Hover or tap a dot.</div>\n");
        Legend(sb, digest);
        sb.Append("</figure>\n<figure class=\"panel bars\">\n<figcaption>Topic sizes<span>papers per topic</span></figcaption>\n");
        BarsSvg(sb, digest);
        sb.Append("</figure>\n</section>\n");

        sb.Append("<section class=\"topics\">\n");
        for (int i = 0; i < digest.Topics.Count; i++)
        {
            TopicCard(sb, digest.Topics[i], i, anchors);
        }
        sb.Append("</section>\n");
        if (digest.Outliers.Count > 0)
        {
            sb.Append("<section class=\"panel outliers\">\n<details><summary>Outside every topic (").Append(digest.Outliers.Count.ToString(CultureInfo.InvariantCulture))
              .Append(")</summary>\n<ol class=\"papers\">\n");
            foreach (var p in digest.Outliers)
            {
                PaperItem(sb, p, anchors);
            }
            sb.Append("</ol>\n</details>\n</section>\n");
        }
        sb.Append("<footer>Made offline by <code>embeddings digest</code>.</footer>\n</main>\n");
        sb.Append("<script>//<![CDATA[\n").Append(Script).Append("//]]></script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static void Stat(StringBuilder sb, int value, string what) =>
        sb.Append("<div class=\"stat\"><b>").Append(value.ToString(CultureInfo.InvariantCulture)).Append("</b><span>").Append(H(what)).Append("</span></div>");

    private static void MapSvg(StringBuilder sb, Digest digest, Func<int, int> topicIndex, Dictionary<string, string> anchors)
    {
        const double w = 760, h = 620, pad = 26;
        double r = digest.Map.Count <= 300 ? 5 : digest.Map.Count <= 800 ? 3.8 : 3;
        // The picture is drawn first, then framed: the view box covers every region, dot and label.
        var outer = sb;
        sb = new StringBuilder();
        double minX = 0, minY = 0, maxX = w, maxY = h;
        void Cover(double x0, double y0, double x1, double y1)
        {
            minX = Math.Min(minX, x0);
            minY = Math.Min(minY, y0);
            maxX = Math.Max(maxX, x1);
            maxY = Math.Max(maxY, y1);
        }
        double X(float x) => pad + x * (w - 2 * pad);
        double Y(float y) => pad + (1 - y) * (h - 2 * pad);
        // Regions: a soft disc behind each topic's dots (centre: the median dot; radius: the 90th-percentile distance).
        var centres = new (double X, double Y, double R)[digest.Topics.Count];
        for (int ti = 0; ti < digest.Topics.Count; ti++)
        {
            int id = digest.Topics[ti].Id;
            var pts = digest.Map.Where(p => p.TopicId == id).Select(p => (X: X(p.X), Y: Y(p.Y))).ToList();
            if (pts.Count == 0)
            {
                centres[ti] = (double.NaN, double.NaN, 0);
                continue;
            }
            double cx = Median(pts.Select(p => p.X)), cy = Median(pts.Select(p => p.Y));
            var dist = pts.Select(p => Math.Sqrt((p.X - cx) * (p.X - cx) + (p.Y - cy) * (p.Y - cy))).OrderBy(d => d).ToList();
            double rr = Math.Max(10, dist[(int)(0.9 * (dist.Count - 1))] + r + 4);
            centres[ti] = (cx, cy, rr);
            Cover(cx - rr, cy - rr, cx + rr, cy + rr);
            sb.Append("<circle cx=\"").Append(F(cx)).Append("\" cy=\"").Append(F(cy)).Append("\" r=\"").Append(F(rr)).Append("\" fill=\"").Append(Colour(ti))
              .Append("\" class=\"region\" data-topic=\"").Append(id.ToString(CultureInfo.InvariantCulture)).Append("\"/>\n");
        }
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
                  .Append(p.TopicId.ToString(CultureInfo.InvariantCulture)).Append("\" data-label=\"").Append(H(topicLabel)).Append('"');
                if (anchors.TryGetValue(p.PaperId, out string? anchor))
                {
                    sb.Append(" data-paper=\"").Append(anchor).Append('"');
                }
                sb.Append("><title>").Append(H(p.Title)).Append(" (").Append(H(topicLabel)).Append(")</title></circle>\n");
            }
        }
        // Labels, largest topic first, each at the first place around its region where it collides with no label
        // placed before it and stays on the map; a label that fits nowhere is left to the legend.
        var placed = new List<(double X0, double Y0, double X1, double Y1)>();
        for (int ti = 0; ti < digest.Topics.Count; ti++)
        {
            var (cx, cy, rr) = centres[ti];
            if (double.IsNaN(cx))
            {
                continue;
            }
            string label = Shorten(digest.Topics[ti].Label, 32);
            double tw = 7.4 * label.Length + 6, th = 17;
            (double X, double Y)[] candidates =
            [
                (cx, cy), (cx, cy - rr - 4), (cx, cy + rr + th), (cx + rr + tw / 2 + 4, cy + 5), (cx - rr - tw / 2 - 4, cy + 5),
                (cx, cy - rr / 2), (cx, cy + rr / 2 + th / 2),
            ];
            foreach (var (x, y) in candidates)
            {
                var box = (X0: x - tw / 2, Y0: y - th + 4, X1: x + tw / 2, Y1: y + 4);
                if (placed.Any(b => box.X0 < b.X1 && b.X0 < box.X1 && box.Y0 < b.Y1 && b.Y0 < box.Y1))
                {
                    continue;
                }
                placed.Add(box);
                // The frame leaves room for the larger labels of the phone layout (CSS: 20 user units, not 12.5).
                Cover(x - tw * 0.85, y - th * 1.6, x + tw * 0.85, y + 8);
                sb.Append("<text x=\"").Append(F(x)).Append("\" y=\"").Append(F(y)).Append("\" text-anchor=\"middle\" class=\"maplabel\" data-topic=\"")
                  .Append(digest.Topics[ti].Id.ToString(CultureInfo.InvariantCulture)).Append("\">").Append(H(label)).Append("</text>\n");
                break;
            }
        }
        string picture = sb.ToString();
        sb = outer;
        double vx = Math.Floor(minX - 8), vy = Math.Floor(minY - 8), vw = Math.Ceiling(maxX + 8) - vx, vh = Math.Ceiling(maxY + 8) - vy;
        sb.Append("<svg id=\"map\" class=\"mapsvg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"").Append(F(vx)).Append(' ').Append(F(vy)).Append(' ')
          .Append(F(vw)).Append(' ').Append(F(vh)).Append("\" role=\"img\" aria-label=\"Map of the papers coloured by topic\">\n");
        sb.Append("<rect x=\"").Append(F(vx)).Append("\" y=\"").Append(F(vy)).Append("\" width=\"").Append(F(vw)).Append("\" height=\"").Append(F(vh)).Append("\" rx=\"10\" class=\"bg\"/>\n");
        sb.Append(picture).Append("</svg>\n");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : 0.5 * (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]);
    }

    /// <summary>Every topic with its colour, id, label and size; a click or tap highlights it on the map.</summary>
    private static void Legend(StringBuilder sb, Digest digest)
    {
        sb.Append("<ul class=\"legend\">\n");
        for (int i = 0; i < digest.Topics.Count; i++)
        {
            var t = digest.Topics[i];
            string id = t.Id.ToString(CultureInfo.InvariantCulture);
            sb.Append("<li><button type=\"button\" data-topic=\"").Append(id).Append("\"><span class=\"swatch\" style=\"background:").Append(Colour(i)).Append("\"></span>")
              .Append(H(t.Label)).Append(" <span class=\"n\">").Append(t.Size.ToString(CultureInfo.InvariantCulture)).Append("</span></button></li>\n");
        }
        if (digest.Outliers.Count > 0)
        {
            sb.Append("<li><button type=\"button\" data-topic=\"-1\"><span class=\"swatch\" style=\"background:").Append(OutlierColour).Append("\"></span>outside any topic <span class=\"n\">")
              .Append(digest.Outliers.Count.ToString(CultureInfo.InvariantCulture)).Append("</span></button></li>\n");
        }
        sb.Append("</ul>\n");
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

    private static void TopicCard(StringBuilder sb, DigestTopic t, int i, Dictionary<string, string> anchors)
    {
        string id = t.Id.ToString(CultureInfo.InvariantCulture);
        sb.Append("<article class=\"panel topic\" id=\"topic-").Append(id).Append("\" style=\"border-top-color:").Append(Colour(i)).Append("\">\n");
        sb.Append("<h2><span class=\"swatch\" style=\"background:").Append(Colour(i)).Append("\"></span>").Append(H(t.Label));
        string trend = TrendText(t);
        if (t.Trend is TopicTrend.New or TopicTrend.Growing or TopicTrend.Shrinking)
        {
            sb.Append(" <span class=\"badge ").Append(trend).Append("\">").Append(trend).Append("</span>");
        }
        sb.Append("</h2>\n<p class=\"meta\">Topic ").Append(id).Append(" \u00b7 ").Append(t.Size.ToString(CultureInfo.InvariantCulture)).Append(t.Size == 1 ? " paper" : " papers").Append(" \u00b7 ").Append(Pct(t.Share));
        if (t.StoreSize > t.Size)
        {
            sb.Append(" \u00b7 ").Append(t.StoreSize.ToString(CultureInfo.InvariantCulture)).Append(" in the store");
        }
        if (t.PreviousSize is int prev)
        {
            sb.Append(" \u00b7 ").Append(prev.ToString(CultureInfo.InvariantCulture)).Append(" last time");
        }
        sb.Append("</p>\n<ul class=\"kw\">");
        foreach (var k in t.Keywords)
        {
            sb.Append("<li>").Append(H(k)).Append("</li>");
        }
        sb.Append("</ul>\n");
        var papers = t.Papers.Count > 0 ? t.Papers : t.TopPapers;
        sb.Append("<details class=\"all\"").Append(papers.Count <= 3 ? " open=\"open\"" : "").Append("><summary>")
          .Append(papers.Count == 1 ? "1 paper" : "All " + papers.Count.ToString(CultureInfo.InvariantCulture) + " papers");
        if (papers.Count > 3)
        {
            sb.Append(": ").Append(H(string.Join(" \u00b7 ", papers.Take(2).Select(p => Shorten(p.Title, 60))))).Append(" \u2026");
        }
        sb.Append("</summary>\n<ol class=\"papers\">\n");
        foreach (var p in papers)
        {
            PaperItem(sb, p, anchors);
        }
        sb.Append("</ol>\n</details>\n");
        if (t.SimilarEarlier.Count > 0)
        {
            sb.Append("<div class=\"similar\"><h3>Similar earlier papers</h3><ul>");
            foreach (var p in t.SimilarEarlier)
            {
                sb.Append("<li>").Append(TitleHtml(p)).Append("</li>");
            }
            sb.Append("</ul></div>\n");
        }
        sb.Append("</article>\n");
    }

    private static string TitleHtml(DigestPaper p) => p.Url is { } url
        ? "<a class=\"t\" href=\"" + H(url) + "\">" + H(p.Title) + "</a>"
        : "<span class=\"t\">" + H(p.Title) + "</span>";

    private static void PaperItem(StringBuilder sb, DigestPaper p, Dictionary<string, string> anchors)
    {
        sb.Append("<li");
        if (anchors.TryGetValue(p.Id, out string? anchor))
        {
            sb.Append(" id=\"").Append(anchor).Append('"');
        }
        sb.Append('>').Append(TitleHtml(p));
        if (Byline(p) is { Length: > 0 } byline)
        {
            sb.Append("<span class=\"by\">").Append(H(byline)).Append("</span>");
        }
        sb.Append("<span class=\"s\">").Append(H(p.Summary)).Append("</span>");
        if (p.SimilarEarlier.Count > 0)
        {
            sb.Append("<span class=\"sim\">Similar earlier: ").Append(string.Join("; ", p.SimilarEarlier.Select(TitleHtml))).Append("</span>");
        }
        sb.Append("</li>\n");
    }

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)].TrimEnd() + "\u2026";

    private const string Css = """
        :root { --ink: #1f2430; --muted: #667085; --line: #e4e7ec; --bg: #f5f6f8; --card: #ffffff; }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 1320px; margin: 0 auto; padding: 28px 28px 40px; }
        header h1 { margin: 0; font-size: 28px; letter-spacing: -0.01em; }
        header .sub { margin: 2px 0 14px; color: var(--muted); }
        .stats { display: flex; gap: 12px; flex-wrap: wrap; }
        .stat { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 8px 16px; min-width: 120px; }
        .stat b { display: block; font-size: 22px; }
        .stat span { color: var(--muted); font-size: 13px; }
        .panel { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 16px 18px; margin: 0; }
        .overview { display: grid; grid-template-columns: minmax(0, 1.8fr) minmax(0, 1fr); gap: 18px; margin: 22px 0; align-items: start; }
        .map { position: relative; }
        figcaption { font-weight: 600; margin-bottom: 8px; padding-right: 120px; }
        figcaption span { display: block; font-weight: 400; color: var(--muted); font-size: 13px; }
        svg { width: 100%; height: auto; display: block; }
        .mapsvg { touch-action: none; cursor: grab; user-select: none; }
        .bg { fill: #fbfbfc; stroke: var(--line); }
        .region { opacity: 0.13; }
        .dot { stroke: #ffffff; stroke-width: 0.6; opacity: 0.92; cursor: pointer; }
        .dot.out { opacity: 0.7; }
        .dot:hover, .dot.on { stroke: #111111; stroke-width: 1.8; }
        .mapsvg.focus .dot:not(.hl), .mapsvg.focus .region:not(.hl), .mapsvg.focus .maplabel:not(.hl) { opacity: 0.12; }
        .maplabel { font-size: 12.5px; font-weight: 700; fill: #1f2430; paint-order: stroke; stroke: #ffffff; stroke-width: 4px; stroke-linejoin: round; pointer-events: none; }
        .zoom { position: absolute; top: 16px; right: 18px; display: flex; gap: 4px; }
        .zoom button { font: inherit; font-size: 14px; min-width: 34px; height: 32px; border: 1px solid var(--line); background: #fff; border-radius: 8px; cursor: pointer; }
        .details { min-height: 3.2em; margin-top: 8px; font-size: 13px; color: #344054; background: #f8f9fb; border-radius: 8px; padding: 6px 10px; }
        .details b { display: block; }
        .legend { list-style: none; margin: 10px 0 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 2px 10px; font-size: 12.5px; }
        .legend button { all: unset; cursor: pointer; display: flex; gap: 6px; align-items: center; padding: 2px 4px; border-radius: 6px; width: 100%; box-sizing: border-box; }
        .legend button:hover, .legend button.on { background: #eef1f5; }
        .legend .n { color: var(--muted); margin-left: auto; }
        .barlabel { font-size: 12.5px; fill: #1f2430; }
        .barvalue { font-size: 12px; fill: var(--muted); }
        a:hover .barlabel { text-decoration: underline; }
        .topics { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 18px; align-items: start; }
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
        details summary { cursor: pointer; font-size: 13.5px; color: #344054; margin-bottom: 6px; }
        .papers { margin: 0; padding-left: 20px; }
        .papers li { margin-bottom: 9px; }
        .papers .t { display: block; font-weight: 600; font-size: 14px; color: var(--ink); }
        .papers a.t { color: #1d4ed8; text-decoration: none; }
        .papers a.t:hover { text-decoration: underline; }
        .papers .by { display: block; color: var(--muted); font-size: 12px; }
        .papers .s { display: block; color: #475467; font-size: 13px; }
        .papers .sim { display: block; color: var(--muted); font-size: 12px; }
        .papers .sim .t { display: inline; font-weight: 400; font-size: 12px; }
        .papers li:target { background: #fff7d6; }
        .similar h3 { font-size: 13px; color: var(--muted); margin: 10px 0 4px; text-transform: uppercase; letter-spacing: 0.04em; }
        .similar ul { margin: 0; padding-left: 18px; font-size: 13px; }
        .id { color: var(--muted); font-size: 12px; }
        .outliers { margin-top: 18px; }
        footer { margin-top: 24px; color: var(--muted); font-size: 12px; }
        @media (max-width: 900px) { .overview { grid-template-columns: 1fr; } }
        @media (max-width: 520px) {
          main { padding: 14px 10px 28px; }
          header h1 { font-size: 22px; }
          .stat { min-width: 0; flex: 1 1 40%; padding: 6px 10px; }
          .stat b { font-size: 18px; }
          .panel { padding: 12px 10px; border-radius: 10px; }
          figcaption { padding-right: 0; }
          .zoom { position: static; margin: 0 0 6px; }
          .legend { grid-template-columns: 1fr; }
          .topics { grid-template-columns: minmax(0, 1fr); }
          .topic h2 { font-size: 16px; }
          .maplabel { font-size: 20px; stroke-width: 6px; }
        }

        """;

    /// <summary>
    /// Zoom (wheel, buttons, pinch), pan (drag), hover and tap details of a dot, and a legend that highlights a topic;
    /// plain DOM, no library, so the page stays one offline file. The page reads fine without it.
    /// </summary>
    private const string Script = """
        (function () {
          var svg = document.getElementById('map'); if (!svg) return;
          var details = document.getElementById('details');
          var full = svg.viewBox.baseVal, X0 = full.x, Y0 = full.y, W = full.width, H = full.height;
          var view = { x: X0, y: Y0, w: W, h: H };
          function apply() { svg.setAttribute('viewBox', view.x + ' ' + view.y + ' ' + view.w + ' ' + view.h); }
          function zoom(f, cx, cy) {
            var w = Math.min(W, Math.max(W / 12, view.w / f)), h = w * H / W;
            if (cx === undefined) { cx = view.x + view.w / 2; cy = view.y + view.h / 2; }
            view.x = cx - (cx - view.x) * w / view.w; view.y = cy - (cy - view.y) * h / view.h; view.w = w; view.h = h;
            view.x = Math.min(Math.max(view.x, X0), X0 + W - w); view.y = Math.min(Math.max(view.y, Y0), Y0 + H - h); apply();
          }
          function point(e) { var r = svg.getBoundingClientRect(); return { x: view.x + (e.clientX - r.left) / r.width * view.w, y: view.y + (e.clientY - r.top) / r.height * view.h }; }
          svg.addEventListener('wheel', function (e) { e.preventDefault(); var p = point(e); zoom(e.deltaY < 0 ? 1.25 : 0.8, p.x, p.y); }, { passive: false });
          document.querySelectorAll('[data-zoom]').forEach(function (b) {
            b.addEventListener('click', function () { var z = b.getAttribute('data-zoom'); if (z === 'reset') { view = { x: X0, y: Y0, w: W, h: H }; apply(); } else zoom(z === 'in' ? 1.5 : 1 / 1.5); });
          });
          var pointers = {}, drag = null, pinch = null;
          svg.addEventListener('pointerdown', function (e) { pointers[e.pointerId] = e; var ids = Object.keys(pointers);
            if (ids.length === 1) drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y, moved: false };
            if (ids.length === 2) { var a = pointers[ids[0]], b = pointers[ids[1]]; pinch = Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY); drag = null; } });
          svg.addEventListener('pointermove', function (e) { if (!(e.pointerId in pointers)) return; pointers[e.pointerId] = e; var ids = Object.keys(pointers);
            if (ids.length === 2 && pinch) { var a = pointers[ids[0]], b = pointers[ids[1]], d = Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY); zoom(d / pinch); pinch = d; return; }
            if (drag) { var r = svg.getBoundingClientRect(), dx = (e.clientX - drag.x) / r.width * view.w, dy = (e.clientY - drag.y) / r.height * view.h;
              if (Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) > 4) drag.moved = true;
              if (drag.moved) { view.x = Math.min(Math.max(drag.vx - dx, X0), X0 + W - view.w); view.y = Math.min(Math.max(drag.vy - dy, Y0), Y0 + H - view.h); apply(); } } });
          function up(e) { delete pointers[e.pointerId]; if (Object.keys(pointers).length < 2) pinch = null; }
          svg.addEventListener('pointerup', up); svg.addEventListener('pointercancel', up);
          var current = null;
          function show(dot) {
            if (current) current.classList.remove('on'); current = dot; dot.classList.add('on');
            var t = dot.querySelector('title'), title = t ? t.textContent : '', label = dot.getAttribute('data-label') || '';
            var cut = title.lastIndexOf(' (' + label + ')'); if (cut > 0) title = title.slice(0, cut);
            details.textContent = ''; var b = document.createElement('b'); b.textContent = title; details.appendChild(b);
            details.appendChild(document.createTextNode(label + ' '));
            var anchor = dot.getAttribute('data-paper');
            if (anchor) { var a = document.createElement('a'); a.href = '#' + anchor; a.textContent = 'details ↓'; a.addEventListener('click', function () { var li = document.getElementById(anchor); var d = li && li.closest('details'); if (d) d.open = true; }); details.appendChild(a); }
          }
          svg.querySelectorAll('.dot').forEach(function (dot) {
            dot.addEventListener('mouseenter', function () { show(dot); });
            dot.addEventListener('click', function () { if (!drag || !drag.moved) show(dot); });
          });
          var chosen = null;
          document.querySelectorAll('.legend button').forEach(function (b) {
            b.addEventListener('click', function () {
              var id = b.getAttribute('data-topic'); chosen = chosen === id ? null : id;
              document.querySelectorAll('.legend button').forEach(function (o) { o.classList.toggle('on', o.getAttribute('data-topic') === chosen); });
              svg.classList.toggle('focus', chosen !== null);
              svg.querySelectorAll('[data-topic]').forEach(function (el) { el.classList.toggle('hl', el.getAttribute('data-topic') === chosen); });
            });
          });
        })();

        """;
}
