package rollout

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/gateway/target"
)

// writeCounter counts the writes a controller sends its store, and the
// bytes of the values they write.
type writeCounter struct {
	cache.Store
	n, bytes atomic.Int64
}

func (w *writeCounter) Set(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	w.n.Add(1)
	w.bytes.Add(int64(len(v)))
	return w.Store.Set(ctx, k, v, ttl)
}

func (w *writeCounter) SetNX(ctx context.Context, k string, v []byte, ttl time.Duration) (bool, error) {
	w.n.Add(1)
	w.bytes.Add(int64(len(v)))
	return w.Store.SetNX(ctx, k, v, ttl)
}

func (w *writeCounter) Update(ctx context.Context, k string, ttl time.Duration, fn func([]byte) ([]byte, error)) error {
	w.n.Add(1)
	return w.Store.Update(ctx, k, ttl, func(old []byte) ([]byte, error) {
		v, err := fn(old)
		w.bytes.Add(int64(len(v))) // every try is sent
		return v, err
	})
}

func (w *writeCounter) HSetIf(ctx context.Context, k string, guards, fields map[string][]byte) (bool, error) {
	w.n.Add(1)
	for f, v := range fields {
		w.bytes.Add(int64(len(f) + len(v)))
	}
	return w.Store.HSetIf(ctx, k, guards, fields)
}

func (w *writeCounter) Batch(ctx context.Context, fn func(cache.Batch)) error {
	w.n.Add(1)
	return w.Store.Batch(ctx, func(b cache.Batch) { fn(batchCounter{b, w}) })
}

type batchCounter struct {
	cache.Batch
	w *writeCounter
}

func (b batchCounter) Set(k string, v []byte, ttl time.Duration) {
	b.w.bytes.Add(int64(len(v)))
	b.Batch.Set(k, v, ttl)
}

func (b batchCounter) HSet(k string, ttl time.Duration, fields map[string][]byte) {
	for f, v := range fields {
		b.w.bytes.Add(int64(len(f) + len(v)))
	}
	b.Batch.HSet(k, ttl, fields)
}

func (w *writeCounter) Delete(ctx context.Context, keys ...string) error {
	w.n.Add(1)
	return w.Store.Delete(ctx, keys...)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRollout is the issue's: 500 servers, waves of 50, a step that
// takes what a 3-object apply takes against peripherals at 20 ms (one
// call each; the real apply's calls are measured by e2e BenchmarkPlanApply).
// It reports the time against the ideal (waves × one step), the store's
// writes and the bytes they wrote per server, and the CPU this process
// (the owner, which also waits on the record here) spent per server.
func BenchmarkRollout(b *testing.B) {
	const n, wave, step = 500, 50, 3 * 20 * time.Millisecond
	ts := make([]target.Target, n)
	for i := range ts {
		ts[i] = target.Target{ID: int64(1000010001 + i), Name: "p" + string(rune('a'+i%26))}
	}
	for name, open := range redistest.Stores() {
		b.Run("store="+name, func(b *testing.B) {
			st := &writeCounter{Store: open(b)}
			c := New(Options{Store: st, Replica: "a", Step: func(ctx context.Context, _ *Spec, _ target.Target, _ Claim) StepResult {
				time.Sleep(step)
				return StepResult{Status: Done, Counts: map[string]int{"created": 3}}
			}})
			b.Cleanup(c.Close)
			ctx := context.Background()
			st.n.Store(0)
			st.bytes.Store(0)
			cpu := cpuTime()
			b.ResetTimer()
			for range b.N {
				r, err := c.Start(ctx, Spec{User: "admin", Targets: ts, Canary: wave, Waves: []Amount{"50"}, Concurrency: wave})
				if err != nil {
					b.Fatal(err)
				}
				// Woken by the record's change hints, not polled: the
				// reads of a poll would count as the owner's CPU.
				if r, err = c.Wait(ctx, r.ID, nil); err != nil {
					b.Fatal(err)
				}
				if r.Status != Succeeded {
					b.Fatalf("ended %s: %s", r.Status, r.Reason)
				}
			}
			b.StopTimer()
			ideal := float64(n/wave) * float64(step.Nanoseconds())
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(perOp/ideal, "x-of-ideal")
			b.ReportMetric(float64(st.n.Load())/float64(n*b.N), "store-writes/server")
			b.ReportMetric(float64(st.bytes.Load())/float64(n*b.N), "store-bytes/server")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n*b.N), "cpu-µs/server")
		})
	}
}
