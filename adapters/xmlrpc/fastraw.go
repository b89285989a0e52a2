package xmlrpc

import (
	"unicode/utf8"
)

// scanner is a validate-only fast path for raw values: the gateway passes
// every peripheral's answer on untouched, so on that path a value is only
// checked, never built. It knows just the canonical form Uyuni writes
// (elements without attributes, no comments, CDATA or numeric character
// references, <name> before <value> in a member, no white space inside
// tags) and gives up on anything else: then the full decoder reads the
// value from its start and decides. It is never more lenient than the full
// decoder: FuzzDecodeResponse checks that DecodeResponseRaw accepts
// exactly what DecodeResponse accepts.
//
// Hand-written because no XML library validates without building
// something, and on a 500-peripheral multicast this check is most of the
// gateway's CPU: it runs about twice as fast as the full decoder's skip
// mode by matching whole known tags instead of reading names and then
// comparing them.
type scanner struct {
	b        []byte
	i        int
	depth    int
	maxDepth int
}

// scanValue validates the <value> at b[i:] and returns where it ends, or
// false when the full decoder must decide.
func scanValue(b []byte, i, maxDepth int) (int, bool) {
	s := scanner{b: b, i: i, maxDepth: maxDepth}
	if !s.value() {
		return 0, false
	}
	return s.i, true
}

func (s *scanner) ws() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// lit consumes lit when the input continues with it.
func (s *scanner) lit(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

func (s *scanner) value() bool {
	s.ws()
	if s.lit("<value/>") {
		return true
	}
	if !s.lit("<value>") {
		return false
	}
	start := s.i
	s.ws()
	if s.i+1 < len(s.b) && s.b[s.i] == '<' && s.b[s.i+1] != '/' {
		if !s.typed() {
			return false
		}
		s.ws()
		return s.lit("</value>")
	}
	s.i = start // untyped: a string, white space included
	if _, ok := s.text(); !ok {
		return false
	}
	return s.lit("</value>")
}

// text skips character data up to the next '<' and returns it; only the
// five predefined entities are taken, anything unusual gives up.
func (s *scanner) text() ([]byte, bool) {
	b, start := s.b, s.i
	i := start
	for i < len(b) {
		c := b[i]
		switch {
		case textByte[c]:
			i++
		case c == '<':
			if i+1 < len(b) && b[i+1] == '!' {
				return nil, false // comment or CDATA
			}
			s.i = i
			return b[start:i], true
		case c == '&':
			rest := b[i:]
			switch {
			case hasPrefix(rest, "&amp;"):
				i += 5
			case hasPrefix(rest, "&lt;"), hasPrefix(rest, "&gt;"):
				i += 4
			case hasPrefix(rest, "&quot;"), hasPrefix(rest, "&apos;"):
				i += 6
			default:
				return nil, false
			}
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(b[i:])
			if (r == utf8.RuneError && n <= 1) || !xmlChar(r) {
				return nil, false
			}
			i += n
		default:
			return nil, false // a control character: the full decoder says which
		}
	}
	return nil, false
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

// typed checks one type element; s.b[s.i] is '<'.
func (s *scanner) typed() bool {
	rest := s.b[s.i:]
	if len(rest) < 3 {
		return false
	}
	// Dispatch on the first letters, then match whole tags.
	switch rest[1] {
	case 's':
		switch {
		case s.lit("<string>"):
			if _, ok := s.text(); !ok {
				return false
			}
			return s.lit("</string>")
		case s.lit("<string/>"):
			return true
		case s.lit("<struct>"):
			return s.structure()
		case s.lit("<struct/>"):
			return true
		}
	case 'i':
		switch {
		case s.lit("<int>"):
			return s.integer("</int>")
		case s.lit("<i4>"):
			return s.integer("</i4>")
		case s.lit("<i8>"):
			return s.integer("</i8>")
		}
	case 'b':
		if s.lit("<boolean>") {
			return (s.lit("1") || s.lit("0") || s.lit("true") || s.lit("false")) && s.lit("</boolean>")
		}
	case 'd':
		switch {
		case s.lit("<dateTime.iso8601>"):
			txt, ok := s.text()
			if !ok {
				return false
			}
			if !uyuniDate(txt) {
				if _, err := ParseDateTime(trimSpace(txt)); err != nil {
					return false
				}
			}
			return s.lit("</dateTime.iso8601>")
		case s.lit("<double>"):
			txt, ok := s.text()
			if !ok {
				return false
			}
			if !plainDecimal(txt) {
				if _, ok := parseDouble(trimSpace(txt)); !ok {
					return false
				}
			}
			return s.lit("</double>")
		}
	case 'a':
		switch {
		case s.lit("<array>"):
			return s.array()
		case s.lit("<array/>"):
			return true
		}
	case 'n':
		return s.lit("<nil/>")
	}
	return false // base64, i1, i2, float, namespaced names, attributes: the full decoder
}

func (s *scanner) integer(closing string) bool {
	txt, ok := s.text()
	if !ok {
		return false
	}
	if _, ok := parseInt(trimSpace(txt)); !ok {
		return false
	}
	return s.lit(closing)
}

func (s *scanner) enter() bool {
	s.depth++
	return s.depth <= s.maxDepth
}

func (s *scanner) structure() bool {
	if !s.enter() {
		return false
	}
	for {
		s.ws()
		if s.lit("</struct>") {
			s.depth--
			return true
		}
		if !s.lit("<member>") {
			return false
		}
		s.ws()
		if !s.lit("<name>") {
			return false
		}
		if _, ok := s.text(); !ok {
			return false
		}
		if !s.lit("</name>") || !s.value() {
			return false
		}
		s.ws()
		if !s.lit("</member>") {
			return false
		}
	}
}

func (s *scanner) array() bool {
	if !s.enter() {
		return false
	}
	s.ws()
	if s.lit("<data/>") {
		s.ws()
		s.depth--
		return s.lit("</array>")
	}
	if !s.lit("<data>") {
		return false
	}
	for {
		s.ws()
		if s.lit("</data>") {
			s.ws()
			s.depth--
			return s.lit("</array>")
		}
		if !s.value() {
			return false
		}
	}
}

// uyuniDate checks Uyuni's own yyyyMMddTHH:mm:ss without building a time
// (ParseDateTime does, and dates are in every system record).
func uyuniDate(b []byte) bool {
	if len(b) != 17 || b[8] != 'T' || b[11] != ':' || b[14] != ':' {
		return false
	}
	n := func(s []byte) int {
		v := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d := n(b[0:4]), n(b[4:6]), n(b[6:8])
	h, mi, sec := n(b[9:11]), n(b[12:14]), n(b[15:17])
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[mo]
	if mo == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// plainDecimal accepts -?digits.digits with no exponent and few enough
// digits that it cannot overflow a float64: the doubles Uyuni writes.
func plainDecimal(b []byte) bool {
	if len(b) == 0 || len(b) > 300 {
		return false
	}
	i := 0
	if b[0] == '-' || b[0] == '+' {
		i++
	}
	digits, dot := 0, false
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
