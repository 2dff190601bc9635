using System.IO.Compression;
using System.Text;
using Embeddings.Encoding;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;
using Microsoft.Extensions.AI;

namespace Embeddings.Tests.Library;

/// <summary>
/// The facade's gaps for hosts: merging concurrent requests into model batches (gated, so which requests wait together
/// is decided by the test, not by timing), token usage, and ingest from a stream.
/// </summary>
public sealed class EmbeddingBatcherTests
{
    private const string Fingerprint = "test-double:hashing-words:64";

    private static Task<PaperLibrary> OpenAsync(string store, ISentenceEncoder encoder) =>
        PaperLibrary.OpenAsync(new PaperLibraryOptions { StoreDirectory = store, EncoderFactory = () => encoder });

    [Fact]
    public async Task Requests_waiting_together_run_as_one_model_batch_and_each_gets_its_own_vectors()
    {
        using var dir = new TempDir();
        var encoder = new GatedEncoder(new HashingTestEncoder(64, Fingerprint));
        await using PaperLibrary library = await OpenAsync(dir.File("store"), encoder);
        using var batcher = new EmbeddingBatcher(library.Embeddings, new EmbeddingBatcherOptions { Workers = 1 });

        encoder.Close();
        Task<GeneratedEmbeddings<Embedding<float>>> first = batcher.GenerateAsync(["held in the model"]);
        await encoder.Entered;
        // While the one worker is busy, three requests queue; they then run as one batch of five texts.
        Task<GeneratedEmbeddings<Embedding<float>>>[] waiting =
        [
            batcher.GenerateAsync(["alpha beta", "gamma"]),
            batcher.GenerateAsync(["delta epsilon zeta"]),
            batcher.GenerateAsync(["eta", "theta iota"]),
        ];
        encoder.Open();
        await first;
        GeneratedEmbeddings<Embedding<float>>[] answers = await Task.WhenAll(waiting);
        Assert.Equal([1, 5], encoder.Calls);
        Assert.Equal((4L, 2L), (batcher.Requests, batcher.Batches));
        string[][] texts = [["alpha beta", "gamma"], ["delta epsilon zeta"], ["eta", "theta iota"]];
        for (int r = 0; r < texts.Length; r++)
        {
            Assert.Equal(texts[r].Length, answers[r].Count);
            for (int i = 0; i < texts[r].Length; i++)
            {
                Assert.Equal(HashingTestEncoder.Embed(texts[r][i], 64), answers[r][i].Vector.ToArray());
            }
        }
    }

    [Fact]
    public async Task A_batch_stays_within_the_token_and_input_budgets()
    {
        using var dir = new TempDir();
        var encoder = new GatedEncoder(new HashingTestEncoder(64, Fingerprint));
        await using PaperLibrary library = await OpenAsync(dir.File("store"), encoder);
        // Without word pieces a text counts as length / 6 + 1 tokens: 60 characters are 11.
        using var batcher = new EmbeddingBatcher(library.Embeddings, new EmbeddingBatcherOptions { Workers = 1, MaxBatchTokens = 25, MaxBatchInputs = 3 });
        string sixty = new('w', 60);

        encoder.Close();
        Task first = batcher.GenerateAsync(["held"]);
        await encoder.Entered;
        Task[] waiting =
        [
            batcher.GenerateAsync([sixty]),          // 11
            batcher.GenerateAsync([sixty]),          // 22
            batcher.GenerateAsync([sixty]),          // 33 > 25: next batch
            batcher.GenerateAsync(["a", "b"]),       // 11 + 2 + 2 tokens but 3 inputs: fits
            batcher.GenerateAsync(["c"]),            // a 4th input: next batch
            batcher.GenerateAsync([sixty, sixty, sixty]), // 33 tokens alone: larger than a batch, runs by itself
        ];
        encoder.Open();
        await first;
        await Task.WhenAll(waiting);
        Assert.Equal([1, 2, 3, 1, 3], encoder.Calls);
    }

    [Fact]
    public async Task A_request_cancelled_while_it_waits_leaves_the_queue_and_a_batch_nobody_waits_for_stops()
    {
        using var dir = new TempDir();
        var encoder = new GatedEncoder(new HashingTestEncoder(64, Fingerprint));
        await using PaperLibrary library = await OpenAsync(dir.File("store"), encoder);
        using var batcher = new EmbeddingBatcher(library.Embeddings, new EmbeddingBatcherOptions { Workers = 1 });

        encoder.Close();
        using var firstGone = new CancellationTokenSource();
        Task first = batcher.GenerateAsync(["held"], cancellationToken: firstGone.Token);
        await encoder.Entered;
        using var secondGone = new CancellationTokenSource();
        Task second = batcher.GenerateAsync(["leaves before its turn"], cancellationToken: secondGone.Token);
        Task<GeneratedEmbeddings<Embedding<float>>> third = batcher.GenerateAsync(["stays"]);
        await secondGone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        await firstGone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await encoder.Cancelled; // the held batch had no one left, so the model call was cancelled
        encoder.Open();
        Assert.Equal(HashingTestEncoder.Embed("stays", 64), (await third)[0].Vector.ToArray());
        Assert.Equal([1, 1], encoder.Calls); // the cancelled request never reached the model
    }

