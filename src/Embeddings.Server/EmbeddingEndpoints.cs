using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Embeddings.Server;

/// <summary>
/// The embedding APIs: OpenAI's (<c>POST /v1/embeddings</c>, <c>GET /v1/models</c>) and Text Embeddings Inference's
/// (<c>POST /embed</c>), both over the <see cref="EmbeddingBatcher"/>, so concurrent requests share model batches and
/// each gets exactly the vectors of <c>embeddings embed</c> for its texts.
/// </summary>
internal static class EmbeddingEndpoints
{
    public static void Map(RouteGroupBuilder reads)
    {
        reads.MapPost("/v1/embeddings", OpenAiAsync)
            .WithName("CreateEmbeddings")
            .WithTags("Embeddings")
            .WithSummary("Embeds texts (OpenAI-compatible).")
            .WithDescription("OpenAI's embeddings API: input as a string or an array of strings, encoding_format float or base64 " +
                "(little-endian float32), dimensions honoured where the model allows. Vectors equal `embeddings embed` of the same texts. " +
                "Too many inputs or over-long texts answer 413, empty ones 422.")
            .WithBody<OpenAiEmbeddingRequest>("application/json", "OpenAI's embeddings request.")
            .Produces<OpenAiEmbeddingList>()
            .WithComputeLimits();
        reads.MapGet("/v1/models", ModelsAsync)
            .WithName("ListModels")
            .WithTags("Embeddings")
            .WithSummary("The model the server embeds with (OpenAI-compatible).")
            .Produces<OpenAiModelList>();
        reads.MapPost("/embed", TeiAsync)
            .WithName("Embed")
            .WithTags("Embeddings")
            .WithSummary("Embeds texts (Text Embeddings Inference-compatible).")
            .WithDescription("TEI's embed API: inputs as a string or an array of strings; answers a bare array of vectors. " +
                "truncate=false (default) refuses a text longer than the model reads with 413; normalize=false is refused (the vectors are unit length).")
            .WithBody<TeiEmbedRequest>("application/json", "TEI's embed request.")
            .Produces<float[][]>()
            .WithComputeLimits();
    }

    private static async Task<IResult> OpenAiAsync(HttpContext context, EmbeddingBatcher batcher, IOptions<PaperLibraryServerOptions> options)
    {
        CancellationToken ct = context.RequestAborted;
        OpenAiEmbeddingRequest request = await RequestBody.ReadJsonAsync(context.Request, ServerJson.Default.OpenAiEmbeddingRequest, ct).ConfigureAwait(false);
        IReadOnlyList<string> texts = CheckTexts(RequestBody.Texts(request.Input, "input"), "input", options.Value);
        bool base64 = request.EncodingFormat switch
        {
            null or "float" => false,
            "base64" => true,
            _ => throw HttpProblem.BadRequest($"field 'encoding_format': '{request.EncodingFormat}' is not one of float, base64."),
        };
        if (request.Dimensions is < 1)
        {
            throw HttpProblem.BadRequest(string.Create(CultureInfo.InvariantCulture, $"field 'dimensions': must be at least 1, not {request.Dimensions}."));
        }
        GeneratedEmbeddings<Embedding<float>> generated = await batcher.GenerateAsync(texts,
            request.Dimensions is int d ? new EmbeddingGenerationOptions { Dimensions = d } : null, ct).ConfigureAwait(false);
        var data = new OpenAiEmbedding[generated.Count];
        for (int i = 0; i < data.Length; i++)
        {
            float[] vector = generated[i].Vector.ToArray();
            data[i] = new OpenAiEmbedding("embedding", i, base64 ? ToBase64(vector) : vector);
        }
        long tokens = generated.Usage?.InputTokenCount ?? 0;
        string model = batcher.Model.Info.Name;
        return TypedResults.Json(new OpenAiEmbeddingList("list", data, model, new OpenAiUsage(tokens, tokens)), ServerJson.Default.OpenAiEmbeddingList);
    }

