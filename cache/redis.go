package cache

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions tune a Redis store.
type RedisOptions struct {
	// Prefix goes in front of every key and channel; default "hubgw:".
	Prefix string
	// Timeout bounds every operation, retries included, so a Redis that
	// hangs cannot hang a request; default 2s.
	Timeout time.Duration
	// CAFile is a PEM bundle to trust for rediss:// instead of the
	// system's roots.
	CAFile string
}

// Redis is a Store on Redis through go-redis's UniversalClient.
type Redis struct {
	c       redis.UniversalClient
	prefix  string
	timeout time.Duration
	where   string // for messages: kind and addresses, never credentials

	cluster *redis.ClusterClient // nil unless a cluster
	ready   readiness            // the cluster's, cached

	// locks serialise this process's Updates of one key, so that a fan-out
	// whose targets all update the same session queue here instead of
	// failing each other's WATCH; WATCH still guards against other
	// replicas. Striped, so there is nothing to clean up.
	seed  maphash.Seed
	locks [64]sync.Mutex
}

// Spec is what a Redis URL says, for messages and tests.
type Spec struct {
	Kind   string   // "standalone", "sentinel" or "cluster"
	Addrs  []string // the server, sentinels, or cluster seed nodes
	TLS    bool
	DB     int
	Master string // sentinel: the monitored master's name
	// Reload is how old a cluster's slot map may get before it is
	// fetched again (cluster_state_reload_interval).
	Reload time.Duration
}

func (s Spec) String() string {
	t := ""
	if s.TLS {
		t = " (TLS)"
	}
	if s.Kind == "sentinel" {
		return fmt.Sprintf("redis sentinel %s master %q%s", strings.Join(s.Addrs, ","), s.Master, t)
	}
	return fmt.Sprintf("redis %s %s%s", s.Kind, strings.Join(s.Addrs, ","), t)
}

// ParseURL reads a --redis-url. The forms (query parameters are go-redis's:
// dial_timeout, read_timeout, pool_size, ...; skip_verify for TLS):
//
//	redis://[user:password@]host[:port][/db]                    one server
//	rediss://...                                                the same over TLS
//	redis-sentinel://[user:password@]host:port[/db]?master_name=NAME[&addr=host2:port...]
//	                                                            sentinels; user:password are the
//	                                                            sentinels' and, unless username=/password=
//	                                                            are given, the master's too
//	rediss-sentinel://...                                       the same over TLS
//	redis-cluster://[user:password@]host:port[?addr=host2:port...]
//	                                                            cluster seed nodes (one is enough)
//	rediss-cluster://...                                        the same over TLS
//
// A cluster URL also takes cluster_state_reload_interval (default 2s,
// go-redis's own default is 60s): how stale the slot map may get. The
// slot map is also fetched again at once whenever a node cannot be
// reached, so this only bounds how long a topology change goes unnoticed
// by a gateway that sees no error.
func ParseURL(raw string) (Spec, error) {
	_, spec, err := parse(raw)
	return spec, err
}

// redact keeps passwords out of error messages about a URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