    [Fact]
    public async Task Usage_counts_the_tokens_the_model_read_and_the_batcher_estimates_them_before()
    {
        using var dir = new TempDir();
        await using PaperLibrary library = await PaperLibrary.OpenAsync(new PaperLibraryOptions
        {
            StoreDirectory = dir.File("store"),
            ModelDirectory = EncoderFixtures.UseLiteDir,
            Threads = 2,
        });
        string[] texts = ["Sparse attention for long documents.", "We quantize the weights of large language models to 4 bits."];
        GeneratedEmbeddings<Embedding<float>> generated = await library.Embeddings.GenerateAsync(texts);
        OnnxSentenceEncoder useLite = EncoderFixtures.UseLite;
        int[] pieces = texts.Select(t => useLite.Tokenizer.CountTokens(t)).ToArray(); // USE-lite adds no special tokens
        Assert.All(pieces, p => Assert.InRange(p, 5, 30));
        Assert.Equal(pieces.Sum(), generated.Usage!.InputTokenCount);
        Assert.Equal(pieces.Sum(), generated.Usage.TotalTokenCount);
        Assert.Equal(pieces, useLite.Encode(texts).TokenCounts);
        Assert.Equal(pieces, texts.Select(useLite.EstimateTokens).ToArray());

        using var batcher = new EmbeddingBatcher(library.Embeddings);
        GeneratedEmbeddings<Embedding<float>> batched = await batcher.GenerateAsync(texts);
        Assert.Equal(pieces.Sum(), batched.Usage!.InputTokenCount);
        Assert.Equal(generated.Select(e => e.Vector.ToArray()), batched.Select(e => e.Vector.ToArray()));
    }

    [Fact]
    public async Task An_ingest_reads_a_stream_as_the_file_it_is_named_after()
    {
        using var dir = new TempDir();
        await using PaperLibrary library = await OpenAsync(dir.File("store"), new HashingTestEncoder(64, Fingerprint));
        string jsonl = "{\"id\": \"a\", \"title\": \"First\", \"abstract\": \"One abstract.\"}\n{\"id\": \"b\", \"title\": \"Second\", \"abstract\": \"Two abstracts.\"}\n";
        IngestSummary summary = await library.IngestAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(jsonl)), "upload-1.jsonl");
        Assert.Equal((2L, 2), (summary.New, summary.StorePapers));
        Assert.Equal(["upload-1.jsonl"], (await library.GetPaperAsync("a"))!.Sources);

        var gz = new MemoryStream();
        await using (var zip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            await zip.WriteAsync(System.Text.Encoding.UTF8.GetBytes("{\"id\": \"c\", \"title\": \"Third\", \"abstract\": \"Three.\"}\n"));
        }
        gz.Position = 0;
        Assert.Equal(1, (await library.IngestAsync(gz, "upload-2.jsonl.gz")).New);
        Assert.True(gz.CanRead, "the caller's stream is left open");

        var bad = new MemoryStream(System.Text.Encoding.UTF8.GetBytes("{\"id\": \"d\", \"title\": \"Fourth\", \"abstract\": \"Four.\"}\n{\"id\": 7\n"));
        InputFormatException error = await Assert.ThrowsAsync<InputFormatException>(() => library.IngestAsync(bad, "upload-3.jsonl"));
        Assert.Equal(("upload-3.jsonl", 2L), (error.File, error.Line));
        await Assert.ThrowsAsync<InvalidRequestException>(() => library.IngestAsync(new MemoryStream(), "../escape.jsonl"));
        await Assert.ThrowsAsync<InputFormatException>(() => library.IngestAsync(new MemoryStream(), "upload.pdf"));
        Assert.Equal(3, (await library.GetStatusAsync()).Papers);

        // The caller's stream failing (a client gone) reaches the caller as its own exception, not as a storage error.
        var lost = new IOException("the client closed the connection");
        IOException thrown = await Assert.ThrowsAsync<IOException>(() => library.IngestAsync(new FailingStream(lost), "upload-4.jsonl"));
        Assert.Same(lost, thrown);
        Assert.Equal(3, (await library.GetStatusAsync()).Papers);
    }

    /// <summary>A stream that fails on its first read, as an upload whose client goes away.</summary>
    private sealed class FailingStream(Exception failure) : MemoryStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw failure;

        public override int Read(Span<byte> buffer) => throw failure;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(failure);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromException<int>(failure);
    }
}
