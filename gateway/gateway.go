// Package gateway routes hub-xmlrpc-api's calls: hub.* (sessions and
// attachment), unicast.* (one peripheral), multicast.* and broadcast.* (many
// peripherals, a result per server), and everything else through to the hub.
// It speaks in decoded calls and Go values; the wire formats live in
// adapters/.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Fault codes of the gateway's own errors. The XML-RPC interoperability
// codes are used where they fit; the 41xx block is hubgw's. Upstream faults
// are never renumbered: a peripheral's fault reaches the client unchanged.
const (
	CodeParse          = -32700 // the request is not well-formed XML-RPC
	CodeInvalidRequest = -32600 // well-formed but not a usable request (e.g. too large)
	CodeNoMethod       = -32601 // an unknown hub.* method
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
	CodeUnknownJob       = 4109 // hub.getJob: no such job for this user (jobs.go)
)

// Options tune a Gateway.
type Options struct {
	Hub       target.Target
	Sessions  auth.Store
	Registry  *registry.Registry
	Invoke    fanout.Invoker // the stacked engine (deadline, limits, retries, breaker, metrics)
	Decode    func(v any) (any, error)
	ReadOnly  func(method string) bool
	CallLimit time.Duration // bound on one whole client request; default 5m
	// Groups name sets of peripherals (by id, name or FQDN) for Resolve.
	Groups map[string][]string
	// ServiceCredentials, when set, gives the account targeted sessions log
	// in to a peripheral with instead of the user's (targeted.go).
	ServiceCredentials ServiceCredentials
	// Jobs, when set, records every fan-out that goes through Call
	// (jobs.go); nil records nothing.
	Jobs   JobRecorder
	Logger *slog.Logger
}

// Gateway handles decoded calls.
type Gateway struct {
	o Options
}

// New builds a Gateway.
func New(o Options) *Gateway {
	if o.CallLimit <= 0 {
		o.CallLimit = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReadOnly == nil {
		o.ReadOnly = func(string) bool { return false }
	}
	if o.Decode == nil {
		o.Decode = func(v any) (any, error) { return v, nil }
	}
	o.Hub.Hub = true
	if o.Hub.Name == "" {
		o.Hub.Name = "hub"
	}
	return &Gateway{o: o}
}

// Handle answers one call with a value (possibly an edge's raw value) or an
// error, a *rpc.Fault for everything a client should see as a fault.
func (g *Gateway) Handle(ctx context.Context, method string, params []any) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, g.o.CallLimit)
	defer cancel()
	if spec, ok := TargetsOf(ctx); ok {
		return g.targeted(ctx, spec, method, params) // a stock Uyuni client aimed at peripherals
	}
	switch {
	case strings.HasPrefix(method, "hub."):
		return g.hubMethod(ctx, method, params)
	case strings.HasPrefix(method, "unicast."):
		return g.unicast(ctx, strings.TrimPrefix(method, "unicast."), params)
	case strings.HasPrefix(method, "multicast."):
		return g.multicast(ctx, strings.TrimPrefix(method, "multicast."), params, false)
	case strings.HasPrefix(method, "broadcast."):
		return g.multicast(ctx, strings.TrimPrefix(method, "broadcast."), params, true)
	}
	return g.passthrough(ctx, method, params)
}

func badParams(format string, args ...any) *rpc.Fault {
	return rpc.Faultf(CodeBadParams, "hubgw: "+format, args...)
}

// call sends one call through the engine and turns a failed result into
// the error a unicast client sees.
func (g *Gateway) call(ctx context.Context, t target.Target, method string, params []any) (any, error) {
	r := g.o.Invoke(ctx, fanout.Call{Target: t, Method: method, Params: params, ReadOnly: g.o.ReadOnly(method)})
	if r.OK() {
		return r.Value, nil
	}
	return nil, resultFault(r)
}

// resultFault is the fault a client sees for a failed result: the upstream
// fault unchanged, or one of the gateway's codes naming the server.
func resultFault(r fanout.Result) *rpc.Fault {
	if r.Fault != nil {
		return r.Fault
	}
	code := CodeUnreachable
	switch fanout.Kind(r) {
	case "timeout":
		code = CodeTimeout
	case "circuit_open":
		code = CodeCircuitOpen
	}
	if r.Target.Hub && code == CodeUnreachable {
		code = CodeHubUnreachable
	}
	return rpc.Faultf(code, "hubgw: %s: %v", r.Target, r.Err)
}

