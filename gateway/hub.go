package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

func (g *Gateway) hubMethod(ctx context.Context, method string, params []any) (any, error) {
	switch method {
	case "hub.login":
		return g.login(ctx, auth.Manual, params)
	case "hub.loginWithAuthRelayMode":
		return g.login(ctx, auth.Relay, params)
	case "hub.loginWithAutoconnectMode":
		return g.login(ctx, auth.Autoconnect, params)
	case "hub.attachToServers":
		return g.attach(ctx, params)
	case "hub.listServerIds":
		return g.listServerIds(ctx, params)
	case "hub.logout":
		return g.logout(ctx, params)
	case "hub.getJob":
		return g.getJob(ctx, params)
	case "hub.listJobs":
		return g.listJobs(ctx, params)
	}
	return nil, rpc.Faultf(CodeNoMethod, "hubgw: unknown method %s (hub.* has login, loginWithAuthRelayMode, loginWithAutoconnectMode, attachToServers, listServerIds, logout, getJob, listJobs)", method)
}

func strParams(method string, params []any, names ...string) ([]string, error) {
	if len(params) != len(names) {
		return nil, badParams("%s takes %d arguments (%s), got %d", method, len(names), strings.Join(names, ", "), len(params))
	}
	out := make([]string, len(params))
	for i, p := range params {
		s, ok := p.(string)
		if !ok {
			return nil, badParams("%s: %s must be a string, not %s", method, names[i], rpc.TypeName(p))
		}
		out[i] = strings.TrimSpace(s)
	}
	return out, nil
}

// loginTo logs in to one server and returns its session key.
func (g *Gateway) loginTo(ctx context.Context, t target.Target, user, password string) fanout.Result {
	r := g.o.Invoke(ctx, fanout.Call{Target: t, Method: "auth.login", Params: []any{user, password}})
	if !r.OK() {
		return r
	}
	v, err := g.o.Decode(r.Value)
	if err != nil {
		r.Value, r.Err = nil, fmt.Errorf("auth.login answer: %w", err)
		return r
	}
	key, ok := v.(string)
	if !ok || key == "" {
		r.Value, r.Err = nil, fmt.Errorf("auth.login answered %s, not a session key", rpc.TypeName(v))
		return r
	}
	r.Value = key
	return r
}

func (g *Gateway) login(ctx context.Context, mode auth.Mode, params []any) (any, error) {
	name := map[auth.Mode]string{auth.Manual: "hub.login", auth.Relay: "hub.loginWithAuthRelayMode", auth.Autoconnect: "hub.loginWithAutoconnectMode"}[mode]
	p, err := strParams(name, params, "user", "password")
	if err != nil {
		return nil, err
	}
	s, results, err := g.Login(ctx, mode, p[0], p[1])
	if err != nil {
		return nil, err
	}
	if mode != auth.Autoconnect {
		return s.ID, nil
	}
	return append(rpc.Struct{{Name: "SessionKey", Value: s.ID}}, g.multicastResult(results)...), nil
}

// visibleTo narrows the peripherals to the systems the user may see on the
// hub (system.listUserSystems), matching by id, name or FQDN because a
// sync.hub registry numbers peripherals differently from systems.
func (g *Gateway) visibleTo(ctx context.Context, s *auth.Session, snap *registry.Snapshot) ([]target.Target, error) {
	r := g.o.Invoke(ctx, fanout.Call{Target: g.o.Hub, Method: "system.listUserSystems", Params: []any{s.HubKey, s.User}, ReadOnly: true, User: s.User})
	if !r.OK() {
		return nil, resultFault(r)
	}
	v, err := g.o.Decode(r.Value)
	if err != nil {
		return nil, rpc.Faultf(CodeInternal, "hubgw: system.listUserSystems answer: %v", err)
	}
	list, _ := v.([]any)
	ids, names := map[int64]bool{}, map[string]bool{}
	for _, e := range list {
		st, ok := e.(rpc.Struct)
		if !ok {
			continue
		}
		if id, ok := st.Map()["id"].(int64); ok {
			ids[id] = true
		}
		if n, ok := st.Map()["name"].(string); ok {
			names[strings.ToLower(n)] = true
		}
	}
	var out []target.Target
	for _, t := range snap.Targets {
		if ids[t.ID] || names[strings.ToLower(t.Name)] || names[strings.ToLower(t.FQDN)] {
			out = append(out, t)
		}
	}
	return out, nil
}

