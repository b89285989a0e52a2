// Package jobs records every fan-out as a job: who sent which method with
// which arguments (secrets removed) to which servers, and what each server
// answered (value or fault, duration, attempts), written as each server
// answers, so a running job shows its progress from any replica. It is the
// answer to "what was updated and what not?".
//
// A job lives in the shared store (cache.Store) as two hashes, hash-tagged
// so a cluster keeps them on one slot. "job:{id}" is small:
//
//	job          the header: id, method, user, args, targets, start (JSON)
//	b:<n>        the statuses of the targets that answered since the
//	             write before, by index: {"3":"ok","7":"fault"}
//	end          written by the owner when the fan-out is over
//	interrupted  written by a reader who found the owner's lease gone
//
// "job:{id}:targets" holds b:<n> too, the same targets' whole outcomes
// (JSON, with their answers): {"3":{...},"7":{...}}, read only when one
// job is asked for, so listing jobs does not move their results. One
// field per write, not per target: 500 targets were 1,000 fields, each
// a store entry to make, hold and collect. A lease, "job:{id}:lease",
// that the owning replica renews while the fan-out runs and until its
// record has landed.
// A replica that dies mid-fan-out stops renewing; the first reader after
// the lease expires marks the job interrupted, keeping every target
// already recorded. One whose store blinks keeps retrying (the end wins
// over an interruption a reader marked meanwhile), so a finished fan-out
// reads done once the store is back.
//
// Sorted sets "jobs" and "jobs:user:<user>" index jobs by start time for
// listing. Each is one cluster slot, so they are written off the request
// path and retried: a fan-out is sent when its own record can be written,
// whatever the indexes' node does. Everything expires after the retention.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway/catalog"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Status is a job's state.
type Status string

const (
	Running Status = "running"
	Done    Status = "done"
	// Interrupted: the replica running the fan-out stopped (crashed,
	// killed, lost the store) before it ended. Targets without an outcome
	// may or may not have applied the call.
	Interrupted Status = "interrupted"
)

// Target statuses besides fanout.Kind's outcomes (ok, fault, timeout,
// transport, circuit_open, canceled).
const (
	TargetRunning     = "running"     // sent, no answer yet
	TargetInterrupted = "interrupted" // no answer recorded before the job was interrupted
)

// ErrNotFound: no such job (never existed, expired, or another user's).
var ErrNotFound = errors.New("no such job")

