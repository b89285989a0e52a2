package gateway

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// This file is the gateway's API for edges other than hub-xmlrpc-api's
// XML-RPC contract (REST, spacecmd targeting): the same operations in Go
// terms. Everything here returns *rpc.Fault for what a client should see.

// Login opens a gateway session: it logs in to the hub and, in autoconnect
// mode, attaches every peripheral the user may see (their results are
// returned, one per peripheral).
func (g *Gateway) Login(ctx context.Context, mode auth.Mode, user, password string) (*auth.Session, fanout.Results, error) {
	r := g.loginTo(ctx, g.o.Hub, user, password)
	if !r.OK() {
		return nil, nil, resultFault(r)
	}
	s := &auth.Session{ID: auth.NewID(), User: user, Mode: mode, HubKey: r.Value.(string), Keys: map[string]string{}}
	if mode != auth.Manual {
		s.Secret = []byte(password) // relay and autoconnect log in to peripherals later
	}
	if err := g.o.Sessions.Create(ctx, s); err != nil {
		return nil, nil, storeFault(err)
	}
	g.o.Logger.InfoContext(ctx, "login", "session", s)
	if mode != auth.Autoconnect {
		return s, nil, nil
	}
	snap, err := g.snapshot(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	targets, err := g.visibleTo(ctx, s, snap)
	if err != nil {
		return nil, nil, err
	}
	results, err := g.Attach(ctx, s, targets, nil, nil)
	return s, results, err
}

// Session returns the live gateway session for a key (an XML-RPC session
// key or a REST bearer token: they are the same thing).
func (g *Gateway) Session(ctx context.Context, key string) (*auth.Session, error) {
	return g.session(ctx, key)
}

// Logout ends a session on the gateway and, concurrently, everywhere it
// holds a key.
func (g *Gateway) Logout(ctx context.Context, key string) error {
	_, err := g.logout(ctx, []any{key})
	return err
}

// Peripherals returns the registry as the session sees it.
func (g *Gateway) Peripherals(ctx context.Context, s *auth.Session) (*registry.Snapshot, error) {
	return g.snapshot(ctx, s)
}

// Hub is the hub's target.
func (g *Gateway) Hub() target.Target { return g.o.Hub }

// Resolve turns target references into targets, in order, without
// duplicates: "hub", "all" (every attached peripheral), a group named in
// the configuration, or a peripheral's id, name or FQDN. An unknown
// reference is a CodeUnknownServer fault that lists the valid ones.
func (g *Gateway) Resolve(ctx context.Context, s *auth.Session, refs []string) ([]target.Target, error) {
	var snap *registry.Snapshot
	for _, ref := range refs {
		if !strings.EqualFold(strings.TrimSpace(ref), "hub") {
			var err error
			if snap, err = g.snapshot(ctx, s); err != nil {
				return nil, err
			}
			break
		}
	}
	return g.resolveIn(snap, refs, func(t target.Target) bool {
		_, attached := s.Keys[t.Key()]
		return attached
	})
}

// resolveIn resolves refs against snap (nil when every ref is "hub");
// inAll says which peripherals "all" stands for.
func (g *Gateway) resolveIn(snap *registry.Snapshot, refs []string, inAll func(target.Target) bool) ([]target.Target, error) {
	var out []target.Target
	seen := map[string]bool{}
	add := func(t target.Target) {
		if !seen[t.Key()] {
			seen[t.Key()] = true
			out = append(out, t)
		}
	}
	for _, ref := range refs {
		ref = strings.TrimSpace(ref)
		if strings.EqualFold(ref, "hub") {
			add(g.o.Hub)
			continue
		}
		switch members, group := g.group(ref); {
		case strings.EqualFold(ref, "all"):
			for _, t := range snap.Targets {
				if inAll(t) {
					add(t)
				}
			}
		case group:
			for _, m := range members {
				t, ok := find(snap, m)
				if !ok {
					return nil, rpc.Faultf(CodeUnknownServer, "hubgw: group %q names %q, which is not a peripheral of this hub; valid targets: %s", ref, m, strings.Join(g.validTargets(snap), ", "))
				}
				add(t)
			}
		default:
			t, ok := find(snap, ref)
			if !ok {
				return nil, rpc.Faultf(CodeUnknownServer, "hubgw: unknown target %q; valid targets: %s", ref, strings.Join(g.validTargets(snap), ", "))
			}
			add(t)
		}
	}
	return out, nil
}

func find(snap *registry.Snapshot, ref string) (target.Target, bool) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		if t, ok := snap.ByID(id); ok {
			return t, true
		}
	}
	return snap.Find(ref)
}

// validTargets lists what Resolve accepts, for error messages.
func (g *Gateway) validTargets(snap *registry.Snapshot) []string {
	out := []string{"hub", "all"}
	for name := range g.o.Groups {
		out = append(out, name)
	}
	slices.Sort(out[2:])
	return append(out, snap.Names()...)
}

