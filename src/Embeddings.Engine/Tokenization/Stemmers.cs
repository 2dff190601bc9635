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

        public void Step2()
        {
            if (K < 1)
            {
                return;
            }
            switch (_b[K - 1])
            {
                case 'a':
                    if (Ends("ational")) { R("ate"); break; }
                    if (Ends("tional")) { R("tion"); }
                    break;
                case 'c':
                    if (Ends("enci")) { R("ence"); break; }
                    if (Ends("anci")) { R("ance"); }
                    break;
                case 'e':
                    if (Ends("izer")) { R("ize"); }
                    break;
                case 'l':
                    if (Ends("bli")) { R("ble"); break; }
                    if (Ends("alli")) { R("al"); break; }
                    if (Ends("entli")) { R("ent"); break; }
                    if (Ends("eli")) { R("e"); break; }
                    if (Ends("ousli")) { R("ous"); }
                    break;
                case 'o':
                    if (Ends("ization")) { R("ize"); break; }
                    if (Ends("ation")) { R("ate"); break; }
                    if (Ends("ator")) { R("ate"); }
                    break;
                case 's':
                    if (Ends("alism")) { R("al"); break; }
                    if (Ends("iveness")) { R("ive"); break; }
                    if (Ends("fulness")) { R("ful"); break; }
                    if (Ends("ousness")) { R("ous"); }
                    break;
                case 't':
                    if (Ends("aliti")) { R("al"); break; }
                    if (Ends("iviti")) { R("ive"); break; }
                    if (Ends("biliti")) { R("ble"); }
                    break;
                case 'g':
                    if (Ends("logi")) { R("log"); }
                    break;
            }
        }

        public void Step3()
        {
            switch (_b[K])
            {
                case 'e':
                    if (Ends("icate")) { R("ic"); break; }
                    if (Ends("ative")) { R(""); break; }
                    if (Ends("alize")) { R("al"); }
                    break;
                case 'i':
                    if (Ends("iciti")) { R("ic"); }
                    break;
                case 'l':
                    if (Ends("ical")) { R("ic"); break; }
                    if (Ends("ful")) { R(""); }
                    break;
                case 's':
                    if (Ends("ness")) { R(""); }
                    break;
            }
        }

        public void Step4()
        {
            if (K < 1)
            {
                return;
            }
            bool found;
            switch (_b[K - 1])
            {
                case 'a': found = Ends("al"); break;
                case 'c': found = Ends("ance") || Ends("ence"); break;
                case 'e': found = Ends("er"); break;
                case 'i': found = Ends("ic"); break;
                case 'l': found = Ends("able") || Ends("ible"); break;
                case 'n': found = Ends("ant") || Ends("ement") || Ends("ment") || Ends("ent"); break;
                case 'o':
                    found = (Ends("ion") && _j >= 0 && _b[_j] is 's' or 't') || Ends("ou");
                    break;
                case 's': found = Ends("ism"); break;
                case 't': found = Ends("ate") || Ends("iti"); break;
                case 'u': found = Ends("ous"); break;
                case 'v': found = Ends("ive"); break;
                case 'z': found = Ends("ize"); break;
                default: found = false; break;
            }
            if (found && M() > 1)
            {
                K = _j;
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
