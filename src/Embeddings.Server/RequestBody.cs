using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Embeddings.Server;

/// <summary>Which body limit an endpoint has (endpoint metadata read by <see cref="RequestBody.LimitAsync"/>).</summary>
internal enum BodyLimit
{
    /// <summary>A JSON request: <see cref="PaperLibraryServerOptions.MaxRequestBytes"/>.</summary>
    Json,

    /// <summary>A streamed ingest: <see cref="PaperLibraryServerOptions.MaxIngestBytes"/>.</summary>
    Ingest,
}

/// <summary>Request bodies: the size limit (413 naming it, before or while reading) and JSON reading with located errors.</summary>
internal static class RequestBody
{
    /// <summary>
    /// Middleware: a body declared larger than the endpoint's limit answers 413 at once; a body without a declared
    /// length (chunked) is cut off with 413 as soon as it passes the limit. The server's own limit is set to the same.
    /// </summary>
    public static async Task LimitAsync(HttpContext context, Func<Task> next)
    {
        BodyLimit? kind = context.GetEndpoint()?.Metadata.GetMetadata<BodyLimitMetadata>()?.Kind;
        if (kind is null)
        {
            await next().ConfigureAwait(false);
            return;
        }
        PaperLibraryServerOptions options = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<PaperLibraryServerOptions>>().Value;
        long limit = kind == BodyLimit.Ingest ? options.MaxIngestBytes : options.MaxRequestBytes;
        string setting = kind == BodyLimit.Ingest ? "--max-ingest-bytes" : "--max-request-bytes";
        if (context.Request.ContentLength is long declared && declared > limit)
        {
            await HttpProblem.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, string.Create(CultureInfo.InvariantCulture,
                $"The request body is {declared} bytes; this server takes at most {limit} bytes here ({setting}). Send less per request.")).ConfigureAwait(false);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }
        context.Request.Body = new LimitedStream(context.Request.Body, limit, setting);
        await next().ConfigureAwait(false);
    }

    /// <summary>Reads the JSON body as <typeparamref name="T"/>; malformed JSON answers 400 naming the line, byte and field.</summary>
    public static async Task<T> ReadJsonAsync<T>(HttpRequest request, JsonTypeInfo<T> type, CancellationToken cancellationToken) where T : class
    {
        if (request.ContentType is { } contentType && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new HttpProblemException(StatusCodes.Status415UnsupportedMediaType,
                $"The body must be JSON (Content-Type: application/json), not '{contentType}'.");
        }
        try
        {
            return await JsonSerializer.DeserializeAsync(request.Body, type, cancellationToken).ConfigureAwait(false)
                ?? throw HttpProblem.BadRequest("The body is JSON null; send a JSON object.");
        }
        catch (JsonException e)
        {
            throw HttpProblem.BadRequest(Describe(e));
        }
    }

    /// <summary>
    /// A string or an array of strings (OpenAI's <c>input</c>, TEI's <c>inputs</c>) as a list; anything else answers 400
    /// naming the field and the element at fault.
    /// </summary>
    public static IReadOnlyList<string> Texts(JsonElement value, string field)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return [value.GetString()!];
            case JsonValueKind.Array:
                var texts = new List<string>(value.GetArrayLength());
                int index = 0;
                foreach (JsonElement item in value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        throw HttpProblem.BadRequest(item.ValueKind is JsonValueKind.Number or JsonValueKind.Array
                            ? $"field '{field}[{index}]': token ids are not accepted; send the text as a string."
                            : $"field '{field}[{index}]': expected a string, not {Kind(item.ValueKind)}.");
                    }
                    texts.Add(item.GetString()!);
                    index++;
                }
                return texts;
            case JsonValueKind.Undefined:
                throw HttpProblem.BadRequest($"field '{field}': missing; send a string or an array of strings.");
            default:
                throw HttpProblem.BadRequest($"field '{field}': expected a string or an array of strings, not {Kind(value.ValueKind)}.");
        }
    }

    /// <summary>A JSON error as one line: where (line, byte, field) and what.</summary>
    public static string Describe(JsonException e)
    {
        string where = e.LineNumber is long line
            ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, byte {e.BytePositionInLine + 1}")
            : "";
        string field = e.Path is { Length: > 1 } path ? $" (field '{path.TrimStart('$', '.')}')" : "";
        string what = e.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
        return $"The body is not the JSON this endpoint takes{where}{field}: {what}.";
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    /// <summary>A request body that answers 413 once more than its limit has been read.</summary>
    private sealed class LimitedStream(Stream inner, long limit, string setting) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int n)
        {
            _read += n;
            if (_read > limit)
            {
                throw new HttpProblemException(StatusCodes.Status413PayloadTooLarge, string.Create(CultureInfo.InvariantCulture,
                    $"The request body is larger than this server takes here: at most {limit} bytes ({setting}). Send less per request."));
            }
            return n;
        }
    }
}

/// <summary>Endpoint metadata: the body limit that applies.</summary>
internal sealed record BodyLimitMetadata(BodyLimit Kind);
