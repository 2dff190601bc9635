using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Embeddings.Evaluation;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings eval</c>: runs STS, retrieval and clustering evaluations on data in the standard public
/// layouts and prints one table with configurations as rows.
/// </summary>
internal static class EvalCommand
{
    internal static Command Create(CliConsole console)
    {
        var defaults = new EvalRequest();
        var sts = new Option<string[]>("--sts") { Description = "STS pair file(s): STS-B csv (TAB, no header) or headed TAB files such as SICK.", AllowMultipleArgumentsPerToken = true };
        var retrieval = new Option<string[]>("--retrieval") { Description = "BEIR-layout folder(s): corpus.jsonl[.gz], queries.jsonl, qrels.", AllowMultipleArgumentsPerToken = true };
        var clustering = new Option<string[]>("--clustering") { Description = "Labelled CSV file(s) (title, abstract/text, label/category/tags).", AllowMultipleArgumentsPerToken = true };
        var likes = new Option<string[]>("--likes") { Description = "Labelled CSV file(s) for the like/unlike task: 5 liked papers of one label, 5 unliked of others, precision@10 of the liked label per like ranking.", AllowMultipleArgumentsPerToken = true };
        var likesDraws = new Option<int>("--likes-draws") { Description = "Draws (fixed seeds) of the like/unlike task.", DefaultValueFactory = _ => defaults.LikesDraws };
        var dev = new Option<bool>("--dev") { Description = "Evaluate every development set in ../shared/eval-dev (STS-B train+dev, SICK train, SciFact train, arXiv math)." };
        var model = CommonOptions.Model("Neural model folder (any kind, including lsa). Default: the default model when available.");
        var lsaDims = new Option<int>("--lsa-dims") { Description = "LSA dimensions for STS and retrieval.", DefaultValueFactory = _ => defaults.LsaDimensions };
        var clusterDims = new Option<int>("--clustering-lsa-dims") { Description = "LSA dimensions for clustering.", DefaultValueFactory = _ => defaults.ClusteringLsaDimensions };
        var mode = new Option<string>("--mode") { Description = "all (neural, LSA, BM25, hybrids, fusions) or lexical (no neural model).", DefaultValueFactory = _ => "all" };
        mode.AcceptOnlyFromAmong("all", "lexical");
        var split = new Option<string?>("--split") { Description = "BEIR split (test, dev, train). Default: the one present." };
        var stemmer = new Option<string>("--stemmer") { Description = "Stemmer of BM25 and LSA: porter, plural or none.", DefaultValueFactory = _ => defaults.Stemmer.ToString().ToLowerInvariant() };
        stemmer.AcceptOnlyFromAmong("porter", "plural", "none");
        var k1 = new Option<float>("--k1") { Description = "BM25 k1.", DefaultValueFactory = _ => defaults.K1 };
        var b = new Option<float>("--b") { Description = "BM25 b.", DefaultValueFactory = _ => defaults.B };
        var hybrid = new Option<float[]>("--hybrid-weights") { Description = "Neural weights a of the concatenated hybrids.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [.. defaults.HybridWeights] };
        var fusion = new Option<float[]>("--fusion-weights") { Description = "Vector weights of the BM25 + vector fusions.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [.. defaults.FusionWeights] };
        var seeds = new Option<int>("--seeds") { Description = "k-means seeds per clustering configuration.", DefaultValueFactory = _ => defaults.ClusteringSeeds };
        var clusterer = new Option<string>("--clusterer") { Description = "kmeans: the k-means of the topics pipeline (topics-kmeans is the same, kept for scripts); topics-hdbscan or topics-communities: the pipeline's other clusterers with their own cluster counts (outliers count as one cluster).", DefaultValueFactory = _ => defaults.Clusterer };
        clusterer.AcceptOnlyFromAmong("kmeans", "topics-kmeans", "topics-hdbscan", "topics-communities");
        var kChoice = new Option<string>("--k") { Description = "With kmeans: gold (the number of labels, default), or how topics choose k themselves: rule (sqrt(n/2)), silhouette, elbow.", DefaultValueFactory = _ => defaults.KSelection };
        kChoice.AcceptOnlyFromAmong("gold", "rule", "silhouette", "elbow");
        var noPrompt = new Option<bool>("--no-query-prompt") { Description = "Embed retrieval queries without the model's query prompt (for models that have one, e.g. arctic-embed-xs)." };
        var noWindowing = new Option<bool>("--no-windowing") { Description = "Embed long texts cut to the model's token limit instead of sentence windows." };
        var cache = new Option<string?>("--cache") { Description = "Folder caching neural vectors between runs. Default: artifacts/eval-cache in the repository, else none." };
        var json = CommonOptions.Json("Print the results as JSON instead of a table.");
        var quiet = CommonOptions.Quiet();
        var command = new Command("eval", "Evaluate models and rankings on STS, retrieval (BEIR) and clustering sets; prints a table of configurations.")
        {
            sts, retrieval, clustering, likes, likesDraws, dev, model, lsaDims, clusterDims, mode, split, stemmer, k1, b, hybrid, fusion, seeds, clusterer, kChoice, noWindowing, noPrompt, cache, json, quiet,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            var stsFiles = (parse.GetValue(sts) ?? []).ToList();
            var retrievalDirs = (parse.GetValue(retrieval) ?? []).ToList();
            var clusteringFiles = (parse.GetValue(clustering) ?? []).ToList();
            var likesFiles = (parse.GetValue(likes) ?? []).ToList();
            if (parse.GetValue(dev))
            {
                string root = EvalPaths.DevDirectory();
                stsFiles.AddRange([Path.Combine(root, "stsb", "sts-train.csv"), Path.Combine(root, "stsb", "sts-dev.csv"), Path.Combine(root, "sick", "SICK_train.txt")]);
                retrievalDirs.Add(Path.Combine(root, "scifact"));
                clusteringFiles.Add(Path.Combine(root, "arxiv_math_2025", "arxiv_data.csv"));
            }
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            IReadOnlyList<EvalResult> results = await QualityEvaluation.RunAsync(new EvalRequest
            {
                StsFiles = stsFiles,
                RetrievalDirectories = retrievalDirs,
                ClusteringFiles = clusteringFiles,
                LikesFiles = likesFiles,
                LikesDraws = parse.GetValue(likesDraws),
                ModelDirectory = parse.GetValue(model),
                LexicalOnly = parse.GetValue(mode) == "lexical",
                Split = parse.GetValue(split),
                LsaDimensions = parse.GetValue(lsaDims),
                ClusteringLsaDimensions = parse.GetValue(clusterDims),
                Stemmer = Enum.Parse<StemmerKind>(parse.GetValue(stemmer)!, ignoreCase: true),
                K1 = parse.GetValue(k1),
                B = parse.GetValue(b),
                HybridWeights = parse.GetValue(hybrid)!,
                FusionWeights = parse.GetValue(fusion)!,
                ClusteringSeeds = parse.GetValue(seeds),
                Clusterer = parse.GetValue(clusterer)!,
                KSelection = parse.GetValue(kChoice)!,
                QueryPrompts = !parse.GetValue(noPrompt),
                Windowing = parse.GetValue(noWindowing) ? false : null,
                CacheDirectory = parse.GetValue(cache) ?? EvalPaths.DefaultCache(),
                Progress = progress,
                OnWarning = console.Report,
            }, ct).ConfigureAwait(false);

            progress.Dispose();
            if (parse.GetValue(json))
            {
                console.Out.WriteLine(JsonSerializer.Serialize(results.Select(r => new
                {
                    dataset = r.Dataset, task = r.Task, configuration = r.Configuration, metric = r.Metric, value = double.IsFinite(r.Value) ? r.Value : (double?)null, is_default = r.IsDefault,
                }), new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                console.Out.Write(EvalTable.Format(results));
            }
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }
}

/// <summary>Formats eval results as a plain table: configurations as rows, data set metrics as columns (x100).</summary>
internal static class EvalTable
{
    private static readonly Dictionary<string, string[]> MainMetrics = new(StringComparer.Ordinal)
    {
        ["sts"] = ["spearman"],
        ["retrieval"] = ["ndcg@10", "recall@100", "mrr@10"],
        ["clustering"] = ["v-measure", "v-measure-sd", "ari"],
        ["likes"] = ["precision@10", "precision@10-sd", "precision@10-min", "vs-rocchio", "vs-rocchio-se"],
    };

    public static string Format(IReadOnlyList<EvalResult> results)
    {
        var columns = new List<(string Dataset, string Task, string Metric)>();
        foreach (EvalResult r in results)
        {
            if (MainMetrics.TryGetValue(r.Task, out string[]? metrics) && metrics.Contains(r.Metric) && !columns.Contains((r.Dataset, r.Task, r.Metric)))
            {
                columns.Add((r.Dataset, r.Task, r.Metric));
            }
        }
        var rows = results.Select(r => r.Configuration).Distinct(StringComparer.Ordinal).ToList();
        var cells = new Dictionary<(string, string, string), EvalResult>();
        foreach (EvalResult r in results)
        {
            cells[(r.Configuration, r.Dataset, r.Metric)] = r;
        }
        var header = new List<string> { "configuration" };
        header.AddRange(columns.Select(c => $"{c.Dataset} {c.Metric}"));
        var table = new List<List<string>> { header };
        foreach (string row in rows)
        {
            var line = new List<string> { row };
            foreach (var c in columns)
            {
                line.Add(cells.TryGetValue((row, c.Dataset, c.Metric), out EvalResult? r)
                    ? (r.Value * 100).ToString("F1", CultureInfo.InvariantCulture) + (r.IsDefault ? "*" : " ")
                    : "- ");
            }
            table.Add(line);
        }
        int[] widths = Enumerable.Range(0, header.Count).Select(i => table.Max(l => l[i].Length)).ToArray();
        var sb = new System.Text.StringBuilder();
        foreach (var line in table)
        {
            for (int i = 0; i < line.Count; i++)
            {
                sb.Append(i == 0 ? line[i].PadRight(widths[i]) : "  " + line[i].PadLeft(widths[i]));
            }
            sb.Append('\n');
        }
        sb.Append("(figures x100; * = the engine's default for that task)\n");
        return sb.ToString();
    }
}

/// <summary>Where the development data and the vector cache are.</summary>
internal static class EvalPaths
{
    public static string? RepoRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Embeddings.sln")))
                {
                    return dir.FullName;
                }
            }
        }
        return null;
    }

    public static string DevDirectory()
    {
        string? shared = Environment.GetEnvironmentVariable("EMBEDDINGS_SHARED_DIR") is { Length: > 0 } s ? s
            : RepoRoot() is { } root ? Path.Combine(root, "..", "shared") : null;
        string dir = shared is null ? "" : Path.GetFullPath(Path.Combine(shared, "eval-dev"));
        if (shared is null || !Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException("development data not found: expected ../shared/eval-dev beside the repository (or set EMBEDDINGS_SHARED_DIR)");
        }
        return dir;
    }

    public static string? DefaultCache() => RepoRoot() is { } root ? Path.Combine(root, "artifacts", "eval-cache") : null;
}
