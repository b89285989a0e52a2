package gateway

import (
	"context"
	"slices"
	"strings"

	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/fleetids"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Gateway-wide ids: every Uyuni server numbers its systems from
// 1000010000 and its actions from 1, so a client that addresses many
// servers at once (spacecmd -s all@gw, a REST fan-out) would see the
// systems of one server hide those of the next. In such requests the ids
// of systems and actions, the objects spacecmd's commands name by id, are
// gateway-wide (package fleetids): answers carry them, and a call whose
// arguments carry them goes only to the servers that own them, each with
// its own ids. Other ids (channels, errata, packages, orgs...) stay the
// servers' own, and the id rule refuses them on many targets.
//
// What is translated, also in the README:
//   - arguments: the parameters named in systemParams and actionParams
//     (by the catalog's names, for the overload Uyuni would pick);
//   - answers: struct members named in systemMembers and actionMembers,
//     anywhere; the member "id" in the answers of systemListings (a
//     system) and actionListings (an action); and the int that system.*
//     schedule* methods return (the action they scheduled).

const (
	kindSystem = "system"
	kindAction = "action"
)

var (
	systemParams = set("sid", "sids", "sid1", "sid2", "serverId", "serverIds", "serverIdsIn", "systemId", "systemIds", "systemIDs", "targetServerId", "sourceServerId", "targetNodesSystemIds")
	actionParams = set("actionId", "actionIds")

	systemMembers = set("sid", "server_id", "serverId", "system_id", "systemId")
	actionMembers = set("action_id", "actionId")
	// systemListings answer structs whose "id" is a system's.
	systemListings = set("system.listSystems", "system.listActiveSystems", "system.listInactiveSystems", "system.listUserSystems",
		"system.listOutOfDateSystems", "system.listUngroupedSystems", "system.listVirtualGuests", "system.listVirtualHosts",
		"system.listSystemsWithPackage", "system.listSystemsWithExtraPackages", "system.listEmptySystemProfiles",
		"system.searchByName", "system.getId", "system.getName", "system.getDetails",
		"system.search.hostname", "system.search.ip", "system.search.nameAndDescription", "system.search.deviceDescription",
		"system.search.deviceDriver", "system.search.deviceId", "system.search.deviceVendorId", "system.search.uuid",
		"systemgroup.listSystems", "systemgroup.listSystemsMinimal", "systemgroup.listInactiveSystemsInGroup",
		"configchannel.listSubscribedSystems", "activationkey.listActivatedSystems", "channel.software.listSubscribedSystems",
		"channel.software.listSystemChannels", "errata.listAffectedSystems", "schedule.listInProgressSystems",
		"schedule.listCompletedSystems", "schedule.listFailedSystems")
	// actionListings answer structs whose "id" is an action's.
	actionListings = set("schedule.listAllActions", "schedule.listInProgressActions", "schedule.listCompletedActions",
		"schedule.listFailedActions", "schedule.listArchivedActions", "schedule.listAllArchivedActions",
		"system.listSystemEvents", "system.listHistoryEvents")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// FleetIDs is the wrapper that gives many-target requests gateway-wide
// ids for systems and actions; nil space turns it off.
func (g *Gateway) FleetIDs(space *fleetids.Space) Wrapper {
	return func(next Handler) Handler {
		if space == nil {
			return next
		}
		return func(ctx context.Context, req Request) (Outcome, error) {
			if req.PerTarget || req.ServerIDs || req.Session == nil || (!req.Many && len(req.Targets) <= 1) {
				return next(ctx, req)
			}
			routed, err := g.routeIDs(ctx, space, req)
			if err != nil {
				return Outcome{}, err
			}
			out, err := next(ctx, routed)
			if err != nil {
				return out, err
			}
			g.globalIDs(ctx, space, req.Method, out.Results)
			return out, nil
		}
	}
}

// routeIDs sends a request whose arguments carry gateway-wide ids to the
// servers that own them, each with its own ids. A request without such
// ids is returned as it is (the id rule then judges its other ids).
func (g *Gateway) routeIDs(ctx context.Context, space *fleetids.Space, req Request) (Request, error) {
	args := req.args(0)
	session := !req.NoSession
	var idx []int
	var kinds []string
	for _, o := range g.api.Candidates(req.Method, session, args) {
		for i, p := range o.Args {
			switch {
			case systemParams[p.Name]:
				idx, kinds = append(idx, i), append(kinds, kindSystem)
			case actionParams[p.Name]:
				idx, kinds = append(idx, i), append(kinds, kindAction)
			}
		}
		if len(idx) > 0 {
			break
		}
	}
	if len(idx) == 0 {
		return req, nil
	}
	// owner → each id parameter's translated value for it
	per := map[string][]any{}
	for k, i := range idx {
		ids, list := idsOf(args[i])
		if ids == nil {
			continue
		}
		for _, id := range ids {
			if !fleetids.IsGlobal(id) {
				return req, nil // a server's own id: the id rule decides
			}
			ref, ok, err := space.Local(ctx, id)
			if err != nil {
				return req, storeFault(err)
			}
			if !ok || ref.Kind != kinds[k] {
				return req, rpc.Faultf(CodeServerLocalID, "hubgw: %s %d is not a %s id this gateway gave out; list the %ss again on these targets, or call it for one peripheral", g.paramName(req, i), id, kinds[k], kinds[k])
			}
			if per[ref.Target] == nil {
				per[ref.Target] = slices.Clone(args)
				for _, j := range idx {
					if _, isList := idsOf(args[j]); isList {
						per[ref.Target][j] = []any{}
					}
				}
			}
			if list {
				per[ref.Target][i] = append(per[ref.Target][i].([]any), ref.Local)
			} else {
				per[ref.Target][i] = ref.Local
			}
		}
	}
	if len(per) == 0 {
		return req, nil
	}
	var owners []target.Target
	for _, t := range req.Targets {
		if per[t.Key()] != nil {
			owners = append(owners, t)
		}
	}
	if len(owners) != len(per) {
		return req, rpc.Faultf(CodeServerLocalID, "hubgw: %s names an object of a server that is not among this call's targets", req.Method)
	}
	for _, t := range owners {
		a := per[t.Key()]
		for k, i := range idx {
			if v, ok := a[i].(int64); ok && fleetids.IsGlobal(v) {
				// A scalar id parameter left as it was: it was owned by
				// another server than this one's other ids.
				return req, rpc.Faultf(CodeServerLocalID, "hubgw: %s names objects of different servers in one call (%s); call it once per server", req.Method, kinds[k])
			}
		}
	}
	if len(owners) > 1 {
		if p := g.api.LocalID(req.Method, !req.NoSession, args, idx...); p != "" {
			return req, rpc.Faultf(CodeServerLocalID, "hubgw: %s reaches %d servers and also takes %s, an id that names a different object on each; call it once per server", req.Method, len(owners), p)
		}
	}
	routed := req
	routed.Targets = owners
	routed.PerTarget = true
	routed.Args = func(i int, t target.Target) []any { return per[t.Key()] }
	return routed, nil
}

func (g *Gateway) paramName(req Request, i int) string {
	for _, o := range g.api.Candidates(req.Method, !req.NoSession, req.args(0)) {
		if i < len(o.Args) {
			return o.Args[i].Name
		}
	}
	return "an argument"
}

// idsOf reads an id argument: an int, or a list of them; list says which.
func idsOf(v any) (ids []int64, list bool) {
	switch v := v.(type) {
	case int64:
		return []int64{v}, false
	case []any:
		for _, e := range v {
			if id, ok := e.(int64); ok {
				ids = append(ids, id)
			}
		}
		return ids, true
	}
	return nil, false
}

// globalIDs turns the servers' own ids in answers into gateway-wide ones.
// Answers that cannot carry such ids are left as they are (undecoded).
func (g *Gateway) globalIDs(ctx context.Context, space *fleetids.Space, method string, rs fanout.Results) {
	ns := method[:max(strings.LastIndexByte(method, '.'), 0)]
	scheduled := strings.HasPrefix(method, "system.") && strings.HasPrefix(method[strings.LastIndexByte(method, '.')+1:], "schedule")
	if !scheduled && !systemListings[method] && !actionListings[method] && ns != "system" && ns != "schedule" && ns != "systemgroup" {
		return
	}
	for i, r := range rs {
		if !r.OK() {
			continue
		}
		v, err := rpc.Decode(r.Value)
		if err != nil {
			continue // the edge reports an undecodable answer as it does for any
		}
		if scheduled {
			if id, ok := v.(int64); ok {
				if gs, err := space.Globals(ctx, kindAction, r.Target.Key(), []int64{id}); err == nil {
					rs[i].Value = gs[0]
				}
				continue
			}
		}
		var refs []*any
		var kinds []string
		collectIDs(v, method, &refs, &kinds)
		if len(refs) == 0 {
			continue
		}
		if err := globalize(ctx, space, r.Target.Key(), refs, kinds); err != nil {
			rs[i] = fanout.Result{Target: r.Target, Err: err, Duration: r.Duration, Attempts: r.Attempts}
			continue
		}
		rs[i].Value = v
	}
}

// collectIDs finds the id members of a decoded answer.
func collectIDs(v any, method string, refs *[]*any, kinds *[]string) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			collectIDs(e, method, refs, kinds)
		}
	case rpc.Struct:
		for j := range v {
			name := v[j].Name
			kind := ""
			switch {
			case systemMembers[name], name == "id" && systemListings[method]:
				kind = kindSystem
			case actionMembers[name], name == "id" && actionListings[method]:
				kind = kindAction
			}
			if _, isInt := v[j].Value.(int64); kind != "" && isInt {
				*refs = append(*refs, &v[j].Value)
				*kinds = append(*kinds, kind)
				continue
			}
			collectIDs(v[j].Value, method, refs, kinds)
		}
	}
}

// globalize replaces the ids refs point at, one store round trip per kind.
func globalize(ctx context.Context, space *fleetids.Space, targetKey string, refs []*any, kinds []string) error {
	for _, kind := range []string{kindSystem, kindAction} {
		var at []int
		var locals []int64
		for k, r := range refs {
			if kinds[k] == kind {
				at = append(at, k)
				locals = append(locals, (*r).(int64))
			}
		}
		if len(locals) == 0 {
			continue
		}
		gs, err := space.Globals(ctx, kind, targetKey, locals)
		if err != nil {
			return err
		}
		for n, k := range at {
			*refs[k] = gs[n]
		}
	}
	return nil
}
