package rollout

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/gateway/target"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// fleet is a fake set of servers whose step outcome the test decides.
type fleet struct {
	mu       sync.Mutex
	fail     map[string]bool // by target name
	runs     []string        // "name#attempt", in start order
	inflight map[string]int  // by group
	peak     map[string]int
	groups   map[string][]string
	gate     map[string]chan struct{} // a step on this server waits for it
	noCreds  bool
}

func newFleet() *fleet {
	return &fleet{fail: map[string]bool{}, inflight: map[string]int{}, peak: map[string]int{}, groups: map[string][]string{}, gate: map[string]chan struct{}{}}
}

func (f *fleet) step(_ context.Context, _ *Spec, t target.Target, claim Claim) StepResult {
	attempt := claim.Attempt
	f.mu.Lock()
	if f.noCreds {
		f.mu.Unlock()
		return StepResult{Credentials: true}
	}
	f.runs = append(f.runs, fmt.Sprintf("%s#%d", t.Name, attempt))
	for _, g := range f.groups[t.Key()] {
		f.inflight[g]++
		f.peak[g] = max(f.peak[g], f.inflight[g])
	}
	gate := f.gate[t.Name]
	failing := f.fail[t.Name]
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	for _, g := range f.groups[t.Key()] {
		f.inflight[g]--
	}
	f.mu.Unlock()
	if failing {
		return StepResult{Status: Failed, Err: "fault 2800", Counts: map[string]int{"failed": 1}}
	}
	return StepResult{Status: Done, Counts: map[string]int{"created": 1}}
}

func (f *fleet) ran() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.runs...)
}

func servers(n int) []target.Target {
	ts := make([]target.Target, n)
	for i := range ts {
		ts[i] = target.Target{ID: int64(1000010001 + i), Name: fmt.Sprintf("p%d", i)}
	}
	return ts
}

func newController(t *testing.T, st cache.Store, f *fleet, replica string) *Controller {
	t.Helper()
	c := New(Options{Store: st, Step: f.step, Replica: replica, Lease: 300 * time.Millisecond})
	t.Cleanup(c.Close)
	return c
}

// settled waits until the rollout stops running and returns it.
func settled(t *testing.T, c *Controller, id string) *Record {
	t.Helper()
	var r *Record
	require.Eventually(t, func() bool {
		var err error
		r, err = c.Get(context.Background(), id)
		require.NoError(t, err)
		return r.Status != Running
	}, 20*time.Second, 5*time.Millisecond)
	return r
}

func statuses(r *Record) map[string]ServerStatus {
	out := map[string]ServerStatus{}
	for _, s := range r.Servers {
		out[s.Target.Name] = s.Status
	}
	return out
}

