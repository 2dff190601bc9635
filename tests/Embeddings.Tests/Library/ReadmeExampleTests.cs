// The README's library example, compiled with only its two usings: this file is deliberately outside the Embeddings
// namespaces, so nothing else brings the engine's names into scope.
using Embeddings;
using Microsoft.Extensions.AI;

namespace ReadmeExample;

public sealed class ReadmeExampleTests
{
    /// <summary>
    /// Runs the example exactly as the README shows it, with its relative paths (the test's working folder), on a real
    /// daily-papers dump, a JSONL file and the default model.
    /// </summary>
    [Fact]
    public async Task The_readme_example_compiles_with_two_usings_and_runs()
    {
        CancellationToken ct = CancellationToken.None;
        string work = Directory.GetCurrentDirectory();
        string storeDir = Path.Combine(work, "out", "store");
        if (Directory.Exists(storeDir))
        {
            Directory.Delete(storeDir, recursive: true);
        }
        string dump = Directory.GetFiles(Path.Combine(Embeddings.Tests.Support.TestPaths.DailyPapersDir), "000_*.txt")[0];
        File.Copy(dump, Path.Combine(work, "dump1.txt"), overwrite: true);
        File.WriteAllLines(Path.Combine(work, "dump2.jsonl"),
        [
            """{"id": "quant-1", "title": "Low-bit quantization of large language model weights", "abstract": "We quantize the weights of LLMs to three bits with a learned rounding, keeping perplexity within 1% of the full-precision model."}""",
            """{"id": "graph-1", "title": "Message passing on molecular graphs", "abstract": "A graph neural network predicts binding affinity from the molecular graph of a ligand."}""",
        ]);
        try
        {
            // ---- the README example, verbatim ----
            await using PaperLibrary library = await PaperLibrary.OpenAsync(new PaperLibraryOptions { StoreDirectory = "out/store" }, ct);
            var ingested = await library.IngestAsync(["dump1.txt", "dump2.jsonl"], ct);           // only new papers are embedded
            IReadOnlyList<SimilarHit> hits = await library.SimilarAsync(new SimilarQuery { Text = "quantization of LLM weights", K = 5 }, ct);
            IEmbeddingGenerator<string, Embedding<float>> generator = library.Embeddings;           // the store's model
            GeneratedEmbeddings<Embedding<float>> v = await generator.GenerateAsync(["sparse attention"], cancellationToken: ct);
            TopicModel topics = await library.TopicsAsync(cancellationToken: ct);
            // ---- end of the example ----

            int stored = 0;
            await foreach (PaperDetails _ in library.ListPapersAsync(cancellationToken: ct))
            {
                stored++;
            }
            Assert.Equal(stored, ingested.New);
            Assert.Equal(stored, ingested.Embedded);
            Assert.True(stored > 30, $"only {stored} papers read from the dump");
            Assert.Equal(5, hits.Count);
            Assert.Equal("quant-1", hits[0].Id);
            Assert.Single(v);
            Assert.Equal(library.Embeddings.Dimension, v[0].Vector.Length);
            Assert.Equal(stored, topics.Topics.Sum(t => t.Size) + topics.OutlierIds.Count);

            var again = await library.IngestAsync(["dump1.txt", "dump2.jsonl"], ct);
            Assert.Equal((0L, 0L), (again.New, again.Embedded));
            Assert.Equal(again.Read, again.Duplicate);
        }
        finally
        {
            File.Delete(Path.Combine(work, "dump1.txt"));
            File.Delete(Path.Combine(work, "dump2.jsonl"));
            Directory.Delete(Path.Combine(work, "out"), recursive: true);
        }
    }
}
