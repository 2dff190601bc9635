using System.Globalization;
using System.Text.Json;

namespace Embeddings.Encoding;

/// <summary>
/// The activation ranges a static int8 copy was made from, as <c>calibration.json</c> in its model folder (listed with
/// its hash in the manifest). Quantising the same float model with the same ranges gives the same graph byte for byte,
/// so a packaged int8 model (<see cref="PackagedQuantization"/>) ships its ranges instead of the texts they were
/// measured on, and installs the same model on every machine with the same weight precision.
/// </summary>
/// <param name="SourceModelSha256">sha256 of the float ONNX file the ranges were measured with.</param>
/// <param name="Texts">How many texts were measured.</param>
/// <param name="Source">Where the texts came from.</param>
/// <param name="Ranges">Each quantised node's input tensor and its range.</param>
internal sealed record CalibrationRanges(string SourceModelSha256, int Texts, string Source, IReadOnlyDictionary<string, ActivationRange> Ranges)
{
    /// <summary>The file name inside a static int8 model folder.</summary>
    public const string FileName = "calibration.json";

    /// <summary>Identifies the file type.</summary>
    public const string Format = "embeddings-calibration";

    /// <summary>The file layout version this build writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>The file's JSON (floats in their shortest round-trip form, tensors in name order).</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("format_version", FormatVersion);
            w.WriteString("source_model_sha256", SourceModelSha256);
            w.WriteNumber("texts", Texts);
            w.WriteString("source", Source);
            w.WriteStartObject("ranges");
            foreach (KeyValuePair<string, ActivationRange> r in Ranges.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                w.WriteStartArray(r.Key);
                w.WriteNumberValue(r.Value.Min);
                w.WriteNumberValue(r.Value.Max);
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>Reads a calibration file's JSON; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="ModelLoadException">Not a calibration file of a version this build reads, or a field is missing or wrong.</exception>
    public static CalibrationRanges Parse(ReadOnlySpan<byte> json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{source}: not valid JSON ({e.Message}). Quantise the model again with --calibration.", e);
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || ModelJson.OptionalString(root, "format") != Format)
            {
                throw new ModelLoadException($"{source}: field 'format' is not '{Format}': not a calibration file.");
            }
            int version = ModelJson.RequireInt(root, "format_version", source);
            if (version != FormatVersion)
            {
                throw new ModelLoadException($"{source}: format_version {version.ToString(CultureInfo.InvariantCulture)} is unknown to this build (it reads {FormatVersion}). Quantise the model again with --calibration.");
            }
            if (!root.TryGetProperty("ranges", out JsonElement ranges) || ranges.ValueKind != JsonValueKind.Object)
            {
                throw new ModelLoadException($"{source}: field 'ranges' (an object) is missing.");
            }
            var result = new Dictionary<string, ActivationRange>(StringComparer.Ordinal);
            foreach (JsonProperty p in ranges.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Array || p.Value.GetArrayLength() != 2
                    || !p.Value[0].TryGetSingle(out float min) || !p.Value[1].TryGetSingle(out float max) || !(min <= max))
                {
                    throw new ModelLoadException($"{source}: field 'ranges.{p.Name}' is not [min, max] with min <= max.");
                }
                result[p.Name] = new ActivationRange(min, max);
            }
            return new CalibrationRanges(ModelJson.RequireString(root, "source_model_sha256", source),
                ModelJson.RequireInt(root, "texts", source), ModelJson.OptionalString(root, "source") ?? "", result);
        }
    }

    /// <summary>
    /// The ranges of <paramref name="tensors"/>, checked to belong to the float model <paramref name="modelSha256"/>.
    /// </summary>
    /// <exception cref="ModelLoadException">Measured on another model, or a tensor has no range.</exception>
    public Dictionary<string, ActivationRange> For(string modelSha256, IReadOnlyList<string> tensors, string source)
    {
        if (!string.Equals(modelSha256, SourceModelSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelLoadException($"{source}: measured on the model with sha256 {SourceModelSha256}, not this one ({modelSha256}). Calibrate on texts instead (--calibration FILES).");
        }
        var result = new Dictionary<string, ActivationRange>(StringComparer.Ordinal);
        foreach (string tensor in tensors)
        {
            result[tensor] = Ranges.TryGetValue(tensor, out ActivationRange r)
                ? r
                : throw new ModelLoadException($"{source}: no range for the tensor '{tensor}' of this graph. Calibrate on texts instead (--calibration FILES).");
        }
        return result;
    }
}
