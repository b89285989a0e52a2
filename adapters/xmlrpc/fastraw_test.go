package xmlrpc

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The fast path must take what Uyuni sends (or the gateway loses its
// speed without any test failing), and give up, never accept, on what the
// full decoder rejects.
func TestScanValue(t *testing.T) {
	tests := []struct {
		name, in string
		fast     bool // the fast path decides
	}{
		{"listSystems", listSystemsValue(20), true},
		{"string", `<value><string>a &amp; b &lt;c&gt; &quot;&apos; é</string></value>`, true},
		{"untyped", `<value> plain </value>`, true},
		{"empty", `<value/>`, true},
		{"empty string", `<value><string/></value>`, true},
		{"ints", `<value><array><data><value><i4>-1</i4></value><value><int>+2</int></value><value><i8>9223372036854775807</i8></value></data></array></value>`, true},
		{"bool double date", `<value><struct><member><name>b</name><value><boolean>1</boolean></value></member><member><name>d</name><value><double>1.5e3</double></value></member><member><name>t</name><value><dateTime.iso8601>20240229T12:00:00</dateTime.iso8601></value></member></struct></value>`, true},
		{"nil", `<value><nil/></value>`, true},
		{"empty containers", `<value><array><data/></array></value>`, true},
		{"white space", "<value>\n <struct>\n  <member>\n   <name>a</name>\n   <value><i4>1</i4></value>\n  </member>\n </struct>\n</value>", true},

		{"base64 is left to the decoder", `<value><base64>aGk=</base64></value>`, false},
		{"comment", `<value><!-- x --><int>1</int></value>`, false},
		{"numeric reference", `<value><string>&#65;</string></value>`, false},
		{"value before name", `<value><struct><member><value><int>1</int></value><name>a</name></member></struct></value>`, false},

		{"bad int", `<value><int>1x</int></value>`, false},
		{"int overflow", `<value><i8>9223372036854775808</i8></value>`, false},
		{"bad date", `<value><dateTime.iso8601>20230229T12:00:00</dateTime.iso8601></value>`, false},
		{"bad bool", `<value><boolean>2</boolean></value>`, false},
		{"control char", "<value><string>a\x01b</string></value>", false},
		{"bad utf8", "<value><string>a\xffb</string></value>", false},
		{"unknown entity", `<value><string>&nbsp;</string></value>`, false},
		{"mismatched", `<value><string>a</int></value>`, false},
		{"truncated", `<value><struct><member><name>a</name>`, false},
		{"unknown type", `<value><blob>1</blob></value>`, false},

		// The shortcuts for integers, dates, doubles and 9-byte tags.
		{"int 18 digits", `<value><i8>-999999999999999999</i8></value>`, true},
		{"int 19 digits", `<value><i8>+9223372036854775807</i8></value>`, true},
		{"int 18 digits then comment", `<value><i8>+999999999999999999</i8><!-- x --></value>`, false},
		{"int 19 digits max", `<value><i8>-9223372036854775808</i8></value>`, true},
		{"int leading zeros", `<value><i4>000000000000000000000042</i4></value>`, true},
		{"int spaces", `<value><int> 7 </int></value>`, true},
		{"int sign only", `<value><int>-</int></value>`, false},
		{"int empty", `<value><int></int></value>`, false},
		{"int then comment", `<value><int>1<!-- x --></int></value>`, false},
		{"int then entity", `<value><int>1&amp;</int></value>`, false},
		{"int wrong close", `<value><int>1</i4></value>`, false},
		{"date then comment", `<value><dateTime.iso8601>20240101T00:00:00<!-- x --></dateTime.iso8601></value>`, false},
		{"date other form", `<value><dateTime.iso8601>2024-01-01T00:00:00Z</dateTime.iso8601></value>`, true},
		{"date longer", `<value><dateTime.iso8601>20240101T00:00:001</dateTime.iso8601></value>`, false},
		{"date wrong close", `<value><dateTime.iso8601>20240101T00:00:00</dateTime.iso8601 ></value>`, false},
		{"date bad digit", `<value><dateTime.iso8601>2024010/T00:00:00</dateTime.iso8601></value>`, false},
		{"double java", `<value><double>1.735787045E9</double></value>`, true},
		{"double big exponent", `<value><double>1e308</double></value>`, true},
		{"double overflow", `<value><double>1e309</double></value>`, false},
		{"boolean words", `<value><array><data><value><boolean>true</boolean></value><value><boolean>false</boolean></value></data></array></value>`, true},
		{"boolean wrong close", `<value><boolean>1</boolean ></value>`, false},
		{"member close cut", `<value><struct><member><name>a</name><value/></member ></struct></value>`, false},
		{"empty containers 2", `<value><struct/></value>`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := respDoc(tt.in)
			start := len(respDoc(""))
			start -= len(`</param></params></methodResponse>`)
			end, ok := scanValue(doc, start, DefaultMaxDepth)
			if ok != tt.fast {
				t.Fatalf("fast path decided %v, want %v", ok, tt.fast)
			}
			raw, err := DecodeResponseRaw(doc, Limits{})
			if ok {
				if err != nil {
					t.Fatalf("fast path accepted what the decoder rejects: %v", err)
				}
				if string(raw) != string(doc[start:end]) {
					t.Errorf("fast path ends at %d, decoder at %d", end, start+len(raw))
				}
			}
		})
	}
}

