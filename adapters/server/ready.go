package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// readiness answers /readyz. Each check asks the hub, and every load
// balancer, orchestrator and monitor polls /readyz, so the answer is kept
// for a short while and probes arriving together share one check: a probe
// storm must not become a hub storm. While the gateway drains, it is
// unready at once, without asking anyone.
type readiness struct {
	check    func(context.Context) error
	fresh    time.Duration // how long an answer is reused
	timeout  time.Duration // bound on one check
	draining atomic.Bool
	flight   singleflight.Group
	mu       sync.Mutex
	at       time.Time // when err was found; zero: never checked
	err      error
}

func newReadiness(check func(context.Context) error) *readiness {
	return &readiness{check: check, fresh: time.Second, timeout: 5 * time.Second}
}

var errDraining = errors.New("draining: the gateway is stopping")

func (r *readiness) ready(ctx context.Context) error {
	if r.draining.Load() {
		return errDraining
	}
	r.mu.Lock()
	if !r.at.IsZero() && time.Since(r.at) < r.fresh {
		err := r.err
		r.mu.Unlock()
		return err
	}
	r.mu.Unlock()
	ch := r.flight.DoChan("", func() (any, error) {
		// The check is shared, so no one probe's cancellation may end it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		defer cancel()
		err := r.check(cctx)
		r.mu.Lock()
		r.at, r.err = time.Now(), err
		r.mu.Unlock()
		return nil, err
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain makes the gateway unready, then waits drain-delay (or until ctx
// ends) so load balancers see it before the listener closes.
func (s *Server) drain(ctx context.Context) {
	s.readiness.draining.Store(true)
	if s.cfg.DrainDelay <= 0 {
		return
	}
	s.log.Info("draining: /readyz answers 503 until the listener closes", "drain_delay", s.cfg.DrainDelay)
	t := time.NewTimer(s.cfg.DrainDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
