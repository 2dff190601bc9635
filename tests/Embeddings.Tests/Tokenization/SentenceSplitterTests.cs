using Embeddings.Tests.Support;
using Embeddings.Tokenization;

namespace Embeddings.Tests.Tokenization;

public sealed class SentenceSplitterTests
{
    private static string[] Sentences(string text) =>
        [.. SentenceSplitter.Split(text).Select(r => text[r])];

    [Fact]
    public void Splits_a_real_abstract_at_sentence_ends_only()
    {
        // From the daily-papers corpus (numbers with decimals, percentages, "respectively.").
        const string text =
            "iT-S algorithms outperform the previous state-of-the-art by 9.8% and 7.7%, respectively. " +
            "Code and models are available. In some cases, the model reduces around 6.6x total training costs.";
        Assert.Equal(
            [
                "iT-S algorithms outperform the previous state-of-the-art by 9.8% and 7.7%, respectively.",
                "Code and models are available.",
                "In some cases, the model reduces around 6.6x total training costs.",
            ],
            Sentences(text));
    }

    [Theory]
    [InlineData("Interpretability methods [Simonyan et al., 2013] provide explanations. We test them.", 2)]
    [InlineData("We compare to the induction head (Olsson et al. 2022) and show gains. Next, we ablate.", 2)]
    [InlineData("This relies on in-weights vs. In-context solutions are different.", 1)]
    [InlineData("Models trained on original data (i.e. Standard models) may mislead. Results follow.", 2)]
    [InlineData("Inductive biases (e.g. Convolutional networks) matter. We study them.", 2)]
    [InlineData("As shown in Fig. 3 the loss drops. See Eq. 2 for the definition.", 2)]
    [InlineData("Work in the U.S. Army lab is cited. Nothing else.", 2)]
    [InlineData("The accuracy is 3.5 on average. 4.5 is the best.", 2)]
    [InlineData("Does it work? Yes! It does.", 3)]
    [InlineData("He said \"it works.\" Then he left.", 2)]
    [InlineData("The result holds (see the appendix.) The proof is short.", 2)]
    [InlineData("no upper case after. the period keeps one sentence.", 1)]
    [InlineData("First paragraph without a period\n\nSecond paragraph.", 2)]
    public void Counts_sentences(string text, int expected)
    {
        Assert.Equal(expected, SentenceSplitter.Split(text).Length);
    }

    [Fact]
    public void Abbreviations_do_not_end_sentences()
    {
        Assert.Equal(
            ["Results in Fig. 2 and Eq. 5 agree, cf. Sec. 4 and Tab. 1.", "Other work differs."],
            Sentences("Results in Fig. 2 and Eq. 5 agree, cf. Sec. 4 and Tab. 1. Other work differs."));
    }

    [Fact]
    public void Ranges_are_trimmed_and_cover_the_text_in_order()
    {
        const string text = "  First one.   Second one!\n Third one?  ";
        var ranges = SentenceSplitter.Split(text);
        Assert.Equal(["First one.", "Second one!", "Third one?"], ranges.Select(r => text[r]).ToArray());
        Assert.Equal(2, ranges[0].Start.Value);
    }

    [Fact]
    public void Empty_and_whitespace_text_has_no_sentences()
    {
        Assert.Empty(SentenceSplitter.Split(""));
        Assert.Empty(SentenceSplitter.Split("  \n\t "));
        Assert.Equal(["No final period"], Sentences("No final period"));
    }

    [Fact]
    public void Every_corpus_abstract_splits_into_nonempty_sentences_that_cover_its_words()
    {
        foreach (string file in Directory.GetFiles(TestPaths.DailyPapersDir, "*.txt").Order(StringComparer.Ordinal))
        {
            foreach (string paragraph in File.ReadAllText(file).Split("\n\n"))
            {
                var ranges = SentenceSplitter.Split(paragraph);
                string joined = string.Concat(ranges.Select(r => paragraph[r]));
                Assert.Equal(string.Concat(paragraph.Where(c => !char.IsWhiteSpace(c))),
                    string.Concat(joined.Where(c => !char.IsWhiteSpace(c))));
                int previousEnd = 0;
                foreach (var r in ranges)
                {
                    Assert.True(r.Start.Value >= previousEnd);
                    Assert.True(r.End.Value > r.Start.Value);
                    previousEnd = r.End.Value;
                }
            }
        }
    }

    [Fact]
    public void First_sentence_skips_abbreviations_and_collapses_spaces()
    {
        Assert.Equal("Deep nets work well.", SentenceSplitter.FirstSentence("Deep nets   work well. Then more text follows here."));
        Assert.Equal("We use e.g. graphs for this task here.", SentenceSplitter.FirstSentence("We use e.g. graphs for this task here. Next one."));
    }
}
