using Embeddings.Numerics;

namespace Embeddings.Topics;

/// <summary>Options of the class-based TF-IDF topic terms.</summary>
internal sealed record TermOptions
{
    /// <summary>Include bigrams of adjacent content words.</summary>
    public bool Bigrams { get; init; } = true;

    /// <summary>A term must occur in at least this many papers (lowered to 1 for corpora under 20 papers).</summary>
    public int MinDocumentFrequency { get; init; } = 2;

    /// <summary>
    /// Terms in more than this share of the papers name the whole field, not a topic, and are dropped
    /// (applied to corpora of 20 papers or more).
    /// </summary>
    public double MaxDocumentShare { get; init; } = 0.3;

    /// <summary>Candidates per topic handed to MMR.</summary>
    public int Candidates { get; init; } = 30;
}

/// <summary>
/// Class-based TF-IDF (BERTopic): the papers of a topic are one document; a term's weight in topic c is
/// tf(t,c) / |c| * log(1 + A / f(t)) with |c| the topic's term count, A the mean term count per class and
/// f(t) the term's count over all classes. Tokenisation in <see cref="TopicText"/>.
/// </summary>
internal sealed class ClassTfidf
{
    private readonly List<string> _terms;
    private readonly int[][] _docTerms; // distinct kept term ids per document, ascending

    private ClassTfidf(List<string> terms, int[][] docTerms, List<TopicKeyword>[] candidates, List<int>[] candidateIds)
    {
        _terms = terms;
        _docTerms = docTerms;
        Candidates = candidates;
        CandidateIds = candidateIds;
    }

    /// <summary>Top candidates per class, best first.</summary>
    public List<TopicKeyword>[] Candidates { get; }

    private List<int>[] CandidateIds { get; }

    /// <summary>Computes the terms of <paramref name="classCount"/> classes; label -1 = outliers (counted in f(t) and A, never output).</summary>
    public static ClassTfidf Compute(IReadOnlyList<string> texts, IReadOnlyList<int> labels, int classCount, TermOptions options, CancellationToken ct)
    {
        int n = texts.Count;
        // Tokenise in parallel (pure per document), then number terms sequentially in document order.
        var docTermStrings = new string[n][];
        var docTermCounts = new int[n][];
        Parallelism.ForChunks(n, Parallelism.ChunkCount(n, 256), ct, (_, s, e) =>
        {
            var scratch = new List<string?>();
            var terms = new List<string>();
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = s; i < e; i++)
            {
                TopicText.Terms(texts[i], options.Bigrams, scratch, terms);
                counts.Clear();
                foreach (var t in terms)
                {
                    counts[t] = counts.GetValueOrDefault(t) + 1;
                }
                var keys = new string[counts.Count];
                var values = new int[counts.Count];
                int p = 0;
                foreach (var (key, value) in counts)
                {
                    keys[p] = key;
                    values[p++] = value;
                }
                Array.Sort(keys, values, StringComparer.Ordinal);
                docTermStrings[i] = keys;
                docTermCounts[i] = values;
            }
        });
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var terms = new List<string>();
        var df = new List<int>();
        var docIds = new int[n][];
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
            docIds[i] = ids;
        }
        int minDf = n < 20 ? 1 : Math.Max(1, options.MinDocumentFrequency);
        int maxDf = n < 20 ? n : Math.Max(minDf, (int)Math.Floor(options.MaxDocumentShare * n));
        var kept = new bool[terms.Count];
        for (int t = 0; t < terms.Count; t++)
        {
            kept[t] = df[t] >= minDf && df[t] <= maxDf;
        }
        // Per-class term counts (outliers are one more class for f(t) and A).
        int classes = classCount + 1;
        var classCounts = new Dictionary<int, int>[classes];
        for (int c = 0; c < classes; c++)
        {
            classCounts[c] = [];
        }
        var totalPerClass = new long[classes];
        var frequency = new long[terms.Count];
        var docKept = new int[n][];
        var keptList = new List<int>();
        for (int i = 0; i < n; i++)
        {
            int c = labels[i] < 0 ? classCount : labels[i];
            var ids = docIds[i];
            var counts = docTermCounts[i];
            keptList.Clear();
            for (int j = 0; j < ids.Length; j++)
            {
                int t = ids[j];
                if (!kept[t])
                {
                    continue;
                }
                keptList.Add(t);
                classCounts[c][t] = classCounts[c].GetValueOrDefault(t) + counts[j];
                totalPerClass[c] += counts[j];
                frequency[t] += counts[j];
            }
            var arr = keptList.ToArray();
            Array.Sort(arr);
            docKept[i] = arr;
        }
        int nonEmptyClasses = 0;
        long allTerms = 0;
        for (int c = 0; c < classes; c++)
        {
            if (totalPerClass[c] > 0)
            {
                nonEmptyClasses++;
                allTerms += totalPerClass[c];
            }
        }
        double a = nonEmptyClasses == 0 ? 0 : (double)allTerms / nonEmptyClasses;
        var candidates = new List<TopicKeyword>[classCount];
        var candidateIds = new List<int>[classCount];
        for (int c = 0; c < classCount; c++)
        {
            var scored = new List<(int Term, double Score)>(classCounts[c].Count);
            foreach (var (t, tf) in classCounts[c])
            {
                double w = (double)tf / totalPerClass[c] * Math.Log(1 + a / frequency[t]);
                scored.Add((t, w));
            }
            scored.Sort((x, y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : string.CompareOrdinal(terms[x.Term], terms[y.Term]));
            int take = Math.Min(options.Candidates, scored.Count);
            candidates[c] = new List<TopicKeyword>(take);
            candidateIds[c] = new List<int>(take);
            for (int i = 0; i < take; i++)
            {
                candidates[c].Add(new TopicKeyword(terms[scored[i].Term], scored[i].Score));
                candidateIds[c].Add(scored[i].Term);
            }
        }
        return new ClassTfidf(terms, docKept, candidates, candidateIds);
    }

    /// <summary>
    /// Maximal marginal relevance over the candidates of class <paramref name="c"/>: relevance is the normalised
    /// c-TF-IDF weight; redundancy is the cosine of the terms' occurrence vectors over the class's papers (or of
    /// their embeddings when given), and 1 when one term's words are contained in the other's.
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
        double maxScore = cands[0].Score > 0 ? cands[0].Score : 1;
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
                double sim = Contained(cands[j].Term, cands[last].Term)
                    ? 1.0
                    : similarity?.Invoke(cands[j].Term, cands[last].Term) ?? Cooccurrence(docsOf[j], docsOf[last]);
                maxSim[j] = Math.Max(maxSim[j], sim);
                double value = (1 - diversity) * (cands[j].Score / maxScore) - diversity * maxSim[j];
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

    /// <summary>Whether every word of one term is a word of the other ("graph" and "graph neural").</summary>
    internal static bool Contained(string x, string y)
    {
        var xs = x.Split(' ');
        var ys = y.Split(' ');
        return xs.All(w => ys.Contains(w)) || ys.All(w => xs.Contains(w));
    }

    /// <summary>A short label from the keywords: the first, then one more term sharing no word with it.</summary>
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
            bool overlaps = parts.Any(p => p.Split(' ').Intersect(t.Split(' ')).Any());
            if (!overlaps)
            {
                parts.Add(t);
            }
        }
        return string.Join(" / ", parts);
    }
}
