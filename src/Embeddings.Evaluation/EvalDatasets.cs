using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Embeddings.Evaluation;

/// <summary>A sentence pair with a gold similarity score.</summary>
/// <param name="A">First sentence.</param>
/// <param name="B">Second sentence.</param>
/// <param name="Score">Gold similarity (STS-B 0-5, SICK 1-5).</param>
internal readonly record struct StsPair(string A, string B, double Score);

/// <summary>An STS set: a name (file name) and its pairs.</summary>
/// <param name="Name">Display name.</param>
/// <param name="Pairs">The pairs.</param>
internal sealed record StsDataset(string Name, IReadOnlyList<StsPair> Pairs);

/// <summary>A document of a retrieval corpus.</summary>
/// <param name="Id">Document id.</param>
/// <param name="Title">Title (may be empty).</param>
/// <param name="Text">Body text.</param>
internal sealed record RetrievalDocument(string Id, string Title, string Text)
{
    /// <summary>Title and text as one string, the way papers are embedded.</summary>
    public string FullText => Title.Length == 0 ? Text : Text.Length == 0 ? Title : Title + ".\n" + Text;
}

/// <summary>A retrieval set in the BEIR layout, restricted to the queries that have judgements.</summary>
/// <param name="Name">Display name (folder name and split).</param>
/// <param name="Corpus">The documents.</param>
/// <param name="Queries">Query id to text.</param>
/// <param name="Judgements">Query id to (document id to grade).</param>
internal sealed record RetrievalDataset(
    string Name,
    IReadOnlyList<RetrievalDocument> Corpus,
    IReadOnlyDictionary<string, string> Queries,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Judgements);

/// <summary>A labelled document for clustering evaluation.</summary>
/// <param name="Id">Document id.</param>
/// <param name="Text">Title and abstract.</param>
/// <param name="Label">Gold class.</param>
internal readonly record struct LabelledText(string Id, string Text, string Label);

/// <summary>A clustering set: documents with gold labels.</summary>
/// <param name="Name">Display name.</param>
/// <param name="Items">The documents.</param>
internal sealed record ClusteringDataset(string Name, IReadOnlyList<LabelledText> Items)
{
    /// <summary>Number of distinct gold labels.</summary>
    public int LabelCount => Items.Select(i => i.Label).Distinct(StringComparer.Ordinal).Count();
}

