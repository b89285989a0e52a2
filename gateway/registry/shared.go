package registry

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/hubgw/hubgw/cache"
)

// Shared lets replicas share one snapshot, so the hub is asked once for
// all of them and they agree on the peripherals: a replica that loads
// stores the snapshot and says so; the others drop their copy and pick up
// the stored one on next use.
type Shared interface {
	// Load returns the stored snapshot, nil when there is none.
	Load(ctx context.Context) (*Snapshot, error)
	// Store saves snap and tells the other replicas.
	Store(ctx context.Context, snap *Snapshot) error
	// Follow subscribes before it returns, so no later Store is missed,
	// then calls changed whenever another replica stored a snapshot, in
	// the background until ctx ends; done closes when it has stopped.
	Follow(ctx context.Context, changed func()) (done <-chan struct{})
}

// StoreShared is Shared on a cache.Store.
type StoreShared struct {
	st      cache.Store
	ttl     time.Duration
	replica string
	log     *slog.Logger
}

// NewStoreShared keeps the snapshot in st for ttl (at least twice the
// registry's TTL, so a stale copy is there to serve while one replica
// refreshes). replica names this process in invalidation messages, so it
// ignores its own.
func NewStoreShared(st cache.Store, ttl time.Duration, replica string, log *slog.Logger) *StoreShared {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &StoreShared{st: st, ttl: ttl, replica: replica, log: log}
}

const (
	snapshotKey     = "registry:snapshot"
	snapshotChannel = "registry:changed"
)

func (s *StoreShared) Load(ctx context.Context) (*Snapshot, error) {
	b, err := s.st.Get(ctx, snapshotKey)
	if errors.Is(err, cache.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var snap Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, err
	}
	return &snap, nil
}

func (s *StoreShared) Store(ctx context.Context, snap *Snapshot) error {
	b, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	if err := s.st.Set(ctx, snapshotKey, b, s.ttl); err != nil {
		return err
	}
	return s.st.Publish(ctx, snapshotChannel, []byte(s.replica))
}

func (s *StoreShared) Follow(ctx context.Context, changed func()) <-chan struct{} {
	done := make(chan struct{})
	sub, err := s.st.Subscribe(ctx, snapshotChannel)
	if err != nil {
		s.log.Warn("registry: not following other replicas' snapshots", "err", err)
		close(done)
		return done
	}
	go func() {
		defer close(done)
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-sub.C():
				if !ok {
					return
				}
				if string(m) != s.replica {
					changed()
				}
			}
		}
	}()
	return done
}
