package xmlrpc

import (
	"encoding/binary"
	"math/bits"
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
//
// Every step takes the position to start at and returns the position
// after what it matched, or -1 when the full decoder must decide; lit,
// ws, text and value pass a -1 on, so steps can be chained. Keeping the
// position in a register rather than in the struct matters: white space
// and tags are a few bytes each, and a store per byte was a good part of
// the cost. Text and runs of spaces are read eight bytes at a time
// (FuzzScanText checks text against a byte-at-a-time version).
type scanner struct {
	b        []byte
	maxDepth int
}

// scanValue validates the <value> at b[i:] and returns where it ends, or
// false when the full decoder must decide.
func scanValue(b []byte, i, maxDepth int) (int, bool) {
	s := scanner{b: b, maxDepth: maxDepth}
	end := s.value(i, 0)
	if end < 0 {
		return 0, false
	}
	return end, true
}

// Word-at-a-time helpers: eight input bytes are loaded as one
// little-endian word, so byte k of the input is bits 8k..8k+7.
const (
	ones  = 0x0101010101010101 // 0x01 in every byte
	highs = 0x8080808080808080 // the top bit of every byte
)

func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i : i+8]) }

// firstByte returns the index of the lowest byte whose top bit is set in
// m, which must not be zero.
func firstByte(m uint64) int { return bits.TrailingZeros64(m) >> 3 }

// zeroBytes sets the top bit of the lowest zero byte of x (and maybe of
// some bytes above it, where the borrow runs on): only the lowest flagged
// byte may be relied on. Bytes below it are never flagged.
func zeroBytes(x uint64) uint64 { return (x - ones) &^ x & highs }

// ws skips white space. Most calls find a tag straight away, so that test
// is small enough to inline; runs of white space go to wsRun.
func (s *scanner) ws(i int) int {
	if uint(i) < uint(len(s.b)) && s.b[i] <= ' ' {
		return s.wsRun(i)
	}
	return i
}

// wsRun is kept out of line so that ws stays small enough to inline.
//
//go:noinline
func (s *scanner) wsRun(i int) int {
	b := s.b
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
		// Indentation: skip a run of spaces eight at a time.
		for i+8 <= len(b) {
			if x := load64(b, i) ^ (' ' * ones); x != 0 {
				i += bits.TrailingZeros64(x) >> 3 // the first byte that is not a space
				break
			}
			i += 8
		}
	}
	return i
}

// lit returns the position after lit when the input at i continues with
// it, else -1.
//
// It is written for what the compiler makes of it once inlined with a
// constant lit: a compare with a constant string of at most 8 bytes
// becomes a load and a compare, a longer one a call to memequal, which
// costs more than the whole match. So a 9-byte tag (</member>, </string>
// and the like) is compared as 8 bytes and one, and callers split the
// few longer tags. The constant survives inlining only when the position
// passed is a plain variable: with a call in the argument list the
// inliner copies both arguments to temporaries. So the steps below are
// written one statement at a time.
func (s *scanner) lit(i int, lit string) int {
	n := len(lit)
	if i < 0 || len(s.b)-i < n {
		return -1
	}
	var ok bool
	if n == 9 {
		ok = string(s.b[i:i+8]) == lit[:8] && s.b[i+8] == lit[8]
	} else {
		ok = string(s.b[i:i+n]) == lit
	}
	if !ok {
		return -1
	}
	return i + n
}

// specialBytes flags (as zeroBytes does) the bytes of w that text cannot
// pass over without a closer look: '<', '&', control characters (tab, LF
// and CR included: they are rare in text) and every byte of a multi-byte
// UTF-8 sequence.
func specialBytes(w uint64) uint64 {
	// (w - 0x20 in every byte) sets a byte's top bit when it is below 0x20
	// or at least 0xA0, and the borrow starts only at bytes below 0x20;
	// or-ing w adds 0x80..0x9F.
	ctlOrHigh := (w - ' '*ones) | w
	return ctlOrHigh&highs | zeroBytes(w^('<'*ones)) | zeroBytes(w^('&'*ones))
}

