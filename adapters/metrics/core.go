package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Core counts what the gateway's core does for its clients: logins by
// outcome (gateway.Options.OnLogin), jobs recorded and running (a
// jobs.Observer).
type Core struct {
	logins  *prometheus.CounterVec
	jobs    *prometheus.CounterVec
	running prometheus.Gauge
}

// NewCore registers the core's metrics with reg.
func NewCore(reg prometheus.Registerer) *Core {
	c := &Core{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubgw_logins_total",
			Help: "Gateway logins by session mode (manual, relay, autoconnect) and outcome (ok, bad_credentials, throttled, error).",
		}, []string{"mode", "outcome"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubgw_jobs_total",
			Help: "Jobs recorded, by how they ended: ok (every server answered), partial, failed (none did), unrecorded (the record could not be started, so nothing was sent).",
		}, []string{"status"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hubgw_jobs_running",
			Help: "Jobs this replica is running.",
		}),
	}
	reg.MustRegister(c.logins, c.jobs, c.running)
	return c
}

// RegisterReadCache exports hubgw_readcache_requests_total from the read
// cache's own counts (stats: hits and misses since start; nil when no
// read cache is configured: always 0).
func RegisterReadCache(reg prometheus.Registerer, cacheStats func() (hits, misses int64)) {
	if cacheStats == nil {
		cacheStats = func() (int64, int64) { return 0, 0 }
	}
	for _, result := range []string{"hit", "miss"} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "hubgw_readcache_requests_total",
			Help:        "Reads the read cache was asked for (allowlisted methods), by result: hit (answered from the store) or miss (sent upstream).",
			ConstLabels: prometheus.Labels{"result": result},
		}, func() float64 {
			hits, misses := cacheStats()
			if result == "hit" {
				return float64(hits)
			}
			return float64(misses)
		}))
	}
}

// Login counts a login.
func (c *Core) Login(mode, outcome string) { c.logins.WithLabelValues(mode, outcome).Inc() }

// JobStarted counts a job starting; JobEnded follows it once.
func (c *Core) JobStarted() { c.running.Inc() }

// JobEnded counts a job by how it ended.
func (c *Core) JobEnded(status string) {
	c.running.Dec()
	c.jobs.WithLabelValues(status).Inc()
}
