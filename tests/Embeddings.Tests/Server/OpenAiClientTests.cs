using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Embeddings.IO;
using Embeddings.Tests.Encoding;
using Embeddings.Tests.Support;
using OpenAI;
using OpenAI.Embeddings;

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
}
