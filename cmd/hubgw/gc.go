package main

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"

	"github.com/hubgw/hubgw/adapters/server"
)

// gcHeadroom is the least the heap may grow past what is live before the
// next collection, and maxGCPercent the most GOGC goes to for it.
//
// gc-percent 25 keeps a gateway holding a fan-out's answers near the
// bytes in flight (its heap is tens of MB, a quarter of it is room
// enough). A gateway serving unicasts has a live heap of about 10 MB,
// where a quarter is 2.5 MB: it collected every couple of hundred calls,
// about a tenth of its CPU, and each collection emptied the pools its
// buffers are reused from (issue 19, make bench's unicast gw-CPU-µs/op).
// So GOGC is raised while the live heap is small, to grow by gcHeadroom,
// and is gc-percent again once a quarter of the live heap is more.
const (
	gcHeadroom   = 16 << 20
	maxGCPercent = 400
)

// gcPercentFor is the GOGC for a live heap of live bytes under gc-percent
// base: base, or more while base% of live is less than gcHeadroom.
func gcPercentFor(live uint64, base int) int {
	if live == 0 {
		return maxGCPercent
	}
	p := int(min(gcHeadroom*100/live, maxGCPercent))
	return max(p, base)
}

// tuneGC applies gc-percent (kept up to date with the live heap after
// every collection, until ctx ends) and the memory limit derived from the
// in-flight budget, unless GOGC or GOMEMLIMIT say otherwise.
//
// Hand-written: the GC tuners there are (e.g. bytedance/gopkg's gctuner)
// raise GOGC towards a heap threshold, letting a large live heap grow far
// past it; the gateway wants the opposite, a floor under the room between
// collections. It costs one metrics read per collection.
func tuneGC(ctx context.Context, cfg server.Config) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && cfg.MemoryLimit() > 0 {
		debug.SetMemoryLimit(cfg.MemoryLimit())
	}
	if _, set := os.LookupEnv("GOGC"); set || cfg.GCPercent <= 0 {
		return
	}
	t := &gcTuner{ctx: ctx, base: cfg.GCPercent, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.percent = t.base
	debug.SetGCPercent(t.base)
	t.arm()
}

// gcTuner sets GOGC after each collection: the runtime runs a cleanup
// of an object that became unreachable once the collection that found
// it is over, and the tuner attaches one to a new object each time.
type gcTuner struct {
	ctx     context.Context
	base    int
	percent int
	live    []metrics.Sample
}

// gcMark is the object whose cleanup marks the end of a collection; its
// pointer keeps it out of the tiny allocator, whose blocks are freed late.
type gcMark struct{ _ *gcTuner }

func (t *gcTuner) arm() {
	runtime.AddCleanup(&gcMark{}, func(t *gcTuner) { t.collected() }, t)
}

// collected runs on the runtime's cleanup goroutine, one at a time.
func (t *gcTuner) collected() {
	if t.ctx.Err() != nil {
		return
	}
	metrics.Read(t.live)
	if t.live[0].Value.Kind() == metrics.KindUint64 {
		if p := gcPercentFor(t.live[0].Value.Uint64(), t.base); p != t.percent {
			t.percent = p
			debug.SetGCPercent(p)
		}
	}
	t.arm()
}
