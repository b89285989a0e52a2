package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
)

// record makes n one-server jobs of user, each answered with size bytes,
// and returns their ids, oldest first.
func record(t *testing.T, rec *jobs.Recorder, user string, n, size int) []string {
	t.Helper()
	ts := targets(1)
	var ids []string
	for range n {
		run, err := rec.Start(context.Background(), jobs.Spec{Method: "system.scheduleReboot", User: user, Targets: ts})
		require.NoError(t, err)
		run.End(fanout.Results{{Target: ts[0], Value: strings.Repeat("x", size), Attempts: 1}})
		ids = append(ids, run.ID())
	}
	return ids
}

// kept is how many of ids can still be read.
func kept(t *testing.T, rec *jobs.Recorder, ids []string) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		_, err := rec.Get(context.Background(), id)
		if err == nil {
			n++
			continue
		}
		require.ErrorIs(t, err, jobs.ErrNotFound)
	}
	return n
}

func TestByteBudget(t *testing.T) {
	ctx := context.Background()
	const total, perUser, answer = 64 << 10, 32 << 10, 1000
	rec := newRecorder(t, cache.NewMemory(cache.MemoryOptions{}), jobs.Options{MaxBytes: total, MaxUserBytes: perUser})

	// One user past their budget loses their oldest jobs, not others'.
	bob := record(t, rec, "bob", 3, answer)
	alice := record(t, rec, "alice", 200, answer)
	// Records are dropped by the writers after End returns: wait until
	// what can be read and what is listed agree.
	var n int
	require.Eventually(t, func() bool {
		n = kept(t, rec, alice)
		list, err := rec.List(ctx, jobs.Filter{User: "alice", Limit: 1000})
		return err == nil && len(list) == n
	}, 10*time.Second, 10*time.Millisecond, "dropped jobs leave the listing")
	require.Less(t, n, perUser/answer, "alice's records fit her budget")
	require.Greater(t, n, perUser/answer/4, "and use a good part of it")
	_, err := rec.Get(ctx, alice[len(alice)-1])
	require.NoError(t, err, "the newest is kept")
	_, err = rec.Get(ctx, alice[0])
	require.ErrorIs(t, err, jobs.ErrNotFound, "the oldest went")
	require.Equal(t, 3, kept(t, rec, bob), "bob's are his")

	// Many users: the total budget holds.
	for _, u := range []string{"carol", "dave", "erin", "frank"} {
		record(t, rec, u, 40, answer)
	}
	all, err := rec.List(ctx, jobs.Filter{Limit: 1000})
	require.NoError(t, err)
	require.Less(t, len(all), total/answer)
}

func TestJobByteCap(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder(t, cache.NewMemory(cache.MemoryOptions{}), jobs.Options{MaxJobBytes: 2500})
	ts := targets(5)
	run, err := rec.Start(ctx, jobs.Spec{Method: "system.scheduleReboot", User: "admin", Targets: ts})
	require.NoError(t, err)
	var res fanout.Results
	for _, tg := range ts {
		res = append(res, fanout.Result{Target: tg, Value: strings.Repeat("y", 1000), Attempts: 1})
	}
	run.End(res)
	j, err := rec.Get(ctx, run.ID())
	require.NoError(t, err)
	require.Equal(t, 5, j.Succeeded)
	recorded := 0
	for _, tg := range j.Targets {
		if tg.Value != nil {
			recorded++
		} else {
			require.Equal(t, "the job's answers are over its 2500 byte budget", tg.ValueOmitted)
		}
	}
	require.Equal(t, 2, recorded)
}
