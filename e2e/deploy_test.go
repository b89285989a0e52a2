package e2e

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// Which build a replica runs is on /metrics from the start, before any traffic.
func TestBuildInfoMetric(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	_, metrics := get(t, g.Base+"/metrics")
	require.Regexp(t, regexp.MustCompile(`hubgw_build_info\{commit="[^"]+",date="[^"]+",goversion="`+regexp.QuoteMeta(runtime.Version())+`",version="[^"]+"\} 1`), metrics)
}

func hubCalls(sim *uyunisim.Sim, method string) int {
	n := 0
	for _, r := range sim.Hub().Calls() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// Every load balancer and monitor polls /readyz; a burst of probes costs
// the hub one api.getVersion, not one each.
func TestReadyzProbeStormIsOneHubCall(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	before := hubCalls(sim, "api.getVersion")
	var wg sync.WaitGroup
	statuses := make(chan int, 50)
	for range 50 {
		wg.Go(func() {
			resp, err := http.Get(g.Base + "/readyz")
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		require.Equal(t, http.StatusOK, s)
	}
	// One check, or two if the burst straddled the second an answer is kept.
	require.LessOrEqual(t, hubCalls(sim, "api.getVersion")-before, 2)
}

// A stopping gateway turns unready at once and keeps serving for
// drain-delay, so a load balancer stops sending before the listener closes.
func TestReadyzUnreadyWhileDraining(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	cfg := server.Defaults()
	cfg.HubURL = sim.Hub().URL()
	cfg.PeripheralScheme = "http"
	cfg.DrainDelay = 3 * time.Second
	srv, err := server.New(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l, cfg.Grace()) }()
	base := "http://" + l.Addr().String()
	status, _ := get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, status)

	start := time.Now()
	stop()
	status, body := get(t, base+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, status, "unready at once, cached answer or not")
	require.Contains(t, body, "draining")
	status, _ = get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, status, "still serving while draining")
	c := kolo(t, base+"/hub/rpc/api")
	mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin")
	require.NoError(t, <-done)
	require.GreaterOrEqual(t, time.Since(start), cfg.DrainDelay)
}
