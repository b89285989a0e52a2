// Package readcache is an opt-in read-through cache for idempotent Uyuni
// calls, as a fanout.Middleware: answers of the methods on an allowlist
// are kept for a time of their own in the shared store (so every replica
// benefits), and concurrent misses for the same answer are collapsed into
// one upstream call. An answer is kept per target and per user the target
// knows the caller as (fanout.Call.User: a service account, a relayed
// user, or the user given when attaching), since Uyuni answers by that
// user's org and permissions: two gateway users reaching a server as one
// account share its answers; one gateway user reaching it as two
// accounts (two sessions) does not.
//
// Invalidation is by generation: every (target, namespace) pair has a
// random generation that is part of each entry's key. When the gateway
// forwards a write (a method that is not read-only) in a namespace to a
// target, it draws a new generation there, and every cached answer of
// that namespace on that target is orphaned at once, in every replica;
// orphans expire by their TTL. The namespace is a method's first
// component ("channel" for channel.software.create), so a write to
// channel.software.* also refreshes channel.listAllChannels. Changes made
// around the gateway (the web UI, another API client) are only picked up
// when entries expire: keep TTLs short.
package readcache

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Options tune a Cache.
type Options struct {
	// TTL is the allowlist: the methods ("system.listSystems") whose
	// answers are cached, each with its time to live.
	TTL map[string]time.Duration
	// Encode and Decode turn a value into bytes for the store and back
	// (the XML-RPC edge stores its raw value bytes). Required.
	Encode func(v any) ([]byte, error)
	Decode func(b []byte) (any, error)
	Logger *slog.Logger
}

// Cache is the read-through cache.
type Cache struct {
	st     cache.Store
	o      Options
	genTTL time.Duration
	spaces map[string]bool // namespaces with a cached method: only their writes invalidate
	group  singleflight.Group

	hits, misses atomic.Int64
}

// New returns a cache on st.
func New(st cache.Store, o Options) (*Cache, error) {
	if o.Encode == nil || o.Decode == nil {
		return nil, errors.New("readcache: Encode and Decode are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	longest := time.Duration(0)
	spaces := map[string]bool{}
	for m, ttl := range o.TTL {
		spaces[namespace(m)] = true
		if ttl <= 0 {
			return nil, fmt.Errorf("readcache: %s: the TTL must be positive", m)
		}
		longest = max(longest, ttl)
	}
	// A generation must outlive the entries made under it; when one does
	// expire, readers draw a new one, which only costs misses.
	return &Cache{st: st, o: o, genTTL: 2*longest + time.Hour, spaces: spaces}, nil
}

// ParseSpec reads a --read-cache setting: comma-separated method=ttl
// pairs, e.g. "system.listSystems=30s,channel.listAllChannels=5m". Every
// method must be read-only.
func ParseSpec(spec string, readOnly func(method string) bool) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	var errs []error
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		m, d, ok := strings.Cut(item, "=")
		m = strings.TrimSpace(m)
		ttl, err := time.ParseDuration(strings.TrimSpace(d))
		switch {
		case !ok || m == "":
			errs = append(errs, fmt.Errorf("read-cache %q: want method=ttl, e.g. system.listSystems=30s", item))
		case err != nil || ttl <= 0:
			errs = append(errs, fmt.Errorf("read-cache %q: the TTL must be a positive duration such as 30s", item))
		case !strings.Contains(m, "."):
			errs = append(errs, fmt.Errorf("read-cache %q: the method must be namespace.method", item))
		case readOnly != nil && !readOnly(m):
			errs = append(errs, fmt.Errorf("read-cache %q: %s is not a read-only method, so its answers cannot be cached", item, m))
		default:
			out[m] = ttl
		}
	}
	return out, errors.Join(errs...)
}

