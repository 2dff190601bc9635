using Embeddings.Numerics;
using Embeddings.Tokenization;

namespace Embeddings.Topics;

/// <summary>Options of the class-based TF-IDF topic terms.</summary>
internal sealed record TermOptions
{
    /// <summary>How texts become terms: the topic-label profile of the one text analyser.</summary>
    public TextAnalyzerOptions Analyzer { get; init; } = TextAnalyzerOptions.TopicLabels;

    /// <summary>A term must occur in at least this many papers (lowered to 1 for corpora under 20 papers).</summary>
    public int MinDocumentFrequency { get; init; } = 2;

    /// <summary>
    /// Terms in more than this share of the papers name the whole field, not a topic, and are dropped (applied to corpora
    /// of 20 papers or more). Half, not less: in a corpus of one field "neural networks" is in a third of the papers and
    /// still the best name of the topic that is about neural networks as such (QUALITY.md, topic labels); the rank weight's
    /// share factor keeps it off the other topics.
    /// </summary>
    public double MaxDocumentShare { get; init; } = 0.5;

    /// <summary>
    /// A term describes a topic only when at least this share of the topic's papers use it, and at least two of them
    /// (topics of three papers or more): a word one paper repeats ("reports") names that paper, not the topic.
    /// </summary>
    public double MinTopicShare { get; init; } = 0.1;

    /// <summary>
    /// A phrase replaces its word when at least this share of the topic's papers that use the word use the phrase
    /// ("in-context" becomes "in-context learning", "neural" becomes "neural networks").
    /// </summary>
    public double PhraseShare { get; init; } = 0.6;

    /// <summary>How many times a paper counts for a term its title uses (once for a term only its abstract uses).</summary>
    public double TitleWeight { get; init; } = 2;

    /// <summary>Candidates per topic handed to MMR.</summary>
    public int Candidates { get; init; } = 30;

    /// <summary>
    /// A word written as the first word of a phrase at least this often ("deep", "neural", "large") is half a phrase:
    /// never a keyword alone (unless most of its papers write one phrase with it, which then stands in its place).
    /// </summary>
    public double ModifierShare { get; init; } = 0.75;
}

/// <summary>
/// Class-based TF-IDF (BERTopic) over the papers that use a term: the papers of a topic are one document; a term's
/// c-TF-IDF in topic c is n(t,c) / |c| * log(1 + A / f(t)) with n(t,c) the papers of c using t (a paper whose title
/// uses it counts <see cref="TermOptions.TitleWeight"/> times), |c| the sum of n over c's terms, A the mean of |c| over
/// classes and f(t) the sum of n over classes; terms are ranked by c-TF-IDF * sqrt(n(t,c) / f(t)), which favours the
/// terms a topic has to itself. Counting papers rather than occurrences keeps one paper that repeats a word from naming
/// a topic. Terms come from <see cref="TextAnalyzer"/> with <see cref="TextAnalyzerOptions.TopicLabels"/>; each is shown
/// as the texts most often write it ("LLMs", "neural networks").
/// </summary>
internal sealed class ClassTfidf
{
    private readonly int[][] _docTerms; // distinct kept term ids per document, ascending

    private ClassTfidf(int[][] docTerms, List<TopicKeyword>[] candidates, List<int>[] candidateIds, Dictionary<int, string[]> roots)
    {
        _docTerms = docTerms;
        Candidates = candidates;
        CandidateIds = candidateIds;
        Roots = roots;
    }

    /// <summary>Top candidates per class, best first, each as the texts write it.</summary>
    public List<TopicKeyword>[] Candidates { get; }

    private List<int>[] CandidateIds { get; }

    /// <summary>Per candidate term id: the Porter stems of its words, which tell inflections of one word apart from other words.</summary>
    private Dictionary<int, string[]> Roots { get; }