// Attach logs in to each target concurrently (with users[i] and
// passwords[i] when given, else the session's relay credentials) and keeps
// the keys that worked. Successful results hold "attached", never a key.
func (g *Gateway) Attach(ctx context.Context, s *auth.Session, targets []target.Target, users, passwords []string) (fanout.Results, error) {
	if users == nil && len(s.Secret) == 0 {
		return nil, badParams("attaching without credentials needs a relay or autoconnect session; this one logged in manually, so pass usernames and passwords")
	}
	calls := make([]fanout.Call, len(targets))
	for i, t := range targets {
		user, password := s.User, string(s.Secret)
		if users != nil {
			user, password = users[i], passwords[i]
		}
		calls[i] = fanout.Call{Target: t, Method: "auth.login", Params: []any{user, password}}
	}
	results := fanout.Run(ctx, func(ctx context.Context, c fanout.Call) fanout.Result {
		return g.loginTo(ctx, c.Target, c.Params[0].(string), c.Params[1].(string))
	}, calls)
	err := g.o.Sessions.Update(ctx, s.ID, func(st *auth.Session) error {
		for _, r := range results {
			if r.OK() {
				st.Keys[r.Target.Key()] = r.Value.(string)
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeFault(err)
	}
	for i, r := range results {
		if r.OK() {
			s.Keys[r.Target.Key()] = r.Value.(string) // the caller's copy too
			results[i].Value = "attached"
		}
	}
	return results, nil
}

// Request is one method call to send to a set of targets.
type Request struct {
	Method string
	// Args returns the method's arguments for the i-th target, without the
	// session key (Call puts each target's own key in front). Nil means none.
	Args func(i int, t target.Target) []any
	// NoSession marks methods that take no session key (api.getVersion,
	// api.getApiCallList, ...).
	NoSession bool
}

// Outcome is what a fan-out produced: one result per target, in the
// order of the targets, and the id of the job that records it ("" when
// jobs are not recorded).
type Outcome struct {
	JobID   string
	Results fanout.Results
}

// Call sends req to every target concurrently (the hub is a target too),
// each with the session's key for that server, logging in again where the
// mode allows it. It returns one result per target, in order; a target the
// session is not attached to gets a CodeNotAttached fault, the others go on.
// This is the one place fan-outs go through.
func (g *Gateway) Call(ctx context.Context, s *auth.Session, targets []target.Target, req Request) Outcome {
	calls := make([]fanout.Call, len(targets))
	argsOf := make([][]any, len(targets)) // for the job record
	readOnly := g.o.ReadOnly(req.Method)
	for i, t := range targets {
		var args []any
		if req.Args != nil {
			args = req.Args(i, t)
		}
		argsOf[i] = args
		p := args
		user := ""
		if !req.NoSession {
			p = make([]any, 0, len(args)+1)
			p = append(p, keyFor(s, t))
			p = append(p, args...)
			user = s.User
		}
		calls[i] = fanout.Call{Target: t, Method: req.Method, Params: p, ReadOnly: readOnly, User: user}
	}
	run, err := g.startJob(ctx, s, targets, req.Method, argsOf)
	if err != nil {
		return Outcome{Results: notSent(targets, err)}
	}
	one := func(ctx context.Context, c fanout.Call) fanout.Result {
		if req.NoSession {
			return g.o.Invoke(ctx, c)
		}
		if !c.Target.Hub {
			if _, ok := s.Keys[c.Target.Key()]; !ok {
				return fanout.Result{Target: c.Target, Fault: rpc.Faultf(CodeNotAttached, "hubgw: server %d (%s) is not attached to this session", c.Target.ID, c.Target)}
			}
		}
		return g.withRelogin(ctx, s, c)
	}
	results := fanout.Run(ctx, func(ctx context.Context, c fanout.Call) fanout.Result {
		r := one(ctx, c)
		r.Target = c.Target
		run.Finished(r) // as each target answers, so a running job shows progress
		return r
	}, calls)
	run.End(results)
	return Outcome{JobID: run.ID(), Results: results}
}

// Fault is the fault a client sees for a failed result: the upstream fault
// unchanged, or one of the gateway's codes naming the server.
func Fault(r fanout.Result) *rpc.Fault { return resultFault(r) }

// Describe is a one-line account of a failed result, as multicast's
// Failed.Responses strings: "Fault(code): string".
func Describe(r fanout.Result) string {
	f := resultFault(r)
	return fmt.Sprintf("Fault(%d): %s", f.Code, f.String)
}

// keyFor is the session's key on t ("" when not attached).
func keyFor(s *auth.Session, t target.Target) string {
	if t.Hub {
		return s.HubKey
	}
	return s.Keys[t.Key()]
}
