// Package gateway is hubgw's core: sessions (Login, Attach, Logout), target
// resolution, and one request path, Do, through which every client call
// reaches the hub and its peripherals, whatever door it came in by
// (hub-xmlrpc-api's XML-RPC, spacecmd targeting, REST, Uyuni's HTTP API).
//
// A Request names a session, its targets, a method and each target's
// arguments; Do returns an Outcome, one result per target in order. The
// per-request concerns (the server-local id rule, job records, session keys
// with attach-on-demand and re-login) are Wrappers around the innermost
// handler, stacked in one place (adapters/server) the way KrakenD's lura
// stacks an endpoint's proxies over its backends'; the per-server concerns
// (deadline, limits, retries, breaker, metrics, read cache) are the
// fanout.Invoker underneath. The core speaks in Go values and faults: no
// wire format, URL path or client flag appears here.
package gateway

import (
	"context"
	"log/slog"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
	"github.com/hubgw/hubgw/gateway/uyuniapi"
)

// Fault codes of the gateway's own errors. The XML-RPC interoperability
// codes are used where they fit; the 41xx block is hubgw's. Upstream faults
// are never renumbered: a peripheral's fault reaches the client unchanged.
const (
	CodeParse          = -32700 // the request is not well-formed
	CodeInvalidRequest = -32600 // well-formed but not a usable request (e.g. too large)
	CodeNoMethod       = -32601 // an unknown gateway method
	CodeBadParams      = -32602 // wrong argument count or types, lists of the wrong length
	CodeInternal       = -32603
	CodeNoSession      = rpc.CodeNoSession // unknown gateway session: as Uyuni, so scripts log in again
	CodeNotAttached    = 4101              // the session holds no key for that server
	CodeUnknownServer  = 4102              // not a peripheral the hub knows
	CodeUnreachable    = 4103              // no answer from the server (transport)
	CodeTimeout        = 4104
	CodeCircuitOpen    = 4105
	CodeHubUnreachable = 4106
	CodeTooLarge       = 4107
	// CodeStateUnavailable: the shared state store (Redis) cannot be
	// reached, so the call, which needs it, was not made.
	CodeStateUnavailable = 4108
	CodeUnknownJob       = 4109 // no such job for this user
	// CodeInFlight: the request's body times its targets is over the
	// in-flight byte budget, or the budget is taken by other requests
	// (inflight.go).
	CodeInFlight = 4110
	// CodeServerLocalID: a call to many targets whose shared arguments
	// carry an id that names a different object on each server.
	CodeServerLocalID = 4121
	// CodeTargetsDisagree: many targets answered a read with values that
	// cannot be merged into one (merge.go).
	CodeTargetsDisagree = 4122
	// CodeTargetsFailed: the call failed on some of many targets (merge.go).
	CodeTargetsFailed  = 4123
	CodeUnknownRollout = 4124 // no such rollout for this user
	// CodeRolloutState: the rollout cannot do that now (resume a running
	// one), or another active rollout touches the same object and server.
	CodeRolloutState = 4125
	// CodeObjectsFailed: an apply's objects failed on a server (its job
	// target's fault; the outcomes per object are its result).
	CodeObjectsFailed = 4126
)

// Request is one client call to a set of targets.
type Request struct {
	// Session is the caller's gateway session; nil for a call without one,
	// which reaches the hub only, with its arguments exactly as sent.
	Session *auth.Session
	Targets []target.Target
	Method  string
	// Args returns the arguments for the i-th target, without the session
	// key (each target's own key is put in front). Nil means none.
	Args func(i int, t target.Target) []any
	// NoSession marks methods that take no session key (api.getVersion,
	// ...): the arguments are sent as they are.
	NoSession bool
	// Many: the client addressed a set (all, a group, a list, a multicast),
	// so the call is a fan-out however many servers the set holds.
	Many bool
	// PerTarget: the client chose each server's arguments itself
	// (hub-xmlrpc-api's multicast), so ids in them are its own choice.
	PerTarget bool
	// ServerIDs: the client reads each server's answer apart, in that
	// server's own ids (hub-xmlrpc-api's multicast and broadcast), so no
	// gateway-wide ids are given (ids.go).
	ServerIDs bool
	// Internal marks the gateway's own calls (reading the hub's API for
	// the OpenAPI document): never recorded as the user's jobs.
	Internal bool
	// Arena: the answers go into reused memory (an arena, or for one
	// server a pooled buffer), which the caller hands to its edge with
	// HoldAnswers (answers.go). Without it each answer has a buffer of
	// its own, which suits callers that keep answers.
	Arena bool

	// onResult, when set, is told each target's result as it arrives (job
	// progress). Wrappers that send a subset re-map the index.
	onResult func(i int, r fanout.Result)
}

