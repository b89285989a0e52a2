package cache_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
)

func TestStoreStrings(t *testing.T) {
	for name, mk := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			s, ctx := mk(t), context.Background()
			_, err := s.Get(ctx, "a")
			require.ErrorIs(t, err, cache.ErrNotFound)

			require.NoError(t, s.Set(ctx, "a", []byte("1"), time.Minute))
			v, err := s.Get(ctx, "a")
			require.NoError(t, err)
			require.Equal(t, "1", string(v))

			require.NoError(t, s.Set(ctx, "empty", []byte{}, 0))
			v, err = s.Get(ctx, "empty")
			require.NoError(t, err, "an empty value is a value")
			require.Empty(t, v)

			ok, err := s.SetNX(ctx, "a", []byte("2"), time.Minute)
			require.NoError(t, err)
			require.False(t, ok)
			ok, err = s.SetNX(ctx, "b", []byte("2"), time.Minute)
			require.NoError(t, err)
			require.True(t, ok)

			v, err = s.GetEx(ctx, "b", time.Hour)
			require.NoError(t, err)
			require.Equal(t, "2", string(v))

			require.NoError(t, s.Delete(ctx, "a", "b", "never"))
			_, err = s.Get(ctx, "a")
			require.ErrorIs(t, err, cache.ErrNotFound)
		})
	}
}

func TestStoreUpdate(t *testing.T) {
	for name, mk := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			s, ctx := mk(t), context.Background()
			err := s.Update(ctx, "missing", 0, func([]byte) ([]byte, error) { t.Fatal("fn called"); return nil, nil })
			require.ErrorIs(t, err, cache.ErrNotFound)

			require.NoError(t, s.Set(ctx, "n", []byte("0"), time.Minute))
			boom := errors.New("boom")
			require.ErrorIs(t, s.Update(ctx, "n", 0, func([]byte) ([]byte, error) { return nil, boom }), boom)

			// Concurrent increments through Update lose nothing.
			var wg sync.WaitGroup
			for range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := s.Update(ctx, "n", time.Minute, func(old []byte) ([]byte, error) {
						var n int
						fmt.Sscan(string(old), &n)
						return fmt.Appendf(nil, "%d", n+1), nil
					})
					require.NoError(t, err)
				}()
			}
			wg.Wait()
			v, err := s.Get(ctx, "n")
			require.NoError(t, err)
			require.Equal(t, "40", string(v))
		})
	}
}

func TestStoreHashesSortedSetsBatch(t *testing.T) {
	for name, mk := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			s, ctx := mk(t), context.Background()
			_, err := s.HGetAll(ctx, "h")
			require.ErrorIs(t, err, cache.ErrNotFound)

			require.NoError(t, s.Batch(ctx, func(b cache.Batch) {
				b.HSet("h", time.Minute, map[string][]byte{"x": []byte("1"), "y": []byte("2")})
				b.Set("lease", []byte("me"), time.Minute)
				b.ZAdd("z", time.Minute, 1, "old")
				b.ZAdd("z", time.Minute, 3, "new")
				b.ZAdd("z", time.Minute, 2, "mid")
			}))
			h, err := s.HGetAll(ctx, "h")
			require.NoError(t, err)
			require.Equal(t, map[string][]byte{"x": []byte("1"), "y": []byte("2")}, h)

			ok, err := s.HSetNX(ctx, "h", "x", []byte("9"))
			require.NoError(t, err)
			require.False(t, ok)
			ok, err = s.HSetNX(ctx, "h", "z", []byte("3"))
			require.NoError(t, err)
			require.True(t, ok)

			got, err := s.ZRevRange(ctx, "z", 2)
			require.NoError(t, err)
			require.Equal(t, []string{"new", "mid"}, got)
			require.NoError(t, s.Batch(ctx, func(b cache.Batch) { b.ZRemBelow("z", 2) }))
			got, err = s.ZRevRange(ctx, "z", 10)
			require.NoError(t, err)
			require.Equal(t, []string{"new", "mid"}, got)
			require.NoError(t, s.Batch(ctx, func(b cache.Batch) { b.ZRem("z", "mid", "never"); b.ZRem("z") }))
			got, err = s.ZRevRange(ctx, "z", 10)
			require.NoError(t, err)
			require.Equal(t, []string{"new"}, got)
			got, err = s.ZRevRange(ctx, "nothing", 10)
			require.NoError(t, err)
			require.Empty(t, got)

			require.NoError(t, s.Batch(ctx, func(b cache.Batch) { b.Delete("lease"); b.Expire("h", time.Hour) }))
			_, err = s.Get(ctx, "lease")
			require.ErrorIs(t, err, cache.ErrNotFound)
		})
	}
}

