package xmlrpc

import (
	"strings"
	"testing"
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
	for in, want := range map[string]bool{"1.5": true, "-0.25": true, "+3": true, "7.": true, ".5": true, ".": false, "1e5": false, "1.2.3": false, "": false, "--1": false} {
		_, ok := parseDouble([]byte(in))
		if got := plainDecimal([]byte(in)); got != want || (got && !ok) {
			t.Errorf("plainDecimal(%q) = %v, want %v (parseDouble %v)", in, got, want, ok)
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
