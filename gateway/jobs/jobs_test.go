package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// killable is a store whose writes can be made to fail, as a replica that
// died stops writing, or only those to the listing indexes, as when the
// cluster node holding them is down.
type killable struct {
	cache.Store
	dead      atomic.Bool
	indexDead atomic.Bool
	batches   atomic.Int64
}

var errDead = fmt.Errorf("%w: replica killed", cache.ErrUnavailable)

func (k *killable) Batch(ctx context.Context, fn func(cache.Batch)) error {
	if k.dead.Load() {
		return errDead
	}
	if k.indexDead.Load() {
		var keys keyLog
		fn(&keys)
		if slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "jobs") }) {
			return errDead
		}
	}
	k.batches.Add(1)
	return k.Store.Batch(ctx, fn)
}

// keyLog is a batch that notes the keys it would write.
type keyLog []string

func (l *keyLog) Set(key string, _ []byte, _ time.Duration)             { *l = append(*l, key) }
func (l *keyLog) HSet(key string, _ time.Duration, _ map[string][]byte) { *l = append(*l, key) }
func (l *keyLog) ZAdd(key string, _ time.Duration, _ float64, _ string) { *l = append(*l, key) }
func (l *keyLog) ZRemBelow(key string, _ float64)                       { *l = append(*l, key) }
func (l *keyLog) ZRem(key string, _ ...string)                          { *l = append(*l, key) }
func (l *keyLog) Expire(key string, _ time.Duration)                    { *l = append(*l, key) }
func (l *keyLog) Delete(key string)                                     { *l = append(*l, key) }

func targets(n int) []target.Target {
	out := make([]target.Target, n)
	for i := range out {
		out[i] = target.Target{ID: 1000010001 + int64(i), Name: fmt.Sprintf("peripheral-%d", i+1)}
	}
	return out
}

