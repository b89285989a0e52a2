package xmlrpc

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// decodeCases covers every value form the codec reads. Each <value> is
// decoded as a response, as a call parameter, and through Raw.Decode.
var decodeCases = []struct {
	name  string
	value string
	want  any
}{
	// Integers: every width decodes to int64.
	{"i4", `<value><i4>42</i4></value>`, int64(42)},
	{"int", `<value><int>-7</int></value>`, int64(-7)},
	{"i8", `<value><i8>9223372036854775807</i8></value>`, int64(math.MaxInt64)},
	{"i8 min", `<value><i8>-9223372036854775808</i8></value>`, int64(math.MinInt64)},
	{"ex:i8", `<value><ex:i8>4294967296</ex:i8></value>`, int64(1 << 32)},
	{"int plus sign", `<value><int>+5</int></value>`, int64(5)},
	{"int white space", "<value><i4>\n\t 12 \r\n</i4></value>", int64(12)},
	{"int leading zeros", `<value><i4>000000000000000000000042</i4></value>`, int64(42)},
	{"int minus zero", `<value><i4>-0</i4></value>`, int64(0)},

	// Booleans: Uyuni writes 1/0; true/false are tolerated.
	{"boolean 1", `<value><boolean>1</boolean></value>`, true},
	{"boolean 0", `<value><boolean>0</boolean></value>`, false},
	{"boolean true", `<value><boolean> true </boolean></value>`, true},
	{"boolean false", `<value><boolean>false</boolean></value>`, false},

	// Strings, typed and untyped; white space inside a string is data.
	{"string", `<value><string>hello</string></value>`, "hello"},
	{"string spaces kept", `<value><string>  a b  </string></value>`, "  a b  "},
	{"string empty", `<value><string></string></value>`, ""},
	{"string self-closed", `<value><string/></value>`, ""},
	{"untyped", `<value>hello</value>`, "hello"},
	{"untyped spaces kept", "<value> a\tb\n</value>", " a\tb\n"},
	{"untyped empty", `<value></value>`, ""},
	{"value self-closed", `<value/>`, ""},
	{"unicode", `<value><string>Grüße ☺ 𝄞</string></value>`, "Grüße ☺ 𝄞"},
	{"literal CR kept", "<value><string>a\r\nb</string></value>", "a\r\nb"},
	{"entities", `<value><string>&lt;a&gt; &amp; &quot;b&quot; &apos;c&apos;</string></value>`, `<a> & "b" 'c'`},
	{"numeric entities", `<value><string>&#65;&#x263A;&#x1D11E;&#xD;&#9;</string></value>`, "A☺𝄞\r\t"},
	{"CDATA typed", `<value><string><![CDATA[<b>&amp;</b>]]></string></value>`, "<b>&amp;</b>"},
	{"CDATA untyped", `<value><![CDATA[x<y]]></value>`, "x<y"},
	{"CDATA mixed", `<value><string>a<![CDATA[<]]>b&amp;c<![CDATA[]]></string></value>`, "a<b&c"},
	{"comment in string", `<value><string>a<!-- no -->b</string></value>`, "ab"},
	{"comment before type", `<value><!-- c --> <i4>1</i4> <!-- d --></value>`, int64(1)},
	{"comment only", `<value><!-- c --></value>`, ""},
	{"PI before type", `<value><?pi x?><i4>1</i4></value>`, int64(1)},
	{"greater-than literal", `<value><string>a>b]]c</string></value>`, "a>b]]c"},

	// Doubles, as Go, Python (repr) and Java (Double.toString) write them.
	{"double", `<value><double>1.5</double></value>`, 1.5},
	{"double negative", `<value><double>-0.25</double></value>`, -0.25},
	{"double integer", `<value><double> 3 </double></value>`, 3.0},
	{"double java exponent", `<value><double>1.735787045E9</double></value>`, 1.735787045e9},
	{"double python exponent", `<value><double>1e+100</double></value>`, 1e100},
	{"double tiny", `<value><double>5e-324</double></value>`, 5e-324},
	{"double leading dot", `<value><double>.5</double></value>`, 0.5},
	{"double trailing dot", `<value><double>2.</double></value>`, 2.0},

	// Dates: Uyuni's form and the usual variants. No zone means UTC wall clock.
	{"date uyuni", `<value><dateTime.iso8601>20250102T03:04:05</dateTime.iso8601></value>`, utc(2025, 1, 2, 3, 4, 5)},
	{"date spaces", `<value><dateTime.iso8601> 20250102T03:04:05 </dateTime.iso8601></value>`, utc(2025, 1, 2, 3, 4, 5)},
	{"date dashes", `<value><dateTime.iso8601>2025-01-02T03:04:05</dateTime.iso8601></value>`, utc(2025, 1, 2, 3, 4, 5)},
	{"date compact", `<value><dateTime.iso8601>20250102T030405</dateTime.iso8601></value>`, utc(2025, 1, 2, 3, 4, 5)},
	{"date Z", `<value><dateTime.iso8601>20250102T03:04:05Z</dateTime.iso8601></value>`, utc(2025, 1, 2, 3, 4, 5)},
	{"date zone", `<value><dateTime.iso8601>2025-01-02T03:04:05+02:00</dateTime.iso8601></value>`,
		time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("", 7200))},
	{"date zone no colon", `<value><dateTime.iso8601>20250102T03:04:05-0130</dateTime.iso8601></value>`,
		time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("", -5400))},
	{"date fraction", `<value><dateTime.iso8601>2025-01-02T03:04:05.250</dateTime.iso8601></value>`,
		time.Date(2025, 1, 2, 3, 4, 5, 250e6, time.UTC)},
	{"date leap day", `<value><dateTime.iso8601>20240229T23:59:59</dateTime.iso8601></value>`, utc(2024, 2, 29, 23, 59, 59)},

	// base64, with and without Python's line breaks and padding.
	{"base64", `<value><base64>aGVsbG8=</base64></value>`, []byte("hello")},
	{"base64 unpadded", `<value><base64>aGVsbG8</base64></value>`, []byte("hello")},
	{"base64 empty", `<value><base64></base64></value>`, []byte{}},
	{"base64 python lines", "<value><base64>\n" +
		"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n" +
		"QUFBQQ==\n</base64></value>", []byte(strings.Repeat("A", 61))},
	{"base64 CRLF", "<value><base64>aGVs\r\nbG8=\r\n</base64></value>", []byte("hello")},

	// Structs keep member order and duplicates.
	{"struct", `<value><struct><member><name>b</name><value><i4>1</i4></value></member>` +
		`<member><name>a</name><value>x</value></member></struct></value>`,
		rpc.Struct{{Name: "b", Value: int64(1)}, {Name: "a", Value: "x"}}},
	{"struct value before name", `<value><struct><member><value><i4>1</i4></value><name>n</name></member></struct></value>`,
		rpc.Struct{{Name: "n", Value: int64(1)}}},
	{"struct duplicate names", `<value><struct><member><name>a</name><value>1</value></member>` +
		`<member><name>a</name><value>2</value></member></struct></value>`,
		rpc.Struct{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}}},
	{"struct escaped name", `<value><struct><member><name>a&lt;b</name><value/></member></struct></value>`,
		rpc.Struct{{Name: "a<b", Value: ""}}},
	{"struct empty", `<value><struct></struct></value>`, rpc.Struct{}},
	{"struct self-closed", `<value><struct/></value>`, rpc.Struct{}},
	{"struct pretty", "<value>\n <struct>\n  <member>\n   <name>id</name>\n   <value><i4>1</i4></value>\n  </member>\n </struct>\n</value>",
		rpc.Struct{{Name: "id", Value: int64(1)}}},

	// Arrays; <value/> in the middle keeps the rest (kolo drops it).
	{"array", `<value><array><data><value><i4>1</i4></value><value>two</value></data></array></value>`,
		[]any{int64(1), "two"}},
	{"array empty value mid", `<value><array><data><value><i4>1</i4></value><value/><value><i4>3</i4></value></data></array></value>`,
		[]any{int64(1), "", int64(3)}},
	{"array empty data", `<value><array><data></data></array></value>`, []any{}},
	{"array self-closed data", `<value><array><data/></array></value>`, []any{}},
	{"array without data", `<value><array></array></value>`, []any{}},
	{"array self-closed", `<value><array/></value>`, []any{}},
	{"nested", `<value><array><data><value><struct><member><name>l</name><value><array><data>` +
		`<value><struct/></value></data></array></value></member></struct></value></data></array></value>`,
		[]any{rpc.Struct{{Name: "l", Value: []any{rpc.Struct{}}}}}},

	// nil, which Uyuni never sends but Python (allow_none) and Apache do.
	{"nil", `<value><nil/></value>`, nil},
	{"ex:nil", `<value><ex:nil/></value>`, nil},
	{"nil open close", `<value><nil></nil></value>`, nil},
	{"nil member", `<value><struct><member><name>n</name><value><nil/></value></member></struct></value>`,
		rpc.Struct{{Name: "n", Value: nil}}},

	// Attributes are syntax-checked and ignored.
	{"attributes", `<value a="1" b='2'><i4 c = "x>y">5</i4></value>`, int64(5)},
}

