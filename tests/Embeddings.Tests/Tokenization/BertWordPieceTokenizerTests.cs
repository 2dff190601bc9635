using System.Buffers;
using System.Text.Json;
using Embeddings.Encoding;
using Embeddings.Tests.Support;
using Embeddings.Tokenization;

namespace Embeddings.Tests.Tokenization;

public sealed class BertWordPieceTokenizerTests
{
    private static readonly Lazy<BertWordPieceTokenizer> FromJson =
        new(() => BertWordPieceTokenizer.FromTokenizerJson(ModelFile("tokenizer.json")));

    private static readonly Lazy<BertWordPieceTokenizer> FromVocab =
        new(() => BertWordPieceTokenizer.FromVocabTxt(ModelFile("vocab.txt")));

    internal static string ModelFile(string name) => TestPaths.SharedFile("models", "tiny-bert", name);

    public static TheoryData<string> Loaders => ["tokenizer.json", "vocab.txt"];

    private static BertWordPieceTokenizer Load(string loader) => loader == "vocab.txt" ? FromVocab.Value : FromJson.Value;

    internal static Dictionary<string, int[]> RustReference()
    {
        // The 8 cases where transformers.js (golden generator) differs from the Rust tokenizers library:
        // we follow Rust, as sentence-transformers does.
        using var doc = JsonDocument.Parse(File.ReadAllBytes(ModelFile("golden_tokens_crosscheck.json")));
        return doc.RootElement.GetProperty("disagreements").EnumerateArray().ToDictionary(
            d => d.GetProperty("id").GetString()!,
            d => d.GetProperty("hf_tokenizers_rust").GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
    }

    [Theory]
    [MemberData(nameof(Loaders))]
    public void Every_golden_line_matches_the_rust_tokenizer(string loader)
    {
        var tokenizer = Load(loader);
        var rust = RustReference();
        Assert.Equal(8, rust.Count);
        var check = new GoldenCheck("tiny-bert-golden_tokens-" + loader);
        int fromRust = 0;
        foreach (string line in File.ReadLines(ModelFile("golden_tokens.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            string id = root.GetProperty("id").GetString()!;
            string text = root.GetProperty("text").GetString()!;
            int[] expected = [.. root.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32())];
            if (rust.TryGetValue(id, out var rustIds))
            {
                fromRust++;
                expected = rustIds;
            }
            var encoded = tokenizer.Encode(text, maxLength: int.MaxValue);
            check.Compare(id, text, expected, encoded.Ids);
            Assert.Equal(expected.Length - 2, tokenizer.CountTokens(text));
        }
        Assert.Equal(8, fromRust);
        Assert.Equal(528, check.AssertAllMatched());
    }

    [Fact]
    public void Golden_embedding_inputs_match_after_truncation_to_256()
    {
        var tokenizer = FromJson.Value;
        Assert.Equal(256, tokenizer.MaxLength);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(ModelFile("golden_embeddings.json")));
        var check = new GoldenCheck("tiny-bert-golden_embeddings");
        int n = 0;
        foreach (var t in doc.RootElement.GetProperty("texts").EnumerateArray())
        {
            string text = t.GetProperty("text").GetString()!;
            int[] expected = [.. t.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32())];
            var encoded = tokenizer.Encode(text);
            check.Compare(t.GetProperty("label").GetString()!, text, expected, encoded.Ids);
            Assert.Equal(t.GetProperty("truncated").GetBoolean(), encoded.Truncated);
            Assert.Equal(t.GetProperty("untruncated_length").GetInt32(), encoded.UntruncatedLength);

            // The span form gives the same ids and flag.
            var buffer = new int[256];
            int written = tokenizer.EncodeWithSpecialTokens(text, buffer, out bool truncated);
            Assert.Equal(expected, buffer[..written]);
            Assert.Equal(encoded.Truncated, truncated);
            n++;
        }
        Assert.Equal(8, n);
        check.AssertAllMatched();
    }

    [Fact]
    public void Settings_are_read_from_tokenizer_json()
    {
        var t = FromJson.Value;
        Assert.Equal(30522, t.VocabularySize);
        Assert.Equal((0, 100, 101, 102), (t.PadId, t.UnknownId, t.ClsId, t.SepId));
        Assert.Equal([101], t.LeadingSpecialIds.ToArray());
        Assert.Equal([102], t.TrailingSpecialIds.ToArray());
        Assert.Equal(2, t.SpecialTokenCount);
        Assert.Equal("hello", t.IdToToken(7592));
        Assert.Null(FromVocab.Value.MaxLength);
    }