    private static IResult ModelsAsync(EmbeddingBatcher batcher, PaperLibrary library)
    {
        ModelInfo info = batcher.Model.Info;
        long created = Directory.Exists(library.StoreDirectory) ? new DateTimeOffset(Directory.GetCreationTimeUtc(library.StoreDirectory)).ToUnixTimeSeconds() : 0;
        return TypedResults.Json(new OpenAiModelList("list", [new OpenAiModel(info.Name, "model", created, "embeddings")]), ServerJson.Default.OpenAiModelList);
    }

    private static async Task<IResult> TeiAsync(HttpContext context, EmbeddingBatcher batcher, IOptions<PaperLibraryServerOptions> options)
    {
        CancellationToken ct = context.RequestAborted;
        TeiEmbedRequest request = await RequestBody.ReadJsonAsync(context.Request, ServerJson.Default.TeiEmbedRequest, ct).ConfigureAwait(false);
        IReadOnlyList<string> texts = CheckTexts(RequestBody.Texts(request.Inputs, "inputs"), "inputs", options.Value);
        if (request.Normalize == false)
        {
            throw HttpProblem.Unprocessable("field 'normalize': false is not supported: this model's vectors are unit length (leave normalize out or send true).");
        }
        if (request.TruncationDirection is { } direction && !direction.Equals("right", StringComparison.OrdinalIgnoreCase))
        {
            throw HttpProblem.Unprocessable($"field 'truncation_direction': only 'right' is supported (long texts keep their beginning), not '{direction}'.");
        }
        GeneratedEmbeddings<Embedding<float>> generated = await batcher.GenerateAsync(texts, cancellationToken: ct).ConfigureAwait(false);
        var vectors = new float[generated.Count][];
        for (int i = 0; i < vectors.Length; i++)
        {
            Embedding<float> e = generated[i];
            if (request.Truncate != true && e.AdditionalProperties?["truncated"] is true)
            {
                throw HttpProblem.TooLarge(string.Create(CultureInfo.InvariantCulture,
                    $"field 'inputs[{i}]': the text is longer than the model reads ({batcher.Model.Info.MaxWindowsPerText} windows of {batcher.Model.Info.WindowTokenLimit} word pieces); send truncate=true to embed its beginning."));
            }
            vectors[i] = e.Vector.ToArray();
        }
        return TypedResults.Json(vectors, ServerJson.Default.SingleArrayArray);
    }

    /// <summary>Refuses empty inputs (422), and too many or too long ones (413, naming the limit).</summary>
    private static IReadOnlyList<string> CheckTexts(IReadOnlyList<string> texts, string field, PaperLibraryServerOptions options)
    {
        if (texts.Count == 0)
        {
            throw HttpProblem.Unprocessable($"field '{field}': empty; send at least one text.");
        }
        if (texts.Count > options.MaxInputsPerRequest)
        {
            throw HttpProblem.TooLarge(string.Create(CultureInfo.InvariantCulture,
                $"field '{field}': {texts.Count} texts; this server takes at most {options.MaxInputsPerRequest} per request (--max-batch-inputs). Send them in several requests."));
        }
        for (int i = 0; i < texts.Count; i++)
        {
            string where = texts.Count == 1 && field == "input" ? field : string.Create(CultureInfo.InvariantCulture, $"{field}[{i}]");
            if (string.IsNullOrWhiteSpace(texts[i]))
            {
                throw HttpProblem.Unprocessable($"field '{where}': the text is empty; send some words to embed.");
            }
            if (texts[i].Length > options.MaxTextLength)
            {
                throw HttpProblem.TooLarge(string.Create(CultureInfo.InvariantCulture,
                    $"field '{where}': {texts[i].Length} characters; this server takes at most {options.MaxTextLength} per text."));
            }
        }
        return texts;
    }

    /// <summary>A vector as OpenAI's base64: the little-endian float32 bytes.</summary>
    private static string ToBase64(float[] vector)
    {
        if (!BitConverter.IsLittleEndian)
        {
            var bytes = new byte[vector.Length * sizeof(float)];
            for (int i = 0; i < vector.Length; i++)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
            }
            return Convert.ToBase64String(bytes);
        }
        return Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan()));
    }
}
