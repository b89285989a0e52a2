package e2e

import (
	"regexp"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// Which build a replica runs is on /metrics from the start, before any traffic.
func TestBuildInfoMetric(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	_, metrics := get(t, g.Base+"/metrics")
	require.Regexp(t, regexp.MustCompile(`hubgw_build_info\{commit="[^"]+",date="[^"]+",goversion="`+regexp.QuoteMeta(runtime.Version())+`",version="[^"]+"\} 1`), metrics)
}
