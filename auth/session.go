// Package auth holds hubgw's gateway sessions: who logged in, in which mode,
// and the session keys the gateway holds for them on the hub and on each
// peripheral. Sessions live behind Store, so one process can keep them in
// memory and many replicas can share them (cache/).
package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"
)

// Mode is how a session authenticates to peripherals (hub-xmlrpc-api's modes).
type Mode string

const (
	// Manual: the client attaches to peripherals with credentials per server.
	Manual Mode = "manual"
	// Relay: the gateway reuses the hub credentials for each peripheral.
	Relay Mode = "relay"
	// Autoconnect: like relay, and every peripheral the user may see is
	// attached at login.
	Autoconnect Mode = "autoconnect"
)

// Session is one client's gateway session.
type Session struct {
	ID     string // what the client holds; never an upstream key
	User   string
	Mode   Mode
	HubKey string
	// Keys maps a target key (target.Target.Key) to that server's session key.
	Keys map[string]string
	// Logins maps a target key ("hub" too) to the user name its key was
	// obtained as: the service account configured for that server, the
	// relayed user, or the user given when attaching. Uyuni answers by
	// that user's org and permissions, so a cached answer is keyed by it
	// (readcache). Missing for sessions stored before it was recorded.
	Logins map[string]string
	// Secret is what relay and autoconnect need to log in again by
	// themselves; empty in manual mode. Never logged.
	Secret  []byte
	Created time.Time
	Used    time.Time
}

// Clone returns a deep copy, so callers never share a session's maps.
func (s *Session) Clone() *Session {
	c := *s
	c.Keys = maps.Clone(s.Keys)
	if c.Keys == nil {
		c.Keys = map[string]string{}
	}
	c.Logins = maps.Clone(s.Logins)
	c.Secret = append([]byte(nil), s.Secret...)
	return &c
}

// LogValue keeps keys and secrets out of logs whatever a caller logs.
func (s *Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", s.User), slog.String("mode", string(s.Mode)), slog.Int("attached", len(s.Keys)))
}

// ErrNoSession is returned for an unknown or expired session.
var ErrNoSession = errors.New("no such gateway session (unknown or expired)")

// KeyOf returns v as a gateway session id when it has the shape of one:
// a string of "gw" and 64 hex digits (NewID), white space around it
// tolerated (spacecmd sends its cached "key\n"). It says nothing of whether
// the session exists; it is the one test of "this argument is a gateway
// session key" (an integer there would reach Uyuni's translator, which
// turns 1 into the administrator).
func KeyOf(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	s = strings.TrimSpace(s)
	if len(s) != 66 || s[:2] != "gw" {
		return "", false
	}
	for _, c := range s[2:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return s, true
}

// NewID returns an unguessable session id: 256 random bits, hex, so it has
// no ':' or white space (spacecmd caches sessions as "user:key").
func NewID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "gw" + hex.EncodeToString(b[:])
}

// Store keeps sessions. Implementations must be safe for concurrent use and
// hand out copies, never shared state.
type Store interface {
	Create(ctx context.Context, s *Session) error
	// Get returns the session and marks it used now; ErrNoSession when unknown or expired.
	Get(ctx context.Context, id string) (*Session, error)
	// Update applies fn to the stored session atomically.
	Update(ctx context.Context, id string, fn func(*Session) error) error
	Delete(ctx context.Context, id string) error
}

// Expiry bounds a session's life.
type Expiry struct {
	Idle     time.Duration // since last use; default 30m
	Absolute time.Duration // since creation; default 12h
}

func (e Expiry) withDefaults() Expiry {
	if e.Idle <= 0 {
		e.Idle = 30 * time.Minute
	}
	if e.Absolute <= 0 {
		e.Absolute = 12 * time.Hour
	}
	return e
}

func (e Expiry) expired(s *Session, now time.Time) bool {
	return now.Sub(s.Used) >= e.Idle || now.Sub(s.Created) >= e.Absolute
}

// MemoryStore keeps sessions in this process, bounded in number.
type MemoryStore struct {
	exp Expiry
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[string]*Session
}

// NewMemoryStore returns a store of at most max sessions (default 100000);
// when full, expired sessions are swept and then the least recently used
// one is dropped.
func NewMemoryStore(exp Expiry, max int, now func() time.Time) *MemoryStore {
	if max <= 0 {
		max = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{exp: exp.withDefaults(), max: max, now: now, m: map[string]*Session{}}
}

func (m *MemoryStore) Create(_ context.Context, s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if len(m.m) >= m.max {
		m.evict(now)
	}
	c := s.Clone()
	if c.Created.IsZero() {
		c.Created = now
	}
	if c.Used.IsZero() {
		c.Used = now
	}
	m.m[c.ID] = c
	return nil
}

// evict sweeps expired sessions, then drops the least recently used one if
// still full.
func (m *MemoryStore) evict(now time.Time) {
	var oldest *Session
	for id, s := range m.m {
		if m.exp.expired(s, now) {
			delete(m.m, id)
			continue
		}
		if oldest == nil || s.Used.Before(oldest.Used) {
			oldest = s
		}
	}
	if len(m.m) >= m.max && oldest != nil {
		delete(m.m, oldest.ID)
	}
}

func (m *MemoryStore) live(id string) (*Session, error) {
	s := m.m[id]
	if s == nil {
		return nil, ErrNoSession
	}
	now := m.now()
	if m.exp.expired(s, now) {
		delete(m.m, id)
		return nil, ErrNoSession
	}
	s.Used = now
	return s, nil
}

func (m *MemoryStore) Get(_ context.Context, id string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.live(id)
	if err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (m *MemoryStore) Update(_ context.Context, id string, fn func(*Session) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.live(id)
	if err != nil {
		return err
	}
	c := s.Clone()
	if err := fn(c); err != nil {
		return err
	}
	c.ID = id
	m.m[id] = c
	return nil
}

func (m *MemoryStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, id)
	return nil
}

// Len reports how many sessions are held (expired ones included until swept).
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}
