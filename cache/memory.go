package cache

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// MemoryOptions tune a Memory store.
type MemoryOptions struct {
	// MaxEntries bounds the keys held (a hash or sorted set is one key);
	// the least recently used key goes first. Default 100000.
	MaxEntries int
	Now        func() time.Time // for tests
}

// Memory is a Store in this process: nothing to install, nothing shared.
// It is bounded by MaxEntries and by each key's time to live; expired keys
// are dropped when read and, from the cold end of the LRU list, on writes.
type Memory struct {
	now func() time.Time

	mu   sync.Mutex
	lru  *simplelru.LRU[string, *entry]
	subs map[string]map[*memorySub]struct{}
}

// entry is one key; exactly one of str, hash and zset is in use.
type entry struct {
	str  []byte
	hash map[string][]byte
	zset map[string]float64
	exp  time.Time // zero: no expiry
}

// NewMemory returns an empty Memory store.
func NewMemory(o MemoryOptions) *Memory {
	if o.MaxEntries <= 0 {
		o.MaxEntries = 100_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// The LRU list comes from golang-lru; expiry is per key here because
	// keys have different lifetimes (a cached read, a job record).
	l, _ := simplelru.NewLRU[string, *entry](o.MaxEntries, nil) // errors only for size <= 0
	return &Memory{now: o.Now, lru: l, subs: map[string]map[*memorySub]struct{}{}}
}

func (m *Memory) expiry(ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return m.now().Add(ttl)
}

// live returns a key's entry when it exists and has not expired; callers
// hold mu.
func (m *Memory) live(key string) *entry {
	e, ok := m.lru.Get(key)
	if !ok {
		return nil
	}
	if !e.exp.IsZero() && !m.now().Before(e.exp) {
		m.lru.Remove(key)
		return nil
	}
	return e
}

// put stores e under key, first dropping a few expired keys from the cold
// end so that they, not live ones, make room.
func (m *Memory) put(key string, e *entry) {
	now := m.now()
	for range 8 {
		k, old, ok := m.lru.GetOldest()
		if !ok || old.exp.IsZero() || now.Before(old.exp) {
			break
		}
		m.lru.Remove(k)
	}
	m.lru.Add(key, e)
}

func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.live(key)
	if e == nil || e.str == nil {
		return nil, ErrNotFound
	}
	return slices.Clone(e.str), nil
}

func (m *Memory) GetEx(_ context.Context, key string, ttl time.Duration) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.live(key)
	if e == nil || e.str == nil {
		return nil, ErrNotFound
	}
	e.exp = m.expiry(ttl)
	return slices.Clone(e.str), nil
}

func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(key, &entry{str: cloneBytes(value), exp: m.expiry(ttl)})
	return nil
}

func (m *Memory) SetNX(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live(key) != nil {
		return false, nil
	}
	m.put(key, &entry{str: cloneBytes(value), exp: m.expiry(ttl)})
	return true, nil
}

func (m *Memory) Update(_ context.Context, key string, ttl time.Duration, fn func([]byte) ([]byte, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.live(key)
	if e == nil || e.str == nil {
		return ErrNotFound
	}
	v, err := fn(slices.Clone(e.str))
	if err != nil {
		return err
	}
	e.str = cloneBytes(v)
	if ttl > 0 {
		e.exp = m.expiry(ttl)
	}
	return nil
}

func (m *Memory) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		m.lru.Remove(k)
	}
	return nil
}

func (m *Memory) HSetNX(_ context.Context, key, field string, value []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.live(key)
	if e == nil || e.hash == nil {
		e = &entry{hash: map[string][]byte{}}
		m.put(key, e)
	}
	if _, ok := e.hash[field]; ok {
		return false, nil
	}
	e.hash[field] = cloneBytes(value)
	return true, nil
}

func (m *Memory) HSetIf(_ context.Context, key string, guards, fields map[string][]byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.live(key)
	if e == nil || e.hash == nil {
		return false, nil
	}
	for k, want := range guards {
		if have, ok := e.hash[k]; !ok || string(have) != string(want) {
			return false, nil
		}
	}
	for k, v := range fields {
		e.hash[k] = cloneBytes(v)
	}
	return true, nil
}

