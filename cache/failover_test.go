package cache_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
)

// The failover tests kill a master of a real Sentinel or Cluster setup and
// measure, from the kill, when the engine itself has failed over, when
// the store's calls work again and when its readiness is back. Calls and
// readiness must be back within 10 s of the engine; readiness must have
// said "not ready" in between; what was written before is still there.

// recovery is one failover's timeline, from the kill.
type recovery struct {
	notReady time.Duration // the first failing readiness probe
	engine   time.Duration // the engine has a new master
	calls    time.Duration // every call works again
	ready    time.Duration // readiness is back
}

func (rc recovery) String() string {
	return fmt.Sprintf("readiness failing after %v, engine failed over after %v, calls back after %v, ready after %v",
		rc.notReady.Round(10*time.Millisecond), rc.engine.Round(10*time.Millisecond), rc.calls.Round(10*time.Millisecond), rc.ready.Round(10*time.Millisecond))
}

// keys spread over the slots, and the job indexes' key.
var failoverKeys = func() []string {
	ks := []string{"jobs", "jobs:user:admin"}
	for i := range 30 {
		ks = append(ks, fmt.Sprintf("session:%d", i))
	}
	return ks
}()

// writeAll writes every key.
func writeAll(t *testing.T, r *cache.Redis) {
	t.Helper()
	for _, k := range failoverKeys {
		require.NoError(t, r.Set(context.Background(), k, []byte("v:"+k), time.Hour))
	}
}

// allCalls reads every key (all written before the kill) and writes it.
func allCalls(r *cache.Redis) error {
	ctx := context.Background()
	for _, k := range failoverKeys {
		v, err := r.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("get %s: %w", k, err)
		}
		if string(v) != "v:"+k {
			return fmt.Errorf("get %s: %q: lost in the failover", k, v)
		}
		if err := r.Set(ctx, k, v, time.Hour); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	return nil
}

// measureFailover runs two stores on url, as two gateways would: one
// makes the calls, the other answers readiness probes (a cluster's probe
// fetches the slot map, which would hide a caller that does not).
func measureFailover(t *testing.T, url, prefix string, s setup) recovery {
	t.Helper()
	ctx := context.Background()
	stores := make([]*cache.Redis, 2)
	for i := range stores {
		st, err := cache.NewRedis(url, cache.RedisOptions{Prefix: prefix, Timeout: time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	r, probe := stores[0], stores[1]
	writeAll(t, r)
	s.replicated() // so that the failover cannot lose them
	require.NoError(t, probe.Ping(ctx))
	require.NoError(t, allCalls(r))

	var rc recovery
	start := time.Now()
	s.kill()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastCall, lastReady error
	for rc.engine == 0 || rc.calls == 0 || rc.ready == 0 {
		since := time.Since(start)
		if since > time.Minute {
			t.Fatalf("no recovery within a minute: %v; last call: %v; readiness: %v", rc, lastCall, lastReady)
		}
		if rc.engine == 0 && s.failedOver() {
			rc.engine = since
		}
		if rc.calls == 0 {
			if lastCall = allCalls(r); lastCall == nil && rc.notReady != 0 {
				rc.calls = time.Since(start)
			}
		}
		lastReady = probe.Ping(ctx)
		switch {
		case lastReady != nil && rc.notReady == 0:
			rc.notReady = time.Since(start)
			require.ErrorIs(t, lastReady, cache.ErrUnavailable)
		case lastReady == nil && rc.notReady != 0 && rc.ready == 0:
			rc.ready = time.Since(start)
		}
		<-tick.C
	}
	t.Log(rc)
	require.Less(t, rc.calls-rc.engine, 10*time.Second, "calls back within 10 s of the engine")
	require.Less(t, rc.ready-rc.engine, 10*time.Second, "ready within 10 s of the engine")
	return rc
}

// setup is a highly available Redis for TestFailover: its URL, whether
// it is not this test's to kill (REDIS_SENTINEL_URL, REDIS_CLUSTER_URL),
// how to kill a master and whether the engine has failed over.
type setup struct {
	url        string
	external   bool
	replicated func() // waits until the replicas have every write
	kill       func()
	failedOver func() bool
}

func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Sentinel and Cluster setups and kills their masters")
	}
	tests := []struct {
		name  string
		start func(t *testing.T, prefix string) setup
	}{
		{"sentinel: 1 master, 1 replica, 3 sentinels", func(t *testing.T, _ string) setup {
			st := redistest.StartSentinel(t, 1, 3)
			if st.External {
				return setup{external: true}
			}
			old := st.Master.Addr
			return setup{st.URL, false, st.WaitReplicated, st.Master.Stop, func() bool { return st.MasterAddr() != old }}
		}},
		{"cluster: 3 masters, 3 replicas", func(t *testing.T, prefix string) setup {
			c := redistest.StartCluster(t, 3, 1)
			if c.External {
				return setup{external: true}
			}
			// The master of the jobs index, as the worst case.
			victim := c.MasterOf(prefix + "jobs")
			return setup{c.URL, false, c.WaitReplicated, victim.Stop, func() bool { return c.MasterOf(prefix+"jobs") != victim }}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := redistest.Prefix(t)
			s := tt.start(t, prefix)
			if s.external {
				t.Skip("kills a master: needs a setup this test starts")
			}
			measureFailover(t, s.url, prefix, s)
		})
	}
}

// A cluster that lost a master and has no replica to promote is down
// (CLUSTERDOWN: every call to any slot fails), although its other nodes
// still answer PING: readiness must say so, for as long as it lasts.
func TestClusterDownIsNotReady(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := redistest.StartCluster(t, 3, 0)
	r, err := cache.NewRedis(c.URL, cache.RedisOptions{Prefix: redistest.Prefix(t), Timeout: time.Second})
	require.NoError(t, err)
	defer r.Close()
	ctx := context.Background()
	require.NoError(t, r.Ping(ctx))

	victim := c.MasterOf("k")
	victim.Stop()
	var survivor *redis.Client
	for _, n := range c.Nodes {
		if n != victim {
			survivor = redis.NewClient(&redis.Options{Addr: n.Addr})
			defer survivor.Close()
			break
		}
	}
	require.Eventually(t, func() bool {
		info, err := survivor.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:fail")
	}, 30*time.Second, 50*time.Millisecond, "the cluster notices")
	require.NoError(t, survivor.Ping(ctx).Err(), "PING alone would say ready")
	require.Eventually(t, func() bool { return r.Ping(ctx) != nil }, 5*time.Second, 50*time.Millisecond)
	err = r.Ping(ctx)
	require.ErrorIs(t, err, cache.ErrUnavailable)
	_, err = r.Get(ctx, "k")
	require.ErrorIs(t, err, cache.ErrUnavailable, "and calls fail")
}
