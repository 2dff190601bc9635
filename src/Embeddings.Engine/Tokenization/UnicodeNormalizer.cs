using System.Runtime.CompilerServices;

namespace Embeddings.Tokenization;

/// <summary>
/// NFD and NFKC over code points, from generated tables (<see cref="UnicodeNormalizationData"/>).
/// Why not <see cref="string.Normalize()"/>: with InvariantGlobalization (which this project uses, and which
/// containers often force) .NET has no ICU and Normalize silently returns its input unchanged, which would
/// change token ids. The algorithms follow UAX #15: full decomposition, canonical ordering by combining
/// class, then (NFKC only) canonical composition of unblocked pairs; Hangul is done arithmetically.
/// </summary>
internal static class UnicodeNormalizer
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    /// <summary>
    /// The NFKC form of <paramref name="text"/> (what <see cref="string.Normalize(System.Text.NormalizationForm)"/>
    /// would give with ICU). ASCII text is returned as is.
    /// </summary>
    public static string ToNfkc(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (System.Text.Ascii.IsValid(text))
        {
            return text;
        }
        var decomposed = new PooledBuffer<int>(text.Length + 8);
        try
        {
            for (int i = 0; i < text.Length;)
            {
                AppendDecomposed(SentencePieceUnigramTokenizer.ReadCodePoint(text, ref i), compatibility: true, ref decomposed);
            }
            int length = Compose(decomposed.Span);
            var builder = new System.Text.StringBuilder(length);
            foreach (int cp in decomposed.Span[..length])
            {
                // Lone surrogates stand for themselves, as they came in.
                if (cp < 0x10000)
                {
                    builder.Append((char)cp);
                }
                else
                {
                    builder.Append(char.ConvertFromUtf32(cp));
                }
            }
            return builder.ToString();
        }
        finally
        {
            decomposed.Dispose();
        }
    }

    /// <summary>
    /// Appends the canonical (NFD) or compatibility (NFKD) decomposition of <paramref name="codePoint"/> to
    /// <paramref name="output"/>, keeping the trailing run of combining marks in canonical order.
    /// </summary>
    public static void AppendDecomposed(int codePoint, bool compatibility, ref PooledBuffer<int> output)
    {
        if (codePoint < 0xA0)
        {
            output.Add(codePoint); // nothing below U+00A0 decomposes or combines
            return;
        }
        int s = codePoint - SBase;
        if ((uint)s < SCount)
        {
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0)
            {
                output.Add(TBase + s % TCount);
            }
            return;
        }
        ReadOnlySpan<int> mapping = default;
        if (compatibility)
        {
            mapping = Lookup(UnicodeNormalizationData.CompatibilityKeys, UnicodeNormalizationData.CompatibilityOffsets,
                UnicodeNormalizationData.CompatibilityData, codePoint);
        }
        if (mapping.IsEmpty)
        {
            mapping = Lookup(UnicodeNormalizationData.CanonicalKeys, UnicodeNormalizationData.CanonicalOffsets,
                UnicodeNormalizationData.CanonicalData, codePoint);
        }
        if (mapping.IsEmpty)
        {
            AppendOrdered(codePoint, ref output);
        }
        else
        {
            foreach (int cp in mapping)
            {
                AppendOrdered(cp, ref output);
            }
        }
    }

    /// <summary>Composes an NFD/NFKD sequence in place (canonical composition); returns the new length.</summary>
    public static int Compose(Span<int> cps)
    {
        int written = 0;
        int starter = -1;     // index in the output of the last starter
        int lastClass = 0;    // combining class of the last code point written
        for (int i = 0; i < cps.Length; i++)
        {
            int cp = cps[i];
            int cc = CombiningClass(cp);
            if (starter >= 0 && (written - 1 == starter || (lastClass != 0 && lastClass < cc)))
            {
                int composite = ComposePair(cps[starter], cp);
                if (composite >= 0)
                {
                    cps[starter] = composite;
                    continue;
                }
            }
            if (cc == 0)
            {
                starter = written;
            }
            lastClass = cc;
            cps[written++] = cp;
        }
        return written;
    }

    /// <summary>The canonical combining class (0 for starters).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CombiningClass(int codePoint)
    {
        if (codePoint < 0x300)
        {
            return 0;
        }
        int i = UnicodeNormalizationData.CombiningKeys.BinarySearch(codePoint);
        return i >= 0 ? UnicodeNormalizationData.CombiningClasses[i] : 0;
    }

    private static int ComposePair(int first, int second)
    {
        int l = first - LBase;
        if ((uint)l < LCount)
        {
            int v = second - VBase;
            return (uint)v < VCount ? SBase + (l * VCount + v) * TCount : -1;
        }
        int s = first - SBase;
        if ((uint)s < SCount && s % TCount == 0)
        {
            int t = second - TBase;
            return t > 0 && t < TCount ? first + t : -1;
        }
        long key = (long)first * 0x110000 + second;
        int i = UnicodeNormalizationData.CompositionKeys.BinarySearch(key);
        return i >= 0 ? UnicodeNormalizationData.CompositionValues[i] : -1;
    }

    private static void AppendOrdered(int cp, ref PooledBuffer<int> output)
    {
        int cc = CombiningClass(cp);
        output.Add(cp);
        if (cc == 0)
        {
            return;
        }
        // Canonical ordering: bubble the mark back past marks of a higher class (stable).
        Span<int> span = output.Span;
        int j = span.Length - 1;
        while (j > 0)
        {
            int prevClass = CombiningClass(span[j - 1]);
            if (prevClass <= cc)
            {
                break;
            }
            span[j] = span[j - 1];
            j--;
        }
        span[j] = cp;
    }

    private static ReadOnlySpan<int> Lookup(ReadOnlySpan<int> keys, ReadOnlySpan<int> offsets, ReadOnlySpan<int> data, int cp)
    {
        int i = keys.BinarySearch(cp);
        return i < 0 ? default : data[offsets[i]..offsets[i + 1]];
    }
}
