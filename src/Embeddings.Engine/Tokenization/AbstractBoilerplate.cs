namespace Embeddings.Tokenization;

/// <summary>
/// Words every scientific abstract uses whatever its subject ("we propose a novel approach ... experiments show ...
/// outperforms the state of the art"): they say nothing about a topic, so topic labels drop them
/// (<see cref="TextAnalyzerOptions.RemoveBoilerplate"/>). Matched on the lower-cased word before stemming, so each
/// inflection is listed. Search and LSA keep them (their analysis is persisted and measured as it is).
/// </summary>
internal static class AbstractBoilerplate
{
    private static readonly string[] Words =
    [
        // Claims and moves of the abstract genre.
        "paper", "papers", "propose", "proposed", "proposes", "proposing", "present", "presents", "presented", "presenting",
        "shows", "shown", "showing", "demonstrate", "demonstrates", "demonstrated", "demonstrating", "achieve", "achieves",
        "achieved", "achieving", "approach", "approaches", "method", "methods", "novel", "new", "result", "results", "work",
        "works", "use", "used", "uses", "using", "based", "existing", "introduce", "introduces", "introduced", "introducing",
        "state-of-the-art", "state", "art", "significantly", "significant", "substantial", "substantially", "various",
        "different", "recent", "recently", "including", "provide", "provides", "provided", "providing", "able", "make",
        "makes", "making", "given", "furthermore", "respectively", "extensive", "extensively", "experiments", "experiment",
        "experimental", "experimentally", "effective", "effectively", "effectiveness", "performance", "performances",
        "code", "available", "github", "com", "https", "http", "www", "arxiv", "et", "al", "abstract", "study", "studies",
        "studied", "task", "tasks", "outperforms", "outperform", "outperforming", "improve", "improves", "improved",
        "improving", "improvement", "improvements", "compared", "comparable", "like", "high", "better", "best",
        "simple", "key", "way", "ways", "problem", "problems", "specifically", "particular", "particularly", "terms",
        "lead", "leads", "leading", "allow", "allows", "allowing", "enable", "enables", "enabling", "called", "obtain",
        "obtained", "consider", "considered", "prove", "main", "case", "cases", "just", "quite", "framework", "frameworks",
        "address", "addresses", "addressing", "challenge", "challenges", "challenging", "remains", "remain", "crucial",
        "important", "critical", "limited", "limitation", "limitations", "widely", "notably", "enhance", "enhances",
        "enhanced", "enhancing", "leverage", "leverages", "leveraging", "despite", "typically", "often", "wide", "range",
        "strong", "stronger", "superior", "promising", "potential", "prior", "previous", "previously", "aim", "aims",
        "investigate", "investigates", "explore", "explores", "exploring", "analyze", "analyzes", "analysis", "finding",
        "findings", "insight", "insights", "shed", "light", "moreover", "additionally", "overall", "able", "better",
        "open-source", "publicly", "release", "released",
        // Linking words and hedges of the genre that c-TF-IDF still found topic-specific on the daily-papers dumps
        // (one topic happened to use them more: "instead", "researchers", "lastly", "burgeoning").
        "instead", "researchers", "researcher", "lastly", "firstly", "secondly", "finally", "earlier", "burgeoning",
        "empirically", "empirical", "benefit", "benefits", "subsequent", "subsequently", "scenario", "scenarios",
        "diverse", "hold", "holds", "opening", "picture", "fundamental", "fundamentally", "surprisingly", "commonly",
        "widespread", "emerging", "growing", "increasingly", "numerous",
        "seen", "known", "well-known", "well-established", "established", "standard", "conventional", "traditional",
        "remarkable", "impressive", "unprecedented", "comprehensive", "thorough", "thoroughly", "rigorous", "rigorously",
    ];

    /// <summary>
    /// LaTeX command names and Greek letter names, which abstracts often carry with their backslash lost on the way
    /// ("I(cdot;cdot)", "mathcal{O}"): markup, not words (<see cref="TextAnalyzerOptions.SkipMarkup"/>).
    /// </summary>
    private static readonly string[] LatexWords =
    [
        "mathcal", "mathbb", "mathbf", "mathrm", "mathsf", "mathit", "mathfrak", "mathscr", "boldsymbol", "bm", "textbf",
        "textit", "textrm", "texttt", "emph", "frac", "dfrac", "tfrac", "sqrt", "cdot", "cdots", "ldots", "dots", "vdots",
        "infty", "leq", "geq", "neq", "le", "ge", "ll", "gg", "approx", "propto", "sim", "simeq", "equiv", "operatorname",
        "widetilde", "tilde", "widehat", "overline", "underline", "langle", "rangle", "lfloor", "rfloor", "lceil",
        "rceil", "nabla", "forall", "exists", "subseteq", "supseteq", "otimes", "oplus", "odot", "rightarrow",
        "leftarrow", "mapsto", "qquad", "quad", "mathop", "argmin", "argmax", "bigl", "bigr", "lvert", "rvert",
        "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
        "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
        "ell", "top",
    ];

    private static readonly HashSet<string> Set = new(Words, StringComparer.Ordinal);
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> SpanSet =
        Set.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly HashSet<string> LatexSet = new(LatexWords, StringComparer.Ordinal);
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> LatexSpanSet =
        LatexSet.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Whether the lower-cased <paramref name="word"/> is boilerplate.</summary>
    public static bool Contains(ReadOnlySpan<char> word) => SpanSet.Contains(word);

    /// <summary>Whether the lower-cased <paramref name="word"/> is a LaTeX command or Greek letter name.</summary>
    public static bool IsLatexWord(ReadOnlySpan<char> word) => LatexSpanSet.Contains(word);
}
