package hubapi

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// desiredCall is hub.plan(key, documents, targets) and hub.apply(key,
// documents, targets): documents are the YAML text or an array of
// structs; targets are references (all, group names, names, FQDNs, ids,
// hub). The answer has the REST answer's members.
func (d *Dialect) desiredCall(ctx context.Context, method string, params []any) (any, error) {
	if len(params) != 3 {
		return nil, badParams("%s takes 3 arguments (the session key, the documents, the targets), got %d", method, len(params))
	}
	s, err := d.gw.Session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	var docs []any
	switch x := params[1].(type) {
	case string:
		if docs, err = desired.ParseYAML([]byte(x)); err != nil {
			return nil, validationFault(err)
		}
	case []any:
		docs = x
	default:
		return nil, badParams("%s: the documents must be YAML text or an array of structs, not %s", method, rpc.TypeName(params[1]))
	}
	b, err := desired.Load(docs)
	if err != nil {
		return nil, validationFault(err)
	}
	ts, err := d.refTargets(ctx, s, method, params[2])
	if err != nil {
		return nil, err
	}
	if method == "hub.plan" {
		out, err := desired.New(d.gw).Plan(ctx, s, ts, b)
		if err != nil {
			return nil, err
		}
		return xmlrpcValue(out)
	}
	if d.rollouts == nil {
		return nil, rpc.Faultf(gateway.CodeNoMethod, "hubgw: hub.apply runs as a rollout, and rollouts are not served here")
	}
	out, err := d.rollouts.Apply(ctx, s, docs, ts) // a rollout of one wave, waited for
	if err != nil {
		return nil, desired.RolloutFault(err)
	}
	return xmlrpcValue(out)
}

// export is hub.export(key, target, kind, name).
func (d *Dialect) export(ctx context.Context, params []any) (any, error) {
	if len(params) != 4 {
		return nil, badParams("hub.export takes 4 arguments (the session key, a target, a kind, a name), got %d", len(params))
	}
	s, err := d.gw.Session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	ts, err := d.refTargets(ctx, s, "hub.export", []any{params[1]})
	if err != nil {
		return nil, err
	}
	if len(ts) != 1 {
		return nil, badParams("hub.export reads one server; %v names %d", params[1], len(ts))
	}
	kind, _ := params[2].(string)
	name, _ := params[3].(string)
	doc, err := desired.New(d.gw).Export(ctx, s, ts[0], kind, name)
	if err != nil {
		return nil, validationFault(err)
	}
	return xmlrpcValue(doc)
}

// refTargets reads target references: strings or server ids, one or a list.
func (d *Dialect) refTargets(ctx context.Context, s *auth.Session, method string, v any) ([]target.Target, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	refs := make([]string, 0, len(list))
	for _, r := range list {
		switch x := r.(type) {
		case string, int64, int:
			refs = append(refs, fmt.Sprint(x))
		default:
			return nil, badParams("%s: a target is a name, FQDN, group, id, all or hub, not %s", method, rpc.TypeName(r))
		}
	}
	if len(refs) == 0 {
		return nil, badParams("%s: name the targets (all, a group, names, FQDNs, ids or hub)", method)
	}
	return d.gw.Resolve(ctx, s, refs)
}

// validationFault is a document problem as the bad-parameters fault,
// every problem with its path.
func validationFault(err error) error {
	if ve, ok := err.(*desired.ValidationError); ok {
		return badParams("%s", ve.Error())
	}
	return err
}

// xmlrpcValue turns an answer into XML-RPC values with the JSON member
// names and order (the REST answer's), without nulls (XML-RPC has none).
func xmlrpcValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out, err := jobs.Value(b)
	return dropNil(out), err
}

func dropNil(v any) any {
	switch x := v.(type) {
	case rpc.Struct:
		out := x[:0:0]
		for _, m := range x {
			if m.Value != nil {
				out = append(out, rpc.Member{Name: m.Name, Value: dropNil(m.Value)})
			}
		}
		return out
	case []any:
		for i := range x {
			if x[i] == nil {
				x[i] = ""
			}
			x[i] = dropNil(x[i])
		}
	}
	return v
}
