using System.CommandLine;
using System.Globalization;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings topics --store DIR [--method ..] [--k N] [--seed S] [--topics N] [--json] [--save | --no-history]</c>:
/// topics of every stored paper, ids from the topic history; <c>--save</c> records this run in it.
/// </summary>
internal static class TopicsCommand
{
    internal static Command Create(CliConsole console)
    {
        var store = CommonOptions.Store();
        var topicOptions = new TopicOptionSet();
        var json = CommonOptions.Json("Print {\"topics\": [{\"id\", \"label\", \"keywords\", \"size\", \"papers\"}], \"outliers\": [...]} instead of a table.");
        var quiet = CommonOptions.Quiet();
        var save = new Option<bool>("--save") { Description = "Record this run in the topic history (the next run compares with it). Without it the history is only read." };
        var noHistory = new Option<bool>("--no-history") { Description = "Neither read nor write the topic history (ids 0..n-1, no trends)." };
        var command = new Command("topics", "Cluster the store's papers into topics with labels and keywords; topic ids stay stable across runs (history kept in the store folder, one per clustering configuration).")
        {
            store, json, quiet, save, noHistory,
        };
        topicOptions.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(console, async ct =>
        {
            using var progress = new ConsoleProgress(console, parse.GetValue(quiet));
            await using PaperLibrary library = await PaperLibrary.OpenAsync(new PaperLibraryOptions { StoreDirectory = parse.GetValue(store)! },
                new CliLogger(console), ct).ConfigureAwait(false);
            if (parse.GetValue(save) && parse.GetValue(noHistory))
            {
                throw new UsageException("--save records the run in the topic history and --no-history ignores it: give one of them");
            }
            TopicHistoryMode history = parse.GetValue(noHistory) ? TopicHistoryMode.Ignore : parse.GetValue(save) ? TopicHistoryMode.Record : TopicHistoryMode.Compare;
            TopicModel model = await library.TopicsAsync(topicOptions.Request(parse, progress) with { History = history }, ct).ConfigureAwait(false);

            progress.Dispose();
            if (parse.GetValue(json))
            {
                console.Out.Write(LibraryJson.Topics(model) + "\n");
                return CliRunner.Ok;
            }
            string summary = string.Create(CultureInfo.InvariantCulture,
                $"{model.PaperIds.Count} papers, {model.Topics.Count} topics ({model.Method}), {model.OutlierIds.Count} outliers");
            if (console.OutputIsTerminal)
            {
                console.Out.Write(summary + "\n");
            }
            else
            {
                console.Report(summary); // piped lines stay data only
            }
            console.Out.Write(Table(model, console.OutputIsTerminal, console.Width));
            return CliRunner.Ok;
        }, cancellationToken));
        return command;
    }

    private static readonly TableColumn[] Columns =
        [new("topic", RightAligned: true), new("papers", RightAligned: true), new("share", RightAligned: true), new("label", Share: 2), new("keywords", Share: 3)];

    /// <summary>
    /// The topics as a labelled table fitted to the terminal (labels and keywords wrapped between words), or one
    /// tab-separated line per topic (id, size, share, label, keywords) when piped.
    /// </summary>
    private static string Table(TopicModel model, bool terminal, int width)
    {
        var rows = new List<string[]>(model.Topics.Count);
        foreach (Topic t in model.Topics)
        {
            string trend = t.Trend is TopicTrend.Unknown or TopicTrend.Stable ? "" : " [" + t.Trend.ToString().ToLowerInvariant() + "]";
            rows.Add([t.Id.ToString(CultureInfo.InvariantCulture), t.Size.ToString(CultureInfo.InvariantCulture),
                (t.Share * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%", t.Label + trend, string.Join(", ", t.Keywords.Select(x => x.Term))]);
        }
        return TextTable.Render(Columns, rows, terminal, width);
    }
}

/// <summary>The clustering options <c>topics</c> and <c>digest</c> share.</summary>
internal sealed class TopicOptionSet
{
    private readonly Option<string> _method;
    private readonly Option<int?> _k = new("--k") { Description = "Number of k-means clusters (default: sqrt(n/2), capped at 40)." };
    private readonly Option<int> _seed = new("--seed") { Description = "Seed; same input and seed give identical output.", DefaultValueFactory = _ => 42 };
    private readonly Option<int?> _topics = new("--topics") { Description = "Merge the most similar topics until at most N remain." };
    private readonly Option<string> _representation;
    private readonly Option<string> _label;

    public TopicOptionSet()
    {
        _label = new Option<string>("--label")
        {
            Description = "Topic labels: keywords (default: the two best c-TF-IDF keywords that share no word) or title (the title of the paper that uses most of them).",
            DefaultValueFactory = _ => "keywords",
        };
        _label.AcceptOnlyFromAmong("keywords", "title");
        _method = new Option<string>("--method")
        {
            Description = "Clustering: kmeans (default; every paper in a topic), hdbscan (finds the number of topics, reports outliers) or communities (tight groups, near-duplicates).",
            DefaultValueFactory = _ => "kmeans",
        };
        _method.AcceptOnlyFromAmong("kmeans", "hdbscan", "communities");
        _representation = new Option<string>("--representation")
        {
            Description = "Vectors to cluster: hybrid (default: neural + corpus-fitted LSA, the best on the development data, see QUALITY.md), lsa or neural.",
            DefaultValueFactory = _ => "hybrid",
        };
        _representation.AcceptOnlyFromAmong("hybrid", "lsa", "neural");
    }

    public void AddTo(Command command)
    {
        command.Add(_method);
        command.Add(_k);
        command.Add(_seed);
        command.Add(_topics);
        command.Add(_representation);
        command.Add(_label);
    }

    public TopicsRequest Request(ParseResult parse, IProgress<WorkProgress>? progress) => new()
    {
        Method = parse.GetValue(_method) switch
        {
            "hdbscan" => TopicMethod.Hdbscan,
            "communities" => TopicMethod.Communities,
            _ => TopicMethod.KMeans,
        },
        Representation = Enum.Parse<RepresentationKind>(parse.GetValue(_representation)!, ignoreCase: true),
        K = parse.GetValue(_k),
        Seed = parse.GetValue(_seed),
        MaxTopics = parse.GetValue(_topics),
        Label = parse.GetValue(_label) == "title" ? TopicLabelKind.Title : TopicLabelKind.Keywords,
        Progress = progress,
    };
}