// text skips character data up to the next '<' and returns its position;
// only the five predefined entities are taken, anything unusual gives up.
func (s *scanner) text(i int) int {
	if i < 0 {
		return -1
	}
	b := s.b
	for {
		// Plain ASCII, the bulk of it, eight bytes at a time.
		for i+8 <= len(b) {
			if m := specialBytes(load64(b, i)); m != 0 {
				i += firstByte(m)
				break
			}
			i += 8
		}
		if i >= len(b) {
			return -1
		}
		switch c := b[i]; {
		case textByte[c]:
			i++
		case c == '<':
			if i+1 < len(b) && b[i+1] == '!' {
				return -1 // comment or CDATA
			}
			return i
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
				return -1
			}
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(b[i:])
			if (r == utf8.RuneError && n <= 1) || !xmlChar(r) {
				return -1
			}
			i += n
		default:
			return -1 // a control character: the full decoder says which
		}
	}
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

func (s *scanner) value(i, depth int) int {
	i = s.ws(i)
	if j := s.lit(i, "<value>"); j >= 0 {
		i = s.ws(j)
		if i+1 < len(s.b) && s.b[i] == '<' && s.b[i+1] != '/' {
			i = s.typed(i, depth)
			i = s.ws(i)
			return s.lit(i, "</value>")
		}
		// Untyped: a string, white space included.
		i = s.text(j)
		return s.lit(i, "</value>")
	}
	return s.lit(i, "<value/>")
}

// typed checks one type element; s.b[i] is '<'.
func (s *scanner) typed(i, depth int) int {
	b := s.b
	if len(b)-i < 3 {
		return -1
	}
	// Dispatch on the first letters, then match whole tags.
	switch b[i+1] {
	case 's':
		if j := s.lit(i, "<string>"); j >= 0 {
			j = s.text(j)
			return s.lit(j, "</string>")
		}
		if j := s.lit(i, "<struct>"); j >= 0 {
			return s.structure(j, depth+1)
		}
		if j := s.lit(i, "<string/>"); j >= 0 {
			return j
		}
		return s.lit(i, "<struct/>")
	case 'i':
		if j := s.lit(i, "<i4>"); j >= 0 {
			j = s.integer(j)
			return s.lit(j, "</i4>")
		}
		if j := s.lit(i, "<int>"); j >= 0 {
			j = s.integer(j)
			return s.lit(j, "</int>")
		}
		if j := s.lit(i, "<i8>"); j >= 0 {
			j = s.integer(j)
			return s.lit(j, "</i8>")
		}
	case 'b':
		if j := s.lit(i, "<boolean>"); j >= 0 {
			switch {
			case j < len(b) && (b[j] == '0' || b[j] == '1'):
				j++
			case s.lit(j, "true") >= 0:
				j += len("true")
			default:
				j = s.lit(j, "false")
			}
			j = s.lit(j, "</") // in pieces of at most 9 bytes, for lit
			return s.lit(j, "boolean>")
		}
	case 'd':
		j := s.lit(i, "<dateTime") // in pieces of at most 9 bytes, for lit
		if j = s.lit(j, ".iso8601>"); j >= 0 {
			// Uyuni's own form right up to the closing tag, as in
			// integer; else whatever text there is.
			end := j + len("yyyyMMddTHH:mm:ss")
			if end >= len(b) || b[end] != '<' || !uyuniDate(b[j:end]) {
				if end = s.text(j); end < 0 {
					return -1
				}
				if _, err := ParseDateTime(trimSpace(b[j:end])); err != nil {
					return -1
				}
			}
			end = s.lit(end, "</")
			end = s.lit(end, "dateTime")
			return s.lit(end, ".iso8601>")
		}
		if j := s.lit(i, "<double>"); j >= 0 {
			end := s.text(j)
			if end < 0 {
				return -1
			}
			if txt := b[j:end]; !plainDouble(txt) {
				if _, ok := parseDouble(trimSpace(txt)); !ok {
					return -1
				}
			}
			return s.lit(end, "</double>")
		}
	case 'a':
		if j := s.lit(i, "<array>"); j >= 0 {
			return s.array(j, depth+1)
		}
		return s.lit(i, "<array/>")
	case 'n':
		return s.lit(i, "<nil/>")
	}
	return -1 // base64, i1, i2, float, namespaced names, attributes: the full decoder
}