func parse(raw string) (func(*tls.Config) redis.UniversalClient, Spec, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, Spec{}, fmt.Errorf("redis-url: %v", errors.Unwrap(err)) // url.Error repeats the URL, password included
	}
	base, kind, _ := strings.Cut(u.Scheme, "-")
	if base != "redis" && base != "rediss" {
		return nil, Spec{}, fmt.Errorf("redis-url %s: scheme must be redis, rediss, redis-sentinel, rediss-sentinel, redis-cluster or rediss-cluster", redact(raw))
	}
	plain := *u
	plain.Scheme = base
	spec := Spec{TLS: base == "rediss"}
	fail := func(err error) (func(*tls.Config) redis.UniversalClient, Spec, error) {
		return nil, Spec{}, fmt.Errorf("redis-url %s: %w", redact(raw), err)
	}
	switch kind {
	case "":
		o, err := redis.ParseURL(plain.String())
		if err != nil {
			return fail(err)
		}
		spec.Kind, spec.Addrs, spec.DB = "standalone", []string{o.Addr}, o.DB
		return func(roots *tls.Config) redis.UniversalClient {
			o.TLSConfig = withRoots(o.TLSConfig, roots)
			return redis.NewClient(withDefaults(o))
		}, spec, nil
	case "sentinel":
		o, err := redis.ParseFailoverURL(plain.String())
		if err != nil {
			return fail(err)
		}
		if o.MasterName == "" {
			return fail(errors.New("a sentinel URL needs ?master_name=<name>"))
		}
		if o.Username == "" && o.Password == "" {
			o.Username, o.Password = o.SentinelUsername, o.SentinelPassword
		}
		spec.Kind, spec.Addrs, spec.DB, spec.Master = "sentinel", o.SentinelAddrs, o.DB, o.MasterName
		return func(roots *tls.Config) redis.UniversalClient {
			o.TLSConfig = withRoots(o.TLSConfig, roots)
			o.ContextTimeoutEnabled = true
			o.DialTimeout = orDefault(o.DialTimeout, 2*time.Second)
			o.MaxRetries, o.DialerRetries, o.MaxRetryBackoff = retries(o.MaxRetries, o.DialerRetries, o.MaxRetryBackoff)
			return redis.NewFailoverClient(o)
		}, spec, nil
	case "cluster":
		if u.Path != "" && u.Path != "/" {
			return fail(errors.New("a cluster has no database number"))
		}
		reload, err := takeDuration(&plain, reloadParam, defaultClusterReload)
		if err != nil {
			return fail(err)
		}
		o, err := redis.ParseClusterURL(plain.String())
		if err != nil {
			return fail(err)
		}
		spec.Kind, spec.Addrs, spec.Reload = "cluster", o.Addrs, reload
		return func(roots *tls.Config) redis.UniversalClient {
			o.TLSConfig = withRoots(o.TLSConfig, roots)
			o.ClusterStateReloadInterval = reload
			o.ContextTimeoutEnabled = true
			o.DialTimeout = orDefault(o.DialTimeout, 2*time.Second)
			o.MaxRetries, o.DialerRetries, o.MaxRetryBackoff = retries(o.MaxRetries, o.DialerRetries, o.MaxRetryBackoff)
			return redis.NewClusterClient(o)
		}, spec, nil
	}
	return nil, Spec{}, fmt.Errorf("redis-url %s: unknown scheme %q", redact(raw), u.Scheme)
}

const (
	reloadParam          = "cluster_state_reload_interval"
	defaultClusterReload = 2 * time.Second
)

// takeDuration removes hubgw's own query parameter name from u and
// returns its value, def when absent. go-redis refuses parameters it does
// not know, and reads none for ClusterOptions.ClusterStateReloadInterval.
// Like go-redis's durations, a bare number is seconds.
func takeDuration(u *url.URL, name string, def time.Duration) (time.Duration, error) {
	q := u.Query()
	if !q.Has(name) {
		return def, nil
	}
	v := q.Get(name)
	q.Del(name)
	u.RawQuery = q.Encode()
	d, err := time.ParseDuration(v)
	if n, nerr := strconv.Atoi(v); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive duration such as 2s", name, v)
	}
	return d, nil
}

// withRoots adds the configured roots to the TLS settings the URL made
// (nil for plain redis://).
func withRoots(c, roots *tls.Config) *tls.Config {
	if c == nil || roots == nil {
		return c
	}
	c.RootCAs = roots.RootCAs
	return c
}

func withDefaults(o *redis.Options) *redis.Options {
	o.ContextTimeoutEnabled = true // the per-operation deadline bounds reads and writes too
	o.DialTimeout = orDefault(o.DialTimeout, 2*time.Second)
	o.MaxRetries, o.DialerRetries, o.MaxRetryBackoff = retries(o.MaxRetries, o.DialerRetries, o.MaxRetryBackoff)
	return o
}

// retries sets go-redis's retry defaults, unless the URL set them, so that
// a Redis that refuses connections fails a call in milliseconds rather
// than after go-redis's 5 dial attempts times 4 tries: one retry is
// enough to replace a pooled connection Redis closed on restart.
func retries(maxRetries, dialerRetries int, backoff time.Duration) (int, int, time.Duration) {
	if maxRetries == 0 {
		maxRetries = 1
	}
	if dialerRetries == 0 {
		dialerRetries = 1
	}
	return maxRetries, dialerRetries, orDefault(backoff, 100*time.Millisecond)
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// NewRedis returns a store on the Redis that rawURL names (see ParseURL).
// It does no I/O: go-redis connects on first use and reconnects by itself,
// so a Redis that is down at start, or restarts, is picked up when it answers.
func NewRedis(rawURL string, o RedisOptions) (*Redis, error) {
	mk, spec, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	if o.Prefix == "" {
		o.Prefix = "hubgw:"
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	var roots *tls.Config
	if o.CAFile != "" {
		if !spec.TLS {
			return nil, fmt.Errorf("redis-ca-file is set but redis-url %s does not use TLS (rediss://...)", redact(rawURL))
		}
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("redis-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis-ca-file %s: no PEM certificates", o.CAFile)
		}
		roots = &tls.Config{RootCAs: pool}
	}
	r := &Redis{c: mk(roots), prefix: o.Prefix, timeout: o.Timeout, where: spec.String(), seed: maphash.MakeSeed()}
	r.cluster, _ = r.c.(*redis.ClusterClient)
	return r, nil
}

// Where names the Redis (kind and addresses) for logs.
func (r *Redis) Where() string { return r.where }

// Client is the underlying go-redis client (benchmarks, tests).
func (r *Redis) Client() redis.UniversalClient { return r.c }

func (r *Redis) key(k string) string { return r.prefix + k }

func (r *Redis) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.timeout)
}

