// Package desired is hub operations as desired state: documents that
// declare software channels, config channels, activation keys and system
// groups; a plan that says, per server and per object, what would change;
// and an apply that writes only that difference, verifies it, and records
// one job with an outcome per object and server.
//
// The engine reaches servers only through the gateway's request path (Do),
// one server per call, marked Internal: the apply as a whole is the job.
// While planning, the invoker refuses every method that is not read-only
// (server.call), so a plan cannot write whatever a kind's code does.
// What Uyuni rewrites, and which faults mean absent, exists or conflict,
// follow ../shared/uyuni-hub-operations.md; the rules live in fields.go
// (normalisation) and in one file per kind.
package desired

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
	"github.com/hubgw/hubgw/gateway/uyuniapi"
)

// Gateway is what the engine needs of the core; *gateway.Gateway is one.
type Gateway interface {
	Do(ctx context.Context, req gateway.Request) (gateway.Outcome, error)
	JobRecorder() gateway.JobRecorder
	Hub() target.Target
}

// Engine plans and applies bundles.
type Engine struct {
	gw Gateway
	// parallel bounds how many servers are worked on at once; the
	// per-server limits of the gateway's invoker apply underneath.
	parallel int
}

// New builds an engine over gw.
func New(gw Gateway) *Engine { return &Engine{gw: gw, parallel: 256} }

// Plan actions and apply outcomes: the contract's names.
const (
	ActCreate   = "create"
	ActUpdate   = "update"
	ActNoop     = "noop"
	ActConflict = "conflict"
	ActBlocked  = "blocked"
	ActUnknown  = "unknown"

	Created     = "created"
	Updated     = "updated"
	Unchanged   = "unchanged"
	Failed      = "failed"
	Conflict    = "conflict"
	Blocked     = "blocked"
	Unreachable = "unreachable"
	Skipped     = "skipped"
)

// PlanResult is a plan: per server, per object, what would change.
type PlanResult struct {
	Targets []PlanTarget `json:"targets"`
	Summary PlanSummary  `json:"summary"`
}

// PlanTarget is one server's plan.
type PlanTarget struct {
	Target   string       `json:"target"`
	ServerID int64        `json:"serverId"`
	Objects  []PlanObject `json:"objects"`
}

// PlanObject is one object's action on one server.
type PlanObject struct {
	Kind    string   `json:"kind"`
	Name    string   `json:"name"`
	Action  string   `json:"action"`
	Changes []Change `json:"changes"`
	Reason  string   `json:"reason,omitempty"`
}

// PlanSummary counts the actions over all servers.
type PlanSummary struct {
	Create   int `json:"create"`
	Update   int `json:"update"`
	Noop     int `json:"noop"`
	Conflict int `json:"conflict"`
	Blocked  int `json:"blocked"`
	Unknown  int `json:"unknown"`
}

// ApplyResult is what an apply did, per server and object, its job, and
// the rollout that ran it (kept for audit, GET /api/v1/rollouts/{id}).
type ApplyResult struct {
	JobID     string        `json:"jobId"`
	RolloutID string        `json:"rolloutId"`
	Targets   []ApplyTarget `json:"targets"`
	Summary   ApplySummary  `json:"summary"`
}

// ApplyTarget is one server's outcomes.
type ApplyTarget struct {
	Target   string        `json:"target"`
	ServerID int64         `json:"serverId"`
	Objects  []ApplyObject `json:"objects"`
}

// ApplyObject is one object's outcome on one server.
type ApplyObject struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Outcome string `json:"outcome"`
	// Partial: the object failed after some of its writes were applied
	// (listed in Steps).
	Partial     bool     `json:"partial"`
	Steps       []Step   `json:"steps"`
	Changes     []Change `json:"changes,omitempty"`
	FaultCode   int      `json:"faultCode,omitempty"`
	FaultString string   `json:"faultString,omitempty"`
	Reason      string   `json:"reason,omitempty"`
}

// Step is one write call made for an object. Arguments are not kept:
// file contents never enter records.
type Step struct {
	Call        string  `json:"call"`
	DurationMS  float64 `json:"durationMs"`
	FaultCode   int     `json:"faultCode,omitempty"`
	FaultString string  `json:"faultString,omitempty"`
}

