// Package metrics exports hubgw's work to Prometheus: upstream calls and
// circuit breakers (this file), logins, jobs and the read cache (core.go),
// the state store (store.go) and the build (build.go). Servers are
// labelled by name (Target.String: the FQDN under sync.hub discovery, the
// hub's "hub"), as the logs name them.
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
	}
	reg.MustRegister(u.latency, u.errors, u.inFlight)
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
	server := c.Target.String()
	u.latency.WithLabelValues(server, u.classOf(c.Method)).Observe(r.Duration.Seconds())
	if k := fanout.Kind(r); k != "ok" {
		u.errors.WithLabelValues(server, k).Inc()
	}
}

// RegisterBreakers exports hubgw_breaker_state, read when scraped: every
// server in known (the hub, the configured and the discovered
// peripherals) from the start, closed (0) until its circuit says
// otherwise, and every circuit states reports (by server name), so a
// server whose circuit opened stays visible when it leaves the list.
func RegisterBreakers(reg prometheus.Registerer, known func() []string, states func() map[string]string) {
	reg.MustRegister(&breakers{
		desc:   prometheus.NewDesc("hubgw_breaker_state", "Circuit breaker state per server: 0 closed, 1 half-open, 2 open.", []string{"server"}, nil),
		known:  known,
		states: states,
	})
}

type breakers struct {
	desc   *prometheus.Desc
	known  func() []string
	states func() map[string]string
}

func (b *breakers) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b *breakers) Collect(ch chan<- prometheus.Metric) {
	states := b.states()
	seen := make(map[string]bool, len(states))
	emit := func(server, state string) {
		if seen[server] {
			return
		}
		seen[server] = true
		v := 0.0
		switch state {
		case "half-open":
			v = 1
		case "open":
			v = 2
		}
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, v, server)
	}
	for _, s := range b.known() {
		emit(s, states[s])
	}
	for s, st := range states {
		emit(s, st)
	}
}
