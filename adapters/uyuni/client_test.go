package uyuni_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/uyuni"
	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// upstream is a minimal XML-RPC server: it answers each method as told.
func upstream(t *testing.T, answer func(w http.ResponseWriter, c xmlrpc.Call)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading request: %v", err)
		}
		c, err := xmlrpc.DecodeCall(body, xmlrpc.Limits{})
		if err != nil {
			t.Errorf("bad request from client: %v", err)
			return
		}
		answer(w, c)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/rpc/api"
}

func writeXML(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

func newClient(t *testing.T, o uyuni.Options) *uyuni.Client {
	t.Helper()
	c, err := uyuni.New(o)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdle)
	return c
}

func TestCallOutcomes(t *testing.T) {
	u := upstream(t, func(w http.ResponseWriter, c xmlrpc.Call) {
		switch c.Method {
		case "ok":
			b, _ := xmlrpc.AppendResponse(nil, rpc.Struct{{Name: "echo", Value: c.Params}})
			writeXML(w, b)
		case "fault":
			writeXML(w, xmlrpc.AppendFault(nil, &rpc.Fault{Code: 2950, String: "redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect."}))
		case "500":
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		case "garbage":
			writeXML(w, []byte("<html>proxy error</html>"))
		case "truncated":
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte("<?xml version='1.0'?><methodResponse><params>"))
		case "redirect":
			w.Header().Set("Location", "https://elsewhere/rpc/api")
			w.WriteHeader(http.StatusMovedPermanently)
		case "big":
			writeXML(w, make([]byte, 4096))
		}
	})
	c := newClient(t, uyuni.Options{MaxResponseBytes: 2048})
	ctx := context.Background()

	v, err := c.CallValue(ctx, u, "ok", []any{"key\n", int64(7)})
	require.NoError(t, err)
	require.Equal(t, rpc.Struct{{Name: "echo", Value: []any{"key\n", int64(7)}}}, v)

	raw, err := c.Call(ctx, u, "ok", []any{"a"})
	require.NoError(t, err)
	require.Equal(t, "<value><struct><member><name>echo</name><value><array><data><value><string>a</string></value></data></array></value></member></struct></value>", string(raw))

	_, err = c.Call(ctx, u, "fault", nil)
	var f *rpc.Fault
	require.ErrorAs(t, err, &f)
	require.Equal(t, 2950, f.Code, "the upstream fault code passes unchanged")

	for _, tc := range []struct {
		method, want string
		status       int
	}{
		{"500", "Internal Server Error", 500},
		{"garbage", "bad XML-RPC response", 0},
		{"truncated", "reading response", 0},
		{"redirect", "HTTP 301", 301},
		{"big", "over the 2048 byte limit", 0},
	} {
		t.Run(tc.method, func(t *testing.T) {
			_, err := c.Call(ctx, u, tc.method, nil)
			var te *uyuni.TransportError
			require.ErrorAs(t, err, &te)
			require.Equal(t, tc.status, te.Status)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestConnectionsAreReused(t *testing.T) {
	u := upstream(t, func(w http.ResponseWriter, c xmlrpc.Call) {
		b, _ := xmlrpc.AppendResponse(nil, int64(1))
		writeXML(w, b)
	})
	c := newClient(t, uyuni.Options{})
	for range 200 {
		_, err := c.Call(context.Background(), u, "x", nil)
		require.NoError(t, err)
	}
	require.Equal(t, int64(1), c.Dials(), "sequential calls share one keep-alive connection")
}

func TestCallHonoursContext(t *testing.T) {
	release := make(chan struct{})
	u := upstream(t, func(w http.ResponseWriter, c xmlrpc.Call) { <-release })
	t.Cleanup(func() { close(release) })
	c := newClient(t, uyuni.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Call(ctx, u, "hang", nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestDeadServerIsTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + "/rpc/api"
	srv.Close()
	c := newClient(t, uyuni.Options{})
	r := c.Invoke(context.Background(), fanout.Call{Target: target.Target{ID: 1, URL: u}, Method: "x"})
	require.Error(t, r.Err)
	require.Equal(t, "transport", fanout.Kind(r))
	require.Equal(t, 1, r.Attempts)
	var te *uyuni.TransportError
	require.True(t, errors.As(r.Err, &te))
}

func TestBadCAFile(t *testing.T) {
	_, err := uyuni.New(uyuni.Options{Hosts: map[string]uyuni.TLS{"p1:443": {CAFile: "/nonexistent/ca.pem"}}})
	require.ErrorContains(t, err, `TLS for "p1:443"`)
}

// Issue 12, H2: the calls of one fan-out that share their arguments (all
// but each server's session key) carry them in full to every server, from
// one encoding: the Shared holds it after the first call, and nobody
// encodes them again.
func TestSharedArgumentsEncodedOnce(t *testing.T) {
	big := strings.Repeat("shared ", 1<<17)
	got := make(chan []any, 3)
	u := upstream(t, func(w http.ResponseWriter, c xmlrpc.Call) {
		got <- c.Params
		b, _ := xmlrpc.AppendResponse(nil, int64(1))
		writeXML(w, b)
	})
	c := newClient(t, uyuni.Options{})
	shared := &fanout.Shared{From: 1}
	args := []any{big, rpc.Struct{{Name: "n", Value: int64(3)}}}
	var calls []fanout.Call
	for i := range 3 {
		key := "key" + strconv.Itoa(i)
		calls = append(calls, fanout.Call{Target: target.Target{ID: int64(i + 1), URL: u}, Method: "m", Params: append([]any{key}, args...), Shared: shared})
	}
	for i, r := range fanout.Run(context.Background(), c.Invoke, calls) {
		require.NoError(t, r.Err, i)
	}
	keys := map[any]bool{}
	for range 3 {
		p := <-got
		require.Equal(t, args, p[1:], "every server gets the shared arguments whole")
		keys[p[0]] = true
	}
	require.Len(t, keys, 3, "each its own key")
	_, err := shared.Encoded(func() (any, error) {
		t.Error("the shared arguments were not encoded by the calls")
		return nil, nil
	})
	require.NoError(t, err)
}