func TestDecodeValues(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeResponse(respDoc(tc.value), Limits{})
			require.NoError(t, err)
			requireSameValue(t, tc.want, got, false)

			call, err := DecodeCall(callDoc("system.listSystems", `<value>k</value>`, tc.value), Limits{})
			require.NoError(t, err)
			require.Equal(t, "system.listSystems", call.Method)
			require.Len(t, call.Params, 2)
			requireSameValue(t, tc.want, call.Params[1], false)

			// The Raw path validates the same and decodes to the same value.
			raw, err := DecodeResponseRaw(respDoc(tc.value), Limits{})
			require.NoError(t, err)
			require.Equal(t, tc.value, string(raw))
			fromRaw, err := raw.Decode()
			require.NoError(t, err)
			requireSameValue(t, tc.want, fromRaw, false)
		})
	}
}

// TestDecodeDocuments covers what surrounds the value: prolog, BOM,
// namespaces, comments between elements, and methodCall shapes.
func TestDecodeDocuments(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		method string
		params []any
	}{
		{"no declaration", `<methodCall><methodName>a.b</methodName><params><param><value>x</value></param></params></methodCall>`,
			"a.b", []any{"x"}},
		{"single quotes, encoding", `<?xml version='1.0' encoding='utf-8'?>` + "\n" +
			`<methodCall><methodName>a.b</methodName></methodCall>`, "a.b", nil},
		{"encoding us-ascii", `<?xml version="1.0" encoding = "US-ASCII" ?><methodCall><methodName>m</methodName><params/></methodCall>`,
			"m", nil},
		{"BOM", "\xef\xbb\xbf<?xml version=\"1.0\"?><methodCall><methodName>m</methodName><params></params></methodCall>",
			"m", nil},
		{"comments and PIs everywhere", `<?xml version="1.0"?><!-- a --><?pi?>` + "\n" +
			`<methodCall><!-- b --><methodName>m</methodName><!-- c --><params><!-- d --><param><!-- e -->` +
			`<value><i4>1</i4></value><!-- f --></param></params><!-- g --></methodCall><!-- h -->` + "\n",
			"m", []any{int64(1)}},
		{"method name trimmed", "<methodCall><methodName>\n  auth.login \n</methodName></methodCall>", "auth.login", nil},
		{"method name entity", `<methodCall><methodName>a&#46;b</methodName></methodCall>`, "a.b", nil},
		{"apache namespace", `<methodCall xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions">` +
			`<methodName>m</methodName><params><param><value><ex:i8>1</ex:i8></value></param>` +
			`<param><value><ex:nil/></value></param></params></methodCall>`, "m", []any{int64(1), nil}},
		{"python style", "<?xml version='1.0'?>\n<methodCall>\n<methodName>auth.login</methodName>\n<params>\n" +
			"<param>\n<value><string>admin</string></value>\n</param>\n<param>\n<value><string>pw</string></value>\n</param>\n" +
			"</params>\n</methodCall>\n", "auth.login", []any{"admin", "pw"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DecodeCall([]byte(tc.doc), Limits{})
			require.NoError(t, err)
			require.Equal(t, tc.method, c.Method)
			requireSameValue(t, tc.params, c.Params, false)

			cr, err := DecodeCallRaw([]byte(tc.doc), Limits{})
			require.NoError(t, err)
			require.Equal(t, tc.method, cr.Method)
			require.Len(t, cr.Params, len(tc.params))
		})
	}
}