// fail turns a go-redis error into ErrNotFound, an error that wraps
// ErrUnavailable (Redis could not be reached or cannot serve now), or
// the error itself (Redis answered with a complaint: a bug of ours).
func (r *Redis) fail(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	if !unavailable(err) {
		return fmt.Errorf("%s: %w", r.where, err)
	}
	if r.cluster != nil {
		// A node is gone or a failover is under way: learn the new slot
		// map now rather than at the next periodic reload. go-redis
		// coalesces these reloads (one at a time, 200 ms apart).
		r.cluster.ReloadState(context.Background())
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		err = fmt.Errorf("no answer within %s", r.timeout)
	}
	return fmt.Errorf("%w: %s: %v", ErrUnavailable, r.where, err)
}

// unavailable reports whether err says Redis cannot be reached or cannot
// serve now (rather than complaining about a command: a bug of ours).
func unavailable(err error) bool {
	var rerr redis.Error
	return !errors.As(err, &rerr) || redis.IsLoadingError(err) || redis.IsReadOnlyError(err) ||
		redis.IsClusterDownError(err) || redis.IsTryAgainError(err) || redis.IsMasterDownError(err) ||
		redis.IsMaxClientsError(err) || redis.IsOOMError(err) || redis.IsNoReplicasError(err)
}

func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	b, err := r.c.Get(ctx, r.key(key)).Bytes()
	return b, r.fail(err)
}

func (r *Redis) GetEx(ctx context.Context, key string, ttl time.Duration) ([]byte, error) {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	b, err := r.c.GetEx(ctx, r.key(key), ttl).Bytes()
	return b, r.fail(err)
}

func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	return r.fail(r.c.Set(ctx, r.key(key), value, ttl).Err())
}

func (r *Redis) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	ok, err := r.c.SetNX(ctx, r.key(key), value, ttl).Result()
	return ok, r.fail(err)
}

// Update uses WATCH/MULTI: it reads, computes and writes, and starts over
// when another client wrote the key in between.
func (r *Redis) Update(ctx context.Context, key string, ttl time.Duration, fn func([]byte) ([]byte, error)) error {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	mu := &r.locks[maphash.String(r.seed, key)%uint64(len(r.locks))]
	mu.Lock()
	defer mu.Unlock()
	k := r.key(key)
	for attempt := 0; ; attempt++ {
		var fnErr error
		err := r.c.Watch(ctx, func(tx *redis.Tx) error {
			old, err := tx.Get(ctx, k).Bytes()
			if err != nil {
				return err
			}
			v, err := fn(old)
			if err != nil {
				fnErr = err
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				if ttl > 0 {
					p.Set(ctx, k, v, ttl)
				} else {
					p.SetArgs(ctx, k, v, redis.SetArgs{KeepTTL: true})
				}
				return nil
			})
			return err
		}, k)
		switch {
		case fnErr != nil:
			return fnErr
		case errors.Is(err, redis.TxFailedErr):
			if attempt >= 100 {
				return ErrConflict
			}
			// Another replica wrote the key: back off a little, with
			// jitter, so two writers do not keep colliding.
			t := time.NewTimer(time.Duration(rand.N(1+attempt)) * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return r.fail(ctx.Err())
			case <-t.C:
			}
			continue
		}
		return r.fail(err)
	}
}

func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	// One DEL per key: a multi-key DEL would cross cluster slots.
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, r.key(k))
		}
		return nil
	})
	return r.fail(err)
}

func (r *Redis) HSetNX(ctx context.Context, key, field string, value []byte) (bool, error) {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	ok, err := r.c.HSetNX(ctx, r.key(key), field, value).Result()
	return ok, r.fail(err)
}

// hsetIf is HSetIf's compare-and-set, one step on the server: a Lua
// script, since WATCH/MULTI would cost two more round trips and a retry
// loop for what is a single comparison. ARGV: the number of guards, the
// guards' fields and values, then the fields and values to set (HSET one
// by one: unpack's limit on arguments would cap the fields).
var hsetIf = redis.NewScript(`
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  if redis.call('HGET', KEYS[1], ARGV[2 + 2 * i]) ~= ARGV[3 + 2 * i] then return 0 end
end
if n == 0 and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2 + 2 * n, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
return 1
`)

