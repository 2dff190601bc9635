using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Embeddings.Topics;

/// <summary>
/// The topic list as JSON, the shape scripts read from <c>embeddings topics --json</c>:
/// <c>{"topics": [{"id", "label", "keywords": [...], "size", "share", "papers": [ids...]}], "outliers": [ids...]}</c>.
/// Output is deterministic (fixed key order, invariant number formatting).
/// </summary>
public static class TopicJson
{
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes <paramref name="model"/> as UTF-8 JSON.</summary>
    public static void Write(TopicModel model, Stream output)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var w = new Utf8JsonWriter(output, WriterOptions);
        w.WriteStartObject();
        w.WriteString("method", model.Method);
        w.WriteNumber("seed", model.Seed);
        w.WriteStartArray("topics");
        foreach (var t in model.Topics)
        {
            w.WriteStartObject();
            w.WriteNumber("id", t.Id);
            w.WriteString("label", t.Label);
            w.WriteStartArray("keywords");
            foreach (var k in t.Keywords)
            {
                w.WriteStringValue(k.Term);
            }
            w.WriteEndArray();
            w.WriteNumber("size", t.Size);
            w.WriteNumber("share", Math.Round(t.Share, 6));
            if (t.Trend != TopicTrend.Unknown)
            {
                w.WriteString("trend", t.Trend.ToString().ToLowerInvariant());
            }
            w.WriteStartArray("papers");
            foreach (var id in t.PaperIds)
            {
                w.WriteStringValue(id);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("outliers");
        foreach (var id in model.OutlierIds)
        {
            w.WriteStringValue(id);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The JSON text of <paramref name="model"/>.</summary>
    public static string Serialize(TopicModel model)
    {
        using var ms = new MemoryStream();
        Write(model, ms);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    internal static string Number(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
