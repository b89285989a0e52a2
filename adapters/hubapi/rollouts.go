package hubapi

import (
	"context"
	"fmt"

	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/rollout"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// rollout answers the rollout methods, with the REST answers' members:
//
//	hub.startRollout(key, request)         → {id, status}; request has POST /api/v1/rollouts's members
//	hub.getRollout(key, id)                → the rollout
//	hub.listRollouts(key)                  → the caller's, newest first
//	hub.resumeRollout(key, id[, maxFailures])
//	hub.retryRollout(key, id[, servers])
//	hub.abortRollout(key, id)
func (d *Dialect) rollout(ctx context.Context, method string, params []any) (any, error) {
	minArgs, maxArgs, shape := 2, 2, "the session key, a rollout id"
	switch method {
	case "hub.startRollout":
		shape = "the session key, a struct with documents, targets and the rollout's settings"
	case "hub.listRollouts":
		minArgs, maxArgs, shape = 1, 1, "the session key"
	case "hub.resumeRollout":
		maxArgs, shape = 3, "the session key, a rollout id and, optionally, a larger maxFailures"
	case "hub.retryRollout":
		maxArgs, shape = 3, "the session key, a rollout id and, optionally, the servers to retry"
	}
	if len(params) < minArgs || len(params) > maxArgs {
		return nil, badParams("%s takes %s; got %d arguments", method, shape, len(params))
	}
	s, err := d.gw.Session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	if method == "hub.listRollouts" {
		recs, err := d.rollouts.C.List(ctx, s.User, 100)
		if err != nil {
			return nil, desired.RolloutFault(err)
		}
		out := make([]desired.RolloutView, len(recs))
		for i := range recs {
			out[i] = desired.View(&recs[i])
		}
		return xmlrpcValue(out)
	}
	if method == "hub.startRollout" {
		req, err := desired.ParseRolloutRequest(params[1])
		if err != nil {
			return nil, validationFault(err)
		}
		rec, err := d.rollouts.Start(ctx, s, req)
		if err != nil {
			return nil, validationFault(desired.RolloutFault(err))
		}
		return rpc.Struct{{Name: "id", Value: rec.ID}, {Name: "status", Value: string(rec.Status)}, {Name: "durable", Value: d.rollouts.C.Durable()}}, nil
	}
	id, ok := params[1].(string)
	if !ok {
		return nil, badParams("%s: the rollout id must be a string, not %s", method, rpc.TypeName(params[1]))
	}
	var rec *rollout.Record
	switch method {
	case "hub.getRollout":
		rec, err = d.rollouts.Get(ctx, s, id)
	case "hub.resumeRollout":
		var budget *rollout.Amount
		if len(params) == 3 {
			a := rollout.Amount(fmt.Sprint(params[2]))
			budget = &a
		}
		rec, err = d.rollouts.Resume(ctx, s, id, budget)
	case "hub.retryRollout":
		var only []string
		if len(params) == 3 {
			list, ok := params[2].([]any)
			if !ok {
				return nil, badParams("hub.retryRollout: the servers must be an array of names or ids, not %s", rpc.TypeName(params[2]))
			}
			for _, v := range list {
				only = append(only, fmt.Sprint(v))
			}
		}
		rec, err = d.rollouts.C.Retry(ctx, id, s.User, only)
	default:
		rec, err = d.rollouts.C.Abort(ctx, id, s.User)
	}
	if err != nil {
		return nil, desired.RolloutFault(err)
	}
	return xmlrpcValue(desired.View(rec))
}
