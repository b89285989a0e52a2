package xmlrpc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// AppendResponseSegments must write exactly what AppendResponse writes:
// only where the bytes live differs.
func TestAppendResponseSegments(t *testing.T) {
	small, err := DecodeResponseRaw(respDoc("<value><int>7</int></value>"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	big, err := DecodeResponseRaw(buildListSystems(100), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]any{
		"plain":       rpc.Struct{{Name: "a", Value: "x"}},
		"small raw":   []any{small, small},
		"big raw":     big,
		"mixed":       rpc.Struct{{Name: "Responses", Value: []any{big, small, big}}, {Name: "Ids", Value: []any{int64(1), int64(2), int64(3)}}},
		"nested raws": []any{[]any{big}, rpc.Struct{{Name: "r", Value: big}}},
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			want, err := AppendResponse(nil, v)
			if err != nil {
				t.Fatal(err)
			}
			prefix := []byte("keep")
			dst, segs, err := AppendResponseSegments(prefix, nil, v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(dst, []byte("keep")) {
				t.Error("dst lost its prefix")
			}
			got := bytes.Join(segs, nil)
			if !bytes.Equal(got, want) {
				t.Errorf("segments differ from AppendResponse:\n got %.200s\nwant %.200s", got, want)
			}
			if _, err := DecodeResponse(got, Limits{}); err != nil {
				t.Errorf("segments do not decode: %v", err)
			}
			if strings.Contains(name, "big") && len(dst)-len(prefix) >= len(big) {
				t.Errorf("dst holds %d bytes: the big raw values were copied", len(dst)-len(prefix))
			}
		})
	}
}

func TestAppendResponseSegmentsError(t *testing.T) {
	dst, segs, err := AppendResponseSegments([]byte("keep"), nil, []any{make(chan int)})
	if err == nil || segs != nil || string(dst) != "keep" {
		t.Errorf("got dst %q, %d segs, err %v; want dst untouched, no segs, an error", dst, len(segs), err)
	}
}
