package rollout

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache/redistest"
)

// A lease that lapses (its renewal came late) while nobody takes the
// rollout over: the owner takes it again and finishes, with no Run to
// adopt it.
func TestLeaseLapsedWithoutTakeover(t *testing.T) {
	ctx := context.Background()
	for name, open := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			f := newFleet()
			f.gate["p1"] = make(chan struct{})
			c := newController(t, st, f, "a")
			r, err := c.Start(ctx, Spec{User: "admin", Targets: servers(3), Waves: []Amount{"1"}})
			require.NoError(t, err)
			require.Eventually(t, func() bool { return len(f.ran()) == 2 }, 10*time.Second, 5*time.Millisecond)
			require.NoError(t, st.Delete(ctx, leaseKey(r.ID)))
			time.Sleep(c.o.Lease) // renewals come every Lease/3: at least one finds the lease gone
			close(f.gate["p1"])
			r = settled(t, c, r.ID)
			require.Equal(t, Succeeded, r.Status)
			require.Equal(t, int64(1), r.Epoch, "the same owner, no takeover")
			require.Equal(t, []string{"p0#1", "p1#1", "p2#1"}, f.ran())
		})
	}
}

// Finished rollouts leave the active index (adoption and the conflict
// check read only that); a retry puts one back.
func TestActiveIndex(t *testing.T) {
	ctx := context.Background()
	for name, open := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			f := newFleet()
			f.fail["p1"] = true
			c := newController(t, st, f, "a")
			r, err := c.Start(ctx, Spec{User: "admin", Targets: servers(2), MaxFailures: "1"})
			require.NoError(t, err)
			active := func() []string {
				ids, err := st.ZRevRange(ctx, activeIndex, 10)
				require.NoError(t, err)
				return ids
			}
			require.Equal(t, CompletedWithFailures, settled(t, c, r.ID).Status)
			require.Eventually(t, func() bool { return len(active()) == 0 }, 10*time.Second, 5*time.Millisecond)
			f.mu.Lock()
			f.fail = map[string]bool{}
			f.gate["p1"] = make(chan struct{}) // the retry stays running while the index is read
			f.mu.Unlock()
			_, err = c.Retry(ctx, r.ID, "admin", nil)
			require.NoError(t, err)
			require.Equal(t, []string{r.ID}, active())
			close(f.gate["p1"])
			require.Equal(t, Succeeded, settled(t, c, r.ID).Status)
			require.Eventually(t, func() bool { return len(active()) == 0 }, 10*time.Second, 5*time.Millisecond)
		})
	}
}

// A server's change is one field written under the epoch and version: a
// stale owner (its epoch gone) changes nothing, a user's decision that
// came in between makes the owner read again, and what neither touched
// is left as it was. On memory and Redis.
func TestServerWritesGuarded(t *testing.T) {
	ctx := context.Background()
	for name, open := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			f := newFleet()
			f.gate["p0"] = make(chan struct{})
			c := newController(t, st, f, "a")
			t.Cleanup(func() { close(f.gate["p0"]) }) // before Close, which waits for the step
			r, err := c.Start(ctx, Spec{User: "admin", Targets: servers(3), PauseAfterCanary: true})
			require.NoError(t, err)
			require.Eventually(t, func() bool { return len(f.ran()) == 1 }, 10*time.Second, 5*time.Millisecond)
			stale, err := c.Get(ctx, r.ID)
			require.NoError(t, err)

			// A user's abort (the pending servers are skipped) lands first:
			// the owner's view is stale, so its write reads again and fn
			// sees the skip.
			_, err = c.Abort(ctx, r.ID, "admin")
			require.NoError(t, err)
			var saw ServerStatus
			_, err = c.setServer(ctx, stale, 1, func(s *Server) error {
				if saw = s.Status; saw != Pending {
					return ErrState
				}
				s.Status = InFlight
				return nil
			})
			require.ErrorIs(t, err, ErrState)
			require.Equal(t, Skipped, saw)

			// Another replica's epoch: the old owner's write fails.
			stale, err = c.Get(ctx, r.ID)
			require.NoError(t, err)
			_, err = c.update(ctx, r.ID, 0, func(rec *Record) error { rec.Epoch++; return nil })
			require.NoError(t, err)
			_, err = c.setServer(ctx, stale, 2, func(s *Server) error { s.Status = Done; return nil })
			require.ErrorIs(t, err, errLost)
			got, err := c.Get(ctx, r.ID)
			require.NoError(t, err)
			require.Equal(t, Skipped, got.Servers[2].Status)
			require.Equal(t, InFlight, got.Servers[0].Status)
			require.Equal(t, stale.Epoch+1, got.Epoch)
		})
	}
}

// A synchronous rollout (an apply): one wave whose failures do not halt
// it, since it is no canary; Wait returns it finished, having seen every
// server's outcome on the way (memory and Redis).
func TestSynchronousWait(t *testing.T) {
	ctx := context.Background()
	for name, open := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			f := newFleet()
			f.fail["p0"], f.fail["p3"] = true, true
			c := newController(t, open(t), f, "a")
			ts := servers(5)
			r, err := c.Start(ctx, Spec{User: "admin", Targets: ts, Canary: len(ts), Concurrency: 2, MaxFailures: "100%", Synchronous: true})
			require.NoError(t, err)
			finished := map[string]bool{}
			r, err = c.Wait(ctx, r.ID, func(r *Record) {
				for _, s := range r.Servers {
					if s.Finished != nil {
						finished[s.Target.Name] = true
					}
				}
			})
			require.NoError(t, err)
			require.Equal(t, CompletedWithFailures, r.Status)
			require.Len(t, r.Waves, 1)
			require.Equal(t, map[string]ServerStatus{"p0": Failed, "p1": Done, "p2": Done, "p3": Failed, "p4": Done}, statuses(r))
			require.Len(t, finished, 5)
		})
	}
}
