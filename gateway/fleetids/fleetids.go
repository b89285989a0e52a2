// Package fleetids gives objects that each Uyuni server numbers on its own
// (systems, actions) one gateway-wide id, so a client that addresses many
// servers at once sees every object once, under an id no other object
// has, and the gateway can send an id back to the server that owns it.
//
// Gateway-wide ids are allocated from Base up to math.MaxInt32: they fit
// XML-RPC's i4, which spacecmd and Uyuni use, and lie above anything Uyuni
// allocates itself (system ids start at 1000010000 and grow by one per
// registration; action ids are a sequence from 1), so a gateway-wide id
// is never mistaken for a server's own. An id, once given, is never given
// to another object.
//
// With a shared store (Redis) the mapping is shared by every replica and
// survives restarts: a counter hands out blocks of ids, "fleetids:{kind}:
// {target}" maps a server's own ids to gateway-wide ones (HSETNX, so two
// replicas meeting a new system agree on the first id written), and
// "fleetids:r:{id}" maps back. Without one it lives in this process only.
// Either way each process keeps what it has seen in memory: a mapping
// never changes, so the cache is never stale, and it grows with the
// fleet's objects, not with traffic.
package fleetids

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/hubgw/hubgw/cache"
)

// Base is the first gateway-wide id.
const Base = 2_000_000_000

// block is how many ids a process takes from the shared counter at once.
const block = 256

// Ref names one server's own object.
type Ref struct {
	Kind   string // "system" or "action"
	Target string // target.Target.Key()
	Local  int64  // the server's own id
}

// Space maps server-local ids to gateway-wide ones and back.
type Space struct {
	st cache.Store // nil: this process only

	mu       sync.Mutex
	fwd      map[string]map[int64]int64 // kind/target → local → global
	rev      map[int64]Ref
	next     int64 // next id of the block in hand
	blockEnd int64 // end (exclusive) of the block in hand
}

// New returns a space; st is used when it is shared (Redis), else the
// mapping lives in this process.
func New(st cache.Store) *Space {
	s := &Space{fwd: map[string]map[int64]int64{}, rev: map[int64]Ref{}, next: Base, blockEnd: math.MaxInt32 + 1}
	if st != nil && st.Shared() {
		s.st = st
		s.blockEnd = s.next // take a block from the store first
	}
	return s
}

// IsGlobal reports whether id is in the gateway-wide range.
func IsGlobal(id int64) bool { return id >= Base && id <= math.MaxInt32 }

func hashKey(kind, target string) string { return "fleetids:{" + kind + ":" + target + "}" }
func revKey(id int64) string             { return "fleetids:r:" + strconv.FormatInt(id, 10) }

// Globals returns the gateway-wide ids of a target's objects, giving new
// ones to objects seen for the first time.
func (s *Space) Globals(ctx context.Context, kind, target string, locals []int64) ([]int64, error) {
	out := make([]int64, len(locals))
	missing := s.known(kind, target, locals, out)
	if len(missing) == 0 {
		return out, nil
	}
	if s.st != nil {
		if err := s.load(ctx, kind, target); err != nil {
			return nil, err
		}
		if missing = s.known(kind, target, locals, out); len(missing) == 0 {
			return out, nil
		}
	}
	if err := s.allocate(ctx, kind, target, missing); err != nil {
		return nil, err
	}
	s.known(kind, target, locals, out)
	return out, nil
}

// known fills out with the ids this process knows and returns the
// indexes of the others, without duplicates.
func (s *Space) known(kind, target string, locals, out []int64) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.fwd[kind+"/"+target]
	var missing []int64
	seen := map[int64]bool{}
	for i, l := range locals {
		if g, ok := m[l]; ok {
			out[i] = g
		} else if !seen[l] {
			seen[l] = true
			missing = append(missing, l)
		}
	}
	return missing
}

