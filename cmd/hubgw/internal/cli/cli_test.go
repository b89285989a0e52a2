package cli_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cmd/hubgw/internal/cli"
	"github.com/hubgw/hubgw/gateway/rollout"
)

func TestStoreIsPrivate(t *testing.T) {
	s := cli.Store{Path: filepath.Join(t.TempDir(), "hubgw", "credentials.json")}
	c, err := s.Load()
	require.NoError(t, err, "no file is no logins")
	require.Empty(t, c.Logins)

	require.NoError(t, os.MkdirAll(filepath.Dir(s.Path), 0o700))
	require.NoError(t, os.WriteFile(s.Path, []byte(`{}`), 0o644)) // left loose by hand
	want := cli.Credentials{Current: "https://gw:2830", Logins: map[string]cli.Login{"https://gw:2830": {Token: "t", Username: "admin", Mode: "relay"}}}
	require.NoError(t, s.Save(want))
	fi, err := os.Stat(s.Path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	got, err := s.Load()
	require.NoError(t, err)
	require.Equal(t, want, got)
	left, err := filepath.Glob(filepath.Join(filepath.Dir(s.Path), ".credentials.json-*"))
	require.NoError(t, err)
	require.Empty(t, left, "no temporary file left behind")

	require.NoError(t, os.WriteFile(s.Path, []byte(`{`), 0o600))
	_, err = s.Load()
	require.ErrorContains(t, err, "remove it and log in again")
}

// Every way a gateway can fail a client is one line that says what to do.
func TestClientErrorsAreOneLine(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "http://" + closed.Addr().String()
	require.NoError(t, closed.Close())

	problem := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc // nil: nothing listens
		want    string
		code    int // exit code
	}{
		{"nothing listens", nil, "cannot reach the gateway at " + closedURL + ": dial tcp", 1},
		{"not a gateway", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "<html>nope</html>", http.StatusNotFound) },
			"is not a hubgw gateway, or not its base URL (/api/v1/jobs answered HTTP 404, text/plain)", 1},
		{"html 200", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html/>")
		},
			"is not a hubgw gateway", 1},
		{"expired token", problem(401, `{"type":"about:blank","title":"Unauthorized","status":401,"detail":"hubgw: no such session\nor expired","faultCode":-1}`),
			"not logged in, or the session expired (no such session or expired): run hubgw login", 1},
		{"refused", problem(400, `{"status":400,"title":"Bad Request","detail":"hubgw: limit must be an integer","faultCode":-32602}`),
			"limit must be an integer (HTTP 400, fault -32602)", 1},
		{"malformed", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, "{")
		},
			"malformed answer to /api/v1/jobs", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := closedURL
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				t.Cleanup(srv.Close)
				base = srv.URL
			}
			c := &cli.Client{Base: base, Token: "tok"}
			_, _, err := c.Jobs(context.Background(), 5)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "\n")
			require.Equal(t, tc.code, cli.ExitCode(err))
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), 1},
		{&cli.Exit{Code: cli.ExitFailures, Err: errors.New("1 of 3 servers failed")}, 4},
		{fmt.Errorf("wrapped: %w", &cli.Exit{Code: cli.ExitFailures, Err: errors.New("x")}), 4},
	} {
		require.Equal(t, tc.want, cli.ExitCode(tc.err), "%v", tc.err)
	}
}

