package jobs_test

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
)

// BenchmarkJobStoreBytes records 10,000 one-server fan-outs answered
// with 1 KiB each (10 MiB of answers) under an 8 MiB budget, and reports
// what the store holds after: the Go heap in memory mode, Redis's
// used_memory with Redis; and how much the process's RSS grew, its heap
// freed back to the system first (issue 12: RSS and store bytes after
// 10,000 recorded fan-outs). Both stay near the budget however many jobs
// are recorded.
func BenchmarkJobStoreBytes(b *testing.B) {
	const jobsN, budget = 10_000, 8 << 20
	answer := strings.Repeat("x", 1<<10)
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			var st cache.Store
			var used func() int64
			if name == "memory" {
				st = cache.NewMemory(cache.MemoryOptions{})
				used = func() int64 {
					runtime.GC()
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					return int64(m.HeapAlloc)
				}
			} else {
				srv := redistest.Start(b)
				r, err := cache.NewRedis(srv.URL, cache.RedisOptions{Prefix: redistest.Prefix(b)})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { r.Close() })
				st = r
				c := redis.NewClient(&redis.Options{Addr: srv.Addr})
				b.Cleanup(func() { c.Close() })
				used = func() int64 {
					info, _ := c.Info(ctx, "memory").Result()
					_, v, _ := strings.Cut(info, "used_memory:")
					n, _ := strconv.ParseInt(strings.TrimSpace(v[:strings.IndexByte(v, '\n')]), 10, 64)
					return n
				}
			}
			rec, err := jobs.New(st, jobs.Options{MaxBytes: budget, MaxUserBytes: budget})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(rec.Close)
			ts := targets(1)
			before, rssBefore := used(), rss(b)
			for b.Loop() {
				for range jobsN {
					run, err := rec.Start(ctx, jobs.Spec{Method: "system.scheduleReboot", User: "admin", Targets: ts})
					if err != nil {
						b.Fatal(err)
					}
					run.End(fanout.Results{{Target: ts[0], Value: answer, Attempts: 1}})
				}
			}
			b.ReportMetric(float64(used()-before)/(1<<20), "store-MiB")
			b.ReportMetric(float64(rss(b)-rssBefore)/(1<<20), "RSS-growth-MiB")
		})
	}
}

// rss is the process's resident set after giving freed heap back to the
// system, in bytes.
func rss(b *testing.B) int64 {
	debug.FreeOSMemory()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// BenchmarkRecordFanout records one 500-server fan-out per op, each
// target reported from its own goroutine as a fan-out does, in the memory
// store: a read whose answers are described, and a write whose answers
// (a small struct) are kept. It reports the recorder's cost per target,
// the part of a fan-out's CPU that job records add (issue 19).
func BenchmarkRecordFanout(b *testing.B) {
	const n = 500
	ts := targets(n)
	for _, c := range []struct {
		method string
		value  any
	}{
		{"system.listSystems", rawValue(make([]byte, 44<<10))},
		{"system.scheduleApplyHighstate", int64(12345)},
	} {
		b.Run(c.method, func(b *testing.B) {
			ctx := context.Background()
			st := cache.NewMemory(cache.MemoryOptions{})
			rec, err := jobs.New(st, jobs.Options{
				ReadOnly: func(m string) bool { return strings.Contains(m, ".list") },
				SizeHint: func(v any) int {
					if r, ok := v.(rawValue); ok {
						return len(r) / 2
					}
					return 0
				},
			})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(rec.Close)
			results := make(fanout.Results, n)
			for i, t := range ts {
				results[i] = fanout.Result{Target: t, Value: c.value, Attempts: 1, Duration: 20 * time.Millisecond}
			}
			b.ReportAllocs()
			for b.Loop() {
				run, err := rec.Start(ctx, jobs.Spec{Method: c.method, User: "admin", Targets: ts})
				if err != nil {
					b.Fatal(err)
				}
				var wg sync.WaitGroup
				for i, r := range results {
					wg.Go(func() { run.Finished(i, r) })
				}
				wg.Wait()
				run.End(results)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/target")
		})
	}
}

// rawValue stands for an edge's raw answer (rpc.Raw), as a fan-out
// carries a listing: the recorder describes it by its size.
type rawValue []byte

func (r rawValue) Decode() (any, error) { return string(r), nil }
func (r rawValue) Encoded() []byte      { return r }
