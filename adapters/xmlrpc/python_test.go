package xmlrpc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Python's stdlib xmlrpc.client is an independent implementation (expat
// underneath) and is what spacecmd speaks, so it is our second reference.

// runPython runs script with python3, feeding stdin, and returns stdout.
func runPython(t *testing.T, script string, stdin []byte) []byte {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, py, "-c", script)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "python: %s", stderr.String())
	return out
}

// pyCanon converts what xmlrpc.client.loads returned into tagged JSON that
// keeps types and struct member order, and ints exactly (as strings).
const pyCanon = `
import base64, json, sys, xmlrpc.client as x

def conv(v):
    if isinstance(v, bool): return ["bool", v]
    if isinstance(v, int): return ["int", str(v)]
    if isinstance(v, float): return ["double", v]
    if isinstance(v, str): return ["str", v]
    if isinstance(v, x.DateTime): return ["date", v.value]
    if isinstance(v, x.Binary): return ["b64", base64.b64encode(v.data).decode()]
    if isinstance(v, dict): return ["struct", [[k, conv(w)] for k, w in v.items()]]
    if isinstance(v, list): return ["array", [conv(w) for w in v]]
    if v is None: return ["nil"]
    raise TypeError(type(v))

out = []
for doc in json.load(sys.stdin):
    try:
        params, method = x.loads(doc.encode("utf-8"))
        out.append({"method": method, "params": [conv(p) for p in params]})
    except x.Fault as f:
        out.append({"fault": [f.faultCode, f.faultString]})
json.dump(out, sys.stdout)
`

// goCanon is pyCanon for a Go value as our encoder writes it: nil struct
// members are left out, dates carry their wall clock in Uyuni's form.
func goCanon(v any) any {
	switch x := v.(type) {
	case nil:
		return []any{"nil"}
	case bool:
		return []any{"bool", x}
	case int64:
		return []any{"int", strconv.FormatInt(x, 10)}
	case float64:
		return []any{"double", x}
	case string:
		return []any{"str", x}
	case time.Time:
		return []any{"date", x.Format(DateTimeLayout)}
	case []byte:
		return []any{"b64", base64.StdEncoding.EncodeToString(x)}
	case rpc.Struct:
		members := []any{}
		for _, m := range x {
			if m.Value != nil {
				members = append(members, []any{m.Name, goCanon(m.Value)})
			}
		}
		return []any{"struct", members}
	case []any:
		elems := []any{}
		for _, e := range x {
			elems = append(elems, goCanon(e))
		}
		return []any{"array", elems}
	}
	panic("goCanon: unexpected type")
}

// pyValues are values both sides represent; the Python spelling builds the
// same value in Python, the Go value is what our decoder must return.
var pyValues = []struct {
	py   string
	want any
}{
	{`42`, int64(42)},
	{`-2147483648`, int64(-2147483648)},
	{`2147483647`, int64(2147483647)},
	{`True`, true},
	{`False`, false},
	{`""`, ""},
	{`"plain"`, "plain"},
	{`"a<b>&c \"q\" 'a' ]]>"`, `a<b>&c "q" 'a' ]]>`},
	{`"Grüße ☺ 𝄞"`, "Grüße ☺ 𝄞"},
	{`"tab\tnl\n  spaced  "`, "tab\tnl\n  spaced  "},
	{`1.5`, 1.5},
	{`-0.0`, 0.0},
	{`1e100`, 1e100},
	{`5e-324`, 5e-324},
	{`0.1`, 0.1},
	{`1735787045.0`, 1735787045.0},
	{`x.DateTime(datetime.datetime(2025, 1, 2, 3, 4, 5))`, utc(2025, 1, 2, 3, 4, 5)},
	{`x.DateTime(datetime.datetime(1, 1, 1, 0, 0, 0))`, utc(1, 1, 1, 0, 0, 0)},
	// 512 bytes: Python writes base64 in 76-column lines.
	{`x.Binary(bytes(range(256)) * 2)`, bytes.Repeat(func() []byte {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}(), 2)},
	{`b"hello"`, []byte("hello")},
	{`x.Binary(b"")`, []byte{}},
	{`None`, nil},
	{`{"id": 1000010001, "name": "client.example.com", "z": [], "a": {}}`, rpc.Struct{
		{Name: "id", Value: int64(1000010001)}, {Name: "name", Value: "client.example.com"},
		{Name: "z", Value: []any{}}, {Name: "a", Value: rpc.Struct{}},
	}},
	{`{"a<b": None, "k": [None]}`, rpc.Struct{{Name: "a<b", Value: nil}, {Name: "k", Value: []any{nil}}}},
	{`[1, "two", [3, [4]], {"k": 1.5}]`, []any{int64(1), "two", []any{int64(3), []any{int64(4)}}, rpc.Struct{{Name: "k", Value: 1.5}}}},
	{`{}`, rpc.Struct{}},
	{`[]`, []any{}},
}

