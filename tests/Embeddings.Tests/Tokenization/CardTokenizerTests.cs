using System.Text.Json;
using Embeddings.Tokenization;

namespace Embeddings.Tests.Tokenization;

/// <summary>
/// Differential tests that document why the tokenizer packages named on the project card are not used: on the 528
/// golden lines of tiny-bert (Hugging Face Rust tokenizer ids, bert-base-uncased vocabulary, the vocabulary of
/// all-MiniLM-L6-v2) ours matches every line (BertWordPieceTokenizerTests); these pin how many lines each package gets
/// wrong, and write the differing lines to golden-mismatches/ for reading. A package update that changes the count
/// fails here on purpose: re-measure before switching. Speed: bench `tokenizers` (BENCHMARKS.md).
/// </summary>
public sealed class CardTokenizerTests
{
    private static List<(string Id, string Text, int[] Expected)> Golden()
    {
        Dictionary<string, int[]> rust = BertWordPieceTokenizerTests.RustReference();
        var lines = new List<(string, string, int[])>();
        foreach (string line in File.ReadLines(BertWordPieceTokenizerTests.ModelFile("golden_tokens.jsonl")))
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement root = doc.RootElement;
            string id = root.GetProperty("id").GetString()!;
            int[] expected = rust.TryGetValue(id, out int[]? r) ? r : [.. root.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32())];
            lines.Add((id, root.GetProperty("text").GetString()!, expected));
        }
        return lines;
    }

    private static (int Differing, List<string> Ids) Count(Func<string, int[]> encode, string reportName)
    {
        var differing = new List<string>();
        var report = new System.Text.StringBuilder();
        foreach (var (id, text, expected) in Golden())
        {
            int[] actual = encode(text);
            if (!actual.AsSpan().SequenceEqual(expected))
            {
                differing.Add(id);
                report.AppendLine(id).Append("  text:     ").AppendLine(JsonSerializer.Serialize(text))
                    .Append("  expected: ").AppendLine(string.Join(' ', expected))
                    .Append("  package:  ").AppendLine(string.Join(' ', actual));
            }
        }
        string dir = Path.Combine(AppContext.BaseDirectory, "golden-mismatches");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, reportName + ".txt"), report.ToString());
        return (differing.Count, differing);
    }

    [Fact]
    public void Ours_matches_all_528_lines()
    {
        BertWordPieceTokenizer ours = BertWordPieceTokenizer.FromVocabTxt(BertWordPieceTokenizerTests.ModelFile("vocab.txt"));
        (int differing, _) = Count(t => [101, .. ours.EncodeToIds(t), 102], "ours-vs-golden");
        Assert.Equal(0, differing);
    }

    [Fact]
    public void Microsoft_ML_Tokenizers_BertTokenizer_differs_on_dozens_of_lines()
    {
        var card = Microsoft.ML.Tokenizers.BertTokenizer.Create(BertWordPieceTokenizerTests.ModelFile("vocab.txt"));
        (int differing, List<string> ids) = Count(t => [.. card.EncodeToIds(t)], "microsoft-ml-tokenizers-2.0.1-vs-golden");
        // Measured: 76 lines, 45 of them real abstracts of the corpus: it does not split '_' off as punctuation (C_Phi,
        // snake_case names in URLs become other pieces), and by default it keeps accents (accented words become [UNK]).
        Assert.InRange(differing, 63, 76);
        Assert.Contains(ids, id => !id.StartsWith("edge-", StringComparison.Ordinal)); // not only contrived edge cases
    }

    [Fact]
    public void FastBertTokenizer_differs_on_a_few_edge_lines()
    {
        // Loaded from tokenizer.json, so it takes the normaliser settings (lower-casing, accent stripping) from there.
        var card = new FastBertTokenizer.BertTokenizer();
        using (Stream json = File.OpenRead(BertWordPieceTokenizerTests.ModelFile("tokenizer.json")))
        {
            card.LoadTokenizerJson(json);
        }
        (int differing, List<string> ids) = Count(t =>
        {
            var (inputIds, _, _) = card.Encode(t, maximumTokens: 4096);
            return [.. inputIds.ToArray().Select(x => (int)x)];
        }, "fastberttokenizer-1.2.6-vs-golden");
        // Measured: 16 lines, every one an edge case with accented or non-Latin letters, which it maps to [UNK]
        // where BERT strips the accent (it does not take the normaliser's strip-accents step from tokenizer.json).
        Assert.Equal(16, differing);
        Assert.All(ids, id => Assert.StartsWith("edge-", id, StringComparison.Ordinal));
    }
}