// TestManyMemberNames: member names are interned in a small direct-mapped
// table; collisions and names beyond it must still come out right, and
// structs nested in arrays in structs must not mix their members (the
// decoder collects children on shared scratch stacks).
func TestManyMemberNames(t *testing.T) {
	var want []any
	var b strings.Builder
	b.WriteString("<value><array><data>")
	for k := range 3 {
		var s rpc.Struct
		b.WriteString("<value><struct>")
		for i := range 150 {
			name := strings.Repeat("n", i%70) + "&lt;" + strings.Repeat("x", k)
			s = append(s, rpc.Member{Name: strings.Repeat("n", i%70) + "<" + strings.Repeat("x", k), Value: int64(i)})
			b.WriteString("<member><name>" + name + "</name><value><i4>" + strconv.Itoa(i) + "</i4></value></member>")
		}
		inner := rpc.Struct{{Name: "in", Value: []any{rpc.Struct{{Name: "deep", Value: int64(k)}}, int64(k)}}}
		s = append(s, rpc.Member{Name: "nested", Value: inner})
		b.WriteString(`<member><name>nested</name><value><struct><member><name>in</name><value><array><data>` +
			`<value><struct><member><name>deep</name><value><i4>` + strconv.Itoa(k) + `</i4></value></member></struct></value>` +
			`<value><i4>` + strconv.Itoa(k) + `</i4></value></data></array></value></member></struct></value></member>`)
		b.WriteString("</struct></value>")
		want = append(want, s)
	}
	b.WriteString("</data></array></value>")
	got, err := DecodeResponse(respDoc(b.String()), Limits{})
	require.NoError(t, err)
	require.Equal(t, any(want), got)
}

func TestParseDateTime(t *testing.T) {
	good := map[string]time.Time{
		"20250102T03:04:05":         utc(2025, 1, 2, 3, 4, 5),
		"00010101T00:00:00":         utc(1, 1, 1, 0, 0, 0),
		"99991231T23:59:59":         utc(9999, 12, 31, 23, 59, 59),
		"2025-01-02T03:04:05":       utc(2025, 1, 2, 3, 4, 5),
		"20250102T030405":           utc(2025, 1, 2, 3, 4, 5),
		"2025-01-02T03:04:05Z":      utc(2025, 1, 2, 3, 4, 5),
		"20250102T03:04:05.5":       time.Date(2025, 1, 2, 3, 4, 5, 5e8, time.UTC),
		"2025-01-02T03:04:05.5Z":    time.Date(2025, 1, 2, 3, 4, 5, 5e8, time.UTC),
		"2025-01-02T03:04:05+01:00": utc(2025, 1, 2, 2, 4, 5),
	}
	for in, want := range good {
		got, err := ParseDateTime([]byte(in))
		require.NoError(t, err, in)
		require.True(t, want.Equal(got), "%s: got %v", in, got)
	}
	for _, in := range []string{
		"", "2025", "20250230T00:00:00", "20251301T00:00:00", "20250102T24:00:00",
		"20250102T00:60:00", "20250102T00:00:60", "2025010203:04:05", "x0250102T03:04:05",
		"20250102T03:04:05 junk", "+2025-01-02T03:04:05",
	} {
		_, err := ParseDateTime([]byte(in))
		require.Error(t, err, in)
	}
}