// TestPythonToGo: documents Python's xmlrpc.client writes (calls with all
// its types, responses, faults) decode here to the values Python meant.
func TestPythonToGo(t *testing.T) {
	exprs := make([]string, len(pyValues))
	want := make([]any, len(pyValues))
	for i, v := range pyValues {
		exprs[i], want[i] = v.py, v.want
	}
	script := `
import datetime, json, sys, xmlrpc.client as x
values = [` + strings.Join(exprs, ",\n") + `]
json.dump({
    "call": x.dumps(tuple(values), methodname="system.listSystems", allow_none=True),
    "noparams": x.dumps((), methodname="api.getVersion"),
    "response": x.dumps((values,), methodresponse=True, allow_none=True),
    "scalar": x.dumps(("27",), methodresponse=True),
    "fault": x.dumps(x.Fault(2950, "redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect."), methodresponse=True),
    "fault2": x.dumps(x.Fault(-1, "a < b & c"), methodresponse=True),
}, sys.stdout)
`
	var docs map[string]string
	require.NoError(t, json.Unmarshal(runPython(t, script, nil), &docs))

	c, err := DecodeCall([]byte(docs["call"]), Limits{})
	require.NoError(t, err, docs["call"])
	require.Equal(t, "system.listSystems", c.Method)
	requireSameValue(t, want, c.Params, false)

	c, err = DecodeCall([]byte(docs["noparams"]), Limits{})
	require.NoError(t, err)
	require.Equal(t, Call{Method: "api.getVersion"}, c)

	v, err := DecodeResponse([]byte(docs["response"]), Limits{})
	require.NoError(t, err)
	requireSameValue(t, want, v, false)
	raw, err := DecodeResponseRaw([]byte(docs["response"]), Limits{})
	require.NoError(t, err)
	fromRaw, err := raw.Decode()
	require.NoError(t, err)
	requireSameValue(t, want, fromRaw, false)

	v, err = DecodeResponse([]byte(docs["scalar"]), Limits{})
	require.NoError(t, err)
	require.Equal(t, "27", v)

	for key, want := range map[string]rpc.Fault{
		"fault":  {Code: 2950, String: "redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect."},
		"fault2": {Code: -1, String: "a < b & c"},
	} {
		_, err = DecodeResponse([]byte(docs[key]), Limits{})
		var f *rpc.Fault
		require.True(t, errors.As(err, &f), "%s: %v", key, err)
		require.Equal(t, want, *f)
	}
}

// TestGoToPython: what we encode, Python reads as the values we meant.
func TestGoToPython(t *testing.T) {
	values := make([]any, 0, len(pyValues)+4)
	for _, v := range pyValues {
		values = append(values, v.want)
	}
	values = append(values,
		int64(1)<<40, // <i8>, which Python reads
		"cr\r lf\n tab\t ctl\x01 bad\xff",
		time.Date(2025, 6, 7, 8, 9, 10, 0, time.FixedZone("CEST", 7200)),
		rpc.Struct{{Name: "z", Value: int64(1)}, {Name: "a", Value: int64(2)}, {Name: "<&>", Value: nil}},
	)

	call, err := AppendCall(nil, "system.<listSystems>", values...)
	require.NoError(t, err)
	resp, err := AppendResponse(nil, values)
	require.NoError(t, err)
	fault := AppendFault(nil, &rpc.Fault{Code: -23, String: "redstone.xmlrpc.XmlRpcFault: You do not have permissions & <more>"})
	in, err := json.Marshal([]string{string(call), string(resp), string(fault)})
	require.NoError(t, err)

	var got []json.RawMessage
	require.NoError(t, json.Unmarshal(runPython(t, pyCanon, in), &got))
	require.Len(t, got, 3)

	// Control characters and invalid UTF-8 are replaced (XML cannot carry them).
	values[len(pyValues)+1] = "cr\r lf\n tab\t ctl\uFFFD bad\uFFFD"
	params := make([]any, len(values))
	for i, v := range values {
		params[i] = goCanon(v)
	}
	wantCall, err := json.Marshal(map[string]any{"method": "system.<listSystems>", "params": params})
	require.NoError(t, err)
	require.JSONEq(t, string(wantCall), string(got[0]))

	wantResp, err := json.Marshal(map[string]any{"method": nil, "params": []any{goCanon(values)}})
	require.NoError(t, err)
	require.JSONEq(t, string(wantResp), string(got[1]))

	require.JSONEq(t, `{"fault": [-23, "redstone.xmlrpc.XmlRpcFault: You do not have permissions & <more>"]}`, string(got[2]))
}

// TestPythonRoundTrip: Go encodes, Python decodes and re-encodes, Go decodes
// again: the value survives both implementations.
func TestPythonRoundTrip(t *testing.T) {
	v := rpc.Struct{
		{Name: "systems", Value: func() any {
			v, err := DecodeResponse(buildListSystems(3), Limits{})
			require.NoError(t, err)
			return v
		}()},
		{Name: "blob", Value: bytes.Repeat([]byte{0, 1, 2, 255}, 100)},
		{Name: "text", Value: "a<b & \"c\"\n"},
	}
	resp, err := AppendResponse(nil, v)
	require.NoError(t, err)
	script := `
import sys, xmlrpc.client as x
params, _ = x.loads(sys.stdin.buffer.read())
sys.stdout.write(x.dumps(params, methodresponse=True))
`
	back, err := DecodeResponse(runPython(t, script, resp), Limits{})
	require.NoError(t, err)
	requireSameValue(t, v, back, false)
}