func TestStorePubSub(t *testing.T) {
	for name, mk := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			s, ctx := mk(t), context.Background()
			sub, err := s.Subscribe(ctx, "ch")
			require.NoError(t, err)
			defer sub.Close()
			// Redis subscribes asynchronously: publish until it arrives.
			deadline := time.After(20 * time.Second)
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				require.NoError(t, s.Publish(ctx, "ch", []byte("hello")))
				select {
				case m := <-sub.C():
					require.Equal(t, "hello", string(m))
					require.NoError(t, sub.Close())
					return
				case <-tick.C:
				case <-deadline:
					t.Fatal("no message")
				}
			}
		})
	}
}

func TestMemoryBounds(t *testing.T) {
	now := time.Unix(1000, 0)
	m := cache.NewMemory(cache.MemoryOptions{MaxEntries: 3, Now: func() time.Time { return now }})
	ctx := context.Background()
	for i := range 5 {
		require.NoError(t, m.Set(ctx, fmt.Sprint(i), []byte("v"), time.Minute))
	}
	require.Equal(t, 3, m.Len(), "bounded in entries")
	_, err := m.Get(ctx, "0")
	require.ErrorIs(t, err, cache.ErrNotFound, "least recently used dropped first")

	now = now.Add(time.Minute)
	_, err = m.Get(ctx, "4")
	require.ErrorIs(t, err, cache.ErrNotFound, "expired at its TTL")

	// GetEx slides the expiry.
	require.NoError(t, m.Set(ctx, "s", []byte("v"), time.Minute))
	now = now.Add(50 * time.Second)
	_, err = m.GetEx(ctx, "s", time.Minute)
	require.NoError(t, err)
	now = now.Add(50 * time.Second)
	_, err = m.Get(ctx, "s")
	require.NoError(t, err)
}

// Redis down: every operation fails quickly with ErrUnavailable; back up:
// the same store works again without being rebuilt.
func TestRedisUnavailableAndRecovery(t *testing.T) {
	srv := redistest.Start(t)
	r, err := cache.NewRedis(srv.URL, cache.RedisOptions{Prefix: redistest.Prefix(t), Timeout: time.Second})
	require.NoError(t, err)
	defer r.Close()
	ctx := context.Background()
	require.NoError(t, r.Set(ctx, "k", []byte("v"), time.Minute))

	srv.Stop()
	ops := map[string]func() error{
		"get":    func() error { _, err := r.Get(ctx, "k"); return err },
		"set":    func() error { return r.Set(ctx, "k", []byte("v"), time.Minute) },
		"update": func() error { return r.Update(ctx, "k", 0, func(b []byte) ([]byte, error) { return b, nil }) },
		"batch": func() error {
			return r.Batch(ctx, func(b cache.Batch) { b.HSet("h", 0, map[string][]byte{"a": nil}) })
		},
		"hgetall": func() error { _, err := r.HGetAll(ctx, "h"); return err },
		"ping":    func() error { return r.Ping(ctx) },
	}
	for name, op := range ops {
		err := op()
		require.ErrorIs(t, err, cache.ErrUnavailable, name)
		require.Contains(t, err.Error(), srv.Addr, "%s: the message says which Redis", name)
	}

	srv.Restart()
	require.Eventually(t, func() bool { return r.Ping(ctx) == nil }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, r.Set(ctx, "k", []byte("again"), time.Minute))
	v, err := r.Get(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "again", string(v))
}