// ApplySummary counts the outcomes over all servers.
type ApplySummary struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Unchanged   int `json:"unchanged"`
	Failed      int `json:"failed"`
	Conflict    int `json:"conflict"`
	Blocked     int `json:"blocked"`
	Unreachable int `json:"unreachable"`
	Skipped     int `json:"skipped"`
}

// Plan reads every object on every target and says what apply would do.
// Only read-only methods are sent.
func (e *Engine) Plan(ctx context.Context, s *auth.Session, targets []target.Target, b *Bundle) (*PlanResult, error) {
	out := &PlanResult{Targets: make([]PlanTarget, len(targets))}
	err := e.each(ctx, targets, func(ctx context.Context, i int) {
		srv := e.server(s, targets[i], true)
		pt := PlanTarget{Target: targets[i].String(), ServerID: targets[i].ID, Objects: make([]PlanObject, 0, len(b.objects))}
		for _, o := range b.objects {
			pt.Objects = append(pt.Objects, srv.plan(ctx, o))
		}
		out.Targets[i] = pt
	})
	sm := &out.Summary
	count(out.Targets, func(t PlanTarget) []PlanObject { return t.Objects }, func(o PlanObject) string { return o.Action },
		map[string]*int{ActCreate: &sm.Create, ActUpdate: &sm.Update, ActNoop: &sm.Noop, ActConflict: &sm.Conflict,
			ActBlocked: &sm.Blocked, ActUnknown: &sm.Unknown})
	return out, err
}

// startJob records an apply as one job (hub.apply; nil without a
// recorder or a user); nothing is sent when it cannot be recorded.
func (e *Engine) startJob(ctx context.Context, s *auth.Session, targets []target.Target, b *Bundle) (*jobs.Run, error) {
	rec := e.gw.JobRecorder()
	if rec == nil || s == nil {
		return nil, nil
	}
	args := make([][]any, len(targets))
	for i := range args {
		args[i] = []any{b.Refs()}
	}
	run, err := rec.Start(ctx, jobs.Spec{Method: "hub.apply", User: s.User, Targets: targets, Args: args})
	if err != nil {
		return nil, rpc.Faultf(gateway.CodeStateUnavailable, "hubgw: the apply's job cannot be recorded, so nothing was sent: %v", err)
	}
	return run, nil
}

// applySummary counts the outcomes over all servers.
func applySummary(targets []ApplyTarget) ApplySummary {
	var sm ApplySummary
	count(targets, func(t ApplyTarget) []ApplyObject { return t.Objects }, func(o ApplyObject) string { return o.Outcome },
		map[string]*int{Created: &sm.Created, Updated: &sm.Updated, Unchanged: &sm.Unchanged, Failed: &sm.Failed,
			Conflict: &sm.Conflict, Blocked: &sm.Blocked, Unreachable: &sm.Unreachable, Skipped: &sm.Skipped})
	return sm
}

// Deploys dates the deploy actions an apply schedules, and says whether
// an earlier run may have scheduled them already.
type Deploys struct {
	// At dates them (zero: now); a rollout dates a server's deploys with
	// its claim of the server, the same for a run that follows one whose
	// outcome was lost.
	At time.Time
	// Recheck: an earlier run with the same At may have scheduled them,
	// and died before its outcome was recorded. They are looked for before
	// they are scheduled, so nothing is scheduled twice; and a channel
	// that deploys when changed, found unchanged (the earlier run may
	// have written it), is deployed unless the earlier run did.
	Recheck bool
}

// ApplyServer makes one server match the bundle, object by object in
// dependency order; it records no job (Apply, or a rollout, does).
func (e *Engine) ApplyServer(ctx context.Context, s *auth.Session, t target.Target, b *Bundle, d Deploys) ApplyTarget {
	srv := e.server(s, t, false)
	srv.deploys = d
	at := ApplyTarget{Target: t.String(), ServerID: t.ID, Objects: make([]ApplyObject, 0, len(b.objects))}
	for _, o := range b.objects {
		at.Objects = append(at.Objects, srv.apply(ctx, o))
	}
	return at
}

// count adds up the objects of every target by their action or outcome.
func count[T, O any](targets []T, objects func(T) []O, key func(O) string, into map[string]*int) {
	for _, t := range targets {
		for _, o := range objects(t) {
			*into[key(o)]++
		}
	}
}