// integer checks the text of an integer element and returns where it
// ends.
func (s *scanner) integer(i int) int {
	b := s.b
	// The usual case, up to 18 digits (so never out of range) right up to
	// the closing tag, is read here rather than by text and parseInt. The
	// closing tag the caller matches rules out the "<!" text refuses.
	k := i
	if k < len(b) && (b[k] == '-' || b[k] == '+') {
		k++
	}
	digits := k
	for k < len(b) && b[k]-'0' <= 9 && k-digits < 18 {
		k++
	}
	if k > digits && k < len(b) && b[k] == '<' {
		return k
	}
	end := s.text(i)
	if end < 0 {
		return -1
	}
	if _, ok := parseInt(trimSpace(b[i:end])); !ok {
		return -1
	}
	return end
}

func (s *scanner) structure(i, depth int) int {
	if depth > s.maxDepth {
		return -1
	}
	for {
		i = s.ws(i)
		j := s.lit(i, "<member>")
		if j < 0 {
			return s.lit(i, "</struct>")
		}
		j = s.ws(j)
		j = s.lit(j, "<name>")
		j = s.text(j)
		j = s.lit(j, "</name>")
		j = s.value(j, depth)
		j = s.ws(j)
		if i = s.lit(j, "</member>"); i < 0 {
			return -1
		}
	}
}

func (s *scanner) array(i, depth int) int {
	if depth > s.maxDepth {
		return -1
	}
	i = s.ws(i)
	if j := s.lit(i, "<data/>"); j >= 0 {
		j = s.ws(j)
		return s.lit(j, "</array>")
	}
	if i = s.lit(i, "<data>"); i < 0 {
		return -1
	}
	for {
		i = s.ws(i)
		if j := s.lit(i, "</data>"); j >= 0 {
			j = s.ws(j)
			return s.lit(j, "</array>")
		}
		if i = s.value(i, depth); i < 0 {
			return -1
		}
	}
}

// uyuniDate checks Uyuni's own yyyyMMddTHH:mm:ss without building a time
// (ParseDateTime does, and dates are in every system record).
func uyuniDate(b []byte) bool {
	if len(b) != 17 || b[8] != 'T' || b[11] != ':' || b[14] != ':' {
		return false
	}
	// The fourteen digits are checked as two words: yyyyMMdd, and HH:mm:ss
	// with its colons (checked above) read as zeros.
	clock := load64(b, 9)&^(0xff<<16|0xff<<40) | ('0'<<16 | '0'<<40)
	if !eightDigits(load64(b, 0)) || !eightDigits(clock) {
		return false
	}
	d := func(k int) int { return int(b[k] - '0') }
	y := d(0)*1000 + d(1)*100 + d(2)*10 + d(3)
	mo, day := d(4)*10+d(5), d(6)*10+d(7)
	h, mi, sec := d(9)*10+d(10), d(12)*10+d(13), d(15)*10+d(16)
	if mo < 1 || mo > 12 || day < 1 || h > 23 || mi > 59 || sec > 59 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[mo]
	if mo == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return day <= days
}

// eightDigits reports whether all eight bytes of w are '0'..'9': each
// byte's high nibble must be 3, and adding 6 must not carry out of its low
// nibble. With every high nibble 3 no byte carries into the next.
func eightDigits(w uint64) bool {
	const hi = 0xF0 * ones
	return w&hi|((w+6*ones)&hi)>>4 == 0x33*ones
}

// plainDouble accepts -?digits.digits with at most a two-digit exponent,
// and few enough digits that it cannot overflow a float64: the doubles
// Uyuni writes (Java writes 1.735787045E9 for epoch seconds).
func plainDouble(b []byte) bool {
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
		case (c == 'E' || c == 'e') && digits > 0:
			// At most 32 bytes of mantissa: below 1e32, and 1e32 * 1e99
			// is far from overflowing.
			return i <= 32 && twoDigitExponent(b[i+1:])
		default:
			return false
		}
	}
	return digits > 0
}

// twoDigitExponent accepts [+-]?d or [+-]?dd.
func twoDigitExponent(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 2 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
