package xmlrpc_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
)

// DecodeCallOwned reads what DecodeCall reads: long strings, plain or
// escaped, typed or not, short ones, in arrays and structs.
func TestDecodeCallOwnedReadsTheSame(t *testing.T) {
	long := strings.Repeat("x", 100<<10)
	for name, params := range map[string][]any{
		"long plain":   {long, "short"},
		"long escaped": {long + "<&>" + long},
		"nested":       {[]any{long, int64(1)}, map[string]any{"a": long}},
		"short":        {"a", "b&c"},
	} {
		t.Run(name, func(t *testing.T) {
			body, err := xmlrpc.AppendCall(nil, "m", params...)
			require.NoError(t, err)
			want, err := xmlrpc.DecodeCall(body, xmlrpc.Limits{})
			require.NoError(t, err)
			got, err := xmlrpc.DecodeCallOwned(body, xmlrpc.Limits{})
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
	untyped := "<?xml version=\"1.0\"?><methodCall><methodName>m</methodName><params><param><value>" + long + "</value></param></params></methodCall>"
	got, err := xmlrpc.DecodeCallOwned([]byte(untyped), xmlrpc.Limits{})
	require.NoError(t, err)
	require.Equal(t, []any{long}, got.Params)
}