// args returns the i-th target's arguments.
func (r *Request) args(i int) []any {
	if r.Args == nil {
		return nil
	}
	return r.Args(i, r.Targets[i])
}

// report passes a result on to onResult.
func (r *Request) report(i int, res fanout.Result) {
	if r.onResult != nil {
		r.onResult(i, res)
	}
}

// subset is the request for the targets at idx (indexes into r.Targets),
// reporting results under their index in r.
func (r Request) subset(idx []int) Request {
	sub := r
	sub.Targets = make([]target.Target, len(idx))
	for j, i := range idx {
		sub.Targets[j] = r.Targets[i]
	}
	if r.Args != nil {
		sub.Args = func(j int, t target.Target) []any { return r.Args(idx[j], t) }
	}
	if r.onResult != nil {
		sub.onResult = func(j int, res fanout.Result) { r.onResult(idx[j], res) }
	}
	return sub
}

// Outcome is what a request produced: one result per target, in the order
// of the targets, and the id of the job that records it ("" when none).
type Outcome struct {
	JobID   string
	Results fanout.Results
	// Answers is the arena a fan-out's answers were read into; a handler
	// whose client answer is built from them hands it to the edge with
	// HoldAnswers (answers.go). Wrappers that build a new Outcome may
	// leave it out: then the collector frees it.
	Answers *fanout.Answers
}

// Handler serves a request. An error refuses the request as a whole
// (nothing was sent); per-target failures are results.
type Handler func(ctx context.Context, req Request) (Outcome, error)

// Wrapper adds one per-request concern around a Handler.
type Wrapper func(next Handler) Handler

// Options tune a Gateway.
type Options struct {
	Hub      target.Target
	Sessions auth.Store
	Registry *registry.Registry
	// Invoke is the per-server stack (deadline, limits, retries, breaker,
	// metrics, read cache) every upstream call goes through.
	Invoke fanout.Invoker
	// API is the Uyuni API knowledge (uyuniapi.Load).
	API       *uyuniapi.API
	CallLimit time.Duration // bound on one whole client request; default 5m
	// Groups name sets of peripherals (by id, name or FQDN) for Resolve.
	Groups map[string][]string
	// Jobs, when set, records requests by the job rule (RecordJobs) and
	// reads them back; nil records nothing.
	Jobs JobRecorder
	// ServiceCredentials, when set, gives the account the gateway logs in
	// to a peripheral with instead of relaying the user's (sessions.go).
	ServiceCredentials ServiceCredentials
	// InFlightBytes budgets request bodies times their targets, over all
	// requests at once (inflight.go); 0 means no budget.
	InFlightBytes int64
	// LoginThrottle limits failed logins per user and per client
	// (throttle.go); the zero value does not throttle.
	LoginThrottle LoginThrottle
	// Logins, when set, is told of every login as it starts (the context
	// it returns is the login's), and of its outcome (ok,
	// bad_credentials, throttled, error) when it ends: for metrics and
	// traces.
	Logins func(ctx context.Context, mode auth.Mode, user string) (context.Context, func(outcome string))
	Logger *slog.Logger
}

// Gateway is the core.
type Gateway struct {
	o        Options
	do       Handler
	api      *uyuniapi.API
	inflight *semaphore.Weighted
	throttle *throttle
	answers  fanout.AnswerPool
}

