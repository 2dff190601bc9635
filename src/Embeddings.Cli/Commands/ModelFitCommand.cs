using System.CommandLine;
using System.Globalization;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings model fit --kind lsa --dims N -o DIR (--store DIR | --input FILES...)</c>: fits the
/// corpus-fitted encoder on a collection's papers and writes it as a model folder.
/// </summary>
internal static class ModelFitCommand
{
    internal static Command Create(CliConsole console)
    {
        var defaults = new LsaFitRequest { OutputDirectory = "" };
        var store = CommonOptions.OptionalStore("Paper store whose papers the model is fitted on.");
        var input = new Option<string[]>("--input", "-i") { Description = "Paper files (daily-papers .txt, JSONL, CSV, optionally .gz) to fit on instead of a store.", AllowMultipleArgumentsPerToken = true };
        var fromFile = new Option<string?>("--from-file") { Description = "Read the --input files from this file, one per line (or NUL-separated); `-` reads them from stdin." };
        var kind = new Option<string>("--kind") { Description = "Model kind to fit (lsa).", DefaultValueFactory = _ => "lsa" };
        kind.AcceptOnlyFromAmong("lsa");
        var dims = new Option<int>("--dims") { Description = "Output dimensions.", DefaultValueFactory = _ => defaults.Dimensions };
        var output = new Option<string>("--output", "-o") { Description = "Model folder to write.", Required = true };
        var minDf = new Option<int>("--min-df") { Description = "Minimum document frequency of a term.", DefaultValueFactory = _ => defaults.MinDocumentFrequency };
        var maxFeatures = new Option<int>("--max-features") { Description = "Vocabulary cap (most frequent terms).", DefaultValueFactory = _ => defaults.MaxFeatures };
        var bigrams = new Option<bool>("--bigrams") { Description = "Add bigram features (better topics, larger model)." };
        var stemmer = new Option<string>("--stemmer") { Description = "porter, plural or none.", DefaultValueFactory = _ => defaults.Stemmer.ToString().ToLowerInvariant() };
        stemmer.AcceptOnlyFromAmong("porter", "plural", "none");
        var seed = new Option<int>("--seed") { Description = "Seed of the randomized SVD.", DefaultValueFactory = _ => defaults.Seed };
        var quiet = CommonOptions.Quiet();
        var command = new Command("fit", "Fit a corpus-fitted encoder (LSA: TF-IDF + truncated SVD) on papers and save it as a model folder.")
        {
            store, input, fromFile, kind, dims, output, minDf, maxFeatures, bigrams, stemmer, seed, quiet,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            LsaFitSummary s = await EmbeddingModel.FitLsaAsync(new LsaFitRequest
            {
                OutputDirectory = parse.GetValue(output)!,
                StoreDirectory = parse.GetValue(store),
                InputFiles = [.. parse.GetValue(input) ?? [], .. parse.GetValue(fromFile) is { } list ? InputList.ReadList(list, console) : []],
                Dimensions = parse.GetValue(dims),
                MinDocumentFrequency = parse.GetValue(minDf),
                MaxFeatures = parse.GetValue(maxFeatures),
                Bigrams = parse.GetValue(bigrams),
                Stemmer = Enum.Parse<StemmerKind>(parse.GetValue(stemmer)!, ignoreCase: true),
                Seed = parse.GetValue(seed),
                Progress = progress,
            }, ct).ConfigureAwait(false);

            progress.Dispose();
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fitted lsa on {s.Documents} papers: {s.Dimension} dims, {s.VocabularySize} terms, {s.Seconds:F1}s"));
            console.Out.WriteLine($"model folder: {s.Directory}");
            console.Out.WriteLine($"fingerprint:  {s.Fingerprint}");
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }
}