// jobValue is a server's outcomes as a job records them: no contents.
func jobValue(t ApplyTarget) any {
	objs := make([]any, len(t.Objects))
	for i, o := range t.Objects {
		steps := make([]any, len(o.Steps))
		for j, st := range o.Steps {
			steps[j] = rpc.Struct{{Name: "call", Value: st.Call}, {Name: "durationMs", Value: st.DurationMS},
				{Name: "faultCode", Value: st.FaultCode}, {Name: "faultString", Value: st.FaultString}}
		}
		objs[i] = rpc.Struct{{Name: "kind", Value: o.Kind}, {Name: "name", Value: o.Name}, {Name: "outcome", Value: o.Outcome},
			{Name: "partial", Value: o.Partial}, {Name: "steps", Value: steps}, {Name: "faultCode", Value: o.FaultCode},
			{Name: "faultString", Value: o.FaultString}, {Name: "reason", Value: o.Reason}}
	}
	return rpc.Struct{{Name: "objects", Value: objs}}
}

// each runs fn for every target, servers in parallel.
func (e *Engine) each(ctx context.Context, targets []target.Target, fn func(ctx context.Context, i int)) error {
	var g errgroup.Group
	g.SetLimit(e.parallel)
	for i := range targets {
		g.Go(func() error { fn(ctx, i); return nil })
	}
	_ = g.Wait()
	return ctx.Err()
}

func (e *Engine) server(s *auth.Session, t target.Target, planning bool) *server {
	return &server{e: e, sess: s, t: t, planning: planning, state: map[ref]bool{}, exists: map[ref]bool{}}
}

// server is one target's work: its calls, and what is known of it so far.
type server struct {
	e        *Engine
	sess     *auth.Session
	t        target.Target
	planning bool
	steps    []Step // the current object's writes
	// justCreated: the current object was created by this apply.
	justCreated bool
	deploys     Deploys
	note        string // the current object's, when nothing else says more

	org int64 // the user's org on this server (activation key prefix)
	// hubSynced: the channels Hub Online Sync keeps on this server, read
	// from the hub once (softchan.go).
	hubSynced map[string]bool
	groups    map[string]int64 // system group name → this server's id
	// state: objects of the bundle already handled on this server, and
	// whether they can be depended on (exist, or will in a plan).
	state  map[ref]bool
	exists map[ref]bool // objects outside the bundle, read once
	down   error        // set once the server is unreachable
}

// conflictError: a write found what the document cannot take over (the
// server's own rule forbids it), with the fault that said so.
type conflictError struct {
	reason string
	fault  *rpc.Fault
}

func (c *conflictError) Error() string { return c.reason }

// ErrWriteInPlan is what the invoker answers a write while planning.
var ErrWriteInPlan = errors.New("hubgw: a plan may only read")

// unreachableError: the server did not answer (transport, circuit open, not attached).
type unreachableError struct{ err error }

func (u *unreachableError) Error() string { return "unreachable: " + u.err.Error() }
func (u *unreachableError) Unwrap() error { return u.err }

// send sends one method to t (this server, or the hub) through the
// gateway, as the engine's own call, and returns t's one result.
func (s *server) send(ctx context.Context, t target.Target, method string, args []any) (fanout.Result, error) {
	out, err := s.e.gw.Do(ctx, gateway.Request{Session: s.sess, Targets: []target.Target{t}, Method: method,
		Args: func(int, target.Target) []any { return args }, Internal: true})
	if err == nil && len(out.Results) != 1 {
		err = fmt.Errorf("%s: %d results for one server", method, len(out.Results))
	}
	if err != nil {
		return fanout.Result{}, err
	}
	return out.Results[0], nil
}

// call sends one method to this server through the gateway and decodes
// the answer. A fault comes back as *rpc.Fault; no answer as
// *unreachableError. While planning, a method that is not read-only is
// refused here, centrally, and never sent.
func (s *server) call(ctx context.Context, method string, args ...any) (any, error) {
	write := !uyuniapi.ReadOnly(method)
	if write && s.planning {
		return nil, fmt.Errorf("%w: %s refused", ErrWriteInPlan, method)
	}
	if s.down != nil {
		return nil, s.down
	}
	start := time.Now()
	r, err := s.send(ctx, s.t, method, args)
	var f *rpc.Fault
	switch {
	case errors.As(err, &f):
	case err != nil:
	case r.Fault != nil:
		f = r.Fault
	case r.Err != nil:
		err = r.Err
	}
	if f != nil && f.Code >= gateway.CodeNotAttached && f.Code <= gateway.CodeHubUnreachable {
		err, f = f, nil
	}
	if f == nil && err != nil {
		s.down = &unreachableError{err}
		err = s.down
	}
	if write {
		st := Step{Call: method, DurationMS: float64(time.Since(start).Microseconds()) / 1000}
		if f != nil {
			st.FaultCode, st.FaultString = f.Code, f.String
		} else if err != nil {
			st.FaultCode, st.FaultString = gateway.CodeUnreachable, err.Error()
		}
		s.steps = append(s.steps, st)
	}
	if f != nil {
		return nil, f
	}
	if err != nil {
		return nil, err
	}
	return rpc.Decode(r.Value)
}

