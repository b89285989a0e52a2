package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
)

// BenchmarkStore is the store's basic costs: a 1 KB Get and a job-style
// Batch (a hash of 10 fields and a key), memory and a local Redis.
func BenchmarkStore(b *testing.B) {
	mk := redistest.Stores()
	value := make([]byte, 1024)
	fields := map[string][]byte{}
	for i := range 10 {
		fields[string(rune('a'+i))] = value[:200]
	}
	for _, name := range []string{"memory", "redis"} {
		st := mk[name](b)
		ctx := context.Background()
		if err := st.Set(ctx, "k", value, time.Hour); err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/get", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.Get(ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/batch", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := st.Batch(ctx, func(bt cache.Batch) {
					bt.HSet("h", time.Hour, fields)
					bt.Set("lease", value[:10], time.Minute)
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
