package xmlrpc

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"
	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// rawOf decodes a methodResponse wrapping value and returns the value raw.
func rawOf(t testing.TB, value string) Raw {
	t.Helper()
	r, err := DecodeResponseRaw(respDoc(value), Limits{})
	require.NoError(t, err)
	return r
}

func TestRawAppendJSON(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	tests := []struct {
		name  string
		value string
		loc   *time.Location
		want  string
	}{
		{"string", `<value><string>a "b" \ c</string></value>`, nil, `"a \"b\" \\ c"`},
		{"untyped string keeps white space", "<value> x </value>", nil, `" x "`},
		{"empty value", `<value/>`, nil, `""`},
		{"empty string", `<value><string/></value>`, nil, `""`},
		{"entities and CDATA", `<value><string>&lt;a&amp;b&gt; &#x263A;<![CDATA[<raw>]]><!-- c --></string></value>`, nil, `"<a&b> ☺<raw>"`},
		{"control characters and line separators", "<value><string>a\tb\nc\rd\u2028e\u2029</string></value>", nil, `"a\tb\nc\rd\u2028e\u2029"`},
		{"non-ASCII", `<value><string>Grüße, 世界</string></value>`, nil, `"Grüße, 世界"`},
		{"i4", `<value><i4>42</i4></value>`, nil, `42`},
		{"int with sign and zeros", `<value><int> -007 </int></value>`, nil, `-7`},
		{"i8 with a namespace prefix", `<value><ex:i8>9007199254740993</ex:i8></value>`, nil, `9007199254740993`},
		{"boolean true", `<value><boolean>1</boolean></value>`, nil, `true`},
		{"boolean false", `<value><boolean>false</boolean></value>`, nil, `false`},
		{"double as Java writes it", `<value><double>1.735787045E9</double></value>`, nil, `1735787045`},
		{"double fraction", `<value><double>0.5</double></value>`, nil, `0.5`},
		{"double tiny", `<value><double>1e-9</double></value>`, nil, `1e-9`},
		{"double huge", `<value><double>1.5e300</double></value>`, nil, `1.5e+300`},
		{"date wall clock in UTC", `<value><dateTime.iso8601>20250102T03:04:05</dateTime.iso8601></value>`, nil, `"2025-01-02T03:04:05Z"`},
		{"date wall clock in the server's zone", `<value><dateTime.iso8601>20250102T03:04:05</dateTime.iso8601></value>`, berlin, `"2025-01-02T03:04:05+01:00"`},
		{"date wall clock in summer", `<value><dateTime.iso8601>20250702T03:04:05</dateTime.iso8601></value>`, berlin, `"2025-07-02T03:04:05+02:00"`},
		{"date with a zone keeps its instant", `<value><dateTime.iso8601>20250102T03:04:05-05:00</dateTime.iso8601></value>`, berlin, `"2025-01-02T09:04:05+01:00"`},
		{"date with a fraction", `<value><dateTime.iso8601>2025-01-02T03:04:05.25Z</dateTime.iso8601></value>`, nil, `"2025-01-02T03:04:05.25Z"`},
		{"base64 wrapped and unpadded", "<value><base64>aGVs\nbG8</base64></value>", nil, `"aGVsbG8="`},
		{"empty base64", `<value><base64/></value>`, nil, `""`},
		{"nil", `<value><nil/></value>`, nil, `null`},
		{"struct keeps member order", `<value><struct><member><name>z</name><value><i4>1</i4></value></member><member><name>a</name><value>x</value></member><member><name>m</name><value><boolean>0</boolean></value></member></struct></value>`, nil, `{"z":1,"a":"x","m":false}`},
		{"struct member with its value first", `<value><struct><member><value><i4>1</i4></value><name>late</name></member><member><name>b</name><value><i4>2</i4></value></member></struct></value>`, nil, `{"late":1,"b":2}`},
		{"struct with a quoted member name", `<value><struct><member><name>a"b</name><value/></member></struct></value>`, nil, `{"a\"b":""}`},
		{"empty struct", `<value><struct/></value>`, nil, `{}`},
		{"empty struct with tags", `<value><struct></struct></value>`, nil, `{}`},
		{"empty array", `<value><array><data/></array></value>`, nil, `[]`},
		{"empty array without data", `<value><array></array></value>`, nil, `[]`},
		{"self-closing array", `<value><array/></value>`, nil, `[]`},
		{"array with an empty value in the middle", `<value><array><data><value><i4>1</i4></value><value/><value><i4>3</i4></value></data></array></value>`, nil, `[1,"",3]`},
		{"nested", `<value><array><data><value><struct><member><name>ids</name><value><array><data><value><i4>1</i4></value><value><i4>2</i4></value></data></array></value></member></struct></value></data></array></value>`, nil, `[{"ids":[1,2]}]`},
		{"pretty-printed", "<value>\n  <struct>\n    <member>\n      <name>a</name>\n      <value><i4>1</i4></value>\n    </member>\n  </struct>\n</value>", nil, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := rawOf(t, tt.value)
			got, err := raw.AppendJSON([]byte("prefix:"), JSONOptions{Location: tt.loc})
			require.NoError(t, err)
			require.Equal(t, "prefix:"+tt.want, string(got))
			require.True(t, json.Valid(got[len("prefix:"):]), "%s", got)

			// Both paths, where the fast one applies, say the same.
			loc := tt.loc
			if loc == nil {
				loc = time.UTC
			}
			general, err := generalJSON(raw, loc)
			require.NoError(t, err)
			require.Equal(t, tt.want, string(general))
			if fast, ok := fastJSON(nil, raw, loc); ok {
				require.Equal(t, tt.want, string(fast))
			}

			// The decoded value gives the same JSON.
			v, err := raw.Decode()
			require.NoError(t, err)
			viaValue, err := AppendValueJSON(nil, v, JSONOptions{Location: tt.loc})
			require.NoError(t, err)
			require.Equal(t, tt.want, string(viaValue))
		})
	}
}

