// Package hubapi is hub-xmlrpc-api's dialect of XML-RPC, translated to the
// gateway's one request path: hub.* (sessions, attachment, jobs),
// unicast.* (one peripheral), multicast.* and broadcast.* (many, a result
// per server, in hub-xmlrpc-api's {Successful, Failed} shape plus hubgw's
// detail), and everything else passed through to the hub.
package hubapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Dialect answers hub-xmlrpc-api's calls.
type Dialect struct {
	gw       *gateway.Gateway
	rollouts *desired.Rollouts // nil: hub.*Rollout are unknown methods
}

// New serves gw in hub-xmlrpc-api's dialect.
func New(gw *gateway.Gateway) *Dialect { return &Dialect{gw: gw} }

// WithRollouts serves staged rollouts (hub.startRollout and friends) from r.
func (d *Dialect) WithRollouts(r *desired.Rollouts) *Dialect {
	d.rollouts = r
	return d
}

// Handle answers one decoded call with a value (possibly an edge's raw
// value) or an error carrying the fault the client sees.
func (d *Dialect) Handle(ctx context.Context, method string, params []any) (any, error) {
	switch {
	case strings.HasPrefix(method, "hub."):
		return d.hubMethod(ctx, method, params)
	case strings.HasPrefix(method, "unicast."):
		return d.unicast(ctx, strings.TrimPrefix(method, "unicast."), params)
	case strings.HasPrefix(method, "multicast."):
		return d.multicast(ctx, strings.TrimPrefix(method, "multicast."), params, false)
	case strings.HasPrefix(method, "broadcast."):
		return d.multicast(ctx, strings.TrimPrefix(method, "broadcast."), params, true)
	}
	return d.passthrough(ctx, method, params)
}

var badParams = gateway.BadParams

