package xmlrpc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"
	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// kolo/xmlrpc is the Go client library the rest of the ecosystem uses; these
// tests check we interoperate with it where it is sound, and pin down where
// it is not, which is why this package decodes and encodes by hand.

// koloView is what kolo's Unmarshal into an `any` yields for one of our
// values: structs become maps, everything else keeps its Go type.
func koloView(v any) any {
	switch x := v.(type) {
	case rpc.Struct:
		m := make(map[string]any, len(x))
		for _, mb := range x {
			m[mb.Name] = koloView(mb.Value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = koloView(e)
		}
		return out
	}
	return v
}

// koloUnmarshal decodes a response body with kolo, into an `any`.
func koloUnmarshal(t *testing.T, body []byte) any {
	t.Helper()
	var got any
	require.NoError(t, kolo.Response(body).Err())
	require.NoError(t, kolo.Response(body).Unmarshal(&got))
	return got
}

// koloValues are the values both sides represent without loss.
var koloValues = []struct {
	name string
	v    any
}{
	{"i4", int64(1000010001)},
	{"negative", int64(-2147483648)},
	{"i8", int64(1) << 40},
	{"true", true},
	{"false", false},
	{"string", "plain"},
	{"string escaped", `a<b>&c "q" 'a'`},
	{"unicode", "Grüße ☺ 𝄞"},
	{"double", 1.5},
	{"double large", 1.735787045e9},
	{"double tiny", 1e-7},
	{"date", utc(2025, 1, 2, 3, 4, 5)},
	{"struct", rpc.Struct{{Name: "id", Value: int64(1)}, {Name: "name", Value: "n"}, {Name: "a&b", Value: false}}},
	{"array", []any{int64(1), "two", 3.5, true}},
	{"nested", []any{rpc.Struct{{Name: "l", Value: []any{rpc.Struct{{Name: "d", Value: utc(2024, 2, 29, 0, 0, 0)}}}}}}},
}

// TestOursToKolo: responses we encode decode in kolo to the same values.
func TestOursToKolo(t *testing.T) {
	for _, tc := range koloValues {
		t.Run(tc.name, func(t *testing.T) {
			body, err := AppendResponse(nil, tc.v)
			require.NoError(t, err)
			require.Equal(t, koloView(tc.v), koloUnmarshal(t, body))
		})
	}
	t.Run("empty containers", func(t *testing.T) {
		// kolo builds empty structs and arrays as nil maps and slices.
		for _, v := range []any{[]any{}, rpc.Struct{}} {
			body, err := AppendResponse(nil, v)
			require.NoError(t, err)
			require.Empty(t, koloUnmarshal(t, body))
		}
	})
	t.Run("typed Go struct", func(t *testing.T) {
		type system struct {
			ID          int       `xmlrpc:"id"`
			Name        string    `xmlrpc:"name"`
			LastCheckin time.Time `xmlrpc:"last_checkin"`
			LastBoot    float64   `xmlrpc:"last_boot"`
		}
		in := []system{{ID: 1000010000, Name: "a", LastCheckin: utc(2025, 1, 2, 3, 4, 5), LastBoot: 1.5e9}}
		body, err := AppendResponse(nil, in)
		require.NoError(t, err)
		var out []system
		require.NoError(t, kolo.Response(body).Unmarshal(&out))
		require.Equal(t, in, out)
	})
	t.Run("fault", func(t *testing.T) {
		body := AppendFault(nil, &rpc.Fault{Code: 2950, String: "redstone.xmlrpc.XmlRpcFault: a < b"})
		var fe kolo.FaultError
		require.ErrorAs(t, kolo.Response(body).Err(), &fe)
		require.Equal(t, kolo.FaultError{Code: 2950, String: "redstone.xmlrpc.XmlRpcFault: a < b"}, fe)
	})
}

// TestKoloToOurs: calls kolo encodes decode here to the same values.
func TestKoloToOurs(t *testing.T) {
	type keyInfo struct {
		Key   string   `xmlrpc:"key"`
		Usage int      `xmlrpc:"usage_limit"`
		Ents  []string `xmlrpc:"entitlements"`
		Skip  string   `xmlrpc:"-"`
	}
	args := []any{
		"42x" + string(bytes.Repeat([]byte("a"), 64)),
		1000010001,
		int64(-5),
		true,
		2.25,
		"a<b>&c",
		utc(2025, 1, 2, 3, 4, 5),
		[]any{1, "x", false},
		[]string{},
		keyInfo{Key: "1-k", Usage: 10, Ents: []string{"container_build_host"}, Skip: "no"},
	}
	want := []any{
		"42x" + string(bytes.Repeat([]byte("a"), 64)),
		int64(1000010001),
		int64(-5),
		true,
		2.25,
		"a<b>&c",
		utc(2025, 1, 2, 3, 4, 5),
		[]any{int64(1), "x", false},
		[]any{},
		rpc.Struct{{Name: "key", Value: "1-k"}, {Name: "usage_limit", Value: int64(10)},
			{Name: "entitlements", Value: []any{"container_build_host"}}},
	}
	body, err := kolo.EncodeMethodCall("activationkey.create", args...)
	require.NoError(t, err)
	c, err := DecodeCall(body, Limits{})
	require.NoError(t, err)
	require.Equal(t, "activationkey.create", c.Method)
	requireSameValue(t, want, c.Params, false)

	// Maps: kolo writes members in map order, which is random; compare as maps.
	body, err = kolo.EncodeMethodCall("m", map[string]any{"a": 1, "b": "x", "c": map[string]any{}})
	require.NoError(t, err)
	c, err = DecodeCall(body, Limits{})
	require.NoError(t, err)
	s, ok := c.Params[0].(rpc.Struct)
	require.True(t, ok)
	require.Equal(t, map[string]any{"a": int64(1), "b": "x", "c": rpc.Struct{}}, s.Map())
}

// TestKoloLossy documents why we do not decode with kolo: each case is a
// document Uyuni or a peripheral may send, kolo's result, and ours.
func TestKoloLossy(t *testing.T) {
	t.Run("empty value drops the rest of the array", func(t *testing.T) {
		body := respDoc(`<value><array><data><value><i4>1</i4></value><value/>` +
			`<value><i4>3</i4></value><value><i4>4</i4></value></data></array></value>`)
		got := koloUnmarshal(t, body)
		require.Equal(t, []any{int64(1), nil}, got, "kolo loses 3 and 4 without an error")

		ours, err := DecodeResponse(body, Limits{})
		require.NoError(t, err)
		require.Equal(t, []any{int64(1), "", int64(3), int64(4)}, ours)
	})
	t.Run("untyped string rejected", func(t *testing.T) {
		body := respDoc(`<value><struct><member><name>name</name><value>client.example.com</value></member></struct></value>`)
		var got any
		require.Error(t, kolo.Response(body).Unmarshal(&got), "kolo cannot put an untyped value into an interface")

		ours, err := DecodeResponse(body, Limits{})
		require.NoError(t, err)
		require.Equal(t, rpc.Struct{{Name: "name", Value: "client.example.com"}}, ours)
	})
	t.Run("base64 left encoded", func(t *testing.T) {
		body := respDoc("<value><base64>aGVs\nbG8=\n</base64></value>")
		require.Equal(t, "aGVs\nbG8=\n", koloUnmarshal(t, body), "kolo returns the base64 text, not the bytes")

		ours, err := DecodeResponse(body, Limits{})
		require.NoError(t, err)
		require.Equal(t, []byte("hello"), ours)
	})
	t.Run("white space around numbers", func(t *testing.T) {
		body := respDoc("<value><i4>\n5\n</i4></value>")
		var got any
		require.Error(t, kolo.Response(body).Unmarshal(&got))

		ours, err := DecodeResponse(body, Limits{})
		require.NoError(t, err)
		require.Equal(t, int64(5), ours)
	})
}

// TestWhyOwnAppendCall keeps the choice of AppendCall over kolo's
// EncodeMethodCall justified: kolo does not escape method or member names
// (the document is not XML) and writes every integer as <int> where Uyuni
// writes <i4>.
func TestWhyOwnAppendCall(t *testing.T) {
	params := []any{map[string]any{"a<b&c": 1}}

	koloBody, err := kolo.EncodeMethodCall("system.getDetails", params...)
	require.NoError(t, err)
	require.Contains(t, string(koloBody), "<name>a<b&c</name>", "kolo does not escape member names")
	require.Contains(t, string(koloBody), "<int>1</int>", "kolo writes <int>")
	require.Error(t, wellFormed(koloBody), "kolo's document is not XML")
	_, err = DecodeCall(koloBody, Limits{})
	var se *SyntaxError
	require.ErrorAs(t, err, &se)

	koloName, err := kolo.EncodeMethodCall("a<b")
	require.NoError(t, err)
	require.Contains(t, string(koloName), "<methodName>a<b</methodName>", "nor method names")

	ours, err := AppendCall(nil, "system.getDetails", params...)
	require.NoError(t, err)
	require.Contains(t, string(ours), "<name>a&lt;b&amp;c</name>")
	require.Contains(t, string(ours), "<i4>1</i4>")
	require.NotContains(t, string(ours), "<int>")
	require.NoError(t, wellFormed(ours))
	c, err := DecodeCall(ours, Limits{})
	require.NoError(t, err)
	require.Equal(t, Call{Method: "system.getDetails", Params: []any{rpc.Struct{{Name: "a<b&c", Value: int64(1)}}}}, c)

	// kolo reads our escaped names back correctly.
	var kv any
	require.NoError(t, kolo.Response(ours).Unmarshal(&kv))
	require.Equal(t, map[string]any{"a<b&c": int64(1)}, kv)
}

// wellFormed checks a document with encoding/xml, an independent parser.
func wellFormed(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
