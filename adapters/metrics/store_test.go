package metrics_test

import (
	"context"
	"errors"
	"strings"
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

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP hubgw_store_errors_total State store operations that failed (a key not found is not a failure), by store and operation.
# TYPE hubgw_store_errors_total counter
hubgw_store_errors_total{op="get",store="redis"} 1
`), "hubgw_store_errors_total"))
	require.Equal(t, 3, testutil.CollectAndCount(reg, "hubgw_store_operation_duration_seconds"), "get on redis, get and set on memory")
}
