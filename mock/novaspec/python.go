package novaspec

import (
	"math"
	"math/big"
	"strings"
	"unicode"
)

// Nova is Python: the alias parser uses str.strip() and int(), and the extra spec validators use
// re with str patterns, where \s and \d are Unicode-aware. These helpers reproduce exactly those
// semantics so that the mock accepts and rejects the same strings as a real nova-api.

// pySpaceClass is the regexp class equivalent to Python's \s (and str.isspace) on str patterns.
const pySpaceClass = `[\t\n\v\f\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]`

// pyDigitClass is Python's \d on str patterns: any Unicode decimal digit.
const pyDigitClass = `\p{Nd}`

// pyIsSpace reports whether r is whitespace for Python's str.isspace().
func pyIsSpace(r rune) bool {
	switch {
	case r >= '\t' && r <= '\r', r >= 0x1c && r <= 0x1f, r == ' ', r == 0x85, r == 0xa0, r == 0x1680,
		r >= 0x2000 && r <= 0x200a, r == 0x2028, r == 0x2029, r == 0x202f, r == 0x205f, r == 0x3000:
		return true
	}
	return false
}

// pyStrip is Python's str.strip() without arguments.
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// pyMaxDigits is CPython's default limit on the digits int() converts (sys.int_info.default_max_str_digits).
const pyMaxDigits = 4300

// digitValue returns the value of a Unicode decimal digit. Nd characters come in contiguous runs
// of ten starting at a zero, so the value is the distance to the start of the run modulo 10.
func digitValue(r rune) int {
	start := r
	for start > 0 && unicode.Is(unicode.Nd, start-1) {
		start--
	}
	return int(r-start) % 10
}

// pyInt is Python's int(s) for a str: surrounding whitespace, an optional sign, Unicode decimal
// digits and single underscores between digits. ok is false where int() raises ValueError.
func pyInt(s string) (v *big.Int, ok bool) {
	s = pyStrip(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return nil, false
	}
	v = new(big.Int)
	ten := big.NewInt(10)
	digits := 0
	prevDigit := false
	for _, r := range s {
		switch {
		case r == '_':
			if !prevDigit {
				return nil, false
			}
			prevDigit = false
		case unicode.Is(unicode.Nd, r):
			digits++
			v.Mul(v, ten)
			v.Add(v, big.NewInt(int64(digitValue(r))))
			prevDigit = true
		default:
			return nil, false
		}
	}
	if !prevDigit || digits > pyMaxDigits {
		return nil, false
	}
	if neg {
		v.Neg(v)
	}
	return v, true
}

// clampInt converts to int, saturating: a count larger than any host could hold still means
// "more than there is", which is what Nova would conclude with its arbitrary-precision ints.
func clampInt(v *big.Int) int {
	if v.IsInt64() {
		i := v.Int64()
		if i > math.MaxInt32 {
			return math.MaxInt32
		}
		if i < math.MinInt32 {
			return math.MinInt32
		}
		return int(i)
	}
	if v.Sign() > 0 {
		return math.MaxInt32
	}
	return math.MinInt32
}
