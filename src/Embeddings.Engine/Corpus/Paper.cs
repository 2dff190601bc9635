namespace Embeddings.Corpus;

/// <summary>One paper as read from a dump: identity, text and optional metadata.</summary>
/// <param name="Id">The input's id, or an id derived from the normalised title when the input has none.</param>
/// <param name="Title">The title; may be empty for id+text inputs.</param>
/// <param name="Abstract">The abstract (or the whole text for id+text inputs).</param>
/// <param name="Authors">Author names, when the input lists them.</param>
/// <param name="Date">
/// The paper's date, validated on input: ISO 8601 at the precision the input gave ("2024-03-14", "2024-03" or "2024");
/// null when the input had none or gave no year (see <paramref name="DateText"/>). Never a guess.
/// </param>
/// <param name="Categories">Subject categories, when the input has them.</param>
/// <param name="AuthorCount">
/// Number of authors when the input states it without naming them (the daily-papers pages say "• 4 authors");
/// null when unknown. When <paramref name="Authors"/> is given, its length is the count.
/// </param>
/// <param name="Url">
/// A link to the paper: the input's <c>url</c>, else the arXiv abstract page of its arXiv id (derived here when none is
/// given, so papers made in code link as papers read from a dump do); null when neither.
/// </param>
/// <param name="DateText">
/// The input's wording of a date that is not one: a month and day without a year ("Mar 14", as the daily-papers pages
/// list them). Shown as written, never compared as a date; null when <paramref name="Date"/> holds the date.
/// </param>
internal sealed record Paper(
    string Id,
    string Title,
    string Abstract,
    IReadOnlyList<string>? Authors = null,
    string? Date = null,
    IReadOnlyList<string>? Categories = null,
    int? AuthorCount = null,
    string? Url = null,
    string? DateText = null)
{
    /// <summary>A link to the paper: the one given, else the arXiv abstract page of an arXiv id; null when neither.</summary>
    public string? Url { get; init; } = Url ?? PaperMetadata.ArxivAbsUrl(Id);

    /// <summary>
    /// The text that is embedded for the paper: title and abstract, separated so that sentence
    /// splitting sees the title as a sentence of its own.
    /// </summary>
    public string EmbeddingText =>
        Title.Length == 0 ? Abstract : Abstract.Length == 0 ? Title : Title + ".\n" + Abstract;
}

/// <summary>A paper with where it came from, so errors and reports can name the place.</summary>
/// <param name="Paper">The paper.</param>
/// <param name="File">The input file.</param>
/// <param name="Line">The 1-based line where the record starts.</param>
internal readonly record struct SourcedPaper(Paper Paper, string File, long Line);
