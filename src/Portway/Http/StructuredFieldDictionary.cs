using Microsoft.Extensions.Primitives;

namespace Portway.Http;

/// <summary>
/// Whether a field value parses as a Structured Field Dictionary (RFC 8941 §3.2), following the
/// parsing algorithm of §4.2 and §4.2.2 step by step: keys are lcalpha or "*" then lcalpha,
/// DIGIT, "_", "-", ".", "*"; values are bare items (integer, decimal, string, token, byte
/// sequence, boolean) or inner lists, each with parameters. RFC 9651's dates and display strings
/// are not RFC 8941 and fail. Nothing is allocated for a single field line; members are read as
/// spans of the input through <see cref="Enumerator"/>.
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
        var members = new Enumerator(input);
        var count = 0;
        while (members.MoveNext()) count++;
        return members.Failed ? -1 : count;
    }

    /// <summary>What a member's value is (RFC 8941 §3.3, §3.1.1); a bare key is <see cref="Boolean"/> true.</summary>
    public enum Kind : byte { Integer, Decimal, String, Token, ByteSequence, Boolean, InnerList }

    /// <summary>
    /// The members in order, each as key, kind and the text of its value (an item without its
    /// parameters, or a whole inner list). Stops with <see cref="Failed"/> at the first error,
    /// so check <see cref="Members(ReadOnlySpan{char})"/> first when a partial read must not count.
    /// </summary>
    public ref struct Enumerator(ReadOnlySpan<char> input)
    {
        private Reader _r = new(input);
        private bool _started;
        private bool _done;

        public ReadOnlySpan<char> Key { get; private set; }
        public Kind Kind { get; private set; }
        public ReadOnlySpan<char> Value { get; private set; }
        public bool Failed { get; private set; }

        public bool MoveNext()
        {
            if (_done) return false;
            if (!_started)
            {
                _started = true;
                // §4.2: leading SP (not HTAB) is discarded; an empty value is an empty Dictionary.
                _r.Skip(' ');
                if (_r.End) return Stop(failed: false);
            }
            // §4.2.2: key, then "=" and an item or inner list, or just parameters (value true).
            var keyStart = _r.Position;
            if (!_r.Key()) return Stop(failed: true);
            Key = _r.Slice(keyStart);
            if (_r.Peek == '=')
            {
                _r.Advance();
                var valueStart = _r.Position;
                if (!_r.ItemOrInnerList(out var kind, out var valueEnd)) return Stop(failed: true);
                Kind = kind;
                Value = _r.Slice(valueStart, valueEnd);
            }
            else
            {
                if (!_r.Parameters()) return Stop(failed: true);
                Kind = Kind.Boolean;
                Value = "?1";
            }
            // Then OWS, and either the end (trailing SP included) or "," OWS and another member.
            _r.SkipOws();
            if (_r.End) _done = true;
            else
            {
                if (_r.Peek != ',') return Stop(failed: true);
                _r.Advance();
                _r.SkipOws();
                // A trailing comma is an error.
                if (_r.End) return Stop(failed: true);
            }
            return true;
        }

        private bool Stop(bool failed)
        {
            _done = true;
            Failed = failed;
            return false;
        }
    }

    private ref struct Reader(ReadOnlySpan<char> s)
    {
        private readonly ReadOnlySpan<char> _s = s;
        private int _pos;

        public readonly bool End => _pos >= _s.Length;
        public readonly int Position => _pos;

        public readonly ReadOnlySpan<char> Slice(int start) => _s[start.._pos];

        public readonly ReadOnlySpan<char> Slice(int start, int end) => _s[start..end];
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

        // §4.2.1.1; the value ends before its parameters.
        public bool ItemOrInnerList(out Kind kind, out int valueEnd)
        {
            if (Peek == '(')
            {
                kind = Kind.InnerList;
                valueEnd = 0;
                if (!InnerList(out valueEnd)) return false;
            }
            else if (!BareItem(out kind)) { valueEnd = 0; return false; }
            else valueEnd = _pos;
            return Parameters();
        }

        // §4.2.1.2 inner-list = "(" *SP [ sf-item *( 1*SP sf-item ) *SP ] ")" parameters
        private bool InnerList(out int end)
        {
            end = 0;
            _pos++;
            while (!End)
            {
                Skip(' ');
                if (Peek == ')')
                {
                    end = ++_pos;
                    return true;
                }
                // §4.2.3 sf-item = bare-item parameters
                if (!BareItem(out _) || !Parameters()) return false;
                if (Peek is not (' ' or ')')) return false;
            }
            return false;
        }

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
                    if (!BareItem(out _)) return false;
                }
            }
            return true;
        }

        // §4.2.3.1
        private bool BareItem(out Kind kind)
        {
            kind = Kind.Token;
            if (End) return false;
            var c = Peek;
            if (c == '-' || IsDigit(c)) return Number(out kind);
            kind = c switch { '"' => Kind.String, ':' => Kind.ByteSequence, '?' => Kind.Boolean, _ => Kind.Token };
            if (c == '"') return String();
            if (c == '*' || IsAlpha(c)) return Token();
            if (c == ':') return ByteSequence();
            if (c == '?') return Boolean();
            return false;
        }

        // §4.2.4: at most 15 integer digits; a decimal has at most 12 before "." and 1–3 after.
        private bool Number(out Kind kind)
        {
            kind = Kind.Integer;
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
            kind = Kind.Decimal;
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
