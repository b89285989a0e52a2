package gateway_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// servers is a fake fleet passed as the Invoker: every server accepts
// admin/admin and svc/svc, and forgets keys it is told to.
type servers struct {
	mu        sync.Mutex
	calls     []string          // "server method key"
	forgotten map[string]bool   // keys the servers no longer know
	logins    map[string]string // server → user of its last login
}

func (f *servers) invoke(_ context.Context, c fanout.Call) fanout.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := ""
	if len(c.Params) > 0 {
		key, _ = c.Params[0].(string)
	}
	f.calls = append(f.calls, c.Target.String()+" "+c.Method+" "+key)
	if c.Method == "auth.login" {
		user := c.Params[0].(string)
		if c.Params[1] != user {
			return fanout.Result{Target: c.Target, Fault: &rpc.Fault{Code: 2950, String: "Either the password or username is incorrect."}}
		}
		f.logins[c.Target.String()] = user
		return fanout.Result{Target: c.Target, Value: "key-" + c.Target.String() + "-" + user + "-" + string(rune('0'+len(f.calls)%10))}
	}
	if f.forgotten[key] {
		return fanout.Result{Target: c.Target, Fault: &rpc.Fault{Code: -1, String: "Could not find session with id: " + key}, Attempts: 1}
	}
	return fanout.Result{Target: c.Target, Value: c.Target.String(), Attempts: 1}
}

// sent lists the calls of method, without logins.
func (f *servers) sent(method string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.Contains(c, " "+method+" ") {
			out = append(out, c)
		}
	}
	return out
}

type fleet struct {
	gw       *gateway.Gateway
	f        *servers
	sessions *auth.MemoryStore
	jobs     *jobs.Recorder
	targets  []target.Target
}

func newFleet(t *testing.T, service func(target.Target) (string, string, bool)) *fleet {
	t.Helper()
	f := &servers{forgotten: map[string]bool{}, logins: map[string]string{}}
	ts := []target.Target{{ID: 1, Name: "p1"}, {ID: 2, Name: "p2"}, {ID: 3, Name: "p3"}}
	reg := registry.New(func(context.Context, string) (*registry.Snapshot, error) {
		return &registry.Snapshot{Targets: append([]target.Target(nil), ts...)}, nil
	}, registry.Options{})
	t.Cleanup(reg.Wait)
	rec, err := jobs.New(cache.NewMemory(cache.MemoryOptions{}), jobs.Options{Fault: gateway.Fault})
	require.NoError(t, err)
	sessions := auth.NewMemoryStore(auth.Expiry{}, 0, nil)
	gw := gateway.New(gateway.Options{Sessions: sessions, Registry: reg, Invoke: f.invoke, Jobs: rec, ServiceCredentials: service})
	gw.Use(gw.IDRule(), gw.RecordJobs(), gw.KeepSessions())
	return &fleet{gw: gw, f: f, sessions: sessions, jobs: rec, targets: ts}
}

func (fl *fleet) login(t *testing.T, mode auth.Mode) *auth.Session {
	t.Helper()
	s, _, err := fl.gw.Login(context.Background(), mode, "admin", "admin")
	require.NoError(t, err)
	return s
}

func args(a ...any) func(int, target.Target) []any {
	return func(int, target.Target) []any { return a }
}

// Without a session a request reaches the hub only: nothing else is sent.
func TestDoWithoutSessionReachesTheHubOnly(t *testing.T) {
	fl := newFleet(t, nil)
	ctx := context.Background()
	for _, ts := range [][]target.Target{fl.targets[:1], fl.targets, {fl.gw.Hub(), fl.targets[0]}} {
		_, err := fl.gw.Do(ctx, gateway.Request{Targets: ts, Method: "api.getVersion", NoSession: true})
		require.Equal(t, gateway.CodeNoSession, gateway.AsFault(err).Code)
	}
	require.Empty(t, fl.f.sent("api.getVersion"))
	out, err := fl.gw.Do(ctx, gateway.Request{Targets: []target.Target{fl.gw.Hub()}, Method: "api.getVersion", NoSession: true})
	require.NoError(t, err)
	require.Equal(t, "hub", out.Results[0].Value)
	require.Equal(t, "", out.JobID, "no user, no job")
}

