using System.CommandLine;
using Embeddings.Digests;
using Embeddings.IO;
using Embeddings.Store;
using Embeddings.Topics;

namespace Embeddings.Cli.Commands;

/// <summary>
/// <c>embeddings digest --store DIR [--since DATE | --dump FILE] [--topics N] [--format md|html|json] -o OUT</c>:
/// the topics of the selected papers as a readable digest.
/// </summary>
internal static class DigestCommand
{
    /// <summary>The digest's own topic history (kept apart from <c>topics</c>, which covers the whole store).</summary>
    internal const string SnapshotFileName = "digest-topics.snapshot";

    internal static Command Create()
    {
        var store = TopicStoreInput.StoreOption();
        var since = new Option<string?>("--since") { Description = "Only papers dated (or first stored) on or after this date (ISO 8601)." };
        var dump = new Option<string?>("--dump") { Description = "Only papers read from this dump file (as ingested)." };
        var topics = TopicStoreInput.TopicsOption();
        var format = new Option<string>("--format") { Description = "md, html (self-contained page with a map) or json. Default: from the output's extension, else md." };
        format.AcceptOnlyFromAmong("md", "html", "json");
        var output = new Option<string>("--output", "-o") { Description = "Output file.", Required = true };
        var method = TopicStoreInput.MethodOption();
        var k = TopicStoreInput.KOption();
        var seed = TopicStoreInput.SeedOption();
        var representation = TopicStoreInput.RepresentationOption();
        var command = new Command("digest", "Write a topic digest of recent papers: labels, keywords, sizes, top papers, new/growing topics, similar earlier papers, a map.")
        {
            store, since, dump, topics, format, output, method, k, seed, representation,
        };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(ct => RunAsync(
            parse.GetValue(store)!, parse.GetValue(since), parse.GetValue(dump), parse.GetValue(format), parse.GetValue(output)!,
            TopicStoreInput.Options(parse.GetValue(method)!, parse.GetValue(k), parse.GetValue(seed), parse.GetValue(topics)),
            parse.GetValue(representation)!, ct), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string storeDir, string? since, string? dump, string? formatName, string output, TopicOptions options,
        string representation, CancellationToken ct)
    {
        if (since is not null && dump is not null)
        {
            Console.Error.WriteLine("embeddings: give --since or --dump, not both");
            return CliRunner.BadInput;
        }
        var format = formatName is not null ? DigestRenderer.ParseFormat(formatName)
            : Path.GetExtension(output).ToLowerInvariant() switch { ".html" or ".htm" => DigestFormat.Html, ".json" => DigestFormat.Json, _ => DigestFormat.Markdown };
        using var store = PaperStore.Open(storeDir);
        var all = await TopicStoreInput.ReadAllAsync(store, ct).ConfigureAwait(false);
        Func<StoredPaper, bool> selected = p => true;
        string selection = "all stored papers";
        if (since is not null)
        {
            var date = TopicStoreInput.ParseDate(since);
            selected = p => TopicStoreInput.IsSince(p, date);
            selection = "papers since " + since;
        }
        else if (dump is not null)
        {
            string name = Path.GetFileName(dump);
            selected = p => p.Sources.Contains(name, StringComparer.Ordinal);
            selection = "papers of " + name;
        }
        var chosenRows = new List<int>();
        var earlierRows = new List<int>();
        for (int i = 0; i < all.Count; i++)
        {
            (selected(all[i]) ? chosenRows : earlierRows).Add(i);
        }
        var chosen = chosenRows.Select(i => all[i]).ToList();
        var earlier = earlierRows.Select(i => all[i]).ToList();
        if (chosen.Count == 0)
        {
            Console.Error.WriteLine($"embeddings: no papers match ({selection}); the store holds {all.Count}");
        }
        // One representation for the whole store, so topic centres and earlier papers are compared in one space.
        var (allVectors, dimension) = await TopicStoreInput.RepresentAsync(store, all, representation, ct).ConfigureAwait(false);
        var vectors = TopicStoreInput.Rows(allVectors, dimension, chosenRows);
        var papers = chosen.Select(p => p.Paper).ToArray();
        var model = TopicPipeline.Fit(papers, vectors, dimension, options, cancellationToken: ct);
        string snapshotPath = Path.Combine(store.Directory, SnapshotFileName);
        var previous = TopicHistory.Load(snapshotPath);
        model = TopicHistory.Align(model, previous);
        var finder = new StoreSimilarFinder(earlier, TopicStoreInput.Rows(allVectors, dimension, earlierRows), dimension);
        var digest = DigestBuilder.Build(model, papers, vectors, new DigestOptions { Title = "Topic digest", Selection = selection }, finder, ct);
        AtomicFile.WriteAllText(output, DigestRenderer.Render(digest, format));
        TopicHistory.Save(snapshotPath, TopicHistory.Snapshot(model, previous));
        Console.Error.WriteLine($"embeddings: {papers.Length} papers, {model.Topics.Count} topics, {model.OutlierIds.Count} outliers -> {output}");
        return CliRunner.Ok;
    }
}