func newRecorder(t *testing.T, st cache.Store, o jobs.Options) *jobs.Recorder {
	t.Helper()
	r, err := jobs.New(st, o)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

func TestJobRecordsEveryTarget(t *testing.T) {
	for name, mk := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rec := newRecorder(t, mk(t), jobs.Options{Replica: "A"})
			ts := append(targets(3), target.Target{Hub: true, Name: "hub"})
			run, err := rec.Start(ctx, jobs.Spec{Method: "system.listSystems", User: "admin", Targets: ts, Args: [][]any{nil, nil, nil, nil}})
			require.NoError(t, err)
			require.Regexp(t, `^j[0-9a-f]{32}$`, run.ID())

			res := fanout.Results{
				{Target: ts[0], Value: []any{rpc.Struct{{Name: "name", Value: "web1"}, {Name: "id", Value: int64(1)}}}, Duration: 12 * time.Millisecond, Attempts: 1},
				{Target: ts[1], Fault: &rpc.Fault{Code: 2950, String: "Either the password or username is incorrect."}, Attempts: 1},
				{Target: ts[2], Err: fmt.Errorf("%w: no answer within 2s", fanout.ErrTimeout), Attempts: 1},
				{Target: ts[3], Value: "1", Attempts: 1},
			}
			for i, r := range res[:2] {
				run.Finished(i, r)
			}
			// Progress is visible while the job runs.
			require.Eventually(t, func() bool {
				j, err := rec.Get(ctx, run.ID())
				return err == nil && j.Finished == 2
			}, 20*time.Second, 10*time.Millisecond)
			j, err := rec.Get(ctx, run.ID())
			require.NoError(t, err)
			require.Equal(t, jobs.Running, j.Status)
			require.Nil(t, j.Ended)
			require.Equal(t, jobs.TargetRunning, j.Targets[2].Outcome)

			run.End(res) // the rest come in with End
			j, err = rec.Get(ctx, run.ID())
			require.NoError(t, err)
			require.Equal(t, jobs.Done, j.Status)
			require.NotNil(t, j.Ended)
			require.Equal(t, "A", j.Replica)
			require.Equal(t, "admin", j.User)
			require.Equal(t, [4]int{4, 4, 2, 2}, [4]int{j.Total, j.Finished, j.Succeeded, j.Failed})

			got := j.Targets
			require.Equal(t, "ok", got[0].Outcome)
			require.JSONEq(t, `[{"name":"web1","id":1}]`, string(got[0].Value))
			require.Equal(t, int64(12), got[0].DurationMs)
			require.Equal(t, "fault", got[1].Outcome)
			require.Equal(t, 2950, got[1].FaultCode)
			require.Equal(t, "timeout", got[2].Outcome)
			require.Contains(t, got[2].Error, "no answer within 2s")
			require.True(t, got[3].Hub)
			require.Equal(t, int64(0), got[3].ServerID)
			for _, tg := range got {
				require.NotNil(t, tg.Finished)
				require.Equal(t, 1, tg.Attempts)
			}

			// JSON, as REST will serve it.
			b, err := json.Marshal(j)
			require.NoError(t, err)
			require.Contains(t, string(b), `"status":"done"`)
			require.Contains(t, string(b), `"serverId":1000010001`)
		})
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestArgumentsHaveNoSecrets(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder(t, cache.NewMemory(cache.MemoryOptions{}), jobs.Options{})
	long := strings.Repeat("x", 1000)
	tests := []struct {
		name    string
		method  string
		args    []any
		want    string
		without []string
	}{
		{"password parameter by catalog name", "user.create", []any{"bob", "hunter2", "Bob", "Smith", "bob@example.com"},
			`["bob","[redacted]","Bob","Smith","bob@example.com"]`, []string{"hunter2"}},
		{"struct members named like secrets", "system.provisionSystem", []any{int64(1), rpc.Struct{{Name: "rootPassword", Value: "r00t"}, {Name: "profile", Value: "p"}}},
			`[1,{"rootPassword":"[redacted]","profile":"p"}]`, []string{"r00t"}},
		{"session keys anywhere", "activationkey.addChildChannels", []any{"123x" + strings.Repeat("a", 64), []any{"gw" + strings.Repeat("0", 64)}},
			`["[redacted]",["[redacted]"]]`, []string{strings.Repeat("a", 64)}},
		{"long strings and binary shortened", "activationkey.addChildChannels", []any{long, []byte("secret file")},
			`["` + strings.Repeat("x", 200) + `…(1000 characters)","(base64, 11 bytes)"]`, nil},
		{"unknown method: types only", "no.such.method", []any{"hunter2", int64(5), rpc.Struct{{Name: "a", Value: "s3cret"}}, []any{"x"}, true},
			`["(string)","(int)","(struct)","(array)","(boolean)"]`, []string{"hunter2", "s3cret"}},
		{"file contents parameter as digest", "kickstart.snippet.createOrUpdate", []any{"snip", "echo hunter2"},
			`["snip",{"sha256":"` + sha("echo hunter2") + `","size":12}]`, []string{"hunter2"}},
		{"file contents member as digest", "configchannel.createOrUpdatePath",
			[]any{"chan", "/etc/motd", false, rpc.Struct{{Name: "contents", Value: "hunter2\n"}, {Name: "owner", Value: "root"}}},
			`["chan","/etc/motd",false,{"contents":{"sha256":"` + sha("hunter2\n") + `","size":8},"owner":"root"}]`, []string{"hunter2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := targets(2)
			other := append([]any{"carol"}, tt.args[1:]...)
			run, err := rec.Start(ctx, jobs.Spec{Method: tt.method, User: "admin", Targets: ts, Args: [][]any{tt.args, other}})
			require.NoError(t, err)
			run.End(fanout.Results{{Target: ts[0], Value: "ok"}, {Target: ts[1], Value: "ok"}})
			j, err := rec.Get(ctx, run.ID())
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(j.Args))
			all, _ := json.Marshal(j)
			for _, s := range tt.without {
				require.NotContains(t, string(all), s)
			}
			if tt.args[0] != other[0] && tt.method != "no.such.method" { // an unknown method's are types only
				require.Contains(t, string(j.Targets[1].Args), "carol", "per-target arguments when they differ")
				require.Empty(t, j.Targets[0].Args)
			}
		})
	}
}

func TestLargeResultIsNotRecorded(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder(t, cache.NewMemory(cache.MemoryOptions{}), jobs.Options{MaxResultBytes: 100})
	ts := targets(1)
	run, err := rec.Start(ctx, jobs.Spec{Method: "system.listSystems", Targets: ts})
	require.NoError(t, err)
	run.End(fanout.Results{{Target: ts[0], Value: strings.Repeat("y", 500)}})
	j, err := rec.Get(ctx, run.ID())
	require.NoError(t, err)
	require.Empty(t, j.Targets[0].Value)
	require.Contains(t, j.Targets[0].ValueOmitted, "over the 100 byte limit")
	require.Equal(t, "ok", j.Targets[0].Outcome)
}

