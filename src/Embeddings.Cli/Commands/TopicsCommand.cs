using System.CommandLine;
using System.Globalization;
using Embeddings.Store;
using Embeddings.Topics;

namespace Embeddings.Cli.Commands;

/// <summary><c>embeddings topics --store DIR [--method ..] [--k N] [--seed S] [--topics N] [--json]</c>: topics of every stored paper.</summary>
internal static class TopicsCommand
{
    internal static Command Create()
    {
        var store = TopicStoreInput.StoreOption();
        var method = TopicStoreInput.MethodOption();
        var k = TopicStoreInput.KOption();
        var seed = TopicStoreInput.SeedOption();
        var topics = TopicStoreInput.TopicsOption();
        var json = new Option<bool>("--json") { Description = "Print {\"topics\": [{\"id\", \"label\", \"keywords\", \"size\", \"papers\"}], \"outliers\": [...]} instead of a table." };
        var command = new Command("topics", "Cluster the store's papers into topics with labels and keywords; topic ids stay stable across runs (kept in the store folder).")
        {
            store, method, k, seed, topics, json,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(ct => RunAsync(
            parse.GetValue(store)!, TopicStoreInput.Options(parse.GetValue(method)!, parse.GetValue(k), parse.GetValue(seed), parse.GetValue(topics)),
            parse.GetValue(json), ct), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string storeDir, TopicOptions options, bool json, CancellationToken ct)
    {
        using var store = PaperStore.Open(storeDir);
        var papers = await TopicStoreInput.ReadAllAsync(store, ct).ConfigureAwait(false);
        var vectors = TopicStoreInput.Vectors(store, papers);
        var model = TopicPipeline.Fit(papers.Select(p => p.Paper).ToArray(), vectors, store.Dimension, options, cancellationToken: ct);
        string snapshotPath = Path.Combine(store.Directory, TopicHistory.FileName);
        var previous = TopicHistory.Load(snapshotPath);
        model = TopicHistory.Align(model, previous);
        TopicHistory.Save(snapshotPath, TopicHistory.Snapshot(model, previous));
        if (json)
        {
            Console.Out.WriteLine(TopicJson.Serialize(model));
            return CliRunner.Ok;
        }
        var inv = CultureInfo.InvariantCulture;
        Console.Out.WriteLine(string.Create(inv, $"{papers.Count} papers, {model.Topics.Count} topics ({model.Method}), {model.OutlierIds.Count} outliers"));
        foreach (var t in model.Topics)
        {
            string trend = t.Trend is TopicTrend.Unknown or TopicTrend.Stable ? "" : " [" + t.Trend.ToString().ToLowerInvariant() + "]";
            Console.Out.WriteLine(string.Create(inv, $"{t.Id,4} {t.Size,6} {t.Share * 100,5:0.0}%  {t.Label}{trend}"));
            Console.Out.WriteLine("             " + string.Join(", ", t.Keywords.Select(x => x.Term)));
        }
        return CliRunner.Ok;
    }
}
