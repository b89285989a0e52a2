package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// This file is the gateway's side of job records (package jobs): Call
// records every fan-out, multicast results carry the job's id, and
// hub.getJob / hub.listJobs read jobs back, from any replica.

// JobRecorder records fan-outs and reads them back; *jobs.Recorder is one.
type JobRecorder interface {
	Start(ctx context.Context, spec jobs.Spec) (*jobs.Run, error)
	Get(ctx context.Context, id string) (*jobs.Job, error)
	List(ctx context.Context, f jobs.Filter) ([]jobs.Job, error)
}

// storeFault is the fault for a failing session or job store: the state
// store being unreachable has its own code, so clients can tell it from a
// bug and retry.
func storeFault(err error) *rpc.Fault {
	if errors.Is(err, cache.ErrUnavailable) {
		return rpc.Faultf(CodeStateUnavailable, "hubgw: %v; try again shortly", err)
	}
	return rpc.Faultf(CodeInternal, "hubgw: session store: %v", err)
}

// startJob records a fan-out about to start (nil Run when jobs are off).
func (g *Gateway) startJob(ctx context.Context, s *auth.Session, targets []target.Target, method string, args [][]any) (*jobs.Run, error) {
	if g.o.Jobs == nil {
		return nil, nil
	}
	run, err := g.o.Jobs.Start(ctx, jobs.Spec{Method: method, User: s.User, Targets: targets, Args: args})
	if err != nil {
		g.o.Logger.ErrorContext(ctx, "fan-out not sent: its job cannot be recorded", "method", method, "targets", len(targets), "err", err)
	}
	return run, err
}

// notSent is the outcome of a fan-out refused because it could not be
// recorded: every target gets the store's fault, and nothing was sent.
func notSent(targets []target.Target, err error) fanout.Results {
	f := storeFault(err)
	f = rpc.Faultf(f.Code, "%s (nothing was sent: the job could not be recorded)", f.String)
	out := make(fanout.Results, len(targets))
	for i, t := range targets {
		out[i] = fanout.Result{Target: t, Fault: f}
	}
	return out
}

// withJobID adds JobId to a multicast result when the fan-out was recorded.
func withJobID(res rpc.Struct, id string) rpc.Struct {
	if id == "" {
		return res
	}
	return append(res, rpc.Member{Name: "JobId", Value: id})
}

// Job returns a job of the session's user (REST and other edges).
func (g *Gateway) Job(ctx context.Context, s *auth.Session, id string) (*jobs.Job, error) {
	if g.o.Jobs == nil {
		return nil, rpc.Faultf(CodeUnknownJob, "hubgw: job recording is off on this gateway")
	}
	j, err := g.o.Jobs.Get(ctx, id)
	if errors.Is(err, jobs.ErrNotFound) || err == nil && j.User != s.User {
		return nil, rpc.Faultf(CodeUnknownJob, "hubgw: no job %q for this user (unknown, or expired after its retention)", id)
	}
	if err != nil {
		return nil, storeFault(err)
	}
	return j, nil
}

// Jobs lists the session's user's jobs, newest first, without targets.
func (g *Gateway) Jobs(ctx context.Context, s *auth.Session, limit int) ([]jobs.Job, error) {
	if g.o.Jobs == nil {
		return nil, nil
	}
	js, err := g.o.Jobs.List(ctx, jobs.Filter{User: s.User, Limit: limit})
	if err != nil {
		return nil, storeFault(err)
	}
	return js, nil
}

// getJob is hub.getJob(sessionKey, jobId).
func (g *Gateway) getJob(ctx context.Context, params []any) (any, error) {
	if len(params) != 2 {
		return nil, badParams("hub.getJob takes 2 arguments (the session key, a job id), got %d", len(params))
	}
	s, err := g.session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	id, ok := params[1].(string)
	if !ok {
		return nil, badParams("hub.getJob: the job id must be a string, not %s", rpc.TypeName(params[1]))
	}
	j, err := g.Job(ctx, s, id)
	if err != nil {
		return nil, err
	}
	return jobStruct(j, true), nil
}

// listJobs is hub.listJobs(sessionKey[, limit]).
func (g *Gateway) listJobs(ctx context.Context, params []any) (any, error) {
	if len(params) != 1 && len(params) != 2 {
		return nil, badParams("hub.listJobs takes the session key and, optionally, how many jobs (default 20), got %d arguments", len(params))
	}
	s, err := g.session(ctx, params[0])
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
	js, err := g.Jobs(ctx, s, limit)
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
			{Name: "ServerName", Value: t.Name},
			{Name: "Status", Value: t.Status},
			{Name: "Ok", Value: t.OK()},
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
		if v, err := jobs.Value(t.Result); err != nil {
			d = append(d, rpc.Member{Name: "ResultOmitted", Value: fmt.Sprintf("recorded result unreadable: %v", err)})
		} else if v != nil {
			d = append(d, rpc.Member{Name: "Result", Value: v})
		}
		if t.ResultOmitted != "" {
			d = append(d, rpc.Member{Name: "ResultOmitted", Value: t.ResultOmitted})
		}
		if args, err := jobs.Value(t.Args); err == nil && args != nil {
			d = append(d, rpc.Member{Name: "Args", Value: args})
		}
		ts[i] = d
	}
	return append(st, rpc.Member{Name: "Targets", Value: ts})
}
