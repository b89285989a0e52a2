// Package spacecmd lets a stock Uyuni client (spacecmd, a script written
// for one Uyuni server) reach one peripheral, a group, or all of them
// without knowing about the hub: the HTTP edge learns the target out of
// band (the Basic auth user, or /t/<target>/rpc/api) and hands it over
// with the call; the client speaks plain Uyuni and the gateway plays the
// target.
//
// The rules, also in the README's spacecmd section:
//
//   - A target spec is a comma-separated list of references (gateway.Resolve).
//     One reference naming one server (a peripheral, or the hub) is unicast:
//     the gateway is that server; its values and faults reach the client
//     unchanged. "all", a group or a list are many (gateway.IsMany), however
//     many servers they name, and answers are merged (gateway.Merge).
//   - auth.login(user, password) logs in to the hub (a relay-mode gateway
//     session), then to each target with the same credentials, or with the
//     service account configured for that peripheral. The key returned is
//     the gateway session's and stands in for every target's key. Unicast:
//     the login fails when the target's does. Many: it succeeds with the
//     hub's, and each call reports the targets it could not reach.
//   - A call without a session key (api.getVersion, spacecmd's first call)
//     is answered by the hub: in a hub deployment the hub and its
//     peripherals run the same version, and without credentials the
//     gateway neither fans out nor tells anyone its peripherals.
package spacecmd

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Dialect answers calls aimed at a target spec.
type Dialect struct {
	gw  *gateway.Gateway
	log *slog.Logger
}

// New serves gw to clients of one Uyuni server.
func New(gw *gateway.Gateway, log *slog.Logger) *Dialect {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dialect{gw: gw, log: log}
}

// Handle answers one call aimed at spec.
func (d *Dialect) Handle(ctx context.Context, spec, method string, params []any) (any, error) {
	refs := splitSpec(spec)
	if len(refs) == 0 {
		return nil, rpc.Faultf(gateway.CodeUnknownServer, "hubgw: no target given; name a peripheral (name, FQDN or id), hub, all, a group, or a comma-separated list")
	}
	many := d.gw.IsMany(refs)
	for _, p := range []string{"hub.", "unicast.", "multicast.", "broadcast."} {
		if strings.HasPrefix(method, p) {
			return nil, rpc.Faultf(gateway.CodeNoMethod, "hubgw: %s is hub-xmlrpc-api's; call it at /hub/rpc/api, without a target", method)
		}
	}
	switch method {
	case "auth.login":
		return d.login(ctx, refs, many, params)
	case "auth.logout":
		if len(params) != 1 {
			return nil, gateway.BadParams("auth.logout takes 1 argument (the session key), got %d", len(params))
		}
		if err := d.gw.Logout(ctx, params[0]); err != nil {
			return nil, err
		}
		return int64(1), nil
	}
	hub := []target.Target{d.gw.Hub()}
	if !d.gw.API().TakesSession(method, params) {
		out, err := d.gw.Do(ctx, gateway.Request{Targets: hub, Method: method, NoSession: true, Arena: true, Args: func(int, target.Target) []any { return params }})
		if err != nil {
			return nil, err
		}
		return one(ctx, out)
	}
	if len(params) == 0 {
		return nil, gateway.BadParams("%s takes a session key first", method)
	}
	s, err := d.gw.Session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	targets, err := d.gw.Resolve(ctx, s, refs)
	if err != nil {
		return nil, err
	}
	// One server's answer goes to the client as it came (one), from
	// reused memory; merged answers are built from several.
	out, err := d.gw.Do(ctx, gateway.Request{Session: s, Targets: targets, Method: method, Many: many, Arena: !many, Args: func(int, target.Target) []any { return params[1:] }})
	if err != nil {
		return nil, hint(method, err)
	}
	if !many {
		return one(ctx, out)
	}
	v, err := d.gw.Merge(ctx, method, out)
	if err != nil {
		return nil, hint(method, err)
	}
	return v, nil
}

// one is a single server's answer, unchanged; its memory is the edge's
// to give back once written (gateway.HoldAnswers).
func one(ctx context.Context, out gateway.Outcome) (any, error) {
	gateway.HoldAnswers(ctx, out)
	if r := out.Results[0]; !r.OK() {
		return nil, gateway.Fault(r)
	}
	return out.Results[0].Value, nil
}

// hint adds where a spacecmd user goes instead, to the faults that send
// them elsewhere.
func hint(method string, err error) error {
	f := gateway.AsFault(err)
	switch f.Code {
	case gateway.CodeServerLocalID:
		return rpc.Faultf(f.Code, "%s (spacecmd -s <peripheral>@<gateway>, or /t/<peripheral>/rpc/api)", f.String)
	case gateway.CodeTargetsDisagree:
		return rpc.Faultf(f.Code, "%s, or call broadcast.%s at /hub/rpc/api for one answer per server", f.String, method)
	}
	return err
}

// login opens a relay-mode gateway session with the hub, then logs in to
// each target.
func (d *Dialect) login(ctx context.Context, refs []string, many bool, params []any) (any, error) {
	if len(params) != 2 && len(params) != 3 {
		return nil, gateway.BadParams("auth.login takes a user, a password and optionally a duration, got %d arguments", len(params))
	}
	user, ok1 := params[0].(string)
	password, ok2 := params[1].(string)
	if !ok1 || !ok2 {
		return nil, gateway.BadParams("auth.login: user and password must be strings, not %s and %s", rpc.TypeName(params[0]), rpc.TypeName(params[1]))
	}
	// A duration (third argument) is not passed on: the gateway session's
	// expiry governs, and the gateway logs in to servers again as needed.
	s, _, err := d.gw.Login(ctx, auth.Relay, strings.TrimSpace(user), strings.TrimSpace(password))
	if err != nil {
		return nil, err
	}
	targets, err := d.gw.Resolve(ctx, s, refs)
	if err != nil {
		d.discard(ctx, s)
		return nil, err
	}
	results, err := d.gw.Connect(ctx, s, targets)
	if err != nil {
		d.discard(ctx, s)
		return nil, err
	}
	for _, r := range results {
		if r.OK() {
			continue
		}
		if !many {
			d.discard(ctx, s)
			return nil, gateway.Fault(r)
		}
		d.log.WarnContext(ctx, "targeted login: a target refused or did not answer; calls will try again", "server", r.Target.String(), "fault", gateway.Fault(r).String)
	}
	return s.ID, nil
}

// discard ends a session that a failed login had opened.
func (d *Dialect) discard(ctx context.Context, s *auth.Session) {
	if err := d.gw.Logout(context.WithoutCancel(ctx), s.ID); err != nil && !errors.Is(err, auth.ErrNoSession) {
		d.log.WarnContext(ctx, "ending a half-opened session failed", "session", s, "err", err)
	}
}

func splitSpec(spec string) []string {
	var refs []string
	for _, r := range strings.Split(spec, ",") {
		if r = strings.TrimSpace(r); r != "" {
			refs = append(refs, r)
		}
	}
	return refs
}