// attach implements both forms of hub.attachToServers: (key, ids) reuses
// the session's credentials (relay, autoconnect); (key, ids, users,
// passwords) logs in to each server with its own.
func (g *Gateway) attach(ctx context.Context, params []any) (any, error) {
	if len(params) != 2 && len(params) != 4 {
		return nil, badParams("hub.attachToServers takes (key, serverIds) in relay mode or (key, serverIds, usernames, passwords), got %d arguments", len(params))
	}
	s, err := g.session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	ids, ok := params[1].([]any)
	if !ok {
		return nil, badParams("hub.attachToServers: serverIds must be an array, not %s", rpc.TypeName(params[1]))
	}
	var users, passwords []string
	if len(params) == 4 {
		for i, name := range []string{"usernames", "passwords"} {
			list, ok := params[2+i].([]any)
			if !ok {
				return nil, badParams("hub.attachToServers: %s must be an array, not %s", name, rpc.TypeName(params[2+i]))
			}
			if len(list) != len(ids) {
				return nil, badParams("hub.attachToServers: %d %s for %d server ids", len(list), name, len(ids))
			}
			strs := make([]string, len(list))
			for j, v := range list {
				if strs[j], ok = v.(string); !ok {
					return nil, badParams("hub.attachToServers: %s[%d] must be a string, not %s", name, j, rpc.TypeName(v))
				}
			}
			if i == 0 {
				users = strs
			} else {
				passwords = strs
			}
		}
	} else if len(s.Secret) == 0 {
		return nil, badParams("hub.attachToServers without credentials needs a relay or autoconnect session; this one logged in with hub.login, so pass usernames and passwords")
	}
	snap, err := g.snapshot(ctx, s)
	if err != nil {
		return nil, err
	}
	targets := make([]target.Target, len(ids))
	for i, v := range ids {
		if targets[i], err = g.peripheral(snap, v); err != nil {
			return nil, err
		}
	}
	results, err := g.Attach(ctx, s, targets, users, passwords)
	if err != nil {
		return nil, err
	}
	return g.multicastResult(results), nil
}

func (g *Gateway) listServerIds(ctx context.Context, params []any) (any, error) {
	if len(params) != 1 {
		return nil, badParams("hub.listServerIds takes 1 argument (the session key), got %d", len(params))
	}
	_, snap, err := g.sessionAndPeripherals(ctx, params[0])
	if err != nil {
		return nil, err
	}
	ids := make([]any, len(snap.Targets))
	for i, t := range snap.Targets {
		ids[i] = t.ID
	}
	return ids, nil
}

// logout ends the session everywhere it has a key, concurrently; the
// gateway session is gone whatever the servers answer.
func (g *Gateway) logout(ctx context.Context, params []any) (any, error) {
	if len(params) != 1 {
		return nil, badParams("hub.logout takes 1 argument (the session key), got %d", len(params))
	}
	s, err := g.session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	if err := g.o.Sessions.Delete(ctx, s.ID); err != nil {
		return nil, storeFault(err)
	}
	calls := []fanout.Call{{Target: g.o.Hub, Method: "auth.logout", Params: []any{s.HubKey}}}
	// The registry maps the session's keys to servers; a stale snapshot
	// will do, and a failed load only costs the peripheral logouts.
	if snap, err := g.o.Registry.Snapshot(ctx, s.HubKey); err == nil {
		for _, t := range snap.Targets {
			if key, ok := s.Keys[t.Key()]; ok {
				calls = append(calls, fanout.Call{Target: t, Method: "auth.logout", Params: []any{key}})
			}
		}
	}
	for _, r := range fanout.Run(ctx, g.o.Invoke, calls) {
		if !r.OK() {
			g.o.Logger.WarnContext(ctx, "logout upstream failed", "server", r.Target.String(), "err", resultFault(r).String)
		}
	}
	return "", nil
}

// withRelogin makes a call with the session's key for the target and, in
// relay and autoconnect modes, logs in again once when the server has
// forgotten that key (it expired, or the server restarted).
func (g *Gateway) withRelogin(ctx context.Context, s *auth.Session, c fanout.Call) fanout.Result {
	r := g.o.Invoke(ctx, c)
	if !sessionExpired(r) || len(s.Secret) == 0 {
		return r
	}
	lr := g.loginTo(ctx, c.Target, s.User, string(s.Secret))
	if !lr.OK() {
		return r // the original fault says more than a failed re-login
	}
	key := lr.Value.(string)
	err := g.o.Sessions.Update(ctx, s.ID, func(st *auth.Session) error {
		if c.Target.Hub {
			st.HubKey = key
		} else {
			st.Keys[c.Target.Key()] = key
		}
		return nil
	})
	if err != nil && !errors.Is(err, auth.ErrNoSession) {
		g.o.Logger.WarnContext(ctx, "storing a new peripheral key failed", "server", c.Target.String(), "err", err)
	}
	c.Params = append([]any{key}, c.Params[1:]...)
	r2 := g.o.Invoke(ctx, c)
	r2.Attempts += r.Attempts
	return r2
}

func sessionExpired(r fanout.Result) bool {
	return r.Fault != nil && r.Fault.Code == rpc.CodeNoSession && strings.Contains(r.Fault.String, "Could not find session")
}