func TestWaves(t *testing.T) {
	for _, tc := range []struct {
		n      int
		canary int
		waves  []Amount
		want   [][]int
	}{
		{5, 0, nil, [][]int{{0}, {1, 2, 3, 4}}},
		{10, 2, []Amount{"1", "30%"}, [][]int{{0, 1}, {2}, {3, 4, 5}, {6, 7, 8}, {9}}},
		{1, 1, []Amount{"50%"}, [][]int{{0}}},
	} {
		got, err := Spec{Targets: servers(tc.n), Canary: tc.canary, Waves: tc.waves}.waves()
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
	require.Error(t, Spec{Targets: servers(2), User: "u", Waves: []Amount{"x%"}}.Validate())
}

func TestRollout(t *testing.T) {
	ctx := context.Background()
	for name, open := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			t.Run("canary failure halts before any other server", func(t *testing.T) {
				f := newFleet()
				f.fail["p0"] = true
				c := newController(t, open(t), f, "a")
				r, err := c.Start(ctx, Spec{User: "admin", Targets: servers(5), Waves: []Amount{"2"}, MaxFailures: "3"})
				require.NoError(t, err)
				r = settled(t, c, r.ID)
				require.Equal(t, Halted, r.Status)
				require.Equal(t, "the canary failed", r.Reason)
				require.Equal(t, []string{"p0#1"}, f.ran())
			})
			t.Run("budget over the whole rollout, then resume and retry", func(t *testing.T) {
				f := newFleet()
				f.fail["p1"], f.fail["p2"] = true, true
				c := newController(t, open(t), f, "a")
				r, err := c.Start(ctx, Spec{User: "admin", Targets: servers(7), Waves: []Amount{"2"}, Concurrency: 1, MaxFailures: "1"})
				require.NoError(t, err)
				r = settled(t, c, r.ID)
				require.Equal(t, Halted, r.Status, r.Reason)
				require.Equal(t, []string{"p0#1", "p1#1", "p2#1"}, f.ran(), "halted after the second failure; later waves not started")
				require.Equal(t, Pending, statuses(r)["p3"])

				_, err = c.Resume(ctx, r.ID, "someone-else", nil, "")
				require.ErrorIs(t, err, ErrNotFound, "only the rollout's user changes it")
				bigger := Amount("50%")
				_, err = c.Resume(ctx, r.ID, "admin", &bigger, "")
				require.NoError(t, err)
				r = settled(t, c, r.ID)
				require.Equal(t, CompletedWithFailures, r.Status)
				require.Len(t, f.ran(), 7)
				require.Equal(t, 5, r.Counts()["created"])

				f.mu.Lock()
				f.fail = map[string]bool{}
				f.mu.Unlock()
				_, err = c.Retry(ctx, r.ID, "admin", nil)
				require.NoError(t, err)
				r = settled(t, c, r.ID)
				require.Equal(t, Succeeded, r.Status)
				require.Equal(t, []string{"p1#2", "p2#2"}, f.ran()[7:], "only the failed servers, as attempt 2")
			})
			t.Run("group slots", func(t *testing.T) {
				f := newFleet()
				ts := servers(8)
				groups := map[string][]string{}
				for i, tg := range ts {
					if i%2 == 0 {
						groups[tg.Key()] = []string{"dbs"}
					}
				}
				f.groups = groups
				c := newController(t, open(t), f, "a")
				r, err := c.Start(ctx, Spec{User: "admin", Targets: ts, Concurrency: 8, Groups: groups, GroupSlots: map[string]int{"dbs": 1}})
				require.NoError(t, err)
				require.Equal(t, Succeeded, settled(t, c, r.ID).Status)
				require.Equal(t, 1, f.peak["dbs"])
			})
			t.Run("pause after the canary; abort skips the rest", func(t *testing.T) {
				f := newFleet()
				c := newController(t, open(t), f, "a")
				r, err := c.Start(ctx, Spec{User: "admin", Targets: servers(4), Waves: []Amount{"1"}, PauseAfterCanary: true})
				require.NoError(t, err)
				r = settled(t, c, r.ID)
				require.Equal(t, Paused, r.Status)
				require.Equal(t, "canary", r.Reason)
				_, err = c.Resume(ctx, r.ID, "admin", nil, "")
				require.NoError(t, err)
				require.Equal(t, Succeeded, settled(t, c, r.ID).Status)

				f2 := newFleet()
				f2.gate["p1"] = make(chan struct{})
				c2 := newController(t, open(t), f2, "b")
				r, err = c2.Start(ctx, Spec{User: "admin", Targets: servers(4), Waves: []Amount{"1"}})
				require.NoError(t, err)
				require.Eventually(t, func() bool { return len(f2.ran()) == 2 }, 10*time.Second, 5*time.Millisecond)
				_, err = c2.Abort(ctx, r.ID, "admin")
				require.NoError(t, err)
				close(f2.gate["p1"]) // the step in flight finishes
				require.Eventually(t, func() bool {
					r, _ = c2.Get(ctx, r.ID)
					return r.Servers[1].Status == Done
				}, 10*time.Second, 5*time.Millisecond)
				require.Equal(t, Aborted, r.Status)
				require.Equal(t, map[string]ServerStatus{"p0": Done, "p1": Done, "p2": Skipped, "p3": Skipped}, statuses(r))
			})
			t.Run("credentials gone: paused, resumed from a new login", func(t *testing.T) {
				f := newFleet()
				f.noCreds = true
				c := newController(t, open(t), f, "a")
				r, err := c.Start(ctx, Spec{User: "admin", Targets: servers(3)})
				require.NoError(t, err)
				r = settled(t, c, r.ID)
				require.Equal(t, Paused, r.Status)
				require.Equal(t, "credentials", r.Reason)
				f.mu.Lock()
				f.noCreds = false
				f.mu.Unlock()
				_, err = c.Resume(ctx, r.ID, "admin", nil, "gw-new-session")
				require.NoError(t, err)
				r = settled(t, c, r.ID)
				require.Equal(t, Succeeded, r.Status)
				require.ElementsMatch(t, []string{"p0#1", "p1#1", "p2#1"}, f.ran())
			})
			t.Run("events: one per server, wave and rollout change, until it ends", func(t *testing.T) {
				f := newFleet()
				f.gate["p0"] = make(chan struct{})
				c := newController(t, open(t), f, "a")
				r, err := c.Start(ctx, Spec{User: "admin", Targets: servers(3), Waves: []Amount{"1"}})
				require.NoError(t, err)
				require.Eventually(t, func() bool { return len(f.ran()) == 1 }, 10*time.Second, 5*time.Millisecond)
				events, err := c.Watch(ctx, r.ID)
				require.NoError(t, err)
				first := <-events
				require.Equal(t, Event{Type: "server", Rollout: r.ID, Status: "running", Server: &EventServer{Target: "p0", ServerID: 1000010001, Attempt: 1}}, first)
				close(f.gate["p0"])
				var got []string
				timeout := time.After(20 * time.Second)
				for done := false; !done; {
					select {
					case e, ok := <-events:
						if done = !ok; ok {
							got = append(got, fmt.Sprintf("%s %d %s", e.Type, e.Wave, e.Status))
						}
					case <-timeout:
						t.Fatalf("the rollout did not end: %v", got)
					}
				}
				require.Equal(t, "rollout 0 succeeded", got[len(got)-1])
				count := map[string]int{}
				for _, g := range got {
					count[g]++
				}
				for _, want := range []string{"server 0 succeeded", "server 1 succeeded", "server 2 succeeded", "wave 0 succeeded", "wave 1 succeeded", "wave 2 succeeded"} {
					require.Equal(t, 1, count[want], "%s in %v", want, got)
				}
				_, err = c.Watch(ctx, "nope")
				require.ErrorIs(t, err, ErrNotFound)
			})
			t.Run("two active rollouts may not touch the same object on a server", func(t *testing.T) {
				f := newFleet()
				f.gate["p0"] = make(chan struct{})
				defer close(f.gate["p0"])
				c := newController(t, open(t), f, "a")
				first, err := c.Start(ctx, Spec{User: "admin", Targets: servers(2), Objects: []string{"ConfigChannel/motd"}})
				require.NoError(t, err)
				_, err = c.Start(ctx, Spec{User: "admin", Targets: servers(1), Objects: []string{"ConfigChannel/motd"}})
				require.ErrorIs(t, err, ErrConflict)
				require.Contains(t, err.Error(), first.ID)
				_, err = c.Start(ctx, Spec{User: "admin", Targets: servers(1), Objects: []string{"ActivationKey/web"}})
				require.NoError(t, err, "another object is fine")
			})
		})
	}
}