func TestFastScalarChecks(t *testing.T) {
	for in, want := range map[string]bool{
		"20240229T12:00:00": true, "20230229T12:00:00": false, "20000229T00:00:00": true, "19000229T00:00:00": false,
		"20241231T23:59:59": true, "20241301T00:00:00": false, "20240431T00:00:00": false, "20240101T24:00:00": false,
		"2024-01-01T00:00:00": false, "20240101T00:00:0x": false,
	} {
		_, err := ParseDateTime([]byte(in))
		if got := uyuniDate([]byte(in)); got != want || (got && err != nil) {
			t.Errorf("uyuniDate(%q) = %v, want %v (ParseDateTime err %v)", in, got, want, err)
		}
	}
	for in, want := range map[string]bool{"1.5": true, "-0.25": true, "+3": true, "7.": true, ".5": true, ".": false, "1.2.3": false, "": false, "--1": false,
		"1e5": true, "1.735787045E9": true, "-2.5E-3": true, "+1e+99": true, "7.E5": true, ".5e10": true, "1E05": true,
		"1e": false, "1e+": false, "1e100": false, ".e5": false, "e5": false, "1e5.0": false, "1e5e5": false, "1E 5": false,
		"1234567890123456789012345678901.E99": true, "12345678901234567890123456789012.E99": false} {
		_, ok := parseDouble([]byte(in))
		if got := plainDouble([]byte(in)); got != want || (got && !ok) {
			t.Errorf("plainDouble(%q) = %v, want %v (parseDouble %v)", in, got, want, ok)
		}
	}
}

// eightDigits must not be fooled by a carry from one byte into the next.
func TestEightDigits(t *testing.T) {
	for pos := range 7 {
		for c := range 256 {
			for d := range 256 {
				w := []byte("09090909")
				w[pos], w[pos+1] = byte(c), byte(d)
				want := c >= '0' && c <= '9' && d >= '0' && d <= '9'
				if got := eightDigits(load64(w, 0)); got != want {
					t.Fatalf("eightDigits(%q) = %v", w, got)
				}
			}
		}
	}
}

func TestScanValueDepth(t *testing.T) {
	deep := ""
	for range 5 {
		deep += "<value><array><data>"
	}
	deep += "<value><int>1</int></value>"
	for range 5 {
		deep += "</data></array></value>"
	}
	if _, ok := scanValue([]byte(deep), 0, 5); !ok {
		t.Error("depth 5 refused at limit 5")
	}
	if _, ok := scanValue([]byte(deep), 0, 4); ok {
		t.Error("depth 5 accepted at limit 4")
	}
}

// listSystemsValue is the <value> of a listSystems answer as Uyuni writes it.
func listSystemsValue(n int) string {
	doc := string(buildListSystems(n))
	return doc[strings.Index(doc, "<value>"):strings.LastIndex(doc, "</param>")]
}

