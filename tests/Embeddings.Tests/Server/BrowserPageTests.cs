using Embeddings.Tests.Support;
using PuppeteerSharp;
using PuppeteerSharp.Input;

namespace Embeddings.Tests.Server;

/// <summary>
/// The web page in a real browser: Debian's headless Chromium driven over the DevTools protocol (PuppeteerSharp,
/// pointed at the installed executable: nothing is downloaded), against the server on Kestrel on a loopback port
/// over the real daily-papers dumps. Every step waits for a navigation or an element, never for time. Screenshots at
/// 1400 and 420 px go to artifacts/screenshots/ for a person to look at.
/// </summary>
public sealed class BrowserPageTests
{
    private static readonly string[] BrowserArgs = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"];

    private static string ScreenshotDir => Directory.CreateDirectory(Path.Combine(TestPaths.RepoRoot, "artifacts", "screenshots")).FullName;

    [BrowserFact]
    public async Task A_query_link_renders_results_and_the_page_works_by_keyboard_offline_and_at_420_px()
    {
        using var dir = new TempDir();
        await using ServerHost host = await ServerHost.StartAsync(dir.File("store"), kestrel: true);
        string[] dumps = Directory.GetFiles(TestPaths.DailyPapersDir, "*.txt").Order(StringComparer.Ordinal).ToArray();
        await host.Library.IngestAsync(dumps);
        PaperDetails target = await host.Library.ListPapersAsync().Skip(17).FirstAsync();
        string origin = host.Address.GetLeftPart(UriPartial.Authority);

        await using IBrowser browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = BrowserFactAttribute.Executable,
            Headless = true,
            Args = BrowserArgs,
            Timeout = 180_000, // a guard against a hung start on a loaded machine, not a measurement
        });
        await using IPage page = await browser.NewPageAsync();
        page.DefaultTimeout = 120_000;
        page.DefaultNavigationTimeout = 120_000;
        var requested = new List<string>();
        var problems = new List<string>();
        page.Request += (_, e) => requested.Add(e.Request.Url);
        page.PageError += (_, e) => problems.Add("page error: " + e.Message);
        page.Console += (_, e) =>
        {
            if (e.Message.Type == ConsoleType.Error)
            {
                problems.Add("console: " + e.Message.Text);
            }
        };
        await page.SetViewportAsync(new ViewPortOptions { Width = 1400, Height = 1000 });

        // A link with ?q= renders the results on the server: the paper searched by its own title comes first.
        IResponse response = await page.GoToAsync($"{origin}/?q={Uri.EscapeDataString(target.Title)}&k=8");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.Status);
        Hit[] hits = await HitsAsync(page);
        Assert.Equal(8, hits.Length);
        Assert.Equal(target.Title, hits[0].Title);
        Assert.Equal("/paper?id=" + Uri.EscapeDataString(target.Id), hits[0].Href);
        Assert.All(hits, h => Assert.Matches(@"^score \d\.\d{3}$", h.Score));
        foreach (Hit hit in hits)
        {
            // Authors and date as the store has them (some dumps carry neither).
            PaperDetails paper = (await host.Library.GetPaperAsync(hit.Id()))!;
            if (paper.Date is { } date)
            {
                Assert.Contains(date, hit.Meta, StringComparison.Ordinal);
            }
            if (paper.AuthorCount is int authors && paper.Authors is not { Count: > 0 })
            {
                Assert.Contains(authors == 1 ? "1 author" : $"{authors} authors", hit.Meta, StringComparison.Ordinal);
            }
        }
        Assert.Contains(hits, h => h.Meta.Length > 0);
        Assert.Contains(hits, h => h.Why.Length > 0);
        Assert.Equal(target.Title, await page.EvaluateExpressionAsync<string>("document.getElementById('q').value"));
        Assert.Equal("8 similar papers", await TextAsync(page, "#results-h"));
        await page.ScreenshotAsync(Path.Combine(ScreenshotDir, "page-1400.png"), new ScreenshotOptions { FullPage = true });

        // "Like" on the second result steers the next search; "More like this" searches from a result.
        await ClickAndWaitAsync(page, ".hit:nth-child(2) .actions a:nth-child(2)");
        Assert.Contains("like=" + Uri.EscapeDataString(hits[1].Id()), page.Url, StringComparison.Ordinal);
        Assert.Contains(Shorten(hits[1].Title), await TextAsync(page, ".chips.liked"), StringComparison.Ordinal);
        await ClickAndWaitAsync(page, ".hit:nth-child(1) .actions a:nth-child(1)");
        Assert.Contains("id=", page.Url, StringComparison.Ordinal);
        Assert.Contains("Like this paper", await TextAsync(page, ".steering"), StringComparison.Ordinal);
        Assert.NotEmpty(await HitsAsync(page));

        // A result's title opens its paper page, with its own similar papers (not itself).
        string opened = (await HitsAsync(page))[0].Title;
        await ClickAndWaitAsync(page, ".hit:nth-child(1) h3 a");
        Assert.Equal(opened, await TextAsync(page, "#paper-h"));
        Hit[] similar = await HitsAsync(page);
        Assert.NotEmpty(similar);
        Assert.DoesNotContain(similar, h => h.Title == opened);

        // The topics page: the topics and the digest's map (an SVG inside the digest frame).
        await ClickAndWaitAsync(page, "nav a[href='/topics']");
        Assert.True(await page.EvaluateExpressionAsync<int>("document.querySelectorAll('.topic').length") >= 1);
        IElementHandle frameElement = await page.WaitForSelectorAsync("figure.map iframe");
        await page.EvaluateExpressionAsync("document.querySelector('figure.map iframe').scrollIntoView()"); // the frame loads lazily
        IFrame frame = await frameElement.ContentFrameAsync();
        await frame.WaitForSelectorAsync("svg.mapsvg circle");

        // By keyboard alone: "/" jumps to the box, Ctrl+Enter searches; Tab from the top reaches the skip link first.
        await page.GoToAsync(origin + "/");
        Assert.Contains("Find papers like an abstract", await TextAsync(page, "main"), StringComparison.Ordinal);
        await page.EvaluateExpressionAsync("document.activeElement.blur()");
        await page.Keyboard.PressAsync("/");
        Assert.Equal("q", await page.EvaluateExpressionAsync<string>("document.activeElement.id"));
        await page.Keyboard.TypeAsync("sparse attention for long documents");
        Task<IResponse> navigation = page.WaitForNavigationAsync();
        await page.Keyboard.DownAsync(Key.Control);
        await page.Keyboard.PressAsync(Key.Enter);
        await page.Keyboard.UpAsync(Key.Control);
        await navigation;
        Assert.Contains("q=sparse", page.Url, StringComparison.Ordinal);
        Assert.Equal(10, (await HitsAsync(page)).Length);
        await page.EvaluateExpressionAsync("document.activeElement.blur(); window.scrollTo(0, 0)");
        await page.Keyboard.PressAsync(Key.Tab);
        Assert.Equal("Skip to content", await page.EvaluateExpressionAsync<string>("document.activeElement.textContent"));
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.activeElement.getBoundingClientRect().top >= 0"), "the focused skip link stays off screen");

        // Readable at 420 px: nothing wider than the window, the box and the results fit, text stays 14 px or more.
        await page.SetViewportAsync(new ViewPortOptions { Width = 420, Height = 900 });
        await page.GoToAsync($"{origin}/?q={Uri.EscapeDataString(target.Title)}&k=5");
        Assert.True(await page.EvaluateExpressionAsync<int>("document.documentElement.scrollWidth") <= 420, "the page scrolls sideways at 420 px");
        Assert.True(await page.EvaluateExpressionAsync<bool>(
            "[...document.querySelectorAll('#q, .hit, button')].every(e => { const r = e.getBoundingClientRect(); return r.left >= 0 && r.right <= 420; })"),
            "an element sticks out at 420 px");
        Assert.True(await page.EvaluateExpressionAsync<double>(
            "Math.min(...[...document.querySelectorAll('.hit h3, .snippet, .meta, label')].map(e => parseFloat(getComputedStyle(e).fontSize)))") >= 14);
        await page.ScreenshotAsync(Path.Combine(ScreenshotDir, "page-420.png"), new ScreenshotOptions { FullPage = true });

        // Offline: every request the pages made went to this server, and no script failed.
        Assert.NotEmpty(requested);
        Assert.All(requested, url => Assert.StartsWith(origin + "/", url, StringComparison.Ordinal));
        Assert.Contains(requested, url => url.EndsWith("/page/app.css", StringComparison.Ordinal));
        Assert.Empty(problems);
    }

    private sealed record Hit(string Title, string Href, string Score, string Meta, string[] Why)
    {
        public string Id() => Uri.UnescapeDataString(Href["/paper?id=".Length..]);
    }

    private static Task<Hit[]> HitsAsync(IPage page) => page.EvaluateExpressionAsync<Hit[]>(
        "[...document.querySelectorAll('.hit')].map(h => ({ title: h.querySelector('h3 a').textContent, href: h.querySelector('h3 a').getAttribute('href'), " +
        "score: h.querySelector('.score').textContent, meta: [...h.querySelectorAll('.meta > :not(.score)')].map(e => e.textContent).join(' '), " +
        "why: [...h.querySelectorAll('.why .term')].map(t => t.textContent) }))");

    private static Task<string> TextAsync(IPage page, string selector) =>
        page.EvaluateExpressionAsync<string>($"document.querySelector({System.Text.Json.JsonSerializer.Serialize(selector)}).textContent.trim()");

    private static async Task ClickAndWaitAsync(IPage page, string selector)
    {
        Task<IResponse> navigation = page.WaitForNavigationAsync();
        await page.ClickAsync(selector);
        IResponse response = await navigation;
        Assert.True(response.Ok, $"{selector} led to {(int)response.Status} at {page.Url}");
    }

    /// <summary>The page's own shortening of a title in a chip (70 characters at a word break).</summary>
    private static string Shorten(string title) => title.Length <= 70 ? title : title[..title.LastIndexOf(' ', 60)];
}

/// <summary>A fact that needs a Chromium executable (Debian's <c>chromium</c>, which scripts/setup-chromium.sh installs); skipped, saying why, without one.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    private static readonly string? Found = Find();

    public BrowserFactAttribute()
    {
        if (Found is null)
        {
            Skip = "Browser tests skipped: no Chromium (set EMBEDDINGS_CHROMIUM, or run scripts/setup-chromium.sh to install Debian's chromium).";
        }
    }

    /// <summary>The Chromium executable: $EMBEDDINGS_CHROMIUM, else the first of the usual Debian paths.</summary>
    public static string Executable => Found ?? throw new InvalidOperationException("no Chromium");

    private static string? Find() =>
        Environment.GetEnvironmentVariable("EMBEDDINGS_CHROMIUM") is { Length: > 0 } path && File.Exists(path) ? path
        : new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
}
