package httpapi

import (
	"log/slog"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

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
// and writes its access line.
func accessLog(log *slog.Logger, in *inbound) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			a := &gateway.Access{}
			req := c.Request()
			c.SetRequest(req.WithContext(gateway.WithAccess(req.Context(), a)))
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