func (g *Gateway) session(ctx context.Context, key any) (*auth.Session, error) {
	id, ok := key.(string)
	if !ok {
		return nil, badParams("the session key must be a string, not %s", rpc.TypeName(key))
	}
	s, err := g.o.Sessions.Get(ctx, strings.TrimSpace(id))
	if errors.Is(err, auth.ErrNoSession) {
		return nil, rpc.Faultf(CodeNoSession, "hubgw: Could not find session with id: %s (unknown or expired gateway session; log in again)", abbreviate(id))
	}
	if err != nil {
		return nil, storeFault(err)
	}
	return s, nil
}

// abbreviate keeps session ids out of messages beyond a recognisable prefix.
func abbreviate(id string) string {
	id = strings.TrimSpace(id)
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

// passthrough forwards a call to the hub; a gateway session key in front is
// replaced by the session's hub key, so the hub key never leaves the gateway.
func (g *Gateway) passthrough(ctx context.Context, method string, params []any) (any, error) {
	if len(params) > 0 {
		if id, ok := params[0].(string); ok && strings.HasPrefix(strings.TrimSpace(id), "gw") {
			s, err := g.o.Sessions.Get(ctx, strings.TrimSpace(id))
			if err == nil {
				params = append([]any{s.HubKey}, params[1:]...)
			} else if !errors.Is(err, auth.ErrNoSession) {
				return nil, storeFault(err) // never the gateway key to the hub for want of a lookup
			}
		}
	}
	return g.call(ctx, g.o.Hub, method, params)
}

func (g *Gateway) snapshot(ctx context.Context, s *auth.Session) (*registry.Snapshot, error) {
	snap, err := g.o.Registry.Snapshot(ctx, s.HubKey)
	if err != nil {
		var f *rpc.Fault
		if errors.As(err, &f) {
			return nil, rpc.Faultf(f.Code, "hubgw: listing peripherals on the hub: %s", f.String)
		}
		return nil, rpc.Faultf(CodeHubUnreachable, "hubgw: listing peripherals on the hub: %v", err)
	}
	return snap, nil
}

// sessionAndPeripherals looks up the session and the peripherals it may call.
func (g *Gateway) sessionAndPeripherals(ctx context.Context, key any) (*auth.Session, *registry.Snapshot, error) {
	s, err := g.session(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	snap, err := g.snapshot(ctx, s)
	if err != nil {
		return nil, nil, err
	}
	return s, snap, nil
}

// peripheral resolves a server id as the client sent it.
func (g *Gateway) peripheral(snap *registry.Snapshot, v any) (target.Target, error) {
	id, ok := v.(int64)
	if !ok {
		return target.Target{}, badParams("a server id must be an int, not %s", rpc.TypeName(v))
	}
	t, ok := snap.ByID(id)
	if !ok {
		return target.Target{}, rpc.Faultf(CodeUnknownServer, "hubgw: server id %d is not a peripheral of this hub", id)
	}
	return t, nil
}

func (g *Gateway) unicast(ctx context.Context, method string, params []any) (any, error) {
	if len(params) < 2 {
		return nil, badParams("unicast.%s takes a session key, a server id and the method's arguments", method)
	}
	s, snap, err := g.sessionAndPeripherals(ctx, params[0])
	if err != nil {
		return nil, err
	}
	t, err := g.peripheral(snap, params[1])
	if err != nil {
		return nil, err
	}
	key, ok := s.Keys[t.Key()]
	if !ok {
		return nil, rpc.Faultf(CodeNotAttached, "hubgw: server %d (%s) is not attached to this session; call hub.attachToServers first", t.ID, t)
	}
	args := append([]any{key}, params[2:]...)
	r := g.withRelogin(ctx, s, fanout.Call{Target: t, Method: method, Params: args, ReadOnly: g.o.ReadOnly(method), User: s.User})
	if r.OK() {
		return r.Value, nil
	}
	return nil, resultFault(r)
}

// multicast handles multicast.* (per-server argument lists, as
// hub-xmlrpc-api) and broadcast.* (the same arguments for every server, and
// "all" for every attached server).
func (g *Gateway) multicast(ctx context.Context, method string, params []any, same bool) (any, error) {
	form := "multicast"
	if same {
		form = "broadcast"
	}
	if len(params) < 2 {
		return nil, badParams("%s.%s takes a session key, a list of server ids and the method's arguments", form, method)
	}
	s, snap, err := g.sessionAndPeripherals(ctx, params[0])
	if err != nil {
		return nil, err
	}
	var targets []target.Target
	switch ids := params[1].(type) {
	case []any:
		seen := map[int64]bool{}
		for _, v := range ids {
			t, err := g.peripheral(snap, v)
			if err != nil {
				return nil, err
			}
			if seen[t.ID] {
				return nil, badParams("server id %d is listed twice", t.ID)
			}
			seen[t.ID] = true
			targets = append(targets, t)
		}
	case string:
		if !same || !strings.EqualFold(strings.TrimSpace(ids), "all") {
			return nil, badParams(`%s.%s: server ids must be an array of ints (broadcast also takes "all")`, form, method)
		}
		for _, t := range snap.Targets {
			if _, ok := s.Keys[t.Key()]; ok {
				targets = append(targets, t)
			}
		}
	default:
		return nil, badParams("%s.%s: server ids must be an array, not %s", form, method, rpc.TypeName(params[1]))
	}
	args := params[2:]
	if !same {
		for i, a := range args {
			list, ok := a.([]any)
			if !ok {
				return nil, badParams("multicast.%s: argument %d must be an array with one value per server, not %s (broadcast.* sends the same arguments to every server)", method, i+1, rpc.TypeName(a))
			}
			if len(list) != len(targets) {
				return nil, badParams("multicast.%s: argument %d has %d values for %d servers", method, i+1, len(list), len(targets))
			}
		}
	}
	out := g.Call(ctx, s, targets, Request{Method: method, Args: func(i int, _ target.Target) []any {
		if same {
			return args
		}
		p := make([]any, len(args))
		for j, a := range args {
			p[j] = a.([]any)[i]
		}
		return p
	}})
	return withJobID(g.multicastResult(out.Results), out.JobID), nil
}

// multicastResult builds hub-xmlrpc-api's {Successful, Failed} shape, in
// the order of the request, plus Results: one struct per server with the
// detail hub-xmlrpc-api dropped (fault code, transport error, duration).
func (g *Gateway) multicastResult(rs fanout.Results) rpc.Struct {
	okIDs, okResp := []any{}, []any{}
	failIDs, failResp := []any{}, []any{}
	detail := make([]any, 0, len(rs))
	for _, r := range rs {
		d := rpc.Struct{
			{Name: "ServerId", Value: r.Target.ID},
			{Name: "ServerName", Value: r.Target.String()},
			{Name: "Ok", Value: r.OK()},
			{Name: "Outcome", Value: fanout.Kind(r)},
			{Name: "DurationMs", Value: r.Duration.Milliseconds()},
			{Name: "Attempts", Value: int64(r.Attempts)},
		}
		if r.OK() {
			okIDs = append(okIDs, r.Target.ID)
			okResp = append(okResp, r.Value)
		} else {
			f := resultFault(r)
			failIDs = append(failIDs, r.Target.ID)
			failResp = append(failResp, fmt.Sprintf("Fault(%d): %s", f.Code, f.String))
			d = append(d, rpc.Member{Name: "FaultCode", Value: int64(f.Code)}, rpc.Member{Name: "FaultString", Value: f.String})
			if r.Err != nil {
				d = append(d, rpc.Member{Name: "Error", Value: r.Err.Error()})
			}
		}
		detail = append(detail, d)
	}
	return rpc.Struct{
		{Name: "Successful", Value: rpc.Struct{{Name: "ServerIds", Value: okIDs}, {Name: "Responses", Value: okResp}}},
		{Name: "Failed", Value: rpc.Struct{{Name: "ServerIds", Value: failIDs}, {Name: "Responses", Value: failResp}}},
		{Name: "Complete", Value: rs.IsComplete()},
		{Name: "Results", Value: detail},
	}
}
