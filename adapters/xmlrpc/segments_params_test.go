package xmlrpc_test

import (
	"strings"
	"testing"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// AppendParamsSegments writes the same bytes as AppendParams, whatever it
// references instead of copying: large plain strings and raw values.
func TestAppendParamsSegmentsSameBytes(t *testing.T) {
	big := strings.Repeat("plain text ", 1<<10)
	raw := xmlrpc.Raw("<value><string>" + big + "</string></value>")
	for _, tc := range []struct {
		name   string
		params []any
	}{
		{"small", []any{"a", int64(1), true}},
		{"big plain string", []any{int64(7), big, "tail"}},
		{"big string with escapes", []any{big + "<&>\r"}},
		{"big string, invalid UTF-8 at a chunk edge", []any{strings.Repeat("é", 3000) + "\xff"}},
		{"big multibyte string", []any{strings.Repeat("日本", 4000)}},
		{"big string of continuation bytes", []any{strings.Repeat("\x80", 5000)}},
		{"nested", []any{[]any{big, rpc.Struct{{Name: "k", Value: big}}}, map[string]any{"v": big}}},
		{"raw", []any{raw, big}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := xmlrpc.AppendParams(nil, tc.params...)
			if err != nil {
				t.Fatal(err)
			}
			_, segs, err := xmlrpc.AppendParamsSegments(nil, tc.params...)
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			n := 0
			for _, s := range segs {
				got.Write(s.B)
				got.WriteString(s.S)
				n += s.Len()
			}
			if got.String() != string(want) || n != len(want) {
				t.Fatalf("segments differ from AppendParams (%d segments, %d bytes, want %d)", len(segs), n, len(want))
			}
		})
	}
}
