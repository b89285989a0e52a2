package desired

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rollout"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// This file puts the engine under staged rollouts (package rollout): a
// rollout's step is this engine's apply of its documents to one server,
// and the edges (REST, XML-RPC) start and read rollouts here, so both
// read a request and show a record the same way.

// RolloutGateway is what rollouts need of the core; *gateway.Gateway is one.
type RolloutGateway interface {
	Gateway
	Session(ctx context.Context, key any) (*auth.Session, error)
	Resolve(ctx context.Context, s *auth.Session, refs []string) ([]target.Target, error)
}

// RolloutOptions configure Rollouts.
type RolloutOptions struct {
	Gateway RolloutGateway
	// Groups are the configured target groups' names: a server's groups,
	// for groupSlots, are those whose members include it.
	Groups []string
	// Rings order targets with "order": "rings" (RingOrder says how).
	Rings map[string][]string
	// Seal and Open protect the session key kept in the rollout's record
	// (in Redis it must not be usable as it is); nil: kept as it is (memory).
	Seal func(key string) (string, error)
	Open func(sealed string) (string, error)
}

// Rollouts starts, reads and changes rollouts of documents.
type Rollouts struct {
	o RolloutOptions
	e *Engine
	// C is the controller; it is built with Step, so it is set after New.
	C *rollout.Controller
}

// NewRollouts builds the glue; set C before use.
func NewRollouts(e *Engine, o RolloutOptions) *Rollouts {
	if o.Seal == nil {
		o.Seal = func(k string) (string, error) { return k, nil }
	}
	if o.Open == nil {
		o.Open = func(k string) (string, error) { return k, nil }
	}
	return &Rollouts{o: o, e: e}
}

// RolloutRequest is a rollout as a client asks for it (the contract's names).
type RolloutRequest struct {
	Documents        []any
	Targets          []string
	Order            string // "", "name", "id" or "rings"
	Canary           int
	Waves            []rollout.Amount
	Concurrency      int
	GroupSlots       map[string]int
	MaxFailures      rollout.Amount
	MaxWaveFailures  rollout.Amount
	PauseAfterCanary bool
	PauseBetween     time.Duration
	Unreachable      string // "fail" (default) or "defer"
}

// ParseRolloutRequest reads a request decoded from JSON, YAML or XML-RPC
// (a struct), listing every problem.
func ParseRolloutRequest(v any) (RolloutRequest, error) {
	var req RolloutRequest
	m, ok := plain(v).(map[string]any)
	if !ok {
		return req, &ValidationError{Problems: []string{"request: is not an object"}, What: "rollout request"}
	}
	c := &checker{}
	known := []string{"documents", "targets", "order", "canary", "waves", "concurrency", "groupSlots", "maxFailures",
		"maxWaveFailures", "pauseAfterCanary", "pauseBetween", "unreachable"}
	for k := range m {
		if !slices.Contains(known, k) {
			c.add(k, "unknown member (known: "+strings.Join(known, ", ")+")")
		}
	}
	switch x := m["documents"].(type) {
	case []any:
		req.Documents = x
	case string: // the YAML text, as hub.apply takes it
		docs, err := ParseYAML([]byte(x))
		if err != nil {
			c.add("documents", err.Error())
		}
		req.Documents = docs
	}
	if len(req.Documents) == 0 {
		c.add("documents", "a list of documents is required")
	}
	switch x := m["targets"].(type) {
	case []any:
		for i, t := range x {
			switch t.(type) {
			case string, int, int64:
				req.Targets = append(req.Targets, fmt.Sprint(t))
			default:
				c.add(fmt.Sprintf("targets[%d]", i), "a name, FQDN, group, id or all")
			}
		}
	case string:
		req.Targets = strings.Split(x, ",")
	}
	if len(req.Targets) == 0 {
		c.add("targets", "name the servers: all, a group, names, FQDNs or ids")
	}
	str := func(k string) string {
		s, ok := m[k].(string)
		if !ok && m[k] != nil {
			c.add(k, "must be a string")
		}
		return s
	}
	integer := func(k string) int {
		n, ok := toInt(m[k])
		if !ok {
			c.add(k, "must be an integer, at least 0")
		}
		return n
	}
	amount := func(path string, v any) rollout.Amount {
		if v == nil {
			return ""
		}
		if n, ok := toInt(v); ok {
			return rollout.Amount(fmt.Sprint(n))
		}
		s, ok := v.(string)
		if _, err := rollout.Amount(s).Of(100); !ok || err != nil {
			c.add(path, `a count or a percentage ("10%")`)
		}
		return rollout.Amount(s)
	}
	if req.Order = str("order"); !slices.Contains([]string{"", "name", "id", "rings"}, req.Order) {
		c.add("order", "name, id or rings")
	}
	req.Canary, req.Concurrency = integer("canary"), integer("concurrency")
	switch x := m["waves"].(type) {
	case nil:
	case []any:
		for i, w := range x {
			req.Waves = append(req.Waves, amount(fmt.Sprintf("waves[%d]", i), w))
		}
	default:
		req.Waves = []rollout.Amount{amount("waves", x)}
	}
	if gs, ok := m["groupSlots"].(map[string]any); ok {
		req.GroupSlots = map[string]int{}
		for g, v := range gs {
			if n, ok := toInt(v); ok && n > 0 {
				req.GroupSlots[g] = n
			} else {
				c.add("groupSlots."+g, "must be an integer, at least 1")
			}
		}
	} else if m["groupSlots"] != nil {
		c.add("groupSlots", "an object: group name → servers at once")
	}
	req.MaxFailures, req.MaxWaveFailures = amount("maxFailures", m["maxFailures"]), amount("maxWaveFailures", m["maxWaveFailures"])
	if b, ok := m["pauseAfterCanary"].(bool); ok {
		req.PauseAfterCanary = b
	} else if m["pauseAfterCanary"] != nil {
		c.add("pauseAfterCanary", "must be a boolean")
	}
	if s := str("pauseBetween"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			c.add("pauseBetween", `a duration ("30s", "5m")`)
		}
		req.PauseBetween = d
	}
	if req.Unreachable = str("unreachable"); !slices.Contains([]string{"", "fail", "defer"}, req.Unreachable) {
		c.add("unreachable", "fail or defer")
	}
	if len(c.problems) > 0 {
		slices.Sort(c.problems)
		return req, &ValidationError{Problems: c.problems, What: "rollout request"}
	}
	return req, nil
}

