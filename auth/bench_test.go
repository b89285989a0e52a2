package auth_test

import (
	"context"
	"testing"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
)

// BenchmarkSessionGet is one session lookup, as every call makes: the
// in-process default, the shared store on the memory cache (the cost of
// sealing), and the shared store on a local Redis (plus a round trip).
func BenchmarkSessionGet(b *testing.B) {
	stores := map[string]func(b *testing.B) auth.Store{
		"memory": func(*testing.B) auth.Store { return auth.NewMemoryStore(auth.Expiry{}, 0, nil) },
		"sealed-memory": func(b *testing.B) auth.Store {
			st, err := auth.NewSharedStore(cache.NewMemory(cache.MemoryOptions{}), sealer(b, 1), auth.SharedOptions{})
			if err != nil {
				b.Fatal(err)
			}
			return st
		},
		"redis": func(b *testing.B) auth.Store {
			srv := redistest.Start(b)
			kv, err := cache.NewRedis(srv.URL, cache.RedisOptions{Prefix: redistest.Prefix(b)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { kv.Close() })
			st, err := auth.NewSharedStore(kv, sealer(b, 1), auth.SharedOptions{})
			if err != nil {
				b.Fatal(err)
			}
			return st
		},
	}
	for _, name := range []string{"memory", "sealed-memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			st := stores[name](b)
			ctx := context.Background()
			keys := map[string]string{}
			for i := range 20 { // a session attached to 20 peripherals
				keys[string(rune('a'+i))] = "1234567x0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
			}
			id := auth.NewID()
			if err := st.Create(ctx, &auth.Session{ID: id, User: "admin", Mode: auth.Relay, HubKey: "1x" + id, Keys: keys, Secret: []byte("pw")}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.Get(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