// generalJSON transcodes with the general path only.
func generalJSON(raw Raw, loc *time.Location) ([]byte, error) {
	d := decoder{b: raw, lim: Limits{}.withDefaults()}
	out, err := d.jsonValue(nil, &JSONOptions{Location: loc})
	if err == nil && d.i != len(d.b) {
		err = d.errorf("unexpected data after value")
	}
	return out, err
}

// TestJSONFastPath: what Uyuni writes takes the fast path; the rest falls
// back to the general one.
func TestJSONFastPath(t *testing.T) {
	raw, err := DecodeResponseRaw(listSystemsBody(), Limits{})
	require.NoError(t, err)
	fast, ok := fastJSON(nil, raw, time.UTC)
	require.True(t, ok, "listSystems is canonical")
	general, err := generalJSON(raw, time.UTC)
	require.NoError(t, err)
	require.Equal(t, string(general), string(fast))
	for _, v := range []string{
		`<value><!-- c --><i4>1</i4></value>`,
		`<value><ex:i8>1</ex:i8></value>`,
		`<value><string>&#65;</string></value>`,
		`<value><string><![CDATA[x]]></string></value>`,
		`<value><base64>AA==</base64></value>`,
		`<value><struct><member><value><i4>1</i4></value><name>a</name></member></struct></value>`,
		`<value><array></array></value>`,
		`<value><i4 a="1">1</i4></value>`,
	} {
		_, ok := fastJSON(nil, rawOf(t, v), time.UTC)
		require.False(t, ok, v)
	}
}

func TestRawAppendJSONErrors(t *testing.T) {
	// Raw values are normally validated by the decoder; one built by hand
	// may not be, and must fail cleanly without leaving partial output.
	tests := []struct{ name, raw string }{
		{"not a value", `<string>x</string>`},
		{"truncated", `<value><struct><member><name>a</name>`},
		{"bad int", `<value><i4>x</i4></value>`},
		{"bad boolean", `<value><boolean>2</boolean></value>`},
		{"bad double", `<value><double>NaN</double></value>`},
		{"bad date", `<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>`},
		{"bad base64", `<value><base64>!!</base64></value>`},
		{"unknown type", `<value><float8>1</float8></value>`},
		{"trailing data", `<value><i4>1</i4></value><value/>`},
		{"member without value", `<value><struct><member><name>a</name></member></struct></value>`},
		{"invalid UTF-8", "<value><string>\xff</string></value>"},
		{"too deep", strings.Repeat("<value><array><data>", 150) + strings.Repeat("</data></array></value>", 150)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Raw(tt.raw).AppendJSON([]byte("keep"), JSONOptions{})
			requireDecodeError(t, err)
			require.Equal(t, "keep", string(out))
		})
	}
}

