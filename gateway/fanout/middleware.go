package fanout

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/semaphore"

	"github.com/hubgw/hubgw/gateway/target"
)

// Timed fills in Target and Duration, so every Result says which server it
// is from and how long it took, queueing included.
func Timed() Middleware {
	return func(next Invoker) Invoker {
		return func(ctx context.Context, c Call) Result {
			start := time.Now()
			r := next(ctx, c)
			r.Target = c.Target
			r.Duration = time.Since(start)
			return r
		}
	}
}

// Timeout gives each call its own deadline, and names the failure when the
// deadline, or the caller going away, is what ended it.
func Timeout(d time.Duration) Middleware {
	return func(next Invoker) Invoker {
		return func(ctx context.Context, c Call) Result {
			parent := ctx
			if d > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			r := next(ctx, c)
			if r.Err != nil && ctx.Err() != nil {
				switch {
				case errors.Is(parent.Err(), context.Canceled):
					r.Err = fmt.Errorf("%w: the caller went away", ErrCanceled)
				case errors.Is(parent.Err(), context.DeadlineExceeded):
					r.Err = fmt.Errorf("%w: the request's deadline passed", ErrTimeout)
				default:
					r.Err = fmt.Errorf("%w: no answer within %s", ErrTimeout, d)
				}
			}
			return r
		}
	}
}

// Limiter caps calls in flight, over all servers and per server, so a
// fan-out to 500 peripherals neither exhausts the gateway nor floods one
// server. Waiting for a slot counts against the call's deadline.
type Limiter struct {
	global    *semaphore.Weighted
	perTarget int64
	mu        sync.Mutex
	targets   map[string]*semaphore.Weighted
}

// NewLimiter caps calls at global in all and perTarget per server; 0 means no cap.
func NewLimiter(global, perTarget int) *Limiter {
	l := &Limiter{perTarget: int64(perTarget), targets: map[string]*semaphore.Weighted{}}
	if global > 0 {
		l.global = semaphore.NewWeighted(int64(global))
	}
	return l
}

func (l *Limiter) target(key string) *semaphore.Weighted {
	if l.perTarget <= 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.targets[key]
	if s == nil {
		s = semaphore.NewWeighted(l.perTarget)
		l.targets[key] = s
	}
	return s
}

// Middleware takes the per-server slot first and the global one second, so
// a call stuck behind its own busy server does not hold a global slot.
func (l *Limiter) Middleware() Middleware {
	return func(next Invoker) Invoker {
		return func(ctx context.Context, c Call) Result {
			if s := l.target(c.Target.Key()); s != nil {
				if err := s.Acquire(ctx, 1); err != nil {
					return Result{Target: c.Target, Err: fmt.Errorf("waiting for a slot for %s: %w", c.Target, err)}
				}
				defer s.Release(1)
			}
			if l.global != nil {
				if err := l.global.Acquire(ctx, 1); err != nil {
					return Result{Target: c.Target, Err: fmt.Errorf("waiting for a gateway slot: %w", err)}
				}
				defer l.global.Release(1)
			}
			// A slot freed at the moment the deadline passed can still be
			// granted; a call with no time left must not reach the server.
			if err := ctx.Err(); err != nil {
				return Result{Target: c.Target, Err: fmt.Errorf("waiting for a slot for %s: %w", c.Target, err)}
			}
			return next(ctx, c)
		}
	}
}

// RetryPolicy says how read-only calls are retried after transport failures.
type RetryPolicy struct {
	Attempts int           // total attempts, 1 or less means no retry
	Base     time.Duration // first backoff; doubles each time, with jitter
	Max      time.Duration // cap on one backoff
}

// Retry retries a call only when it is read-only and failed to get any
// answer. A fault is an answer and is never retried, nor is a call the
// breaker refused or whose deadline passed. The loop is written here rather
// than with a backoff library because it retries on a Result, not an error,
// and must count attempts into it.
func Retry(p RetryPolicy) Middleware {
	return func(next Invoker) Invoker {
		if p.Attempts <= 1 {
			return next
		}
		return func(ctx context.Context, c Call) Result {
			var r Result
			backoff := p.Base
			for attempt := 1; ; attempt++ {
				r = next(ctx, c)
				r.Attempts = attempt
				if !c.ReadOnly || attempt >= p.Attempts || !retryable(r) || ctx.Err() != nil {
					return r
				}
				wait := backoff/2 + rand.N(backoff/2+1) // jitter spreads retries of a fan-out
				if p.Max > 0 && wait > p.Max {
					wait = p.Max
				}
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return r
				case <-t.C:
				}
				backoff *= 2
			}
		}
	}
}

