package readcache_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/readcache"
)

// BenchmarkHit is a cached read answered from the cache (a generation
// lookup and an entry lookup), for a 10 KB answer, against the memory
// store and a local Redis.
func BenchmarkHit(b *testing.B) {
	answer := strings.Repeat("<value><struct><member><name>id</name><value><i4>1000010001</i4></value></member></struct></value>", 100)
	mk := redistest.Stores()
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			c, err := readcache.New(mk[name](b), readcache.Options{
				TTL:    map[string]time.Duration{"system.listSystems": time.Hour},
				Encode: func(v any) ([]byte, error) { return []byte(v.(string)), nil },
				Decode: func(b []byte) (any, error) { return string(b), nil },
			})
			if err != nil {
				b.Fatal(err)
			}
			calls := 0
			inv := c.Middleware()(func(_ context.Context, c fanout.Call) fanout.Result {
				calls++
				return fanout.Result{Target: c.Target, Value: answer}
			})
			call := fanout.Call{Target: p1, Method: "system.listSystems", User: "admin", ReadOnly: true, Params: []any{"key"}}
			ctx := context.Background()
			inv(ctx, call)
			b.ReportAllocs()
			for b.Loop() {
				if r := inv(ctx, call); !r.OK() {
					b.Fatal(r.Err)
				}
			}
			if calls != 1 {
				b.Fatalf("%d upstream calls, want 1", calls)
			}
		})
	}
}