// kindOps is one kind's reads and writes.
type kindOps interface {
	// read returns the object's managed fields on the server, nil when absent.
	read(ctx context.Context, s *server, o *object) (fields, error)
	// create makes the object with what its create call takes; update
	// writes the rest.
	create(ctx context.Context, s *server, o *object) error
	update(ctx context.Context, s *server, o *object, have fields, changes []Change) error
	// immutable reports the fields that cannot change (a difference is a conflict).
	immutable(field string, have, want any) bool
	// exists reports whether a create fault means "already there" (re-read).
	exists(f *rpc.Fault) bool
}

func opsFor(kind string) kindOps {
	switch kind {
	case KindSystemGroup:
		return groupOps{}
	case KindSoftwareChannel:
		return softwareChannelOps{}
	case KindConfigChannel:
		return configChannelOps{}
	}
	return activationKeyOps{}
}

// plan reads one object and decides its action.
func (s *server) plan(ctx context.Context, o *object) PlanObject {
	p := PlanObject{Kind: o.Kind, Name: o.Name, Changes: []Change{}}
	defer func() {
		s.state[ref{o.Kind, o.Name}] = p.Action == ActCreate || p.Action == ActUpdate || p.Action == ActNoop
	}()
	if reason := s.blocked(ctx, o); reason != "" {
		p.Action, p.Reason = ActBlocked, reason
		if s.down != nil {
			p.Action = ActUnknown
		}
		return p
	}
	ops := opsFor(o.Kind)
	have, err := ops.read(ctx, s, o)
	if err != nil {
		p.Action, p.Reason = ActUnknown, err.Error()
		return p
	}
	p.Changes = diff(o.want, have)
	switch {
	case have == nil:
		p.Action = ActCreate
	case len(p.Changes) == 0:
		p.Action = ActNoop
	default:
		p.Action = ActUpdate
		for _, c := range p.Changes {
			if ops.immutable(c.Field, c.Have, c.Want) {
				p.Action, p.Reason = ActConflict, fmt.Sprintf("%s cannot change (have %v, want %v)", c.Field, c.Have, c.Want)
				break
			}
		}
	}
	if (p.Action == ActCreate || p.Action == ActUpdate) && o.Kind == KindSoftwareChannel && !o.prune["ignoreHubSync"] && s.syncedByHub(ctx, o.Name) {
		p.Action, p.Reason = ActConflict, "managed by hub sync: the hub's Hub Online Sync keeps this channel on this server and would overwrite the change; change it on the hub, or set spec.ignoreHubSync"
	}
	return p
}

// blocked says why an object cannot be worked on here: a dependency is
// missing on this server, or failed.
func (s *server) blocked(ctx context.Context, o *object) string {
	for _, d := range o.deps {
		if ok, known := s.state[d]; known {
			if !ok {
				return fmt.Sprintf("depends on %s, which is not in place on this server", d)
			}
			continue
		}
		ok, known := s.exists[d]
		if !known {
			have, err := opsFor(d.Kind).read(ctx, s, &object{Kind: d.Kind, Name: d.Name, want: fields{}})
			if err != nil {
				return fmt.Sprintf("depends on %s, which cannot be read: %v", d, err)
			}
			ok = have != nil
			s.exists[d] = ok
		}
		if !ok {
			return fmt.Sprintf("depends on %s, which is missing on this server and not in the documents", d)
		}
	}
	return ""
}

