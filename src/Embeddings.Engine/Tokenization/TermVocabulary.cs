namespace Embeddings.Tokenization;

/// <summary>
/// Dense term ids (0, 1, 2, ...) for analysed terms. Lookups take spans, so the analyzer finds the id of
/// a token without making a string for it; a string is made only the first time a term is added.
/// Reads are thread-safe when nobody adds; adding is single-writer.
/// </summary>
internal sealed class TermVocabulary
{
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanIds;
    private readonly List<string> _terms;

    /// <summary>Creates an empty vocabulary.</summary>
    public TermVocabulary() : this([])
    {
    }

    /// <summary>Creates a vocabulary whose term i is <paramref name="terms"/>[i]; terms must be distinct.</summary>
    public TermVocabulary(IEnumerable<string> terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        _spanIds = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        _terms = [];
        foreach (string term in terms)
        {
            if (!_ids.TryAdd(term, _terms.Count))
            {
                throw new ArgumentException($"term '{term}' appears twice", nameof(terms));
            }
            _terms.Add(term);
        }
    }

    /// <summary>Number of terms.</summary>
    public int Count => _terms.Count;

    /// <summary>The terms in id order.</summary>
    public IReadOnlyList<string> Terms => _terms;

    /// <summary>The term with id <paramref name="id"/>.</summary>
    public string this[int id] => _terms[id];

    /// <summary>The id of <paramref name="term"/>, or -1 when it is not in the vocabulary.</summary>
    public int IdOf(ReadOnlySpan<char> term) => _spanIds.TryGetValue(term, out int id) ? id : -1;

    /// <summary>The id of <paramref name="term"/>, adding it when new.</summary>
    public int GetOrAdd(ReadOnlySpan<char> term)
    {
        if (_spanIds.TryGetValue(term, out int id))
        {
            return id;
        }
        id = _terms.Count;
        string text = term.ToString();
        _ids.Add(text, id);
        _terms.Add(text);
        return id;
    }
}
