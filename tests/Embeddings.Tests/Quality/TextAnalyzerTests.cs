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
    public void Topic_label_profile_keeps_phrases_as_written_and_drops_markup_and_boilerplate()
    {
        var analyzer = TextAnalyzer.Create(TextAnalyzerOptions.TopicLabels);
        // Stop words and punctuation break phrases; plurals fold; hyphenated words stay whole; trigrams of adjacent words.
        Assert.Equal(["graph", "neural", "graph neural", "network", "neural network", "graph neural network", "molecule", "learning", "graph"],
            analyzer.Terms("We propose Graph Neural Networks for molecules, and learning of graphs."));
        Assert.Equal(["in-context", "learning", "in-context learning", "pre-trained", "transformer", "pre-trained transformer"],
            analyzer.Terms("In-context learning in pre-trained transformers"));
        // LaTeX commands (with or without their backslash), URLs and numbers are not words.
        Assert.Equal(["bound", "norm"],
            analyzer.Terms(@"Bounds $\mathcal{O}(n^2)$ and mathbb R cdot 2024: norm https://github.com/x/y-z 4.5"));
    }

    [Fact]
    public void Topic_label_profile_reports_how_the_text_writes_each_term()
    {
        var analyzer = TextAnalyzer.Create(TextAnalyzerOptions.TopicLabels);
        var sink = new SurfaceRecorder { Pairs = [] };
        analyzer.Analyze("Large  Language\nModels (LLMs) scale", ref sink);
        Assert.Equal(
            [("large", "Large"), ("language", "Language"), ("large language", "Large Language"), ("model", "Models"),
             ("language model", "Language Models"), ("large language model", "Large Language Models"), ("llm", "LLMs"), ("scale", "scale")],
            sink.Pairs);
    }

    private struct SurfaceRecorder : ITermSink
    {
        public List<(string, string)> Pairs;

        public readonly bool WantsSurface => true;

        public readonly void Term(ReadOnlySpan<char> term, ReadOnlySpan<char> surface) => Pairs.Add((term.ToString(), surface.ToString()));
    }

    [Fact]
    public void The_persisted_analysis_is_unchanged_and_label_profiles_are_never_persisted()
    {
        // The bytes and description of the plain options are part of every LSA fingerprint: exactly what they were.
        using var bytes = new MemoryStream();
        using (var w = new BinaryWriter(bytes, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            new TextAnalyzerOptions { Bigrams = true }.WriteTo(w);
        }
        Assert.Equal([1, 2, 0, 0, 0, 1, 2, 0, 0, 0, 40, 0, 0, 0], bytes.ToArray());
        Assert.Equal("stop=1;stem=Porter;bigrams=1;len=2-40", new TextAnalyzerOptions { Bigrams = true }.Describe());
        // The plain analysis still bridges stop words with bigrams and splits hyphenated words, as BM25 and LSA were fitted.
        Assert.Equal(["learn", "graph", "learn graph", "pre", "graph pre", "train", "pre train"],
            TextAnalyzer.Create(new TextAnalyzerOptions { Bigrams = true }).Terms("learning of graphs, pre-training"));
        Assert.True(TextAnalyzerOptions.TopicLabels.IsLabelProfile);
        Assert.Throws<InvalidOperationException>(() => TextAnalyzerOptions.TopicLabels.Describe());
        Assert.Throws<InvalidOperationException>(() => TextAnalyzerOptions.TopicLabels.WriteTo(new BinaryWriter(Stream.Null)));
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