// encodeCases give the exact bytes AppendValue writes: Uyuni's dialect.
func TestAppendValue(t *testing.T) {
	type tagged struct {
		ID       int       `xmlrpc:"id"`
		Name     string    `xmlrpc:"name"`
		Skip     string    `xmlrpc:"-"`
		Note     string    `xmlrpc:"note,omitempty"`
		Count    int       `xmlrpc:",omitempty"`
		Ptr      *int      `xmlrpc:"ptr"`
		Plain    bool      // no tag: the field name
		When     time.Time `xmlrpc:"when"`
		internal int
	}
	seven := 7
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"int64", int64(1), `<value><i4>1</i4></value>`},
		{"int", -2147483648, `<value><i4>-2147483648</i4></value>`},
		{"int beyond 32 bits", int64(1) << 31, `<value><i8>2147483648</i8></value>`},
		{"int32", int32(5), `<value><i4>5</i4></value>`},
		{"uint8 via reflect", uint8(200), `<value><i4>200</i4></value>`},
		{"bool true", true, `<value><boolean>1</boolean></value>`},
		{"bool false", false, `<value><boolean>0</boolean></value>`},
		{"string", "plain", `<value><string>plain</string></value>`},
		{"string escaped", "a<b>&c\r\n\"'", `<value><string>a&lt;b&gt;&amp;c&#xD;` + "\n" + `"'</string></value>`},
		{"string invalid UTF-8", "a\xffb\xc3", "<value><string>a\uFFFDb\uFFFD</string></value>"},
		{"string control chars", "a\x00b\x1bc\uFFFEd", "<value><string>a\uFFFDb\uFFFDc\uFFFDd</string></value>"},
		{"string real U+FFFD kept", "\uFFFD", "<value><string>\uFFFD</string></value>"},
		{"empty string", "", `<value><string></string></value>`},
		{"double", 1.5, `<value><double>1.5</double></value>`},
		{"double no exponent", 1e21, `<value><double>1000000000000000000000</double></value>`},
		{"double small", 0.000001, `<value><double>0.000001</double></value>`},
		{"float32", float32(0.5), `<value><double>0.5</double></value>`},
		{"date", utc(2025, 1, 2, 3, 4, 5), `<value><dateTime.iso8601>20250102T03:04:05</dateTime.iso8601></value>`},
		{"date wall clock of its zone", time.Date(2025, 1, 2, 3, 4, 5, 999, berlin),
			`<value><dateTime.iso8601>20250102T03:04:05</dateTime.iso8601></value>`},
		{"base64", []byte("hello"), `<value><base64>aGVsbG8=</base64></value>`},
		{"base64 empty", []byte{}, `<value><base64></base64></value>`},
		{"nil", nil, `<value><nil/></value>`},
		{"struct order kept", rpc.Struct{{Name: "z", Value: int64(1)}, {Name: "a", Value: "x"}},
			`<value><struct><member><name>z</name><value><i4>1</i4></value></member>` +
				`<member><name>a</name><value><string>x</string></value></member></struct></value>`},
		{"struct name escaped, nil member left out", rpc.Struct{{Name: "a<&>b", Value: true}, {Name: "n", Value: nil}},
			`<value><struct><member><name>a&lt;&amp;&gt;b</name><value><boolean>1</boolean></value></member></struct></value>`},
		{"struct empty", rpc.Struct{}, `<value><struct></struct></value>`},
		{"map sorted", map[string]any{"b": int64(2), "a": int64(1), "c": nil},
			`<value><struct><member><name>a</name><value><i4>1</i4></value></member>` +
				`<member><name>b</name><value><i4>2</i4></value></member></struct></value>`},
		{"typed map sorted", map[string]int{"y": 2, "x": 1},
			`<value><struct><member><name>x</name><value><i4>1</i4></value></member>` +
				`<member><name>y</name><value><i4>2</i4></value></member></struct></value>`},
		{"array", []any{int64(1), "a", nil}, `<value><array><data><value><i4>1</i4></value>` +
			`<value><string>a</string></value><value><nil/></value></data></array></value>`},
		{"array empty", []any{}, `<value><array><data></data></array></value>`},
		{"strings", []string{"a", "<"}, `<value><array><data><value><string>a</string></value>` +
			`<value><string>&lt;</string></value></data></array></value>`},
		{"typed slice", []int{1, 2}, `<value><array><data><value><i4>1</i4></value><value><i4>2</i4></value></data></array></value>`},
		{"pointer", &seven, `<value><i4>7</i4></value>`},
		{"go struct with tags", tagged{ID: 1, Name: "n", Skip: "s", Plain: true, When: utc(2025, 1, 2, 3, 4, 5), internal: 9},
			`<value><struct><member><name>id</name><value><i4>1</i4></value></member>` +
				`<member><name>name</name><value><string>n</string></value></member>` +
				`<member><name>Plain</name><value><boolean>1</boolean></value></member>` +
				`<member><name>when</name><value><dateTime.iso8601>20250102T03:04:05</dateTime.iso8601></value></member>` +
				`</struct></value>`},
		{"go struct omitempty set, pointer set", tagged{Note: "x", Count: 3, Ptr: &seven},
			`<value><struct><member><name>id</name><value><i4>0</i4></value></member>` +
				`<member><name>name</name><value><string></string></value></member>` +
				`<member><name>note</name><value><string>x</string></value></member>` +
				`<member><name>Count</name><value><i4>3</i4></value></member>` +
				`<member><name>ptr</name><value><i4>7</i4></value></member>` +
				`<member><name>Plain</name><value><boolean>0</boolean></value></member>` +
				`<member><name>when</name><value><dateTime.iso8601>00010101T00:00:00</dateTime.iso8601></value></member>` +
				`</struct></value>`},
		{"raw verbatim", Raw("<value> <i4>1</i4><!--x--></value>"), "<value> <i4>1</i4><!--x--></value>"},
		{"raw nested", []any{Raw("<value>a</value>"), rpc.Struct{{Name: "r", Value: Raw("<value><nil/></value>")}}},
			`<value><array><data><value>a</value><value><struct><member><name>r</name><value><nil/></value></member>` +
				`</struct></value></data></array></value>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendValue([]byte("prefix"), tc.in)
			require.NoError(t, err)
			require.Equal(t, "prefix"+tc.want, string(got))

			// Whatever we write, we read.
			_, err = DecodeResponse(respDoc(tc.want), Limits{})
			require.NoError(t, err)
		})
	}
}

func TestAppendValueErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	tests := []struct {
		name string
		in   any
	}{
		{"NaN", math.NaN()},
		{"+Inf", math.Inf(1)},
		{"-Inf", math.Inf(-1)},
		{"float32 NaN", float32(math.NaN())},
		{"NaN nested", rpc.Struct{{Name: "x", Value: []any{math.Inf(1)}}}},
		{"year past 9999", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"negative year", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"uint64 too big", uint64(math.MaxUint64)},
		{"channel", make(chan int)},
		{"int keys", map[int]any{1: 1}},
		{"empty Raw", []any{Raw(nil)}},
		{"fault", &rpc.Fault{Code: 1}},
		{"cycle", cyclic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendValue(dst, tc.in)
			var ee *EncodeError
			require.ErrorAs(t, err, &ee)
			require.Equal(t, "keep", string(got), "a failed append leaves dst as it was")

			got, err = AppendResponse(dst, tc.in)
			require.ErrorAs(t, err, &ee)
			require.Equal(t, "keep", string(got))
			got, err = AppendCall(dst, "m", int64(1), tc.in)
			require.ErrorAs(t, err, &ee)
			require.Equal(t, "keep", string(got))
		})
	}
}

func TestAppendDocuments(t *testing.T) {
	call, err := AppendCall(nil, "system.getDetails<&>", "key", int64(1000010000))
	require.NoError(t, err)
	require.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<methodCall><methodName>system.getDetails&lt;&amp;&gt;</methodName><params>`+
		`<param><value><string>key</string></value></param>`+
		`<param><value><i4>1000010000</i4></value></param></params></methodCall>`, string(call))

	empty, err := AppendCall(nil, "api.getVersion")
	require.NoError(t, err)
	c, err := DecodeCall(empty, Limits{})
	require.NoError(t, err)
	require.Equal(t, Call{Method: "api.getVersion"}, c)

	resp, err := AppendResponse(nil, "27")
	require.NoError(t, err)
	require.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<methodResponse><params><param><value><string>27</string></value></param></params></methodResponse>`, string(resp))

	fault := AppendFault(nil, &rpc.Fault{Code: -1, String: "redstone.xmlrpc.XmlRpcFault: a < b & c"})
	require.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<methodResponse><fault><value><struct>`+
		`<member><name>faultCode</name><value><int>-1</int></value></member>`+
		`<member><name>faultString</name><value><string>redstone.xmlrpc.XmlRpcFault: a &lt; b &amp; c</string></value></member>`+
		`</struct></value></fault></methodResponse>`, string(fault))
}

