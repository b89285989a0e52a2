package e2e

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/httpapi"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway"
)

// lockedBuffer is a log sink the gateway's goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines returns the JSON log lines whose msg is msg.
func (l *lockedBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(l.b.String(), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// An operator reads from the logs who did what where, and how it went:
// one access line per request, a WARN for a failed login, an audit line
// per write; never a password or a session key. Metrics count requests by
// dialect and outcome.
func TestAccessAndAuditLogs(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	var buf lockedBuffer
	log := slog.New(httpapi.LogHandler{Handler: slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})})
	g := startGatewayLog(t, sim, nil, log)
	c := kolo(t, g.URL)

	mustFault(t, c, 2950, "", "hub.login", "admin", "wrong-Pa55word")
	key := mustCall(t, c, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	res := mustCall(t, c, "broadcast.channel.software.create", key, "all", "logs-chan", "Logs channel", "s", "channel-x86_64", "")
	jobID := member(res, "JobId").(string)
	mustCall(t, kolo(t, forms[1].url(g, "all")), "system.listSystems", key)
	r := rest(t, g, http.MethodPost, "/api/v1/hub/system/listSystems", "nope", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	_, f := call(t, kolo(t, g.Base+"/t/a/b/rpc/api"), "api.getVersion")
	require.NotNil(t, f, "a path that names no target")

	failed := buf.lines(t, "login failed")
	require.Len(t, failed, 1)
	require.Equal(t, "WARN", failed[0]["level"])
	require.Equal(t, "admin", failed[0]["user"])
	require.Equal(t, "127.0.0.1", failed[0]["client"])
	require.Contains(t, failed[0]["fault"], "incorrect")

	audits := buf.lines(t, "audit")
	require.NotEmpty(t, audits)
	var write map[string]any
	for _, a := range audits {
		if a["method"] == "channel.software.create" {
			write = a
		}
	}
	require.NotNil(t, write, "%v", audits)
	require.Equal(t, "admin", write["user"])
	require.EqualValues(t, 2, write["targets"])
	require.Equal(t, jobID, write["job"])
	require.Equal(t, strings.Join([]string{ref(sim, 0), ref(sim, 1)}, ","), write["succeeded"])

	access := buf.lines(t, "access")
	byMethod := map[string]map[string]any{}
	for _, a := range access {
		require.NotEmpty(t, a["request_id"])
		require.Equal(t, "127.0.0.1", a["client"])
		if m, ok := a["method"].(string); ok && m != "" {
			byMethod[m] = a
		} else {
			byMethod[a["http"].(string)] = a
		}
	}
	require.Equal(t, "fault", byMethod["hub.login"]["outcome"])
	require.EqualValues(t, 2950, byMethod["hub.login"]["fault_code"])
	bc := byMethod["broadcast.channel.software.create"]
	require.Equal(t, "hub-xmlrpc", bc["dialect"])
	require.Equal(t, "ok", bc["outcome"])
	require.Equal(t, "admin", bc["user"])
	require.EqualValues(t, 2, bc["targets"])
	require.Equal(t, jobID, bc["job"])
	ls := byMethod["system.listSystems"]
	require.Equal(t, "targeted", ls["dialect"])
	require.EqualValues(t, 2, ls["targets"])
	unauth := byMethod["POST /api/v1/hub/system/listSystems"]
	require.Equal(t, "rest", unauth["dialect"])
	require.Equal(t, "fault", unauth["outcome"])
	require.EqualValues(t, 401, unauth["status"])
	require.EqualValues(t, gateway.CodeNoSession, unauth["fault_code"])
	var bad map[string]any
	for _, a := range access {
		if a["http"] == "POST /t/a/b/rpc/api" {
			bad = a
		}
	}
	require.Equal(t, "fault", bad["outcome"], "a path refused before the handler is a fault, not ok: %v", bad)
	require.EqualValues(t, f.Code, bad["fault_code"])

	buf.mu.Lock()
	all := buf.b.String()
	buf.mu.Unlock()
	require.NotContains(t, all, "wrong-Pa55word", "no password")
	require.NotRegexp(t, regexp.MustCompile(`gw[0-9a-f]{64}`), all, "no session key")
	require.NotContains(t, all, key)

	_, metrics := get(t, g.Base+"/metrics")
	require.Regexp(t, `hubgw_requests_total\{dialect="hub-xmlrpc",outcome="ok"\} [1-9]`, metrics)
	require.Regexp(t, `hubgw_requests_total\{dialect="hub-xmlrpc",outcome="fault"\} [1-9]`, metrics)
	require.Regexp(t, `hubgw_requests_total\{dialect="rest",outcome="fault"\} [1-9]`, metrics)
	require.Regexp(t, `hubgw_request_duration_seconds_count\{dialect="targeted",outcome="ok"\} [1-9]`, metrics)
}