// A call's answer is returned as received, for -o json; one server's
// failure comes back as a result with its problem.
func TestCallKeepsTheAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/api/v1/call/system/listSystems":
			require.Equal(t, "a,b", r.URL.Query().Get("targets"))
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"jobId":"j1","results":[{"serverId":1,"serverName":"a","ok":true,"outcome":"ok","value":[],"durationMs":3,"attempts":1},`+
				`{"serverId":2,"serverName":"b","ok":false,"outcome":"timeout","faultCode":4104,"faultString":"late","durationMs":9,"attempts":1}],"complete":false}`)
		case "/api/v1/hub/system/getDetails":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			fmt.Fprint(w, `{"status":404,"title":"Not Found","detail":"No such system","faultCode":-208,"serverId":0,"serverName":"hub","outcome":"fault"}`)
		}
	}))
	t.Cleanup(srv.Close)
	c := &cli.Client{Base: srv.URL, Token: "tok"}

	f, a, err := c.Call(context.Background(), "system.listSystems", nil, []string{"a", "b"})
	require.NoError(t, err)
	require.Equal(t, 1, f.Failed())
	require.Equal(t, "j1", f.JobID)
	require.True(t, strings.HasPrefix(string(a.Body), `{"jobId":"j1"`))

	f, a, err = c.Call(context.Background(), "system.getDetails", map[string]any{"serverId": 7}, nil)
	var pe *cli.ProblemError
	require.ErrorAs(t, err, &pe)
	require.True(t, pe.PerServer())
	require.Equal(t, []cli.Result{{ServerName: "hub", Outcome: "fault", FaultCode: -208, FaultString: "No such system"}}, f.Results)
	require.Contains(t, string(a.Body), `"faultCode":-208`)
}

// An exit code that is the whole answer (a plan's 2) has no message; the
// others keep theirs through wrapping.
func TestExitCodes(t *testing.T) {
	changes := &cli.Exit{Code: cli.ExitChanges}
	require.Equal(t, 2, cli.ExitCode(changes))
	require.Empty(t, changes.Error())
	incomplete := fmt.Errorf("plan: %w", &cli.Exit{Code: cli.ExitIncomplete, Err: errors.New("1 of 3 servers could not be read")})
	require.Equal(t, 6, cli.ExitCode(incomplete))
	require.Equal(t, "plan: 1 of 3 servers could not be read", incomplete.Error())
	require.Equal(t, 1, cli.ExitCode(errors.New("anything else")))
	require.Equal(t, 0, cli.ExitCode(nil))
}

// The events stream is read event by event as it comes: fn sees each one
// and may stop; a refusal is the gateway's problem; a stream that is not
// one says so.
func TestRolloutEvents(t *testing.T) {
	next := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/api/v1/rollouts/r1/events":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "event: server\ndata: {\"type\":\"server\",\"rollout\":\"r1\",\"status\":\"running\",\"wave\":0,\"server\":{\"target\":\"p1\",\"serverId\":7,\"attempt\":1}}\n\n")
			w.(http.Flusher).Flush()
			<-next // the first event is read before the stream goes on
			fmt.Fprint(w, ": a comment\n\nevent: rollout\ndata: {\"type\":\"rollout\",\"rollout\":\"r1\",\"status\":\"halted\",\"reason\":\"the canary failed\",\"wave\":0}\n\n")
			fmt.Fprint(w, "event: wave\ndata: {\"type\":\"wave\",\"rollout\":\"r1\",\"status\":\"failed\",\"wave\":0}\n\n")
		case "/api/v1/rollouts/nope/events":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"status":404,"title":"Not Found","detail":"hubgw: no such rollout nope","faultCode":4124}`)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{}`)
		}
	}))
	t.Cleanup(srv.Close)
	c := &cli.Client{Base: srv.URL, Token: "tok"}

	var got []string
	err := c.RolloutEvents(context.Background(), "r1", func(e rollout.Event) bool {
		got = append(got, e.Type+" "+e.Status)
		if e.Type == "server" {
			require.Equal(t, &rollout.EventServer{Target: "p1", ServerID: 7, Attempt: 1}, e.Server)
			close(next)
		}
		return e.Type == "rollout"
	})
	require.NoError(t, err)
	require.Equal(t, []string{"server running", "rollout halted"}, got, "stopped at the rollout's event")

	err = c.RolloutEvents(context.Background(), "nope", func(rollout.Event) bool { return false })
	var pe *cli.ProblemError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, 4124, pe.Problem.FaultCode)

	err = c.RolloutEvents(context.Background(), "other", func(rollout.Event) bool { return false })
	require.ErrorContains(t, err, "is not a hubgw gateway, or not its base URL (/api/v1/rollouts/other/events answered HTTP 200, application/json)")
}
