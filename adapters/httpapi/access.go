package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/hubgw/hubgw/gateway"
)

// The access line: one per request, written when it is over, with the
// request id (LogHandler), the client's address, the dialect, the method,
// the user, the targets and how they answered, the outcome (ok, partial:
// some targets failed, fault: the client got a fault or problem, error:
// HTTP 5xx), the fault code and the duration in ms. Inbound metrics count
// the same outcomes. Probes and metrics scrapes are counted, not logged.

// inbound are the metrics of client requests.
type inbound struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newInbound(reg prometheus.Registerer) *inbound {
	in := &inbound{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubgw_requests_total", Help: "Client requests by dialect and outcome (ok, partial, fault, error).",
		}, []string{"dialect", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hubgw_request_duration_seconds", Help: "Client request duration by dialect and outcome.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"dialect", "outcome"}),
	}
	if reg != nil {
		reg.MustRegister(in.requests, in.duration)
	}
	return in
}

// dialect names the door a request came in by, from its route.
func dialect(c echo.Context) string {
	p := c.Path()
	switch {
	case p == "/hub/rpc/api":
		return "hub-xmlrpc"
	case p == "/t/:target/rpc/api", p == "/t/*":
		return "targeted"
	case p == "/rpc/api":
		if _, aimed := c.Get(targetKey).(string); aimed {
			return "targeted"
		}
		return "xmlrpc"
	case strings.HasPrefix(p, "/api/v1"):
		return "rest"
	case strings.HasPrefix(p, "/rhn/manager/api"):
		return "native"
	case p == "/healthz", p == "/readyz", p == "/metrics":
		return "probe"
	}
	return "web"
}

// accessLog is the middleware that keeps each request's gateway.Access
// and writes its access line; with a tracer, it spans the request too
// (the access line then carries its trace id).
func accessLog(log *slog.Logger, in *inbound, tr trace.Tracer) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			a := &gateway.Access{}
			req := c.Request()
			ctx := gateway.WithAccess(req.Context(), a)
			var span trace.Span
			if tr != nil && dialect(c) != "probe" {
				ctx, span = startSpan(ctx, tr, req, c.Path())
			}
			c.SetRequest(req.WithContext(ctx))
			err := next(c)
			if err != nil {
				c.Error(err) // write it now, so its status is the one logged
			}
			status := c.Response().Status
			outcome := a.Outcome()
			if status >= 500 {
				outcome = "error"
			} else if status >= 400 && outcome == "ok" {
				outcome = "fault"
			}
			// After the route's own middleware: a stock client's target in
			// its basic auth makes a request "targeted".
			d, took := dialect(c), time.Since(start)
			in.requests.WithLabelValues(d, outcome).Inc()
			in.duration.WithLabelValues(d, outcome).Observe(took.Seconds())
			if d == "probe" {
				return nil
			}
			attrs := append([]slog.Attr{
				slog.String("client", gateway.Client(c.Request().Context())),
				slog.String("dialect", d),
				slog.String("http", req.Method+" "+bounded(req.URL.Path, 128)),
				slog.Int("status", status),
				slog.String("outcome", outcome),
				slog.Float64("ms", float64(took.Microseconds())/1000),
			}, a.Attrs()...)
			log.LogAttrs(c.Request().Context(), slog.LevelInfo, "access", attrs...)
			if span != nil {
				endSpan(span, d, status, outcome, a.Attrs())
			}
			return nil
		}
	}
}

func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// startSpan starts the server span of a client request, continuing the
// trace its traceparent header names (W3C Trace Context).
func startSpan(ctx context.Context, tr trace.Tracer, req *http.Request, route string) (context.Context, trace.Span) {
	ctx = propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(req.Header))
	return tr.Start(ctx, req.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
		attribute.String("http.request.method", req.Method),
		attribute.String("http.route", route),
	))
}

// endSpan ends it with what the access line says (user, method, target,
// targets and failed, fault code, job: the line's fields, so the span
// never holds more than the log does).
func endSpan(span trace.Span, d string, status int, outcome string, attrs []slog.Attr) {
	defer span.End()
	kv := []attribute.KeyValue{attribute.String("hubgw.dialect", d), attribute.Int("http.response.status_code", status), attribute.String("hubgw.outcome", outcome)}
	for _, a := range attrs {
		key := "hubgw." + a.Key
		switch a.Key {
		case "method":
			key = "rpc.method"
		case "user":
			key = "enduser.id"
		}
		if a.Value.Kind() == slog.KindInt64 {
			kv = append(kv, attribute.Int64(key, a.Value.Int64()))
		} else {
			kv = append(kv, attribute.String(key, a.Value.String()))
		}
	}
	span.SetAttributes(kv...)
	if outcome == "fault" || outcome == "error" {
		span.SetStatus(codes.Error, outcome)
	}
}