func TestFaults(t *testing.T) {
	faultDoc := func(inner string) []byte {
		return []byte(`<methodResponse><fault><value><struct>` + inner + `</struct></value></fault></methodResponse>`)
	}
	good := []struct {
		name string
		doc  []byte
		want rpc.Fault
	}{
		{"ours", AppendFault(nil, &rpc.Fault{Code: 2950, String: "redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect."}),
			rpc.Fault{Code: 2950, String: "redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect."}},
		{"i4, reversed members", faultDoc(`<member><name>faultString</name><value>x</value></member>` +
			`<member><name>faultCode</name><value><i4>-210</i4></value></member>`), rpc.Fault{Code: -210, String: "x"}},
		{"code as string", faultDoc(`<member><name>faultCode</name><value><string> 7 </string></value></member>` +
			`<member><name>faultString</name><value><string>s</string></value></member>`), rpc.Fault{Code: 7, String: "s"}},
		{"no faultString", faultDoc(`<member><name>faultCode</name><value><int>1</int></value></member>`), rpc.Fault{Code: 1}},
		{"pretty", []byte("<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n" +
			"<value><int>-1</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>no</string></value>\n" +
			"</member>\n</struct></value>\n</fault>\n</methodResponse>\n"), rpc.Fault{Code: -1, String: "no"}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			v, err := DecodeResponse(tc.doc, Limits{})
			require.Nil(t, v)
			var f *rpc.Fault
			require.ErrorAs(t, err, &f)
			require.Equal(t, tc.want, *f)

			raw, err := DecodeResponseRaw(tc.doc, Limits{})
			require.Nil(t, raw)
			require.ErrorAs(t, err, &f)
			require.Equal(t, tc.want, *f)
		})
	}

	bad := map[string][]byte{
		"no code":         faultDoc(`<member><name>faultString</name><value>x</value></member>`),
		"code not number": faultDoc(`<member><name>faultCode</name><value>x</value></member>`),
		"code double":     faultDoc(`<member><name>faultCode</name><value><double>1</double></value></member>`),
		"not a struct":    []byte(`<methodResponse><fault><value><i4>1</i4></value></fault></methodResponse>`),
		"empty fault":     []byte(`<methodResponse><fault></fault></methodResponse>`),
		"fault and params": []byte(`<methodResponse><fault><value><struct><member><name>faultCode</name><value><i4>1</i4></value>` +
			`</member></struct></value></fault><params/></methodResponse>`),
	}
	for name, doc := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeResponse(doc, Limits{})
			requireDecodeError(t, err)
			_, err = DecodeResponseRaw(doc, Limits{})
			requireDecodeError(t, err)
		})
	}
}

