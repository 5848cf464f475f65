using Microsoft.Extensions.Primitives;

namespace Portway.Http;

/// <summary>
/// Whether a field value parses as a Structured Field Dictionary (RFC 8941 §3.2), following the
/// parsing algorithm of §4.2 and §4.2.2 step by step: keys are lcalpha or "*" then lcalpha,
/// DIGIT, "_", "-", ".", "*"; values are bare items (integer, decimal, string, token, byte
/// sequence, boolean) or inner lists, each with parameters. RFC 9651's dates and display strings
/// are not RFC 8941 and fail. A check only: nothing is allocated for a single field line and no
/// value is kept; callers read the members with their own parser once the value is known valid.
/// </summary>
internal static class StructuredFieldDictionary
{
    /// <summary>
    /// Several lines are parsed as if joined with commas (§4.2). Returns the member count, or -1
    /// when the value is not a Dictionary (an empty one has 0 members).
    /// </summary>
    public static int Members(StringValues lines) => lines.Count switch
    {
        0 => 0,
        1 => Members(lines[0].AsSpan()),
        _ => Members(lines.ToString().AsSpan()), // StringValues joins its lines with ','
    };

    public static int Members(ReadOnlySpan<char> input)
    {
        var r = new Reader(input);
        // §4.2: leading and trailing SP (not HTAB) around the whole value are discarded.
        r.Skip(' ');
        var members = 0;
        while (!r.End)
        {
            // §4.2.2: key, then "=" and an item or inner list, or just parameters (value true).
            if (!r.Key()) return -1;
            if (r.Peek == '=')
            {
                r.Advance();
                if (!r.ItemOrInnerList()) return -1;
            }
            else if (!r.Parameters()) return -1;
            members++;
            r.SkipOws();
            if (r.End) break;
            if (r.Peek != ',') return -1;
            r.Advance();
            r.SkipOws();
            // A trailing comma is an error.
            if (r.End) return -1;
        }
        r.Skip(' ');
        return r.End ? members : -1;
    }

    private ref struct Reader(ReadOnlySpan<char> s)
    {
        private readonly ReadOnlySpan<char> _s = s;
        private int _pos;

        public readonly bool End => _pos >= _s.Length;
        public readonly char Peek => _pos < _s.Length ? _s[_pos] : '\0';

        public void Advance() => _pos++;

        public void Skip(char c)
        {
            while (_pos < _s.Length && _s[_pos] == c) _pos++;
        }

        public void SkipOws()
        {
            while (_pos < _s.Length && _s[_pos] is ' ' or '\t') _pos++;
        }

        // §4.2.3.3 key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )
        public bool Key()
        {
            if (End || !(IsLcAlpha(Peek) || Peek == '*')) return false;
            _pos++;
            while (!End && (IsLcAlpha(Peek) || IsDigit(Peek) || Peek is '_' or '-' or '.' or '*')) _pos++;
            return true;
        }

        // §4.2.1.1
        public bool ItemOrInnerList() => Peek == '(' ? InnerList() : Item();

        // §4.2.1.2 inner-list = "(" *SP [ sf-item *( 1*SP sf-item ) *SP ] ")" parameters
        private bool InnerList()
        {
            _pos++;
            while (!End)
            {
                Skip(' ');
                if (Peek == ')')
                {
                    _pos++;
                    return Parameters();
                }
                if (!Item()) return false;
                if (Peek is not (' ' or ')')) return false;
            }
            return false;
        }

        // §4.2.3 sf-item = bare-item parameters
        private bool Item() => BareItem() && Parameters();

        // §4.2.3.2 parameters = *( ";" *SP param-key [ "=" param-value ] )
        public bool Parameters()
        {
            while (Peek == ';')
            {
                _pos++;
                Skip(' ');
                if (!Key()) return false;
                if (Peek == '=')
                {
                    _pos++;
                    if (!BareItem()) return false;
                }
            }
            return true;
        }

        // §4.2.3.1
        private bool BareItem()
        {
            if (End) return false;
            var c = Peek;
            if (c == '-' || IsDigit(c)) return Number();
            if (c == '"') return String();
            if (c == '*' || IsAlpha(c)) return Token();
            if (c == ':') return ByteSequence();
            if (c == '?') return Boolean();
            return false;
        }

        // §4.2.4: at most 15 integer digits; a decimal has at most 12 before "." and 1–3 after.
        private bool Number()
        {
            if (Peek == '-') _pos++;
            if (End || !IsDigit(Peek)) return false;
            var length = 0;
            var dot = -1;
            while (!End)
            {
                var c = Peek;
                if (IsDigit(c)) length++;
                else if (c == '.' && dot < 0)
                {
                    if (length > 12) return false;
                    dot = length++;
                }
                else break;
                _pos++;
                if (dot < 0 ? length > 15 : length > 16) return false;
            }
            if (dot < 0) return true;
            var fraction = length - dot - 1;
            return fraction is >= 1 and <= 3;
        }

        // §4.2.5 sf-string = DQUOTE *( unescaped / "%" / bs-escaped ) DQUOTE, printable ASCII only.
        private bool String()
        {
            _pos++;
            while (!End)
            {
                var c = _s[_pos++];
                if (c == '\\')
                {
                    if (End || _s[_pos] is not ('"' or '\\')) return false;
                    _pos++;
                }
                else if (c == '"') return true;
                else if (c is < ' ' or > '~') return false;
            }
            return false;
        }

        // §4.2.6 sf-token = ( ALPHA / "*" ) *( tchar / ":" / "/" )
        private bool Token()
        {
            _pos++;
            while (!End && (IsTChar(Peek) || Peek is ':' or '/')) _pos++;
            return true;
        }

        // §4.2.7 sf-binary = ":" *(base64) ":"; missing "=" padding is accepted, as §4.2.7 advises.
        private bool ByteSequence()
        {
            _pos++;
            while (!End)
            {
                var c = _s[_pos++];
                if (c == ':') return true;
                if (!(IsAlpha(c) || IsDigit(c) || c is '+' or '/' or '=')) return false;
            }
            return false;
        }

        // §4.2.8 sf-boolean = "?" ( "0" / "1" )
        private bool Boolean()
        {
            _pos++;
            if (Peek is not ('0' or '1')) return false;
            _pos++;
            return true;
        }

        private static bool IsLcAlpha(char c) => c is >= 'a' and <= 'z';

        private static bool IsAlpha(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z');

        private static bool IsDigit(char c) => c is >= '0' and <= '9';

        // RFC 9110 §5.6.2 tchar
        private static bool IsTChar(char c) =>
            IsAlpha(c) || IsDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';
    }
}