func (r *Redis) HSetIf(ctx context.Context, key string, guards, fields map[string][]byte) (bool, error) {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	args := make([]any, 0, 1+2*(len(guards)+len(fields)))
	args = append(args, len(guards))
	for k, v := range guards {
		args = append(args, k, v)
	}
	for k, v := range fields {
		args = append(args, k, v)
	}
	n, err := hsetIf.Run(ctx, r.c, []string{r.key(key)}, args...).Int()
	if err != nil {
		return false, r.fail(err)
	}
	return n == 1, nil
}

func (r *Redis) HGetAll(ctx context.Context, key string) (map[string][]byte, error) {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	m, err := r.c.HGetAll(ctx, r.key(key)).Result()
	if err != nil {
		return nil, r.fail(err)
	}
	if len(m) == 0 {
		return nil, ErrNotFound
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out, nil
}

func (r *Redis) ZRevRange(ctx context.Context, key string, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	out, err := r.c.ZRevRange(ctx, r.key(key), 0, int64(n-1)).Result()
	return out, r.fail(err)
}

func (r *Redis) Batch(ctx context.Context, fn func(Batch)) error {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		fn(redisBatch{ctx: ctx, p: p, r: r})
		return nil
	})
	return r.fail(err)
}

type redisBatch struct {
	ctx context.Context
	p   redis.Pipeliner
	r   *Redis
}

func (b redisBatch) Set(key string, value []byte, ttl time.Duration) {
	b.p.Set(b.ctx, b.r.key(key), value, ttl)
}

func (b redisBatch) HSet(key string, ttl time.Duration, fields map[string][]byte) {
	args := make([]any, 0, 2*len(fields))
	for k, v := range fields {
		args = append(args, k, v)
	}
	b.p.HSet(b.ctx, b.r.key(key), args...)
	if ttl > 0 {
		b.p.PExpire(b.ctx, b.r.key(key), ttl)
	}
}

func (b redisBatch) ZAdd(key string, ttl time.Duration, score float64, member string) {
	b.p.ZAdd(b.ctx, b.r.key(key), redis.Z{Score: score, Member: member})
	if ttl > 0 {
		b.p.PExpire(b.ctx, b.r.key(key), ttl)
	}
}

func (b redisBatch) ZRemBelow(key string, min float64) {
	b.p.ZRemRangeByScore(b.ctx, b.r.key(key), "-inf", fmt.Sprintf("(%v", min))
}

func (b redisBatch) ZRem(key string, members ...string) {
	if len(members) == 0 {
		return
	}
	ms := make([]any, len(members))
	for i, m := range members {
		ms[i] = m
	}
	b.p.ZRem(b.ctx, b.r.key(key), ms...)
}

func (b redisBatch) Expire(key string, ttl time.Duration) {
	b.p.PExpire(b.ctx, b.r.key(key), ttl)
}

func (b redisBatch) Delete(key string) { b.p.Del(b.ctx, b.r.key(key)) }

func (r *Redis) Publish(ctx context.Context, channel string, msg []byte) error {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	return r.fail(r.c.Publish(ctx, r.key(channel), msg).Err())
}

// Subscribe returns at once; go-redis (re)subscribes in the background
// whenever Redis is reachable.
func (r *Redis) Subscribe(ctx context.Context, channel string) (Subscription, error) {
	ps := r.c.Subscribe(context.WithoutCancel(ctx), r.key(channel))
	s := &redisSub{ps: ps, c: make(chan []byte, 64), done: make(chan struct{})}
	in := ps.Channel(redis.WithChannelSendTimeout(time.Second))
	go func() {
		defer close(s.c)
		for {
			select {
			case m, ok := <-in:
				if !ok {
					return
				}
				select {
				case s.c <- []byte(m.Payload):
				case <-s.done:
					return
				}
			case <-s.done:
				return
			}
		}
	}()
	return s, nil
}

type redisSub struct {
	ps   *redis.PubSub
	c    chan []byte
	done chan struct{}
	once sync.Once
}

func (s *redisSub) C() <-chan []byte { return s.c }

func (s *redisSub) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.ps.Close()
	})
	return err
}

// Ping is readiness. A server or a sentinel-watched master must answer
// PING. A cluster must be serviceable, which PING does not tell (a node
// answers it under CLUSTERDOWN too): see clusterReady.
func (r *Redis) Ping(ctx context.Context) error {
	if r.cluster != nil {
		return r.ready.check(ctx, r.clusterReady)
	}
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	return r.fail(r.c.Ping(ctx).Err())
}

func (r *Redis) Shared() bool { return true }

func (r *Redis) Close() error { return r.c.Close() }