// New builds a Gateway whose Do sends requests as they are; Use stacks the
// per-request wrappers over it.
func New(o Options) *Gateway {
	if o.CallLimit <= 0 {
		o.CallLimit = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.API == nil {
		api, err := uyuniapi.Load()
		if err != nil {
			panic("gateway: the embedded API catalog does not load: " + err.Error()) // tested in gateway/catalog
		}
		o.API = api
	}
	o.Hub.Hub = true
	if o.Hub.Name == "" {
		o.Hub.Name = "hub"
	}
	g := &Gateway{o: o, api: o.API, throttle: newThrottle(o.LoginThrottle)}
	if o.InFlightBytes > 0 {
		g.inflight = semaphore.NewWeighted(o.InFlightBytes)
	}
	g.do = g.send
	return g
}

// Use stacks the per-request wrappers, the first outermost, over the
// innermost handler. Call it once, while assembling, before serving.
func (g *Gateway) Use(ws ...Wrapper) {
	h := Handler(g.send)
	for i := len(ws) - 1; i >= 0; i-- {
		h = ws[i](h)
	}
	g.do = h
}

// API is the Uyuni API knowledge the gateway was built with.
func (g *Gateway) API() *uyuniapi.API { return g.api }

// JobRecorder is the recorder jobs are kept in; nil when recording is off.
// Engines that make many Internal calls for one client request record
// that request as one job with it.
func (g *Gateway) JobRecorder() JobRecorder { return g.o.Jobs }

// Hub is the hub's target.
func (g *Gateway) Hub() target.Target { return g.o.Hub }

// Do is the one path every client call takes to the servers. A call
// without a session reaches the hub and nothing else: without credentials
// nobody fans out, records jobs or learns the peripherals.
func (g *Gateway) Do(ctx context.Context, req Request) (Outcome, error) {
	if len(req.Targets) == 0 {
		return Outcome{}, rpc.Faultf(CodeUnknownServer, "hubgw: %s names no servers", req.Method)
	}
	if req.Session == nil && (len(req.Targets) != 1 || !req.Targets[0].Hub) {
		return Outcome{}, rpc.Faultf(CodeNoSession, "hubgw: %s without a gateway session reaches the hub only; log in first", req.Method)
	}
	release, err := g.reserve(ctx, req)
	if err != nil {
		return Outcome{}, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, g.o.CallLimit)
	defer cancel()
	out, err := g.do(ctx, req)
	accessFrom(ctx).note(req, out)
	g.audit(ctx, req, out, err)
	return out, err
}

// send is the innermost handler: every target concurrently, each with the
// session's key for that server in front of its arguments. A target the
// session holds no key for gets CodeNotAttached, and is not called.
func (g *Gateway) send(ctx context.Context, req Request) (Outcome, error) {
	readOnly := uyuniapi.ReadOnly(req.Method)
	withKey := req.Session != nil && !req.NoSession
	shared := sharedArgs(req, withKey)
	var answers *fanout.Answers
	if req.Arena {
		answers = g.answers.New(len(req.Targets))
	}
	results := fanout.Spread(ctx, len(req.Targets), func(ctx context.Context, i int) fanout.Result {
		t := req.Targets[i]
		c := fanout.Call{Target: t, Method: req.Method, Params: req.args(i), ReadOnly: readOnly, Answers: answers}
		if shared != nil && sameSlice(c.Params, shared.args) {
			c.Shared = shared.enc
		}
		var r fanout.Result
		if withKey {
			key, ok := keyFor(req.Session, t)
			if !ok {
				r = fanout.Result{Target: t, Fault: rpc.Faultf(CodeNotAttached, "hubgw: server %d (%s) is not attached to this session", t.ID, t)}
				req.report(i, r)
				return r
			}
			c.Params = append(append(make([]any, 0, len(c.Params)+1), key), c.Params...)
			c.User = req.Session.Logins[t.Key()]
		}
		r = g.o.Invoke(ctx, c)
		r.Target = t
		if withKey && sessionExpired(r) {
			// The server's message carries its own session number: the
			// client never held that key, and must not learn it.
			// KeepSessions still recognises the fault, and logs in again
			// where it can.
			r.Fault = rpc.Faultf(rpc.CodeNoSession, "hubgw: Could not find session on %s: it forgot this session's login (expired, or restarted); log in again", t)
		}
		req.report(i, r)
		return r
	})
	return Outcome{Results: results, Answers: answers}, nil
}

// shared is a fan-out's arguments that every target gets, and the one
// encoding of them the transport makes.
type shared struct {
	args []any
	enc  *fanout.Shared
}

// sharedArgs finds a fan-out's shared arguments: the slice Args gives the
// first target, when it has any. A target whose Args give that same slice
// (not merely equal values) sends them as shared; one with its own (a
// multicast's per-server lists, dates in each server's zone) does not.
func sharedArgs(req Request, withKey bool) *shared {
	if len(req.Targets) < 2 || req.PerTarget {
		return nil
	}
	a := req.args(0)
	if len(a) == 0 {
		return nil
	}
	from := 0
	if withKey {
		from = 1
	}
	return &shared{args: a, enc: &fanout.Shared{From: from}}
}

// sameSlice reports whether a and b are one slice, not two equal ones.
func sameSlice(a, b []any) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// keyFor is the session's key on t.
func keyFor(s *auth.Session, t target.Target) (string, bool) {
	if t.Hub {
		return s.HubKey, true
	}
	k, ok := s.Keys[t.Key()]
	return k, ok
}
