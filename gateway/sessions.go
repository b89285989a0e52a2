package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Sessions: a gateway session holds the caller's key on the hub and on
// each peripheral it is attached to. The keys never leave the gateway.
//
// Credentials for a server, in one order everywhere: the service account
// configured for that peripheral, else the session's relayed credentials
// (relay and autoconnect sessions keep the password, sealed), else none (a
// manual session, which attaches with a password per server).

// ServiceCredentials returns the account the gateway logs in to t with
// instead of relaying the user's own; ok false: none configured.
type ServiceCredentials func(t target.Target) (user, password string, ok bool)

// Session returns the live gateway session for a key (an XML-RPC session
// key, a REST bearer token or a native-API cookie: they are one thing).
func (g *Gateway) Session(ctx context.Context, key any) (*auth.Session, error) {
	id, ok := auth.KeyOf(key)
	if !ok {
		if _, isString := key.(string); !isString {
			return nil, badParams("the session key must be a string, not %s", rpc.TypeName(key))
		}
		return nil, noSession(key.(string))
	}
	s, err := g.o.Sessions.Get(ctx, id)
	if errors.Is(err, auth.ErrNoSession) {
		return nil, noSession(id)
	}
	if err != nil {
		return nil, storeFault(err)
	}
	accessFrom(ctx).noteUser(s.User)
	return s, nil
}

func noSession(id string) *rpc.Fault {
	return rpc.Faultf(CodeNoSession, "hubgw: Could not find session with id: %s (unknown or expired gateway session; log in again)", abbreviate(id))
}

