// Package fanout is hubgw's engine for sending API calls to many servers at
// once and getting one result per server back.
//
// A call to one server is an Invoker, func(ctx, Call) Result. Every concern
// around it (deadline, concurrency cap, retries, circuit breaker, metrics)
// is a Middleware that wraps an Invoker, and Stack puts them together in one
// visible place, as KrakenD's lura does for its proxies. Run then applies an
// Invoker to many calls concurrently and returns the results in the order of
// the calls.
package fanout

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Call is one API call to one server. Params are complete: the server's own
// session key, if the method takes one, is already in front.
type Call struct {
	Target   target.Target
	Method   string
	Params   []any
	ReadOnly bool // the method changes nothing: it may be retried and cached
	// User is the user the target knows Params[0], the session key, as:
	// the service account configured for it, the relayed user, or the
	// user given when attaching (auth.Session.Logins), not necessarily
	// the gateway user. The target answers by that user's org and
	// permissions, so a read-through cache keys on it instead of the
	// session key. Empty for calls without a session, or when the user
	// is not known; such calls are not cached.
	User string
	// Shared, when set, says Params[Shared.From:] are the very values
	// every call of one fan-out sends, so a transport encodes them once
	// for all targets, not once per target (issue 12, H2).
	Shared *Shared
}

// Shared holds the one encoding of the parameters a fan-out's calls have
// in common (all but each target's session key), in whatever form the
// transport makes it. It is safe for concurrent use.
type Shared struct {
	From int // Params[From:] are shared
	once sync.Once
	enc  any
	err  error
}

// Encoded returns the shared parameters' encoding, made by encode the
// first time it is asked for.
func (s *Shared) Encoded(encode func() (any, error)) (any, error) {
	s.once.Do(func() { s.enc, s.err = encode() })
	return s.enc, s.err
}

// Result is what one server yielded: a value, an Uyuni fault, or an error
// that kept the call from getting an answer (transport, deadline, breaker).
type Result struct {
	Target   target.Target
	Value    any
	Fault    *rpc.Fault
	Err      error
	Duration time.Duration
	Attempts int
}

// OK reports whether the server answered with a value.
func (r Result) OK() bool { return r.Fault == nil && r.Err == nil }

// Invoker performs one call and always returns a Result; it honours ctx.
type Invoker func(ctx context.Context, c Call) Result

// Middleware wraps an Invoker with one concern.
type Middleware func(next Invoker) Invoker

// Stack wraps base in mw, the first middleware outermost: Stack(b, A, B)
// runs A, then B, then b.
func Stack(base Invoker, mw ...Middleware) Invoker {
	inv := base
	for i := len(mw) - 1; i >= 0; i-- {
		inv = mw[i](inv)
	}
	return inv
}

// Errors the engine itself produces, for callers and metrics to branch on.
var (
	ErrTimeout     = errors.New("deadline exceeded")
	ErrCanceled    = errors.New("canceled")
	ErrCircuitOpen = errors.New("circuit open")
)

// Kind classifies a result for metrics and messages: "ok", "fault",
// "timeout", "canceled", "circuit_open" or "transport".
func Kind(r Result) string {
	switch {
	case r.OK():
		return "ok"
	case r.Fault != nil:
		return "fault"
	case errors.Is(r.Err, ErrTimeout), errors.Is(r.Err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(r.Err, ErrCanceled), errors.Is(r.Err, context.Canceled):
		return "canceled"
	case errors.Is(r.Err, ErrCircuitOpen):
		return "circuit_open"
	}
	return "transport"
}

// Results holds one Result per call, in the order of the calls.
type Results []Result

// IsComplete reports whether every server answered with a value.
func (rs Results) IsComplete() bool {
	for _, r := range rs {
		if !r.OK() {
			return false
		}
	}
	return true
}

// Run sends every call through inv concurrently and waits for all of them.
// It returns when each Invoker has returned, so a deadline on ctx bounds the
// whole fan-out: every Invoker honours ctx and reports its own failure.
// Concurrency is capped by the Limit middleware, not here, so one place
// decides it for unicast and multicast alike.
func Run(ctx context.Context, inv Invoker, calls []Call) Results {
	return Spread(ctx, len(calls), func(ctx context.Context, i int) Result { return inv(ctx, calls[i]) })
}

// Spread runs fn for 0..n-1 concurrently and returns the results in that
// order, for callers that need to know which call a result belongs to as
// it arrives. One call runs on the caller's goroutine.
func Spread(ctx context.Context, n int, fn func(ctx context.Context, i int) Result) Results {
	out := make(Results, n)
	if n == 1 { // unicast: no goroutine needed
		out[0] = fn(ctx, 0)
		return out
	}
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		go func() {
			defer wg.Done()
			out[i] = fn(ctx, i)
		}()
	}
	wg.Wait()
	return out
}
