package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/hubgw/hubgw/adapters/metrics"
	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/readcache"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/uyuniapi"
)

// This file assembles hubgw's state: where sessions, the registry
// snapshot, job records and cached reads live. With no redis-url it is
// all in this process; with one, every replica pointed at the same Redis
// shares it, and the gateway never falls back to memory when Redis fails:
// calls that need state get CodeStateUnavailable and /readyz says why.

// validateState checks the state settings without I/O.
func (c Config) validateState() []error {
	var errs []error
	if c.RedisURL != "" {
		if _, err := cache.ParseURL(c.RedisURL); err != nil {
			errs = append(errs, err)
		}
		if c.SecretKeyFile == "" {
			errs = append(errs, errors.New("redis-url is set but secret-key-file is not: with Redis, relay credentials and upstream session keys are stored encrypted (AES-256-GCM), so the gateway needs a key; create one with `openssl rand -hex 32 > /etc/hubgw/secret.key` (chmod 600) and pass --secret-key-file or HUBGW_SECRET_KEY_FILE"))
		}
	}
	if _, err := readcache.ParseSpec(c.ReadCache, uyuniapi.ReadOnly); err != nil {
		errs = append(errs, err)
	}
	if c.Jobs && (c.JobRetention <= 0 || c.JobLease <= 0) {
		errs = append(errs, errors.New("job-retention and job-lease must be positive"))
	}
	if c.Jobs {
		switch {
		case c.JobMaxBytes <= 0 || c.JobMaxUserBytes <= 0 || c.JobMaxAnswerBytes <= 0:
			errs = append(errs, fmt.Errorf("job-max-bytes (%d), job-max-user-bytes (%d) and job-max-answer-bytes (%d) must be positive byte counts, e.g. 134217728 for 128 MiB", c.JobMaxBytes, c.JobMaxUserBytes, c.JobMaxAnswerBytes))
		case c.JobMaxUserBytes > c.JobMaxBytes:
			errs = append(errs, fmt.Errorf("job-max-user-bytes (%d) must not be larger than job-max-bytes (%d), the budget of all users together", c.JobMaxUserBytes, c.JobMaxBytes))
		case c.JobMaxAnswerBytes > math.MaxInt32:
			errs = append(errs, fmt.Errorf("job-max-answer-bytes (%d) must be below 2 GiB", c.JobMaxAnswerBytes))
		}
	}
	return errs
}

// state is what New builds from the state settings.
type state struct {
	store    cache.Store
	redis    *cache.Redis // nil in memory mode
	sessions auth.Store
	jobs     gateway.JobRecorder // nil when recording is off
	cache    *readcache.Cache    // nil without an allowlist
	shared   registry.Shared     // nil in memory mode
	seal     *auth.Sealer        // nil in memory mode
	replica  string              // this process, for leases
	log      *slog.Logger
}