// toInt reads a non-negative integer however a decoder made it (absent is 0).
func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case nil:
		return 0, true
	case int:
		return x, x >= 0
	case int64:
		return int(x), x >= 0
	case float64:
		return int(x), x >= 0 && x == float64(int(x))
	case json.Number:
		n, err := x.Int64()
		return int(n), err == nil && n >= 0
	}
	return 0, false
}

// spec checks the documents and makes the spec of a rollout of them by
// s: its documents, their hash and the objects they touch.
func (r *Rollouts) spec(s *auth.Session, documents []any) (rollout.Spec, *Bundle, error) {
	b, err := Load(documents)
	if err != nil {
		return rollout.Spec{}, nil, err
	}
	docs := make([]any, len(documents))
	for i, d := range documents {
		docs[i] = plain(d)
	}
	raw, err := json.Marshal(docs)
	if err != nil {
		return rollout.Spec{}, nil, gateway.BadParams("documents: %v", err)
	}
	sum := sha256.Sum256(raw)
	sealed, err := r.o.Seal(s.ID)
	if err != nil {
		return rollout.Spec{}, nil, err
	}
	objects := make([]string, 0, b.Len())
	for _, o := range b.Refs() {
		objects = append(objects, o.(string))
	}
	return rollout.Spec{User: s.User, Session: sealed, Documents: raw, DocumentsHash: hex.EncodeToString(sum[:]), Objects: objects}, b, nil
}

// Start checks the documents, resolves and orders the targets as s sees
// them, and starts the rollout.
func (r *Rollouts) Start(ctx context.Context, s *auth.Session, req RolloutRequest) (*rollout.Record, error) {
	spec, _, err := r.spec(s, req.Documents)
	if err != nil {
		return nil, err
	}
	ts, err := r.o.Gateway.Resolve(ctx, s, req.Targets)
	if err != nil {
		return nil, err
	}
	ts = slices.DeleteFunc(ts, func(t target.Target) bool { return t.Hub })
	switch req.Order {
	case "name":
		slices.SortStableFunc(ts, func(a, b target.Target) int { return cmp.Compare(a.Name, b.Name) })
	case "id":
		slices.SortStableFunc(ts, func(a, b target.Target) int { return cmp.Compare(a.ID, b.ID) })
	case "rings":
		if err := r.byRings(ctx, s, ts); err != nil {
			return nil, err
		}
	}
	groups := map[string][]string{}
	for g := range req.GroupSlots {
		if !slices.Contains(r.o.Groups, g) {
			return nil, gateway.BadParams("groupSlots: %q is not a configured group (%s)", g, strings.Join(r.o.Groups, ", "))
		}
		members, err := r.o.Gateway.Resolve(ctx, s, []string{g})
		if err != nil {
			return nil, err
		}
		for _, t := range members {
			groups[t.Key()] = append(groups[t.Key()], g)
		}
	}
	spec.Targets, spec.Groups, spec.Canary, spec.Waves, spec.Concurrency = ts, groups, req.Canary, req.Waves, req.Concurrency
	spec.GroupSlots, spec.MaxFailures, spec.MaxWaveFailures = req.GroupSlots, req.MaxFailures, req.MaxWaveFailures
	spec.PauseAfterCanary, spec.PauseBetween, spec.DeferUnreachable = req.PauseAfterCanary, req.PauseBetween, req.Unreachable == "defer"
	return r.C.Start(ctx, spec)
}

