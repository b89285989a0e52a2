package xmlrpc

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// The fuzz targets check more than "no panic":
//   - every error is a *SyntaxError or ErrTooLarge (or, for a response, a
//     well-formed *rpc.Fault);
//   - the Raw decoders accept exactly what the full decoders accept, and a
//     Raw decodes to the very same value;
//   - whatever decodes re-encodes, and the re-encoded document decodes to an
//     equal value modulo the normalisations documented at canon; encoding
//     that value again gives the same bytes (the encoder's output is a fixed
//     point);
//   - re-sending the Raw values reproduces the original values exactly.
// Seeds live in testdata/fuzz/<target>; run `make fuzz` to fuzz both.

// fuzzLimits keep each input cheap while still exercising the depth limit.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxDepth: 32}

func FuzzDecodeCall(f *testing.F) {
	f.Add(callDoc("system.listSystems", `<value><string>42xabc</string></value>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCall(data, fuzzLimits)
		cr, errRaw := DecodeCallRaw(data, fuzzLimits)
		if err != nil {
			requireDecodeError(t, err)
			require.Error(t, errRaw, "DecodeCallRaw accepts what DecodeCall rejects (%v)", err)
			requireDecodeError(t, errRaw)
			return
		}
		require.NoError(t, errRaw, "DecodeCallRaw rejects what DecodeCall accepts")
		require.NotEmpty(t, c.Method)
		require.Equal(t, c.Method, cr.Method)
		require.Len(t, cr.Params, len(c.Params))
		for i, p := range cr.Params {
			v, err := p.(Raw).Decode()
			require.NoError(t, err)
			requireSameValue(t, c.Params[i], v, false, "param %d", i)
		}

		out, err := AppendCall(nil, c.Method, c.Params...)
		require.NoError(t, err, "a decoded call must re-encode")
		c2, err := DecodeCall(out, Limits{})
		require.NoError(t, err, "re-encoded call must decode: %s", out)
		require.Equal(t, c.Method, c2.Method)
		requireSameValue(t, c.Params, c2.Params, true)
		out2, err := AppendCall(nil, c2.Method, c2.Params...)
		require.NoError(t, err)
		require.Equal(t, string(out), string(out2), "encoding is not a fixed point")

		fwd, err := AppendCall(nil, cr.Method, cr.Params...)
		require.NoError(t, err)
		c3, err := DecodeCall(fwd, Limits{})
		require.NoError(t, err, "forwarded Raw params must decode: %s", fwd)
		requireSameValue(t, c.Params, c3.Params, false)
	})
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add(respDoc(`<value><array><data><value><i4>1</i4></value><value/></data></array></value>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeResponse(data, fuzzLimits)
		raw, errRaw := DecodeResponseRaw(data, fuzzLimits)

		var fault *rpc.Fault
		if errors.As(err, &fault) {
			var rawFault *rpc.Fault
			require.ErrorAs(t, errRaw, &rawFault, "DecodeResponseRaw disagrees about a fault")
			require.Equal(t, *fault, *rawFault)
			back, err := DecodeResponse(AppendFault(nil, fault), Limits{})
			require.Nil(t, back)
			var again *rpc.Fault
			require.ErrorAs(t, err, &again)
			require.Equal(t, *fault, *again)
			return
		}
		if err != nil {
			requireDecodeError(t, err)
			require.Error(t, errRaw, "DecodeResponseRaw accepts what DecodeResponse rejects (%v)", err)
			requireDecodeError(t, errRaw)
			return
		}
		require.NoError(t, errRaw, "DecodeResponseRaw rejects what DecodeResponse accepts")
		require.True(t, bytes.HasPrefix(raw, []byte("<value")))
		fromRaw, err := raw.Decode()
		require.NoError(t, err)
		requireSameValue(t, v, fromRaw, false)

		out, err := AppendResponse(nil, v)
		require.NoError(t, err, "a decoded value must re-encode")
		v2, err := DecodeResponse(out, Limits{})
		require.NoError(t, err, "re-encoded response must decode: %s", out)
		requireSameValue(t, v, v2, true)
		out2, err := AppendResponse(nil, v2)
		require.NoError(t, err)
		require.Equal(t, string(out), string(out2), "encoding is not a fixed point")

		fwd, err := AppendResponse(nil, raw)
		require.NoError(t, err)
		v3, err := DecodeResponse(fwd, Limits{})
		require.NoError(t, err, "forwarded Raw must decode: %s", fwd)
		requireSameValue(t, v, v3, false)
	})
}