// Stats reports hits and misses since start.
func (c *Cache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

func namespace(method string) string {
	ns, _, _ := strings.Cut(method, ".")
	return ns
}

// Middleware caches allowlisted reads and invalidates on writes.
func (c *Cache) Middleware() fanout.Middleware {
	return func(next fanout.Invoker) fanout.Invoker {
		return func(ctx context.Context, call fanout.Call) fanout.Result {
			ns := namespace(call.Method)
			if !call.ReadOnly {
				r := next(ctx, call)
				// After the write, whatever its outcome (a transport error
				// may hide a write that happened): a read that starts
				// after this sees the new generation and the new data.
				if c.spaces[ns] {
					c.invalidate(ctx, call.Target.Key(), ns)
				}
				return r
			}
			ttl, ok := c.o.TTL[call.Method]
			if !ok || call.User == "" {
				return next(ctx, call)
			}
			return c.read(ctx, call, ns, ttl, next)
		}
	}
}

func (c *Cache) read(ctx context.Context, call fanout.Call, ns string, ttl time.Duration, next fanout.Invoker) fanout.Result {
	start := time.Now()
	gen, err := c.generation(ctx, call.Target.Key(), ns)
	if err != nil {
		// The cache is an optimisation: without it the call still works.
		c.o.Logger.WarnContext(ctx, "read cache unavailable; calling through", "err", err)
		return next(ctx, call)
	}
	key := entryKey(call, ns, gen)
	if b, err := c.st.Get(ctx, key); err == nil {
		if v, err := c.o.Decode(b); err == nil {
			c.hits.Add(1)
			return fanout.Result{Target: call.Target, Value: v, Duration: time.Since(start)}
		}
	}
	c.misses.Add(1)
	leader := false
	ch := c.group.DoChan(key, func() (any, error) {
		leader = true
		// Not the caller's context: the answer is shared with whoever
		// joined, and one caller leaving must not fail it for the others.
		// The stack's per-server deadline still bounds it.
		sctx := context.WithoutCancel(ctx)
		r := next(sctx, call)
		var enc []byte
		if r.OK() {
			if enc, err = c.o.Encode(r.Value); err != nil {
				enc = nil
			} else if err := c.st.Set(sctx, key, enc, ttl); err != nil {
				c.o.Logger.WarnContext(ctx, "read cache: storing an answer failed", "err", err)
			}
		}
		return shared{r, enc}, nil
	})
	select {
	case res := <-ch:
		s := res.Val.(shared)
		r := s.r
		if !leader && s.enc != nil {
			// Each joiner gets its own copy: the leader's value may be
			// backed by buffers its request gives back.
			if v, err := c.o.Decode(s.enc); err == nil {
				r.Value = v
			}
		}
		return r
	case <-ctx.Done():
		err := fmt.Errorf("%w: the caller went away", fanout.ErrCanceled)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w: the request's deadline passed", fanout.ErrTimeout)
		}
		return fanout.Result{Target: call.Target, Err: err, Duration: time.Since(start)}
	}
}

type shared struct {
	r   fanout.Result
	enc []byte
}

func genKey(target, ns string) string { return "rc:gen:" + target + ":" + ns }

// generation returns the current generation of (target, ns), drawing the
// first one when there is none.
func (c *Cache) generation(ctx context.Context, target, ns string) (string, error) {
	k := genKey(target, ns)
	for range 3 {
		b, err := c.st.Get(ctx, k)
		if err == nil {
			return string(b), nil
		}
		if !errors.Is(err, cache.ErrNotFound) {
			return "", err
		}
		g := newGeneration()
		ok, err := c.st.SetNX(ctx, k, []byte(g), c.genTTL)
		if err != nil {
			return "", err
		}
		if ok {
			return g, nil
		}
	}
	return "", errors.New("read cache: no stable generation")
}

func (c *Cache) invalidate(ctx context.Context, target, ns string) {
	if err := c.st.Set(context.WithoutCancel(ctx), genKey(target, ns), []byte(newGeneration()), c.genTTL); err != nil {
		c.o.Logger.ErrorContext(ctx, "read cache: invalidation after a write failed; cached reads may be stale until they expire", "target", target, "namespace", ns, "err", err)
	}
}

func newGeneration() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// entryKey names one cached answer: target, namespace and generation in
// clear (for operators), the upstream user, method and arguments hashed. The session
// key in front of the arguments is left out: it changes on every login.
func entryKey(call fanout.Call, ns, gen string) string {
	h := sha256.New()
	h.Write([]byte(call.User))
	h.Write([]byte{0})
	h.Write([]byte(call.Method))
	h.Write([]byte{0})
	params := call.Params
	if len(params) > 0 {
		params = params[1:]
	}
	for _, p := range params {
		hashValue(h, p, 0)
	}
	return "rc:" + call.Target.Key() + ":" + ns + ":" + gen + ":" + hex.EncodeToString(h.Sum(nil)[:16])
}

// hashValue feeds a value to h unambiguously: a type tag, then lengths
// before variable-length parts.
func hashValue(h hash.Hash, v any, depth int) {
	var n [8]byte
	num := func(tag byte, u uint64) {
		binary.BigEndian.PutUint64(n[:], u)
		h.Write([]byte{tag})
		h.Write(n[:])
	}
	str := func(tag byte, s []byte) {
		num(tag, uint64(len(s)))
		h.Write(s)
	}
	if depth > 64 {
		h.Write([]byte{'!'})
		return
	}
	switch x := v.(type) {
	case nil:
		h.Write([]byte{'n'})
	case string:
		str('s', []byte(x))
	case int64:
		num('i', uint64(x))
	case int:
		num('i', uint64(x))
	case int32:
		num('i', uint64(x))
	case bool:
		if x {
			h.Write([]byte{'T'})
		} else {
			h.Write([]byte{'F'})
		}
	case float64:
		num('d', math.Float64bits(x))
	case time.Time:
		str('t', []byte(x.Format(time.RFC3339Nano)))
	case []byte:
		str('b', x)
	case rpc.Struct:
		num('{', uint64(len(x)))
		for _, m := range x {
			str('k', []byte(m.Name))
			hashValue(h, m.Value, depth+1)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		num('{', uint64(len(x)))
		for _, k := range keys {
			str('k', []byte(k))
			hashValue(h, x[k], depth+1)
		}
	case []any:
		num('[', uint64(len(x)))
		for _, e := range x {
			hashValue(h, e, depth+1)
		}
	case rpc.Raw: // an edge's raw value: its bytes
		str('r', x.Encoded())
	default:
		str('?', fmt.Appendf(nil, "%T:%v", v, v))
	}
}
