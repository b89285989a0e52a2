package rollout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway/target"
)

// StepResult is one server's outcome.
type StepResult struct {
	Status  ServerStatus // Done, Failed or Unreachable
	Objects json.RawMessage
	Counts  map[string]int
	Err     string
	// Credentials: the rollout's session is gone; nothing was written. The
	// rollout pauses with reason "credentials" and the server stays pending.
	Credentials bool
}

// Claim is what a step is told of its server's run.
type Claim struct {
	Attempt int
	// Stamp dates what the step schedules on the server (deploy actions):
	// it is set when a pending server is claimed and kept when an
	// in-doubt one is claimed again, so the new owner can find what the
	// old one scheduled, and schedule nothing twice.
	Stamp time.Time
	// InDoubt: an earlier owner claimed the server and died before it
	// recorded an outcome; what it did is unknown.
	InDoubt bool
}

// Step applies the rollout to one server. It must be safe to run again on
// a server where an earlier run's outcome was lost (re-read before write).
type Step func(ctx context.Context, spec *Spec, t target.Target, claim Claim) StepResult

// Errors callers branch on.
var (
	ErrNotFound = errors.New("no such rollout")
	ErrConflict = errors.New("another active rollout touches the same object on the same server")
	ErrState    = errors.New("the rollout is not in a state that allows this")
	ErrInvalid  = errors.New("rollout: invalid")
	errLost     = errors.New("rollout: another replica owns this rollout now")
)

// Options tune a Controller.
type Options struct {
	Store   cache.Store
	Step    Step
	Replica string
	// Lease is how long a rollout stays owned without its owner renewing
	// it (every Lease/3); another replica takes it over after that.
	// Default 15s.
	Lease     time.Duration
	Retention time.Duration // finished rollouts are kept this long; default 30 days
	// KeepAlive, if set, is called by the owner about every Lease while it
	// drives a rollout that waits (paused, halted, between waves), so the
	// session its steps use does not lapse meanwhile.
	KeepAlive func(ctx context.Context, spec *Spec)
	Logger    *slog.Logger
	Now       func() time.Time
}

// Controller runs rollouts.
type Controller struct {
	o Options

	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	driving map[string]bool
	wake    map[string]chan struct{}
}

