package xmlrpc

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"
	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// listSystemsBody is a system.listSystems response for 1000 systems written
// the way Uyuni (redstone) writes it: one line, <i4> integers, dates with no
// zone, last_boot as a double (epoch seconds), members in a fixed order. It is
// built by hand, not with AppendResponse, so the benchmark does not depend on
// our encoder.
var listSystemsBody = sync.OnceValue(func() []byte {
	return buildListSystems(1000)
})

func buildListSystems(n int) []byte {
	b := []byte(`<?xml version="1.0" encoding="UTF-8"?><methodResponse><params><param><value><array><data>`)
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		checkin := base.Add(-time.Duration(i) * time.Minute)
		created := base.Add(-time.Duration(i) * 24 * time.Hour)
		b = fmt.Appendf(b, `<value><struct>`+
			`<member><name>id</name><value><i4>%d</i4></value></member>`+
			`<member><name>name</name><value><string>client-%04d.example.com</string></value></member>`+
			`<member><name>last_checkin</name><value><dateTime.iso8601>%s</dateTime.iso8601></value></member>`+
			`<member><name>last_boot</name><value><double>%s</double></value></member>`+
			`<member><name>created</name><value><dateTime.iso8601>%s</dateTime.iso8601></value></member>`+
			`<member><name>outdated_pkg_count</name><value><i4>%d</i4></value></member>`+
			`<member><name>extra_pkg_count</name><value><i4>%d</i4></value></member>`+
			`</struct></value>`,
			1000010000+i, i,
			checkin.Format(DateTimeLayout),
			javaDouble(float64(created.Unix())),
			created.Format(DateTimeLayout),
			i%37, i%5)
	}
	return append(b, `</data></array></value></param></params></methodResponse>`...)
}

// javaDouble formats f as Java's Double.toString does, which is what
// Uyuni's XML-RPC library writes: plain for 1e-3 <= |f| < 1e7, else
// scientific with a bare exponent ("1.735787045E9").
func javaDouble(f float64) string {
	if a := math.Abs(f); a == 0 || (a >= 1e-3 && a < 1e7) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1.735787045E+09
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

func BenchmarkDecodeResponse(b *testing.B) {
	body := listSystemsBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := DecodeResponse(body, Limits{})
		if err != nil || len(v.([]any)) != 1000 {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeResponseRaw(b *testing.B) {
	body := listSystemsBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeResponseRaw(body, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeResponseRawIndented is the same answer pretty-printed, one
// element a line: white space between tags is the scanner's other hot path.
func BenchmarkDecodeResponseRawIndented(b *testing.B) {
	body := listSystemsIndented()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeResponseRaw(body, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

var listSystemsIndented = sync.OnceValue(func() []byte {
	return indentXML(buildListSystems(1000))
})

// indentXML puts each element on its own line, indented two spaces a level.
// Only the gap between two tags gets white space, so text is left alone;
// it relies on the document having no empty text elements.
func indentXML(doc []byte) []byte {
	var out []byte
	depth := 0
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if c == '<' && i > 0 && doc[i-1] == '>' {
			d := depth
			if i+1 < len(doc) && doc[i+1] == '/' {
				d--
			}
			out = append(out, '\n')
			out = append(out, strings.Repeat("  ", max(d, 0))...)
		}
		out = append(out, c)
		if c == '<' && i+1 < len(doc) {
			switch doc[i+1] {
			case '/':
				depth--
			case '?':
			default:
				if end := bytes.IndexByte(doc[i:], '>'); end > 0 && doc[i+end-1] != '/' {
					depth++
				}
			}
		}
	}
	return out
}

// BenchmarkKoloUnmarshal decodes the same bytes with kolo/xmlrpc, the
// baseline our decoder is measured against.
func BenchmarkKoloUnmarshal(b *testing.B) {
	body := listSystemsBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := kolo.Response(body).Unmarshal(&v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendResponse(b *testing.B) {
	v, err := DecodeResponse(listSystemsBody(), Limits{})
	require.NoError(b, err)
	out, err := AppendResponse(nil, v)
	require.NoError(b, err)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if out, err = AppendResponse(out[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

// TestListSystemsFixture keeps the benchmark honest: our decoder, kolo's and a
// re-encode all see the same 1000 systems.
func TestListSystemsFixture(t *testing.T) {
	body := buildListSystems(3)
	v, err := DecodeResponse(body, Limits{})
	require.NoError(t, err)
	list := v.([]any)
	require.Len(t, list, 3)
	first := list[0].(rpc.Struct)
	require.Equal(t, rpc.Struct{
		{Name: "id", Value: int64(1000010000)},
		{Name: "name", Value: "client-0000.example.com"},
		{Name: "last_checkin", Value: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		{Name: "last_boot", Value: float64(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Unix())},
		{Name: "created", Value: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		{Name: "outdated_pkg_count", Value: int64(0)},
		{Name: "extra_pkg_count", Value: int64(0)},
	}, first)

	// The indented copy holds the same values.
	indented, err := DecodeResponse(indentXML(body), Limits{})
	require.NoError(t, err)
	require.Equal(t, v, indented)
	require.Contains(t, string(indentXML(body)), "\n                <member>\n                  <name>id</name>\n                  <value>\n                    <i4>")

	var kv any
	require.NoError(t, kolo.Response(body).Unmarshal(&kv))
	require.Len(t, kv, 3)

	// Re-encoding keeps every value (doubles are written without exponent).
	out, err := AppendResponse(nil, v)
	require.NoError(t, err)
	back, err := DecodeResponse(out, Limits{})
	require.NoError(t, err)
	require.Equal(t, v, back)
	require.Contains(t, string(body), "<double>1.735787045E9</double>")
}
