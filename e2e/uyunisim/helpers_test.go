package uyunisim_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"
	"go.uber.org/goleak"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// TestMain proves that Close leaves no goroutine behind: every test closes
// its simulators, clients and transports.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var keyRe = regexp.MustCompile(`^[1-9][0-9]*x[a-f0-9]{64}$`)

func start(t *testing.T, cfg uyunisim.Config) *uyunisim.Sim {
	t.Helper()
	sim, err := uyunisim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sim.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return sim
}

// transport is an HTTP transport whose idle connections are closed when the
// test ends, so goleak sees no client goroutines.
func transport(t *testing.T) *http.Transport {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// dial returns a kolo/xmlrpc client: a real, independent XML-RPC client.
func dial(t *testing.T, url string) *kolo.Client {
	t.Helper()
	c, err := kolo.NewClient(url, transport(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// call makes one call with kolo and decodes the answer into an interface{}.
func call(c *kolo.Client, method string, args ...any) (any, error) {
	var out any
	if args == nil {
		args = []any{}
	}
	err := c.Call(method, args, &out)
	return out, err
}

func mustCall(t *testing.T, c *kolo.Client, method string, args ...any) any {
	t.Helper()
	out, err := call(c, method, args...)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return out
}

func login(t *testing.T, c *kolo.Client) string {
	t.Helper()
	key, ok := mustCall(t, c, "auth.login", "admin", "admin").(string)
	if !ok || !keyRe.MatchString(key) {
		t.Fatalf("auth.login = %q, want a session key", key)
	}
	return key
}

// wantFault checks a kolo error is the fault code/string (kolo reports
// faults as "Fault(code): string").
func wantFault(t *testing.T, err error, code int, str string) {
	t.Helper()
	want := (&rpc.Fault{Code: code, String: str}).Error()
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

// raw posts a call encoded by our codec and returns the HTTP answer.
func raw(t *testing.T, tr http.RoundTripper, url, method string, params ...any) (int, []byte, error) {
	t.Helper()
	body, err := xmlrpc.AppendCall(nil, method, params...)
	if err != nil {
		t.Fatal(err)
	}
	return post(t, tr, url, "text/xml", body)
}

func post(t *testing.T, tr http.RoundTripper, url, ctype string, body []byte) (int, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// rawCall posts a call and decodes the answer with our codec.
func rawCall(t *testing.T, tr http.RoundTripper, url, method string, params ...any) (any, error) {
	t.Helper()
	status, body, err := raw(t, tr, url, method, params...)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, errors.New(http.StatusText(status))
	}
	return xmlrpc.DecodeResponse(body, xmlrpc.Limits{})
}

// clock is a settable clock for session expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func names(v any, field string) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(map[string]any)[field].(string))
	}
	return out
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
