package auth_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
)

func sealer(t testing.TB, b byte) *auth.Sealer {
	t.Helper()
	s, err := auth.NewSealer(key(b))
	require.NoError(t, err)
	return s
}

// backends returns a memory cache and a real Redis, both behind
// SharedStore; each shares the test's clock where it can.
func backends(t *testing.T) map[string]func(t *testing.T, c *clock) (cache.Store, *auth.SharedStore) {
	mk := func(kv cache.Store, c *clock) *auth.SharedStore {
		st, err := auth.NewSharedStore(kv, sealer(t, 1), auth.SharedOptions{Expiry: auth.Expiry{Idle: 30 * time.Minute, Absolute: 2 * time.Hour}, Now: c.Now})
		require.NoError(t, err)
		return st
	}
	return map[string]func(t *testing.T, c *clock) (cache.Store, *auth.SharedStore){
		"memory": func(t *testing.T, c *clock) (cache.Store, *auth.SharedStore) {
			kv := cache.NewMemory(cache.MemoryOptions{Now: c.Now})
			return kv, mk(kv, c)
		},
		"redis": func(t *testing.T, c *clock) (cache.Store, *auth.SharedStore) {
			srv := redistest.Start(t)
			kv, err := cache.NewRedis(srv.URL, cache.RedisOptions{Prefix: redistest.Prefix(t)})
			require.NoError(t, err)
			t.Cleanup(func() { kv.Close() })
			return kv, mk(kv, c)
		},
	}
}

func TestSharedStoreNeedsASealer(t *testing.T) {
	_, err := auth.NewSharedStore(cache.NewMemory(cache.MemoryOptions{}), nil, auth.SharedOptions{})
	require.ErrorContains(t, err, "--secret-key-file")
}

func TestSharedStoreRoundTrip(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := &clock{now: time.Now()}
			kv, st := mk(t, c)
			id := auth.NewID()
			in := &auth.Session{ID: id, User: "admin", Mode: auth.Relay, HubKey: "123xhubkey", Keys: map[string]string{"1000010001": "456xperiph"}, Secret: []byte("hunter2"),
				Logins: map[string]string{"hub": "admin", "1000010001": "svc-reader"}}
			require.NoError(t, st.Create(ctx, in))

			got, err := st.Get(ctx, id)
			require.NoError(t, err)
			require.Equal(t, in.User, got.User)
			require.Equal(t, in.Mode, got.Mode)
			require.Equal(t, in.HubKey, got.HubKey)
			require.Equal(t, in.Keys, got.Keys)
			require.Equal(t, in.Logins, got.Logins)
			require.Equal(t, in.Secret, got.Secret)

			_, err = st.Get(ctx, auth.NewID())
			require.ErrorIs(t, err, auth.ErrNoSession)

			// At rest: no session id in the key, no credential in the value.
			if r, ok := kv.(*cache.Redis); ok {
				keys, err := r.Client().Keys(ctx, "*").Result()
				require.NoError(t, err)
				for _, k := range keys {
					require.NotContains(t, k, id)
					if !strings.Contains(k, "session:") {
						continue
					}
					v, err := r.Client().Get(ctx, k).Result()
					require.NoError(t, err)
					for _, secret := range []string{"hunter2", "123xhubkey", "456xperiph", "svc-reader", id} {
						require.NotContains(t, v, secret)
					}
					require.Contains(t, v, `"user":"admin"`)
				}
			}

			require.NoError(t, st.Delete(ctx, id))
			_, err = st.Get(ctx, id)
			require.ErrorIs(t, err, auth.ErrNoSession)
		})
	}
}

func TestSharedStoreExpiry(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: time.Unix(1_000_000, 0)}
	kv := cache.NewMemory(cache.MemoryOptions{Now: c.Now})
	st, err := auth.NewSharedStore(kv, sealer(t, 1), auth.SharedOptions{Expiry: auth.Expiry{Idle: 30 * time.Minute, Absolute: 2 * time.Hour}, Now: c.Now})
	require.NoError(t, err)

	require.NoError(t, st.Create(ctx, &auth.Session{ID: "idle", User: "u"}))
	c.Add(31 * time.Minute)
	_, err = st.Get(ctx, "idle")
	require.ErrorIs(t, err, auth.ErrNoSession, "idle too long")

	require.NoError(t, st.Create(ctx, &auth.Session{ID: "busy", User: "u"}))
	for i := range 5 {
		c.Add(25 * time.Minute)
		_, err = st.Get(ctx, "busy")
		if i < 4 {
			require.NoError(t, err, "used within idle: step %d", i)
		} else {
			require.ErrorIs(t, err, auth.ErrNoSession, "past the absolute limit though used")
		}
	}
}

func TestSharedStoreWrongKeyOrTamperedIsNoSession(t *testing.T) {
	ctx := context.Background()
	kv := cache.NewMemory(cache.MemoryOptions{})
	a, err := auth.NewSharedStore(kv, sealer(t, 1), auth.SharedOptions{})
	require.NoError(t, err)
	b, err := auth.NewSharedStore(kv, sealer(t, 2), auth.SharedOptions{})
	require.NoError(t, err)
	require.NoError(t, a.Create(ctx, &auth.Session{ID: "s", User: "u", Secret: []byte("pw")}))
	_, err = b.Get(ctx, "s")
	require.ErrorIs(t, err, auth.ErrNoSession, "clients log in again")
	require.ErrorIs(t, err, auth.ErrWrongKey, "operators see why")
}

// Update is atomic: concurrent updates from many goroutines and two
// "replicas" (two stores on one Redis) lose none of each other's writes.
func TestSharedStoreAtomicUpdate(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := &clock{now: time.Now()}
			kv, st := mk(t, c)
			other, err := auth.NewSharedStore(kv, sealer(t, 1), auth.SharedOptions{Now: c.Now})
			require.NoError(t, err)
			id := auth.NewID()
			require.NoError(t, st.Create(ctx, &auth.Session{ID: id, User: "admin", Keys: map[string]string{}}))

			const n = 60
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := st
					if i%2 == 1 {
						s = other
					}
					require.NoError(t, s.Update(ctx, id, func(x *auth.Session) error {
						x.Keys[fmt.Sprint(i)] = fmt.Sprintf("key-%d", i)
						return nil
					}))
				}()
			}
			wg.Wait()
			got, err := st.Get(ctx, id)
			require.NoError(t, err)
			require.Len(t, got.Keys, n)
			require.Equal(t, "key-7", got.Keys["7"])

			err = st.Update(ctx, auth.NewID(), func(*auth.Session) error { return nil })
			require.ErrorIs(t, err, auth.ErrNoSession)
		})
	}
}

func TestSharedStoreUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	kv, err := cache.NewRedis(srv.URL, cache.RedisOptions{Prefix: redistest.Prefix(t), Timeout: time.Second})
	require.NoError(t, err)
	defer kv.Close()
	st, err := auth.NewSharedStore(kv, sealer(t, 1), auth.SharedOptions{})
	require.NoError(t, err)
	srv.Stop()
	_, err = st.Get(context.Background(), auth.NewID())
	require.ErrorIs(t, err, cache.ErrUnavailable)
	require.NotErrorIs(t, err, auth.ErrNoSession, "a store that is down is not a missing session")
}