    [Theory]
    [MemberData(nameof(Loaders))]
    public void Literal_special_tokens_are_matched_in_raw_text(string loader)
    {
        var t = Load(loader);
        Assert.Equal([101, 101, 7592, 103, 102], t.Encode("[CLS] hello [MASK]").Ids);
        Assert.Equal([1031, 7308, 1033], t.EncodeToIds("[mask]")); // case-sensitive: [ mask ]
        Assert.Equal([7592, 102, 2088], t.EncodeToIds("hello[SEP]world"));
        Assert.Equal([0], t.EncodeToIds("[PAD]"));
    }

    [Theory]
    [MemberData(nameof(Loaders))]
    public void Empty_and_whitespace_text_give_only_the_special_ids(string loader)
    {
        var t = Load(loader);
        foreach (string text in new[] { "", " ", "\t\n \r\n", "\u200b", "\u0000\u0007" })
        {
            Assert.Equal([101, 102], t.Encode(text).Ids);
            Assert.Empty(t.EncodeToIds(text));
            Assert.Equal(0, t.CountTokens(text));
        }
    }

    [Fact]
    public void Truncation_keeps_the_first_pieces_and_says_so()
    {
        var t = FromJson.Value;
        const string text = "A man is playing a guitar.";
        int[] pieces = t.EncodeToIds(text);
        Assert.Equal(7, pieces.Length);
        var cut = t.Encode(text, maxLength: 5);
        Assert.Equal([101, .. pieces[..3], 102], cut.Ids);
        Assert.True(cut.Truncated);
        Assert.Equal(9, cut.UntruncatedLength);
        var exact = t.Encode(text, maxLength: 9);
        Assert.False(exact.Truncated);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Encode(text, maxLength: 1));

        Span<int> small = stackalloc int[3];
        Assert.Equal(OperationStatus.DestinationTooSmall, t.EncodeToIds(text, small, out int written));
        Assert.Equal(3, written);
        Assert.Equal(pieces[..3], small.ToArray());
        Assert.Throws<ArgumentException>(() => t.EncodeWithSpecialTokens(text, new int[1], out _));
    }

    [Fact]
    public void Truncation_never_ends_in_the_pieces_of_a_word_that_becomes_unknown()
    {
        var t = FromJson.Value;
        // "hello" then a word that cannot be covered (a private-use-free but unknown script char glued to letters).
        string text = "hello ab\u0E01\u0E02\u0E03cd";
        int[] all = t.EncodeToIds(text);
        Span<int> two = stackalloc int[2];
        t.EncodeToIds(text, two, out int written);
        Assert.Equal(all[..written], two[..written].ToArray());
    }

    [Fact]
    public void Words_over_100_code_points_become_unknown()
    {
        var t = FromJson.Value;
        Assert.Equal([100], t.EncodeToIds(new string('a', 101)));
        Assert.NotEqual([100], t.EncodeToIds(new string('a', 100)));
    }

    [Fact]
    public void Accents_are_stripped_and_case_folded_without_ICU()
    {
        var t = FromJson.Value;
        Assert.Equal(t.EncodeToIds("cafe resume"), t.EncodeToIds("Caf\u00E9 R\u00C9SUM\u00C9"));
        Assert.Equal(t.EncodeToIds("cafe"), t.EncodeToIds("cafe\u0301"));
    }

    [Fact]
    public void Missing_vocab_files_name_the_file()
    {
        using var dir = new TempDir();
        var e1 = Assert.Throws<ModelLoadException>(() => BertWordPieceTokenizer.FromVocabTxt(dir.File("vocab.txt")));
        Assert.Contains(dir.File("vocab.txt"), e1.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<ModelLoadException>(() => BertWordPieceTokenizer.FromTokenizerJson(dir.File("tokenizer.json")));
        Assert.Contains(dir.File("tokenizer.json"), e2.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello\nworld\n")]
    public void Vocab_txt_without_special_tokens_is_rejected(string content)
    {
        using var dir = new TempDir();
        string path = dir.File("vocab.txt");
        File.WriteAllText(path, content);
        var e = Assert.Throws<ModelLoadException>(() => BertWordPieceTokenizer.FromVocabTxt(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}")]
    [InlineData("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": \"x\"}}}")]
    [InlineData("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}")]
    [InlineData("{\"normalizer\": {\"type\": \"NFC\"}, \"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2}}}")]
    public void Malformed_tokenizer_json_is_a_model_load_error_naming_the_file(string content)
    {
        using var dir = new TempDir();
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, content);
        var e = Assert.Throws<ModelLoadException>(() => BertWordPieceTokenizer.FromTokenizerJson(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_minimal_tokenizer_json_loads_with_bert_defaults()
    {
        using var dir = new TempDir();
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[PAD]\": 0, \"[UNK]\": 1, \"[CLS]\": 2, \"[SEP]\": 3, \"un\": 4, \"##able\": 5, \",\": 6}}}");
        var t = BertWordPieceTokenizer.FromTokenizerJson(path);
        Assert.Equal([2, 4, 5, 6, 1, 3], t.Encode("UNable, xyz").Ids);
    }
}