func retryable(r Result) bool {
	if r.Err == nil {
		return false
	}
	switch Kind(r) {
	case "transport":
		return true
	}
	return false
}

// BreakerSettings tune the per-server circuit breaker.
type BreakerSettings struct {
	Failures int           // consecutive transport failures that open the circuit
	Cooldown time.Duration // how long it stays open before one probe
	// OnChange is told when a server's circuit changes state ("closed",
	// "open", "half-open"), for logs; server is its name (Target.String).
	OnChange func(server, from, to string)
}

// Breakers keep one circuit breaker per server (sony/gobreaker). Only
// transport failures, and calls that ran out of their own deadline (a
// Timeout stacked inside the breaker), count: a fault means the server is alive, and a caller
// going away says nothing about the server.
type Breakers struct {
	set BreakerSettings
	mu  sync.Mutex
	cbs map[string]*gobreaker.CircuitBreaker[Result] // by Target.Key
}

// NewBreakers returns the breakers; Failures 0 disables them.
func NewBreakers(s BreakerSettings) *Breakers {
	return &Breakers{set: s, cbs: map[string]*gobreaker.CircuitBreaker[Result]{}}
}

var (
	errTransport = errors.New("transport failure")
	errExcluded  = errors.New("not counted")
)

func (b *Breakers) get(t target.Target) *gobreaker.CircuitBreaker[Result] {
	key := t.Key()
	b.mu.Lock()
	defer b.mu.Unlock()
	cb := b.cbs[key]
	if cb == nil {
		n := uint32(b.set.Failures)
		cb = gobreaker.NewCircuitBreaker[Result](gobreaker.Settings{
			// Named as logs and metrics name servers; the map is by key.
			Name:        t.String(),
			Timeout:     b.set.Cooldown,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= n },
			IsExcluded:  func(err error) bool { return errors.Is(err, errExcluded) },
			OnStateChange: func(name string, from, to gobreaker.State) {
				if b.set.OnChange != nil {
					b.set.OnChange(name, from.String(), to.String())
				}
			},
		})
		b.cbs[key] = cb
	}
	return cb
}

// State reports a server's circuit state ("closed" for one never called).
func (b *Breakers) State(targetKey string) string {
	b.mu.Lock()
	cb := b.cbs[targetKey]
	b.mu.Unlock()
	if cb == nil {
		return gobreaker.StateClosed.String()
	}
	return cb.State().String()
}

// States reports the state of every circuit made so far (servers called
// at least once), by server name.
func (b *Breakers) States() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]string, len(b.cbs))
	for _, cb := range b.cbs {
		out[cb.Name()] = cb.State().String()
	}
	return out
}

// Middleware refuses calls to a server whose circuit is open.
func (b *Breakers) Middleware() Middleware {
	return func(next Invoker) Invoker {
		if b.set.Failures <= 0 {
			return next
		}
		return func(ctx context.Context, c Call) Result {
			r, err := b.get(c.Target).Execute(func() (Result, error) {
				r := next(ctx, c)
				switch Kind(r) {
				case "transport":
					return r, errTransport
				case "timeout":
					// Only the call's own deadline (a Timeout inside the
					// breaker) says the server was slow; the caller's
					// deadline passing may be time spent queueing.
					if ctx.Err() == nil {
						return r, errTransport
					}
					return r, errExcluded
				case "canceled", "circuit_open":
					return r, errExcluded
				}
				return r, nil
			})
			if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
				return Result{Target: c.Target, Err: fmt.Errorf("%w for %s after repeated transport failures", ErrCircuitOpen, c.Target)}
			}
			return r
		}
	}
}

// Observer is told about every call, for metrics.
type Observer interface {
	Started(c Call)
	Finished(c Call, r Result)
}

// Observe reports every call to o.
func Observe(o Observer) Middleware {
	return func(next Invoker) Invoker {
		return func(ctx context.Context, c Call) Result {
			o.Started(c)
			r := next(ctx, c)
			o.Finished(c, r)
			return r
		}
	}
}
