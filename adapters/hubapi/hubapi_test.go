package hubapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/hubapi"
	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// aKey has a gateway session key's shape.
var aKey = "gw" + strings.Repeat("ab", 32)

var errDown = fmt.Errorf("%w: redis 127.0.0.1:6379: connection refused", cache.ErrUnavailable)

// downStore is a session store whose backend is unreachable.
type downStore struct{ auth.Store }

func (downStore) Get(context.Context, string) (*auth.Session, error) { return nil, errDown }

// downJobs cannot record anything.
type downJobs struct{ gateway.JobRecorder }

func (downJobs) Start(context.Context, jobs.Spec) (*jobs.Run, error) { return nil, errDown }

// jobGateway is a gateway with two peripherals that answer every call,
// counting what reaches them.
func jobGateway(t *testing.T, sessions auth.Store, rec gateway.JobRecorder) (*hubapi.Dialect, *atomic.Int64) {
	t.Helper()
	var sent atomic.Int64
	invoke := func(_ context.Context, c fanout.Call) fanout.Result {
		switch c.Method {
		case "auth.login":
			return fanout.Result{Target: c.Target, Value: "key-" + c.Target.Key()}
		case "system.listUserSystems":
			return fanout.Result{Target: c.Target, Value: []any{rpc.Struct{{Name: "id", Value: int64(1)}}, rpc.Struct{{Name: "id", Value: int64(2)}}}}
		}
		sent.Add(1)
		return fanout.Result{Target: c.Target, Value: c.Target.Name}
	}
	reg := registry.New(func(context.Context, string) (*registry.Snapshot, error) {
		return &registry.Snapshot{Targets: []target.Target{{ID: 1, Name: "p1"}, {ID: 2, Name: "p2"}}}, nil
	}, registry.Options{})
	gw := gateway.New(gateway.Options{Sessions: sessions, Registry: reg, Invoke: invoke, Jobs: rec})
	gw.Use(gw.IDRule(), gw.RecordJobs(), gw.KeepSessions())
	return hubapi.New(gw), &sent
}

func login(t *testing.T, g *hubapi.Dialect) string {
	t.Helper()
	v, err := g.Handle(context.Background(), "hub.loginWithAutoconnectMode", []any{"admin", "admin"})
	require.NoError(t, err)
	key, _ := v.(rpc.Struct).Get("SessionKey")
	return key.(string)
}

func fault(t *testing.T, err error) *rpc.Fault {
	t.Helper()
	var f *rpc.Fault
	require.ErrorAs(t, err, &f)
	return f
}

// A fan-out whose job cannot be recorded is not sent: every server gets
// fault 4108.
func TestFanOutNotSentWhenItCannotBeRecorded(t *testing.T) {
	sessions := auth.NewMemoryStore(auth.Expiry{}, 0, nil)
	g, sent := jobGateway(t, sessions, downJobs{})
	key := login(t, g)
	v, err := g.Handle(context.Background(), "broadcast.system.listSystems", []any{key, "all"})
	require.NoError(t, err)
	res := v.(rpc.Struct)
	complete, _ := res.Get("Complete")
	require.Equal(t, false, complete)
	failed, _ := res.Get("Failed")
	responses, _ := failed.(rpc.Struct).Get("Responses")
	require.Len(t, responses, 2)
	require.Contains(t, responses.([]any)[0], "Fault(4108)")
	require.Contains(t, responses.([]any)[0], "nothing was sent")
	_, hasJob := res.Get("JobId")
	require.False(t, hasJob)
	require.Zero(t, sent.Load())
}

func TestStateStoreDownIsFault4108(t *testing.T) {
	g, _ := jobGateway(t, downStore{auth.NewMemoryStore(auth.Expiry{}, 0, nil)}, nil)
	for _, call := range []struct {
		method string
		params []any
	}{
		{"hub.listServerIds", []any{aKey}},
		{"unicast.system.listSystems", []any{aKey, int64(1)}},
		{"hub.getJob", []any{aKey, "j1"}},
		{"system.listSystems", []any{aKey}}, // passthrough
	} {
		_, err := g.Handle(context.Background(), call.method, call.params)
		f := fault(t, err)
		require.Equal(t, gateway.CodeStateUnavailable, f.Code, call.method)
		require.Contains(t, f.String, "state store unavailable", call.method)
	}
}

// Recorded fan-outs carry their JobId, and the job reads back through
// hub.getJob, for its user only.
func TestMulticastCarriesItsJob(t *testing.T) {
	st := cache.NewMemory(cache.MemoryOptions{})
	rec, err := jobs.New(st, jobs.Options{Fault: gateway.Fault})
	require.NoError(t, err)
	g, _ := jobGateway(t, auth.NewMemoryStore(auth.Expiry{}, 0, nil), rec)
	key := login(t, g)
	v, err := g.Handle(context.Background(), "multicast.system.listSystems", []any{key, []any{int64(2), int64(1)}})
	require.NoError(t, err)
	id, ok := v.(rpc.Struct).Get("JobId")
	require.True(t, ok)

	v, err = g.Handle(context.Background(), "hub.getJob", []any{key, id})
	require.NoError(t, err)
	job := v.(rpc.Struct)
	status, _ := job.Get("Status")
	require.Equal(t, "done", status)
	ts, _ := job.Get("Targets")
	first, _ := ts.([]any)[0].(rpc.Struct).Get("ServerId")
	require.Equal(t, int64(2), first, "request order")
	result, _ := ts.([]any)[0].(rpc.Struct).Get("Value")
	require.Equal(t, "p2", result)

	// Another user does not see it.
	other, err := rec.Start(context.Background(), jobs.Spec{Method: "m", User: "someone-else"})
	require.NoError(t, err)
	other.End(nil)
	_, err = g.Handle(context.Background(), "hub.getJob", []any{key, other.ID()})
	require.Equal(t, gateway.CodeUnknownJob, fault(t, err).Code)
}
