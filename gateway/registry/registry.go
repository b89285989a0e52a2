// Package registry knows which peripherals the hub manages: it discovers
// them through the hub's API, caches the list with a TTL, refreshes it in the
// background while serving the cached copy, and collapses concurrent loads
// into one.
package registry

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/hubgw/hubgw/gateway/target"
)

// Snapshot is the peripheral list at one moment.
type Snapshot struct {
	Targets  []target.Target // ordered by id
	Source   string          // which discovery method found them
	LoadedAt time.Time
}

// ByID finds a peripheral by its id.
func (s *Snapshot) ByID(id int64) (target.Target, bool) {
	i, ok := slices.BinarySearchFunc(s.Targets, id, func(t target.Target, id int64) int {
		switch {
		case t.ID < id:
			return -1
		case t.ID > id:
			return 1
		}
		return 0
	})
	if !ok {
		return target.Target{}, false
	}
	return s.Targets[i], true
}

// Find resolves a name, FQDN or id as people write them (case-insensitive).
func (s *Snapshot) Find(ref string) (target.Target, bool) {
	ref = strings.TrimSpace(ref)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		if t, ok := s.ByID(id); ok {
			return t, true
		}
	}
	for _, t := range s.Targets {
		if strings.EqualFold(t.Name, ref) || strings.EqualFold(t.FQDN, ref) {
			return t, true
		}
	}
	return target.Target{}, false
}

// Names lists the names of all peripherals, for messages that say what
// would have been valid.
func (s *Snapshot) Names() []string {
	out := make([]string, len(s.Targets))
	for i, t := range s.Targets {
		out[i] = t.String()
	}
	return out
}

// Loader discovers the peripherals, using the hub session key it is given.
type Loader func(ctx context.Context, hubKey string) (*Snapshot, error)

// Registry caches what a Loader finds.
type Registry struct {
	load    Loader
	ttl     time.Duration
	timeout time.Duration // of one background refresh
	log     *slog.Logger
	now     func() time.Time
	shared  Shared // nil: this process only

	group singleflight.Group
	mu    sync.RWMutex
	snap  *Snapshot
	err   error // of the last load, for readiness
	wg    sync.WaitGroup
	// refreshing keeps a stale snapshot from starting a goroutine per
	// request while one refresh is under way.
	refreshing atomic.Bool
}

// Options tune a Registry.
type Options struct {
	TTL            time.Duration // how long a snapshot is fresh; default 5m
	RefreshTimeout time.Duration // bound on a background refresh; default 30s
	Logger         *slog.Logger
	Now            func() time.Time // for tests
	// Shared, when set, shares snapshots with other replicas (shared.go).
	Shared Shared
}

// New returns a registry that loads with load.
func New(load Loader, o Options) *Registry {
	if o.TTL <= 0 {
		o.TTL = 5 * time.Minute
	}
	if o.RefreshTimeout <= 0 {
		o.RefreshTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Registry{load: load, ttl: o.TTL, timeout: o.RefreshTimeout, log: o.Logger, now: o.Now, shared: o.Shared}
}

// Snapshot returns the peripherals. A fresh cached snapshot is returned at
// once; a stale one is returned at once too while a refresh runs in the
// background; with none, the caller waits for a load, shared with every
// other caller waiting at the same time.
func (r *Registry) Snapshot(ctx context.Context, hubKey string) (*Snapshot, error) {
	r.mu.RLock()
	snap := r.snap
	r.mu.RUnlock()
	if snap != nil {
		if r.now().Sub(snap.LoadedAt) >= r.ttl {
			r.refreshAsync(hubKey)
		}
		return snap, nil
	}
	ch := r.group.DoChan("load", func() (any, error) {
		// Not the caller's ctx: the load is shared, and one caller leaving
		// must not fail it for the others.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		defer cancel()
		return r.loadAndStore(lctx, hubKey)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*Snapshot), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *Registry) refreshAsync(hubKey string) {
	if !r.refreshing.CompareAndSwap(false, true) {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer r.refreshing.Store(false)
		_, err, _ := r.group.Do("load", func() (any, error) {
			ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
			defer cancel()
			return r.loadAndStore(ctx, hubKey)
		})
		if err != nil {
			r.log.Warn("registry refresh failed; serving the cached list", "err", err)
		}
	}()
}

func (r *Registry) loadAndStore(ctx context.Context, hubKey string) (*Snapshot, error) {
	// A caller that saw no snapshot may get here just after another load
	// stored one (singleflight only joins loads still running): use it.
	r.mu.RLock()
	fresh := r.snap
	r.mu.RUnlock()
	if fresh != nil && r.now().Sub(fresh.LoadedAt) < r.ttl {
		return fresh, nil
	}
	if snap := r.loadShared(ctx); snap != nil {
		return snap, nil
	}
	var loaded *Snapshot
	defer func() { // after the lock below is released: no store I/O under it
		if loaded != nil && r.shared != nil {
			if err := r.shared.Store(ctx, loaded); err != nil {
				r.log.Warn("registry: sharing the snapshot failed", "err", err)
			}
		}
	}()
	start := r.now()
	snap, err := r.load(ctx, hubKey)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
	if err != nil {
		return nil, fmt.Errorf("discovering peripherals: %w", err)
	}
	slices.SortFunc(snap.Targets, func(a, b target.Target) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	if snap.LoadedAt.IsZero() {
		snap.LoadedAt = r.now()
	}
	r.snap = snap
	r.log.Info("registry loaded", "peripherals", len(snap.Targets), "source", snap.Source, "took", r.now().Sub(start))
	loaded = snap
	return snap, nil
}

// loadShared adopts another replica's snapshot while it is fresh.
func (r *Registry) loadShared(ctx context.Context) *Snapshot {
	if r.shared == nil {
		return nil
	}
	snap, err := r.shared.Load(ctx)
	if err != nil {
		r.log.Warn("registry: reading the shared snapshot failed; asking the hub", "err", err)
		return nil
	}
	if snap == nil || r.now().Sub(snap.LoadedAt) >= r.ttl {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snap, r.err = snap, nil
	return snap
}

// Follow drops the local snapshot whenever another replica stores a new
// one, in the background until ctx ends (Wait waits for it); it returns
// once subscribed, so no snapshot stored after it returns is missed. A
// no-op without Options.Shared.
func (r *Registry) Follow(ctx context.Context) {
	if r.shared == nil {
		return
	}
	done := r.shared.Follow(ctx, r.Invalidate)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		<-done
	}()
}

// Cached returns the cached snapshot without loading (nil if none).
func (r *Registry) Cached() *Snapshot {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.snap
}

// Invalidate drops the cached snapshot, so the next caller loads afresh.
func (r *Registry) Invalidate() {
	r.mu.Lock()
	r.snap = nil
	r.mu.Unlock()
}

// Ready reports whether a snapshot is loaded, with the last load's error.
func (r *Registry) Ready() (bool, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.snap != nil, r.err
}

// Wait waits for background refreshes (on shutdown, and in tests).
func (r *Registry) Wait() { r.wg.Wait() }