// TestRawPassThrough: a peripheral's <value> reaches the client byte for byte.
func TestRawPassThrough(t *testing.T) {
	// Odd but valid formatting that a re-encode would change.
	value := "<value >\n <struct><!-- peripheral 1 -->\n  <member><name>n&#97;me</name><value>untyped</value></member>\n" +
		"  <member><name>d</name><value><dateTime.iso8601>2025-01-02T03:04:05+02:00</dateTime.iso8601></value></member>\n" +
		"  <member><name>x</name><value><ex:i8>1</ex:i8></value></member>\n </struct></value>"
	upstream := []byte("<?xml version='1.0'?>\n<methodResponse>\n<params><param>" + value + "</param></params></methodResponse>")

	raw, err := DecodeResponseRaw(upstream, Limits{})
	require.NoError(t, err)
	require.Equal(t, value, string(raw))

	out, err := AppendResponse(nil, raw)
	require.NoError(t, err)
	require.Contains(t, string(out), "<param>"+value+"</param>")

	// Raw nested in our own values, as multicast results are built.
	wrapped, err := AppendResponse(nil, rpc.Struct{
		{Name: "Successful", Value: rpc.Struct{{Name: "Responses", Value: []any{raw, raw}}}},
	})
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(string(wrapped), value))
	back, err := DecodeResponse(wrapped, Limits{})
	require.NoError(t, err)
	inner, err := raw.Decode()
	require.NoError(t, err)
	requireSameValue(t, rpc.Struct{{Name: "Successful", Value: rpc.Struct{{Name: "Responses", Value: []any{inner, inner}}}}}, back, false)
	requireSameValue(t, rpc.Struct{
		{Name: "name", Value: "untyped"},
		{Name: "d", Value: time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("", 7200))},
		{Name: "x", Value: int64(1)},
	}, inner, false)

	// Calls: each parameter is a Raw, re-sent unchanged with our own key in front.
	p1 := `<value><string>hub-key</string></value>`
	p2 := "<value>\n<array><data><value><i4>1</i4></value><value/></data></array></value>"
	c, err := DecodeCallRaw(callDoc("unicast.system.getDetails", p1, p2), Limits{})
	require.NoError(t, err)
	require.Equal(t, "unicast.system.getDetails", c.Method)
	require.Equal(t, []any{Raw(p1), Raw(p2)}, c.Params)
	fwd, err := AppendCall(nil, "system.getDetails", "peripheral-key", c.Params[1])
	require.NoError(t, err)
	require.Contains(t, string(fwd), "<param>"+p2+"</param>")

	// Raw.Decode is strict about its one element.
	_, err = Raw(p1 + " ").Decode()
	requireDecodeError(t, err)
	_, err = Raw("").Decode()
	requireDecodeError(t, err)
}

func TestLimits(t *testing.T) {
	doc := respDoc(`<value><array><data><value><array><data><value><i4>1</i4></value></data></array></value></data></array></value>`)

	_, err := DecodeResponse(doc, Limits{MaxDepth: 2})
	require.NoError(t, err)
	_, err = DecodeResponse(doc, Limits{MaxDepth: 1})
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	require.Contains(t, se.Msg, "nesting")
	_, err = DecodeResponseRaw(doc, Limits{MaxDepth: 1})
	require.ErrorAs(t, err, &se)

	_, err = DecodeResponse(doc, Limits{MaxBytes: len(doc)})
	require.NoError(t, err)
	for _, decode := range []func([]byte, Limits) error{
		func(b []byte, l Limits) error { _, err := DecodeResponse(b, l); return err },
		func(b []byte, l Limits) error { _, err := DecodeResponseRaw(b, l); return err },
		func(b []byte, l Limits) error { _, err := DecodeCall(b, l); return err },
		func(b []byte, l Limits) error { _, err := DecodeCallRaw(b, l); return err },
	} {
		require.ErrorIs(t, decode(doc, Limits{MaxBytes: len(doc) - 1}), ErrTooLarge)
	}
}

// TestSyntaxErrorOffset: errors point at the offending byte.
func TestSyntaxErrorOffset(t *testing.T) {
	doc := []byte(`<methodResponse><params><param><value><i4>x</i4></value></param></params></methodResponse>`)
	_, err := DecodeResponse(doc, Limits{})
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	require.Equal(t, strings.Index(string(doc), "x</i4>"), se.Offset)
	require.Contains(t, se.Error(), `bad <i4> "x"`)

	doc = []byte("<methodResponse><params><param><value><string>ok\xffno</string></value></param></params></methodResponse>")
	_, err = DecodeResponse(doc, Limits{})
	require.ErrorAs(t, err, &se)
	require.Equal(t, strings.Index(string(doc), "\xff"), se.Offset)
}

