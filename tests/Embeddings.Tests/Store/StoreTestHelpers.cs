using Embeddings.Corpus;
using Embeddings.Store;
using Embeddings.Tests.Support;

namespace Embeddings.Tests.Store;

internal static class StoreTestHelpers
{
    public static string[] DumpFiles() => [.. Directory.GetFiles(TestPaths.DailyPapersDir, "*.txt").Order(StringComparer.Ordinal)];

    public static async IAsyncEnumerable<SourcedPaper> Papers(string file, params Paper[] papers)
    {
        long line = 1;
        foreach (Paper p in papers)
        {
            yield return new SourcedPaper(p, file, line++);
        }
        await Task.CompletedTask;
    }

    /// <summary>Everything that must be equal between two stores holding the same papers (not first-seen times or row order).</summary>
    public static async Task<SortedDictionary<string, string>> Snapshot(string dir)
    {
        using PaperStore store = PaperStore.Open(dir);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await foreach (StoredPaper p in store.ReadPapersAsync())
        {
            float[] v = store.GetVector(p.Paper.Id)!;
            Assert.Equal(HashingTestEncoder.Embed(p.Paper.EmbeddingText, v.Length), v);
            result.Add(p.Paper.Id, string.Join("|", p.Paper.Title, p.Paper.Abstract, p.Paper.Date, p.Paper.AuthorCount, p.Revision,
                string.Join(",", p.Sources.Order(StringComparer.Ordinal)), p.ContentHash, string.Join(",", v)));
        }
        Assert.Equal(store.Count, result.Count);
        return result;
    }
}
