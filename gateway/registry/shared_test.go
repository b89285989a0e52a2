package registry_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/target"
)

// Two replicas sharing a store: one asks the hub, the other adopts its
// snapshot; when one reloads, the other drops its copy and follows.
func TestSharedSnapshotAcrossReplicas(t *testing.T) {
	st := cache.NewMemory(cache.MemoryOptions{})
	var loads atomic.Int64
	load := func(context.Context, string) (*registry.Snapshot, error) {
		n := loads.Add(1)
		ts := make([]target.Target, n) // each load finds one more peripheral
		for i := range ts {
			ts[i] = target.Target{ID: int64(i + 1), Name: "p"}
		}
		return &registry.Snapshot{Targets: ts, Source: "test"}, nil
	}
	mk := func(name string) *registry.Registry {
		return registry.New(load, registry.Options{TTL: time.Hour, Shared: registry.NewStoreShared(st, 2*time.Hour, name, nil)})
	}
	a, b := mk("A"), mk("B")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Follow(ctx) // subscribed when it returns
	defer func() { cancel(); b.Wait() }()

	sa, err := a.Snapshot(ctx, "key")
	require.NoError(t, err)
	sb, err := b.Snapshot(ctx, "key")
	require.NoError(t, err)
	require.EqualValues(t, 1, loads.Load(), "B adopted A's snapshot instead of asking the hub")
	require.Equal(t, sa.Targets, sb.Targets)
	require.True(t, sa.LoadedAt.Equal(sb.LoadedAt))

	// A reloads; B hears of it and picks up the new snapshot.
	a.Invalidate()
	require.NoError(t, st.Delete(ctx, "registry:snapshot")) // stale in the store too
	sa, err = a.Snapshot(ctx, "key")
	require.NoError(t, err)
	require.Len(t, sa.Targets, 2)
	require.Eventually(t, func() bool { return b.Cached() == nil }, 20*time.Second, 5*time.Millisecond, "B dropped its copy")
	sb, err = b.Snapshot(ctx, "key")
	require.NoError(t, err)
	require.Len(t, sb.Targets, 2)
	require.EqualValues(t, 2, loads.Load())
	a.Wait() // B waits for its follower after cancel, deferred above
}