// An owner that dies mid-wave: another replica takes the rollout over
// after its lease, runs the server left in doubt again and finishes; the
// old owner, waking up, cannot overwrite the new owner's record.
func TestTakeover(t *testing.T) {
	ctx := context.Background()
	st := redistest.Stores()["redis"](t)
	fa, fb := newFleet(), newFleet()
	fa.gate["p2"] = make(chan struct{})
	a := New(Options{Store: st, Step: fa.step, Replica: "a", Lease: 300 * time.Millisecond})
	b := newController(t, st, fb, "b")
	r, err := a.Start(ctx, Spec{User: "admin", Targets: servers(5), Waves: []Amount{"2"}, Concurrency: 1})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(fa.ran()) == 3 }, 10*time.Second, 5*time.Millisecond)
	a.cancel() // a dies: no more lease renewals or decisions (its step on p2 hangs)

	b.Run(ctx)
	r = settled(t, b, r.ID)
	require.Equal(t, Succeeded, r.Status)
	require.Equal(t, int64(2), r.Epoch)
	require.Equal(t, "b", r.Owner)
	require.Equal(t, []string{"p2#2", "p3#1", "p4#1"}, fb.ran(), "b runs the server in doubt again, then the rest")
	require.Contains(t, r.Log[len(r.Log)-2].Event, "taken over from a")

	close(fa.gate["p2"]) // a's late answer
	a.wg.Wait()
	after, err := b.Get(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, r.Servers, after.Servers, "the old owner's write was refused")
}