// abbreviate keeps session ids out of messages beyond a recognisable prefix.
func abbreviate(id string) string {
	id = strings.TrimSpace(id)
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

// Login opens a gateway session: it logs in to the hub and, in autoconnect
// mode, attaches every peripheral the user may see (their results are
// returned, one per peripheral). Options.Logins is told how it went.
func (g *Gateway) Login(ctx context.Context, mode auth.Mode, user, password string) (*auth.Session, fanout.Results, error) {
	end := func(string) {}
	if g.o.Logins != nil {
		ctx, end = g.o.Logins(ctx, mode, user)
	}
	s, results, err := g.login(ctx, mode, user, password)
	end(loginOutcome(err))
	return s, results, err
}

// loginOutcome names how a login went: ok, bad_credentials (the hub
// refused them), throttled (too many failures) or error.
func loginOutcome(err error) string {
	if err == nil {
		return "ok"
	}
	switch AsFault(err).Code {
	case rpc.CodeLogin:
		return "bad_credentials"
	case CodeThrottled:
		return "throttled"
	}
	return "error"
}

func (g *Gateway) login(ctx context.Context, mode auth.Mode, user, password string) (*auth.Session, fanout.Results, error) {
	accessFrom(ctx).noteUser(user)
	client := Client(ctx)
	if f := g.throttle.allowed(user, client); f != nil {
		g.o.Logger.WarnContext(ctx, "login refused", "user", bounded(user, 64), "client", client, "fault", f.String)
		return nil, nil, f
	}
	r := g.loginTo(ctx, g.o.Hub, user, password)
	if !r.OK() {
		f := Fault(r)
		if f.Code == rpc.CodeLogin {
			g.throttle.failed(user, client)
		}
		g.o.Logger.WarnContext(ctx, "login failed", "user", bounded(user, 64), "client", client, "fault", f.String)
		return nil, nil, f
	}
	s := &auth.Session{ID: auth.NewID(), User: user, Mode: mode, HubKey: r.Value.(string), Keys: map[string]string{},
		Logins: map[string]string{g.o.Hub.Key(): user}}
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
	snap, err := g.Peripherals(ctx, s)
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

// Logout ends a session on the gateway and, concurrently, everywhere it
// holds a key; the gateway session is gone whatever the servers answer.
func (g *Gateway) Logout(ctx context.Context, key any) error {
	s, err := g.Session(ctx, key)
	if err != nil {
		return err
	}
	if err := g.o.Sessions.Delete(ctx, s.ID); err != nil {
		return storeFault(err)
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
			g.o.Logger.WarnContext(ctx, "logout upstream failed", "server", r.Target.String(), "err", Fault(r).String)
		}
	}
	return nil
}

// Attach logs in to each target concurrently (with users[i] and
// passwords[i] when given, else the session's relayed credentials) and
// keeps the keys that worked. Successful results hold "attached", never a
// key.
func (g *Gateway) Attach(ctx context.Context, s *auth.Session, targets []target.Target, users, passwords []string) (fanout.Results, error) {
	if users == nil && len(s.Secret) == 0 {
		return nil, badParams("attaching without credentials needs a relay or autoconnect session; this one logged in manually, so pass usernames and passwords")
	}
	return g.logIn(ctx, s, targets, func(i int, t target.Target) (string, string) {
		if users != nil {
			return users[i], passwords[i]
		}
		return s.User, string(s.Secret)
	})
}

// logIn logs in to each target with the credentials creds gives, stores
// the keys that worked in the session (the hub's as its hub key), with
// the user each was obtained as, and in the caller's copy, and returns
// one result per target ("attached" for those that worked).
func (g *Gateway) logIn(ctx context.Context, s *auth.Session, targets []target.Target, creds func(i int, t target.Target) (user, password string)) (fanout.Results, error) {
	users := make([]string, len(targets))
	results := fanout.Spread(ctx, len(targets), func(ctx context.Context, i int) fanout.Result {
		user, password := creds(i, targets[i])
		users[i] = user
		return g.loginTo(ctx, targets[i], user, password)
	})
	set := func(st *auth.Session) {
		if st.Logins == nil {
			st.Logins = map[string]string{}
		}
		for i, r := range results {
			if !r.OK() {
				continue
			}
			if r.Target.Hub {
				st.HubKey = r.Value.(string)
			} else {
				st.Keys[r.Target.Key()] = r.Value.(string)
			}
			st.Logins[r.Target.Key()] = users[i]
		}
	}
	err := g.o.Sessions.Update(ctx, s.ID, func(st *auth.Session) error { set(st); return nil })
	if err != nil && !errors.Is(err, auth.ErrNoSession) {
		return nil, storeFault(err)
	}
	set(s)
	for i, r := range results {
		if r.OK() {
			results[i].Value = "attached"
		}
	}
	return results, nil
}

// loginTo logs in to one server and returns its session key.
func (g *Gateway) loginTo(ctx context.Context, t target.Target, user, password string) fanout.Result {
	r := g.o.Invoke(ctx, fanout.Call{Target: t, Method: "auth.login", Params: []any{user, password}})
	r.Target = t
	if !r.OK() {
		return r
	}
	v, err := rpc.Decode(r.Value)
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

// credentials are the ones the gateway logs in to t with by itself.
func (g *Gateway) credentials(s *auth.Session, t target.Target) (user, password string, ok bool) {
	if !t.Hub && g.o.ServiceCredentials != nil {
		if user, password, ok := g.o.ServiceCredentials(t); ok {
			return user, password, true
		}
	}
	if len(s.Secret) == 0 {
		return "", "", false
	}
	return s.User, string(s.Secret), true
}

// KeepSessions is the wrapper that keeps a session's keys working: it logs
// in to the targets the session holds no key for where it has credentials
// (attach on demand; a target it cannot log in to gets that failure as its
// result and is not called), and where a server has forgotten its key (it
// expired, or the server restarted) it logs in once more and repeats the
// call there. A call that met an unknown session was not run, so repeating
// it is safe for writes too; the repeat belongs to the same request (and
// job), its attempts added to the first.
func (g *Gateway) KeepSessions() Wrapper {
	return func(next Handler) Handler {
		return func(ctx context.Context, req Request) (Outcome, error) {
			s := req.Session
			if s == nil || req.NoSession {
				return next(ctx, req)
			}
			results := make(fanout.Results, len(req.Targets))
			var need, send []int
			for i, t := range req.Targets {
				if _, ok := keyFor(s, t); ok {
					send = append(send, i)
				} else if _, _, ok := g.credentials(s, t); ok {
					need = append(need, i)
				} else {
					send = append(send, i) // reported as not attached
				}
			}
			if len(need) > 0 {
				logins, err := g.relogIn(ctx, s, req.subset(need).Targets)
				if err != nil {
					return Outcome{}, err
				}
				for k, r := range logins {
					if r.OK() {
						send = append(send, need[k])
					} else {
						results[need[k]] = r
						req.report(need[k], r)
					}
				}
			}
			if len(send) == 0 {
				return Outcome{Results: results}, nil
			}
			retryable := func(r fanout.Result) bool {
				_, _, ok := g.credentials(s, r.Target)
				return ok && sessionExpired(r)
			}
			slices.Sort(send)
			first := req.subset(send)
			if report := first.onResult; report != nil {
				first.onResult = func(j int, r fanout.Result) {
					if !retryable(r) { // a retried one is reported after its retry
						report(j, r)
					}
				}
			}
			out, err := next(ctx, first)
			if err != nil {
				return out, err
			}
			var again []int
			for j, i := range send {
				results[i] = out.Results[j]
				if retryable(out.Results[j]) {
					again = append(again, i)
				}
			}
			if len(again) == 0 { // the answers are all in out's arena
				return Outcome{JobID: out.JobID, Results: results, Answers: out.Answers}, nil
			}
			logins, err := g.relogIn(ctx, s, req.subset(again).Targets)
			if err != nil {
				return Outcome{}, err
			}
			var repeat []int
			for k, r := range logins {
				if r.OK() {
					repeat = append(repeat, again[k])
				} else {
					req.report(again[k], results[again[k]]) // the original fault says more than a failed re-login
				}
			}
			if len(repeat) > 0 {
				second := req.subset(repeat)
				second.onResult = func(j int, r fanout.Result) {
					r.Attempts += results[repeat[j]].Attempts
					req.report(repeat[j], r)
				}
				out2, err := next(ctx, second)
				if err != nil {
					return Outcome{}, err
				}
				for j, i := range repeat {
					r := out2.Results[j]
					r.Attempts += results[i].Attempts
					results[i] = r
				}
			}
			return Outcome{JobID: out.JobID, Results: results}, nil
		}
	}
}

// Connect logs in to the peripherals the session holds no key for, with
// the credentials the gateway has for each, and returns their results
// (targets it holds keys for, and the hub, are left out).
func (g *Gateway) Connect(ctx context.Context, s *auth.Session, targets []target.Target) (fanout.Results, error) {
	var need []target.Target
	for _, t := range targets {
		if _, ok := keyFor(s, t); !ok {
			if _, _, ok := g.credentials(s, t); ok {
				need = append(need, t)
			}
		}
	}
	if len(need) == 0 {
		return nil, nil
	}
	return g.relogIn(ctx, s, need)
}

// relogIn logs in to targets with the credentials the gateway has for each.
func (g *Gateway) relogIn(ctx context.Context, s *auth.Session, targets []target.Target) (fanout.Results, error) {
	return g.logIn(ctx, s, targets, func(_ int, t target.Target) (string, string) {
		user, password, _ := g.credentials(s, t)
		return user, password
	})
}

// sessionExpired: the server does not know the key (Uyuni's fault for an
// unknown or expired session).
func sessionExpired(r fanout.Result) bool {
	return r.Fault != nil && r.Fault.Code == rpc.CodeNoSession && strings.Contains(r.Fault.String, "Could not find session")
}

// visibleTo narrows the peripherals to the systems the user may see on the
// hub (system.listUserSystems), matching by id, name or FQDN because a
// sync.hub registry numbers peripherals differently from systems.
func (g *Gateway) visibleTo(ctx context.Context, s *auth.Session, snap *registry.Snapshot) ([]target.Target, error) {
	r := g.o.Invoke(ctx, fanout.Call{Target: g.o.Hub, Method: "system.listUserSystems", Params: []any{s.HubKey, s.User}, ReadOnly: true, User: s.Logins[g.o.Hub.Key()]})
	r.Target = g.o.Hub
	if !r.OK() {
		return nil, Fault(r)
	}
	v, err := rpc.Decode(r.Value)
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
