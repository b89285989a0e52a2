package readcache_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/readcache"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// upstream counts calls per method and answers with a fresh value each
// time, so a cached answer is recognisable.
type upstream struct {
	calls atomic.Int64
	gate  chan struct{} // when set, calls wait for it
}

func (u *upstream) invoke(ctx context.Context, c fanout.Call) fanout.Result {
	n := u.calls.Add(1)
	if u.gate != nil {
		<-u.gate
	}
	if strings.HasSuffix(c.Method, "Fails") {
		return fanout.Result{Target: c.Target, Fault: &rpc.Fault{Code: -1, String: "boom"}}
	}
	return fanout.Result{Target: c.Target, Value: fmt.Sprintf("%s#%d", c.Method, n)}
}

func newCache(t *testing.T, st cache.Store) *readcache.Cache {
	t.Helper()
	c, err := readcache.New(st, readcache.Options{
		TTL:    map[string]time.Duration{"system.listSystems": time.Minute, "channel.listAllChannels": time.Minute, "system.listFails": time.Minute},
		Encode: func(v any) ([]byte, error) { return []byte(v.(string)), nil },
		Decode: func(b []byte) (any, error) { return string(b), nil },
	})
	require.NoError(t, err)
	return c
}

var (
	p1 = target.Target{ID: 1, Name: "p1"}
	p2 = target.Target{ID: 2, Name: "p2"}
)

func read(t target.Target, user, method string, args ...any) fanout.Call {
	return fanout.Call{Target: t, Method: method, User: user, ReadOnly: true, Params: append([]any{"key-" + user + fmt.Sprint(time.Now().UnixNano())}, args...)}
}

func write(t target.Target, method string) fanout.Call {
	return fanout.Call{Target: t, Method: method, User: "alice", Params: []any{"k"}}
}

func TestHitsAndKeys(t *testing.T) {
	for name, mk := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			u := &upstream{}
			c := newCache(t, mk(t))
			inv := c.Middleware()(u.invoke)
			ctx := context.Background()
			v := func(call fanout.Call) any {
				r := inv(ctx, call)
				require.True(t, r.OK())
				require.Equal(t, call.Target, r.Target)
				return r.Value
			}

			first := v(read(p1, "alice", "system.listSystems"))
			require.Equal(t, first, v(read(p1, "alice", "system.listSystems")), "a hit, whatever the session key")
			require.EqualValues(t, 1, u.calls.Load())

			tests := []struct {
				name string
				call fanout.Call
			}{
				{"another user", read(p1, "bob", "system.listSystems")},
				{"another target", read(p2, "alice", "system.listSystems")},
				{"other arguments", read(p1, "alice", "system.listSystems", int64(7))},
				{"another method", read(p1, "alice", "channel.listAllChannels")},
			}
			for _, tt := range tests {
				require.NotEqual(t, first, v(tt.call), tt.name)
			}
			calls := u.calls.Load()

			// Not cached: methods off the allowlist, calls without a user, faults.
			v(read(p1, "alice", "system.getDetails"))
			v(read(p1, "alice", "system.getDetails"))
			anon := read(p1, "", "system.listSystems")
			v(anon)
			v(anon)
			inv(ctx, read(p1, "alice", "system.listFails"))
			inv(ctx, read(p1, "alice", "system.listFails"))
			require.EqualValues(t, calls+6, u.calls.Load())
			hits, _ := c.Stats()
			require.EqualValues(t, 1, hits)
		})
	}
}

func TestWritesInvalidateTheirNamespaceOnTheirTarget(t *testing.T) {
	for name, mk := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			st := mk(t)
			u := &upstream{}
			// Two replicas on one store: a write through one invalidates for both.
			a, b := newCache(t, st).Middleware()(u.invoke), newCache(t, st).Middleware()(u.invoke)
			ctx := context.Background()
			get := func(inv fanout.Invoker, tg target.Target, m string) any { return inv(ctx, read(tg, "alice", m)).Value }

			s1, s2, ch := get(a, p1, "system.listSystems"), get(a, p2, "system.listSystems"), get(a, p1, "channel.listAllChannels")
			require.Equal(t, s1, get(b, p1, "system.listSystems"), "replica B hits what A stored")

			a(ctx, write(p1, "system.setDetails"))
			require.NotEqual(t, s1, get(b, p1, "system.listSystems"), "same namespace, same target: invalidated")
			require.Equal(t, s2, get(b, p2, "system.listSystems"), "another target: kept")
			require.Equal(t, ch, get(b, p1, "channel.listAllChannels"), "another namespace: kept")

			b(ctx, write(p1, "channel.software.create"))
			require.NotEqual(t, ch, get(a, p1, "channel.listAllChannels"), "channel.software.* refreshes channel.*")

			before := u.calls.Load()
			a(ctx, write(p1, "auth.login"))
			get(a, p1, "system.listSystems")
			require.Equal(t, before+1, u.calls.Load(), "logins invalidate nothing")
		})
	}
}