    /// <summary>
    /// Computes the terms of <paramref name="classCount"/> classes; label -1 = outliers (counted in f(t) and A, never
    /// output). With <paramref name="titles"/>, <paramref name="texts"/> are the abstracts and a paper whose title uses a
    /// term counts <see cref="TermOptions.TitleWeight"/> times: a title says what a paper is about.
    /// </summary>
    public static ClassTfidf Compute(IReadOnlyList<string> texts, IReadOnlyList<string>? titles, IReadOnlyList<int> labels, int classCount,
        TermOptions options, CancellationToken ct)
    {
        int n = texts.Count;
        if (titles is not null && titles.Count != n)
        {
            throw new ArgumentException($"{titles.Count} titles for {n} texts", nameof(titles));
        }
        var analyzer = TextAnalyzer.Create(options.Analyzer);
        // Analyse in parallel (pure per document), then number terms sequentially in document order.
        var docTermStrings = new string[n][];
        var docTitleTerms = new HashSet<string>?[n];
        int analysisChunks = Parallelism.ChunkCount(n, 256);
        var chunkWords = new Dictionary<string, (int Uses, int Heads)>[analysisChunks];
        Parallelism.ForChunks(n, analysisChunks, ct, (chunk, s, e) =>
        {
            var sink = new DistinctTermSink { Terms = new HashSet<string>(StringComparer.Ordinal), Words = new(StringComparer.Ordinal) };
            chunkWords[chunk] = sink.Words;
            for (int i = s; i < e; i++)
            {
                sink.Terms.Clear();
                if (titles is not null && titles[i].Length > 0)
                {
                    analyzer.Analyze(titles[i], ref sink);
                    docTitleTerms[i] = sink.Terms.Count == 0 ? null : [.. sink.Terms];
                }
                analyzer.Analyze(texts[i], ref sink);
                var keys = sink.Terms.ToArray();
                Array.Sort(keys, StringComparer.Ordinal);
                docTermStrings[i] = keys;
            }
        });
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var terms = new List<string>();
        var df = new List<int>();
        var docIds = new int[n][];
        var docTitleIds = new HashSet<int>?[n];
        for (int i = 0; i < n; i++)
        {
            var keys = docTermStrings[i];
            var ids = new int[keys.Length];
            for (int j = 0; j < keys.Length; j++)
            {
                if (!vocab.TryGetValue(keys[j], out int id))
                {
                    id = terms.Count;
                    vocab[keys[j]] = id;
                    terms.Add(keys[j]);
                    df.Add(0);
                }
                df[id]++;
                ids[j] = id;
            }
            Array.Sort(ids);
            docIds[i] = ids;
            if (docTitleTerms[i] is { } inTitle)
            {
                docTitleIds[i] = inTitle.Select(k => vocab[k]).ToHashSet();
            }
        }
        // How often each word is written as the first word of a phrase: "deep" (deep learning, deep networks) almost
        // always, "quantization" seldom. A word that mostly modifies the next one is half a phrase, never a label alone.
        var wordUses = new Dictionary<string, (int Uses, int Heads)>(StringComparer.Ordinal);
        foreach (var part in chunkWords)
        {
            foreach (var (word, count) in part ?? [])
            {
                var sum = wordUses.GetValueOrDefault(word);
                wordUses[word] = (sum.Uses + count.Uses, sum.Heads + count.Heads);
            }
        }
        int minDf = n < 20 ? 1 : Math.Max(1, options.MinDocumentFrequency);
        int maxDf = n < 20 ? n : Math.Max(minDf, (int)Math.Floor(options.MaxDocumentShare * n));
        var kept = new bool[terms.Count];
        for (int t = 0; t < terms.Count; t++)
        {
            kept[t] = df[t] >= minDf && df[t] <= maxDf;
        }
        var modifier = new bool[terms.Count];
        for (int t = 0; t < terms.Count; t++)
        {
            modifier[t] = wordUses.TryGetValue(terms[t], out var use) && use.Uses > 0 && use.Heads >= options.ModifierShare * use.Uses;
        }
        // Per class: the papers using each term, and their weight (title uses count more); outliers are one more
        // class for f(t) and A.
        int classes = classCount + 1;
        var classPapers = new Dictionary<int, int>[classes];
        var classWeights = new Dictionary<int, double>[classes];
        for (int c = 0; c < classes; c++)
        {
            classPapers[c] = [];
            classWeights[c] = [];
        }
        var classSizes = new int[classes];
        var totalPerClass = new double[classes];
        var frequency = new double[terms.Count];
        var docKept = new int[n][];
        var keptList = new List<int>();
        for (int i = 0; i < n; i++)
        {
            int c = labels[i] < 0 ? classCount : labels[i];
            classSizes[c]++;
            keptList.Clear();
            foreach (int t in docIds[i])
            {
                if (!kept[t])
                {
                    continue;
                }
                keptList.Add(t);
                double w = docTitleIds[i]?.Contains(t) == true ? options.TitleWeight : 1;
                classPapers[c][t] = classPapers[c].GetValueOrDefault(t) + 1;
                classWeights[c][t] = classWeights[c].GetValueOrDefault(t) + w;
                totalPerClass[c] += w;
                frequency[t] += w;
            }
            docKept[i] = keptList.ToArray();
        }
        int nonEmptyClasses = 0;
        double allTerms = 0;
        for (int c = 0; c < classes; c++)
        {
            if (totalPerClass[c] > 0)
            {
                nonEmptyClasses++;
                allTerms += totalPerClass[c];
            }
        }
        double a = nonEmptyClasses == 0 ? 0 : allTerms / nonEmptyClasses;
        var candidateIds = new List<int>[classCount];
        var candidateScores = new List<double>[classCount];
        for (int c = 0; c < classCount; c++)
        {
            int minUse = classSizes[c] < 3 ? 1 : Math.Max(2, (int)Math.Ceiling(options.MinTopicShare * classSizes[c]));
            var scored = new List<(int Term, double Score)>(classPapers[c].Count);
            foreach (var (t, used) in classPapers[c])
            {
                if (used < minUse)
                {
                    continue;
                }
                // c-TF-IDF times the square root of the share of the term's weight that falls in this topic: c-TF-IDF's
                // idf saturates, so words every topic uses ("algorithm", "parameters") would otherwise outrank this one's.
                double weight = classWeights[c][t];
                double ctfidf = weight / totalPerClass[c] * Math.Log(1 + a / frequency[t]);
                double sc = ctfidf * Math.Sqrt(weight / frequency[t]);
                scored.Add((t, sc));
            }
            scored.Sort((x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : string.CompareOrdinal(terms[x.Term], terms[y.Term]));
            (candidateIds[c], candidateScores[c]) = PreferPhrases(scored, classPapers[c], terms, modifier, options);
        }
        var display = Surfaces(titles is null ? texts : [.. texts, .. titles], analyzer, candidateIds.SelectMany(x => x).Select(t => terms[t]).ToHashSet(StringComparer.Ordinal), ct);
        var candidates = new List<TopicKeyword>[classCount];
        var roots = new Dictionary<int, string[]>();
        for (int c = 0; c < classCount; c++)
        {
            candidates[c] = new List<TopicKeyword>(candidateIds[c].Count);
            for (int i = 0; i < candidateIds[c].Count; i++)
            {
                int t = candidateIds[c][i];
                candidates[c].Add(new TopicKeyword(display.GetValueOrDefault(terms[t], terms[t]), candidateScores[c][i]));
                roots.TryAdd(t, RootsOf(terms[t]));
            }
        }
        return new ClassTfidf(docKept, candidates, candidateIds, roots);
    }

    /// <summary>
    /// The best <see cref="TermOptions.Candidates"/> terms of a class, where a word or phrase most of whose papers use
    /// one longer phrase with it is replaced by that phrase (kept at its rank), so labels read "in-context learning"
    /// and "graph neural networks", not "in-context" and "graph neural"; a word that is mostly written as the start of
    /// a phrase (<paramref name="modifier"/>) and is not replaced so is left out.
    /// </summary>
    private static (List<int> Ids, List<double> Scores) PreferPhrases(List<(int Term, double Score)> scored, Dictionary<int, int> used,
        List<string> terms, bool[] modifier, TermOptions options)
    {
        // The most used longer phrase containing each word or two-word phrase, in this class.
        var longer = new Dictionary<string, (int Term, int Used)>(StringComparer.Ordinal);
        foreach (var (t, _) in scored)
        {
            string[] words = terms[t].Split(' ');
            for (int from = 0; from < words.Length; from++)
            {
                for (int to = from + 1; to <= words.Length; to++)
                {
                    if (to - from == words.Length)
                    {
                        continue;
                    }
                    string part = string.Join(' ', words[from..to]);
                    if (!longer.TryGetValue(part, out var best) || used[t] > best.Used ||
                        (used[t] == best.Used && terms[t].Length > terms[best.Term].Length))
                    {
                        longer[part] = (t, used[t]);
                    }
                }
            }
        }
        var ids = new List<int>();
        var scores = new List<double>();
        var taken = new HashSet<int>();
        foreach (var (t, score) in scored)
        {
            if (ids.Count == options.Candidates)
            {
                break;
            }
            int chosen = t;
            while (longer.TryGetValue(terms[chosen], out var phrase) && phrase.Used >= options.PhraseShare * used[chosen])
            {
                chosen = phrase.Term;
            }
            if (modifier[chosen])
            {
                // Half a phrase whose papers share no one phrase ("deep": deep learning, deep networks, ...): its
                // phrases rank on their own.
                continue;
            }
            if (taken.Add(chosen))
            {
                ids.Add(chosen);
                scores.Add(score);
            }
        }
        return (ids, scores);
    }

    /// <summary>
    /// How the texts write each of <paramref name="wanted"/>: the most frequent form, lower-cased (so "network" shows as
    /// "networks" when that is what papers say, and a title's capitals are not kept), except that acronyms and names
    /// with inner capitals keep them ("LLMs", "GNNs", "ImageNet") when the texts write them so most often.
    /// </summary>
    private static Dictionary<string, string> Surfaces(IReadOnlyList<string> texts, TextAnalyzer analyzer, HashSet<string> wanted, CancellationToken ct)
    {
        int n = texts.Count;
        int chunks = Parallelism.ChunkCount(n, 256);
        var partial = new Dictionary<string, Dictionary<string, int>>[chunks];
        Parallelism.ForChunks(n, chunks, ct, (chunk, s, e) =>
        {
            var sink = new SurfaceSink { Wanted = wanted.GetAlternateLookup<ReadOnlySpan<char>>(), Forms = new(StringComparer.Ordinal) };
            for (int i = s; i < e; i++)
            {
                analyzer.Analyze(texts[i], ref sink);
            }
            partial[chunk] = sink.Forms;
        });
        var forms = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var part in partial)
        {
            if (part is null)
            {
                continue;
            }
            foreach (var (term, written) in part)
            {
                var all = forms.TryGetValue(term, out var f) ? f : forms[term] = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var (form, count) in written)
                {
                    all[form] = all.GetValueOrDefault(form) + count;
                }
            }
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (term, written) in forms)
        {
            // Lower-cased forms by frequency (ties: ordinal), then the winner's most frequent casing if it is an acronym's.
            var lower = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (form, count) in written)
            {
                string key = form.ToLowerInvariant();
                lower[key] = lower.GetValueOrDefault(key) + count;
            }
            string best = lower.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).First().Key;
            string cased = written.Where(p => string.Equals(p.Key, best, StringComparison.OrdinalIgnoreCase))
                .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).First().Key;
            result[term] = HasInnerCapital(cased) ? cased : best;
        }
        return result;
    }

    /// <summary>Whether a word of <paramref name="form"/> has a capital after its first letter ("LLMs", "ImageNet"; not "Graph").</summary>
    private static bool HasInnerCapital(string form)
    {
        for (int i = 1; i < form.Length; i++)
        {
            if (char.IsUpper(form[i]) && char.IsLetterOrDigit(form[i - 1]))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The Porter stems of a term's words (hyphenated parts count as words): "quantized weights" -> quantiz, weight.</summary>
    private static string[] RootsOf(string term)
    {
        var roots = new List<string>();
        foreach (string word in term.Split([' ', '-', '\u2010'], StringSplitOptions.RemoveEmptyEntries))
        {
            char[] buffer = word.ToCharArray();
            roots.Add(new string(buffer, 0, Stemmers.Porter(buffer)));
        }
        return roots.Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Maximal marginal relevance over the candidates of class <paramref name="c"/>: relevance is the normalised
    /// c-TF-IDF weight; redundancy is the cosine of the terms' occurrence vectors over the class's papers (or of
    /// their embeddings when given). A term whose words are all (inflections of) words of a chosen term, or the other
    /// way round ("quantization" and "quantized weights", "graph" and "graph neural networks"), is never chosen.
    /// </summary>
    public List<TopicKeyword> Diverse(int c, IReadOnlyList<int> members, int count, double diversity, Func<string, string, double>? similarity = null)
    {
        var cands = Candidates[c];
        var ids = CandidateIds[c];
        int m = cands.Count;
        var result = new List<TopicKeyword>();
        if (m == 0)
        {
            return result;
        }
        // Occurrence sets over the class members.
        var docsOf = new List<int>[m];
        for (int j = 0; j < m; j++)
        {
            docsOf[j] = [];
        }
        for (int p = 0; p < members.Count; p++)
        {
            var dt = _docTerms[members[p]];
            for (int j = 0; j < m; j++)
            {
                if (Array.BinarySearch(dt, ids[j]) >= 0)
                {
                    docsOf[j].Add(p);
                }
            }
        }
        // Relevance: the weight scaled to 0..1 over the candidates (the best is 1).
        double maxScore = cands[0].Score, minScore = cands[^1].Score;
        double spread = maxScore > minScore ? maxScore - minScore : 1;
        var chosen = new List<int> { 0 };
        var used = new bool[m];
        used[0] = true;
        var maxSim = new double[m];
        while (chosen.Count < Math.Min(count, m))
        {
            int last = chosen[^1];
            int best = -1;
            double bestValue = double.NegativeInfinity;
            for (int j = 0; j < m; j++)
            {
                if (used[j])
                {
                    continue;
                }
                if (Redundant(Roots[ids[j]], Roots[ids[last]]) || AbbreviationPair(cands[j].Term, cands[last].Term))
                {
                    // A word again, or inflected, or inside a phrase already chosen, or the abbreviation of a chosen
                    // phrase ("PDEs" and "partial differential equations"): never a keyword of its own.
                    used[j] = true;
                    continue;
                }
                double sim = similarity?.Invoke(cands[j].Term, cands[last].Term) ?? Cooccurrence(docsOf[j], docsOf[last]);
                maxSim[j] = Math.Max(maxSim[j], sim);
                double value = (1 - diversity) * ((cands[j].Score - minScore) / spread) - diversity * maxSim[j];
                if (value > bestValue)
                {
                    bestValue = value;
                    best = j;
                }
            }
            if (best < 0)
            {
                break;
            }
            used[best] = true;
            chosen.Add(best);
        }
        foreach (int j in chosen)
        {
            result.Add(cands[j]);
        }
        return result;
    }

    private static double Cooccurrence(List<int> a, List<int> b)
    {
        if (a.Count == 0 || b.Count == 0)
        {
            return 0;
        }
        int i = 0, j = 0, both = 0;
        while (i < a.Count && j < b.Count)
        {
            if (a[i] == b[j])
            {
                both++;
                i++;
                j++;
            }
            else if (a[i] < b[j])
            {
                i++;
            }
            else
            {
                j++;
            }
        }
        return both / Math.Sqrt((double)a.Count * b.Count);
    }

    /// <summary>Whether every word of one term is a word (or an inflection of a word) of the other: "graph" and "graph neural networks".</summary>
    private static bool Redundant(string[] x, string[] y) => x.All(y.Contains) || y.All(x.Contains);

    /// <summary>
    /// Whether two shown terms name one thing: they share a word up to inflection ("quantization", "quantized weights"),
    /// or one abbreviates the other ("PDEs", "partial differential equations").
    /// </summary>
    internal static bool ShareAWord(string x, string y) =>
        RootsOf(x.ToLowerInvariant()).Intersect(RootsOf(y.ToLowerInvariant())).Any() || AbbreviationPair(x, y);

    /// <summary>
    /// Whether one shown term is a single word spelling the initials of the other's words, with or without a plural
    /// "s" ("LLMs" and "large language models", "ICL" and "in-context learning", "PDEs" and "partial differential equations").
    /// </summary>
    internal static bool AbbreviationPair(string x, string y) => IsAbbreviationOf(x, y) || IsAbbreviationOf(y, x);

    private static bool IsAbbreviationOf(string abbreviation, string phrase)
    {
        // Written with two capitals at least ("PDEs", "LLM"), so plain words ("am", "go") are never taken for one.
        if (abbreviation.Count(char.IsUpper) < 2 || abbreviation.Contains(' ', StringComparison.Ordinal) || abbreviation.Contains('-', StringComparison.Ordinal))
        {
            return false;
        }
        string[] words = phrase.Split([' ', '-', '\u2010'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 2)
        {
            return false;
        }
        var initials = new System.Text.StringBuilder(words.Length);
        foreach (string word in words)
        {
            initials.Append(char.ToLowerInvariant(word[0]));
        }
        string a = abbreviation.ToLowerInvariant();
        string i = initials.ToString();
        return a == i || (a.Length == i.Length + 1 && a[^1] == 's' && a.StartsWith(i, StringComparison.Ordinal));
    }

    /// <summary>A short label from the keywords: the first, then the next that shares no word (up to inflection) with it.</summary>
    public static string Label(IReadOnlyList<TopicKeyword> keywords)
    {
        if (keywords.Count == 0)
        {
            return "(no terms)";
        }
        var parts = new List<string> { keywords[0].Term };
        for (int i = 1; i < keywords.Count && parts.Count < 2; i++)
        {
            string t = keywords[i].Term;
            if (!parts.Any(p => ShareAWord(p, t)))
            {
                parts.Add(t);
            }
        }
        return string.Join(" / ", parts);
    }

    /// <summary>
    /// Collects the distinct terms of one text, and counts for every word how often it is written and how often it
    /// starts a phrase (the analyser emits a phrase only of words that stand next to each other).
    /// </summary>
    private struct DistinctTermSink : ITermSink
    {
        public HashSet<string> Terms;
        public Dictionary<string, (int Uses, int Heads)> Words;

        public readonly bool WantsSurface => false;

        public readonly void Term(ReadOnlySpan<char> term, ReadOnlySpan<char> surface)
        {
            var lookup = Terms.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.Contains(term))
            {
                Terms.Add(term.ToString());
            }
            int space = term.IndexOf(' ');
            if (space < 0)
            {
                Count(term, uses: 1, heads: 0);
            }
            else if (term[(space + 1)..].IndexOf(' ') < 0)
            {
                Count(term[..space], uses: 0, heads: 1);
            }
        }

        private readonly void Count(ReadOnlySpan<char> word, int uses, int heads)
        {
            var lookup = Words.GetAlternateLookup<ReadOnlySpan<char>>();
            var count = lookup.TryGetValue(word, out var c) ? c : default;
            lookup[word] = (count.Uses + uses, count.Heads + heads);
        }
    }

    /// <summary>Counts how the texts write the wanted terms.</summary>
    private struct SurfaceSink : ITermSink
    {
        public HashSet<string>.AlternateLookup<ReadOnlySpan<char>> Wanted;
        public Dictionary<string, Dictionary<string, int>> Forms;

        public readonly bool WantsSurface => true;

        public readonly void Term(ReadOnlySpan<char> term, ReadOnlySpan<char> surface)
        {
            if (!Wanted.TryGetValue(term, out string? key))
            {
                return;
            }
            var written = Forms.TryGetValue(key, out var f) ? f : Forms[key] = new Dictionary<string, int>(StringComparer.Ordinal);
            var lookup = written.GetAlternateLookup<ReadOnlySpan<char>>();
            lookup[surface] = lookup.TryGetValue(surface, out int count) ? count + 1 : 1;
        }
    }
}
