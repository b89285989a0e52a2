package openapi

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubgw/hubgw/gateway/catalog"
)

// Fetch reads the hub's API: api.getVersion and api.getApiCallList
// (decoded). api.getApiCallList needs a session, so whoever holds one
// fetches.
type Fetch func(ctx context.Context) (version string, callList any, err error)

// Live is the document as it follows the hub: built from the catalog at
// first, then from the hub's own API list whenever that changes (by
// api.getVersion and a hash of the signatures).
type Live struct {
	cat  *catalog.Catalog
	opts Options
	log  *slog.Logger
	now  func() time.Time

	initOnce sync.Once
	initErr  error
	cur      atomic.Pointer[Spec]
	tried    atomic.Int64 // unix nanoseconds of the last look at the hub
	failed   atomic.Bool  // and it failed
	mu       sync.Mutex   // one refresh at a time
	busy     atomic.Bool  // a background refresh is running
	wg       sync.WaitGroup
}

// NewLive returns the document's life; the catalog's document, served
// until the hub's own API list has been read, is built on first use (a
// gateway used only over XML-RPC never pays for it).
func NewLive(cat *catalog.Catalog, opts Options, log *slog.Logger) *Live {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Live{cat: cat, opts: opts, log: log, now: time.Now}
}

// Current is the document in force; nil only if the catalog's own
// document could not be built (Err says why).
func (l *Live) Current() *Spec {
	if s := l.cur.Load(); s != nil {
		return s
	}
	l.initOnce.Do(func() {
		if l.cur.Load() != nil {
			return
		}
		s, err := Build(context.Background(), FromCatalog(l.cat, l.opts))
		if err != nil {
			l.initErr = err
			return
		}
		l.cur.CompareAndSwap(nil, s) // a refresh may have been quicker
	})
	return l.cur.Load()
}

// Err is why Current is nil.
func (l *Live) Err() error { return l.initErr }

// Due reports whether the hub's API should be looked at again: never
// yet, or not for every; after a failure, not for a minute at most, so
// a hub that refuses does not get asked on every request.
func (l *Live) Due(every time.Duration) bool {
	last := l.tried.Load()
	if last == 0 {
		return true
	}
	if l.failed.Load() {
		every = min(every, time.Minute)
	}
	return l.now().Sub(time.Unix(0, last)) >= every
}

// Refresh reads the hub's API with fetch and, when it differs from the
// document's, builds and installs a new document. It reports whether the
// document changed.
func (l *Live) Refresh(ctx context.Context, fetch Fetch) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tried.Store(l.now().UnixNano())
	l.failed.Store(true) // until it has worked
	version, list, err := fetch(ctx)
	if err != nil {
		return false, fmt.Errorf("openapi: reading the hub's API: %w", err)
	}
	m, err := FromCallList(list, version, l.cat, l.opts)
	if err != nil {
		return false, err
	}
	if cur := l.cur.Load(); cur != nil && cur.Model.Source == m.Source && cur.Model.Version == m.Version && cur.Model.Hash == m.Hash {
		l.failed.Store(false)
		return false, nil
	}
	s, err := Build(ctx, m)
	if err != nil {
		return false, err
	}
	l.failed.Store(false)
	l.cur.Store(s)
	l.log.InfoContext(ctx, "openapi document rebuilt from the hub's API", "api_version", m.Version, "methods", m.Len(), "hash", m.Hash[:16])
	return true, nil
}

// RefreshAsync runs Refresh in the background, bounded by ctx and
// timeout, unless one is running; failures are logged (the current
// document stays). Wait waits for it.
func (l *Live) RefreshAsync(ctx context.Context, timeout time.Duration, fetch Fetch) {
	if !l.busy.CompareAndSwap(false, true) {
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer l.busy.Store(false)
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if _, err := l.Refresh(ctx, fetch); err != nil {
			l.log.Warn("openapi document not refreshed", "err", err)
		}
	}()
}

// Wait waits for background refreshes.
func (l *Live) Wait() { l.wg.Wait() }
