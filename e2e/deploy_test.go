package e2e

import (
	"bytes"
	"compress/gzip"
	"io"
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
	const delay = 3 * time.Second
	g := startGateway(t, sim, func(c *server.Config) { c.DrainDelay = delay })
	status, _ := get(t, g.Base+"/readyz")
	require.Equal(t, http.StatusOK, status)

	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- g.Stop() }()
	require.Eventually(t, func() bool {
		status, _ = get(t, g.Base+"/readyz")
		return status == http.StatusServiceUnavailable
	}, delay/2, 10*time.Millisecond, "unready at once, cached answer or not")
	_, body := get(t, g.Base+"/readyz")
	require.Contains(t, body, "draining")
	status, _ = get(t, g.Base+"/healthz")
	require.Equal(t, http.StatusOK, status, "still serving while draining")
	mustCall(t, kolo(t, g.URL), "hub.loginWithAutoconnectMode", "admin", "admin")
	require.NoError(t, <-stopped)
	require.GreaterOrEqual(t, time.Since(start), delay)
}

// fetch GETs path with the given request headers and returns the answer
// with its body as sent (not decompressed).
func fetch(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// Whoever opens the gateway's address in a browser, or curls /api/v1,
// finds what it serves.
func TestLandingPage(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	for _, tc := range []struct{ path, accept, contentType string }{
		{"/", "text/html,application/xhtml+xml,*/*;q=0.8", "text/html"},
		{"/", "", "text/html"},
		{"/api/v1", "text/html,*/*;q=0.8", "text/html"},
		{"/api/v1", "application/json", "application/json"},
		{"/api/v1", "", "application/json"},
	} {
		t.Run(tc.path+" "+tc.accept, func(t *testing.T) {
			resp, body := fetch(t, g.Base+tc.path, "Accept", tc.accept)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
			require.Contains(t, resp.Header.Get("Content-Type"), tc.contentType)
			for _, href := range []string{"/ui/", "/docs/", "/openapi.json", "/metrics"} {
				if tc.contentType == "text/html" {
					require.Contains(t, string(body), `<a href="`+href+`">`)
				} else {
					require.Contains(t, string(body), `"href":"`+href+`"`)
				}
			}
			// Each GET link it shows answers.
			for _, m := range regexp.MustCompile(`<a href="([^"]+)">`).FindAllStringSubmatch(string(body), -1) {
				status, _ := get(t, g.Base+m[1])
				require.Equal(t, http.StatusOK, status, m[1])
			}
		})
	}
}

// The OpenAPI document and Swagger UI's assets are megabytes: gzipped for
// clients that accept it, plain for those that do not.
func TestLargeAnswersAreGzipped(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	for _, path := range []string{"/openapi.json", "/openapi.yaml", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/ui/console.js"} {
		t.Run(path, func(t *testing.T) {
			plainResp, plain := fetch(t, g.Base+path)
			require.Equal(t, http.StatusOK, plainResp.StatusCode)
			require.Empty(t, plainResp.Header.Get("Content-Encoding"))

			resp, zipped := fetch(t, g.Base+path, "Accept-Encoding", "gzip")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
			require.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding")
			zr, err := gzip.NewReader(bytes.NewReader(zipped))
			require.NoError(t, err)
			unzipped, err := io.ReadAll(zr)
			require.NoError(t, err)
			require.Equal(t, plain, unzipped)
			require.Less(t, len(zipped), len(plain)/2, "%d bytes gzipped, %d plain", len(zipped), len(plain))
		})
	}
	// Small answers are not worth compressing.
	resp, _ := fetch(t, g.Base+"/healthz", "Accept-Encoding", "gzip")
	require.Empty(t, resp.Header.Get("Content-Encoding"))
}