// Apply is the synchronous apply (POST /api/v1/apply, hub.apply): a
// rollout of one wave of every target, none of them a canary, whose
// budget is every target (a failure on one server does not stop the
// others), waited for. The controller runs it like any rollout, so it
// is conflict-checked against the active rollouts, kept for audit
// (RolloutID) and taken over with its replica; the answer is the
// apply's, per server and object, recorded as one job, server by server
// as they finish.
func (r *Rollouts) Apply(ctx context.Context, s *auth.Session, documents []any, ts []target.Target) (*ApplyResult, error) {
	spec, b, err := r.spec(s, documents)
	if err != nil {
		return nil, err
	}
	out := &ApplyResult{Targets: make([]ApplyTarget, len(ts))}
	if len(ts) == 0 {
		return out, nil
	}
	run, err := r.e.startJob(ctx, s, ts, b)
	if err != nil {
		return nil, err
	}
	results := make(fanout.Results, len(ts))
	recorded := make([]bool, len(ts))
	// seen records the servers that finished since it last looked, and at
	// the end the others (not run) too. A synchronous rollout has one
	// wave, its servers in the targets' order.
	seen := func(rec *rollout.Record, end bool) {
		for i, sv := range rec.Servers {
			if recorded[i] || i >= len(ts) || sv.Finished == nil && !end {
				continue
			}
			recorded[i] = true
			out.Targets[i] = applyTarget(sv, b)
			results[i] = fanout.Result{Target: ts[i], Value: jobValue(out.Targets[i]), Fault: serverFault(sv)}
			if sv.Started != nil && sv.Finished != nil {
				results[i].Duration = sv.Finished.Sub(*sv.Started)
			}
			run.Finished(i, results[i])
		}
	}
	spec.Targets, spec.Canary, spec.Concurrency = ts, len(ts), min(len(ts), r.e.parallel)
	spec.MaxFailures, spec.Synchronous = "100%", true
	rec, err := r.C.Start(ctx, spec)
	if err == nil {
		out.RolloutID = rec.ID
		rec, err = r.C.Wait(ctx, rec.ID, func(rec *rollout.Record) { seen(rec, false) })
	}
	if err != nil {
		for i, t := range ts {
			if !recorded[i] {
				results[i] = fanout.Result{Target: t, Err: err}
			}
		}
		run.End(results)
		return nil, err
	}
	seen(rec, true) // paused (the session went) or halted: the servers not run are skipped
	run.End(results)
	if run != nil {
		out.JobID = run.ID()
	}
	out.Summary = applySummary(out.Targets)
	return out, nil
}

// applyTarget is a server's outcomes as a rollout recorded them; a server
// that did not run has every object skipped.
func applyTarget(sv rollout.Server, b *Bundle) ApplyTarget {
	at := ApplyTarget{Target: sv.Target.String(), ServerID: sv.Target.ID}
	if sv.Finished != nil && json.Unmarshal(sv.Objects, &at.Objects) == nil && at.Objects != nil {
		return at
	}
	at.Objects = make([]ApplyObject, 0, b.Len())
	for _, o := range b.objects {
		at.Objects = append(at.Objects, ApplyObject{Kind: o.Kind, Name: o.Name, Outcome: Skipped, Steps: []Step{},
			Reason: cmp.Or(sv.Error, "not run: the apply stopped ("+string(sv.Status)+")")})
	}
	return at
}

// serverFault says that objects failed on a server: its job target is a
// fault, not "ok", with the outcomes as its result.
func serverFault(sv rollout.Server) *rpc.Fault {
	if sv.Status == rollout.Done {
		return nil
	}
	return rpc.Faultf(gateway.CodeObjectsFailed, "hubgw: %s", cmp.Or(sv.Error, string(sv.Status)))
}

