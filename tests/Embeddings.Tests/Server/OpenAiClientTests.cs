using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Embeddings.Encoding;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Store;
using Embeddings.Tests.Support;
using OpenAI;
using OpenAI.Embeddings;
using LibraryOptions = Microsoft.Extensions.AI.EmbeddingGenerationOptions;

namespace Embeddings.Tests.Server;

/// <summary>
/// The official OpenAI .NET client (2.15.0, which asks for base64 vectors) pointed at our server with the default
/// model gets exactly the vectors `embeddings embed` writes for the same texts, and the library's token usage.
/// A text sent alone is run in a batch of its own, which the encoder promises equal to within 1e-6 (docs/encoder.md,
/// "Batching and threads"); the same texts in one request are the same batch as `embed`'s, so bitwise equal.
/// </summary>
public sealed class OpenAiClientTests
{
    [Fact]
    public async Task The_official_OpenAI_client_gets_the_vectors_of_embed_for_the_same_texts()
    {
        using var dir = new TempDir();
        string[] texts =
        [
            "Sparse attention for long documents.",
            "We quantize the weights of large language models to four bits without loss of accuracy.",
            .. EncoderFixtures.DumpTexts.Take(3), // real abstracts, long enough to be windowed
        ];
        string input = dir.File("texts.jsonl");
        await File.WriteAllLinesAsync(input, texts.Select((t, i) => JsonSerializer.Serialize(new { id = $"t{i}", @abstract = t })));
        string output = dir.File("vectors.jsonl");
        var (exit, _, err) = await CliHarness.RunAsync("embed", input, "-o", output, "--quiet");
        Assert.True(exit == 0, err);
        float[][] expected = EmbeddingJsonl.Read(output).Select(r => r.Vector).ToArray();

        await using ServerHost host = await ServerHost.StartAsync(o => o.StoreDirectory = dir.File("store"));
        var client = new EmbeddingClient("text-embedding-3-small", new ApiKeyCredential("not-needed"), new OpenAIClientOptions
        {
            Endpoint = new Uri(host.Address, "/v1"),
            Transport = new HttpClientPipelineTransport(host.Client),
        });
        OpenAIEmbeddingCollection answer = await client.GenerateEmbeddingsAsync(texts);
        Assert.Equal(texts.Length, answer.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(i, answer[i].Index);
            Assert.Equal(expected[i], answer[i].ToFloats().ToArray());
        }
        Assert.Equal(host.Library.Embeddings.Info.Name, answer.Model);
        long tokens = (await host.Library.Embeddings.GenerateAsync(texts)).Usage!.InputTokenCount!.Value;
        Assert.InRange(tokens, texts.Length, long.MaxValue);
        Assert.Equal((tokens, tokens), (answer.Usage.InputTokenCount, answer.Usage.TotalTokenCount));

        for (int i = 0; i < 2; i++)
        {
            OpenAIEmbedding single = await client.GenerateEmbeddingAsync(texts[i]);
            float diff = EncoderFixtures.MaxAbsDiff(expected[i], single.ToFloats().Span);
            Assert.True(diff <= 1e-6f, $"text {i} alone differs from embed by {diff}");
        }
    }

    [Fact]
    public async Task The_dimensions_field_is_honoured_for_an_lsa_model_and_refused_with_a_clear_400_for_one_that_cannot_be_cut()
    {
        using var dir = new TempDir();
        string[] texts = ["attention for long documents", "graph neural networks for molecules"];
        LsaFitSummary fit = await EmbeddingModel.FitLsaAsync(new LsaFitRequest
        {
            OutputDirectory = dir.File("lsa"),
            InputFiles = [StoreTestHelpers.DumpFiles()[0]],
            Dimensions = 16,
        });
        await using (ServerHost host = await ServerHost.StartAsync(o => { o.StoreDirectory = dir.File("store"); o.ModelDirectory = fit.Directory; }))
        {
            EmbeddingClient client = Client(host);
            float[][] expected = (await host.Library.Embeddings.GenerateAsync(texts, new LibraryOptions { Dimensions = 4 })).Select(e => e.Vector.ToArray()).ToArray();
            OpenAIEmbeddingCollection cut = await client.GenerateEmbeddingsAsync(texts, new EmbeddingGenerationOptions { Dimensions = 4 });
            for (int i = 0; i < texts.Length; i++)
            {
                Assert.Equal(expected[i], cut[i].ToFloats().ToArray()); // the leading 4 components renormalised, bitwise
            }
            Assert.Equal(16, (await client.GenerateEmbeddingAsync(texts[0], new EmbeddingGenerationOptions { Dimensions = 16 })).Value.ToFloats().Length);

            var tooMany = await Assert.ThrowsAsync<ClientResultException>(() => client.GenerateEmbeddingAsync(texts[0], new EmbeddingGenerationOptions { Dimensions = 17 }));
            Assert.Equal(400, tooMany.Status);
            // The message reaches the client's exception: the server's problem carries OpenAI's "error" member too.
            Assert.Contains("16-dimensional", tooMany.Message, StringComparison.Ordinal);
            Assert.Contains("Ask for 1 to 16", tooMany.Message, StringComparison.Ordinal);
        }

        // A model that was not trained to be cut shorter refuses any other length, saying so.
        await using (ServerHost host = await ServerHost.StartAsync(dir.File("store-hashing")))
        {
            var refused = await Assert.ThrowsAsync<ClientResultException>(() => Client(host).GenerateEmbeddingAsync(texts[0], new EmbeddingGenerationOptions { Dimensions = 32 }));
            Assert.Equal(400, refused.Status);
            Assert.Contains("not trained to be cut shorter", refused.Message, StringComparison.Ordinal);
            Assert.Contains("Leave Dimensions unset (or set it to 64)", refused.Message, StringComparison.Ordinal);
        }
    }

    private static EmbeddingClient Client(ServerHost host) => new("text-embedding-3-small", new ApiKeyCredential("not-needed"), new OpenAIClientOptions
    {
        Endpoint = new Uri(host.Address, "/v1"),
        Transport = new HttpClientPipelineTransport(host.Client),
    });
}
