using Embeddings.Lexical;
using Embeddings.Quality;
using Embeddings.Tests.Support;
using Embeddings.Tokenization;

namespace Embeddings.Tests.Quality;

public sealed class Bm25IndexTests
{
    // Hand-computed (k1 1.2, b 0.75, N 3, avgdl 3, idf = ln(1 + (N - df + 0.5)/(df + 0.5))):
    // apple in d1 (tf 2, len 3): ln(8/3) * 2*2.2/(2+1.2) = 1.3486402
    // cherry in d2 (tf 1, len 2): ln(1.6) * 2.2/(1+0.9) = 0.5442147; in d3 (tf 3, len 4): ln(1.6) * 6.6/4.5 = 0.6893387
    private static Bm25Index Tiny()
    {
        var index = Bm25Index.Create(new Bm25Options { Analyzer = new TextAnalyzerOptions { Stemmer = StemmerKind.None, RemoveStopWords = false } });
        index.Add("d1", "apple banana apple");
        index.Add("d2", "banana cherry");
        index.Add("d3", "cherry cherry cherry date");
        return index;
    }

    [Fact]
    public void Scores_match_hand_computed_values()
    {
        var index = Tiny();
        var apple = index.Search("apple", 10);
        Assert.Equal("d1", Assert.Single(apple).Id);
        Assert.Equal(1.3486402, apple[0].Score, 5);
        var cherry = index.Search("cherry", 10);
        Assert.Equal(["d3", "d2"], cherry.Select(h => h.Id));
        Assert.Equal(0.6893387, cherry[0].Score, 5);
        Assert.Equal(0.5442147, cherry[1].Score, 5);
        // Repeated query terms count: "banana cherry cherry" on d2 = banana + 2 x cherry.
        Assert.Equal(0.5442147 * 3, index.Score("banana cherry cherry", "d2"), 5);
    }

    [Fact]
    public void The_maximum_attainable_score_is_every_query_term_at_saturated_frequency_unseen_terms_included()
    {
        var index = Tiny();
        // (k1 + 1) x (idf(apple) + 2 idf(cherry)); "kiwi" is in no document: idf at df 0 = ln(1 + 3.5/0.5).
        double apple = Math.Log(8.0 / 3), cherry = Math.Log(1.6), unseen = Math.Log(8);
        Assert.Equal(2.2 * (apple + (2 * cherry)), index.MaxAttainableScore("apple cherry cherry"), 5);
        Assert.Equal(2.2 * (apple + unseen), index.MaxAttainableScore("apple kiwi"), 5);
        Assert.Equal(0, index.MaxAttainableScore(""));
        // No document reaches it, however often it repeats the word.
        index.Add("d4", string.Join(' ', Enumerable.Repeat("apple", 200)));
        float max = index.MaxAttainableScore("apple");
        Assert.All(index.Search("apple", 10), h => Assert.InRange(h.Score / max, 0.5f, 0.9999f));
    }

    [Fact]
    public void Search_by_document_excludes_itself_and_explains()
    {
        var index = Tiny();
        var hits = index.SearchByDocument("d2", 10);
        Assert.DoesNotContain(hits, h => h.Id == "d2");
        Assert.Equal(["d3", "d1"], hits.Select(h => h.Id));
        var why = index.Explain("banana cherry", "d2");
        Assert.Equal(2, why.Count);
        Assert.Equal(0.5442147, why[0].Score, 5);
        Assert.Equal(0.5442147 * 2, why.Sum(c => c.Score), 5);
        Assert.Equal("cherry", Assert.Single(index.ExplainByDocument("d2", "d3")).Term);
    }

    [Fact]
    public void Remove_updates_statistics_and_results()
    {
        var index = Tiny();
        Assert.True(index.Remove("d3"));
        Assert.False(index.Contains("d3"));
        Assert.Equal(2, index.Count);
        // N 2, avgdl 2.5, df(cherry) 1: ln(1 + 1.5/1.5) * 2.2/(1 + 1.2*(0.25 + 0.75*2/2.5))
        float expected = (float)(Math.Log(2) * 2.2 / (1 + (1.2 * (0.25 + (0.75 * 2 / 2.5)))));
        var hit = Assert.Single(index.Search("cherry", 10));
        Assert.Equal("d2", hit.Id);
        Assert.Equal(expected, hit.Score, 5);
        index.Add("d3", "date");
        Assert.Equal("d3", Assert.Single(index.Search("date", 10)).Id);
        Assert.Single(index.Search("cherry", 10));
    }

    [Fact]
    public void Save_and_load_round_trip_and_detect_corruption()
    {
        using var dir = new TempDir();
        var index = Tiny();
        index.Remove("d1");
        index.Add("d4", "apple date");
        string path = dir.File("bm25.bin");
        index.Save(path);
        var loaded = Bm25Index.Load(path);
        Assert.Equal(index.Count, loaded.Count);
        foreach (string q in new[] { "apple", "cherry date", "banana" })
        {
            Assert.Equal(index.Search(q, 10), loaded.Search(q, 10));
        }
        byte[] bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => Bm25Index.Load(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
        File.WriteAllBytes(path, bytes[..10]);
        Assert.Throws<DataFormatException>(() => Bm25Index.Load(path));
    }
}
