package uyuni

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
)

// The transport writes a shared body with WriteTo; Read must give the
// same bytes for any reader that reads it instead.
func TestSegmentReaderReads(t *testing.T) {
	segs := []xmlrpc.Segment{{B: []byte("head")}, {S: strings.Repeat("s", 9000)}, {B: nil}, {B: bytes.Repeat([]byte("b"), 5000)}, {B: []byte("tail")}}
	want := "head" + strings.Repeat("s", 9000) + strings.Repeat("b", 5000) + "tail"
	require.NoError(t, iotest.TestReader(&segmentReader{segs: segs}, []byte(want)))
	var w bytes.Buffer
	n, err := (&segmentReader{segs: segs}).WriteTo(&w)
	require.NoError(t, err)
	require.Equal(t, int64(len(want)), n)
	require.Equal(t, want, w.String())
}
