package registry_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	missing = &rpc.Fault{Code: -1, String: "redstone.xmlrpc.XmlRpcFault: Could not find method: x in class: y with params: []"}
	// an older hub has no sync.hub namespace at all
	noHandler = &rpc.Fault{Code: -1, String: "The specified handler cannot be found."}
)

// hub fakes the three generations of discovery API.
func hub(generation string, n int) registry.Caller {
	return func(ctx context.Context, method string, params []any) (any, error) {
		switch method {
		case "sync.hub.listPeripheralServers":
			if generation != "sync-hub" {
				return nil, noHandler
			}
			var out []any
			for i := n; i >= 1; i-- { // unordered on purpose
				out = append(out, rpc.Struct{{Name: "fqdn", Value: fmt.Sprintf("p%d.example.com", i)}, {Name: "id", Value: int64(i)}, {Name: "root_ca", Value: ""}})
			}
			return out, nil
		case "system.listSystemsWithEntitlement":
			if generation == "legacy" {
				return nil, missing
			}
			if params[1] != "peripheral_server" {
				return nil, errors.New("wrong entitlement")
			}
			fallthrough
		case "system.listSystems":
			var out []any
			for i := 1; i <= n; i++ {
				out = append(out, rpc.Struct{{Name: "id", Value: int64(1000 + i)}, {Name: "name", Value: fmt.Sprintf("peripheral-%d", i)}})
			}
			return out, nil
		case "system.listFqdns":
			return []any{fmt.Sprintf("p%d.example.com", params[1].(int64)-1000)}, nil
		}
		return nil, missing
	}
}

func TestDiscoveryChain(t *testing.T) {
	for _, tc := range []struct {
		generation, source string
		first              target.Target
	}{
		{"sync-hub", "sync.hub.listPeripheralServers", target.Target{ID: 1, Name: "p1.example.com", FQDN: "p1.example.com", URL: "https://p1.example.com/rpc/api"}},
		{"entitlement", "system.listSystemsWithEntitlement", target.Target{ID: 1001, Name: "peripheral-1", FQDN: "p1.example.com", URL: "https://p1.example.com/rpc/api"}},
		{"legacy", "system.listSystems", target.Target{ID: 1001, Name: "peripheral-1", FQDN: "p1.example.com", URL: "https://p1.example.com/rpc/api"}},
	} {
		t.Run(tc.generation, func(t *testing.T) {
			reg := registry.New(registry.Discovery{Call: hub(tc.generation, 3)}.Load, registry.Options{})
			snap, err := reg.Snapshot(context.Background(), "key")
			require.NoError(t, err)
			require.Equal(t, tc.source, snap.Source)
			require.Len(t, snap.Targets, 3)
			require.Equal(t, tc.first, snap.Targets[0], "sorted by id")
			got, ok := snap.Find(tc.first.Name)
			require.True(t, ok)
			require.Equal(t, tc.first, got)
			_, ok = snap.Find("nope")
			require.False(t, ok)
		})
	}
}

func TestDiscoveryDoesNotMistakeSessionFaultForOldHub(t *testing.T) {
	call := func(ctx context.Context, method string, params []any) (any, error) {
		return nil, &rpc.Fault{Code: -1, String: "com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: 1"}
	}
	_, err := registry.Discovery{Call: call}.Load(context.Background(), "key")
	var f *rpc.Fault
	require.ErrorAs(t, err, &f)
	require.Contains(t, f.String, "Could not find session")
}

func TestConcurrentMissesLoadOnce(t *testing.T) {
	var loads atomic.Int32
	release := make(chan struct{})
	reg := registry.New(func(ctx context.Context, key string) (*registry.Snapshot, error) {
		loads.Add(1)
		<-release
		return &registry.Snapshot{Targets: []target.Target{{ID: 1}}}, nil
	}, registry.Options{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			snap, err := reg.Snapshot(context.Background(), "k")
			if err != nil || len(snap.Targets) != 1 {
				t.Errorf("snapshot: %v %v", snap, err)
			}
		}()
	}
	for reg.Cached() == nil && loads.Load() == 0 {
		// wait until the single load has started
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	require.Equal(t, int32(1), loads.Load())
}

func TestStaleIsServedWhileRefreshing(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var gen atomic.Int64
	reg := registry.New(func(ctx context.Context, key string) (*registry.Snapshot, error) {
		n := gen.Add(1)
		return &registry.Snapshot{Targets: []target.Target{{ID: n}}}, nil
	}, registry.Options{TTL: time.Minute, Now: clock})
	snap, err := reg.Snapshot(context.Background(), "k")
	require.NoError(t, err)
	require.Equal(t, int64(1), snap.Targets[0].ID)

	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	snap, err = reg.Snapshot(context.Background(), "k")
	require.NoError(t, err)
	require.Equal(t, int64(1), snap.Targets[0].ID, "the stale list is served at once")
	reg.Wait()
	require.Equal(t, int64(2), reg.Cached().Targets[0].ID, "and replaced in the background")
}

func TestLoadErrorIsReportedAndNotCached(t *testing.T) {
	fail := true
	reg := registry.New(func(ctx context.Context, key string) (*registry.Snapshot, error) {
		if fail {
			return nil, errors.New("hub down")
		}
		return &registry.Snapshot{}, nil
	}, registry.Options{})
	_, err := reg.Snapshot(context.Background(), "k")
	require.ErrorContains(t, err, "hub down")
	ready, lastErr := reg.Ready()
	require.False(t, ready)
	require.Error(t, lastErr)
	fail = false
	_, err = reg.Snapshot(context.Background(), "k")
	require.NoError(t, err)
	ready, _ = reg.Ready()
	require.True(t, ready)
}
