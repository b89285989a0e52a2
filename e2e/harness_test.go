// Package e2e runs hubgw end to end against uyunisim, through independent
// clients: kolo/xmlrpc, Python's xmlrpc.client and plain HTTP.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kolo/xmlrpc"
	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// startSim starts a simulated hub with n peripherals.
func startSim(t *testing.T, cfg uyunisim.Config) *uyunisim.Sim {
	t.Helper()
	sim, err := uyunisim.Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sim.Close()) })
	return sim
}

// gw is a running gateway.
type gw struct {
	URL    string // the XML-RPC endpoint
	Base   string
	Server *server.Server
	// Stop stops it as SIGTERM does and returns what Serve returned, once
	// in-flight calls have finished; the test's cleanup calls it too.
	Stop func() error
}

// startGateway serves a gateway in front of sim on a loopback port.
func startGateway(t testing.TB, sim *uyunisim.Sim, tweak func(*server.Config)) *gw {
	t.Helper()
	return startGatewayLog(t, sim, tweak, nil)
}

// startGatewayLog is startGateway logging to log (nil: nowhere, or
// stderr with -v).
func startGatewayLog(t testing.TB, sim *uyunisim.Sim, tweak func(*server.Config), log *slog.Logger) *gw {
	t.Helper()
	cfg := server.Defaults()
	cfg.HubURL = sim.Hub().URL()
	cfg.PeripheralScheme = "http"
	cfg.RequestTimeout = 2 * time.Second
	cfg.CallTimeout = 10 * time.Second
	cfg.Retries = 0
	if tweak != nil {
		tweak(&cfg)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if testing.Verbose() && log.Handler() == slog.DiscardHandler {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := server.New(cfg, log)
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l, cfg.Grace()) }()
	stop := sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	t.Cleanup(func() { require.NoError(t, stop()) })
	base := "http://" + l.Addr().String()
	return &gw{URL: base + "/hub/rpc/api", Base: base, Server: srv, Stop: stop}
}

// koloClient calls with kolo/xmlrpc's request encoder and response decoder:
// what Go scripts use today. kolo's own Client is not used because it goes
// through net/rpc, which turns a fault into a plain string and loses its code.
type koloClient struct{ url string }

func kolo(t *testing.T, url string) *koloClient {
	t.Helper()
	return &koloClient{url: url}
}

// call calls method and returns the result or the fault.
func call(t *testing.T, c *koloClient, method string, args ...any) (any, *xmlrpc.FaultError) {
	t.Helper()
	body, err := xmlrpc.EncodeMethodCall(method, args...)
	require.NoError(t, err)
	status, resp := post(t, c.url, "text/xml", bytes.NewReader(body))
	require.Equal(t, http.StatusOK, status, "%s: %s", method, resp)
	r := xmlrpc.Response(resp)
	var f xmlrpc.FaultError
	if err := r.Err(); errors.As(err, &f) {
		return nil, &f
	}
	var out any
	require.NoError(t, r.Unmarshal(&out), "%s: %s", method, resp)
	return out, nil
}

func mustCall(t *testing.T, c *koloClient, method string, args ...any) any {
	t.Helper()
	v, f := call(t, c, method, args...)
	require.Nil(t, f, "%s: fault %v", method, f)
	return v
}

func mustFault(t *testing.T, c *koloClient, code int, contains, method string, args ...any) {
	t.Helper()
	_, f := call(t, c, method, args...)
	require.NotNil(t, f, "%s: want fault %d", method, code)
	require.Equal(t, code, f.Code, "%s: %s", method, f.String)
	require.Contains(t, f.String, contains)
}

// python runs a Python 3 script with the given environment and returns its stdout.
func python(t *testing.T, script string, env ...string) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	path := filepath.Join(t.TempDir(), "script.py")
	require.NoError(t, os.WriteFile(path, []byte(script), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, path)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "python: %s", out)
	return strings.TrimSpace(string(out))
}

// post sends a raw body and returns status and body.
func post(t *testing.T, url, contentType string, body io.Reader) (int, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, body)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func ints(v any) []int64 {
	list, _ := v.([]any)
	out := make([]int64, len(list))
	for i, e := range list {
		out[i], _ = e.(int64)
	}
	return out
}

func member(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