func (m *Memory) HGetAll(_ context.Context, key string) (map[string][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.live(key)
	if e == nil || len(e.hash) == 0 {
		return nil, ErrNotFound
	}
	out := make(map[string][]byte, len(e.hash))
	for k, v := range e.hash {
		out[k] = slices.Clone(v)
	}
	return out, nil
}

func (m *Memory) ZRevRange(_ context.Context, key string, n int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.live(key)
	if e == nil || e.zset == nil || n <= 0 {
		return nil, nil
	}
	members := slices.Collect(maps.Keys(e.zset))
	// Redis orders equal scores by member, descending in ZREVRANGE.
	slices.SortFunc(members, func(a, b string) int {
		if c := cmp.Compare(e.zset[b], e.zset[a]); c != 0 {
			return c
		}
		return cmp.Compare(b, a)
	})
	return members[:min(n, len(members))], nil
}

func (m *Memory) Batch(_ context.Context, fn func(Batch)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(memoryBatch{m})
	return nil
}

// memoryBatch applies each write at once; Batch holds mu.
type memoryBatch struct{ m *Memory }

func (b memoryBatch) Set(key string, value []byte, ttl time.Duration) {
	b.m.put(key, &entry{str: cloneBytes(value), exp: b.m.expiry(ttl)})
}

func (b memoryBatch) HSet(key string, ttl time.Duration, fields map[string][]byte) {
	e := b.m.live(key)
	if e == nil || e.hash == nil {
		e = &entry{hash: make(map[string][]byte, len(fields))}
		b.m.put(key, e)
	}
	for k, v := range fields {
		e.hash[k] = cloneBytes(v)
	}
	if ttl > 0 {
		e.exp = b.m.expiry(ttl)
	}
}

func (b memoryBatch) ZAdd(key string, ttl time.Duration, score float64, member string) {
	e := b.m.live(key)
	if e == nil || e.zset == nil {
		e = &entry{zset: map[string]float64{}}
		b.m.put(key, e)
	}
	e.zset[member] = score
	if ttl > 0 {
		e.exp = b.m.expiry(ttl)
	}
}

func (b memoryBatch) ZRemBelow(key string, min float64) {
	if e := b.m.live(key); e != nil && e.zset != nil {
		maps.DeleteFunc(e.zset, func(_ string, s float64) bool { return s < min })
	}
}

func (b memoryBatch) ZRem(key string, members ...string) {
	if e := b.m.live(key); e != nil && e.zset != nil {
		for _, m := range members {
			delete(e.zset, m)
		}
	}
}

func (b memoryBatch) Expire(key string, ttl time.Duration) {
	if e := b.m.live(key); e != nil {
		e.exp = b.m.expiry(ttl)
	}
}

func (b memoryBatch) Delete(key string) { b.m.lru.Remove(key) }

// memorySub is one subscriber; messages that find its buffer full are
// dropped, as Redis drops them for a client that cannot keep up.
type memorySub struct {
	m       *Memory
	channel string
	c       chan []byte
	once    sync.Once
}

func (s *memorySub) C() <-chan []byte { return s.c }

func (s *memorySub) Close() error {
	s.once.Do(func() {
		s.m.mu.Lock()
		delete(s.m.subs[s.channel], s)
		s.m.mu.Unlock()
		close(s.c)
	})
	return nil
}

func (m *Memory) Publish(_ context.Context, channel string, msg []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.subs[channel] {
		select {
		case s.c <- cloneBytes(msg):
		default:
		}
	}
	return nil
}

func (m *Memory) Subscribe(_ context.Context, channel string) (Subscription, error) {
	s := &memorySub{m: m, channel: channel, c: make(chan []byte, 64)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subs[channel] == nil {
		m.subs[channel] = map[*memorySub]struct{}{}
	}
	m.subs[channel][s] = struct{}{}
	return s, nil
}

func (m *Memory) Ping(context.Context) error { return nil }
func (m *Memory) Shared() bool               { return false }
func (m *Memory) Close() error               { return nil }

// Len reports how many keys are held (expired ones included until dropped).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// cloneBytes copies b, keeping an empty value distinct from an absent one.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return slices.Clone(b)
}