// newState builds the state; every store operation is measured by sm,
// every job counted by jobsSeen.
func newState(cfg Config, api *uyuniapi.API, sm *metrics.StoreMetrics, jobsSeen jobs.Observer, log *slog.Logger) (*state, error) {
	st := &state{log: log}
	exp := auth.Expiry{Idle: cfg.SessionIdle, Absolute: cfg.SessionMax}
	host, _ := os.Hostname()
	replica := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), auth.NewID()[2:8])
	var jobSeal jobs.Sealer // with Redis, job arguments and answers are sealed like sessions
	st.replica = replica
	if cfg.RedisURL == "" {
		st.store = sm.Wrap(cache.NewMemory(cache.MemoryOptions{MaxEntries: cfg.CacheSize}), "memory")
		st.sessions = auth.NewMemoryStore(exp, 0, nil)
	} else {
		seal, err := auth.LoadSecretKey(cfg.SecretKeyFile)
		if err != nil {
			return nil, err
		}
		st.seal = seal
		r, err := cache.NewRedis(cfg.RedisURL, cache.RedisOptions{Timeout: cfg.RedisTimeout, Prefix: cfg.RedisPrefix, CAFile: cfg.RedisCAFile})
		if err != nil {
			return nil, err
		}
		st.store, st.redis, jobSeal = sm.Wrap(r, "redis"), r, seal
		if st.sessions, err = auth.NewSharedStore(st.store, seal, auth.SharedOptions{Expiry: exp, Logger: log}); err != nil {
			return nil, err
		}
		st.shared = registry.NewStoreShared(st.store, 2*cfg.RegistryTTL, replica, log)
	}
	if cfg.Jobs {
		rec, err := jobs.New(st.store, jobs.Options{
			Retention:    cfg.JobRetention,
			Lease:        cfg.JobLease,
			MaxBytes:     cfg.JobMaxBytes,
			MaxUserBytes: cfg.JobMaxUserBytes,
			MaxJobBytes:  int(cfg.JobMaxAnswerBytes),
			ResultJSON: func(v any) ([]byte, error) {
				return xmlrpc.AppendValueJSON(nil, v, xmlrpc.JSONOptions{})
			},
			SizeHint: func(v any) int {
				if r, ok := v.(xmlrpc.Raw); ok {
					return len(r) / 2 // JSON takes about half the XML-RPC bytes
				}
				return 0
			},
			Fault:   gateway.Fault,
			Catalog: api.Catalog(),
			// A job records what was changed where: a read's answer is
			// described (its shape and size), not kept.
			ReadOnly: uyuniapi.ReadOnly,
			Seal:     jobSeal,
			Replica:  replica,
			Logger:   log,
			Observe:  jobsSeen,
		})
		if err != nil {
			return nil, err
		}
		st.jobs = rec
	}
	ttls, err := readcache.ParseSpec(cfg.ReadCache, uyuniapi.ReadOnly)
	if err != nil {
		return nil, err
	}
	if len(ttls) > 0 {
		st.cache, err = readcache.New(st.store, readcache.Options{
			TTL: ttls,
			// The XML-RPC edge's answers are raw value bytes: stored as
			// they are, and a hit is those bytes again.
			Encode: func(v any) ([]byte, error) {
				if r, ok := v.(xmlrpc.Raw); ok {
					return append([]byte(nil), r...), nil
				}
				return xmlrpc.AppendValue(nil, v)
			},
			Decode: func(b []byte) (any, error) { return xmlrpc.Raw(b), nil },
			Logger: log,
		})
		if err != nil {
			return nil, err
		}
	}
	return st, nil
}

// cacheStats reports the read cache's hits and misses (nil without one).
func (st *state) cacheStats() func() (hits, misses int64) {
	if st.cache == nil {
		return nil
	}
	return st.cache.Stats
}

// readCache is the read cache's place in the per-server stack (nothing
// without an allowlist).
func (st *state) readCache() fanout.Middleware {
	if st.cache == nil {
		return func(next fanout.Invoker) fanout.Invoker { return next }
	}
	return st.cache.Middleware()
}

// start checks the store once, so a Redis that is down at start is said
// clearly in the log (the gateway serves anyway and recovers when Redis
// answers; /readyz reports it meanwhile), and follows other replicas'
// registry snapshots until ctx ends.
func (st *state) start(ctx context.Context, reg *registry.Registry) {
	if st.redis != nil {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := st.store.Ping(pctx)
		cancel()
		if err != nil {
			st.log.Error("state store unavailable at start: calls that need sessions or jobs fail with fault 4108 and /readyz is false until it answers", "redis", st.redis.Where(), "err", err)
		} else {
			st.log.Info("state store", "redis", st.redis.Where())
		}
	}
	reg.Follow(ctx)
}

// ready: the store answers.
func (st *state) ready(ctx context.Context) error {
	if err := st.store.Ping(ctx); err != nil {
		return fmt.Errorf("state store: %w", err)
	}
	return nil
}

func (st *state) close() {
	// Job records still being retried get one last try before the store goes.
	if rec, ok := st.jobs.(interface{ Close() }); ok {
		rec.Close()
	}
	st.store.Close()
}
