using System.Text;

namespace Embeddings.Topics;

/// <summary>
/// Tokenisation for topic terms: lower-cased word tokens (letters, digits, inner hyphens; at least one letter,
/// two or more characters), English stop words and scientific boilerplate removed, and bigrams of adjacent
/// content words (never across a stop word or punctuation, so "learning of graphs" gives no "learning graphs").
/// </summary>
internal static class TopicText
{
    /// <summary>English stop words (scikit-learn's list, trimmed) plus words every abstract uses.</summary>
    internal static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "about", "above", "across", "after", "afterwards", "again", "against", "all", "almost", "alone", "along",
        "already", "also", "although", "always", "am", "among", "amongst", "an", "and", "another", "any", "anyhow",
        "anyone", "anything", "anyway", "anywhere", "are", "around", "as", "at", "be", "became", "because", "become",
        "becomes", "becoming", "been", "before", "beforehand", "behind", "being", "below", "beside", "besides",
        "between", "beyond", "both", "but", "by", "can", "cannot", "could", "do", "done", "down", "due", "during",
        "each", "eg", "either", "else", "elsewhere", "enough", "etc", "even", "ever", "every", "everyone",
        "everything", "everywhere", "except", "few", "for", "former", "formerly", "from", "further", "had", "has",
        "have", "he", "hence", "her", "here", "hereafter", "hereby", "herein", "hers", "herself", "him", "himself",
        "his", "how", "however", "i", "ie", "if", "in", "indeed", "into", "is", "it", "its", "itself", "just",
        "last", "latter", "least", "less", "many", "may", "me", "meanwhile", "might", "more", "moreover", "most",
        "mostly", "much", "must", "my", "myself", "namely", "neither", "never", "nevertheless", "next", "no",
        "nobody", "none", "nor", "not", "nothing", "now", "nowhere", "of", "off", "often", "on", "once", "one",
        "only", "onto", "or", "other", "others", "otherwise", "our", "ours", "ourselves", "out", "over", "own",
        "per", "perhaps", "please", "quite", "rather", "re", "same", "see", "seem", "seemed", "seeming", "seems",
        "several", "she", "should", "since", "so", "some", "somehow", "someone", "something", "sometime",
        "sometimes", "somewhere", "still", "such", "than", "that", "the", "their", "them", "themselves", "then",
        "thence", "there", "thereafter", "thereby", "therefore", "therein", "thereupon", "these", "they", "this",
        "those", "though", "through", "throughout", "thru", "thus", "to", "together", "too", "toward", "towards",
        "under", "until", "up", "upon", "us", "very", "via", "was", "we", "well", "were", "what", "whatever", "when",
        "whence", "whenever", "where", "whereafter", "whereas", "whereby", "wherein", "whereupon", "wherever",
        "whether", "which", "while", "whither", "who", "whoever", "whole", "whom", "whose", "why", "will", "with",
        "within", "without", "would", "yet", "you", "your", "yours", "yourself", "yourselves",
        // Boilerplate of abstracts: says nothing about the topic.
        "paper", "propose", "proposed", "proposes", "present", "presents", "presented", "show", "shows", "shown",
        "demonstrate", "demonstrates", "achieve", "achieves", "achieved", "approach", "approaches", "method",
        "methods", "novel", "new", "result", "results", "work", "works", "use", "used", "uses", "using", "based",
        "existing", "introduce", "introduces", "state", "art", "significantly", "significant", "various", "different",
        "recent", "recently", "including", "provide", "provides", "able", "make", "makes", "given", "first", "two",
        "three", "furthermore", "respectively", "extensive", "experiments", "experimental", "effective",
        "effectiveness", "performance", "code", "available", "github", "com", "https", "http", "www", "arxiv",
        "et", "al", "abstract", "study", "studies", "task", "tasks", "outperforms", "outperform", "improve",
        "improves", "improved", "improvement", "improvements", "compared", "like", "high", "large", "better",
        "simple", "key", "way", "ways", "problem", "problems", "specifically", "particular", "terms", "leads",
        "allows", "enables", "called", "obtain", "obtained", "consider", "prove", "main", "case", "cases",
    };

    /// <summary>Content tokens of <paramref name="text"/>, with null entries marking breaks (stop word, punctuation).</summary>
    public static void Tokenize(string text, List<string?> output)
    {
        output.Clear();
        var sb = new StringBuilder();
        bool hasLetter = false;
        void Flush(List<string?> o)
        {
            if (sb.Length > 0)
            {
                // Trim trailing hyphens of "state-of-" fragments.
                while (sb.Length > 0 && sb[^1] == '-')
                {
                    sb.Length--;
                }
                string token = sb.ToString();
                if (hasLetter && token.Length >= 2 && !StopWords.Contains(token))
                {
                    o.Add(token);
                }
                else
                {
                    o.Add(null);
                }
                sb.Clear();
                hasLetter = false;
            }
        }
        foreach (char raw in text)
        {
            char ch = char.ToLowerInvariant(raw);
            if (char.IsLetter(ch))
            {
                sb.Append(ch);
                hasLetter = true;
            }
            else if (char.IsDigit(ch))
            {
                sb.Append(ch);
            }
            else if (ch == '-' && sb.Length > 0)
            {
                sb.Append(ch);
            }
            else if (ch is '\'' or '\u2019')
            {
                // "model's" -> "model": drop the possessive tail by ending the token here.
                Flush(output);
            }
            else
            {
                Flush(output);
                if (!char.IsWhiteSpace(ch))
                {
                    output.Add(null);
                }
            }
        }
        Flush(output);
    }

    /// <summary>Unigram and bigram terms of a text (duplicates kept, for counting).</summary>
    public static void Terms(string text, bool bigrams, List<string?> scratch, List<string> terms)
    {
        terms.Clear();
        Tokenize(text, scratch);
        for (int i = 0; i < scratch.Count; i++)
        {
            string? t = scratch[i];
            if (t is null)
            {
                continue;
            }
            terms.Add(t);
            if (bigrams && i + 1 < scratch.Count && scratch[i + 1] is string next)
            {
                terms.Add(t + " " + next);
            }
        }
    }
}