/// <summary>Loaders for the standard public layouts of evaluation data.</summary>
internal static class EvalDatasets
{
    /// <summary>
    /// Loads STS pairs. Recognises the STS Benchmark layout (TAB-separated, no header: genre, file, year,
    /// id, score, sentence1, sentence2[, ...]) and headed TAB files such as SICK (pair_ID, sentence_A,
    /// sentence_B, relatedness_score, ...) or any header naming sentence1/sentence2/score columns.
    /// </summary>
    public static StsDataset LoadSts(string path)
    {
        string[] lines = File.ReadAllLines(path, System.Text.Encoding.UTF8);
        var pairs = new List<StsPair>();
        if (lines.Length == 0)
        {
            throw new InputFormatException(path, 1, null, "empty STS file");
        }
        string[] header = lines[0].Split('\t');
        int a = FindColumn(header, "sentence_a", "sentence1", "s1", "text1");
        int b = FindColumn(header, "sentence_b", "sentence2", "s2", "text2");
        int s = FindColumn(header, "relatedness_score", "score", "similarity", "gold");
        bool headed = a >= 0 && b >= 0 && s >= 0;
        if (!headed)
        {
            (a, b, s) = (5, 6, 4);
        }
        for (int i = headed ? 1 : 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.Length == 0)
            {
                continue;
            }
            string[] f = line.Split('\t');
            if (f.Length <= Math.Max(a, Math.Max(b, s)))
            {
                throw new InputFormatException(path, i + 1, null,
                    $"expected at least {Math.Max(a, Math.Max(b, s)) + 1} TAB-separated fields, found {f.Length} (STS-B: genre, file, year, id, score, sentence1, sentence2; or a header naming sentence_A/sentence_B/score)");
            }
            if (!double.TryParse(f[s], NumberStyles.Float, CultureInfo.InvariantCulture, out double score))
            {
                throw new InputFormatException(path, i + 1, headed ? header[s] : "score", $"'{f[s]}' is not a number");
            }
            pairs.Add(new StsPair(f[a], f[b], score));
        }
        return new StsDataset(Path.GetFileNameWithoutExtension(path), pairs);
    }

    /// <summary>
    /// Loads a BEIR-layout folder: corpus.jsonl[.gz] ({"_id","title","text"}), queries.jsonl or
    /// queries_SPLIT.jsonl ({"_id","text"}), and qrels/SPLIT.tsv or qrels_SPLIT.tsv (query-id, corpus-id,
    /// score, with a header). With <paramref name="split"/> null, the only split present is used (or "test").
    /// </summary>
    public static RetrievalDataset LoadBeir(string directory, string? split = null)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"retrieval folder not found: {directory}");
        }
        split ??= FindSplit(directory);
        string qrelsPath = FirstExisting(directory, $"qrels/{split}.tsv", $"qrels_{split}.tsv")
            ?? throw new FileNotFoundException($"no qrels for split '{split}' in {directory} (expected qrels/{split}.tsv or qrels_{split}.tsv)");
        string queriesPath = FirstExisting(directory, $"queries_{split}.jsonl", "queries.jsonl", $"queries_{split}.jsonl.gz", "queries.jsonl.gz")
            ?? throw new FileNotFoundException($"no queries in {directory} (expected queries.jsonl or queries_{split}.jsonl)");
        string corpusPath = FirstExisting(directory, "corpus.jsonl", "corpus.jsonl.gz")
            ?? throw new FileNotFoundException($"no corpus in {directory} (expected corpus.jsonl or corpus.jsonl.gz)");

        var judgements = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (string line in File.ReadLines(qrelsPath))
        {
            lineNo++;
            if (line.Length == 0)
            {
                continue;
            }
            string[] f = line.Split('\t');
            if (f.Length < 3)
            {
                throw new InputFormatException(qrelsPath, lineNo, null, "expected query-id, corpus-id, score separated by TABs");
            }
            if (!int.TryParse(f[^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int grade))
            {
                if (lineNo == 1)
                {
                    continue; // header
                }
                throw new InputFormatException(qrelsPath, lineNo, "score", $"'{f[^1]}' is not an integer");
            }
            string q = f[0];
            string d = f.Length >= 4 ? f[2] : f[1]; // TREC layout: qid, 0, docid, grade
            if (!judgements.TryGetValue(q, out var map))
            {
                judgements[q] = map = new Dictionary<string, int>(StringComparer.Ordinal);
            }
            map[d] = grade;
        }

        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (obj, line) in ReadJsonLines(queriesPath))
        {
            string id = RequireString(obj, "_id", queriesPath, line);
            if (judgements.ContainsKey(id))
            {
                queries[id] = RequireString(obj, "text", queriesPath, line);
            }
        }
        var corpus = new List<RetrievalDocument>();
        foreach (var (obj, line) in ReadJsonLines(corpusPath))
        {
            string id = RequireString(obj, "_id", corpusPath, line);
            string title = obj.TryGetProperty("title", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
            corpus.Add(new RetrievalDocument(id, title, RequireString(obj, "text", corpusPath, line)));
        }
        var finalJudgements = new Dictionary<string, IReadOnlyDictionary<string, int>>(StringComparer.Ordinal);
        foreach (var (q, map) in judgements)
        {
            if (queries.ContainsKey(q))
            {
                finalJudgements[q] = map;
            }
        }
        return new RetrievalDataset($"{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)))}/{split}",
            corpus, queries, finalJudgements);
    }

    /// <summary>
    /// Loads labelled documents from a CSV with a header (RFC 4180 quoting, fields may span lines). The
    /// text is the title and abstract/text columns; the label is the label/category column or, as in
    /// the arXiv scrape, the first element of a Python-list "tags" column ("['math.ST', 'stat.ML']").
    /// </summary>
    public static ClusteringDataset LoadClustering(string path)
    {
        using var reader = new StreamReader(path, System.Text.Encoding.UTF8);
        var csv = new CsvRecordReader(reader);
        if (!csv.TryRead(out List<string>? header, out _))
        {
            throw new InputFormatException(path, 1, null, "empty clustering file");
        }
        string[] h = [.. header];
        int id = FindColumn(h, "id", "index", "paper_id");
        int title = FindColumn(h, "title");
        int text = FindColumn(h, "abstract", "text", "summary");
        int label = FindColumn(h, "label", "category", "primary_category", "tags", "categories");
        if (text < 0 && title < 0 || label < 0)
        {
            throw new InputFormatException(path, 1, null,
                "header must name a text column (title, abstract/text) and a label column (label, category or tags)");
        }
        var items = new List<LabelledText>();
        while (csv.TryRead(out List<string>? row, out long line))
        {
            if (row.Count == 1 && row[0].Length == 0)
            {
                continue;
            }
            if (row.Count < h.Length)
            {
                throw new InputFormatException(path, line, null, $"expected {h.Length} fields, found {row.Count}");
            }
            string t = title >= 0 ? row[title].Trim() : "";
            string body = text >= 0 ? row[text].Trim() : "";
            string full = t.Length == 0 ? body : body.Length == 0 ? t : t + ".\n" + body;
            string l = FirstTag(row[label]);
            if (l.Length == 0)
            {
                throw new InputFormatException(path, line, h[label], "empty label");
            }
            items.Add(new LabelledText(id >= 0 ? row[id] : items.Count.ToString(CultureInfo.InvariantCulture), full, l));
        }
        return new ClusteringDataset(Path.GetFileNameWithoutExtension(path), items);
    }

    private static string FirstTag(string value)
    {
        string v = value.Trim();
        if (v.StartsWith('['))
        {
            v = v.Trim('[', ']');
            int comma = v.IndexOf(',', StringComparison.Ordinal);
            if (comma >= 0)
            {
                v = v[..comma];
            }
            v = v.Trim().Trim('\'', '"').Trim();
        }
        return v;
    }

    private static string FindSplit(string directory)
    {
        foreach (string split in new[] { "test", "dev", "train" })
        {
            if (FirstExisting(directory, $"qrels/{split}.tsv", $"qrels_{split}.tsv") is not null)
            {
                return split;
            }
        }
        throw new FileNotFoundException($"no qrels in {directory} (expected qrels/test.tsv or qrels_SPLIT.tsv)");
    }

    private static string? FirstExisting(string directory, params string[] names)
    {
        foreach (string name in names)
        {
            string p = Path.Combine(directory, name);
            if (File.Exists(p))
            {
                return p;
            }
        }
        return null;
    }

    private static int FindColumn(string[] header, params string[] names)
    {
        foreach (string name in names)
        {
            for (int i = 0; i < header.Length; i++)
            {
                if (string.Equals(header[i].Trim(), name, StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }
        }
        return -1;
    }

    private static string RequireString(JsonElement obj, string name, string path, long line) =>
        obj.TryGetProperty(name, out JsonElement v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Number
            ? (v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText())
            : throw new InputFormatException(path, line, name, "missing or not a string");

    private static IEnumerable<(JsonElement Value, long Line)> ReadJsonLines(string path)
    {
        using Stream file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        long line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0)
            {
                continue;
            }
            JsonElement value;
            try
            {
                using var doc = JsonDocument.Parse(text);
                value = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new InputFormatException(path, line, null, "not valid JSON: " + e.Message);
            }
            yield return (value, line);
        }
    }

    /// <summary>Minimal RFC 4180 reader: quoted fields with doubled quotes and embedded newlines.</summary>
    private sealed class CsvRecordReader(TextReader reader)
    {
        private long _line = 1;

        public bool TryRead([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out List<string>? fields, out long startLine)
        {
            startLine = _line;
            int c = reader.Peek();
            if (c < 0)
            {
                fields = null;
                return false;
            }
            fields = [];
            var field = new StringBuilder();
            bool quoted = false;
            while (true)
            {
                c = reader.Read();
                if (c < 0)
                {
                    fields.Add(field.ToString());
                    return true;
                }
                char ch = (char)c;
                if (quoted)
                {
                    if (ch == '"')
                    {
                        if (reader.Peek() == '"')
                        {
                            reader.Read();
                            field.Append('"');
                        }
                        else
                        {
                            quoted = false;
                        }
                    }
                    else
                    {
                        if (ch == '\n')
                        {
                            _line++;
                        }
                        field.Append(ch);
                    }
                }
                else if (ch == '"' && field.Length == 0)
                {
                    quoted = true;
                }
                else if (ch == ',')
                {
                    fields.Add(field.ToString());
                    field.Clear();
                }
                else if (ch == '\n')
                {
                    _line++;
                    fields.Add(field.ToString());
                    return true;
                }
                else if (ch != '\r')
                {
                    field.Append(ch);
                }
            }
        }
    }
}