// A replica that dies mid-fan-out stops renewing its lease; readers then
// see the job interrupted, with the targets that had finished.
func TestDeadReplicaLeavesAnInterruptedJob(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		c := &clock{now: time.Unix(1_000_000, 0)}
		st := cache.NewMemory(cache.MemoryOptions{Now: c.Now})
		dying := &killable{Store: st}
		interruptedJob(t, dying, st, jobs.Options{Lease: time.Hour, Now: c.Now}, func() { c.Add(2 * time.Hour) })
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		st, err := cache.NewRedis(srv.URL, cache.RedisOptions{Prefix: redistest.Prefix(t)})
		require.NoError(t, err)
		defer st.Close()
		interruptedJob(t, &killable{Store: st}, st, jobs.Options{Lease: 600 * time.Millisecond}, func() {})
	})
}

func interruptedJob(t *testing.T, dying *killable, st cache.Store, o jobs.Options, expire func()) {
	ctx := context.Background()
	o.Replica = "A"
	a := newRecorder(t, dying, o)
	o.Replica = "B"
	b := newRecorder(t, st, o)
	ts := targets(3)
	run, err := a.Start(ctx, jobs.Spec{Method: "system.scheduleReboot", User: "admin", Targets: ts})
	require.NoError(t, err)
	run.Finished(0, fanout.Result{Target: ts[0], Value: int64(1)})
	require.Eventually(t, func() bool {
		j, err := b.Get(ctx, run.ID())
		return err == nil && j.Finished == 1
	}, 20*time.Second, 10*time.Millisecond)

	dying.dead.Store(true) // A is gone: no more writes, no renewals
	expire()
	var j *jobs.Job
	require.Eventually(t, func() bool {
		j, err = b.Get(ctx, run.ID())
		require.NoError(t, err)
		return j.Status == jobs.Interrupted
	}, 30*time.Second, 20*time.Millisecond)
	require.NotNil(t, j.Ended)
	require.Equal(t, "ok", j.Targets[0].Outcome, "what finished is kept")
	require.Equal(t, jobs.TargetInterrupted, j.Targets[1].Outcome)
	require.Equal(t, 1, j.Finished)

	// Stays interrupted for every later reader.
	j, err = b.Get(ctx, run.ID())
	require.NoError(t, err)
	require.Equal(t, jobs.Interrupted, j.Status)
	run.End(nil) // the dead replica's writer exits
}

func TestListNewestFirstPerUser(t *testing.T) {
	for name, mk := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := &clock{now: time.Unix(1_000_000, 0)}
			rec := newRecorder(t, mk(t), jobs.Options{Now: c.Now})
			var ids []string
			for i, user := range []string{"alice", "bob", "alice", "alice"} {
				c.Add(time.Second)
				run, err := rec.Start(ctx, jobs.Spec{Method: fmt.Sprintf("m%d", i), User: user})
				require.NoError(t, err)
				run.End(nil)
				ids = append(ids, run.ID())
			}
			got, err := rec.List(ctx, jobs.Filter{User: "alice", Limit: 2})
			require.NoError(t, err)
			require.Len(t, got, 2)
			require.Equal(t, ids[3], got[0].ID)
			require.Equal(t, ids[2], got[1].ID)
			require.Nil(t, got[0].Targets, "lists leave targets out")

			all, err := rec.List(ctx, jobs.Filter{})
			require.NoError(t, err)
			require.Len(t, all, 4)

			_, err = rec.Get(ctx, "jnope")
			require.ErrorIs(t, err, jobs.ErrNotFound)
		})
	}
}

func TestStartFailsWhenTheStoreIsDown(t *testing.T) {
	st := &killable{Store: cache.NewMemory(cache.MemoryOptions{})}
	st.dead.Store(true)
	rec := newRecorder(t, st, jobs.Options{})
	_, err := rec.Start(context.Background(), jobs.Spec{Method: "m", Targets: targets(1)})
	require.ErrorIs(t, err, cache.ErrUnavailable)
}

func TestNilRunIsANoOp(t *testing.T) {
	var run *jobs.Run
	require.Empty(t, run.ID())
	run.Finished(0, fanout.Result{})
	run.End(nil)
}