// refText is text as it was before it read words: one byte at a time.
// The word-at-a-time version must agree with it everywhere.
func refText(b []byte, i int) int {
	for i < len(b) {
		switch c := b[i]; {
		case textByte[c]:
			i++
		case c == '<':
			if i+1 < len(b) && b[i+1] == '!' {
				return -1
			}
			return i
		case c == '&':
			rest := string(b[i:])
			switch {
			case strings.HasPrefix(rest, "&amp;"):
				i += 5
			case strings.HasPrefix(rest, "&lt;"), strings.HasPrefix(rest, "&gt;"):
				i += 4
			case strings.HasPrefix(rest, "&quot;"), strings.HasPrefix(rest, "&apos;"):
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
			return -1
		}
	}
	return -1
}

// textSpecials are the characters text must not pass over in bulk, and
// some it may.
var textSpecials = []string{
	"<", "<!", "</x>", "&", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&am", "&nbsp;",
	"é", "€", "😀", "\uFFFD", "\uFFFE", "\x7f", "\u0080", "\u009f", "\u00a0",
	"\x00", "\x01", "\x1f", "\t", "\n", "\r", " ",
	"\xff", "\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80", "\xc0\xaf",
}

// TestScanTextWords puts each special character at every position
// relative to an 8-byte word, with the text ending at the end of the
// input, at a closing tag or at a comment.
func TestScanTextWords(t *testing.T) {
	for _, sp := range textSpecials {
		for pre := range 18 {
			for post := range 18 {
				for _, end := range []string{"", "</string>", "<!-- -->", "&", "\xc3"} {
					in := []byte(strings.Repeat("a", pre) + sp + strings.Repeat("z", post) + end)
					s := scanner{b: in}
					for _, from := range []int{0, min(pre, len(in))} {
						if got, want := s.text(from), refText(in, from); got != want {
							t.Fatalf("text(%q, %d) = %d, want %d", in, from, got, want)
						}
					}
				}
			}
		}
	}
}

// TestScanTextDecoder checks the same strings against the full decoder:
// where the fast path accepts a string, the decoder must too.
func TestScanTextDecoder(t *testing.T) {
	for _, sp := range textSpecials {
		for pre := range 10 {
			in := `<value><string>` + strings.Repeat("a", pre) + sp + `z</string></value>`
			doc := respDoc(in)
			start := len(respDoc("")) - len(`</param></params></methodResponse>`)
			end, ok := scanValue(doc, start, DefaultMaxDepth)
			raw, err := DecodeResponseRaw(doc, Limits{})
			if ok && (err != nil || string(raw) != string(doc[start:end])) {
				t.Errorf("%q: fast path accepts to %d, decoder: %q %v", in, end, raw, err)
			}
		}
	}
}

// TestScanWhiteSpace: runs of every length, spaces mixed with other white
// space, ending at the end of the input or before a tag.
func TestScanWhiteSpace(t *testing.T) {
	ref := func(b []byte, i int) int {
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		return i
	}
	for _, unit := range []string{" ", "\n", "\t", "\r", "\n  ", " \t", "\r\n    "} {
		for n := range 26 {
			for _, end := range []string{"", "<", "x", "\x00", "\v", "\f", "\xa0"} {
				for _, pre := range []string{"", "<a>"} {
					in := []byte(pre + strings.Repeat(unit, n) + end)
					s := scanner{b: in}
					if got, want := s.ws(len(pre)), ref(in, len(pre)); got != want {
						t.Fatalf("ws(%q) = %d, want %d", in, got, want)
					}
				}
			}
		}
	}
	s := scanner{b: []byte("  ")}
	if got := s.ws(-1); got != -1 {
		t.Errorf("ws(-1) = %d", got)
	}
}

// TestScanLit covers the tag compare at the end of the input, for the
// short tags and the 9-byte ones read as a word and a byte.
func TestScanLit(t *testing.T) {
	for _, tag := range []string{"<i4>", "<value>", "<member>", "</member>", "</string>"} {
		s := scanner{b: []byte("xx" + tag)}
		if got := s.lit(2, tag); got != 2+len(tag) {
			t.Errorf("lit(%q) = %d", tag, got)
		}
		for k := range len(tag) {
			cut := scanner{b: []byte("xx" + tag[:k])}
			if got := cut.lit(2, tag); got != -1 {
				t.Errorf("lit(%q) on %q = %d", tag, tag[:k], got)
			}
			bad := []byte("xx" + tag)
			bad[2+k] ^= 0x20
			if got := (&scanner{b: bad}).lit(2, tag); got != -1 {
				t.Errorf("lit(%q) on %q = %d", tag, bad, got)
			}
		}
		if got := s.lit(-1, tag); got != -1 {
			t.Errorf("lit(-1, %q) = %d", tag, got)
		}
	}
}

// TestScanValueTruncated: a value cut anywhere is never taken, and the
// scanner never reads past the end.
func TestScanValueTruncated(t *testing.T) {
	v := "<value>\n <struct>\n  <member>\n   <name>a&amp;b é</name>\n   <value><string>x</string></value>\n  </member>" +
		"<member><name>n</name><value><array><data><value><i4>-12</i4></value><value><int>000000000000000000000001234</int></value>" +
		"<value><boolean>false</boolean></value><value><double>1.5E3</double></value><value>untyped</value><value/>" +
		"<value><dateTime.iso8601>20240229T23:59:59</dateTime.iso8601></value><value><nil/></value></data></array></value></member>" +
		"</struct>\n</value>"
	for k := range len(v) {
		if _, ok := scanValue([]byte(v[:k]), 0, DefaultMaxDepth); ok {
			t.Fatalf("took the prefix %q", v[:k])
		}
	}
	if end, ok := scanValue([]byte(v), 0, DefaultMaxDepth); !ok || end != len(v) {
		t.Fatalf("whole value: %d %v", end, ok)
	}
}

// FuzzScanText compares the word-at-a-time text with refText.
func FuzzScanText(f *testing.F) {
	for _, sp := range textSpecials {
		f.Add([]byte("abcdefg"+sp+"hijklmnopq</x>"), 0)
	}
	f.Fuzz(func(t *testing.T, b []byte, from int) {
		if from < 0 || from > len(b) {
			return
		}
		s := scanner{b: b}
		if got, want := s.text(from), refText(b, from); got != want {
			t.Fatalf("text(%q, %d) = %d, want %d", b, from, got, want)
		}
	})
}
