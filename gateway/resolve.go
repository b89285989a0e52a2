package gateway

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Targets: a reference is "hub", "all" (every peripheral the hub lists: one
// the session is not attached to yet is attached on demand, or reported as
// a failed result, never silently left out), a group from the
// configuration, or a peripheral's id, name or FQDN.

// Peripherals returns the registry as the session sees it.
func (g *Gateway) Peripherals(ctx context.Context, s *auth.Session) (*registry.Snapshot, error) {
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

// UnknownTarget is the fault for a reference that names no server; Valid
// lists what the gateway would accept, for edges that show it apart.
type UnknownTarget struct {
	*rpc.Fault
	Valid []string
}

func (u *UnknownTarget) Unwrap() error { return u.Fault }

// Resolve turns target references into targets, in order, without
// duplicates. An unknown reference is an *UnknownTarget (CodeUnknownServer)
// listing the valid ones; a set that names no server is one too.
func (g *Gateway) Resolve(ctx context.Context, s *auth.Session, refs []string) ([]target.Target, error) {
	accessFrom(ctx).noteTarget(refs)
	var snap *registry.Snapshot
	if !onlyHub(refs) {
		var err error
		if snap, err = g.Peripherals(ctx, s); err != nil {
			return nil, err
		}
	}
	var out []target.Target
	seen := map[string]bool{}
	add := func(t target.Target) {
		if !seen[t.Key()] {
			seen[t.Key()] = true
			out = append(out, t)
		}
	}
	unknown := func(format string, args ...any) error {
		valid := g.validTargets(snap)
		return &UnknownTarget{Fault: rpc.Faultf(CodeUnknownServer, format+"; valid targets: "+strings.Join(valid, ", "), args...), Valid: valid}
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
				add(t)
			}
		case group:
			for _, m := range members {
				t, ok := find(snap, m)
				if !ok {
					return nil, unknown("hubgw: group %q names %q, which is not a peripheral of this hub", ref, m)
				}
				add(t)
			}
		default:
			t, ok := find(snap, ref)
			if !ok {
				return nil, unknown("hubgw: unknown target %q", ref)
			}
			add(t)
		}
	}
	if len(out) == 0 {
		return nil, unknown("hubgw: target %q names no servers: the hub lists no peripherals", strings.Join(refs, ","))
	}
	return out, nil
}

// IsMany reports whether refs name a set (all, a group, a list) rather
// than one server: a set is a fan-out whatever it resolves to, so a script
// sees the same shape in a test bed with one peripheral as in production.
func (g *Gateway) IsMany(refs []string) bool {
	if len(refs) != 1 {
		return true
	}
	if strings.EqualFold(strings.TrimSpace(refs[0]), "all") {
		return true
	}
	_, group := g.group(strings.TrimSpace(refs[0]))
	return group
}

// ByID finds a peripheral by the id the hub gave it.
func (g *Gateway) ByID(snap *registry.Snapshot, v any) (target.Target, error) {
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

func onlyHub(refs []string) bool {
	for _, r := range refs {
		if !strings.EqualFold(strings.TrimSpace(r), "hub") {
			return false
		}
	}
	return true
}

func find(snap *registry.Snapshot, ref string) (target.Target, bool) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		if t, ok := snap.ByID(id); ok {
			return t, true
		}
	}
	return snap.Find(ref)
}

func (g *Gateway) group(ref string) ([]string, bool) {
	if m, ok := g.o.Groups[ref]; ok {
		return m, true
	}
	for name, m := range g.o.Groups {
		if strings.EqualFold(name, ref) {
			return m, true
		}
	}
	return nil, false
}

// validTargets lists what Resolve accepts, for error messages.
func (g *Gateway) validTargets(snap *registry.Snapshot) []string {
	out := []string{"hub", "all"}
	for name := range g.o.Groups {
		out = append(out, name)
	}
	slices.Sort(out[2:])
	if snap != nil {
		out = append(out, snap.Names()...)
	}
	return out
}
