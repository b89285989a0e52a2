package gateway_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/fleetids"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// BenchmarkFleetIDs: a 1,000-system listing from 100 peripherals (10
// systems each), with gateway-wide ids and, as the baseline in the same
// run, the servers' own ids (ServerIDs).
func BenchmarkFleetIDs(b *testing.B) {
	ts := make([]target.Target, 100)
	for i := range ts {
		ts[i] = target.Target{ID: int64(1000010000 + i), Name: fmt.Sprintf("p%d", i)}
	}
	invoke := func(_ context.Context, c fanout.Call) fanout.Result {
		list := make([]any, 10)
		for i := range list {
			list[i] = rpc.Struct{{Name: "id", Value: int64(1000010000 + i)}, {Name: "name", Value: fmt.Sprintf("sys-%d", i)}, {Name: "last_checkin", Value: "x"}}
		}
		return fanout.Result{Target: c.Target, Value: list}
	}
	reg := registry.New(func(context.Context, string) (*registry.Snapshot, error) {
		return &registry.Snapshot{Targets: ts}, nil
	}, registry.Options{})
	gw := gateway.New(gateway.Options{Sessions: auth.NewMemoryStore(auth.Expiry{}, 0, nil), Registry: reg, Invoke: invoke})
	gw.Use(gw.FleetIDs(fleetids.New(cache.NewMemory(cache.MemoryOptions{}))), gw.IDRule())
	s := &auth.Session{ID: "gw", User: "admin", Keys: map[string]string{}}
	for _, t := range ts {
		s.Keys[t.Key()] = "k"
	}
	for _, bc := range []struct {
		name      string
		serverIDs bool
	}{{"gateway-wide", false}, {"servers-own", true}} {
		b.Run(bc.name, func(b *testing.B) {
			req := gateway.Request{Session: s, Targets: ts, Method: "system.listSystems", Many: true, ServerIDs: bc.serverIDs}
			for b.Loop() {
				if _, err := gw.Do(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
