// Package cache is hubgw's shared state: one Store interface with two
// implementations. Memory (the default) keeps everything in this process,
// bounded in entries and by each key's time to live; Redis (go-redis's
// UniversalClient: standalone, TLS, sentinel or cluster, chosen by the URL)
// lets many replicas share sessions, the peripheral registry, job records
// and cached reads.
//
// The interface is a small subset of Redis's data model (strings, hashes,
// sorted sets, pub/sub) because that is what the consumers need and what
// Redis does in one round trip; Memory implements the same semantics.
// Every key and channel is prefixed (Options.Prefix), so several gateways
// or tests can share one Redis. Keys that must live on one cluster slot
// use a hash tag ("job:{id}").
package cache

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound: the key does not exist or has expired.
	ErrNotFound = errors.New("cache: not found")
	// ErrUnavailable wraps every failure to reach the store (connection
	// refused, timeout, a Redis that is loading or failing over), so
	// callers can tell "the state store is down" from their own errors.
	ErrUnavailable = errors.New("state store unavailable")
	// ErrConflict: an Update kept losing to concurrent writers.
	ErrConflict = errors.New("cache: too many concurrent updates")
)

// Store is shared state. Values are opaque bytes; callers encode them.
// A ttl of 0 means no expiry where a key is created and "keep the current
// one" where it is replaced (Update).
type Store interface {
	// Get returns a key's value, ErrNotFound when it is absent or expired.
	Get(ctx context.Context, key string) ([]byte, error)
	// GetEx is Get that also resets the key's time to live to ttl (a
	// sliding expiry in one round trip).
	GetEx(ctx context.Context, key string, ttl time.Duration) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetNX sets the key only if it does not exist and reports whether it did.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Update replaces a key's value with fn(old) atomically: no other write
	// to the key happens between the read and the write. fn may be called
	// more than once (optimistic concurrency), so it must only compute.
	// An absent key is ErrNotFound and fn is not called; an error from fn
	// aborts the update and is returned as is.
	Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) error
	Delete(ctx context.Context, keys ...string) error
	// HSetNX sets a hash field only if it does not exist.
	HSetNX(ctx context.Context, key, field string, value []byte) (bool, error)
	// HSetIf sets hash fields only if every guard field holds exactly its
	// guard value (a compare-and-set over several fields, in one step), and
	// reports whether it did. An absent key or guard field fails the guard.
	// It writes only the fields given, so a record kept as a hash costs
	// what changed, not what it holds (rollouts, one field per server).
	HSetIf(ctx context.Context, key string, guards, fields map[string][]byte) (bool, error)
	// HGetAll returns every field of a hash, ErrNotFound when there is none.
	HGetAll(ctx context.Context, key string) (map[string][]byte, error)
	// ZRevRange returns up to n members of a sorted set, highest score first.
	ZRevRange(ctx context.Context, key string, n int) ([]string, error)
	// Batch sends several writes in one round trip. It is not a
	// transaction: each write is atomic on its own.
	Batch(ctx context.Context, fn func(Batch)) error
	// Publish sends msg to every current subscriber of channel, in every
	// process sharing the store.
	Publish(ctx context.Context, channel string, msg []byte) error
	// Subscribe receives what is published on channel until the
	// subscription is closed. Messages published while the store is
	// unreachable are lost: subscribers must treat them as hints.
	Subscribe(ctx context.Context, channel string) (Subscription, error)
	// Ping reports whether the store answers (readiness).
	Ping(ctx context.Context) error
	// Shared reports whether other processes see this store (Redis).
	Shared() bool
	Close() error
}

// Batch collects writes for Store.Batch.
type Batch interface {
	Set(key string, value []byte, ttl time.Duration)
	// HSet sets hash fields and, when ttl > 0, the hash's time to live.
	HSet(key string, ttl time.Duration, fields map[string][]byte)
	// ZAdd adds member with score to a sorted set and, when ttl > 0, sets
	// the set's time to live.
	ZAdd(key string, ttl time.Duration, score float64, member string)
	// ZRemBelow removes the members scored below min.
	ZRemBelow(key string, min float64)
	// ZRem removes members from a sorted set.
	ZRem(key string, members ...string)
	Expire(key string, ttl time.Duration)
	Delete(key string)
}

// Subscription delivers published messages.
type Subscription interface {
	C() <-chan []byte
	Close() error
}
