using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Embeddings.Corpus;
using Embeddings.Encoding.Lsa;
using Embeddings.Quality;
using Embeddings.Store;
using Embeddings.Tokenization;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings model fit --kind lsa --dims N -o DIR (--store DIR | --input FILES...)</c>: fits the
/// corpus-fitted encoder on a collection's papers and writes it as a model folder.
/// </summary>
internal static class ModelFitCommand
{
    internal static Command Create()
    {
        var store = new Option<string?>("--store") { Description = "Paper store whose papers the model is fitted on." };
        var input = new Option<string[]>("--input", "-i") { Description = "Paper files (daily-papers .txt, JSONL, CSV, optionally .gz) to fit on instead of a store.", AllowMultipleArgumentsPerToken = true };
        var kind = new Option<string>("--kind") { Description = "Model kind to fit (lsa).", DefaultValueFactory = _ => "lsa" };
        kind.AcceptOnlyFromAmong("lsa");
        var dims = new Option<int>("--dims") { Description = "Output dimensions.", DefaultValueFactory = _ => QualityDefaults.LsaDimensions };
        var output = new Option<string>("--output", "-o") { Description = "Model folder to write.", Required = true };
        var minDf = new Option<int>("--min-df") { Description = "Minimum document frequency of a term.", DefaultValueFactory = _ => QualityDefaults.LsaMinDocumentFrequency };
        var maxFeatures = new Option<int>("--max-features") { Description = "Vocabulary cap (most frequent terms).", DefaultValueFactory = _ => QualityDefaults.LsaMaxFeatures };
        var bigrams = new Option<bool>("--bigrams") { Description = "Add bigram features (better topics, larger model)." };
        var stemmer = new Option<string>("--stemmer") { Description = "porter, plural or none.", DefaultValueFactory = _ => QualityDefaults.Stemmer.ToString().ToLowerInvariant() };
        stemmer.AcceptOnlyFromAmong("porter", "plural", "none");
        var seed = new Option<int>("--seed") { Description = "Seed of the randomised SVD.", DefaultValueFactory = _ => 42 };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress on stderr." };
        var command = new Command("fit", "Fit a corpus-fitted encoder (LSA: TF-IDF + truncated SVD) on papers and save it as a model folder.")
        {
            store, input, kind, dims, output, minDf, maxFeatures, bigrams, stemmer, seed, quiet,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(async ct =>
        {
            string[] files = parse.GetValue(input) ?? [];
            string? storeDir = parse.GetValue(store);
            if ((storeDir is null) == (files.Length == 0))
            {
                Console.Error.WriteLine("embeddings: give either --store DIR or --input FILES");
                return CliRunner.BadInput;
            }
            var clock = Stopwatch.StartNew();
            using var progress = new ConsoleProgress(parse.GetValue(quiet));
            List<string> texts = storeDir is not null
                ? await PaperSources.ReadStoreTextsAsync(storeDir, ct).ConfigureAwait(false)
                : await PaperSources.ReadFileTextsAsync(files, ct).ConfigureAwait(false);
            var options = new LsaOptions
            {
                Dimensions = parse.GetValue(dims),
                MinDocumentFrequency = parse.GetValue(minDf),
                MaxFeatures = parse.GetValue(maxFeatures),
                Seed = parse.GetValue(seed),
                Analyzer = new TextAnalyzerOptions
                {
                    Bigrams = parse.GetValue(bigrams),
                    Stemmer = Enum.Parse<StemmerKind>(parse.GetValue(stemmer)!, ignoreCase: true),
                },
            };
            using LsaEncoder model = LsaEncoder.Fit(texts, options, progress, ct);
            string dir = parse.GetValue(output)!;
            model.Save(dir);
            progress.Dispose();
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fitted lsa on {model.FittedDocuments} papers: {model.Dimension} dims, {model.VocabularySize} terms, {clock.Elapsed.TotalSeconds:F1}s"));
            Console.Out.WriteLine($"model folder: {Path.GetFullPath(dir)}");
            Console.Out.WriteLine($"fingerprint:  {model.Fingerprint}");
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }
}

/// <summary>Reads the texts (title + abstract) of papers to fit on.</summary>
internal static class PaperSources
{
    public static async Task<List<string>> ReadFileTextsAsync(IReadOnlyList<string> files, CancellationToken ct)
    {
        var texts = new List<string>();
        await foreach (SourcedPaper p in PaperReader.ReadAllAsync(files, null, ct).ConfigureAwait(false))
        {
            texts.Add(p.Paper.EmbeddingText);
        }
        return texts;
    }

    public static async Task<List<string>> ReadStoreTextsAsync(string storeDir, CancellationToken ct)
    {
        var texts = new List<string>();
        using PaperStore store = PaperStore.Open(storeDir);
        await foreach (StoredPaper p in store.ReadPapersAsync(ct).ConfigureAwait(false))
        {
            texts.Add(p.Paper.EmbeddingText);
        }
        return texts;
    }
}