// New returns a controller; Run starts its background work.
func New(o Options) *Controller {
	if o.Lease <= 0 {
		o.Lease = 15 * time.Second
	}
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Replica == "" {
		o.Replica = "replica-" + newID()[:6]
	}
	c := &Controller{o: o, driving: map[string]bool{}, wake: map[string]chan struct{}{}}
	c.base, c.cancel = context.WithCancel(context.Background())
	return c
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func leaseKey(id string) string { return "rollout:{" + id + "}:lease" }
func userIndex(u string) string { return "rollouts:user:" + u }

// changedChannel carries a hint that rollout id changed (Watch).
func changedChannel(id string) string { return "rollout:{" + id + "}:changed" }

const allIndex = "rollouts"

// activeIndex holds the rollouts that may still run, so that adoption and
// the conflict check, which read every record they list, do not read the
// finished ones kept for audit. A finished rollout leaves it by a score
// below zero (the store's sorted sets have no single-member removal).
const activeIndex = "rollouts:active"

// Start records a new rollout and runs it. With a store that is not
// shared, rollouts live in this process and do not survive a restart.
func (c *Controller) Start(ctx context.Context, spec Spec) (*Record, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	waves, err := spec.waves()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if spec.Concurrency == 0 {
		spec.Concurrency = 10
	}
	if other, err := c.conflicting(ctx, spec); err != nil {
		return nil, err
	} else if other != "" {
		return nil, fmt.Errorf("%w: rollout %s", ErrConflict, other)
	}
	now := c.o.Now().UTC()
	rec := &Record{ID: newID(), Spec: spec, Status: Running, Owner: c.o.Replica, Epoch: 1, Created: now, Updated: now, Waves: waves}
	for w, idx := range waves {
		for _, i := range idx {
			rec.Servers = append(rec.Servers, Server{Target: spec.Targets[i], Wave: w, Status: Pending})
		}
	}
	rec.log(now, "started", spec.User)
	fields, err := rec.fields()
	if err != nil {
		return nil, err
	}
	rec.raw = fields
	score := float64(now.UnixMilli())
	err = c.o.Store.Batch(ctx, func(bt cache.Batch) {
		bt.HSet(recordKey(rec.ID), 0, fields)
		bt.Set(leaseKey(rec.ID), []byte(c.o.Replica), c.o.Lease)
		for _, ix := range []string{allIndex, activeIndex, userIndex(spec.User)} {
			bt.ZAdd(ix, 0, score, rec.ID)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("recording the rollout: %w", err)
	}
	if !c.o.Store.Shared() && !spec.Synchronous {
		c.o.Logger.WarnContext(ctx, "rollout kept in this process's memory: it does not survive a restart (configure redis-url for that)", "rollout", rec.ID)
	}
	c.drive(rec.ID, rec.Epoch)
	return rec, nil
}

// Durable reports whether rollouts outlive this process (a shared store:
// another replica takes them over); with memory they do not.
func (c *Controller) Durable() bool { return c.o.Store.Shared() }

// conflicting names an active rollout that touches one of spec's objects
// on one of its servers.
func (c *Controller) conflicting(ctx context.Context, spec Spec) (string, error) {
	recs, err := c.list(ctx, activeIndex, 1000)
	if err != nil {
		return "", err
	}
	servers := map[string]bool{}
	for _, t := range spec.Targets {
		servers[t.Key()] = true
	}
	for _, r := range recs {
		if !r.Active() {
			continue
		}
		shares := false
		for _, t := range r.Spec.Targets {
			shares = shares || servers[t.Key()]
		}
		if !shares {
			continue
		}
		for _, o := range spec.Objects {
			if slices.Contains(r.Spec.Objects, o) {
				return r.ID, nil
			}
		}
	}
	return "", nil
}

// List returns a user's rollouts, newest first.
func (c *Controller) List(ctx context.Context, user string, n int) ([]Record, error) {
	return c.list(ctx, userIndex(user), n)
}

func (c *Controller) list(ctx context.Context, index string, n int) ([]Record, error) {
	ids, err := c.o.Store.ZRevRange(ctx, index, n)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(ids))
	for _, id := range ids {
		r, err := c.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // expired after its retention
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, nil
}

// update changes a rollout atomically: fn works on the record as read,
// and what it changed is written unless another write came in between
// (then fn runs again on a fresh read). With epoch > 0 it is the owner's
// change and fails with errLost when another replica has taken over.
func (c *Controller) update(ctx context.Context, id string, epoch int64, fn func(r *Record) error) (*Record, error) {
	var out *Record
	var wasActive bool
	for attempt := 0; out == nil; attempt++ {
		r, err := c.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if epoch > 0 && r.Epoch != epoch {
			return nil, errLost
		}
		wasActive = r.Active()
		if err := fn(r); err != nil {
			return nil, err
		}
		r.Updated = c.o.Now().UTC()
		fields, err := r.fields()
		if err != nil {
			return nil, err
		}
		if ok, err := c.write(ctx, r, fields); err != nil {
			return nil, err
		} else if ok {
			out = r
		} else if attempt >= 100 {
			return nil, cache.ErrConflict
		}
	}
	switch {
	case wasActive && !out.Active(): // finished: kept for the retention, out of the active index
		_ = c.o.Store.Batch(ctx, func(b cache.Batch) {
			b.Expire(recordKey(id), c.o.Retention)
			b.ZAdd(activeIndex, 0, -1, id)
			b.ZRemBelow(activeIndex, 0)
		})
	case !wasActive && out.Active(): // a retry of a finished rollout
		_ = c.o.Store.Batch(ctx, func(b cache.Batch) { b.ZAdd(activeIndex, 0, float64(out.Created.UnixMilli()), id) })
	}
	c.changed(ctx, id, hintRecord)
	return out, nil
}

// Hints published on a rollout's channel: any change, or one of a server
// only (Wait, which looks at the rollout's status, ignores those).
var (
	hintRecord = []byte("r")
	hintServer = []byte("s")
)

// changed tells watchers, on every replica, and this replica's driver.
func (c *Controller) changed(ctx context.Context, id string, hint []byte) {
	_ = c.o.Store.Publish(ctx, changedChannel(id), hint)
	c.poke(id)
}

// setServer is the owner's change of server i alone: fn works on the
// server as r (the owner's latest record, updated in place) has it, and
// only its field is written, so the cost of a change does not grow with
// the rollout. When another write came first (a user's decision), r is
// read again and fn runs on that; errLost when another replica has
// taken over.
func (c *Controller) setServer(ctx context.Context, r *Record, i int, fn func(s *Server) error) (*Record, error) {
	for attempt := 0; ; attempt++ {
		s := r.Servers[i]
		if err := fn(&s); err != nil {
			return nil, err
		}
		b, err := json.Marshal(&s)
		if err != nil {
			return nil, err
		}
		ok, err := c.write(ctx, r, map[string][]byte{serverField(i): b})
		if err != nil {
			return nil, err
		}
		if ok {
			r.Servers[i] = s
			c.changed(ctx, r.ID, hintServer)
			return r, nil
		}
		if attempt >= 100 {
			return nil, cache.ErrConflict
		}
		fresh, err := c.Get(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		if fresh.Epoch != r.Epoch {
			return nil, errLost
		}
		r = fresh
	}
}

// Resume sets a paused or halted rollout running again, optionally with a
// larger budget or a new session (after a credentials pause).
func (c *Controller) Resume(ctx context.Context, id, user string, maxFailures *Amount, session string) (*Record, error) {
	return c.decide(ctx, id, user, func(r *Record) error {
		if r.Status != Paused && r.Status != Halted {
			return fmt.Errorf("%w: %s is %s; only a paused or halted rollout resumes", ErrState, id, r.Status)
		}
		if maxFailures != nil {
			if _, err := maxFailures.Of(len(r.Servers)); err != nil {
				return fmt.Errorf("%w: maxFailures: %w", ErrInvalid, err)
			}
			r.Spec.MaxFailures = *maxFailures
		}
		if session != "" {
			r.Spec.Session = session
		}
		if r.Reason == "canary" {
			r.CanaryApproved = true
		}
		r.Status, r.Reason = Running, ""
		r.log(c.o.Now().UTC(), "resumed", user)
		return nil
	})
}

// Retry runs the failed, unreachable, deferred and in-doubt servers again
// (or those of them named in only, by target key or name), as the next
// attempt in the same record.
func (c *Controller) Retry(ctx context.Context, id, user string, only []string) (*Record, error) {
	return c.decide(ctx, id, user, func(r *Record) error {
		if r.Status == Aborted {
			return fmt.Errorf("%w: %s was aborted", ErrState, id)
		}
		n := 0
		for i, s := range r.Servers {
			if !(s.Status.failure() || s.Status == Deferred || s.Status == InDoubt) {
				continue
			}
			if len(only) > 0 && !slices.Contains(only, s.Target.Key()) && !slices.Contains(only, s.Target.String()) {
				continue
			}
			r.Servers[i].Status = Pending
			n++
		}
		if n == 0 {
			return fmt.Errorf("%w: no failed server to retry in %s", ErrState, id)
		}
		r.Status, r.Reason = Running, ""
		r.log(c.o.Now().UTC(), fmt.Sprintf("retry of %d servers", n), user)
		return nil
	})
}

// Abort stops a rollout: no server starts any more (those running finish
// their step); the servers not run are skipped.
func (c *Controller) Abort(ctx context.Context, id, user string) (*Record, error) {
	return c.decide(ctx, id, user, func(r *Record) error {
		if !r.Active() {
			return fmt.Errorf("%w: %s is %s already", ErrState, id, r.Status)
		}
		for i, s := range r.Servers {
			if s.Status == Pending || s.Status == InDoubt {
				r.Servers[i].Status = Skipped
			}
		}
		r.Status, r.Reason = Aborted, "aborted by "+user
		r.log(c.o.Now().UTC(), "aborted", user)
		return nil
	})
}

// decide is a user's change; only the rollout's user may make one. A
// rollout set running that nobody drives (it had finished) is taken up.
func (c *Controller) decide(ctx context.Context, id, user string, fn func(r *Record) error) (*Record, error) {
	r, err := c.update(ctx, id, 0, func(r *Record) error {
		if r.Spec.User != user {
			return ErrNotFound // another user's rollout is none of theirs
		}
		return fn(r)
	})
	if err == nil && r.Status == Running {
		c.adoptOne(ctx, id)
	}
	return r, err
}

// Run takes over the rollouts whose owner stopped renewing its lease, until
// ctx ends; Close stops what this controller drives.
func (c *Controller) Run(ctx context.Context) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(c.o.Lease / 3)
		defer t.Stop()
		for {
			c.adopt(ctx)
			select {
			case <-ctx.Done():
				return
			case <-c.base.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// adopt takes over active rollouts without a live owner.
func (c *Controller) adopt(ctx context.Context) {
	recs, err := c.list(ctx, activeIndex, 1000)
	if err != nil {
		return
	}
	for _, r := range recs {
		if r.Active() {
			c.adoptOne(ctx, r.ID)
		}
	}
}

// adoptOne takes rollout id over when nobody holds its lease.
func (c *Controller) adoptOne(ctx context.Context, id string) {
	if c.isDriving(id) {
		return
	}
	if _, err := c.o.Store.Get(ctx, leaseKey(id)); !errors.Is(err, cache.ErrNotFound) {
		return // owned, or the store cannot say
	}
	won, err := c.o.Store.SetNX(ctx, leaseKey(id), []byte(c.o.Replica), c.o.Lease)
	if err != nil || !won {
		return
	}
	var epoch int64
	_, err = c.update(ctx, id, 0, func(rec *Record) error {
		if !rec.Active() {
			return ErrState
		}
		rec.Epoch++
		epoch = rec.Epoch
		prev := rec.Owner
		rec.Owner = c.o.Replica
		for i, s := range rec.Servers {
			if s.Status == InFlight {
				rec.Servers[i].Status = InDoubt
			}
		}
		if prev != c.o.Replica {
			rec.log(c.o.Now().UTC(), "taken over from "+prev, c.o.Replica)
		}
		return nil
	})
	if err != nil {
		_ = c.o.Store.Delete(ctx, leaseKey(id))
		return
	}
	c.o.Logger.InfoContext(ctx, "rollout owned", "rollout", id, "epoch", epoch)
	c.drive(id, epoch)
}

func (c *Controller) isDriving(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.driving[id]
}

// poke wakes the driver of id, if this controller has one.
func (c *Controller) poke(id string) {
	c.mu.Lock()
	w := c.wake[id]
	c.mu.Unlock()
	if w != nil {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Close stops driving rollouts (their leases lapse, so another replica
// takes them over) and waits for running steps to finish.
func (c *Controller) Close() {
	c.cancel()
	c.wg.Wait()
}

// drive runs a rollout this controller owns at epoch, in the background.
func (c *Controller) drive(id string, epoch int64) {
	c.mu.Lock()
	if c.driving[id] {
		c.mu.Unlock()
		return
	}
	c.driving[id] = true
	wake := make(chan struct{}, 1)
	c.wake[id] = wake
	c.mu.Unlock()
	ctx, cancel := context.WithCancel(c.base)
	c.wg.Add(2)
	go func() { // the lease, renewed while the rollout is driven here
		defer c.wg.Done()
		t := time.NewTicker(c.o.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				err := c.o.Store.Update(ctx, leaseKey(id), c.o.Lease, func(old []byte) ([]byte, error) {
					if string(old) != c.o.Replica {
						return nil, errLost
					}
					return old, nil
				})
				if errors.Is(err, cache.ErrNotFound) && c.retake(ctx, id, epoch) {
					continue
				}
				if errors.Is(err, errLost) || errors.Is(err, cache.ErrNotFound) {
					cancel() // someone else owns it now
					return
				}
			}
		}
	}()
	go func() {
		defer c.wg.Done()
		finished := c.loop(ctx, id, epoch, wake)
		cancel()
		c.mu.Lock()
		delete(c.driving, id)
		delete(c.wake, id)
		c.mu.Unlock()
		if !finished || c.base.Err() != nil {
			return
		}
		// Finished: free the lease, so a retry is taken up at once, and take
		// up a decision that came in while this one was finishing.
		bg := context.WithoutCancel(ctx)
		_ = c.o.Store.Delete(bg, leaseKey(id))
		if r, err := c.Get(bg, id); err == nil && r.Active() {
			c.adoptOne(bg, id)
		}
	}()
}

// retake takes the lease of a rollout this controller drives at epoch
// again after it lapsed (a renewal came late: a loaded machine, a slow
// store) while nobody took the rollout over: the record still carries
// this owner's epoch. Otherwise the new owner's lease stays.
func (c *Controller) retake(ctx context.Context, id string, epoch int64) bool {
	won, err := c.o.Store.SetNX(ctx, leaseKey(id), []byte(c.o.Replica), c.o.Lease)
	if err != nil || !won {
		return false
	}
	if r, err := c.Get(ctx, id); err == nil && r.Epoch == epoch && r.Active() {
		c.o.Logger.WarnContext(ctx, "rollout lease lapsed before its renewal; taken again", "rollout", id, "epoch", epoch)
		return true
	}
	_ = c.o.Store.Delete(ctx, leaseKey(id))
	return false
}

// loop drives one rollout until it ends (true), or this replica loses it.
func (c *Controller) loop(ctx context.Context, id string, epoch int64, wake <-chan struct{}) bool {
	var touched time.Time
	for {
		r, err := c.Get(ctx, id)
		if err != nil || r.Epoch != epoch {
			return false
		}
		if !r.Active() {
			return true
		}
		if time.Since(touched) >= c.o.Lease {
			c.keepAlive(ctx, r)
			touched = time.Now()
		}
		if r.Status == Running {
			if err := c.step(ctx, r); errors.Is(err, errLost) {
				return false
			} else if err != nil && ctx.Err() == nil {
				c.o.Logger.WarnContext(ctx, "rollout: recording a decision failed; trying again", "rollout", id, "err", err)
			}
			continue
		}
		select { // paused or halted: wait for a user's decision
		case <-ctx.Done():
			return false
		case <-wake:
		case <-time.After(min(time.Second, c.o.Lease/3)): // a decision taken on another replica; keeping alive
		}
	}
}

// step runs the next wave that has work, or ends the rollout.
func (c *Controller) step(ctx context.Context, r *Record) error {
	for w := range r.Waves {
		if !hasWork(r, w) {
			continue
		}
		if w == 1 && r.Spec.PauseAfterCanary && !r.CanaryApproved {
			_, err := c.update(ctx, r.ID, r.Epoch, func(rec *Record) error {
				rec.Status, rec.Reason = Paused, "canary"
				rec.log(c.o.Now().UTC(), "paused after the canary", c.o.Replica)
				return nil
			})
			return err
		}
		if w > 0 && r.Spec.PauseBetween > 0 && !waveStarted(r, w) {
			pause, tick := time.NewTimer(r.Spec.PauseBetween), time.NewTicker(c.o.Lease)
			defer pause.Stop()
			defer tick.Stop()
			for waiting := true; waiting; {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-pause.C:
					waiting = false
				case <-tick.C:
					c.keepAlive(ctx, r)
				}
			}
		}
		return c.wave(ctx, r, w)
	}
	_, err := c.update(ctx, r.ID, r.Epoch, func(rec *Record) error {
		rec.Status = Succeeded
		for _, s := range rec.Servers {
			if s.Status != Done {
				rec.Status = CompletedWithFailures
			}
		}
		rec.log(c.o.Now().UTC(), string(rec.Status), c.o.Replica)
		return nil
	})
	return err
}

func (c *Controller) keepAlive(ctx context.Context, r *Record) {
	if c.o.KeepAlive != nil {
		c.o.KeepAlive(ctx, &r.Spec)
	}
}

func hasWork(r *Record, w int) bool {
	for _, s := range r.Servers {
		if s.Wave == w && (s.Status == Pending || s.Status == InDoubt) {
			return true
		}
	}
	return false
}

func waveStarted(r *Record, w int) bool {
	for _, s := range r.Servers {
		if s.Wave == w && s.Status != Pending {
			return true
		}
	}
	return false
}

// overBudget says why the rollout must halt, "" when it may go on.
func overBudget(r *Record, w int) string {
	all, wave := r.failures(w)
	if w == 0 && wave > 0 && !r.Spec.Synchronous {
		return "the canary failed"
	}
	max, _ := r.Spec.MaxFailures.Of(len(r.Servers))
	if all > max {
		return fmt.Sprintf("%d servers failed, over the budget of %d", all, max)
	}
	if r.Spec.MaxWaveFailures != "" {
		n := 0
		for _, s := range r.Servers {
			if s.Wave == w {
				n++
			}
		}
		wmax, _ := r.Spec.MaxWaveFailures.Of(n)
		if wave > wmax {
			return fmt.Sprintf("%d servers of wave %d failed, over its budget of %d", wave, w, wmax)
		}
	}
	return ""
}

// wave runs wave w's pending servers, at most Concurrency at once and
// GroupSlots of a group, and stops starting servers when the rollout is
// no longer running or a budget is spent; servers in flight finish.
func (c *Controller) wave(ctx context.Context, r *Record, w int) error {
	type done struct {
		i   int
		res StepResult
	}
	results := make(chan done)
	inflight := 0
	groups := map[string]int{}
	var stopErr error
	stopping := false
	// fresh: r is what the last write returned, so the record need not
	// be read again (with 500 servers a read is a 100 kB decode, and it
	// came once per server started and once per outcome).
	fresh := false // r came from before a pause between waves, perhaps
	for {
		if !stopping {
			cur, err := r, error(nil)
			if !fresh {
				cur, err = c.Get(ctx, r.ID)
			}
			fresh = false
			switch {
			case err != nil:
				stopping, stopErr = true, err
			case cur.Epoch != r.Epoch:
				stopping, stopErr = true, errLost
			case cur.Status != Running:
				stopping = true
			default:
				r = cur
				if why := overBudget(r, w); why != "" {
					_, stopErr = c.update(ctx, r.ID, r.Epoch, func(rec *Record) error {
						rec.Status, rec.Reason = Halted, why
						rec.log(c.o.Now().UTC(), "halted: "+why, c.o.Replica)
						return nil
					})
					stopping = true
				}
			}
		}
		next := -1
		if !stopping && inflight < r.Spec.Concurrency {
			for i, s := range r.Servers {
				if s.Wave == w && (s.Status == Pending || s.Status == InDoubt) && c.slotFree(r, s.Target, groups) {
					next = i
					break
				}
			}
		}
		if next < 0 {
			if inflight == 0 {
				return stopErr
			}
			d := <-results
			inflight--
			for _, g := range r.Spec.Groups[r.Servers[d.i].Target.Key()] {
				groups[g]--
			}
			if rec, err := c.record(ctx, r, d.i, d.res); err != nil {
				stopping, stopErr = true, err
			} else {
				r, fresh = rec, true
			}
			continue
		}
		var claim Claim
		claimed, err := c.setServer(ctx, r, next, func(s *Server) error {
			if s.Status != Pending && s.Status != InDoubt {
				return ErrState
			}
			now := c.o.Now().UTC()
			if s.Status == Pending || s.Stamp == nil {
				stamp := now.Truncate(time.Second)
				s.Stamp = &stamp
			}
			claim = Claim{Attempt: s.Attempt + 1, Stamp: *s.Stamp, InDoubt: s.Status == InDoubt}
			s.Status, s.Started, s.Finished = InFlight, &now, nil
			s.Attempt++
			return nil
		})
		if err != nil {
			stopping, stopErr = true, err
			continue
		}
		r, fresh = claimed, true
		for _, g := range r.Spec.Groups[r.Servers[next].Target.Key()] {
			groups[g]++
		}
		inflight++
		spec, t := r.Spec, r.Servers[next].Target
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			// A step is never cut in the middle: it runs on its own context,
			// bounded by the step itself, not by this replica's shutdown.
			results <- done{next, c.o.Step(context.WithoutCancel(ctx), &spec, t, claim)}
		}()
	}
}

// slotFree reports whether t's groups have a slot left.
func (c *Controller) slotFree(r *Record, t target.Target, inflight map[string]int) bool {
	for _, g := range r.Spec.Groups[t.Key()] {
		if n, ok := r.Spec.GroupSlots[g]; ok && inflight[g] >= n {
			return false
		}
	}
	return true
}

// record writes one server's outcome.
func (c *Controller) record(ctx context.Context, r *Record, i int, res StepResult) (*Record, error) {
	ctx = context.WithoutCancel(ctx)
	if res.Credentials { // the rollout pauses: a change of the header too
		return c.update(ctx, r.ID, r.Epoch, func(rec *Record) error {
			s := &rec.Servers[i]
			s.Status, s.Started = Pending, nil
			s.Attempt--
			if rec.Status == Running {
				rec.Status, rec.Reason = Paused, "credentials"
				rec.log(c.o.Now().UTC(), "paused: the session is gone; resume from a new login", c.o.Replica)
			}
			return nil
		})
	}
	return c.setServer(ctx, r, i, func(s *Server) error {
		now := c.o.Now().UTC()
		switch {
		case res.Status == Unreachable && r.Spec.DeferUnreachable:
			s.Status = Deferred
		case res.Status == Done || res.Status == Failed || res.Status == Unreachable:
			s.Status = res.Status
		default:
			s.Status = Failed
		}
		s.Objects, s.Counts, s.Error, s.Finished = res.Objects, res.Counts, truncate(res.Err, 1024), &now
		return nil
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
