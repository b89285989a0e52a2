package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hubgw/hubgw/cache"
)

// StoreMetrics time every state store operation and count its failures.
type StoreMetrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// NewStoreMetrics registers the store's metrics with reg.
func NewStoreMetrics(reg prometheus.Registerer) *StoreMetrics {
	m := &StoreMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hubgw_store_operation_duration_seconds",
			Help:    "Time for one state store operation, by store (memory, redis) and operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"store", "op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubgw_store_errors_total",
			Help: "State store operations that failed (a key not found is not a failure), by store and operation.",
		}, []string{"store", "op"}),
	}
	reg.MustRegister(m.duration, m.errors)
	return m
}

// Wrap returns st with every operation observed under the name store: the
// one place the store is measured, so no caller has to. The series are
// resolved here, once: a label lookup per operation would cost more than
// a memory store's Get.
func (m *StoreMetrics) Wrap(st cache.Store, store string) cache.Store {
	s := &observedStore{Store: st}
	for o, name := range opNames {
		s.duration[o] = m.duration.WithLabelValues(store, name)
		s.errors[o] = m.errors.WithLabelValues(store, name)
	}
	return s
}

// op is a store operation, an index into opNames.
type op int

const (
	opGet op = iota
	opGetEx
	opSet
	opSetNX
	opUpdate
	opDelete
	opHSetNX
	opHGetAll
	opZRevRange
	opBatch
	opPublish
	opSubscribe
	opPing
	nOps
)

// opNames are the op label's values.
var opNames = [nOps]string{"get", "getex", "set", "setnx", "update", "delete", "hsetnx", "hgetall", "zrevrange", "batch", "publish", "subscribe", "ping"}

type observedStore struct {
	cache.Store // Shared, Close: not operations worth timing
	duration    [nOps]prometheus.Observer
	errors      [nOps]prometheus.Counter
}

// observe runs one operation, timing it and counting its failure.
func observe[T any](s *observedStore, o op, f func() (T, error)) (T, error) {
	start := time.Now()
	v, err := f()
	s.duration[o].Observe(time.Since(start).Seconds())
	if err != nil && !errors.Is(err, cache.ErrNotFound) {
		s.errors[o].Inc()
	}
	return v, err
}

// observeErr is observe for operations that return only an error.
func observeErr(s *observedStore, o op, f func() error) error {
	_, err := observe(s, o, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

func (s *observedStore) Get(ctx context.Context, key string) ([]byte, error) {
	return observe(s, opGet, func() ([]byte, error) { return s.Store.Get(ctx, key) })
}

func (s *observedStore) GetEx(ctx context.Context, key string, ttl time.Duration) ([]byte, error) {
	return observe(s, opGetEx, func() ([]byte, error) { return s.Store.GetEx(ctx, key, ttl) })
}

func (s *observedStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return observeErr(s, opSet, func() error { return s.Store.Set(ctx, key, value, ttl) })
}

func (s *observedStore) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return observe(s, opSetNX, func() (bool, error) { return s.Store.SetNX(ctx, key, value, ttl) })
}

func (s *observedStore) Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) error {
	return observeErr(s, opUpdate, func() error { return s.Store.Update(ctx, key, ttl, fn) })
}

func (s *observedStore) Delete(ctx context.Context, keys ...string) error {
	return observeErr(s, opDelete, func() error { return s.Store.Delete(ctx, keys...) })
}

func (s *observedStore) HSetNX(ctx context.Context, key, field string, value []byte) (bool, error) {
	return observe(s, opHSetNX, func() (bool, error) { return s.Store.HSetNX(ctx, key, field, value) })
}

func (s *observedStore) HGetAll(ctx context.Context, key string) (map[string][]byte, error) {
	return observe(s, opHGetAll, func() (map[string][]byte, error) { return s.Store.HGetAll(ctx, key) })
}

func (s *observedStore) ZRevRange(ctx context.Context, key string, n int) ([]string, error) {
	return observe(s, opZRevRange, func() ([]string, error) { return s.Store.ZRevRange(ctx, key, n) })
}

func (s *observedStore) Batch(ctx context.Context, fn func(cache.Batch)) error {
	return observeErr(s, opBatch, func() error { return s.Store.Batch(ctx, fn) })
}

func (s *observedStore) Publish(ctx context.Context, channel string, msg []byte) error {
	return observeErr(s, opPublish, func() error { return s.Store.Publish(ctx, channel, msg) })
}

func (s *observedStore) Subscribe(ctx context.Context, channel string) (cache.Subscription, error) {
	return observe(s, opSubscribe, func() (cache.Subscription, error) { return s.Store.Subscribe(ctx, channel) })
}

func (s *observedStore) Ping(ctx context.Context) error {
	return observeErr(s, opPing, func() error { return s.Store.Ping(ctx) })
}
