using Embeddings.Tokenization;

namespace Embeddings.Tests.Tokenization;

/// <summary>UAX #15 examples; the engine runs without ICU, so the tokenizers carry their own NFD/NFKC.</summary>
public sealed class UnicodeNormalizerTests
{
    private static string Normalize(string text, bool compose, bool compatibility)
    {
        var buffer = new PooledBuffer<int>(8);
        try
        {
            foreach (var rune in text.EnumerateRunes())
            {
                UnicodeNormalizer.AppendDecomposed(rune.Value, compatibility, ref buffer);
            }
            int length = compose ? UnicodeNormalizer.Compose(buffer.Span) : buffer.Count;
            return string.Concat(buffer.Span[..length].ToArray().Select(char.ConvertFromUtf32));
        }
        finally
        {
            buffer.Dispose();
        }
    }

    [Theory]
    [InlineData("\u1E9B\u0323", "\u1E69")]            // long s with dot above + dot below (UAX #15 figure 6)
    [InlineData("\uFB01ne", "fine")]                  // ligature
    [InlineData("\uFF21\uFF22\uFF23", "ABC")]         // full-width
    [InlineData("e\u0301", "\u00E9")]                 // composition
    [InlineData("\u1100\u1161\u11A8", "\uAC01")]      // Hangul L V T
    [InlineData("a\u0328\u0301", "\u0105\u0301")]     // ogonek composes first, acute stays
    [InlineData("x\u00B2", "x2")]                     // superscript
    [InlineData("\u2460", "1")]                       // circled digit
    public void Nfkc(string input, string expected) => Assert.Equal(expected, Normalize(input, compose: true, compatibility: true));

    [Theory]
    [InlineData("\u00E9", "e\u0301")]
    [InlineData("\uAC01", "\u1100\u1161\u11A8")]
    [InlineData("a\u0301\u0323", "a\u0323\u0301")]    // canonical ordering: dot below (220) before acute (230)
    [InlineData("\uFB01", "\uFB01")]                  // NFD keeps compatibility characters
    [InlineData("\u212B", "A\u030A")]                 // angstrom sign: singleton
    public void Nfd(string input, string expected) => Assert.Equal(expected, Normalize(input, compose: false, compatibility: false));
}