func TestAppendValueJSON(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	v := rpc.Struct{
		{Name: "s", Value: "x"},
		{Name: "i", Value: 7},
		{Name: "i32", Value: int32(-3)},
		{Name: "wall", Value: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		{Name: "instant", Value: time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("", -3600))},
		{Name: "b64", Value: []byte{0, 1, 2}},
		{Name: "m", Value: map[string]any{"b": 1.5, "a": nil}},
		{Name: "list", Value: []string{"a", "b"}},
		{Name: "raw", Value: Raw(`<value><i4>9</i4></value>`)},
	}
	got, err := AppendValueJSON(nil, v, JSONOptions{Location: tokyo})
	require.NoError(t, err)
	require.Equal(t, `{"s":"x","i":7,"i32":-3,"wall":"2025-01-02T03:04:05+09:00","instant":"2025-01-02T13:04:05+09:00","b64":"AAEC","m":{"a":null,"b":1.5},"list":["a","b"],"raw":9}`, string(got))

	for _, bad := range []any{struct{}{}, &rpc.Fault{Code: 1}, []any{mathNaN()}, Raw(`<value>`)} {
		out, err := AppendValueJSON([]byte("keep"), bad, JSONOptions{})
		require.Error(t, err, "%T", bad)
		require.Equal(t, "keep", string(out))
	}
}

func mathNaN() float64 { z := 0.0; return z / z }

// TestJSONMatchesKolo checks the transcoder against an independent path:
// kolo/xmlrpc's decoder and encoding/json agree with it on the benchmark's
// listSystems (kolo reads dates in time.Local, so both use it).
func TestJSONMatchesKolo(t *testing.T) {
	body := buildListSystems(20)
	var kv any
	require.NoError(t, kolo.Response(body).Unmarshal(&kv))
	want, err := json.Marshal(kv)
	require.NoError(t, err)

	raw, err := DecodeResponseRaw(body, Limits{})
	require.NoError(t, err)
	got, err := raw.AppendJSON(nil, JSONOptions{Location: time.Local})
	require.NoError(t, err)

	var w, g any
	require.NoError(t, json.Unmarshal(want, &w))
	require.NoError(t, json.Unmarshal(got, &g))
	require.Equal(t, w, g)
	// Member order is the wire's, which a map (kolo's) cannot keep.
	require.True(t, bytes.HasPrefix(got, []byte(`[{"id":1000010000,"name":"client-0000.example.com","last_checkin":"`)), "%.100s", got)
}

// corpus reads the seed inputs of a fuzz target from testdata.
func corpus(t testing.TB, target string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		require.Equal(t, "go test fuzz v1", lines[0], f)
		q := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		s, err := strconv.Unquote(q)
		require.NoError(t, err, f)
		out[filepath.Base(f)] = []byte(s)
	}
	require.NotEmpty(t, out)
	return out
}

// FuzzRawJSON: whatever the decoder accepts, the transcoder turns into
// valid JSON, the same JSON as the decoded value gives.
func FuzzRawJSON(f *testing.F) {
	for _, b := range corpus(f, "FuzzDecodeResponse") {
		f.Add(b)
	}
	f.Add(listSystemsBody())
	f.Fuzz(func(t *testing.T, doc []byte) {
		raw, err := DecodeResponseRaw(doc, Limits{})
		if err != nil {
			return
		}
		got, err := raw.AppendJSON(nil, JSONOptions{})
		require.NoError(t, err)
		require.True(t, json.Valid(got), "%s", got)
		general, err := generalJSON(raw, time.UTC)
		require.NoError(t, err)
		require.Equal(t, string(general), string(got), "fast and general paths")
		v, err := DecodeResponse(doc, Limits{})
		require.NoError(t, err)
		want, err := AppendValueJSON(nil, v, JSONOptions{})
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	})
}

// BenchmarkJSONTranscode is what the REST surface does with a peripheral's
// answer: validate the response (DecodeResponseRaw, as the Uyuni client
// does) and transcode the value to JSON. Compare with BenchmarkJSONKolo.
func BenchmarkJSONTranscode(b *testing.B) {
	body := listSystemsBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		raw, err := DecodeResponseRaw(body, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if out, err = raw.AppendJSON(out[:0], JSONOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONKolo is the baseline: kolo/xmlrpc's Unmarshal into Go
// values, then encoding/json.
func BenchmarkJSONKolo(b *testing.B) {
	body := listSystemsBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := kolo.Response(body).Unmarshal(&v); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONViaValues decodes into Go values with our decoder and then
// writes JSON from them: the tree the transcoder avoids.
func BenchmarkJSONViaValues(b *testing.B) {
	body := listSystemsBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		v, err := DecodeResponse(body, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if out, err = AppendValueJSON(out[:0], v, JSONOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawAppendJSON is the transcoding alone, on a value the Uyuni
// client has already validated.
func BenchmarkRawAppendJSON(b *testing.B) {
	raw, err := DecodeResponseRaw(listSystemsBody(), Limits{})
	require.NoError(b, err)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	var out []byte
	for b.Loop() {
		if out, err = raw.AppendJSON(out[:0], JSONOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
