using Embeddings.Quality;

namespace Embeddings.Tokenization;

/// <summary>
/// Stemmers that work in place on a lower-cased token and return its new length, so the analyzer's hot
/// path allocates nothing. Tokens containing anything other than ASCII a-z are left as they are
/// (numbers, Greek letters, gene names such as "p53" are better matched exactly).
/// </summary>
internal static class Stemmers
{
    /// <summary>Stems <paramref name="word"/> in place with <paramref name="kind"/>; returns the stem length.</summary>
    public static int Stem(StemmerKind kind, Span<char> word) => kind switch
    {
        StemmerKind.None => word.Length,
        StemmerKind.Plural => Plural(word),
        StemmerKind.Porter => Porter(word),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "known stemmers: None, Plural, Porter"),
    };

    /// <summary>Harman's S-stemmer as in Lucene's EnglishMinimalStemmer; returns the stem length.</summary>
    public static int Plural(Span<char> s)
    {
        int len = s.Length;
        if (len < 3 || s[len - 1] != 's' || !IsAsciiLower(s))
        {
            return len;
        }
        switch (s[len - 2])
        {
            case 'u':
            case 's':
                return len;
            case 'e':
                if (len > 3 && s[len - 3] == 'i' && s[len - 4] != 'a' && s[len - 4] != 'e')
                {
                    s[len - 3] = 'y';
                    return len - 2;
                }
                if (s[len - 3] is 'i' or 'a' or 'o' or 'e')
                {
                    return len;
                }
                return len - 1;
            default:
                return len - 1;
        }
    }

    /// <summary>The Porter (1980) stemmer, following Martin Porter's reference C implementation.</summary>
    public static int Porter(Span<char> word)
    {
        if (word.Length <= 2 || !IsAsciiLower(word))
        {
            return word.Length;
        }
        var p = new PorterState(word);
        p.Step1ab();
        if (p.K > 0)
        {
            p.Step1c();
            p.Step2();
            p.Step3();
            p.Step4();
            p.Step5();
        }
        return p.K + 1;
    }

    private static bool IsAsciiLower(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (c is < 'a' or > 'z')
            {
                return false;
            }
        }
        return true;
    }

    // Porter's rule tables in the reference's order. The reference switches on one letter of the word first; here
    // every suffix is tried in order, which finds the same first match: a suffix can only match where that letter
    // (the word's second-to-last one for steps 2 and 4, its last for step 3) is the suffix's own.
    private static readonly (string Suffix, string Replacement)[] Step2Rules =
    [
        ("ational", "ate"), ("tional", "tion"),
        ("enci", "ence"), ("anci", "ance"),
        ("izer", "ize"),
        ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"),
        ("ization", "ize"), ("ation", "ate"), ("ator", "ate"),
        ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"),
        ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
        ("logi", "log"),
    ];

    private static readonly (string Suffix, string Replacement)[] Step3Rules =
    [
        ("icate", "ic"), ("ative", ""), ("alize", "al"),
        ("iciti", "ic"),
        ("ical", "ic"), ("ful", ""),
        ("ness", ""),
    ];

    private static readonly string[] Step4Suffixes =
    [
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism", "ate", "iti",
        "ous", "ive", "ize",
    ];

    /// <summary>The reference algorithm's state: the buffer, its last index K and the stem end J.</summary>
    private ref struct PorterState
    {
        private readonly Span<char> _b;
        public int K;
        private int _j;

        public PorterState(Span<char> b)
        {
            _b = b;
            K = b.Length - 1;
            _j = 0;
        }

        private readonly bool Cons(int i) => _b[i] switch
        {
            'a' or 'e' or 'i' or 'o' or 'u' => false,
            'y' => i == 0 || !Cons(i - 1),
            _ => true,
        };

        /// <summary>Number of consonant-vowel sequences in b[0..j].</summary>
        private readonly int M()
        {
            int n = 0;
            int i = 0;
            while (true)
            {
                if (i > _j)
                {
                    return n;
                }
                if (!Cons(i))
                {
                    break;
                }
                i++;
            }
            i++;
            while (true)
            {
                while (true)
                {
                    if (i > _j)
                    {
                        return n;
                    }
                    if (Cons(i))
                    {
                        break;
                    }
                    i++;
                }
                i++;
                n++;
                while (true)
                {
                    if (i > _j)
                    {
                        return n;
                    }
                    if (!Cons(i))
                    {
                        break;
                    }
                    i++;
                }
                i++;
            }
        }

        private readonly bool VowelInStem()
        {
            for (int i = 0; i <= _j; i++)
            {
                if (!Cons(i))
                {
                    return true;
                }
            }
            return false;
        }

        private readonly bool DoubleC(int j) => j >= 1 && _b[j] == _b[j - 1] && Cons(j);

        private readonly bool Cvc(int i)
        {
            if (i < 2 || !Cons(i) || Cons(i - 1) || !Cons(i - 2))
            {
                return false;
            }
            return _b[i] is not ('w' or 'x' or 'y');
        }

        private bool Ends(string s)
        {
            int length = s.Length;
            if (length > K + 1 || _b[K] != s[length - 1])
            {
                return false;
            }
            if (!_b.Slice(K - length + 1, length).SequenceEqual(s))
            {
                return false;
            }
            _j = K - length;
            return true;
        }

        private void SetTo(string s)
        {
            s.AsSpan().CopyTo(_b[(_j + 1)..]);
            K = _j + s.Length;
        }

        private void R(string s)
        {
            if (M() > 0)
            {
                SetTo(s);
            }
        }

        public void Step1ab()
        {
            if (_b[K] == 's')
            {
                if (Ends("sses"))
                {
                    K -= 2;
                }
                else if (Ends("ies"))
                {
                    SetTo("i");
                }
                else if (_b[K - 1] != 's')
                {
                    K--;
                }
            }
            if (Ends("eed"))
            {
                if (M() > 0)
                {
                    K--;
                }
            }
            else if ((Ends("ed") || Ends("ing")) && VowelInStem())
            {
                K = _j;
                if (Ends("at"))
                {
                    SetTo("ate");
                }
                else if (Ends("bl"))
                {
                    SetTo("ble");
                }
                else if (Ends("iz"))
                {
                    SetTo("ize");
                }
                else if (DoubleC(K))
                {
                    K--;
                    if (_b[K] is 'l' or 's' or 'z')
                    {
                        K++;
                    }
                }
                else
                {
                    _j = K;
                    if (M() == 1 && Cvc(K))
                    {
                        SetTo("e");
                    }
                }
            }
        }

        public void Step1c()
        {
            if (Ends("y") && VowelInStem())
            {
                _b[K] = 'i';
            }
        }

        public void Step2() => ReplaceFirstSuffix(Step2Rules);

        public void Step3() => ReplaceFirstSuffix(Step3Rules);

        public void Step4()
        {
            foreach (string suffix in Step4Suffixes)
            {
                if (Ends(suffix))
                {
                    // "-ion" goes only after s or t (adoption -> adopt), as in the reference.
                    bool removable = suffix != "ion" || (_j >= 0 && _b[_j] is 's' or 't');
                    if (removable && M() > 1)
                    {
                        K = _j;
                    }
                    return;
                }
            }
        }

        /// <summary>
        /// The first rule whose suffix the word ends with decides: its replacement is applied when the stem's measure
        /// is above 0, and no later rule is tried either way (the reference's switch-and-break).
        /// </summary>
        private void ReplaceFirstSuffix((string Suffix, string Replacement)[] rules)
        {
            foreach ((string suffix, string replacement) in rules)
            {
                if (Ends(suffix))
                {
                    R(replacement);
                    return;
                }
            }
        }

        public void Step5()
        {
            _j = K;
            if (_b[K] == 'e')
            {
                int a = M();
                if (a > 1 || (a == 1 && !Cvc(K - 1)))
                {
                    K--;
                }
            }
            // As in the reference, the measure here is still taken over the word before the 'e' was removed.
            if (_b[K] == 'l' && DoubleC(K) && M() > 1)
            {
                K--;
            }
        }
    }
}