// hostile lists documents built to hurt a parser. Each must give an error
// (*SyntaxError or ErrTooLarge), quickly and without a panic.
func hostile() map[string][]byte {
	r := func(s string) []byte { return respDoc(s) }
	deep := func(n int, open, close string) []byte {
		return r(strings.Repeat(open, n) + `<value><i4>1</i4></value>` + strings.Repeat(close, n))
	}
	return map[string][]byte{
		"empty":                nil,
		"not XML":              []byte("hello"),
		"lone <":               []byte("<"),
		"only declaration":     []byte(`<?xml version="1.0"?>`),
		"unterminated decl":    []byte(`<?xml version="1.0"`),
		"wrong root":           []byte(`<methodResponsx><params/></methodResponsx>`),
		"two roots":            append(respDoc(`<value/>`), respDoc(`<value/>`)...),
		"trailing text":        append(respDoc(`<value/>`), "x"...),
		"no params":            []byte(`<methodResponse></methodResponse>`),
		"two params":           []byte(`<methodResponse><params><param><value/></param><param><value/></param></params></methodResponse>`),
		"two values in param":  r(`<value/><value/>`),
		"wrong nesting":        r(`<value><i4>1</value></i4>`),
		"unclosed struct":      r(`<value><struct><member><name>a</name><value/></member></value>`),
		"member without value": r(`<value><struct><member><name>a</name></member></struct></value>`),
		"member two names":     r(`<value><struct><member><name>a</name><name>b</name><value/></member></struct></value>`),
		"member extra value":   r(`<value><struct><member><name>a</name><value/><value/></member></struct></value>`),
		"struct with text":     r(`<value><struct>text</struct></value>`),
		"array without data":   r(`<value><array><foo/></array></value>`),
		"array value outside":  r(`<value><array><value/></array></value>`),
		"array text":           r(`<value><array><data>x</data></array></value>`),
		"typed and text":       r(`<value>x<i4>1</i4></value>`),
		"text after typed":     r(`<value><i4>1</i4>x</value>`),
		"two types":            r(`<value><i4>1</i4><i4>2</i4></value>`),
		"unknown type":         r(`<value><bigdecimal>1</bigdecimal></value>`),
		"element in int":       r(`<value><i4><b>1</b></i4></value>`),
		"element in string":    r(`<value><string><b/></string></value>`),
		"mismatched close":     r(`<value><string>a</strinG></value>`),
		"close prefix":         r(`<value><string>a</stringx></value>`),
		"end tag for start":    []byte(`</methodResponse>`),
		"bad UTF-8 string":     r("<value><string>\xc3\x28</string></value>"),
		"bad UTF-8 untyped":    r("<value>\xff</value>"),
		"bad UTF-8 name":       r("<value><struct><member><name>\xed\xa0\x80</name><value/></member></struct></value>"),
		"bad UTF-8 CDATA":      r("<value><![CDATA[\xfe]]></value>"),
		"truncated UTF-8":      r("<value>\xe2\x98</value>"),
		"NUL":                  r("<value>a\x00b</value>"),
		"control char":         r("<value>a\x01b</value>"),
		"control char CDATA":   r("<value><![CDATA[\x1f]]></value>"),
		"U+FFFE":               r("<value>\uFFFE</value>"),
		"ref NUL":              r(`<value>&#0;</value>`),
		"ref control":          r(`<value>&#x1B;</value>`),
		"ref surrogate":        r(`<value>&#xD800;</value>`),
		"ref too big":          r(`<value>&#x110000;</value>`),
		"ref huge":             r(`<value>&#99999999999999999999;</value>`),
		"ref FFFF":             r(`<value>&#xFFFF;</value>`),
		"ref uppercase X":      r(`<value>&#X41;</value>`),
		"ref sign":             r(`<value>&#+65;</value>`),
		"ref empty":            r(`<value>&#;</value>`),
		"undefined entity":     r(`<value>&lol;</value>`),
		"unterminated entity":  r(`<value>&amp</value>`),
		"bare ampersand":       r(`<value>a & b</value>`),
		"billion laughs": []byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">` +
			`<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` +
			`<methodResponse><params><param><value>&lol2;</value></param></params></methodResponse>`),
		"external entity": []byte(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>` +
			`<methodCall><methodName>&x;</methodName></methodCall>`),
		"DOCTYPE after comment": []byte(`<!-- c --><!DOCTYPE x><methodResponse/>`),
		"DOCTYPE inside":        r(`<value><!DOCTYPE x></value>`),
		"UTF-16 declared":       []byte(`<?xml version="1.0" encoding="UTF-16"?><methodResponse/>`),
		"latin-1 declared":      []byte(`<?xml version='1.0' encoding='ISO-8859-1'?><methodResponse/>`),
		"int too big":           r(`<value><i8>9223372036854775808</i8></value>`),
		"int too small":         r(`<value><i8>-9223372036854775809</i8></value>`),
		"int huge":              r(`<value><i4>` + strings.Repeat("9", 100000) + `</i4></value>`),
		"int empty":             r(`<value><i4></i4></value>`),
		"int self-closed":       r(`<value><int/></value>`),
		"int float":             r(`<value><i4>1.0</i4></value>`),
		"int inner space":       r(`<value><i4>1 2</i4></value>`),
		"int sign only":         r(`<value><i4>-</i4></value>`),
		"double huge":           r(`<value><double>1e400</double></value>`),
		"double huge digits":    r(`<value><double>` + strings.Repeat("9", 400) + `</double></value>`),
		"double NaN":            r(`<value><double>NaN</double></value>`),
		"double Inf":            r(`<value><double>-Inf</double></value>`),
		"double infinity":       r(`<value><double>infinity</double></value>`),
		"double hex":            r(`<value><double>0x1p3</double></value>`),
		"double underscore":     r(`<value><double>1_000</double></value>`),
		"double empty":          r(`<value><double></double></value>`),
		"double dot":            r(`<value><double>.</double></value>`),
		"double bad exponent":   r(`<value><double>1e</double></value>`),
		"double comma":          r(`<value><double>1,5</double></value>`),
		"boolean 2":             r(`<value><boolean>2</boolean></value>`),
		"boolean empty":         r(`<value><boolean/></value>`),
		"date bad":              r(`<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>`),
		"date Feb 30":           r(`<value><dateTime.iso8601>20250230T00:00:00</dateTime.iso8601></value>`),
		"date leap second":      r(`<value><dateTime.iso8601>20250101T00:00:60</dateTime.iso8601></value>`),
		"date empty":            r(`<value><dateTime.iso8601/></value>`),
		"base64 bad char":       r(`<value><base64>aGV*bG8=</base64></value>`),
		"base64 one char":       r(`<value><base64>A</base64></value>`),
		"base64 bad padding":    r(`<value><base64>aGVsbG8==</base64></value>`),
		"base64 inner padding":  r(`<value><base64>aG==bG8=</base64></value>`),
		"deep arrays":           deep(100000, `<value><array><data>`, `</data></array></value>`),
		"deep structs": deep(100000, `<value><struct><member><name>a</name>`,
			`</member></struct></value>`),
		"deep unclosed":                r(strings.Repeat(`<value><array><data>`, 50)),
		"attribute unterminated":       r(`<value a="1><i4>1</i4></value>`),
		"attribute unquoted":           r(`<value a=1><i4>1</i4></value>`),
		"attribute without value":      r(`<value a><i4>1</i4></value>`),
		"attribute no space":           r(`<value a="1"b="2"><i4>1</i4></value>`),
		"attribute with <":             r(`<value a="<"><i4>1</i4></value>`),
		"slash in tag":                 r(`<value/ ><i4>1</i4></value>`),
		"tag at end":                   []byte(`<methodResponse`),
		"empty tag name":               r(`<value>< ></value>`),
		"unterminated comment":         r(`<value><!-- never closed <i4>1</i4></value>`),
		"unterminated comment in text": r(`<value>a<!-- never closed</value>`),
		"unterminated comment outside": []byte(`<!-- <methodResponse/>`),
		"unterminated CDATA":           r(`<value><![CDATA[ never closed </value>`),
		"CDATA as element":             r(`<value><array><![CDATA[x]]></array></value>`),
		"unterminated PI":              r(`<value><?pi never closed</value>`),
		"empty method name":            []byte(`<methodCall><methodName> </methodName></methodCall>`),
		"self-closed method name":      []byte(`<methodCall><methodName/></methodCall>`),
		"no method name":               []byte(`<methodCall><params/></methodCall>`),
		"param without value":          []byte(`<methodCall><methodName>m</methodName><params><param></param></params></methodCall>`),
		"self-closed param":            []byte(`<methodCall><methodName>m</methodName><params><param/></params></methodCall>`),
		"text in params":               []byte(`<methodCall><methodName>m</methodName><params>x</params></methodCall>`),
		"truncated call":               []byte(`<methodCall><methodName>m</methodName><params><param><value><i4>1</i4>`),
	}
}