// RingOrder lists the configured rings in the order a rollout takes
// them: "canary" first, the ring of "*" (every other server) last, the
// others by name; it says what is wrong with the rings.
func RingOrder(rings map[string][]string) ([]string, error) {
	names := make([]string, 0, len(rings))
	rest := ""
	for name, members := range rings {
		switch {
		case name == "" || len(members) == 0:
			return nil, fmt.Errorf("rings: ring %q needs a name and members", name)
		case slices.Contains(members, "*") && len(members) > 1:
			return nil, fmt.Errorf("rings: ring %q: \"*\" stands alone (every server not in another ring)", name)
		case slices.Contains(members, "*") && rest != "":
			return nil, fmt.Errorf("rings: both %q and %q are \"*\"", rest, name)
		case slices.Contains(members, "*"):
			rest = name
		default:
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(-cmp.Compare(boolRank(a == "canary"), boolRank(b == "canary")), cmp.Compare(a, b))
	})
	if rest != "" {
		names = append(names, rest)
	}
	return names, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// byRings orders ts by the first ring each is in, then by id; servers in
// no ring (when no ring is "*") come last.
func (r *Rollouts) byRings(ctx context.Context, s *auth.Session, ts []target.Target) error {
	order, err := RingOrder(r.o.Rings)
	if err != nil {
		return err
	}
	if len(order) == 0 {
		return gateway.BadParams("order: rings: no rings are configured")
	}
	rank := map[string]int{}
	for i, name := range order {
		if slices.Contains(r.o.Rings[name], "*") {
			for _, t := range ts {
				if _, ok := rank[t.Key()]; !ok {
					rank[t.Key()] = i
				}
			}
			continue
		}
		members, err := r.o.Gateway.Resolve(ctx, s, r.o.Rings[name])
		if err != nil {
			return fmt.Errorf("ring %s: %w", name, err)
		}
		for _, t := range members {
			if _, ok := rank[t.Key()]; !ok {
				rank[t.Key()] = i
			}
		}
	}
	at := func(t target.Target) int {
		if n, ok := rank[t.Key()]; ok {
			return n
		}
		return len(order)
	}
	slices.SortStableFunc(ts, func(a, b target.Target) int { return cmp.Or(cmp.Compare(at(a), at(b)), cmp.Compare(a.ID, b.ID)) })
	return nil
}

// Resume resumes a rollout from s (its key replaces the rollout's: resume
// after a credentials pause is from a new login), optionally with a
// larger budget.
func (r *Rollouts) Resume(ctx context.Context, s *auth.Session, id string, maxFailures *rollout.Amount) (*rollout.Record, error) {
	sealed, err := r.o.Seal(s.ID)
	if err != nil {
		return nil, err
	}
	return r.C.Resume(ctx, id, s.User, maxFailures, sealed)
}

// Get reads one of s's user's rollouts.
func (r *Rollouts) Get(ctx context.Context, s *auth.Session, id string) (*rollout.Record, error) {
	rec, err := r.C.Get(ctx, id)
	if err == nil && rec.Spec.User != s.User {
		return nil, rollout.ErrNotFound // another user's rollout is none of theirs
	}
	return rec, err
}

// KeepAlive is the controller's: reading the rollout's session keeps it
// alive (its idle expiry starts again) while the rollout waits.
func (r *Rollouts) KeepAlive(ctx context.Context, spec *rollout.Spec) {
	if key, err := r.o.Open(spec.Session); err == nil {
		_, _ = r.o.Gateway.Session(ctx, key)
	}
}

// Step is the controller's step: the bundle applied to one server with
// the rollout's session.
func (r *Rollouts) Step(ctx context.Context, spec *rollout.Spec, t target.Target, claim rollout.Claim) rollout.StepResult {
	key, err := r.o.Open(spec.Session)
	if err != nil {
		return rollout.StepResult{Credentials: true}
	}
	s, err := r.o.Gateway.Session(ctx, key)
	var f *rpc.Fault
	if errors.As(err, &f) && f.Code == gateway.CodeNoSession {
		return rollout.StepResult{Credentials: true}
	}
	if err != nil {
		return rollout.StepResult{Status: rollout.Unreachable, Err: err.Error()}
	}
	docs, err := ParseYAML(spec.Documents)
	if err != nil {
		return rollout.StepResult{Status: rollout.Failed, Err: "the rollout's documents: " + err.Error()}
	}
	b, err := Load(docs)
	if err != nil {
		return rollout.StepResult{Status: rollout.Failed, Err: "the rollout's documents: " + err.Error()}
	}
	at := r.e.ApplyServer(ctx, s, t, b, Deploys{At: claim.Stamp, Recheck: claim.InDoubt})
	res := rollout.StepResult{Status: rollout.Done, Counts: map[string]int{}}
	unreachable := len(at.Objects) > 0
	for _, o := range at.Objects {
		res.Counts[o.Outcome]++
		switch o.Outcome {
		case Failed, Conflict, Blocked, Unreachable, Skipped: // an object not in place: the server did not succeed
			if res.Status != rollout.Failed && res.Err == "" {
				res.Err = fmt.Sprintf("%s/%s: %s", o.Kind, o.Name, cmp.Or(o.FaultString, o.Reason, o.Outcome))
			}
			res.Status = rollout.Failed
		}
		unreachable = unreachable && (o.Outcome == Unreachable || o.Outcome == Skipped)
	}
	if unreachable {
		res.Status = rollout.Unreachable
	}
	res.Objects, _ = json.Marshal(at.Objects)
	return res
}

// RolloutView is a rollout as the edges show it (the contract's shape).
type RolloutView struct {
	ID            string       `json:"id"`
	Status        string       `json:"status"`
	Reason        string       `json:"reason"`
	DocumentsHash string       `json:"documentsHash"`
	Owner         string       `json:"owner"`
	User          string       `json:"user"`
	Created       time.Time    `json:"created"`
	Updated       time.Time    `json:"updated"`
	Counts        ApplySummary `json:"counts"`
	// FailureBudget is maxFailures resolved against the targets: the
	// failed servers the rollout tolerates before it halts.
	FailureBudget int             `json:"failureBudget"`
	Waves         []RolloutWave   `json:"waves"`
	Targets       []RolloutTarget `json:"targets"`
	Log           []rollout.Entry `json:"log"`
}

// RolloutWave is one wave: its state and its servers.
type RolloutWave struct {
	Index   int      `json:"index"`
	Status  string   `json:"status"`
	Targets []string `json:"targets"`
}

// RolloutTarget is one server of a rollout.
type RolloutTarget struct {
	Target   string          `json:"target"`
	ServerID int64           `json:"serverId"`
	Wave     int             `json:"wave"`
	Status   string          `json:"status"`
	Attempt  int             `json:"attempt"`
	Objects  json.RawMessage `json:"objects"`
	Error    string          `json:"error,omitempty"`
}

// View shows a record.
func View(rec *rollout.Record) RolloutView {
	c := rec.Counts()
	v := RolloutView{ID: rec.ID, Status: string(rec.Status), Reason: rec.Reason, DocumentsHash: rec.Spec.DocumentsHash,
		Owner: rec.Owner, User: rec.Spec.User, Created: rec.Created, Updated: rec.Updated, Log: rec.Log,
		Counts: ApplySummary{Created: c[Created], Updated: c[Updated], Unchanged: c[Unchanged], Failed: c[Failed],
			Conflict: c[Conflict], Blocked: c[Blocked], Unreachable: c[Unreachable], Skipped: c[Skipped]},
		Waves: make([]RolloutWave, len(rec.Waves)), Targets: make([]RolloutTarget, len(rec.Servers))}
	v.FailureBudget, _ = rec.Spec.MaxFailures.Of(len(rec.Servers)) // checked when it was set
	if v.Log == nil {
		v.Log = []rollout.Entry{}
	}
	for w := range rec.Waves {
		v.Waves[w] = RolloutWave{Index: w, Status: rec.WaveStatus(w), Targets: []string{}}
	}
	for i, s := range rec.Servers {
		objs := s.Objects
		if len(objs) == 0 {
			objs = json.RawMessage("[]")
		}
		v.Targets[i] = RolloutTarget{Target: s.Target.String(), ServerID: s.Target.ID, Wave: s.Wave, Status: string(s.Status),
			Attempt: s.Attempt, Objects: objs, Error: s.Error}
		v.Waves[s.Wave].Targets = append(v.Waves[s.Wave].Targets, s.Target.String())
	}
	return v
}

// RolloutFault turns the controller's errors into the faults the edges
// answer; others pass as they are.
func RolloutFault(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, rollout.ErrNotFound):
		return rpc.Faultf(gateway.CodeUnknownRollout, "hubgw: %v", err)
	case errors.Is(err, rollout.ErrConflict), errors.Is(err, rollout.ErrState):
		return rpc.Faultf(gateway.CodeRolloutState, "hubgw: %v", err)
	case errors.Is(err, rollout.ErrInvalid):
		return gateway.BadParams("%v", err)
	}
	return err
}
