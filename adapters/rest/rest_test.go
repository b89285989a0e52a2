package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/catalog"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
	"github.com/hubgw/hubgw/openapi"
)

// TestStatus is the README's fault code → HTTP status table.
func TestStatus(t *testing.T) {
	tests := []struct {
		code   int
		msg    string
		status int
	}{
		{gateway.CodeParse, "", 400},
		{gateway.CodeInvalidRequest, "", 400},
		{gateway.CodeBadParams, "", 400},
		{gateway.CodeNoMethod, "", 404},
		{gateway.CodeInternal, "", 500},
		{-1, "hubgw: Could not find session with id: gw12…", 401},
		{-1, "com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: 4", 401},
		{-1, "redstone.xmlrpc.XmlRpcFault: Could not find method: x in class: Y with params: []", 400},
		{-23, "", 403},
		{2950, "", 401},
		{-208, "", 404},
		{-210, "", 404},
		{-213, "", 404},
		{2850, "", 404},
		{10001, "", 404},
		{-212, "redstone.xmlrpc.XmlRpcFault: Activation Key [1-web] Not Found!", 404},
		{-212, "redstone.xmlrpc.XmlRpcFault: Invalid entitlement", 422},
		{1022, "", 404},
		{1206, "", 409},
		{-211, "", 422},
		{1200, "", 422},
		{2800, "", 422},
		{gateway.CodeNotAttached, "", 409},
		{gateway.CodeUnknownServer, "", 404},
		{gateway.CodeUnreachable, "", 502},
		{gateway.CodeHubUnreachable, "", 502},
		{gateway.CodeTimeout, "", 504},
		{gateway.CodeCircuitOpen, "", 503},
		{gateway.CodeTooLarge, "", 413},
		{gateway.CodeInFlight, "", 413},
		{gateway.CodeThrottled, "", 429},
		{gateway.CodeStateUnavailable, "", 503},
		{gateway.CodeUnknownJob, "", 404},
		{12345, "", 422},
	}
	for _, tt := range tests {
		require.Equal(t, tt.status, Status(&rpc.Fault{Code: tt.code, String: tt.msg}), "%d %s", tt.code, tt.msg)
	}
}

func TestParams(t *testing.T) {
	obj, err := params([]byte(` {"z": 1, "a": {"y": [1, 2.5, "s", true, null], "b": {}}, "n": null} `))
	require.NoError(t, err)
	require.Equal(t, []string{"z", "a", "n"}, obj.names())
	v, _ := obj.get("a")
	require.Equal(t, object{{"y", []any{json.Number("1"), json.Number("2.5"), "s", true, nil}}, {"b", object{}}}, v)

	empty, err := params([]byte(" \n"))
	require.NoError(t, err)
	require.Nil(t, empty)

	for body, want := range map[string]string{
		`{"a":1,"a":2}`:          `parameter "a" is given twice`,
		`[1]`:                    "JSON object",
		`"x"`:                    "JSON object",
		`{"a":1}{}`:              "data after the JSON value",
		`{"a":`:                  "malformed JSON",
		`{"a":1,}`:               "malformed JSON",
		strings.Repeat("[", 200): "nested deeper than 100",
		`{"a": tru}`:             "malformed JSON",
		"{\"a\": \"\xff\"}":      "not valid UTF-8", // not replaced by U+FFFD, as encoding/json would (issue 12)
		`{"a": "x\u0000y"}`:      "NUL",
		`{"a\u0000": 1}`:         "NUL",
		`{"a": ["\u0000"]}`:      "NUL",
		`{"big": 123456789012345678901234567890}`: "",
	} {
		_, err := params([]byte(body))
		if want == "" {
			require.NoError(t, err, body)
			continue
		}
		require.ErrorContains(t, err, want, body)
	}
}