func TestWrongDocumentKind(t *testing.T) {
	_, err := DecodeResponse(callDoc("m", `<value/>`), Limits{})
	requireDecodeError(t, err)
	_, err = DecodeCall(respDoc(`<value/>`), Limits{})
	requireDecodeError(t, err)
}

func TestHostileInput(t *testing.T) {
	for name, doc := range hostile() {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			lim := Limits{}
			_, err := DecodeResponse(doc, lim)
			requireDecodeError(t, err)
			_, err = DecodeResponseRaw(doc, lim)
			requireDecodeError(t, err)
			_, err = DecodeCall(doc, lim)
			requireDecodeError(t, err)
			_, err = DecodeCallRaw(doc, lim)
			requireDecodeError(t, err)
			require.Less(t, time.Since(start), 2*time.Second, "hostile input must be cheap")
		})
	}
}

// TestTruncated: no proper prefix of a valid document is itself valid
// (every cut must be noticed), checked for a realistic call and response.
func TestTruncated(t *testing.T) {
	docs := [][]byte{
		buildListSystems(2),
		AppendFault(nil, &rpc.Fault{Code: -1, String: "no"}),
		callDoc("channel.software.create", `<value>k</value>`, `<value><struct><member><name>a</name>`+
			`<value><base64>aGVsbG8=</base64></value></member></struct></value>`, `<value><boolean>1</boolean></value>`),
	}
	for _, doc := range docs {
		for n := range len(doc) {
			cut := doc[:n]
			_, err1 := DecodeResponse(cut, Limits{})
			_, err2 := DecodeCall(cut, Limits{})
			_, err3 := DecodeResponseRaw(cut, Limits{})
			for _, err := range []error{err1, err2, err3} {
				var se *SyntaxError
				require.True(t, errors.As(err, &se), "prefix %q: %v", cut, err)
			}
		}
	}
}