// Keys: attach on demand with the service account where one is
// configured, else the relayed credentials; a manual session has neither.
func TestKeepSessionsAttachesOnDemand(t *testing.T) {
	service := func(t target.Target) (string, string, bool) { return "svc", "svc", t.Name == "p3" }
	t.Run("relay", func(t *testing.T) {
		fl := newFleet(t, service)
		s := fl.login(t, auth.Relay)
		out, err := fl.gw.Do(context.Background(), gateway.Request{Session: s, Targets: fl.targets, Method: "system.listSystems", Many: true})
		require.NoError(t, err)
		require.True(t, out.Results.IsComplete())
		require.Equal(t, map[string]string{"hub": "admin", "p1": "admin", "p2": "admin", "p3": "svc"}, fl.f.logins)
		stored, err := fl.sessions.Get(context.Background(), s.ID)
		require.NoError(t, err)
		require.Len(t, stored.Keys, 3, "the keys are kept for the next call")
	})
	t.Run("manual", func(t *testing.T) {
		fl := newFleet(t, service)
		s := fl.login(t, auth.Manual)
		out, err := fl.gw.Do(context.Background(), gateway.Request{Session: s, Targets: fl.targets, Method: "system.listSystems", Many: true})
		require.NoError(t, err)
		require.Equal(t, gateway.CodeNotAttached, gateway.Fault(out.Results[0]).Code)
		require.Equal(t, gateway.CodeNotAttached, gateway.Fault(out.Results[1]).Code)
		require.True(t, out.Results[2].OK(), "the service account serves manual sessions too")
		require.Len(t, fl.f.sent("system.listSystems"), 1)
	})
}

// A server that forgot its key is logged in to again and the call, a
// write too, is repeated once, in the same job, its attempts added.
func TestKeepSessionsLogsInAgainOnce(t *testing.T) {
	fl := newFleet(t, nil)
	ctx := context.Background()
	s := fl.login(t, auth.Relay)
	_, err := fl.gw.Do(ctx, gateway.Request{Session: s, Targets: fl.targets[:2], Method: "system.listSystems", Many: true})
	require.NoError(t, err)
	s, err = fl.sessions.Get(ctx, s.ID)
	require.NoError(t, err)
	fl.f.mu.Lock()
	fl.f.forgotten[s.Keys["2"]] = true
	fl.f.mu.Unlock()

	out, err := fl.gw.Do(ctx, gateway.Request{Session: s, Targets: fl.targets[:2], Method: "channel.software.create", Args: args("c"), Many: true})
	require.NoError(t, err)
	require.True(t, out.Results.IsComplete(), "%v", out.Results)
	require.Equal(t, 2, out.Results[1].Attempts)
	require.Len(t, fl.f.sent("channel.software.create"), 3, "p1 once, p2 twice")

	j, err := fl.jobs.Get(ctx, out.JobID)
	require.NoError(t, err)
	require.Equal(t, jobs.Done, j.Status)
	require.Equal(t, "ok", j.Targets[1].Outcome, "the job holds the repeat's result")
	require.Equal(t, 2, j.Targets[1].Attempts)
}

// The id rule refuses a set whose shared arguments carry a server-local
// id, before anything is sent; a client's own per-server arguments pass.
func TestIDRule(t *testing.T) {
	fl := newFleet(t, nil)
	ctx := context.Background()
	s := fl.login(t, auth.Relay)
	req := gateway.Request{Session: s, Targets: fl.targets[:2], Method: "system.getDetails", Args: args(int64(1000010001)), Many: true}
	_, err := fl.gw.Do(ctx, req)
	f := gateway.AsFault(err)
	require.Equal(t, gateway.CodeServerLocalID, f.Code)
	require.Contains(t, f.String, "serverId")
	require.Empty(t, fl.f.sent("system.getDetails"))

	req.PerTarget = true
	out, err := fl.gw.Do(ctx, req)
	require.NoError(t, err)
	require.True(t, out.Results.IsComplete())

	one := gateway.Request{Session: s, Targets: fl.targets[:1], Method: "system.getDetails", Args: args(int64(1000010001))}
	_, err = fl.gw.Do(ctx, one)
	require.NoError(t, err, "one server: its own ids")
}
