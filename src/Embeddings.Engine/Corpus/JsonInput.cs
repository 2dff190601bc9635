using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace Embeddings.Corpus;

/// <summary>
/// How every user-supplied JSON line is read (JSONL papers, query files, embedding files): one set of parser options
/// (duplicate keys refused: which of two values is meant cannot be known), one way to read a string that turns a legal
/// escape of an invalid character (a lone surrogate, <c>"\ud800"</c>) into a problem instead of an exception, and
/// System.Text.Json's messages without their own "LineNumber: 0" positions, which mean nothing inside our
/// <c>file:line</c> messages.
/// </summary>
internal static class JsonInput
{
    /// <summary>Options for one JSON value per line: bounded depth, no duplicate keys.</summary>
    public static JsonDocumentOptions LineOptions { get; } = new() { MaxDepth = 16, AllowDuplicateProperties = false };

    /// <summary>The parser's complaint as our messages word it: the problem and the byte of the line where it was found.</summary>
    public static string Describe(JsonException e)
    {
        string message = e.Message;
        int position = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (position < 0)
        {
            position = message.IndexOf(" Path:", StringComparison.Ordinal);
        }
        if (position >= 0)
        {
            message = message[..position];
        }
        message = message.Trim().TrimEnd('.');
        return e.BytePositionInLine is long at
            ? string.Create(CultureInfo.InvariantCulture, $"{message} (at byte {at + 1} of the line)")
            : message;
    }

    /// <summary>
    /// The text of a JSON string, or why it has none: a string may legally escape half of a surrogate pair
    /// (<c>"\ud800"</c>), which is no character at all and cannot become .NET text.
    /// </summary>
    public static bool TryGetString(JsonElement element, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? problem)
    {
        try
        {
            value = element.GetString()!;
            problem = null;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = null;
            problem = "contains an escaped lone surrogate (a \\uD800-\\uDFFF escape without its pair), which is not a character; fix the escape or remove it";
            return false;
        }
    }
}