// apply re-reads one object, writes the difference, and verifies it.
func (s *server) apply(ctx context.Context, o *object) (res ApplyObject) {
	s.steps, s.justCreated, s.note = nil, false, ""
	res = ApplyObject{Kind: o.Kind, Name: o.Name}
	defer func() {
		res.Steps = nonNilSteps(s.steps)
		res.Reason = cmp.Or(res.Reason, s.note)
		s.state[ref{o.Kind, o.Name}] = res.Outcome == Created || res.Outcome == Updated || res.Outcome == Unchanged
	}()
	if ctx.Err() != nil {
		res.Outcome, res.Reason = Skipped, ctx.Err().Error()
		return res
	}
	p := s.plan(ctx, o)
	res.Reason = p.Reason
	switch p.Action {
	case ActNoop:
		res.Outcome = Unchanged
		if o.Kind == KindConfigChannel && (o.deploy == "always" || o.deploy == "changed" && s.deploys.Recheck) {
			if err := s.deploy(ctx, o); err != nil {
				return s.failed(res, err)
			}
		}
		return res
	case ActConflict:
		res.Outcome, res.Changes = Conflict, p.Changes
		return res
	case ActBlocked:
		res.Outcome = Blocked
		return res
	case ActUnknown:
		res.Outcome = Unreachable
		return res
	}
	ops := opsFor(o.Kind)
	res.Outcome = Updated
	if p.Action == ActCreate {
		res.Outcome, s.justCreated = Created, true
		if err := ops.create(ctx, s, o); err != nil {
			var f *rpc.Fault
			if !errors.As(err, &f) || !ops.exists(f) {
				return s.failed(res, err)
			}
			// "already exists": visible now (a race) → carry on; still
			// invisible → another org holds the name or label.
			have, rerr := ops.read(ctx, s, o)
			if rerr != nil {
				return s.failed(res, rerr)
			}
			if have == nil {
				res.Outcome, res.FaultCode, res.FaultString = Conflict, f.Code, f.String
				res.Reason = "the name or label is taken by an object this user cannot see"
				return res
			}
		}
	}
	have, err := ops.read(ctx, s, o)
	if err != nil {
		return s.failed(res, err)
	}
	if have == nil {
		return s.failed(res, fmt.Errorf("not found after it was created"))
	}
	changes := diff(o.want, have)
	res.Changes = p.Changes
	for _, c := range changes {
		if ops.immutable(c.Field, c.Have, c.Want) {
			res.Outcome, res.Reason = Conflict, fmt.Sprintf("%s cannot change (have %v, want %v)", c.Field, c.Have, c.Want)
			return res
		}
	}
	if len(changes) > 0 {
		if err := ops.update(ctx, s, o, have, changes); err != nil {
			return s.failed(res, err)
		}
	}
	have, err = ops.read(ctx, s, o)
	if err != nil {
		return s.failed(res, err)
	}
	if left := diff(o.want, have); len(left) > 0 {
		names := make([]string, len(left))
		for i, c := range left {
			names[i] = c.Field
		}
		res.Changes = left
		return s.failed(res, fmt.Errorf("not converged: %s still differ after the writes", strings.Join(names, ", ")))
	}
	return res
}

// failed is an object's failure, partial when some of its writes went through.
func (s *server) failed(res ApplyObject, err error) ApplyObject {
	res.Outcome = Failed
	for _, st := range s.steps {
		if st.FaultCode == 0 {
			res.Partial = true
		}
	}
	var f *rpc.Fault
	var u *unreachableError
	var c *conflictError
	switch {
	case errors.As(err, &c):
		res.Outcome, res.Reason = Conflict, c.reason
		res.FaultCode, res.FaultString = c.fault.Code, c.fault.String
	case errors.As(err, &f):
		res.FaultCode, res.FaultString = f.Code, f.String
	case errors.As(err, &u) && len(s.steps) == 0:
		res.Outcome, res.Reason = Unreachable, err.Error()
	default:
		res.Reason = err.Error()
	}
	return res
}

func nonNilSteps(s []Step) []Step {
	if s == nil {
		return []Step{}
	}
	return s
}

// isFault reports whether err is the fault code.
func isFault(err error, codes ...int) bool {
	var f *rpc.Fault
	if !errors.As(err, &f) {
		return false
	}
	for _, c := range codes {
		if f.Code == c {
			return true
		}
	}
	return false
}

func anyList(items []string) []any {
	out := make([]any, len(items))
	for i, s := range items {
		out[i] = s
	}
	return out
}

func asFault(err error, f **rpc.Fault) bool { return errors.As(err, f) }
