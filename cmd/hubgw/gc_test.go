package main

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
)

func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		base int
		want int
	}{
		{0, 25, maxGCPercent},
		{1 << 20, 25, maxGCPercent},      // 16 MiB is 1600%: capped
		{8 << 20, 25, 200},               // 16 MiB of 8 MiB
		{64 << 20, 25, 25},               // a quarter is 16 MiB
		{200 << 20, 25, 25},              // past it: gc-percent
		{8 << 20, 300, 300},              // a larger gc-percent stays
		{8 << 20, 1000, 1000},            // even past the cap
		{32 << 20, 10, 50},               // 16 MiB of 32 MiB
		{1 << 40, 25, 25},                // huge heaps: gc-percent
		{gcHeadroom * 100 / 7, 5, 7},     // rounding down
		{gcHeadroom * 100 / 7, 25, 25},   // base wins
		{gcHeadroom*100/7 + 1, 1, 6},     // integer percent
		{gcHeadroom * 100 / 399, 1, 399}, // just under the cap
	} {
		require.Equal(t, c.want, gcPercentFor(c.live, c.base), "live %d, base %d", c.live, c.base)
	}
}

// The tuner follows the live heap from one collection to the next.
func TestTuneGCFollowsTheLiveHeap(t *testing.T) {
	t.Setenv("GOGC", "") // set, so that os.LookupEnv finds it…
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	gogc := func() int {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		return int(s[0].Value.Uint64())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tuneGC(ctx, server.Config{Ops: server.Ops{GCPercent: 25}})
	require.Equal(t, 100, gogc(), "GOGC in the environment wins")

	unsetenv(t, "GOGC")
	tuneGC(ctx, server.Config{Ops: server.Ops{GCPercent: 25}})
	// A test binary's live heap is a few MB: room of 16 MiB is more
	// than a quarter of it. The cleanup runs once the collection ends.
	waitGOGC := func(ok func(int) bool) int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			runtime.GC()
			if p := gogc(); ok(p) || time.Now().After(deadline) {
				return p
			}
			runtime.Gosched() // the cleanup goroutine runs after the collection
		}
	}
	require.Greater(t, waitGOGC(func(p int) bool { return p > 25 }), 25)

	// 100 MB live: a quarter is room enough.
	ballast := make([]byte, 100<<20)
	require.Equal(t, 25, waitGOGC(func(p int) bool { return p == 25 }))
	runtime.KeepAlive(ballast)
}

// unsetenv unsets k for the test; t.Setenv puts it back afterwards.
func unsetenv(t *testing.T, k string) {
	t.Setenv(k, "")
	require.NoError(t, os.Unsetenv(k))
}
