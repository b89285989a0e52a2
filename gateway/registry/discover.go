package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Caller calls a method on the hub and returns its decoded value, or a
// *rpc.Fault.
type Caller func(ctx context.Context, method string, params []any) (any, error)

// Discovery finds peripherals through the hub's API, newest method first:
// sync.hub.listPeripheralServers; else the systems entitled
// "peripheral_server" with their FQDNs; else (a legacy hub) every system.
type Discovery struct {
	Call Caller
	// URLFor builds a peripheral's XML-RPC URL from its FQDN; the default
	// is https://<fqdn>/rpc/api.
	URLFor func(fqdn string) string
	// Parallel bounds the system.listFqdns calls in flight; default 16.
	Parallel int
}

// Load implements Loader.
func (d Discovery) Load(ctx context.Context, hubKey string) (*Snapshot, error) {
	urlFor := d.URLFor
	if urlFor == nil {
		urlFor = func(fqdn string) string { return "https://" + fqdn + "/rpc/api" }
	}
	v, err := d.Call(ctx, "sync.hub.listPeripheralServers", []any{hubKey})
	if err == nil {
		ts, err := fromPeripheralServers(v, urlFor)
		if err != nil {
			return nil, err
		}
		return &Snapshot{Targets: ts, Source: "sync.hub.listPeripheralServers"}, nil
	}
	if !methodMissing(err) {
		return nil, fmt.Errorf("sync.hub.listPeripheralServers: %w", err)
	}
	source := "system.listSystemsWithEntitlement"
	v, err = d.Call(ctx, "system.listSystemsWithEntitlement", []any{hubKey, "peripheral_server"})
	if err != nil && methodMissing(err) {
		source = "system.listSystems"
		v, err = d.Call(ctx, "system.listSystems", []any{hubKey})
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	ts, err := d.withFQDNs(ctx, hubKey, v, urlFor)
	if err != nil {
		return nil, err
	}
	return &Snapshot{Targets: ts, Source: source}, nil
}

// methodMissing tells "this hub has no such method" (an older hub) from
// every other fault, which must not be mistaken for it: Uyuni uses -1 for
// both a missing method and a missing session. A hub without the whole
// namespace (no sync.hub before 2025) answers with redstone's "The
// specified handler cannot be found." instead.
func methodMissing(err error) bool {
	var f *rpc.Fault
	return errors.As(err, &f) && f.Code == rpc.CodeNoSession &&
		(strings.Contains(f.String, "Could not find method") || strings.Contains(f.String, "handler cannot be found"))
}

func fromPeripheralServers(v any, urlFor func(string) string) ([]target.Target, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("sync.hub.listPeripheralServers returned %s, want array", rpc.TypeName(v))
	}
	out := make([]target.Target, 0, len(list))
	for _, e := range list {
		s, ok := e.(rpc.Struct)
		if !ok {
			return nil, fmt.Errorf("sync.hub.listPeripheralServers: element is %s, want struct", rpc.TypeName(e))
		}
		id, _ := s.Get("id")
		fqdn, _ := s.Get("fqdn")
		t := target.Target{FQDN: str(fqdn)}
		t.ID, ok = id.(int64)
		if !ok || t.FQDN == "" {
			return nil, fmt.Errorf("sync.hub.listPeripheralServers: entry without id or fqdn")
		}
		t.Name = t.FQDN // the hub names peripherals by FQDN here
		t.URL = urlFor(t.FQDN)
		out = append(out, t)
	}
	return out, nil
}

func (d Discovery) withFQDNs(ctx context.Context, hubKey string, v any, urlFor func(string) string) ([]target.Target, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("system list is %s, want array", rpc.TypeName(v))
	}
	out := make([]target.Target, len(list))
	g, gctx := errgroup.WithContext(ctx)
	if d.Parallel > 0 {
		g.SetLimit(d.Parallel)
	} else {
		g.SetLimit(16)
	}
	for i, e := range list {
		s, ok := e.(rpc.Struct)
		if !ok {
			return nil, fmt.Errorf("system list element is %s, want struct", rpc.TypeName(e))
		}
		id, _ := s.Get("id")
		name, _ := s.Get("name")
		sid, ok := id.(int64)
		if !ok {
			return nil, fmt.Errorf("system without an integer id")
		}
		out[i] = target.Target{ID: sid, Name: str(name)}
		g.Go(func() error {
			v, err := d.Call(gctx, "system.listFqdns", []any{hubKey, sid})
			if err != nil {
				return fmt.Errorf("system.listFqdns(%d): %w", sid, err)
			}
			fq, _ := v.([]any)
			if len(fq) > 0 {
				out[i].FQDN = str(fq[0])
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// A system without an FQDN cannot be called; keep the rest.
	kept := out[:0]
	for _, t := range out {
		if t.FQDN != "" {
			t.URL = urlFor(t.FQDN)
			kept = append(kept, t)
		}
	}
	return kept, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
