using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Embeddings.Server;

/// <summary>
/// The request and response bodies of the embedding APIs (OpenAI's and TEI's shapes), read and written through the
/// source-generated <see cref="ServerJson"/> context; the OpenAPI document describes these types. The paper API
/// answers with the engine's own JSON contracts (<see cref="LibraryJson"/>) instead, so it reads like the CLI's <c>--json</c>.
/// </summary>
[Description("POST /v1/embeddings: OpenAI's embeddings request.")]
internal sealed class OpenAiEmbeddingRequest
{
    /// <summary>A string or an array of strings.</summary>
    [JsonPropertyName("input")]
    [Description("The text to embed: a string or an array of strings (token arrays are not accepted).")]
    public JsonElement Input { get; set; }

    /// <summary>Any name: the server has one model and answers with its name.</summary>
    [JsonPropertyName("model")]
    [Description("Accepted and ignored: the server embeds with its store's model and names it in the answer (GET /v1/models).")]
    public string? Model { get; set; }

    /// <summary><c>float</c> (default) or <c>base64</c>.</summary>
    [JsonPropertyName("encoding_format")]
    [Description("float (default): arrays of numbers; base64: each vector as base64 of little-endian float32.")]
    public string? EncodingFormat { get; set; }

    /// <summary>Vector length; refused unless the model can give it.</summary>
    [JsonPropertyName("dimensions")]
    [Description("Vector length: honoured when the model can be cut (LSA models), else only its own dimension is accepted.")]
    public int? Dimensions { get; set; }

    /// <summary>Accepted and ignored.</summary>
    [JsonPropertyName("user")]
    public string? User { get; set; }
}

/// <summary>The answer of <c>POST /v1/embeddings</c>.</summary>
internal sealed record OpenAiEmbeddingList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiEmbedding> Data,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("usage")] OpenAiUsage Usage);

/// <summary>One vector of an OpenAI answer.</summary>
internal sealed record OpenAiEmbedding(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("embedding"), Description("An array of numbers, or a base64 string with encoding_format=base64.")] object Embedding);

/// <summary>Tokens the model read.</summary>
internal sealed record OpenAiUsage(
    [property: JsonPropertyName("prompt_tokens")] long PromptTokens,
    [property: JsonPropertyName("total_tokens")] long TotalTokens);

/// <summary>The answer of <c>GET /v1/models</c>.</summary>
internal sealed record OpenAiModelList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<OpenAiModel> Data);

/// <summary>One model of <c>GET /v1/models</c>.</summary>
internal sealed record OpenAiModel(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy);

/// <summary><c>POST /embed</c>: Text Embeddings Inference's request.</summary>
[Description("POST /embed: the request of Hugging Face Text Embeddings Inference.")]
internal sealed class TeiEmbedRequest
{
    /// <summary>A string or an array of strings.</summary>
    [JsonPropertyName("inputs")]
    [Description("A string or an array of strings.")]
    public JsonElement Inputs { get; set; }

    /// <summary>Only true: the model's vectors are unit length.</summary>
    [JsonPropertyName("normalize")]
    [Description("true (default). false is refused: the model's vectors are normalised.")]
    public bool? Normalize { get; set; }

    /// <summary>Whether a text longer than the model reads may be cut.</summary>
    [JsonPropertyName("truncate")]
    [Description("false (default): a text longer than the model reads (all its sentence windows) is refused with 413; true: it is cut and embedded.")]
    public bool? Truncate { get; set; }

    /// <summary>Only <c>right</c>.</summary>
    [JsonPropertyName("truncation_direction")]
    public string? TruncationDirection { get; set; }
}

/// <summary>The body of <c>POST /api/similar</c> (the GET form takes the same as query parameters).</summary>
[Description("POST /api/similar: a similar-paper query. At least one of text, id or like.")]
internal sealed class SimilarRequest
{
    /// <summary>Free text (an abstract, a title, a query).</summary>
    [JsonPropertyName("text")]
    public string? Text { get; set; }

    /// <summary>A stored paper to find neighbours of.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    /// <summary>Stored papers the hits should resemble.</summary>
    [JsonPropertyName("like")]
    public IReadOnlyList<string>? Like { get; set; }

    /// <summary>Stored papers the hits should not resemble.</summary>
    [JsonPropertyName("unlike")]
    public IReadOnlyList<string>? Unlike { get; set; }

    /// <summary>How like/unlike rank: <c>classifier</c> (default: the request's linear SVM) or <c>rocchio</c> (the liked papers' centre).</summary>
    [JsonPropertyName("like_ranking")]
    public string? LikeRanking { get; set; }

    /// <summary>Number of hits (default 10).</summary>
    [JsonPropertyName("k")]
    public int? K { get; set; }

    /// <summary><c>hybrid</c> (default), <c>vector</c> or <c>lexical</c>.</summary>
    [JsonPropertyName("mode")]
    public string? Mode { get; set; }

    /// <summary>Filter expressions as the CLI's <c>--filter</c> (<c>date&gt;=2025-03-01</c>, <c>category=cs.CL</c>, <c>id=A,B</c>).</summary>
    [JsonPropertyName("filter")]
    public IReadOnlyList<string>? Filter { get; set; }

    /// <summary>Hits scoring below this are dropped.</summary>
    [JsonPropertyName("min_score")]
    public float? MinScore { get; set; }

    /// <summary>Exact search (brute force) instead of HNSW.</summary>
    [JsonPropertyName("exact")]
    public bool? Exact { get; set; }
}

/// <summary>The answer of <c>GET /health</c>.</summary>
internal sealed record HealthAnswer([property: JsonPropertyName("status")] string Status);

/// <summary>The source-generated serializers of the server's own bodies.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict, ReadCommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false)]
[JsonSerializable(typeof(OpenAiEmbeddingRequest))]
[JsonSerializable(typeof(OpenAiEmbeddingList))]
[JsonSerializable(typeof(OpenAiModelList))]
[JsonSerializable(typeof(TeiEmbedRequest))]
[JsonSerializable(typeof(float[][]))]
[JsonSerializable(typeof(float[]))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(SimilarRequest))]
[JsonSerializable(typeof(HealthAnswer))]
internal sealed partial class ServerJson : JsonSerializerContext;
