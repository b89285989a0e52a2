package metrics_test

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/metrics"
	"github.com/hubgw/hubgw/cache"
)

// failing is a store whose Get fails as told.
type failing struct {
	cache.Store
	err error
}

func (f failing) Get(context.Context, string) ([]byte, error) { return nil, f.err }

// A store failure is counted by store and operation; a key not found is
// an answer, not a failure; every operation is timed.
func TestStoreErrorsAndLatency(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.NewStoreMetrics(reg)
	ctx := context.Background()
	down := m.Wrap(failing{cache.NewMemory(cache.MemoryOptions{}), cache.ErrUnavailable}, "redis")
	_, err := down.Get(ctx, "k")
	require.True(t, errors.Is(err, cache.ErrUnavailable), "errors pass through as they are")
	missing := m.Wrap(cache.NewMemory(cache.MemoryOptions{}), "memory")
	_, err = missing.Get(ctx, "k")
	require.ErrorIs(t, err, cache.ErrNotFound)
	require.NoError(t, missing.Set(ctx, "k", []byte("v"), 0))

	mfs, err := reg.Gather()
	require.NoError(t, err)
	failures := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "hubgw_store_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := ""
			for _, l := range m.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + " "
			}
			if v := m.GetCounter().GetValue(); v != 0 {
				failures[labels] = v
			}
		}
	}
	require.Equal(t, map[string]float64{"op=get store=redis ": 1}, failures)
	require.Equal(t, 2*13, testutil.CollectAndCount(reg, "hubgw_store_operation_duration_seconds"), "every operation of both stores, from the start")
}

// BenchmarkStoreGet is what the decorator adds to a memory store's Get
// (the read cache's hit path): compare wrapped with bare in one run.
func BenchmarkStoreGet(b *testing.B) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		wrap bool
	}{{"bare", false}, {"observed", true}} {
		b.Run(tt.name, func(b *testing.B) {
			var st cache.Store = cache.NewMemory(cache.MemoryOptions{})
			if tt.wrap {
				st = metrics.NewStoreMetrics(prometheus.NewRegistry()).Wrap(st, "memory")
			}
			require.NoError(b, st.Set(ctx, "k", []byte("v"), 0))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.Get(ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
