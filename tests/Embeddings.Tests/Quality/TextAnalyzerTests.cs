using Embeddings.Quality;
using Embeddings.Tests.Support;
using Embeddings.Tokenization;

namespace Embeddings.Tests.Quality;

public sealed class TextAnalyzerTests
{
    [Fact]
    public void Tokenises_lower_cases_and_drops_stop_words_and_short_tokens()
    {
        var analyzer = TextAnalyzer.Create(new TextAnalyzerOptions { Stemmer = StemmerKind.None });
        Assert.Equal(["covid", "19", "vaccines", "reduce", "il", "levels"], analyzer.Terms("The COVID-19 vaccines reduce IL-6 levels."));
        Assert.Equal(["covid", "19", "vaccines", "reduce", "levels"], analyzer.Terms("The COVID-19 vaccines reduce I levels of a."));
    }

    [Fact]
    public void Porter_stems_like_the_reference()
    {
        var analyzer = TextAnalyzer.Create(new TextAnalyzerOptions { Stemmer = StemmerKind.Porter, RemoveStopWords = false });
        (string Word, string Stem)[] cases =
        [
            ("caresses", "caress"), ("ponies", "poni"), ("cats", "cat"), ("agreed", "agre"), ("plastered", "plaster"),
            ("motoring", "motor"), ("sing", "sing"), ("hopping", "hop"), ("falling", "fall"), ("filing", "file"),
            ("happy", "happi"), ("relational", "relat"), ("generalizations", "gener"), ("connections", "connect"),
            ("connecting", "connect"), ("studies", "studi"), ("effective", "effect"), ("p53", "p53"),
        ];
        foreach (var (word, stem) in cases)
        {
            Assert.Equal(stem, Assert.Single(analyzer.Terms(word)));
        }
    }

    [Fact]
    public void Plural_stemmer_handles_ies_and_keeps_ss_us()
    {
        var analyzer = TextAnalyzer.Create(new TextAnalyzerOptions { Stemmer = StemmerKind.Plural, RemoveStopWords = false });
        Assert.Equal(["study", "cell", "glass", "virus", "shoes", "process"],
            analyzer.Terms("studies cells glass virus shoes process"));
    }

    [Fact]
    public void Bigrams_join_consecutive_kept_terms()
    {
        var analyzer = TextAnalyzer.Create(new TextAnalyzerOptions { Stemmer = StemmerKind.None, Bigrams = true });
        Assert.Equal(["heart", "failure", "heart failure", "risk", "failure risk"], analyzer.Terms("heart failure and the risk"));
    }

    [Fact]
    public void Ids_and_counts_use_the_vocabulary()
    {
        var analyzer = TextAnalyzer.Create(new TextAnalyzerOptions { Stemmer = StemmerKind.None });
        var vocabulary = new TermVocabulary();
        List<int> scratch = [], ids = [], counts = [];
        analyzer.CountTerms("beta alpha beta gamma", vocabulary, true, scratch, ids, counts);
        Assert.Equal(["beta", "alpha", "gamma"], vocabulary.Terms);
        Assert.Equal([0, 1, 2], ids);
        Assert.Equal([2, 1, 1], counts);
        analyzer.CountTerms("delta beta", vocabulary, false, scratch, ids, counts);
        Assert.Equal([0], ids);
        Assert.Equal(3, vocabulary.Count);
    }
}

public sealed class PorterGoldenTests
{
    [Fact]
    public void Porter_matches_nltk_martin_extensions_on_scifact_words()
    {
        string path = Path.Combine(TestPaths.RepoRoot, "tests", "Embeddings.Tests", "Quality", "Data", "porter_golden.tsv");
        var mismatches = new List<string>();
        int total = 0;
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }
            string[] f = line.Split('\t');
            char[] buffer = f[0].ToCharArray();
            string stem = new(buffer, 0, Stemmers.Porter(buffer));
            total++;
            if (stem != f[1])
            {
                mismatches.Add($"{f[0]}: expected {f[1]}, got {stem}");
            }
        }
        Assert.Equal(3000, total);
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(30)));
    }
}
