using Embeddings.Corpus;
using Embeddings.Digests;
using Embeddings.Encoding.Lsa;
using Embeddings.Quality;
using Embeddings.Topics;

namespace Embeddings.Bench;

/// <summary>
/// `digest-demo [--dumps DIR] [--out DIR] [--k N]`: the shared daily-paper dumps -> LSA vectors fitted on them
/// (the corpus-fitted clustering representation) -> topics -> digest in md, html and json, to look at.
/// The last dump plays "this week"; the earlier ones are the store history for similar earlier papers.
/// </summary>
internal static class DigestDemo
{
    public static int Run(string[] args)
    {
        string dumps = BenchHost.Arg(args, "--dumps") ?? Path.Combine(BenchHost.RepoRoot(), "..", "shared", "corpus", "daily-papers");
        string outDir = BenchHost.Arg(args, "--out") ?? Path.Combine(BenchHost.RepoRoot(), "bench", "results", "digest-demo");
        int? k = BenchHost.Arg(args, "--k") is string ks ? int.Parse(ks, System.Globalization.CultureInfo.InvariantCulture) : null;
        var files = Directory.GetFiles(dumps).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        var papers = new List<Paper>();
        var source = new List<int>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int f = 0; f < files.Length; f++)
        {
            foreach (var sp in PaperReader.ReadAsync(files[f]).ToBlockingEnumerable())
            {
                if (seen.Add(sp.Paper.Id))
                {
                    papers.Add(sp.Paper);
                    source.Add(f);
                }
            }
        }
        Console.WriteLine($"{papers.Count} distinct papers in {files.Length} dumps");
        var lsa = LsaEncoder.Fit(papers.Select(p => p.EmbeddingText).ToList(), new LsaOptions { Dimensions = QualityDefaults.ClusteringLsaDimensions });
        var batch = lsa.EncodeAsync(papers.Select(p => p.EmbeddingText).ToList()).GetAwaiter().GetResult();
        int dim = batch.Dimension;
        var options = new TopicOptions { K = k, KMeans = new KMeansOptions { MinK = 5, MaxK = 25 } };
        var model = TopicPipeline.Fit(papers, batch.Vectors, dim, options);
        var digest = DigestBuilder.Build(model, papers, batch.Vectors, new DigestOptions { Title = "Daily papers: topic digest", Selection = $"all {files.Length} shared dumps" });
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "digest.html"), DigestRenderer.Html(digest));
        File.WriteAllText(Path.Combine(outDir, "digest.md"), DigestRenderer.Markdown(digest));
        File.WriteAllText(Path.Combine(outDir, "digest.json"), DigestRenderer.Json(digest));
        foreach (var t in model.Topics)
        {
            Console.WriteLine($"{t.Id,3} {t.Size,4}  {t.Label,-40} {string.Join(", ", t.Keywords.Take(6).Select(x => x.Term))}");
        }
        Console.WriteLine($"outliers: {model.OutlierIds.Count}; written to {outDir}");
        return 0;
    }
}