// Concurrent misses for one answer make one upstream call; each caller
// gets its own copy of the value.
func TestConcurrentMissesCollapse(t *testing.T) {
	u := &upstream{gate: make(chan struct{})}
	c := newCache(t, cache.NewMemory(cache.MemoryOptions{}))
	inv := c.Middleware()(u.invoke)
	const n = 20
	var wg sync.WaitGroup
	vals := make([]any, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vals[i] = inv(context.Background(), read(p1, "alice", "system.listSystems")).Value
		}()
	}
	require.Eventually(t, func() bool { _, misses := c.Stats(); return misses == n }, 20*time.Second, time.Millisecond)
	close(u.gate)
	wg.Wait()
	require.Less(t, u.calls.Load(), int64(n), "misses were collapsed")
	for _, v := range vals {
		require.Equal(t, "system.listSystems#1", v)
	}
}

// A caller that leaves does not fail the shared call for the others.
func TestLeavingCallerDoesNotFailOthers(t *testing.T) {
	u := &upstream{gate: make(chan struct{})}
	c := newCache(t, cache.NewMemory(cache.MemoryOptions{}))
	inv := c.Middleware()(u.invoke)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan fanout.Result)
	go func() { first <- inv(ctx, read(p1, "alice", "system.listSystems")) }()
	require.Eventually(t, func() bool { return u.calls.Load() == 1 }, 20*time.Second, time.Millisecond)
	second := make(chan fanout.Result)
	go func() { second <- inv(context.Background(), read(p1, "alice", "system.listSystems")) }()
	require.Eventually(t, func() bool { _, m := c.Stats(); return m == 2 }, 20*time.Second, time.Millisecond)
	cancel()
	r := <-first
	require.Equal(t, "canceled", fanout.Kind(r))
	close(u.gate)
	r = <-second
	require.True(t, r.OK())
}

// With the store down, reads go upstream: the cache never fails a call.
func TestStoreDownCallsThrough(t *testing.T) {
	srv := redistest.Start(t)
	st, err := cache.NewRedis(srv.URL, cache.RedisOptions{Prefix: redistest.Prefix(t), Timeout: 500 * time.Millisecond})
	require.NoError(t, err)
	defer st.Close()
	u := &upstream{}
	inv := newCache(t, st).Middleware()(u.invoke)
	srv.Stop()
	for range 2 {
		require.True(t, inv(context.Background(), read(p1, "alice", "system.listSystems")).OK())
	}
	require.True(t, inv(context.Background(), write(p1, "system.setDetails")).OK())
	require.EqualValues(t, 3, u.calls.Load())
}

func TestParseSpec(t *testing.T) {
	readOnly := func(m string) bool { return strings.Contains(m, ".list") || strings.Contains(m, ".get") }
	got, err := readcache.ParseSpec(" system.listSystems=30s, channel.listAllChannels=5m ,", readOnly)
	require.NoError(t, err)
	require.Equal(t, map[string]time.Duration{"system.listSystems": 30 * time.Second, "channel.listAllChannels": 5 * time.Minute}, got)

	for spec, msg := range map[string]string{
		"system.listSystems":           "want method=ttl",
		"system.listSystems=soon":      "positive duration",
		"system.listSystems=-1s":       "positive duration",
		"listSystems=1s":               "namespace.method",
		"system.scheduleReboot=1m":     "not a read-only method",
		"=1s":                          "want method=ttl",
		"a.list=1s,system.delete=1s,x": "not a read-only",
	} {
		_, err := readcache.ParseSpec(spec, readOnly)
		require.ErrorContains(t, err, msg, spec)
	}
}