// Job is one fan-out.
type Job struct {
	ID      string          `json:"id"`
	Method  string          `json:"method"`
	User    string          `json:"user"`
	Args    json.RawMessage `json:"args,omitempty"` // the first target's arguments, secrets removed
	Status  Status          `json:"status"`
	Replica string          `json:"replica"` // the gateway replica that ran it
	Started time.Time       `json:"started"`
	Ended   *time.Time      `json:"ended,omitempty"`
	// Counts of targets: all of them, those that answered, with a value,
	// and with a fault or no answer.
	Total     int `json:"total"`
	Finished  int `json:"finished"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	// Targets, in request order; List leaves them out.
	Targets []Target `json:"targets,omitempty"`
}

// Target is one server of a job, in the words REST uses for one server's
// result (adapters/rest appendResult: serverId, serverName, ok, outcome,
// value, faultCode, faultString, error, durationMs, attempts), plus what
// only a record has: hub, valueOmitted, finished, args.
type Target struct {
	ServerID   int64  `json:"serverId"` // 0 for the hub
	ServerName string `json:"serverName"`
	Hub        bool   `json:"hub,omitempty"`
	OK         bool   `json:"ok"` // Outcome is ok
	// Outcome is running, interrupted, or how the server answered: ok,
	// fault, timeout, transport, circuit_open, canceled.
	Outcome string `json:"outcome"`
	// Value is the server's value as JSON (structs keep their member
	// order; dates are strings, base64 is a string).
	Value json.RawMessage `json:"value,omitempty"`
	// ValueOmitted says why Value is absent although the server
	// answered (too large to record).
	ValueOmitted string     `json:"valueOmitted,omitempty"`
	FaultCode    int        `json:"faultCode,omitempty"`
	FaultString  string     `json:"faultString,omitempty"`
	Error        string     `json:"error,omitempty"` // transport detail
	DurationMs   int64      `json:"durationMs"`
	Attempts     int        `json:"attempts"`
	Finished     *time.Time `json:"finished,omitempty"`
	// Args are this target's arguments when they differ from the job's
	// (multicast sends each server its own).
	Args json.RawMessage `json:"args,omitempty"`
}

// setOutcome sets the outcome and ok, which says it is "ok" so a job's
// target reads like a REST result.
func (t *Target) setOutcome(o string) { t.Outcome, t.OK = o, o == "ok" }

// Options tune a Recorder.
type Options struct {
	// Retention is how long jobs are kept; default 6h. A job is the
	// record of a fan-out for the people who sent it, read in the hours
	// after; keeping them for a day made bursts fill the store.
	Retention time.Duration
	// MaxBytes and MaxUserBytes are the byte budget of the records this
	// replica wrote, all users' and one user's (see budget.go); defaults
	// 128 MiB and 32 MiB. MaxJobBytes caps the answers recorded in one
	// job, past which they are described only; default 4 MiB.
	MaxBytes, MaxUserBytes int64
	MaxJobBytes            int
	// Lease is how long a job stays "running" without its replica
	// renewing it (every Lease/3); default 30s.
	Lease time.Duration
	// WriteEvery is how often, at most, a running job's record is
	// written: the answers that come in between are written together.
	// The end is written at once. Default 25ms: progress a person
	// watching cannot tell from instant, and the answers a crash in
	// between loses read "interrupted", as unknown ones must.
	WriteEvery time.Duration
	// MaxResultBytes caps one target's recorded result; default 4 KiB.
	// A job records what was changed where: write results are small, and
	// keeping every answer of a 500-peripheral listSystems (20 KiB each as
	// JSON) in every job made the memory store grow by 10 MB per call.
	MaxResultBytes int
	// SizeHint estimates a value's encoded size without encoding it (an
	// edge's raw value knows its length); default 0, unknown.
	SizeHint func(v any) int
	// ResultJSON turns a server's value (possibly an edge's raw value)
	// into JSON; the default handles package rpc's Go values.
	ResultJSON func(v any) ([]byte, error)
	// Fault is the fault a client sees for a failed result (gateway.Fault).
	Fault func(fanout.Result) *rpc.Fault
	// ReadOnly reports whether a method only reads (gateway.ReadOnly).
	// Its answers are described (type and size), not recorded, unless
	// KeepReadAnswers: a job is the record of what was changed where,
	// and listings are most of the bytes and may hold what the caller
	// may see but the job's other readers should not.
	ReadOnly        func(method string) bool
	KeepReadAnswers bool
	// Seal, when set, encrypts recorded arguments and answers at rest
	// (auth.Sealer, the key that seals sessions): required by hubgw with
	// a shared store. Statuses, servers and times stay readable.
	Seal    Sealer
	Replica string // this replica's name; default host-pid-random
	// Catalog names the secret parameters of each method; default the
	// embedded one, loaded again.
	Catalog *catalog.Catalog
	Logger  *slog.Logger
	Now     func() time.Time // for tests
	// Observe is told when jobs start and end, for metrics; default none.
	Observe Observer
}

// Observer is told of every job: JobStarted when Start is called, then
// JobEnded once, with the job's status: ok (every server answered with a
// value), partial, failed (none did), or unrecorded (Start failed, so
// nothing was sent).
type Observer interface {
	JobStarted()
	JobEnded(status string)
}

type noObserver struct{}

func (noObserver) JobStarted()     {}
func (noObserver) JobEnded(string) {}

// endStatus is a finished job's status for Observer.JobEnded.
func endStatus(results fanout.Results) string {
	ok := 0
	for _, r := range results {
		if r.OK() {
			ok++
		}
	}
	switch {
	case ok == len(results):
		return "ok"
	case ok == 0:
		return "failed"
	}
	return "partial"
}

// Recorder writes and reads jobs.
type Recorder struct {
	st     cache.Store
	o      Options
	params map[string][][]param // method → per overload (without the session key), how each param is recorded

	// writers counts the runs whose writer is still going (a final
	// write being retried outlives End); closing tells them to stop.
	writers   sync.WaitGroup
	closing   chan struct{}
	closeOnce sync.Once

	budget *ledger
}

// New returns a Recorder on st.
func New(st cache.Store, o Options) (*Recorder, error) {
	if o.Retention <= 0 {
		o.Retention = 6 * time.Hour
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 128 << 20
	}
	if o.MaxUserBytes <= 0 {
		o.MaxUserBytes = 32 << 20
	}
	if o.MaxJobBytes <= 0 {
		o.MaxJobBytes = 4 << 20
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.WriteEvery <= 0 {
		o.WriteEvery = 25 * time.Millisecond
	}
	if o.SizeHint == nil {
		o.SizeHint = func(any) int { return 0 }
	}
	if o.MaxResultBytes <= 0 {
		o.MaxResultBytes = 4 << 10
	}
	if o.ResultJSON == nil {
		o.ResultJSON = func(v any) ([]byte, error) { return appendJSON(nil, v, 0) }
	}
	if o.Fault == nil {
		o.Fault = func(r fanout.Result) *rpc.Fault {
			if r.Fault != nil {
				return r.Fault
			}
			return &rpc.Fault{Code: -32603, String: fmt.Sprint(r.Err)}
		}
	}
	if o.Replica == "" {
		host, _ := os.Hostname()
		o.Replica = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), newID()[1:7])
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Observe == nil {
		o.Observe = noObserver{}
	}
	cat := o.Catalog
	if cat == nil {
		var err error
		if cat, err = catalog.Load(); err != nil {
			return nil, err
		}
	}
	return &Recorder{st: st, o: o, params: paramKinds(cat), closing: make(chan struct{}), budget: newLedger(o.MaxBytes, o.MaxUserBytes)}, nil
}

// Close stops retrying: every job whose record has not landed yet is
// written once more, then given up (it will read interrupted once its
// lease expires). It waits for those last writes.
func (r *Recorder) Close() {
	r.closeOnce.Do(func() { close(r.closing) })
	r.writers.Wait()
}

// Replica is this recorder's replica name.
func (r *Recorder) Replica() string { return r.o.Replica }

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "j" + hex.EncodeToString(b[:])
}

func jobKey(id string) string     { return "job:{" + id + "}" }
func targetsKey(id string) string { return "job:{" + id + "}:targets" }
func leaseKey(id string) string   { return "job:{" + id + "}:lease" }
func userIndex(u string) string   { return "jobs:user:" + u }

const allIndex = "jobs"

// What a store spends on a job (its keys, lease and index entries) and
// on each hash field besides the bytes recorded: the budget counts it.
// Measured with Redis 7 (used_memory over 10,000 jobs,
// BenchmarkJobStoreBytes); the memory store spends about as much.
// perTarget is about what a batch spends on a target's index, to size it.
const (
	perJob    = 1100
	perField  = 24
	perTarget = 16
)

// header is the "job" field.
type header struct {
	ID      string          `json:"id"`
	Method  string          `json:"method"`
	User    string          `json:"user"`
	Args    json.RawMessage `json:"args,omitempty"`
	Replica string          `json:"replica"`
	Started time.Time       `json:"started"`
	Targets []Target        `json:"targets"`          // identity only
	Sealed  []byte          `json:"sealed,omitempty"` // Args, when sealed
}

// end is the "end" and "interrupted" fields.
type end struct {
	At time.Time `json:"at"`
}

// Spec is what Start needs to know of a fan-out.
type Spec struct {
	Method  string
	User    string
	Targets []target.Target
	// Args holds each target's arguments without the session key.
	Args [][]any
}

// Start records a new job as running, with a lease, before anything is
// sent. An error (the store is down) means nothing should be sent: a
// fan-out that cannot be recorded is not made.
func (r *Recorder) Start(ctx context.Context, spec Spec) (_ *Run, err error) {
	r.o.Observe.JobStarted()
	defer func() {
		if err != nil {
			r.o.Observe.JobEnded("unrecorded")
		}
	}()
	now := r.o.Now().UTC()
	h := header{ID: newID(), Method: spec.Method, User: spec.User, Replica: r.o.Replica, Started: now}
	run := &Run{
		rec: r, id: h.ID, user: spec.User, started: now, args: map[int]json.RawMessage{},
		readOnly: !r.o.KeepReadAnswers && r.o.ReadOnly != nil && r.o.ReadOnly(spec.Method),
		claimed:  make([]bool, len(spec.Targets)), outcomes: make([]outcome, len(spec.Targets)), unindexed: true,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), ended: make(chan struct{}),
	}
	var first []byte
	for i := range spec.Targets {
		var a []any
		if i < len(spec.Args) {
			a = spec.Args[i]
		}
		s := r.summarize(spec.Method, a)
		if i == 0 {
			first, h.Args = s, s
		} else if string(s) != string(first) {
			run.args[i] = s
		}
	}
	if r.o.Seal != nil && h.Args != nil {
		h.Sealed, h.Args = r.o.Seal.Seal(h.Args, aad(h.ID, "job")), nil
	}
	b := appendHeader(make([]byte, 0, 256+len(h.Args)+len(h.Sealed)*4/3+128*len(spec.Targets)), &h, spec.Targets)
	run.header = b
	// Only the job's own keys decide whether the fan-out is sent: they
	// share one cluster slot, a random one per job. The indexes are one
	// slot each, so the writer adds the job to them off the request path
	// and keeps trying while their node is down.
	err = r.st.Batch(ctx, func(bt cache.Batch) {
		bt.HSet(jobKey(h.ID), r.o.Retention, map[string][]byte{"job": b})
		bt.Set(leaseKey(h.ID), []byte(r.o.Replica), r.o.Lease)
	})
	if err != nil {
		return nil, fmt.Errorf("recording the job: %w", err)
	}
	r.budget.add(h.ID, spec.User, now.Add(r.o.Retention), int64(len(b))+perJob)
	run.wake <- struct{}{} // list it at once
	r.writers.Add(1)
	go run.write()
	return run, nil
}

// outcome is one target's record: its status and its whole JSON; a
// zero outcome is one not recorded yet.
type outcome struct {
	status string
	json   []byte
}

// Run is a job being recorded. Its methods may be called on a nil *Run
// (recording off): they do nothing.
type Run struct {
	rec      *Recorder
	id       string
	user     string
	started  time.Time
	readOnly bool                    // answers are described, not recorded
	spent    atomic.Int64            // bytes of answers recorded
	args     map[int]json.RawMessage // of targets whose arguments differ from the first's

	header []byte // the "job" field

	mu       sync.Mutex
	claimed  []bool    // by target index: its result is being recorded
	outcomes []outcome // by target index
	pending  []int     // indexes of outcomes not written yet

	// The writer's own: whether the job is in the listing indexes yet,
	// how many writes in a row failed, and the writes' count, which
	// names the next one's fields.
	unindexed  bool
	failures   int
	batches    int
	wholeBytes int64 // of the last whole write's batch ("b:all")

	wake  chan struct{}
	stop  chan struct{} // End was called
	endAt time.Time     // set before stop is closed
	ended chan struct{} // the first try of the final write is over
}

// ID is the job's id ("" for a nil Run).
func (run *Run) ID() string {
	if run == nil {
		return ""
	}
	return run.id
}

// Finished records the result of target i (its index in Spec.Targets);
// it returns at once, the write happening in the background, batched
// with whatever else finished meanwhile. A target's first result is the
// one recorded.
func (run *Run) Finished(i int, r fanout.Result) {
	if run == nil || i < 0 || i >= len(run.outcomes) {
		return
	}
	run.mu.Lock()
	claimed := run.claimed[i]
	run.claimed[i] = true
	run.mu.Unlock()
	if claimed {
		return
	}
	o := outcome{fanout.Kind(r), run.targetJSON(i, r)} // outside the lock: 500 targets encode in parallel
	run.mu.Lock()
	run.outcomes[i] = o
	run.pending = append(run.pending, i)
	run.mu.Unlock()
	select {
	case run.wake <- struct{}{}:
	default:
	}
}

// End records the results of targets not reported yet and marks the job
// done. It waits for the first try of that write, so it is bounded by the
// store's own timeouts; when the try fails, the writer keeps retrying in
// the background (see finish).
func (run *Run) End(results fanout.Results) {
	if run == nil {
		return
	}
	for i, r := range results {
		run.Finished(i, r) // those not reported yet
	}
	run.endAt = run.rec.o.Now().UTC()
	run.rec.o.Observe.JobEnded(endStatus(results))
	close(run.stop)
	<-run.ended
}

// write is the job's one writer: it flushes whatever finished since the
// last write, so 500 targets answering at once cost a few round trips,
// not 500, and renews the lease while the fan-out runs and until the
// record has landed.
func (run *Run) write() {
	r := run.rec
	defer r.writers.Done()
	tick := time.NewTicker(r.o.Lease / 3)
	defer tick.Stop()
	// The gap after each write, when what finishes meanwhile waits to be
	// written with the rest: a write per answer was 380 writes for a
	// 500-server fan-out whose answers came within 20 ms (a round trip
	// each with Redis), and most of the recorder's CPU.
	gap := time.NewTimer(time.Hour)
	gap.Stop()
	for {
		select {
		case <-run.wake:
			// A wake can outlive the outcome it announced, which an
			// earlier flush took: then there is nothing to write.
			run.mu.Lock()
			pending := len(run.pending) > 0
			run.mu.Unlock()
			if !pending && run.failures == 0 {
				continue
			}
			run.flush(false)
			gap.Reset(r.o.WriteEvery)
			select {
			case <-gap.C:
			case <-run.stop:
				run.end()
				return
			}
		case <-tick.C:
			run.flush(false) // renews the lease, and retries failed writes
		case <-run.stop:
			run.end()
			return
		}
	}
}

// end is the writer's last work once End was called: the final write,
// then the budget.
func (run *Run) end() {
	run.finish()
	run.rec.budget.end(run.id)
	run.rec.evict(run.user)
}

// Backoff of the final write's retries: short, so that the record lands
// within a second of the store coming back, before a reader can find the
// lease expired; capped well under the lease, which every try renews.
const (
	retryFirst = 50 * time.Millisecond
	retryMax   = time.Second
)

// finish writes the end and whatever is still unwritten. The first try
// ends End's wait; the writer then retries with backoff until everything
// has landed, the retention has passed or the recorder closes, so a
// fan-out that finished while the store blinked reads done with every
// answer, not interrupted.
func (run *Run) finish() {
	r := run.rec
	// The end adds the job to the indexes again: the entry written at the
	// start may have been lost in a failover (a master acknowledges
	// before its replica has the write), and unlike the record, which
	// the end rewrites after any failure, nothing else would restore it.
	run.unindexed = true
	wait := retryFirst
	for try := 0; ; try++ {
		ok := run.flush(true)
		if try == 0 {
			close(run.ended)
		}
		if ok {
			return
		}
		if !r.o.Now().Before(run.started.Add(r.o.Retention)) {
			r.o.Logger.Error("job record given up: the retention has passed", "job", run.id, "tries", try+1)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.closing:
			t.Stop()
			if !run.flush(true) {
				r.o.Logger.Error("job record given up: the gateway is stopping; it will read interrupted", "job", run.id, "tries", try+2)
			}
			return
		}
		wait = min(2*wait, retryMax)
	}
}

// flush writes what finished since the last write (with the end when
// final) and renews the lease, then adds the job to the listing indexes
// if that has not landed yet. It reports whether everything is written.
func (run *Run) flush(final bool) bool {
	ok := run.flushJob(final)
	if ok && run.unindexed {
		ok = run.index()
	}
	if ok && run.failures > 0 {
		run.rec.o.Logger.Info("job record written after failures", "job", run.id, "failures", run.failures)
		run.failures = 0
	}
	return ok
}

// index adds the job to the listing indexes, trimming entries past the
// retention.
func (run *Run) index() bool {
	r := run.rec
	now := r.o.Now()
	score := float64(run.started.UnixMilli())
	cutoff := float64(now.Add(-r.o.Retention).UnixMilli())
	err := r.st.Batch(context.Background(), func(b cache.Batch) {
		for _, ix := range []string{allIndex, userIndex(run.user)} {
			b.ZAdd(ix, r.o.Retention, score, run.id)
			b.ZRemBelow(ix, cutoff)
		}
	})
	if err != nil {
		run.failed("job not listed yet; retrying", err)
		return false
	}
	run.unindexed = false
	return true
}

// failed logs a write's failure, the first of a row only.
func (run *Run) failed(msg string, err error) {
	run.failures++
	if run.failures == 1 {
		run.rec.o.Logger.Warn(msg, "job", run.id, "err", err)
	}
}

// flushJob writes the outcomes not written yet, the end when final, and
// the lease. After a failure it writes the whole record again, header
// included: the failure may be a failover, and a Redis replica promoted
// before it had every write the old master acknowledged has lost them.
func (run *Run) flushJob(final bool) bool {
	r := run.rec
	whole := run.failures > 0
	fields := make(map[string][]byte, 3)  // of job:{id}
	targets := make(map[string][]byte, 1) // of job:{id}:targets
	run.mu.Lock()
	batch := run.pending
	if whole {
		batch = batch[:0]
		for i, o := range run.outcomes {
			if o.status != "" {
				batch = append(batch, i)
			}
		}
	}
	// Only what finished since the last flush, unless whole: a scan of
	// all 500 targets per flush was 40% of the writer's CPU (e2e
	// BenchmarkJobRecording's profile). A failure makes the next flush
	// whole, so what this one takes is not lost.
	// The budget counts what is written, when it is: a batch's fields,
	// or what a whole write adds over the one before.
	var grow int64
	if len(batch) > 0 {
		statuses, outcomes := run.appendBatch(batch)
		name := "b:" + strconv.Itoa(run.batches)
		grow = int64(len(statuses)+len(outcomes)) + 2*perField
		if whole {
			// One name for every whole write, each replacing the one
			// before: the batches that did land stay, and the store
			// holds each outcome at most twice, not once per failure.
			name = "b:all"
			grow = int64(len(statuses)+len(outcomes)) - run.wholeBytes
			run.wholeBytes += grow
		} else {
			run.batches++
		}
		fields[name], targets[name] = statuses, outcomes
	}
	run.pending = batch[:0]
	run.mu.Unlock()
	run.rec.budget.grow(run.id, grow)
	if whole {
		fields["job"] = run.header
	}
	if final {
		e, _ := json.Marshal(end{At: run.endAt})
		fields["end"] = e
	}
	// Not the request's context: the record must be written even when
	// the client has gone away.
	ctx := context.Background()
	err := r.st.Batch(ctx, func(b cache.Batch) {
		// Outcomes before statuses: a reader that sees a status finds
		// its outcome (a cluster pipelines them in this order on one slot).
		if len(targets) > 0 {
			b.HSet(targetsKey(run.id), r.o.Retention, targets)
		}
		if len(fields) > 0 {
			b.HSet(jobKey(run.id), r.o.Retention, fields)
		}
		// The lease is never deleted: it expires by itself, so a reader
		// racing with the end sees "running", not "interrupted".
		b.Set(leaseKey(run.id), []byte(r.o.Replica), r.o.Lease)
	})
	if err != nil {
		run.failed("job record not written yet; retrying until it is or the retention ends", err)
		run.unindexed = true // the index entry may be lost too
		return false
	}
	return true
}

// targetJSON encodes target i's result (at once: the value may be a
// pooled buffer the caller reuses).
func (run *Run) targetJSON(i int, res fanout.Result) []byte {
	r := run.rec
	t := Target{
		ServerID: res.Target.ID, ServerName: res.Target.String(), Hub: res.Target.Hub,
		DurationMs: res.Duration.Milliseconds(), Attempts: res.Attempts,
	}
	t.setOutcome(fanout.Kind(res))
	fin := r.o.Now().UTC()
	t.Finished = &fin
	// A value with a fault: the server's outcome with what went wrong in
	// it (an apply whose objects failed there keeps their outcomes).
	if res.OK() || res.Fault != nil && res.Value != nil {
		var b []byte
		var err error
		n := r.o.SizeHint(res.Value)
		switch {
		case run.readOnly:
			t.ValueOmitted = "answer of a read-only method, not recorded: " + shape(res.Value, n)
		case n > 4*r.o.MaxResultBytes:
			// Surely over the limit once encoded: not worth encoding.
			t.ValueOmitted = fmt.Sprintf("result of about %d bytes is over the %d byte limit", n, r.o.MaxResultBytes)
		default:
			b, err = r.o.ResultJSON(res.Value)
		}
		switch {
		case t.ValueOmitted != "":
		case err != nil:
			t.ValueOmitted = "result not representable as JSON: " + err.Error()
		case len(b) > r.o.MaxResultBytes:
			t.ValueOmitted = fmt.Sprintf("result of %d bytes is over the %d byte limit", len(b), r.o.MaxResultBytes)
		default:
			t.Value = b
		}
	}
	if !res.OK() {
		f := r.o.Fault(res)
		t.FaultCode, t.FaultString = f.Code, f.String
		if res.Err != nil {
			t.Error = res.Err.Error()
		}
	}
	result := t.Value
	t.Value = nil
	if result != nil && run.spent.Add(int64(len(result))) > int64(r.o.MaxJobBytes) {
		result = nil
		t.ValueOmitted = fmt.Sprintf("the job's answers are over its %d byte budget", r.o.MaxJobBytes)
	}
	t.Args = run.args[i]
	if r.o.Seal != nil && (t.Args != nil || result != nil) {
		return run.sealTarget(i, t, result)
	}
	t.Value = result
	n := 192 + len(t.ServerName) + len(t.ValueOmitted) + len(t.FaultString) + len(t.Error) + len(t.Args) + len(result)
	return appendTarget(make([]byte, 0, n), &t)
}

// appendBatch encodes the outcomes of targets idx as a write's two
// fields: their statuses and their whole records, each an object by
// index. run.mu is held.
func (run *Run) appendBatch(idx []int) (statuses, outcomes []byte) {
	n := 0
	for _, i := range idx {
		n += len(run.outcomes[i].json) + perTarget
	}
	statuses = make([]byte, 0, len(idx)*perTarget+2)
	outcomes = make([]byte, 0, n+2)
	for k, i := range idx {
		sep := byte('{')
		if k > 0 {
			sep = ','
		}
		statuses = appendIndex(append(statuses, sep), i)
		statuses = appendString(statuses, run.outcomes[i].status)
		outcomes = appendIndex(append(outcomes, sep), i)
		outcomes = append(outcomes, run.outcomes[i].json...)
	}
	return append(statuses, '}'), append(outcomes, '}')
}

// appendIndex appends a target's index as a member name and its colon.
func appendIndex(b []byte, i int) []byte {
	b = strconv.AppendInt(append(b, '"'), int64(i), 10)
	return append(b, '"', ':')
}

// Get reads a job with every target. A job whose owner's lease has
// expired before it ended is marked interrupted here, for every reader
// after.
func (r *Recorder) Get(ctx context.Context, id string) (*Job, error) {
	j, err := r.summary(ctx, id)
	if err != nil {
		return nil, err
	}
	ts, err := r.st.HGetAll(ctx, targetsKey(id))
	if err != nil && !errors.Is(err, cache.ErrNotFound) {
		return nil, err
	}
	eachTarget(ts, "t:", func(i int, b []byte) {
		if i >= len(j.Targets) {
			return
		}
		if t, err := r.unsealedTarget(id, i, b); err == nil {
			j.Targets[i] = t
		}
	})
	return j, nil
}

// eachTarget calls fn with every target's field of a job's hash, by
// index: those in the batches (b:<n>, an object by index), and those of
// records written one field per target (legacy + index), as replicas
// before batches wrote them. A field that cannot be read is skipped: its
// target reads as not answered.
func eachTarget(h map[string][]byte, legacy string, fn func(i int, v []byte)) {
	for name, v := range h {
		if rest, ok := strings.CutPrefix(name, "b:"); ok && rest != "" {
			var batch map[string]json.RawMessage
			if json.Unmarshal(v, &batch) != nil {
				continue
			}
			for k, raw := range batch {
				if i, err := strconv.Atoi(k); err == nil && i >= 0 {
					fn(i, raw)
				}
			}
		} else if rest, ok := strings.CutPrefix(name, legacy); ok {
			if i, err := strconv.Atoi(rest); err == nil && i >= 0 {
				fn(i, v)
			}
		}
	}
}

// summary reads a job's small hash: header, statuses and end, with
// targets' identities and statuses but not their outcomes.
func (r *Recorder) summary(ctx context.Context, id string) (*Job, error) {
	h, err := r.st.HGetAll(ctx, jobKey(id))
	if errors.Is(err, cache.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var hd header
	if err := json.Unmarshal(h["job"], &hd); err != nil {
		return nil, fmt.Errorf("job %s: unreadable header: %w", id, err)
	}
	j := &Job{ID: hd.ID, Method: hd.Method, User: hd.User, Args: r.unsealedArgs(hd), Replica: hd.Replica, Started: hd.Started, Status: Running, Total: len(hd.Targets), Targets: hd.Targets}
	var e end
	switch {
	case json.Unmarshal(h["end"], &e) == nil:
		j.Status, j.Ended = Done, &e.At
	case json.Unmarshal(h["interrupted"], &e) == nil:
		j.Status, j.Ended = Interrupted, &e.At
	default:
		_, err := r.st.Get(ctx, leaseKey(id))
		if errors.Is(err, cache.ErrNotFound) {
			e := end{At: r.o.Now().UTC()}
			b, _ := json.Marshal(e)
			if _, err := r.st.HSetNX(ctx, jobKey(id), "interrupted", b); err != nil {
				return nil, err
			}
			j.Status, j.Ended = Interrupted, &e.At
		} else if err != nil {
			return nil, err
		}
	}
	statuses := make([]string, len(j.Targets))
	eachTarget(h, "s:", func(i int, v []byte) {
		if i >= len(statuses) {
			return
		}
		if len(v) > 0 && v[0] == '"' { // a batch's, quoted
			if json.Unmarshal(v, &statuses[i]) != nil {
				statuses[i] = ""
			}
			return
		}
		statuses[i] = string(v)
	})
	for i, st := range statuses {
		switch {
		case st != "":
			j.Targets[i].setOutcome(st)
			j.Finished++
			if st == "ok" {
				j.Succeeded++
			} else {
				j.Failed++
			}
		case j.Status != Running:
			j.Targets[i].setOutcome(TargetInterrupted)
		default:
			j.Targets[i].setOutcome(TargetRunning)
		}
	}
	return j, nil
}

// Filter selects jobs for List.
type Filter struct {
	User  string // "" means every user's
	Limit int    // default 20, at most 1000
}

// List returns the newest jobs first, without their targets.
func (r *Recorder) List(ctx context.Context, f Filter) ([]Job, error) {
	if f.Limit <= 0 {
		f.Limit = 20
	}
	f.Limit = min(f.Limit, 1000)
	ix := allIndex
	if f.User != "" {
		ix = userIndex(f.User)
	}
	ids, err := r.st.ZRevRange(ctx, ix, f.Limit)
	if err != nil {
		return nil, err
	}
	out := make([]Job, 0, len(ids))
	for _, id := range ids {
		j, err := r.summary(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // expired between the index and the record
		}
		if err != nil {
			return nil, err
		}
		j.Targets = nil
		out = append(out, *j)
	}
	// The index scores milliseconds; order within one by the exact start.
	slices.SortStableFunc(out, func(a, b Job) int { return b.Started.Compare(a.Started) })
	return out, nil
}
