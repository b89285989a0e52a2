// Package metrics exports the fan-out engine's work to Prometheus.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hubgw/hubgw/gateway/fanout"
)

// Upstream observes every upstream call: latency per server and method
// class, errors by kind, calls in flight, and circuit breaker states.
type Upstream struct {
	latency  *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	inFlight prometheus.Gauge
	breaker  *prometheus.GaugeVec
	classOf  func(string) string
}

// NewUpstream registers the metrics with reg. class names a method's class
// ("read", "write", "auth"); dials reports upstream TCP connections opened.
func NewUpstream(reg prometheus.Registerer, class func(method string) string, dials func() int64) *Upstream {
	u := &Upstream{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hubgw_upstream_duration_seconds",
			Help:    "Time for one upstream call, queueing and retries included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"server", "class"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubgw_upstream_errors_total",
			Help: "Upstream calls that did not return a value, by kind (fault, timeout, transport, circuit_open, canceled).",
		}, []string{"server", "kind"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hubgw_upstream_in_flight",
			Help: "Upstream calls in flight.",
		}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hubgw_breaker_state",
			Help: "Circuit breaker state per server: 0 closed, 1 half-open, 2 open.",
		}, []string{"server"}),
	}
	reg.MustRegister(u.latency, u.errors, u.inFlight, u.breaker)
	if dials != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "hubgw_upstream_connections_total",
			Help: "Upstream TCP connections opened; flat in steady state, as connections are reused.",
		}, func() float64 { return float64(dials()) }))
	}
	u.classOf = class
	return u
}

func (u *Upstream) Started(fanout.Call) { u.inFlight.Inc() }

func (u *Upstream) Finished(c fanout.Call, r fanout.Result) {
	u.inFlight.Dec()
	server := c.Target.Key()
	u.latency.WithLabelValues(server, u.classOf(c.Method)).Observe(r.Duration.Seconds())
	if k := fanout.Kind(r); k != "ok" {
		u.errors.WithLabelValues(server, k).Inc()
	}
}

// BreakerChanged is a fanout.BreakerSettings.OnChange hook.
func (u *Upstream) BreakerChanged(server, _, to string) {
	v := 0.0
	switch to {
	case "half-open":
		v = 1
	case "open":
		v = 2
	}
	u.breaker.WithLabelValues(server).Set(v)
}
