package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
)

// The tests here are the store blinking around a job's end: the record
// must end up saying what happened, and readers must never see a
// finished fan-out as interrupted.

// okResults is every target answering.
func okResults(n int) fanout.Results {
	ts := targets(n)
	out := make(fanout.Results, n)
	for i, t := range ts {
		out[i] = fanout.Result{Target: t, Value: int64(i), Attempts: 1}
	}
	return out
}

// endDuringOutage starts a job on owner, records the first answer, takes
// the store away with down, ends the job, brings the store back with up
// and checks through reader that the job reads done with every answer,
// never interrupted on the way.
func endDuringOutage(t *testing.T, owner, reader *jobs.Recorder, down func(), up func(id string)) {
	t.Helper()
	ctx := context.Background()
	res := okResults(5)
	run, err := owner.Start(ctx, jobs.Spec{Method: "system.scheduleReboot", User: "admin", Targets: targets(5)})
	require.NoError(t, err)
	run.Finished(res[0])
	require.Eventually(t, func() bool {
		j, err := reader.Get(ctx, run.ID())
		return err == nil && j.Finished == 1
	}, 20*time.Second, 10*time.Millisecond)

	down()
	ended := make(chan struct{})
	go func() { run.End(res); close(ended) }()
	select {
	case <-ended: // End is bounded although its write failed
	case <-time.After(20 * time.Second):
		t.Fatal("End waits for a store that is down")
	}
	up(run.ID())

	var j *jobs.Job
	require.Eventually(t, func() bool {
		j, err = reader.Get(ctx, run.ID())
		if err != nil {
			return false // the store may take a moment
		}
		require.NotEqual(t, jobs.Interrupted, j.Status, "a finished fan-out never reads interrupted")
		return j.Status == jobs.Done
	}, 20*time.Second, 10*time.Millisecond)
	require.Equal(t, [3]int{5, 5, 0}, [3]int{j.Finished, j.Succeeded, j.Failed}, "every answer recorded")
	for i, tg := range j.Targets {
		require.Equal(t, "ok", tg.Status, "target %d", i)
	}
}

func TestFinalWriteRetriedUntilItLands(t *testing.T) {
	st := cache.NewMemory(cache.MemoryOptions{})
	k := &killable{Store: st}
	owner := newRecorder(t, k, jobs.Options{Replica: "A"})
	reader := newRecorder(t, st, jobs.Options{Replica: "B"})
	endDuringOutage(t, owner, reader, func() { k.dead.Store(true) }, func(id string) {
		// Meanwhile readers see the job running, as it was last written.
		j, err := reader.Get(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, jobs.Running, j.Status)
		require.Equal(t, 1, j.Finished)
		k.dead.Store(false)
	})
}

// A real Redis stopped with SIGSTOP across the job's end (the owner's
// final write times out), then continued.
func TestRedisPausedAcrossEnd(t *testing.T) {
	srv := redistest.Start(t)
	if srv.External {
		t.Skip("pauses Redis: needs a redis-server this test starts (REDIS_URL is set)")
	}
	prefix := redistest.Prefix(t)
	recorder := func(replica string) (*jobs.Recorder, cache.Store) {
		st, err := cache.NewRedis(srv.URL, cache.RedisOptions{Prefix: prefix, Timeout: 300 * time.Millisecond})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return newRecorder(t, st, jobs.Options{Replica: replica}), st
	}
	owner, _ := recorder("A")
	reader, rst := recorder("B")
	endDuringOutage(t, owner, reader, srv.Pause, func(string) {
		// The pause spans the end: Redis still answers nothing.
		require.ErrorIs(t, rst.Ping(context.Background()), cache.ErrUnavailable)
		srv.Resume()
	})
}

// The listing indexes' node being down does not stop fan-outs: the job is
// recorded and readable, and listed once the indexes can be written.
func TestIndexDownDoesNotStopFanOuts(t *testing.T) {
	ctx := context.Background()
	st := cache.NewMemory(cache.MemoryOptions{})
	k := &killable{Store: st}
	k.indexDead.Store(true)
	rec := newRecorder(t, k, jobs.Options{})
	res := okResults(2)
	run, err := rec.Start(ctx, jobs.Spec{Method: "system.scheduleReboot", User: "admin", Targets: targets(2)})
	require.NoError(t, err, "the fan-out is sent")
	run.End(res)
	j, err := rec.Get(ctx, run.ID())
	require.NoError(t, err)
	require.Equal(t, jobs.Done, j.Status)
	require.Equal(t, 2, j.Succeeded)
	list, err := rec.List(ctx, jobs.Filter{User: "admin"})
	require.NoError(t, err)
	require.Empty(t, list, "not listed while the index cannot be written")

	k.indexDead.Store(false)
	for _, f := range []jobs.Filter{{User: "admin"}, {}} {
		require.Eventually(t, func() bool {
			list, err := rec.List(ctx, f)
			return err == nil && len(list) == 1 && list[0].ID == run.ID() && list[0].Status == jobs.Done
		}, 20*time.Second, 10*time.Millisecond, "listed once the index is back (%+v)", f)
	}
}
