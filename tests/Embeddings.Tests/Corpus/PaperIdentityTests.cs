using Embeddings.Corpus;
using Embeddings.Tokenization;

namespace Embeddings.Tests.Corpus;

public sealed class PaperIdentityTests
{
    [Fact]
    public void Titles_equal_under_compatibility_normalisation_get_one_id()
    {
        // string.Normalize does nothing under InvariantGlobalization; the project's own NFKC must do the folding.
        Assert.Equal("fine Full e\u0301".Length - 1, UnicodeNormalizer.ToNfkc("\uFB01ne \uFF26\uFF55\uFF4C\uFF4C e\u0301").Length);
        Assert.Equal("fine Full \u00E9", UnicodeNormalizer.ToNfkc("\uFB01ne \uFF26\uFF55\uFF4C\uFF4C e\u0301"));
        Assert.Equal(PaperIdentity.IdFromTitle("Fine-tuning Ｌａｒｇｅ models"), PaperIdentity.IdFromTitle("\uFB01ne tuning large Models."));
        Assert.Equal("caf\u00E9 au lait", PaperIdentity.NormalizeTitle("Cafe\u0301  au LAIT!"));
    }
}