// load takes the shared mapping of one target into this process.
func (s *Space) load(ctx context.Context, kind, target string) error {
	all, err := s.st.HGetAll(ctx, hashKey(kind, target))
	if errors.Is(err, cache.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fleetids: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for f, v := range all {
		l, err1 := strconv.ParseInt(f, 10, 64)
		g, err2 := strconv.ParseInt(string(v), 10, 64)
		if err1 == nil && err2 == nil {
			s.remember(Ref{Kind: kind, Target: target, Local: l}, g)
		}
	}
	return nil
}

func (s *Space) remember(r Ref, g int64) {
	k := r.Kind + "/" + r.Target
	if s.fwd[k] == nil {
		s.fwd[k] = map[int64]int64{}
	}
	s.fwd[k][r.Local] = g
	s.rev[g] = r
}

// allocate gives each local id a new gateway-wide id. With a shared store
// the reverse mapping is written before the forward one, so an id that a
// client can have seen always maps back; an id whose forward write lost to
// another replica's is left unused.
func (s *Space) allocate(ctx context.Context, kind, target string, locals []int64) error {
	ids, err := s.take(ctx, len(locals))
	if err != nil {
		return err
	}
	if s.st == nil {
		s.mu.Lock()
		for i, l := range locals {
			s.remember(Ref{Kind: kind, Target: target, Local: l}, ids[i])
		}
		s.mu.Unlock()
		return nil
	}
	err = s.st.Batch(ctx, func(b cache.Batch) {
		for i, l := range locals {
			b.Set(revKey(ids[i]), []byte(kind+" "+target+" "+strconv.FormatInt(l, 10)), 0)
		}
	})
	if err != nil {
		return fmt.Errorf("fleetids: %w", err)
	}
	for i, l := range locals {
		if _, err := s.st.HSetNX(ctx, hashKey(kind, target), strconv.FormatInt(l, 10), []byte(strconv.FormatInt(ids[i], 10))); err != nil {
			return fmt.Errorf("fleetids: %w", err)
		}
	}
	return s.load(ctx, kind, target) // the winners' ids, ours or another replica's
}

// take hands out n new ids.
func (s *Space) take(ctx context.Context, n int) ([]int64, error) {
	out := make([]int64, 0, n)
	for len(out) < n {
		s.mu.Lock()
		for s.next < s.blockEnd && len(out) < n {
			out = append(out, s.next)
			s.next++
		}
		s.mu.Unlock()
		if len(out) == n {
			break
		}
		if s.st == nil {
			return nil, errors.New("fleetids: the gateway-wide id range is used up")
		}
		start, err := s.reserve(ctx, max(block, n-len(out)))
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.next, s.blockEnd = start, start+int64(max(block, n-len(out)))
		s.mu.Unlock()
	}
	return out, nil
}

// reserve takes [start, start+n) from the shared counter.
func (s *Space) reserve(ctx context.Context, n int) (int64, error) {
	const counter = "fleetids:next"
	if _, err := s.st.SetNX(ctx, counter, []byte(strconv.Itoa(Base)), 0); err != nil {
		return 0, fmt.Errorf("fleetids: %w", err)
	}
	var start int64
	err := s.st.Update(ctx, counter, 0, func(old []byte) ([]byte, error) {
		v, err := strconv.ParseInt(string(old), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("fleetids: counter %q: %w", old, err)
		}
		if v+int64(n) > math.MaxInt32+1 {
			return nil, errors.New("fleetids: the gateway-wide id range is used up")
		}
		start = v
		return []byte(strconv.FormatInt(v+int64(n), 10)), nil
	})
	if err != nil {
		return 0, err
	}
	return start, nil
}

// Local returns the object a gateway-wide id stands for; ok is false for
// an id the gateway never gave.
func (s *Space) Local(ctx context.Context, id int64) (Ref, bool, error) {
	s.mu.Lock()
	r, ok := s.rev[id]
	s.mu.Unlock()
	if ok || s.st == nil || !IsGlobal(id) {
		return r, ok, nil
	}
	b, err := s.st.Get(ctx, revKey(id))
	if errors.Is(err, cache.ErrNotFound) {
		return Ref{}, false, nil
	}
	if err != nil {
		return Ref{}, false, fmt.Errorf("fleetids: %w", err)
	}
	parts := strings.Fields(string(b))
	if len(parts) != 3 {
		return Ref{}, false, fmt.Errorf("fleetids: id %d maps to %q", id, b)
	}
	l, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return Ref{}, false, fmt.Errorf("fleetids: id %d maps to %q", id, b)
	}
	r = Ref{Kind: parts[0], Target: parts[1], Local: l}
	// The forward mapping decides: an id that lost a race maps nowhere.
	if err := s.load(ctx, r.Kind, r.Target); err != nil {
		return Ref{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fwd[r.Kind+"/"+r.Target][r.Local] != id {
		return Ref{}, false, nil
	}
	return r, true, nil
}
