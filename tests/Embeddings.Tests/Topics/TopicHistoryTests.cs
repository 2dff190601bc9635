using Embeddings.Corpus;
using Embeddings.Tests.Support;
using Embeddings.Topics;

namespace Embeddings.Tests.Topics;

public sealed class TopicHistoryTests
{
    private const int Dim = 32;

    private static (Paper[] Papers, float[] Vectors, int[] Labels) Dump(int[] counts, int pointSeed, string prefix)
    {
        var labels = counts.SelectMany((count, c) => Enumerable.Repeat(c, count)).ToArray();
        var v = Synthetic.BlobsFor(labels, 6, Dim, noise: 1.2f, centerSeed: 77, pointSeed: pointSeed);
        return (Synthetic.Papers(labels, pointSeed, prefix), v, labels);
    }

    [Fact]
    public void Ids_survive_a_new_dump_and_trends_are_marked()
    {
        // Week 1: blobs 0..3, 40 papers each. Week 2: blob 0 doubles its share, blob 1 almost vanishes, blob 4 appears.
        var (p1, v1, _) = Dump([40, 40, 40, 40], pointSeed: 1, prefix: "a");
        var week1 = TopicHistory.Align(TopicPipeline.Fit(p1, v1, Dim, new TopicOptions { K = 4 }), null);
        using var dir = new TempDir();
        string path = dir.File(TopicHistory.FileName);
        TopicHistory.Save(path, TopicHistory.Snapshot(week1));
        var previous = TopicHistory.Load(path)!;
        Assert.Equal(4, previous.NextId);
        Assert.Equal(week1.Topics.Select(t => t.Centroid.ToArray()), previous.Topics.Select(t => t.Centroid.ToArray()));

        var (p2, v2, labels2) = Dump([80, 8, 50, 50, 40], pointSeed: 2, prefix: "b");
        var week2 = TopicHistory.Align(TopicPipeline.Fit(p2, v2, Dim, new TopicOptions { K = 5, Seed = 9 }), previous);

        int IdOfBlob(TopicModel m, IReadOnlyList<Paper> papers, int[] labels, int blob)
        {
            int row = Array.IndexOf(labels, blob);
            return m.Assignments[row];
        }
        var labels1 = Enumerable.Range(0, 4).SelectMany(c => Enumerable.Repeat(c, 40)).ToArray();
        for (int blob = 0; blob < 4; blob++)
        {
            Assert.Equal(IdOfBlob(week1, p1, labels1, blob), IdOfBlob(week2, p2, labels2, blob));
        }
        var newTopic = week2.Find(IdOfBlob(week2, p2, labels2, 4))!;
        Assert.Equal(4, newTopic.Id); // fresh id after 0..3
        Assert.Equal(TopicTrend.New, newTopic.Trend);
        Assert.Equal(TopicTrend.Growing, week2.Find(IdOfBlob(week2, p2, labels2, 0))!.Trend);
        Assert.Equal(TopicTrend.Shrinking, week2.Find(IdOfBlob(week2, p2, labels2, 1))!.Trend);
        Assert.Equal(TopicTrend.Stable, week2.Find(IdOfBlob(week2, p2, labels2, 2))!.Trend);
        Assert.Equal(40, week2.Find(IdOfBlob(week2, p2, labels2, 2))!.PreviousSize);
        Assert.Equal(5, TopicHistory.Snapshot(week2, previous).NextId);
    }

    [Fact]
    public void A_rerun_on_the_same_papers_keeps_every_id_even_with_another_seed()
    {
        var (p, v, _) = Dump([30, 30, 30, 30, 30], pointSeed: 3, prefix: "c");
        var first = TopicHistory.Align(TopicPipeline.Fit(p, v, Dim, new TopicOptions { K = 5, Seed = 1 }), null);
        var rerun = TopicHistory.Align(TopicPipeline.Fit(p, v, Dim, new TopicOptions { K = 5, Seed = 2 }), TopicHistory.Snapshot(first));
        Assert.Equal(first.Assignments, rerun.Assignments);
        Assert.All(rerun.Topics, t => Assert.Equal(TopicTrend.Stable, t.Trend));
    }

    [Fact]
    public void Corrupt_or_foreign_snapshots_are_refused_with_the_path()
    {
        using var dir = new TempDir();
        string path = dir.File(TopicHistory.FileName);
        Assert.Null(TopicHistory.Load(path));
        TopicHistory.Save(path, new TopicSnapshot(3, 2, [new TopicSnapshotEntry(2, "x / y", 1, 1.0, [1f, 0f], ["p1"])]));
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x20;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => TopicHistory.Load(path));
        Assert.Contains("checksum", e.Message);
        Assert.Equal(path, e.Path);
        File.WriteAllText(path, "hello, not a snapshot at all");
        Assert.Contains("bad magic", Assert.Throws<DataFormatException>(() => TopicHistory.Load(path)).Message);
    }
}