func (d *Dialect) hubMethod(ctx context.Context, method string, params []any) (any, error) {
	switch method {
	case "hub.login":
		return d.login(ctx, auth.Manual, method, params)
	case "hub.loginWithAuthRelayMode":
		return d.login(ctx, auth.Relay, method, params)
	case "hub.loginWithAutoconnectMode":
		return d.login(ctx, auth.Autoconnect, method, params)
	case "hub.attachToServers":
		return d.attach(ctx, params)
	case "hub.listServerIds":
		return d.listServerIds(ctx, params)
	case "hub.logout":
		if len(params) != 1 {
			return nil, badParams("hub.logout takes 1 argument (the session key), got %d", len(params))
		}
		return "", d.gw.Logout(ctx, params[0])
	case "hub.getJob":
		return d.getJob(ctx, params)
	case "hub.listJobs":
		return d.listJobs(ctx, params)
	case "hub.plan", "hub.apply":
		return d.desiredCall(ctx, method, params)
	case "hub.export":
		return d.export(ctx, params)
	case "hub.startRollout", "hub.getRollout", "hub.listRollouts", "hub.resumeRollout", "hub.retryRollout", "hub.abortRollout":
		if d.rollouts != nil {
			return d.rollout(ctx, method, params)
		}
	}
	return nil, rpc.Faultf(gateway.CodeNoMethod, "hubgw: unknown method %s (hub.* has login, loginWithAuthRelayMode, loginWithAutoconnectMode, attachToServers, listServerIds, logout, getJob, listJobs, plan, apply, export, startRollout, getRollout, listRollouts, resumeRollout, retryRollout, abortRollout)", method)
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

func (d *Dialect) login(ctx context.Context, mode auth.Mode, method string, params []any) (any, error) {
	p, err := strParams(method, params, "user", "password")
	if err != nil {
		return nil, err
	}
	s, results, err := d.gw.Login(ctx, mode, p[0], p[1])
	if err != nil {
		return nil, err
	}
	if mode != auth.Autoconnect {
		return s.ID, nil
	}
	return append(rpc.Struct{{Name: "SessionKey", Value: s.ID}}, multicastResult(gateway.Outcome{Results: results})...), nil
}

// attach implements both forms of hub.attachToServers: (key, ids) reuses
// the session's credentials (relay, autoconnect); (key, ids, users,
// passwords) logs in to each server with its own.
func (d *Dialect) attach(ctx context.Context, params []any) (any, error) {
	if len(params) != 2 && len(params) != 4 {
		return nil, badParams("hub.attachToServers takes (key, serverIds) in relay mode or (key, serverIds, usernames, passwords), got %d arguments", len(params))
	}
	s, err := d.gw.Session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	ids, ok := params[1].([]any)
	if !ok {
		return nil, badParams("hub.attachToServers: serverIds must be an array, not %s", rpc.TypeName(params[1]))
	}
	var users, passwords []string
	if len(params) == 4 {
		lists := [2][]string{}
		for i, name := range []string{"usernames", "passwords"} {
			list, ok := params[2+i].([]any)
			if !ok {
				return nil, badParams("hub.attachToServers: %s must be an array, not %s", name, rpc.TypeName(params[2+i]))
			}
			if len(list) != len(ids) {
				return nil, badParams("hub.attachToServers: %d %s for %d server ids", len(list), name, len(ids))
			}
			lists[i] = make([]string, len(list))
			for j, v := range list {
				if lists[i][j], ok = v.(string); !ok {
					return nil, badParams("hub.attachToServers: %s[%d] must be a string, not %s", name, j, rpc.TypeName(v))
				}
			}
		}
		users, passwords = lists[0], lists[1]
	} else if len(s.Secret) == 0 {
		return nil, badParams("hub.attachToServers without credentials needs a relay or autoconnect session; this one logged in with hub.login, so pass usernames and passwords")
	}
	targets, err := d.servers(ctx, s, ids)
	if err != nil {
		return nil, err
	}
	results, err := d.gw.Attach(ctx, s, targets, users, passwords)
	if err != nil {
		return nil, err
	}
	return multicastResult(gateway.Outcome{Results: results}), nil
}

// servers resolves server ids as the client sent them.
func (d *Dialect) servers(ctx context.Context, s *auth.Session, ids []any) ([]target.Target, error) {
	snap, err := d.gw.Peripherals(ctx, s)
	if err != nil {
		return nil, err
	}
	out := make([]target.Target, len(ids))
	seen := map[int64]bool{}
	for i, v := range ids {
		if out[i], err = d.gw.ByID(snap, v); err != nil {
			return nil, err
		}
		if seen[out[i].ID] {
			return nil, badParams("server id %d is listed twice", out[i].ID)
		}
		seen[out[i].ID] = true
	}
	return out, nil
}

func (d *Dialect) listServerIds(ctx context.Context, params []any) (any, error) {
	if len(params) != 1 {
		return nil, badParams("hub.listServerIds takes 1 argument (the session key), got %d", len(params))
	}
	s, err := d.gw.Session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	snap, err := d.gw.Peripherals(ctx, s)
	if err != nil {
		return nil, err
	}
	ids := make([]any, len(snap.Targets))
	for i, t := range snap.Targets {
		ids[i] = t.ID
	}
	return ids, nil
}

// unicast.<method>(key, serverId, args...): the peripheral's own answer.
func (d *Dialect) unicast(ctx context.Context, method string, params []any) (any, error) {
	if len(params) < 2 {
		return nil, badParams("unicast.%s takes a session key, a server id and the method's arguments", method)
	}
	s, err := d.gw.Session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	ts, err := d.servers(ctx, s, params[1:2])
	if err != nil {
		return nil, err
	}
	out, err := d.gw.Do(ctx, gateway.Request{Session: s, Targets: ts, Method: method, Arena: true, Args: func(int, target.Target) []any { return params[2:] }})
	if err != nil {
		return nil, err
	}
	gateway.HoldAnswers(ctx, out) // the answer is the peripheral's, written by the edge
	if r := out.Results[0]; !r.OK() {
		return nil, attachHint(gateway.Fault(r))
	}
	return out.Results[0].Value, nil
}

// attachHint tells a hub-xmlrpc-api client how to attach.
func attachHint(f *rpc.Fault) *rpc.Fault {
	if f.Code == gateway.CodeNotAttached {
		return rpc.Faultf(f.Code, "%s; call hub.attachToServers first", f.String)
	}
	return f
}

// multicast handles multicast.* (per-server argument lists, as
// hub-xmlrpc-api) and broadcast.* (the same arguments for every server,
// and "all" for every peripheral the hub lists).
func (d *Dialect) multicast(ctx context.Context, method string, params []any, same bool) (any, error) {
	form := "multicast"
	if same {
		form = "broadcast"
	}
	if len(params) < 2 {
		return nil, badParams("%s.%s takes a session key, a list of server ids and the method's arguments", form, method)
	}
	s, err := d.gw.Session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	var targets []target.Target
	switch ids := params[1].(type) {
	case []any:
		if targets, err = d.servers(ctx, s, ids); err != nil {
			return nil, err
		}
	case string:
		if !same || !strings.EqualFold(strings.TrimSpace(ids), "all") {
			return nil, badParams(`%s.%s: server ids must be an array of ints (broadcast also takes "all")`, form, method)
		}
		if targets, err = d.gw.Resolve(ctx, s, []string{"all"}); err != nil {
			return nil, err
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
	out, err := d.gw.Do(ctx, gateway.Request{Session: s, Targets: targets, Method: method, Many: true, PerTarget: !same, ServerIDs: true, Arena: true,
		Args: func(i int, _ target.Target) []any {
			if same {
				return args
			}
			p := make([]any, len(args))
			for j, a := range args {
				p[j] = a.([]any)[i]
			}
			return p
		}})
	if err != nil {
		return nil, err
	}
	gateway.HoldAnswers(ctx, out) // the answer refers to them until the edge has written it
	return multicastResult(out), nil
}

// passthrough forwards a call to the hub; a gateway session key in front
// is replaced by the session's hub key, so the hub key never leaves the
// gateway. Without one the arguments go as sent.
func (d *Dialect) passthrough(ctx context.Context, method string, params []any) (any, error) {
	hub := []target.Target{d.gw.Hub()}
	req := gateway.Request{Targets: hub, Method: method, NoSession: true, Args: func(int, target.Target) []any { return params }}
	if len(params) > 0 {
		if _, ok := auth.KeyOf(params[0]); ok {
			s, err := d.gw.Session(ctx, params[0])
			if err != nil {
				return nil, err
			}
			req = gateway.Request{Session: s, Targets: hub, Method: method, Args: func(int, target.Target) []any { return params[1:] }}
		} else if _, isString := params[0].(string); !isString && d.gw.API().TakesSession(method, params) {
			// Uyuni's translator turns an integer there into a user id:
			// refused in the words every door uses (Gateway.Session).
			_, err := d.gw.Session(ctx, params[0])
			return nil, err
		}
	}
	req.Arena = true
	out, err := d.gw.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	gateway.HoldAnswers(ctx, out) // the answer is the hub's, written by the edge
	if r := out.Results[0]; !r.OK() {
		return nil, gateway.Fault(r)
	}
	return out.Results[0].Value, nil
}

// multicastResult builds hub-xmlrpc-api's {Successful, Failed} shape, in
// the order of the request, plus Complete, Results (one struct per server
// with the detail hub-xmlrpc-api dropped) and JobId when recorded.
func multicastResult(out gateway.Outcome) rpc.Struct {
	okIDs, okResp := []any{}, []any{}
	failIDs, failResp := []any{}, []any{}
	detail := make([]any, 0, len(out.Results))
	for _, r := range out.Results {
		if r.OK() {
			okIDs = append(okIDs, r.Target.ID)
			okResp = append(okResp, r.Value)
		} else {
			failIDs = append(failIDs, r.Target.ID)
			failResp = append(failResp, gateway.Fault(r).Error())
		}
		detail = append(detail, resultStruct(r))
	}
	res := rpc.Struct{
		{Name: "Successful", Value: rpc.Struct{{Name: "ServerIds", Value: okIDs}, {Name: "Responses", Value: okResp}}},
		{Name: "Failed", Value: rpc.Struct{{Name: "ServerIds", Value: failIDs}, {Name: "Responses", Value: failResp}}},
		{Name: "Complete", Value: out.Results.IsComplete()},
		{Name: "Results", Value: detail},
	}
	if out.JobID != "" {
		res = append(res, rpc.Member{Name: "JobId", Value: out.JobID})
	}
	return res
}

// resultStruct is one server's result in the capitalised member names of
// hub-xmlrpc-api's structs.
func resultStruct(r fanout.Result) rpc.Struct {
	d := rpc.Struct{
		{Name: "ServerId", Value: r.Target.ID},
		{Name: "ServerName", Value: r.Target.String()},
		{Name: "Ok", Value: r.OK()},
		{Name: "Outcome", Value: fanout.Kind(r)},
		{Name: "DurationMs", Value: r.Duration.Milliseconds()},
		{Name: "Attempts", Value: int64(r.Attempts)},
	}
	if !r.OK() {
		f := gateway.Fault(r)
		d = append(d, rpc.Member{Name: "FaultCode", Value: int64(f.Code)}, rpc.Member{Name: "FaultString", Value: f.String})
		if r.Err != nil {
			d = append(d, rpc.Member{Name: "Error", Value: r.Err.Error()})
		}
	}
	return d
}

// getJob is hub.getJob(sessionKey, jobId).
func (d *Dialect) getJob(ctx context.Context, params []any) (any, error) {
	if len(params) != 2 {
		return nil, badParams("hub.getJob takes 2 arguments (the session key, a job id), got %d", len(params))
	}
	s, err := d.gw.Session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	id, ok := params[1].(string)
	if !ok {
		return nil, badParams("hub.getJob: the job id must be a string, not %s", rpc.TypeName(params[1]))
	}
	j, err := d.gw.Job(ctx, s, id)
	if err != nil {
		return nil, err
	}
	return jobStruct(j, true), nil
}

// listJobs is hub.listJobs(sessionKey[, limit]).
func (d *Dialect) listJobs(ctx context.Context, params []any) (any, error) {
	if len(params) != 1 && len(params) != 2 {
		return nil, badParams("hub.listJobs takes the session key and, optionally, how many jobs (default 20), got %d arguments", len(params))
	}
	s, err := d.gw.Session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	limit := 20
	if len(params) == 2 {
		n, ok := params[1].(int64)
		if !ok || n < 1 || n > 1000 {
			return nil, badParams("hub.listJobs: the limit must be an int from 1 to 1000")
		}
		limit = int(n)
	}
	js, err := d.gw.Jobs(ctx, s, limit)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(js))
	for i := range js {
		out[i] = jobStruct(&js[i], false)
	}
	return out, nil
}

// jobStruct is a job as XML-RPC returns it, in the capitalised member
// names of multicast results. Dates are UTC.
func jobStruct(j *jobs.Job, withTargets bool) rpc.Struct {
	st := rpc.Struct{
		{Name: "JobId", Value: j.ID},
		{Name: "Method", Value: j.Method},
		{Name: "User", Value: j.User},
		{Name: "Status", Value: string(j.Status)},
		{Name: "Replica", Value: j.Replica},
		{Name: "Started", Value: j.Started.UTC()},
	}
	if j.Ended != nil {
		st = append(st, rpc.Member{Name: "Ended", Value: j.Ended.UTC()})
	}
	st = append(st,
		rpc.Member{Name: "Total", Value: int64(j.Total)},
		rpc.Member{Name: "Finished", Value: int64(j.Finished)},
		rpc.Member{Name: "Succeeded", Value: int64(j.Succeeded)},
		rpc.Member{Name: "Failed", Value: int64(j.Failed)},
	)
	if args, err := jobs.Value(j.Args); err == nil && args != nil {
		st = append(st, rpc.Member{Name: "Args", Value: args})
	}
	if !withTargets {
		return st
	}
	ts := make([]any, len(j.Targets))
	for i, t := range j.Targets {
		d := rpc.Struct{
			{Name: "ServerId", Value: t.ServerID},
			{Name: "ServerName", Value: t.ServerName},
			{Name: "Ok", Value: t.OK},
			{Name: "Outcome", Value: t.Outcome},
			{Name: "DurationMs", Value: t.DurationMs},
			{Name: "Attempts", Value: int64(t.Attempts)},
		}
		if t.Finished != nil {
			d = append(d, rpc.Member{Name: "Finished", Value: t.Finished.UTC()})
		}
		if t.FaultCode != 0 || t.FaultString != "" {
			d = append(d, rpc.Member{Name: "FaultCode", Value: int64(t.FaultCode)}, rpc.Member{Name: "FaultString", Value: t.FaultString})
		}
		if t.Error != "" {
			d = append(d, rpc.Member{Name: "Error", Value: t.Error})
		}
		if v, err := jobs.Value(t.Value); err != nil {
			d = append(d, rpc.Member{Name: "ValueOmitted", Value: fmt.Sprintf("recorded value unreadable: %v", err)})
		} else if v != nil {
			d = append(d, rpc.Member{Name: "Value", Value: v})
		}
		if t.ValueOmitted != "" {
			d = append(d, rpc.Member{Name: "ValueOmitted", Value: t.ValueOmitted})
		}
		if args, err := jobs.Value(t.Args); err == nil && args != nil {
			d = append(d, rpc.Member{Name: "Args", Value: args})
		}
		ts[i] = d
	}
	return append(st, rpc.Member{Name: "Targets", Value: ts})
}