func TestToXMLRPC(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	tests := []struct {
		name      string
		in        any
		typ, elem string
		want      any
		err       string
	}{
		{"int", json.Number("42"), "int", "", int64(42), ""},
		{"int beyond 64 bits", json.Number("99999999999999999999"), "int", "", nil, "within 64 bits"},
		{"int not integral", json.Number("1.5"), "int", "", nil, "within 64 bits"},
		{"double", json.Number("1.5e3"), "double", "", 1500.0, ""},
		{"string", "x", "string", "", "x", ""},
		{"string, not a number", json.Number("1"), "string", "", nil, "must be a string"},
		{"boolean", true, "boolean", "", true, ""},
		{"date to the server's wall clock", "2025-01-02T00:00:00Z", "dateTime.iso8601", "", time.Date(2025, 1, 2, 9, 0, 0, 0, tokyo), ""},
		{"date without zone", "2025-01-02T00:00:00", "dateTime.iso8601", "", nil, "RFC 3339"},
		{"base64", "AAEC", "base64", "", []byte{0, 1, 2}, ""},
		{"bad base64", "A", "base64", "", nil, "standard base64"},
		{"struct keeps order, drops nulls", object{{"b", json.Number("1")}, {"a", nil}, {"c", object{{"x", json.Number("0.5")}}}}, "struct", "",
			rpc.Struct{{Name: "b", Value: int64(1)}, {Name: "c", Value: rpc.Struct{{Name: "x", Value: 0.5}}}}, ""},
		{"struct, not an object", []any{}, "struct", "", nil, "JSON object"},
		{"array of int", []any{json.Number("1"), json.Number("2")}, "array", "int", []any{int64(1), int64(2)}, ""},
		{"array element", []any{json.Number("1"), "x"}, "array", "int", nil, "at /1: must be an integer"},
		{"array of unknown", []any{json.Number("1"), "x", object{}}, "array", "", []any{int64(1), "x", rpc.Struct{}}, ""},
		{"unknown type", json.Number("7"), "", "", int64(7), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toXMLRPC(tt.in, tt.typ, tt.elem, tokyo)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			if want, ok := tt.want.(time.Time); ok {
				require.True(t, want.Equal(got.(time.Time)))
				require.Equal(t, "20250102T09:00:00", got.(time.Time).Format(xmlrpc.DateTimeLayout), "Uyuni gets its own wall clock")
				return
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestQueryValue(t *testing.T) {
	v, err := queryValue("12", openapi.Type{XMLRPC: "int"})
	require.NoError(t, err)
	require.Equal(t, json.Number("12"), v)
	_, err = queryValue("x", openapi.Type{XMLRPC: "int"})
	require.Error(t, err)
	v, err = queryValue("true", openapi.Type{XMLRPC: "boolean"})
	require.NoError(t, err)
	require.Equal(t, true, v)
	_, err = queryValue("{}", openapi.Type{XMLRPC: "struct"})
	require.ErrorContains(t, err, "JSON body")
	v, err = queryValue("a b", openapi.Type{XMLRPC: "string"})
	require.NoError(t, err)
	require.Equal(t, "a b", v)
}

func TestHealth(t *testing.T) {
	h := NewHealth()
	p := target.Target{ID: 7, Name: "p"}
	h.Finished(fanout.Call{Target: p}, fanout.Result{Target: p, Duration: time.Second})
	l, ok := h.Last("7")
	require.True(t, ok)
	require.Equal(t, "ok", l.Outcome)
	h.Finished(fanout.Call{Target: p}, fanout.Result{Target: p, Fault: &rpc.Fault{Code: -210}})
	l, _ = h.Last("7")
	require.Equal(t, "fault", l.Outcome)
	require.Equal(t, -210, l.FaultCode)
	_, ok = h.Last("8")
	require.False(t, ok)
	var none *Health
	_, ok = none.Last("7")
	require.False(t, ok)
}

// fakeGateway answers every call with canned results.
type fakeGateway struct {
	mu      sync.Mutex
	targets []target.Target
	value   func(t target.Target) fanout.Result
	calls   int
}

func (f *fakeGateway) Login(context.Context, auth.Mode, string, string) (*auth.Session, fanout.Results, error) {
	return &auth.Session{ID: "gwtoken", Keys: map[string]string{}}, nil, nil
}

func (f *fakeGateway) Session(_ context.Context, key any) (*auth.Session, error) {
	if key != "gwtoken" {
		return nil, rpc.Faultf(gateway.CodeNoSession, "hubgw: Could not find session with id: %s", key)
	}
	return &auth.Session{ID: "gwtoken", Keys: map[string]string{}}, nil
}
func (f *fakeGateway) Logout(context.Context, any) error { return nil }
func (f *fakeGateway) Peripherals(context.Context, *auth.Session) (*registry.Snapshot, error) {
	return &registry.Snapshot{Targets: f.targets}, nil
}
func (f *fakeGateway) Hub() target.Target { return target.Target{Hub: true, Name: "hub"} }
func (f *fakeGateway) Resolve(_ context.Context, _ *auth.Session, refs []string) ([]target.Target, error) {
	if len(refs) == 1 && refs[0] == "all" {
		return f.targets, nil
	}
	return nil, &gateway.UnknownTarget{Fault: rpc.Faultf(gateway.CodeUnknownServer, "hubgw: unknown target %q", refs[0]), Valid: []string{"hub", "all"}}
}
func (f *fakeGateway) IsMany(refs []string) bool { return len(refs) != 1 || refs[0] == "all" }
func (f *fakeGateway) Job(context.Context, *auth.Session, string) (*jobs.Job, error) {
	return nil, rpc.Faultf(gateway.CodeUnknownJob, "no job")
}
func (f *fakeGateway) Jobs(context.Context, *auth.Session, int) ([]jobs.Job, error) { return nil, nil }
func (f *fakeGateway) Attach(context.Context, *auth.Session, []target.Target, []string, []string) (fanout.Results, error) {
	return nil, errors.New("not here")
}
func (f *fakeGateway) Do(_ context.Context, req gateway.Request) (gateway.Outcome, error) {
	ts := req.Targets
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	out := gateway.Outcome{JobID: "job-1"}
	for _, t := range ts {
		if f.value == nil {
			out.Results = append(out.Results, fanout.Result{Target: t, Value: "x", Attempts: 1})
			continue
		}
		out.Results = append(out.Results, f.value(t))
	}
	return out, nil
}

func newTestHandler(t *testing.T, gw *fakeGateway) *echo.Echo {
	t.Helper()
	cat, err := catalog.Load()
	require.NoError(t, err)
	h, err := New(Config{Gateway: gw, Live: openapi.NewLive(cat, openapi.Options{}, nil), RefreshEvery: time.Hour})
	require.NoError(t, err)
	// No hub behind the fake: no refreshes.
	h.live.RefreshAsync(context.Background(), time.Second, func(context.Context) (string, any, error) { return "", nil, errors.New("no hub") })
	h.live.Wait()
	t.Cleanup(h.Close)
	e := echo.New()
	h.Register(e)
	return e
}

func serve(e *echo.Echo, method, path, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// TestFanoutStreams: a fan-out answer bigger than the buffer goes out in
// pieces (no Content-Length) and is one valid JSON document.
func TestFanoutStreams(t *testing.T) {
	gw := &fakeGateway{}
	for i := range 3000 {
		gw.targets = append(gw.targets, target.Target{ID: int64(1000 + i), Name: fmt.Sprintf("p%d", i)})
	}
	raw := xmlrpc.Raw(`<value><struct><member><name>name</name><value><string>a &lt;b&gt;</string></value></member><member><name>at</name><value><dateTime.iso8601>20250102T03:04:05</dateTime.iso8601></value></member></struct></value>`)
	gw.value = func(t target.Target) fanout.Result {
		if t.ID == 1001 {
			return fanout.Result{Target: t, Value: xmlrpc.Raw(`<value><i4>x</i4></value>`), Attempts: 1}
		}
		return fanout.Result{Target: t, Value: raw, Attempts: 1}
	}
	e := newTestHandler(t, gw)
	rec := serve(e, http.MethodPost, "/api/v1/call/system/listSystems", "gwtoken", "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Empty(t, rec.Header().Get("Content-Length"))
	require.Greater(t, rec.Body.Len(), flushAt)
	var out struct {
		Complete bool   `json:"complete"`
		JobID    string `json:"jobId"`
		Results  []map[string]any
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
	require.Equal(t, "job-1", out.JobID)
	require.False(t, out.Complete)
	require.Len(t, out.Results, 3000)
	require.Equal(t, map[string]any{"name": "a <b>", "at": "2025-01-02T03:04:05Z"}, out.Results[0]["value"])
	// A value that cannot be transcoded is a failed result, not broken JSON.
	require.Equal(t, false, out.Results[1]["ok"])
	require.Equal(t, "transport", out.Results[1]["outcome"])
	require.Contains(t, out.Results[1]["error"], "bad <i4>")

	// A small answer has its Content-Length.
	gw.targets = gw.targets[:1]
	rec = serve(e, http.MethodPost, "/api/v1/call/system/listSystems", "gwtoken", "")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, fmt.Sprint(rec.Body.Len()), rec.Header().Get("Content-Length"))
}

func TestProblems(t *testing.T) {
	gw := &fakeGateway{}
	e := newTestHandler(t, gw)
	tests := []struct {
		method, path, token, body string
		status, code              int
	}{
		{"POST", "/api/v1/hub/system/listSystems", "", "", 401, -1},
		{"POST", "/api/v1/hub/system/listSystems", "nope", "", 401, -1},
		{"GET", "/api/v1/login", "", "", 405, gateway.CodeInvalidRequest},
		{"POST", "/api/v1/call/system/listSystems?targets=x", "gwtoken", "", 404, gateway.CodeUnknownServer},
		{"POST", "/api/v1/attach", "gwtoken", `{}`, 400, gateway.CodeBadParams},
		{"POST", "/api/v1/attach", "gwtoken", `{"targets":"all"}`, 400, gateway.CodeBadParams},
		{"POST", "/api/v1/login", "", `{"username":1}`, 400, gateway.CodeBadParams},
		{"PUT", "/api/v1", "", "", 404, gateway.CodeNoMethod},
	}
	for _, tt := range tests {
		rec := serve(e, tt.method, tt.path, tt.token, tt.body)
		require.Equal(t, tt.status, rec.Code, "%s %s: %s", tt.method, tt.path, rec.Body)
		require.Equal(t, openapi.ContentProblem, rec.Header().Get("Content-Type"))
		var p Problem
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
		require.Equal(t, tt.code, p.FaultCode, "%s %s: %s", tt.method, tt.path, rec.Body)
		require.Equal(t, tt.status, p.Status)
	}
	gw.mu.Lock()
	defer gw.mu.Unlock()
	require.Zero(t, gw.calls, "nothing went upstream")
}