// Many targets finishing at once: every one is recorded, in far fewer
// writes than targets (at most one per WriteEvery while it runs), each
// write one field of each hash, under the race detector.
func TestConcurrentFinishes(t *testing.T) {
	ctx := context.Background()
	st := &killable{Store: cache.NewMemory(cache.MemoryOptions{})}
	const every = 25 * time.Millisecond
	rec := newRecorder(t, st, jobs.Options{WriteEvery: every})
	ts := targets(500)
	start := time.Now()
	run, err := rec.Start(ctx, jobs.Spec{Method: "system.listSystems", Targets: ts})
	require.NoError(t, err)
	results := fanout.Run(ctx, func(_ context.Context, c fanout.Call) fanout.Result {
		r := fanout.Result{Target: c.Target, Value: []any{c.Target.Name}}
		run.Finished(int(c.Target.ID-ts[0].ID), r)
		return r
	}, func() []fanout.Call {
		cs := make([]fanout.Call, len(ts))
		for i, t := range ts {
			cs[i] = fanout.Call{Target: t}
		}
		return cs
	}())
	run.End(results)
	j, err := rec.Get(ctx, run.ID())
	require.NoError(t, err)
	require.Equal(t, 500, j.Succeeded)
	for i, tg := range j.Targets {
		require.JSONEq(t, fmt.Sprintf(`[%q]`, ts[i].Name), string(tg.Value))
	}
	// At most one write per WriteEvery, plus the start, the first
	// listing, the end and the end's listing again (a lost index entry is
	// restored).
	writes := st.batches.Load()
	require.LessOrEqual(t, writes, int64(time.Since(start)/every)+1+4)
	for _, key := range []string{"job:{" + run.ID() + "}", "job:{" + run.ID() + "}:targets"} {
		h, err := st.HGetAll(ctx, key)
		require.NoError(t, err)
		require.LessOrEqual(t, len(h), int(writes), "one field per write in %s, not one per target", key)
	}
}

// A record written one field per target, as replicas did before batches
// (s:<i> statuses, t:<i> outcomes), still reads whole.
func TestRecordWrittenPerTargetReads(t *testing.T) {
	ctx := context.Background()
	st := cache.NewMemory(cache.MemoryOptions{})
	rec := newRecorder(t, st, jobs.Options{})
	const id = "j0123456789abcdef0123456789abcdef"
	require.NoError(t, st.Batch(ctx, func(b cache.Batch) {
		b.HSet("job:{"+id+"}", time.Hour, map[string][]byte{
			"job": []byte(`{"id":"` + id + `","method":"system.scheduleReboot","user":"admin","replica":"old","started":"2026-12-01T10:00:00Z","targets":[` +
				`{"serverId":1,"serverName":"p1","ok":false,"outcome":"running","durationMs":0,"attempts":0},` +
				`{"serverId":2,"serverName":"p2","ok":false,"outcome":"running","durationMs":0,"attempts":0}]}`),
			"s:0": []byte("ok"),
			"s:1": []byte("fault"),
			"end": []byte(`{"at":"2026-12-01T10:00:01Z"}`),
		})
		b.HSet("job:{"+id+"}:targets", time.Hour, map[string][]byte{
			"t:0": []byte(`{"serverId":1,"serverName":"p1","ok":true,"outcome":"ok","durationMs":5,"attempts":1,"value":42}`),
			"t:1": []byte(`{"serverId":2,"serverName":"p2","ok":false,"outcome":"fault","faultCode":-210,"faultString":"no such system","durationMs":6,"attempts":1}`),
		})
	}))
	j, err := rec.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, jobs.Done, j.Status)
	require.Equal(t, []int{2, 2, 1, 1}, []int{j.Total, j.Finished, j.Succeeded, j.Failed})
	require.JSONEq(t, `42`, string(j.Targets[0].Value))
	require.Equal(t, "ok", j.Targets[0].Outcome)
	require.Equal(t, -210, j.Targets[1].FaultCode)
	require.Equal(t, "fault", j.Targets[1].Outcome)
}

func TestValueRoundTrip(t *testing.T) {
	in := []any{rpc.Struct{{Name: "z", Value: int64(1)}, {Name: "a", Value: 2.5}, {Name: "m", Value: []any{true, "s", nil}}}}
	rec := newRecorder(t, cache.NewMemory(cache.MemoryOptions{}), jobs.Options{})
	ts := targets(1)
	run, err := rec.Start(context.Background(), jobs.Spec{Method: "m", Targets: ts})
	require.NoError(t, err)
	run.End(fanout.Results{{Target: ts[0], Value: in}})
	j, err := rec.Get(context.Background(), run.ID())
	require.NoError(t, err)
	v, err := jobs.Value(j.Targets[0].Value)
	require.NoError(t, err)
	require.Equal(t, in, v, "order and types survive")
	_, err = jobs.Value(json.RawMessage(`{"a":1} x`))
	require.Error(t, err)
}
