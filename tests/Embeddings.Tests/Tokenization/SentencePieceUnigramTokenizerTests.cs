using System.Buffers;
using System.Text.Json;
using Embeddings.Tests.Support;
using Embeddings.Tokenization;

namespace Embeddings.Tests.Tokenization;

public sealed class SentencePieceUnigramTokenizerTests
{
    private static readonly Lazy<SentencePieceUnigramTokenizer> Shared =
        new(() => SentencePieceUnigramTokenizer.FromVocabJson(TestPaths.SharedFile("models", "use-lite", "vocab.json")));

    private static SentencePieceUnigramTokenizer Tokenizer => Shared.Value;

    [Fact]
    public void Every_golden_line_matches_the_original_tokenizer()
    {
        var check = new GoldenCheck("use-lite-golden_tokens");
        int lineNo = 0;
        foreach (string line in File.ReadLines(TestPaths.SharedFile("models", "use-lite", "golden_tokens.jsonl")))
        {
            lineNo++;
            using var doc = JsonDocument.Parse(line);
            string text = doc.RootElement.GetProperty("text").GetString()!;
            int[] expected = [.. doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
            int[] actual = Tokenizer.EncodeToIds(text);
            check.Compare($"line {lineNo}", text, expected, actual);
            Assert.Equal(expected.Length, Tokenizer.CountTokens(text));
        }
        Assert.Equal(564, check.AssertAllMatched());
    }

    [Fact]
    public void Reference_sentences_and_tokenizer_cases_match()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedFile("models", "use-lite", "reference_embeddings.json")));
        var root = doc.RootElement;
        var check = new GoldenCheck("use-lite-reference");
        var sentences = root.GetProperty("sentences").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var tokenIds = root.GetProperty("token_ids").EnumerateArray().ToArray();
        Assert.Equal(5, sentences.Length);
        for (int i = 0; i < sentences.Length; i++)
        {
            check.Compare($"sentence {i}", sentences[i], [.. tokenIds[i].EnumerateArray().Select(e => e.GetInt32())],
                Tokenizer.EncodeToIds(sentences[i]));
        }
        int cases = 0;
        foreach (var c in root.GetProperty("tokenizer_cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            check.Compare($"case {cases++}", text, [.. c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())],
                Tokenizer.EncodeToIds(text));
        }
        Assert.True(cases >= 9);
        check.AssertAllMatched();
    }

    [Fact]
    public void Empty_text_gives_no_tokens_and_spaces_give_boundary_pieces()
    {
        Assert.Empty(Tokenizer.EncodeToIds(""));
        Assert.Equal(0, Tokenizer.CountTokens(""));
        Assert.Equal([30, 30], Tokenizer.EncodeToIds(" "));
        Assert.Equal("\u2581", Tokenizer.IdToToken(30));
    }

    [Fact]
    public void Nfkc_is_applied_without_ICU()
    {
        // U+FB01 (fi ligature) and full-width letters must tokenize like their NFKC forms, although the
        // project runs with InvariantGlobalization where string.Normalize is a no-op.
        Assert.Equal(Tokenizer.EncodeToIds("fine ABC"), Tokenizer.EncodeToIds("\uFB01ne \uFF21\uFF22\uFF23"));
        // Combining acute composes to the precomposed letter.
        Assert.Equal(Tokenizer.EncodeToIds("caf\u00E9"), Tokenizer.EncodeToIds("cafe\u0301"));
    }

    [Fact]
    public void Span_api_reports_a_short_destination_and_keeps_the_first_pieces()
    {
        const string text = "We propose a novel transformer architecture for neural machine translation.";
        int[] all = Tokenizer.EncodeToIds(text);
        Span<int> small = stackalloc int[5];
        Assert.Equal(OperationStatus.DestinationTooSmall, Tokenizer.EncodeToIds(text, small, out int written));
        Assert.Equal(5, written);
        Assert.Equal(all[..5], small.ToArray());

        Span<int> big = stackalloc int[all.Length + 3];
        Assert.Equal(OperationStatus.Done, Tokenizer.EncodeToIds(text, big, out written));
        Assert.Equal(all, big[..written].ToArray());
    }

    [Fact]
    public void Encode_truncates_without_adding_special_ids()
    {
        const string text = "Protein folding is predicted from amino acid sequences using deep learning.";
        int[] all = Tokenizer.EncodeToIds(text);
        var cut = Tokenizer.Encode(text, maxLength: 4);
        Assert.True(cut.Truncated);
        Assert.Equal(all[..4], cut.Ids);
        Assert.Equal(all.Length, cut.UntruncatedLength);
        var whole = Tokenizer.Encode(text);
        Assert.False(whole.Truncated);
        Assert.Equal(all, whole.Ids);
        Assert.Equal(0, Tokenizer.SpecialTokenCount);
        Assert.Equal(-1, Tokenizer.ClsId);
        Assert.Equal(8000, Tokenizer.VocabularySize);
    }

    [Fact]
    public void Missing_vocab_names_the_file()
    {
        using var dir = new TempDir();
        string path = dir.File("vocab.json");
        var e = Assert.Throws<ModelLoadException>(() => SentencePieceUnigramTokenizer.FromVocabJson(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"not\": \"an array\"}")]
    [InlineData("[[\"a\", 1.0], [\"b\"")]
    [InlineData("[[\"a\", \"x\"]]")]
    [InlineData("[[1, 2]]")]
    [InlineData("[[\"a\", 0], [\"b\", 0]]")]
    [InlineData("not json")]
    public void Malformed_vocab_is_a_model_load_error_naming_the_file(string content)
    {
        using var dir = new TempDir();
        string path = dir.File("vocab.json");
        File.WriteAllText(path, content);
        var e = Assert.Throws<ModelLoadException>(() => SentencePieceUnigramTokenizer.FromVocabJson(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
