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
