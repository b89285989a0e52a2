package gateway

import (
	"context"
	"errors"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
	"github.com/hubgw/hubgw/gateway/uyuniapi"
)

// JobRecorder records requests and reads them back; *jobs.Recorder is one.
type JobRecorder interface {
	Start(ctx context.Context, spec jobs.Spec) (*jobs.Run, error)
	Get(ctx context.Context, id string) (*jobs.Job, error)
	List(ctx context.Context, f jobs.Filter) ([]jobs.Job, error)
}

// Recorded is the job rule, the same for every door: a job records what
// a client asked the servers to do. Recorded: every fan-out (more than one
// server, or a set the client named: all, a group, a list, a multicast),
// and every write (a method that is not read-only) to any server, the hub
// included. Not recorded: a read of one server, the gateway's own calls,
// calls without a user.
func Recorded(req Request) bool {
	if req.Internal || req.Session == nil || req.Session.User == "" {
		return false
	}
	return req.Many || len(req.Targets) > 1 || !uyuniapi.ReadOnly(req.Method)
}

// RecordJobs is the wrapper that records jobs by the job rule. Every
// target the client asked for is in the job, those that could not be
// reached (not attached, a failed login) with why. A request whose job
// cannot be recorded is not sent: every target gets the store's fault.
func (g *Gateway) RecordJobs() Wrapper {
	rec := g.o.Jobs
	return func(next Handler) Handler {
		if rec == nil {
			return next
		}
		return func(ctx context.Context, req Request) (Outcome, error) {
			if !Recorded(req) {
				return next(ctx, req)
			}
			args := make([][]any, len(req.Targets))
			for i := range req.Targets {
				args[i] = req.args(i)
			}
			run, err := rec.Start(ctx, jobs.Spec{Method: req.Method, User: req.Session.User, Targets: req.Targets, Args: args})
			if err != nil {
				g.o.Logger.ErrorContext(ctx, "request not sent: its job cannot be recorded", "method", req.Method, "targets", len(req.Targets), "err", err)
				return Outcome{Results: notSent(req.Targets, err)}, nil
			}
			prev := req.onResult
			req.onResult = func(i int, r fanout.Result) {
				run.Finished(i, r) // as each target answers, so a running job shows progress
				if prev != nil {
					prev(i, r)
				}
			}
			out, err := next(ctx, req)
			if err != nil {
				run.End(notSent(req.Targets, err))
				return out, err
			}
			run.End(out.Results)
			out.JobID = run.ID()
			return out, nil
		}
	}
}

// notSent is the outcome of a request refused as a whole: every target
// gets the fault, and nothing was sent.
func notSent(targets []target.Target, err error) fanout.Results {
	var f *rpc.Fault
	if !errors.As(err, &f) {
		sf := storeFault(err)
		f = rpc.Faultf(sf.Code, "%s (nothing was sent: the job could not be recorded)", sf.String)
	}
	out := make(fanout.Results, len(targets))
	for i, t := range targets {
		out[i] = fanout.Result{Target: t, Fault: f}
	}
	return out
}

// Job returns a job of the session's user.
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
