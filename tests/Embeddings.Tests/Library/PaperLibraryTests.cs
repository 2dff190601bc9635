using System.Text.Json;
using Embeddings.Corpus;
using Embeddings.Encoding;
using Embeddings.Store;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;
using Embeddings.Tests.Topics;
using Microsoft.Extensions.AI;

namespace Embeddings.Tests.Library;

/// <summary>The facade's behaviour: snapshots under ingest, the model as a generator, typed errors, listing, export.</summary>
public sealed class PaperLibraryTests
{
    private const string Fingerprint = "test-double:hashing-words:64";

    private static string WriteJsonl(TempDir dir, string name, IEnumerable<Paper> papers)
    {
        string path = dir.File(name);
        File.WriteAllLines(path, papers.Select(p => JsonSerializer.Serialize(new { id = p.Id, title = p.Title, @abstract = p.Abstract, date = p.Date })));
        return path;
    }

    private static Paper[] Week(string prefix, int count, int seed) =>
        Synthetic.Papers(Enumerable.Range(0, count).Select(i => i % 4).ToArray(), seed, prefix);

    private static Task<PaperLibrary> OpenAsync(string store, Func<ISentenceEncoder>? encoder = null, bool readOnly = false, HnswStorage? storage = null) =>
        PaperLibrary.OpenAsync(new PaperLibraryOptions
        {
            StoreDirectory = store,
            ReadOnly = readOnly,
            HnswStorage = storage,
            EncoderFactory = encoder ?? (() => new HashingTestEncoder(64, Fingerprint)),
        });

    private static async Task<List<PaperDetails>> ListAsync(PaperLibrary library, PaperFilter? filter = null)
    {
        var list = new List<PaperDetails>();
        await foreach (PaperDetails p in library.ListPapersAsync(filter))
        {
            list.Add(p);
        }
        return list;
    }

