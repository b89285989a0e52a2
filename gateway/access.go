package gateway

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/uyuniapi"
)

// Access is what one client request did, for its access line: an edge
// puts one in the request's context (WithAccess) and logs it when the
// request is over; the core notes the user, the method, the targets and
// how they answered as the request goes through Do, and the edge the
// fault it rendered, if any.
type Access struct {
	mu        sync.Mutex
	user      string
	method    string
	target    string // the target expression the client wrote, if it wrote one
	targets   int
	failed    int
	jobID     string
	faultCode int
}

type accessKey struct{}

// WithAccess returns a context whose requests note what they did in a.
func WithAccess(ctx context.Context, a *Access) context.Context {
	return context.WithValue(ctx, accessKey{}, a)
}

// AccessOf returns the request's Access (nil, which notes nothing, when
// the edge keeps none).
func AccessOf(ctx context.Context) *Access { return accessFrom(ctx) }

func accessFrom(ctx context.Context) *Access {
	a, _ := ctx.Value(accessKey{}).(*Access)
	return a
}

// NoteMethod records the method the client called, as it called it.
func (a *Access) NoteMethod(method string) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.method = method
}

// NoteFault records the fault the client was answered with.
func (a *Access) NoteFault(code int) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faultCode = code
}

func (a *Access) noteUser(user string) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.user = user
}

// noteTarget records the targets as the client named them (Resolve).
func (a *Access) noteTarget(refs []string) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.target = strings.Join(refs, ",")
}

// note records a request through Do (the last one counts; most client
// requests make one).
func (a *Access) note(req Request, out Outcome) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if req.Session != nil {
		a.user = req.Session.User
	}
	if a.method == "" {
		a.method = req.Method
	}
	a.targets, a.failed, a.jobID = len(req.Targets), 0, out.JobID
	for _, r := range out.Results {
		if !r.OK() {
			a.failed++
		}
	}
}

// Outcome is ok, fault (the client got a fault), or partial (some of the
// targets failed, the answer says which).
func (a *Access) Outcome() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.faultCode != 0:
		return "fault"
	case a.failed > 0:
		return "partial"
	}
	return "ok"
}

// Attrs are the access line's fields (bounded: names and methods are
// cut, as everything a client sent).
func (a *Access) Attrs() []slog.Attr {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []slog.Attr{slog.String("user", bounded(a.user, 64)), slog.String("method", bounded(a.method, 128))}
	if a.target != "" {
		out = append(out, slog.String("target", bounded(a.target, 128)))
	}
	if a.targets > 0 {
		out = append(out, slog.Int("targets", a.targets), slog.Int("failed", a.failed))
	}
	if a.faultCode != 0 {
		out = append(out, slog.Int("fault_code", a.faultCode))
	}
	if a.jobID != "" {
		out = append(out, slog.String("job", a.jobID))
	}
	return out
}

// bounded cuts a client-chosen string for logs, on a rune boundary.
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// maxAuditTargets bounds the targets an audit line names.
const maxAuditTargets = 20

// audit writes one line for a request that may change something (a
// method that is not read-only): who, what, where, how it went, and the
// job that has the details. The gateway's own writes for the desired-state
// engine are audited too: they are the user's changes.
func (g *Gateway) audit(ctx context.Context, req Request, out Outcome, err error) {
	if uyuniapi.ReadOnly(req.Method) || strings.HasPrefix(req.Method, "auth.") {
		return
	}
	user := ""
	if req.Session != nil {
		user = req.Session.User
	}
	var ok, failed []string
	for _, r := range out.Results {
		if r.OK() {
			ok = append(ok, r.Target.String())
		} else {
			failed = append(failed, r.Target.String()+" ("+fanout.Kind(r)+")")
		}
	}
	attrs := []any{"user", bounded(user, 64), "method", bounded(req.Method, 128), "targets", len(req.Targets),
		"succeeded", names(ok), "failed", names(failed)}
	if out.JobID != "" {
		attrs = append(attrs, "job", out.JobID)
	}
	if err != nil {
		attrs = append(attrs, "refused", AsFault(err).Code)
	}
	g.o.Logger.InfoContext(ctx, "audit", attrs...)
}

func names(ns []string) string {
	if len(ns) > maxAuditTargets {
		return strings.Join(ns[:maxAuditTargets], ",") + ",…(" + strconv.Itoa(len(ns)-maxAuditTargets) + " more)"
	}
	return strings.Join(ns, ",")
}
