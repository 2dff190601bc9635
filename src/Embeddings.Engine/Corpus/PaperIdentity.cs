using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Embeddings.Corpus;

/// <summary>
/// How papers are identified and compared: ids derived from normalised titles when an input has no id,
/// and a content hash of title and abstract that detects changed text.
/// </summary>
internal static class PaperIdentity
{
    /// <summary>Prefix of ids derived from titles, so they never collide with real ids such as arXiv numbers.</summary>
    public const string TitleIdPrefix = "t-";

    /// <summary>
    /// The title reduced to what identifies it: Unicode-compatibility normalised, lower case, letters and
    /// digits only, single spaces. "Pointer  Networks." and "pointer networks" are the same title.
    /// </summary>
    public static string NormalizeTitle(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        // string.Normalize is a no-op under InvariantGlobalization, so the project's own NFKC is used.
        string folded = Embeddings.Tokenization.UnicodeNormalizer.ToNfkc(title);
        var sb = new StringBuilder(folded.Length);
        bool pendingSpace = false;
        foreach (char c in folded)
        {
            if (char.IsLetterOrDigit(c))
            {
                if (pendingSpace && sb.Length > 0)
                {
                    sb.Append(' ');
                }
                pendingSpace = false;
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                pendingSpace = true;
            }
        }
        return sb.ToString();
    }

    /// <summary>The id of a paper whose input has none: <c>t-</c> and 16 hex digits of the XxHash64 of the normalised title.</summary>
    public static string IdFromTitle(string title)
    {
        string normalized = NormalizeTitle(title);
        ulong hash = XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(normalized));
        return TitleIdPrefix + hash.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>XxHash128 of the UTF-8 title, a separator and the UTF-8 abstract: equal hashes mean equal embedded text.</summary>
    public static UInt128 ContentHash(string title, string @abstract)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(@abstract);
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(title.Length + @abstract.Length) + 1;
        byte[] rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            int n = System.Text.Encoding.UTF8.GetBytes(title, rented);
            rented[n++] = 0; // cannot occur in text: keeps ("ab","c") and ("a","bc") apart
            n += System.Text.Encoding.UTF8.GetBytes(@abstract, rented.AsSpan(n));
            return XxHash128.HashToUInt128(rented.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The content hash of <paramref name="paper"/>'s title and abstract.</summary>
    public static UInt128 ContentHash(Paper paper)
    {
        ArgumentNullException.ThrowIfNull(paper);
        return ContentHash(paper.Title, paper.Abstract);
    }

    /// <summary>Which of <paramref name="shardCount"/> shards the id belongs to: XxHash64 of its UTF-8 bytes modulo the count.</summary>
    public static int ShardOf(string id, int shardCount)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        return (int)(XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(id)) % (ulong)shardCount);
    }
}