    [Fact]
    public async Task Reads_answer_from_the_last_committed_state_while_an_ingest_runs()
    {
        using var dir = new TempDir();
        var encoder = new GatedEncoder(new HashingTestEncoder(64, Fingerprint));
        await using PaperLibrary library = await OpenAsync(dir.File("store"), () => encoder);
        await library.IngestAsync([WriteJsonl(dir, "week1.jsonl", Week("w1-", 80, 1))]);
        Assert.Equal(80, (await ListAsync(library)).Count);
        IReadOnlyList<SimilarHit> before = await library.SimilarAsync(new SimilarQuery { PaperId = "w1-00000", K = 10 });

        encoder.Close();
        Task<IngestSummary> ingest = library.IngestAsync([WriteJsonl(dir, "week2.jsonl", Week("w2-", 60, 2))]);
        await encoder.Entered;
        // The second ingest is inside the model: searches, reads and listings see week 1 only, and answer as before.
        Assert.Equal(80, (await ListAsync(library)).Count);
        Assert.Null(await library.GetPaperAsync("w2-00000"));
        Assert.Equal(before, await library.SimilarAsync(new SimilarQuery { PaperId = "w1-00000", K = 10 }), new HitComparer());
        Assert.Equal(80, (await library.GetStatusAsync()).Papers);

        encoder.Open();
        IngestSummary summary = await ingest;
        Assert.Equal((60L, 140), (summary.New, summary.StorePapers));
        Assert.Equal(140, (await ListAsync(library)).Count);
        Assert.NotNull(await library.GetPaperAsync("w2-00000"));
        IReadOnlyList<SimilarHit> after = await library.SimilarAsync(new SimilarQuery { PaperId = "w2-00000", K = 140 });
        Assert.Contains(after, h => h.Id.StartsWith("w2-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_generator_gives_the_stored_vectors_and_refuses_dimensions_the_model_cannot_give()
    {
        using var dir = new TempDir();
        Paper[] papers = [.. EncoderFixtures.DumpPapers.DistinctBy(p => p.Id).Take(12)];
        await using PaperLibrary library = await PaperLibrary.OpenAsync(new PaperLibraryOptions
        {
            StoreDirectory = dir.File("store"),
            ModelDirectory = EncoderFixtures.UseLiteDir,
            Threads = 2,
        });
        Assert.False(library.Embeddings.IsLoaded);
        await library.IngestAsync([WriteJsonl(dir, "papers.jsonl", papers)]);

        using var exported = new MemoryStream();
        ExportSummary export = await library.ExportAsync(new ExportRequest { Format = ExportFormat.Jsonl, OutputStream = exported });
        Assert.Equal(12, export.Count);
        var stored = System.Text.Encoding.UTF8.GetString(exported.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .ToDictionary(e => e.GetProperty("id").GetString()!, e => e.GetProperty("vector").EnumerateArray().Select(x => x.GetSingle()).ToArray());

        IEmbeddingGenerator<string, Embedding<float>> generator = library.Embeddings;
        GeneratedEmbeddings<Embedding<float>> generated = await generator.GenerateAsync(papers.Select(p => p.EmbeddingText));
        for (int i = 0; i < papers.Length; i++)
        {
            Assert.Equal(stored[papers[i].Id], generated[i].Vector.ToArray());
            Assert.Equal(library.Embeddings.Fingerprint, generated[i].AdditionalProperties!["fingerprint"]);
        }
        var metadata = (EmbeddingGeneratorMetadata)generator.GetService(typeof(EmbeddingGeneratorMetadata))!;
        Assert.Equal(512, metadata.DefaultModelDimensions);

        Assert.Single(await generator.GenerateAsync(["sparse attention"], new EmbeddingGenerationOptions { Dimensions = 512 }));
        var refused = await Assert.ThrowsAsync<DimensionsNotSupportedException>(() =>
            generator.GenerateAsync(["sparse attention"], new EmbeddingGenerationOptions { Dimensions = 128 }));
        Assert.Contains("Matryoshka", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_lsa_model_gives_fewer_dimensions_as_the_leading_components_renormalised()
    {
        using var dir = new TempDir();
        string dump = StoreTestHelpers.DumpFiles()[0];
        LsaFitSummary fit = await EmbeddingModel.FitLsaAsync(new LsaFitRequest { OutputDirectory = dir.File("lsa"), InputFiles = [dump], Dimensions = 16 });
        Assert.Equal(16, fit.Dimension);
        using EmbeddingModel model = await EmbeddingModel.LoadAsync(new EmbeddingModelOptions { ModelDirectory = fit.Directory });
        Assert.Equal("lsa", model.Info.Kind);
        string[] texts = ["attention for long documents", "graph neural networks for molecules"];
        GeneratedEmbeddings<Embedding<float>> full = await model.GenerateAsync(texts);
        GeneratedEmbeddings<Embedding<float>> cut = await model.GenerateAsync(texts, new EmbeddingGenerationOptions { Dimensions = 4 });
        for (int i = 0; i < texts.Length; i++)
        {
            float[] head = full[i].Vector.Span[..4].ToArray();
            float norm = MathF.Sqrt(head.Sum(x => x * x));
            float[] expected = head.Select(x => x / norm).ToArray();
            Assert.Equal(4, cut[i].Vector.Length);
            Assert.All(expected.Zip(cut[i].Vector.ToArray()), pair => Assert.Equal(pair.First, pair.Second, 6));
        }
        await Assert.ThrowsAsync<DimensionsNotSupportedException>(() => model.GenerateAsync(texts, new EmbeddingGenerationOptions { Dimensions = 17 }));
    }

    /// <summary>
    /// A new index is int8 (re-scored against the store's rows); an index on disk keeps its storage when the option is
    /// left unset and is rebuilt when it is set to the other one; every storage answers like the exact search.
    /// </summary>
    [Fact]
    public async Task The_hnsw_storage_option_is_int8_for_a_new_index_kept_when_unset_and_rebuilds_when_changed()
    {
        using var dir = new TempDir();
        string store = dir.File("store");
        string week = WriteJsonl(dir, "week1.jsonl", Week("w1-", 120, 5));

        async Task<HnswStorage> SearchAsync(PaperLibrary library)
        {
            var query = new SimilarQuery { PaperId = "w1-00007", K = 10, Mode = RankingMode.Vector };
            IReadOnlyList<SimilarHit> exact = await library.SimilarAsync(query with { Exact = true });
            IReadOnlyList<SimilarHit> hnsw = await library.SimilarAsync(query);
            Assert.Equal(exact.Select(h => h.Id), hnsw.Select(h => h.Id));
            Assert.All(exact.Zip(hnsw), p => Assert.Equal(p.First.Score, p.Second.Score, 5));
            return (await library.GetStatusAsync()).Hnsw!.Storage;
        }

        async Task<(HnswStorage Storage, string Status)> BuildAsync(HnswStorage? storage)
        {
            await using PaperLibrary library = await OpenAsync(store, storage: storage);
            IndexSummary summary = await library.BuildIndexesAsync(new IndexBuildOptions());
            return (await SearchAsync(library), summary.Status);
        }

        await using (PaperLibrary library = await OpenAsync(store))
        {
            await library.IngestAsync([week]);
        }
        Assert.Equal(HnswStorage.Int8, (await BuildAsync(null)).Storage);

        (HnswStorage storage, string status) = await BuildAsync(HnswStorage.Float32);
        Assert.Equal(HnswStorage.Float32, storage);
        Assert.Contains("HNSW storage changed (int8 -> float32): rebuilt", status, StringComparison.Ordinal);

        (storage, status) = await BuildAsync(null);
        Assert.Equal(HnswStorage.Float32, storage);
        Assert.DoesNotContain("rebuilt", status, StringComparison.Ordinal);
        await using (PaperLibrary readOnly = await OpenAsync(store, readOnly: true))
        {
            Assert.Equal(HnswStorage.Float32, await SearchAsync(readOnly));
        }

        (storage, status) = await BuildAsync(HnswStorage.Int8);
        Assert.Equal(HnswStorage.Int8, storage);
        Assert.Contains("HNSW storage changed (float32 -> int8): rebuilt", status, StringComparison.Ordinal);

        var invalid = await Assert.ThrowsAsync<InvalidRequestException>(() => OpenAsync(store, storage: (HnswStorage)7));
        Assert.Contains(nameof(PaperLibraryOptions.HnswStorage), invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Errors_are_typed_and_say_what_to_do()
    {
        using var dir = new TempDir();
        string store = dir.File("store");
        await using (PaperLibrary library = await OpenAsync(store))
        {
            // No store yet: reads are empty, a search says how to make one.
            Assert.False((await library.GetStatusAsync()).StoreExists);
            Assert.Empty(await ListAsync(library));
            var missing = await Assert.ThrowsAsync<DataFormatException>(() => library.SimilarAsync(new SimilarQuery { PaperId = "x" }));
            Assert.Contains("embeddings ingest", missing.Message, StringComparison.Ordinal);

            await library.IngestAsync([WriteJsonl(dir, "week1.jsonl", Week("w1-", 20, 3))]);
            var unknown = await Assert.ThrowsAsync<PaperNotFoundException>(() => library.SimilarAsync(new SimilarQuery { PaperId = "no-such-paper" }));
            Assert.Equal("no-such-paper", unknown.Id);
            Assert.Null(await library.GetPaperAsync("no-such-paper"));
            await Assert.ThrowsAsync<InvalidRequestException>(() => library.SimilarAsync(new SimilarQuery()));
            await Assert.ThrowsAsync<InvalidRequestException>(() => library.SimilarAsync(new SimilarQuery { PaperId = "w1-00000", K = 0 }));
            await Assert.ThrowsAsync<InvalidRequestException>(() => library.DigestAsync(new DigestRequest { Since = DateTimeOffset.UnixEpoch, Dump = "week1.jsonl" }));
        }

        // Another model than the store's: a text query in vector mode is refused, lexical and by-id queries still work.
        await using (PaperLibrary other = await OpenAsync(store, () => new HashingTestEncoder(64, "test-double:another-model")))
        {
            var mismatch = await Assert.ThrowsAsync<ModelMismatchException>(() => other.SimilarAsync(new SimilarQuery { Text = "graph", Mode = RankingMode.Vector }));
            Assert.Equal((Fingerprint, "test-double:another-model"), (mismatch.StoreFingerprint, mismatch.ModelFingerprint));
            Assert.NotEmpty(await other.SimilarAsync(new SimilarQuery { Text = "graph learning", Mode = RankingMode.Lexical }));
            Assert.NotEmpty(await other.SimilarAsync(new SimilarQuery { PaperId = "w1-00000", Mode = RankingMode.Vector }));
        }

        // A read-only library does not ingest.
        await using (PaperLibrary readOnly = await OpenAsync(store, readOnly: true))
        {
            await Assert.ThrowsAsync<InvalidRequestException>(() => readOnly.IngestAsync([dir.File("week1.jsonl")]));
        }

        var invalid = await Assert.ThrowsAsync<InvalidRequestException>(() => PaperLibrary.OpenAsync(new PaperLibraryOptions { HnswM = 1, Threads = -1 }));
        Assert.Contains(nameof(PaperLibraryOptions.StoreDirectory), invalid.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(PaperLibraryOptions.HnswM), invalid.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(PaperLibraryOptions.Threads), invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_streams_the_papers_a_filter_lets_through_with_their_metadata()
    {
        using var dir = new TempDir();
        Paper[] papers = [.. Week("p-", 10, 4).Select((p, i) => p with { Date = i < 4 ? "2025-03-0" + (i + 1) : "2025-04-01" })];
        await using PaperLibrary library = await OpenAsync(dir.File("store"));
        string file = WriteJsonl(dir, "dump.jsonl", papers);
        await library.IngestAsync([file]);

        List<PaperDetails> march = await ListAsync(library, PaperFilter.Parse(["date=2025-03"]));
        Assert.Equal(["p-00000", "p-00001", "p-00002", "p-00003"], march.Select(p => p.Id));
        PaperDetails first = march[0];
        Assert.Equal((papers[0].Title, papers[0].Abstract, "2025-03-01", 1), (first.Title, first.Abstract, first.Date, first.Revision));
        Assert.Equal(["dump.jsonl"], first.Sources);
        Assert.Equal(LibraryJson.Paper(first), LibraryJson.Paper((await library.GetPaperAsync("p-00000"))!));

        List<PaperDetails> two = await ListAsync(library, PaperFilter.Parse(["id=p-00005,p-00009"]));
        Assert.Equal(["p-00005", "p-00009"], two.Select(p => p.Id));
        using JsonDocument json = JsonDocument.Parse(LibraryJson.Paper(first));
        Assert.Equal("2025-03-01", json.RootElement.GetProperty("date").GetString());
    }

    [Fact]
    public async Task A_digest_renders_the_same_topics_in_every_format()
    {
        using var dir = new TempDir();
        await using PaperLibrary library = await OpenAsync(dir.File("store"));
        await library.IngestAsync([WriteJsonl(dir, "week1.jsonl", Week("w1-", 80, 5))]);
        await library.IngestAsync([WriteJsonl(dir, "week2.jsonl", Week("w2-", 60, 6))]);
        Digest digest = await library.DigestAsync(new DigestRequest { Dump = "week2.jsonl", Topics = new TopicsRequest { K = 3 } });
        Assert.Equal((60, 140, "papers new in week2.jsonl"), (digest.PaperCount, digest.StorePaperCount, digest.Selection));
        Assert.Equal(3, digest.Topics.Count);
        Assert.All(digest.Topics, t => Assert.All(t.SimilarEarlier, p => Assert.StartsWith("w1-", p.Id, StringComparison.Ordinal)));
        string md = digest.Render(DigestFormat.Markdown), html = digest.Render(DigestFormat.Html);
        using JsonDocument json = JsonDocument.Parse(LibraryJson.Digest(digest));
        foreach (DigestTopic t in digest.Topics)
        {
            Assert.Contains(t.Label, md, StringComparison.Ordinal);
            Assert.Contains(System.Net.WebUtility.HtmlEncode(t.Label), html, StringComparison.Ordinal);
        }
        Assert.Equal(digest.Topics.Select(t => t.Label), json.RootElement.GetProperty("topics").EnumerateArray().Select(t => t.GetProperty("label").GetString()));
    }

    [Fact]
    public async Task A_library_over_another_backend_answers_reads_from_it_and_refuses_local_store_work()
    {
        var backend = new FixedBackend();
        await using PaperLibrary library = PaperLibrary.Open(new PaperLibraryOptions
        {
            StoreDirectory = "unused",
            EncoderFactory = () => new HashingTestEncoder(64, Fingerprint),
        }, backend, null);
        SimilarHit hit = Assert.Single(await library.SimilarAsync(new SimilarQuery { Text = "graph learning" }));
        Assert.Equal(("pg-1", "graph learning"), (hit.Id, backend.LastQuery!.Text));
        Assert.Equal(7, (await library.GetStatusAsync()).Papers);
        var refused = await Assert.ThrowsAsync<InvalidRequestException>(() => library.IngestAsync(["x.jsonl"]));
        Assert.Contains("postgres://test/papers", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidRequestException>(() => library.TopicsAsync());
        await library.RefreshAsync();
    }

    /// <summary>A backend that answers every search with one hit, as a database backend would fill the seam.</summary>
    private sealed class FixedBackend : IPaperBackend
    {
        public SimilarQuery? LastQuery { get; private set; }

        public string Location => "postgres://test/papers";

        public string? ModelFingerprint => Fingerprint;

        public Task<LibraryStatus> GetStatusAsync(CancellationToken cancellationToken) =>
            Task.FromResult(new LibraryStatus { StoreDirectory = Location, StoreExists = true, Papers = 7, VectorRows = 7, ModelFingerprint = Fingerprint, Dimension = 64 });

        public Task<SimilarResult> SimilarAsync(SimilarQuery query, EmbeddingModel model, CancellationToken cancellationToken)
        {
            LastQuery = query;
            Assert.Equal(64, model.Dimension);
            return Task.FromResult(new SimilarResult([new SimilarHit("pg-1", "A stored paper", 0.5f, [])]));
        }

        public Task<PaperDetails?> GetPaperAsync(string id, CancellationToken cancellationToken) => Task.FromResult<PaperDetails?>(null);

        public async IAsyncEnumerable<PaperDetails> ListPapersAsync(PaperFilter? filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.CompletedTask;
            yield break;
        }

        public void Dispose()
        {
        }
    }

    /// <summary>Hits equal in id and score (the why lists are compared too).</summary>
    private sealed class HitComparer : IEqualityComparer<SimilarHit>
    {
        public bool Equals(SimilarHit? x, SimilarHit? y) => x is not null && y is not null && x.Id == y.Id && x.Score == y.Score && x.Why.SequenceEqual(y.Why);

        public int GetHashCode(SimilarHit obj) => obj.Id.GetHashCode(StringComparison.Ordinal);
    }
}
