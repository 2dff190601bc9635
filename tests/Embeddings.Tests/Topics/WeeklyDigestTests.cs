using System.Text.Json;
using Embeddings.Corpus;
using Embeddings.Digests;
using Embeddings.Encoding.Lsa;
using Embeddings.Store;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;
using Embeddings.Topics;

namespace Embeddings.Tests.Topics;

/// <summary>
/// The digest as a user runs it: the five shared daily-papers dumps ingested one a week, a digest of each new dump
/// (HTML, Markdown and JSON, each a run of its own), and other options tried in between.
/// </summary>
public sealed class WeeklyDigestTests
{
    /// <summary>
    /// The store's model: an LSA encoder fitted once on the five dumps (one of our real model kinds, deterministic and
    /// fast on CPU), so papers on one subject are near each other as with a neural model and topics can persist.
    /// </summary>
    private static readonly Lazy<string> ModelFolder = new(() =>
    {
        string folder = Path.Combine(Path.GetTempPath(), "embeddings-weekly-digest-model-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var texts = Dumps().SelectMany(f => PaperReader.ReadAsync(f).ToBlockingEnumerable()).Select(p => p.Paper.EmbeddingText).Distinct().ToList();
        using LsaEncoder lsa = LsaEncoder.Fit(texts, new LsaOptions { Dimensions = 96 });
        lsa.Save(folder);
        return folder;
    });

    private static Task<PaperLibrary> OpenAsync(string store) => PaperLibrary.OpenAsync(new PaperLibraryOptions
    {
        StoreDirectory = store,
        EncoderFactory = () => LsaEncoder.Load(ModelFolder.Value),
    });

    private static string[] Dumps() => Directory.GetFiles(TestPaths.DailyPapersDir, "*.txt").Order(StringComparer.Ordinal).ToArray();

    private static string Hash(string path) => File.Exists(path) ? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))) : "absent";

    [Fact]
    public async Task Five_weeks_of_digests_keep_ids_mark_new_topics_and_agree_across_formats()
    {
        string[] dumps = Dumps();
        Assert.Equal(5, dumps.Length);
        using var dir = new TempDir();
        string storeDir = dir.File("store");
        string defaultLog = StoreTopics.HistoryPath(storeDir, new TopicsRequest());
        TopicSnapshot? lastWeek = null;
        var everyId = new HashSet<int>();
        int lsaRefits = 0, newTopics = 0, keptIds = 0;
        int? lsaFitted = null;
        for (int week = 0; week < dumps.Length; week++)
        {
            string name = Path.GetFileName(dumps[week]);
            await using (PaperLibrary library = await OpenAsync(storeDir))
            {
                await library.IngestAsync([dumps[week]]);
                if (week > 0)
                {
                    // Options tried between two weekly digests: none may touch the default configuration's history.
                    string before = Hash(defaultLog);
                    await library.TopicsAsync(new TopicsRequest { Method = TopicMethod.Hdbscan, History = TopicHistoryMode.Record });
                    await library.TopicsAsync(new TopicsRequest { Representation = RepresentationKind.Neural, History = TopicHistoryMode.Record });
                    await library.TopicsAsync(new TopicsRequest());
                    await library.TopicsAsync(new TopicsRequest { History = TopicHistoryMode.Ignore });
                    Digest dry = await library.DigestAsync(new DigestRequest { Dump = name, Topics = new TopicsRequest { K = 4 }, History = TopicHistoryMode.Compare });
                    Assert.InRange(dry.Topics.Count, 1, 4);
                    Digest none = await library.DigestAsync(new DigestRequest { Dump = name, History = TopicHistoryMode.Ignore });
                    Assert.False(none.HasHistory);
                    Assert.Equal(before, Hash(defaultLog));
                }

                // The digest of this week's dump, written three times (HTML, MD, JSON): the same ids and trends each time.
                var runs = new List<Digest>();
                for (int format = 0; format < 3; format++)
                {
                    runs.Add(await library.DigestAsync(new DigestRequest { Dump = name }));
                }
                var signature = runs.Select(d => string.Join(";", d.Topics.Select(t => $"{t.Id}:{t.Trend}:{t.Size}"))).ToList();
                Assert.Equal(signature[0], signature[1]);
                Assert.Equal(signature[0], signature[2]);
                Digest digest = runs[0];
                Assert.Equal(runs[0].Render(DigestFormat.Html), runs[1].Render(DigestFormat.Html));

                // Exactly the papers new in this dump, each listed once under a topic (or among the outliers).
                var newInDump = new List<string>();
                var stored = new Dictionary<string, PaperDetails>(StringComparer.Ordinal);
                await foreach (PaperDetails p in library.ListPapersAsync())
                {
                    stored[p.Id] = p;
                    if (p.Sources[0] == name)
                    {
                        newInDump.Add(p.Id);
                    }
                }
                var listed = digest.Topics.SelectMany(t => t.Papers).Concat(digest.Outliers).Select(p => p.Id).ToList();
                Assert.Equal(newInDump.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
                Assert.Equal(newInDump.Count, digest.PaperCount);
                using JsonDocument json = JsonDocument.Parse(digest.Render(DigestFormat.Json));
                Assert.Equal(listed.Count, json.RootElement.GetProperty("topics").EnumerateArray().Sum(t => t.GetProperty("papers").GetArrayLength())
                    + json.RootElement.GetProperty("outliers").GetArrayLength());
                // The daily-papers pages give author counts and dates without a year: shown as written, never completed.
                var papers = digest.Topics.SelectMany(t => t.Papers).ToList();
                Assert.All(papers, p => Assert.False(string.IsNullOrWhiteSpace(p.Summary)));
                Assert.All(papers, p => Assert.Equal((stored[p.Id].Date ?? stored[p.Id].DateText, stored[p.Id].AuthorCount), (p.Date, p.AuthorCount)));
                if (name.StartsWith("003_", StringComparison.Ordinal))
                {
                    // The one dump whose page lists "• N authors" and a date per paper.
                    Assert.Contains(papers, p => p.AuthorCount > 0);
                    Assert.Contains(papers, p => p.Date is { } date && System.Text.RegularExpressions.Regex.IsMatch(date, "^[A-Z][a-z]{2} [0-9]{1,2}$"));
                }
                if (week > 0)
                {
                    Assert.All(papers, p => Assert.NotEmpty(p.SimilarEarlier));
                }

                // The history the digest recorded: this week's store topics.
                TopicHistoryLog log = TopicHistoryLog.Load(defaultLog)!;
                Assert.Equal(week + 1, log.Runs.Count);
                TopicSnapshot thisWeek = log.Runs[^1].Snapshot;
                Assert.Equal("dump:" + name, log.Runs[^1].Run);
                if (lastWeek is null)
                {
                    Assert.All(digest.Topics, t => Assert.Equal(TopicTrend.Unknown, t.Trend));
                }
                else
                {
                    AssertPersistingTopicsKeepTheirIds(lastWeek, thisWeek);
                    foreach (DigestTopic t in digest.Topics)
                    {
                        // A topic is new exactly when its id was never used before; a new id is never an old one.
                        Assert.Equal(!everyId.Contains(t.Id), t.Trend == TopicTrend.New);
                        newTopics += t.Trend == TopicTrend.New ? 1 : 0;
                        keptIds += everyId.Contains(t.Id) ? 1 : 0;
                    }
                }
                everyId.UnionWith(thisWeek.Topics.Select(t => t.Id));
                lastWeek = thisWeek;
            }
            string lsaFolder = Path.Combine(storeDir, ClusteringRepresentation.LsaFolderName);
            using (LsaEncoder lsa = LsaEncoder.Load(lsaFolder))
            {
                lsaRefits += lsaFitted is int f && f != lsa.FittedDocuments ? 1 : 0;
                lsaFitted = lsa.FittedDocuments;
            }
        }
        // The clustering LSA was refitted as the store grew (its width changed), and the history went on regardless.
        Assert.True(lsaRefits >= 1, "the clustering LSA was never refitted");
        Assert.True(newTopics > 0, "no topic was ever new after the first week");
        Assert.True(keptIds > 0, "no topic kept its id from one week to the next");
    }

    /// <summary>
    /// A topic of last week persists when one topic of this week holds most of its papers and most of that topic's
    /// earlier papers come from it: then that topic carries its id.
    /// </summary>
    private static void AssertPersistingTopicsKeepTheirIds(TopicSnapshot lastWeek, TopicSnapshot thisWeek)
    {
        var old = new HashSet<string>(lastWeek.Topics.SelectMany(t => t.PaperIds), StringComparer.Ordinal);
        foreach (TopicSnapshotEntry before in lastWeek.Topics)
        {
            var members = before.PaperIds.ToHashSet(StringComparer.Ordinal);
            foreach (TopicSnapshotEntry after in thisWeek.Topics)
            {
                int both = after.PaperIds.Count(members.Contains);
                int afterOld = after.PaperIds.Count(old.Contains);
                if (both >= 0.7 * members.Count && both >= 0.7 * afterOld)
                {
                    Assert.Equal(before.Id, after.Id);
                }
            }
        }
    }

    [Fact]
    public async Task A_store_with_the_old_snapshot_keeps_its_ids()
    {
        // An earlier version kept digest-topics.snapshot with centres in the LSA-extended space (564 wide here): it
        // stays readable, its ids carry over by papers, and nothing asks to delete it.
        using var dir = new TempDir();
        string storeDir = dir.File("store");
        await using PaperLibrary library = await OpenAsync(storeDir);
        string[] dumps = Dumps();
        await library.IngestAsync([dumps[0], dumps[1]]);
        TopicModel now = await library.TopicsAsync(new TopicsRequest { History = TopicHistoryMode.Ignore });
        var entries = now.Topics.Select((t, i) => new TopicSnapshotEntry(100 + i, t.Label, t.Size, t.Share, new float[564], t.PaperIds.ToArray())).ToArray();
        TopicHistory.Save(Path.Combine(storeDir, StoreTopics.LegacyDigestSnapshotFileName), new TopicSnapshot(100 + entries.Length, 564, entries));

        Digest digest = await library.DigestAsync(new DigestRequest { Dump = Path.GetFileName(dumps[1]) });
        // The same fit as before, so every topic is the old snapshot's topic of the same papers, with its id.
        TopicModel after = await library.TopicsAsync();
        Assert.Equal(now.Topics.Select((_, i) => 100 + i), after.Topics.Select(t => t.Id));
        // (The same members; their order by closeness may differ, as k-means now starts from the old topics.)
        Assert.Equal(now.Topics.Select(t => t.PaperIds.Order(StringComparer.Ordinal)), after.Topics.Select(t => t.PaperIds.Order(StringComparer.Ordinal)));
        Assert.All(after.Topics, t => Assert.Equal(TopicTrend.Stable, t.Trend));
        Assert.All(digest.Topics, t => Assert.InRange(t.Id, 100, 100 + entries.Length - 1));
    }
}
