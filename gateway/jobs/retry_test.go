package jobs_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
	run.Finished(0, res[0])
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
		require.Equal(t, "ok", tg.Outcome, "target %d", i)
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

// A failover that lost what the old master had acknowledged (the whole
// record, the first answer's write included): the owner's next write
// after the failure is whole, so the job still reads done with every
// answer.
func TestWritesLostInAFailoverAreWrittenAgain(t *testing.T) {
	st := cache.NewMemory(cache.MemoryOptions{})
	k := &killable{Store: st}
	owner := newRecorder(t, k, jobs.Options{Replica: "A"})
	reader := newRecorder(t, st, jobs.Options{Replica: "B"})
	endDuringOutage(t, owner, reader, func() { k.dead.Store(true) }, func(id string) {
		require.NoError(t, st.Delete(context.Background(), "job:{"+id+"}", "job:{"+id+"}:targets"))
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

// A cluster master holding the listing indexes dies (SIGKILL) while jobs
// run: jobs whose own slot lives elsewhere still start, jobs that end
// during the failover read done with every answer afterwards, and every
// job is listed once the replica has taken over.
func TestJobsThroughClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a six-node cluster and fails over")
	}
	ctx := context.Background()
	c := redistest.StartCluster(t, 3, 1)
	if c.External {
		t.Skip("kills a master: needs a cluster this test starts (REDIS_CLUSTER_URL is set)")
	}
	prefix := redistest.Prefix(t)
	recorder := func(replica string) *jobs.Recorder {
		st, err := cache.NewRedis(c.URL, cache.RedisOptions{Prefix: prefix, Timeout: time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return newRecorder(t, st, jobs.Options{Replica: replica})
	}
	owner, reader := recorder("A"), recorder("B")
	res := okResults(3)
	spec := jobs.Spec{Method: "system.scheduleReboot", User: "admin", Targets: targets(3)}
	var runs []*jobs.Run
	for range 3 {
		run, err := owner.Start(ctx, spec)
		require.NoError(t, err)
		run.Finished(0, res[0])
		runs = append(runs, run)
	}
	victim := c.MasterOf(prefix + "jobs")
	victim.Stop()
	for _, run := range runs {
		run.End(res)
	}
	require.Equal(t, victim.Addr, c.MasterOf(prefix+"jobs").Addr, "the jobs ended before the failover")
	// Jobs keep starting, on the slots of the masters still up.
	started := 0
	for range 6 {
		run, err := owner.Start(ctx, spec)
		if err != nil {
			require.ErrorIs(t, err, cache.ErrUnavailable)
			continue
		}
		started++
		run.End(res)
		runs = append(runs, run)
	}
	require.Positive(t, started, "fan-outs whose record can be written are sent")

	for _, run := range runs {
		var last any
		ok := assert.Eventually(t, func() bool {
			j, err := reader.Get(ctx, run.ID())
			if err != nil {
				last = err
				return false
			}
			last = j
			require.NotEqual(t, jobs.Interrupted, j.Status)
			return j.Status == jobs.Done && j.Succeeded == 3
		}, 30*time.Second, 20*time.Millisecond)
		if !ok {
			b, _ := json.Marshal(last)
			t.Fatalf("last read: %v %s", last, b)
		}
	}
	for _, f := range []jobs.Filter{{User: "admin"}, {}} {
		require.Eventually(t, func() bool {
			list, err := reader.List(ctx, f)
			return err == nil && len(list) == len(runs)
		}, 30*time.Second, 20*time.Millisecond, "every job listed (%+v)", f)
	}
}

// A store unreachable for longer than the lease: a reader meanwhile finds
// the lease gone and marks the job interrupted, but the owner's record,
// once it lands, wins: the job reads done with every answer.
func TestEndWinsOverInterruptedAfterALongOutage(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: time.Unix(1_000_000, 0)}
	st := cache.NewMemory(cache.MemoryOptions{Now: c.Now})
	k := &killable{Store: st}
	o := jobs.Options{Lease: time.Hour, Now: c.Now}
	owner, reader := newRecorder(t, k, o), newRecorder(t, st, o)
	res := okResults(2)
	run, err := owner.Start(ctx, jobs.Spec{Method: "system.scheduleReboot", User: "admin", Targets: targets(2)})
	require.NoError(t, err)
	k.dead.Store(true)
	run.End(res)
	c.Add(2 * time.Hour) // the lease expires
	j, err := reader.Get(ctx, run.ID())
	require.NoError(t, err)
	require.Equal(t, jobs.Interrupted, j.Status, "what a reader can tell meanwhile")

	k.dead.Store(false)
	require.Eventually(t, func() bool {
		j, err = reader.Get(ctx, run.ID())
		return err == nil && j.Status == jobs.Done && j.Succeeded == 2
	}, 20*time.Second, 10*time.Millisecond)
}
