package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hubgw/hubgw/buildinfo"
)

// RegisterBuildInfo exports hubgw_build_info, always 1, labelled with what
// `hubgw version` prints, so dashboards can tell which build each replica runs.
func RegisterBuildInfo(reg prometheus.Registerer, i buildinfo.Info) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hubgw_build_info",
		Help: "hubgw's build: version, commit, build date and Go version; always 1.",
		ConstLabels: prometheus.Labels{
			"version":   i.Version,
			"commit":    i.Commit,
			"date":      i.Date,
			"goversion": i.GoVersion,
		},
	})
	g.Set(1)
	reg.MustRegister(g)
}
