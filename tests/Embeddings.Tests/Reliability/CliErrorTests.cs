using Embeddings.Tests.Support;

namespace Embeddings.Tests.Reliability;

/// <summary>
/// Bad flags and impossible requests, as a script would send them: each must give exit 2 and one line that says what
/// to change (never the whole help, never a stack trace), and leave the store's export as it was.
/// </summary>
public sealed class CliErrorTests(ReliabilityFixture fixture) : IClassFixture<ReliabilityFixture>
{
    /// <summary>Command lines with placeholders: {store}, {model}, {good} (a good JSONL file), {dir} (a folder), {file} (a plain file).</summary>
    public static IEnumerable<object[]> UserErrors() => new (string Name, string[] Args, string Fragment)[]
    {
        ("similar -k 0", ["similar", "--store", "{store}", "--text", "graph neural networks", "-k", "0", "--model", "{model}"], "between 1 and"),
        ("similar -k too many", ["similar", "--store", "{store}", "--text", "graph neural networks", "-k", "100000000", "--model", "{model}"], "between 1 and"),
        ("similar -k abc", ["similar", "--store", "{store}", "--text", "graph neural networks", "-k", "abc"], "abc"),
        ("similar --ef -5", ["similar", "--store", "{store}", "--text", "graph neural networks", "--ef", "-5", "--model", "{model}"], "--ef"),
        ("similar --min-score NaN", ["similar", "--store", "{store}", "--text", "graph neural networks", "--min-score", "NaN", "--model", "{model}"], "--min-score"),
        ("similar --filter garbage", ["similar", "--store", "{store}", "--text", "graph neural networks", "--filter", "garbage", "--model", "{model}"], "filter"),
        ("similar --mode nonsense", ["similar", "--store", "{store}", "--text", "graph neural networks", "--mode", "nonsense"], "nonsense"),
        ("similar without a query", ["similar", "--store", "{store}", "--model", "{model}"], "--id"),
        ("similar stop words only", ["similar", "--store", "{store}", "--text", "the of and a", "--model", "{model}"], "no words"),
        ("similar unknown id", ["similar", "--store", "{store}", "--id", "no-such-paper", "--model", "{model}"], "no-such-paper"),
        ("similar --store names a file", ["similar", "--store", "{file}", "--text", "graph neural networks", "--model", "{model}"], "is a file"),
        ("similar --store names the manifest", ["similar", "--store", "{store}/manifest.json", "--text", "graph neural networks", "--model", "{model}"], "is a file"),
        ("similar --queries a folder", ["similar", "--store", "{store}", "--queries", "{dir}", "--model", "{model}"], "is a directory"),
        ("similar --queries missing", ["similar", "--store", "{store}", "--queries", "{dir}/none.jsonl", "--model", "{model}"], "not found"),
        ("similar --queries lone surrogate", ["similar", "--store", "{store}", "--queries", "{surrogate}", "--model", "{model}"], "lone surrogate"),
        ("topics --k 0", ["topics", "--store", "{store}", "--k", "0"], "at least 1"),
        ("topics --topics -1", ["topics", "--store", "{store}", "--topics", "-1"], "at least 1"),
        ("model fit --dims 0", ["model", "fit", "--input", "{good}", "--kind", "lsa", "--dims", "0", "-o", "{dir}/lsa"], "dimensions must be"),
        ("model fit --kind bert", ["model", "fit", "--input", "{good}", "--kind", "bert", "-o", "{dir}/lsa"], "bert"),
        ("ingest --threads -1", ["ingest", "--store", "{store}", "{good}", "--model", "{model}", "--threads", "-1"], "threads"),
        ("ingest --batch 0", ["ingest", "--store", "{store}", "{good}", "--model", "{model}", "--batch", "0"], "batch"),
        ("ingest --commit-every 0", ["ingest", "--store", "{store}", "{good}", "--model", "{model}", "--commit-every", "0"], "commit"),
        ("ingest --shard 3/2", ["ingest", "--store", "{store}", "{good}", "--model", "{model}", "--shard", "3/2"], "shard"),
        ("ingest unknown option", ["ingest", "--store", "{store}", "{good}", "--frobnicate", "--model", "{model}"], "--frobnicate"),
        ("ingest no files", ["ingest", "--store", "{store}", "--model", "{model}"], "--from-file"),
        ("ingest --from-file missing", ["ingest", "--store", "{store}", "--from-file", "{dir}/list.txt", "--model", "{model}"], "does not exist"),
        ("ingest --from-file a folder", ["ingest", "--store", "{store}", "--from-file", "{dir}", "--model", "{model}"], "is a directory"),
        ("ingest --store names a file", ["ingest", "--store", "{file}", "{good}", "--model", "{model}"], "is a file"),
        ("export --format xyz", ["export", "--store", "{store}", "--format", "xyz", "-o", "{dir}/out"], "xyz"),
        ("export -o a folder", ["export", "--store", "{store}", "--format", "jsonl", "-o", "{dir}"], "is a directory"),
        ("export -o inside the store", ["export", "--store", "{store}", "--format", "jsonl", "-o", "{store}/export.jsonl"], "inside the store"),
        ("export -o inside the indexes", ["export", "--store", "{store}", "--format", "npy", "-o", "{store}/indexes/v.npy"], "inside the store"),
        ("embed -o its own input", ["embed", "{good}", "-o", "{good}", "--model", "{model}"], "also an input"),
        ("embed -o into the store", ["embed", "{good}", "-o", "{store}/vectors.jsonl", "--model", "{model}"], "inside the store"),
        ("no such command", ["frobnicate"], "frobnicate"),
    }.Select(c => new object[] { c.Name, c.Args, c.Fragment });

    [Theory]
    [MemberData(nameof(UserErrors))]
    public async Task A_user_error_is_one_line_and_exit_2_and_changes_nothing(string name, string[] template, string fragment)
    {
        using var dir = new TempDir();
        string store = fixture.CopyBaseStore(dir);
        string good = dir.File("good.jsonl");
        File.WriteAllLines(good, fixture.GoodJsonl);
        string plain = dir.File("notes.txt");
        File.WriteAllText(plain, "not a store\n");
        string surrogate = dir.File("queries.jsonl");
        File.WriteAllText(surrogate, "{\"id\": \"q1\", \"text\": \"graph neural networks\"}\n{\"id\": \"q2\", \"text\": \"bad \\ud800 query\"}\n");
        string folder = Directory.CreateDirectory(dir.File("folder")).FullName;
        string[] args = [.. template.Select(a => a
            .Replace("{store}", store, StringComparison.Ordinal).Replace("{model}", fixture.Model, StringComparison.Ordinal)
            .Replace("{good}", good, StringComparison.Ordinal).Replace("{dir}", folder, StringComparison.Ordinal)
            .Replace("{file}", plain, StringComparison.Ordinal).Replace("{surrogate}", surrogate, StringComparison.Ordinal))];

        var (exit, stdout, stderr) = await CliHarness.RunAsync(args);

        Assert.True(exit == 2, $"{name}: exit {exit}\nstdout: {stdout}\nstderr: {stderr}");
        string line = ReliabilityFixture.AssertOneLineError(stderr, name);
        Assert.Contains(fragment, line, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(fixture.BaseExport, await ReliabilityFixture.ExportAsync(store));
        Assert.Equal(fixture.GoodJsonl, File.ReadAllLines(good));
    }
}