// A Redis that accepts connections but never answers (here: a listener
// that reads nothing) must not hang an operation past its timeout.
func TestRedisHangingIsBounded(t *testing.T) {
	l := listenSilently(t)
	r, err := cache.NewRedis("redis://"+l+"?max_retries=-1", cache.RedisOptions{Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	defer r.Close()
	done := make(chan error, 1)
	go func() { _, err := r.Get(context.Background(), "k"); done <- err }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, cache.ErrUnavailable)
		require.Contains(t, err.Error(), "no answer within")
	case <-time.After(30 * time.Second):
		t.Fatal("Get hung on a silent Redis")
	}
}

// TestStoreHSetIf: the compare-and-set over hash fields writes only when
// every guard holds, writes only the fields given, and lets concurrent
// writers (in-process here; the Redis one is a script, so replicas too)
// make progress without losing an update.
func TestStoreHSetIf(t *testing.T) {
	for name, mk := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			s, ctx := mk(t), context.Background()
			ok, err := s.HSetIf(ctx, "r", nil, map[string][]byte{"a": []byte("1")})
			require.NoError(t, err)
			require.False(t, ok, "an absent hash fails even without guards")
			require.NoError(t, s.Batch(ctx, func(b cache.Batch) {
				b.HSet("r", 0, map[string][]byte{"epoch": []byte("1"), "s:0": []byte("pending"), "s:1": []byte("pending")})
			}))
			for _, tc := range []struct {
				guards, fields map[string][]byte
				ok             bool
			}{
				{map[string][]byte{"epoch": []byte("2")}, map[string][]byte{"s:0": []byte("x")}, false},                                  // a stale owner
				{map[string][]byte{"epoch": []byte("1"), "s:0": []byte("done")}, map[string][]byte{"s:0": []byte("x")}, false},           // the field moved on
				{map[string][]byte{"epoch": []byte("1"), "missing": []byte("")}, map[string][]byte{"s:0": []byte("x")}, false},           // an absent guard field
				{map[string][]byte{"epoch": []byte("1"), "s:0": []byte("pending")}, map[string][]byte{"s:0": []byte("running")}, true},   // claimed
				{map[string][]byte{"epoch": []byte("1")}, map[string][]byte{"s:1": []byte("done"), "h": []byte(`{"status":"x"}`)}, true}, // two fields at once
			} {
				ok, err := s.HSetIf(ctx, "r", tc.guards, tc.fields)
				require.NoError(t, err)
				require.Equal(t, tc.ok, ok, "guards %s", tc.guards)
			}
			h, err := s.HGetAll(ctx, "r")
			require.NoError(t, err)
			require.Equal(t, map[string][]byte{"epoch": []byte("1"), "s:0": []byte("running"), "s:1": []byte("done"), "h": []byte(`{"status":"x"}`)}, h)

			// Concurrent compare-and-set increments: none is lost.
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 20 {
						for {
							h, err := s.HGetAll(ctx, "r")
							if err != nil {
								t.Error(err)
								return
							}
							var n int
							fmt.Sscan(string(h["n"]), &n)
							g := map[string][]byte{"epoch": []byte("1")}
							if v, ok := h["n"]; ok {
								g["n"] = v
							} else {
								g["s:0"] = h["s:0"] // the first writer: n is absent
								if n != 0 {
									t.Error("n unreadable")
								}
							}
							ok, err := s.HSetIf(ctx, "r", g, map[string][]byte{"n": []byte(fmt.Sprint(n + 1)), "s:0": []byte(fmt.Sprint("w", n+1))})
							if err != nil {
								t.Error(err)
								return
							}
							if ok {
								break
							}
						}
					}
				}()
			}
			wg.Wait()
			h, err = s.HGetAll(ctx, "r")
			require.NoError(t, err)
			require.Equal(t, "160", string(h["n"]))
		})
	}
}
