package e2e

import (
	"crypto/tls"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	r := readResp(t, resp)
	return r.Status, string(r.Body)
}

// Operators read the gateway from outside: /metrics in Prometheus text,
// /healthz for the process, /readyz for the hub and the registry.
func TestMetricsHealthAndReadiness(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, func(c *server.Config) { c.BreakerFailures = 1; c.BreakerCooldown = 100 * time.Millisecond })
	c := kolo(t, g.URL)

	status, _ := get(t, g.Base+"/healthz")
	require.Equal(t, http.StatusOK, status)
	status, body := get(t, g.Base+"/readyz")
	require.Equal(t, http.StatusOK, status, body)

	res := mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin")
	key := member(res, "SessionKey").(string)
	down := sim.Peripherals()[1]
	require.NoError(t, down.Inject(uyunisim.Faults{Down: true}))
	mustCall(t, c, "broadcast.system.listSystems", key, "all")
	mustCall(t, c, "broadcast.channel.software.getDetails", key, "all", "no-such-channel")

	// Servers are labelled by name, as the logs name them: the FQDN
	// under sync.hub discovery.
	up := regexp.QuoteMeta(sim.Peripherals()[0].FQDN())
	_, metrics := get(t, g.Base+"/metrics")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`hubgw_upstream_duration_seconds_count\{[^}]*class="read"[^}]*server="` + up + `"[^}]*\} [1-9]`),
		regexp.MustCompile(`hubgw_upstream_duration_seconds_count\{[^}]*class="auth"[^}]*server="hub"[^}]*\} [1-9]`),
		regexp.MustCompile(`hubgw_upstream_errors_total\{[^}]*kind="transport"[^}]*server="` + regexp.QuoteMeta(down.FQDN()) + `"[^}]*\} [1-9]`),
		regexp.MustCompile(`hubgw_upstream_errors_total\{[^}]*kind="fault"[^}]*server="` + up + `"[^}]*\} [1-9]`),
		regexp.MustCompile(`hubgw_breaker_state\{server="` + regexp.QuoteMeta(down.FQDN()) + `"\} 2`),
		regexp.MustCompile(`hubgw_upstream_in_flight(\{[^}]*\})? 0`),
		regexp.MustCompile(`hubgw_upstream_connections_total [1-9]`),
	} {
		require.Regexp(t, want, metrics)
	}
	require.NotContains(t, metrics, key, "no session key in metrics")

	// The hub going away makes the gateway unready, and ready again after
	// (within a second or so: readiness answers are reused that long).
	require.NoError(t, sim.Hub().Inject(uyunisim.Faults{Down: true}))
	require.Eventually(t, func() bool {
		status, body = get(t, g.Base+"/readyz")
		return status == http.StatusServiceUnavailable
	}, 5*time.Second, 50*time.Millisecond)
	require.Contains(t, body, "hub")
	require.NotContains(t, body, sim.Hub().FQDN(), "/readyz answers anyone: no internal address (issue 12)")
	require.NotContains(t, body, "http")
	// Readiness asks through the same stack as every call, so it is ready
	// again when calls would get through: once the hub's circuit, opened
	// by the failures, lets a call through after its cooldown.
	require.NoError(t, sim.Hub().ClearFaults())
	require.Eventually(t, func() bool {
		status, _ := get(t, g.Base+"/readyz")
		return status == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
}

// Stopping the gateway lets calls in flight finish: the client gets its
// answer, not a reset connection, and new connections are refused.
func TestGracefulShutdownFinishesInFlightCalls(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	c := kolo(t, g.URL)
	res := mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin")
	key := member(res, "SessionKey").(string)

	// The peripheral answers slowly; the call is in flight when the stop comes.
	p := sim.Peripherals()[0]
	require.NoError(t, p.Inject(uyunisim.Faults{Latency: 700 * time.Millisecond}))
	type answer struct {
		v   any
		err string
	}
	got := make(chan answer, 1)
	go func() {
		v, f := call(t, c, "unicast.system.listSystems", key, p.ID())
		a := answer{v: v}
		if f != nil {
			a.err = f.String
		}
		got <- a
	}()
	require.Eventually(t, func() bool {
		for _, r := range p.Calls() {
			if r.Method == "system.listSystems" {
				return true
			}
		}
		return false
	}, 10*time.Second, 5*time.Millisecond, "the call reached the peripheral")
	stopped := make(chan error, 1)
	go func() { stopped <- g.Stop() }()
	a := <-got
	require.Empty(t, a.err)
	require.NotEmpty(t, a.v, "the in-flight call got its answer")
	require.NoError(t, <-stopped)
	_, err := http.Get(g.Base + "/healthz")
	require.Error(t, err, "a stopped gateway accepts no new connections")
}

// Peripherals speak HTTPS in production: a per-peripheral CA file makes
// the gateway trust a private CA, and without it the certificate is
// refused, as one failed target among the others.
func TestPeripheralTLSWithCAFile(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	p := sim.Peripherals()[0]
	upstream, err := url.Parse(p.URL())
	require.NoError(t, err)
	tlsFront := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: upstream.Host}))
	t.Cleanup(tlsFront.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsFront.Certificate().Raw}), 0o600))

	for _, tt := range []struct {
		name    string
		ca      string
		wantOK  bool
		wantErr string
	}{
		{"trusted with the CA file", caFile, true, ""},
		{"refused without it", "", false, "certificate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := startGateway(t, sim, func(c *server.Config) {
				c.Peripherals = map[string]server.Peripheral{p.FQDN(): {URL: tlsFront.URL + "/rpc/api", CAFile: tt.ca}}
			})
			c := kolo(t, g.URL)
			res := mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin")
			key := member(res, "SessionKey").(string)
			if tt.wantErr != "" {
				require.Contains(t, member(res, "Failed", "Responses").([]any)[0], tt.wantErr)
			}
			// The login over TLS, tried again on demand, fails again.
			res = requireTLSOutcome(t, c, key, p, sim.Peripherals()[1], tt.wantOK, "certificate")
			if !tt.wantOK {
				failed := member(res, "Failed", "Responses").([]any)
				require.Len(t, failed, 1)
			}
		})
	}
	require.True(t, strings.HasPrefix(tlsFront.URL, "https://"))
}

// requireTLSOutcome broadcasts system.listSystems to p, reached over TLS,
// and other: p answers when wantOK, else it is a transport fault naming
// want; other answers either way. It returns the broadcast's answer.
func requireTLSOutcome(t *testing.T, c *koloClient, key string, p, other *uyunisim.Server, wantOK bool, want string) any {
	t.Helper()
	res := mustCall(t, c, "broadcast.system.listSystems", key, anys(p.ID(), other.ID()))
	results := member(res, "Results").([]any)
	first := results[0].(map[string]any)
	require.Equal(t, wantOK, first["Ok"], "%v", first)
	require.Equal(t, true, results[1].(map[string]any)["Ok"], "the other peripheral is unaffected")
	if !wantOK {
		require.Equal(t, int64(gateway.CodeUnreachable), first["FaultCode"], "a transport fault for that server")
		require.Contains(t, first["FaultString"], want)
	}
	return res
}

// A peripheral that requires client certificates (mutual TLS) answers
// through the gateway only when one is configured for it; without one,
// it is one failed target among the others, and a key every user could
// read stops the start with a clear error.
func TestPeripheralMutualTLS(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	p := sim.Peripherals()[0]
	upstream, err := url.Parse(p.URL())
	require.NoError(t, err)
	ca := newCA(t)
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: upstream.Host})
	var shownMu sync.Mutex
	var shown []int64 // the serials of the client certificates, by request
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shownMu.Lock()
		shown = append(shown, r.TLS.PeerCertificates[0].SerialNumber.Int64())
		shownMu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	front.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool(), MinVersion: tls.VersionTLS12}
	front.StartTLS()
	t.Cleanup(front.Close)
	dir := t.TempDir()
	frontCA := filepath.Join(dir, "front-ca.pem")
	require.NoError(t, os.WriteFile(frontCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}), 0o600))
	clientCert, clientKey := ca.issue(t, dir, 7)
	with := func(cert, key string) func(*server.Config) {
		return func(c *server.Config) {
			c.Peripherals = map[string]server.Peripheral{p.FQDN(): {URL: front.URL + "/rpc/api", CAFile: frontCA, ClientCert: cert, ClientKey: key}}
		}
	}

	for _, tt := range []struct {
		name       string
		cert, key  string
		wantOK     bool
		wantString string
	}{
		{"answers with the client certificate", clientCert, clientKey, true, ""},
		{"refused without it", "", "", false, "certificate required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := startGateway(t, sim, with(tt.cert, tt.key))
			c := kolo(t, g.URL)
			key := member(mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin"), "SessionKey").(string)
			requireTLSOutcome(t, c, key, p, sim.Peripherals()[1], tt.wantOK, tt.wantString)
		})
	}

	t.Run("a renewed certificate is shown on new connections", func(t *testing.T) {
		renewed := t.TempDir()
		cert, key := ca.issue(t, renewed, 8)
		g := startGateway(t, sim, with(cert, key))
		c := kolo(t, g.URL)
		gwKey := member(mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin"), "SessionKey").(string)
		last := func() int64 {
			t.Helper()
			// A call may pick a kept-alive connection the front has just
			// closed, before the gateway's transport has read its EOF: a
			// transport fault (4103) the client calls again after, once.
			if _, f := call(t, c, "unicast.system.listSystems", gwKey, p.ID()); f != nil {
				require.Equal(t, gateway.CodeUnreachable, f.Code, "%v", f)
				mustCall(t, c, "unicast.system.listSystems", gwKey, p.ID())
			}
			shownMu.Lock()
			defer shownMu.Unlock()
			return shown[len(shown)-1]
		}
		require.Equal(t, int64(8), last())
		ca.issue(t, renewed, 9) // the same files, rewritten
		require.Equal(t, int64(8), last(), "an open connection keeps its certificate")
		front.CloseClientConnections() // the next call makes a new one
		require.Equal(t, int64(9), last())
	})

	t.Run("a world-readable key is refused at start", func(t *testing.T) {
		require.NoError(t, os.Chmod(clientKey, 0o644))
		cfg := server.Defaults()
		cfg.HubURL = sim.Hub().URL()
		with(clientCert, clientKey)(&cfg)
		_, err := server.New(cfg, slog.New(slog.DiscardHandler))
		require.ErrorContains(t, err, "peripherals."+p.FQDN()+".client-key "+clientKey+": mode 0644")
		require.ErrorContains(t, err, "chmod 600")
	})
}

// hub.logout ends the session upstream too: the hub and every attached
// peripheral get auth.logout with their own key.
func TestLogoutFansOut(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	c := kolo(t, g.URL)
	res := mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin")
	key := member(res, "SessionKey").(string)
	mustCall(t, c, "hub.logout", key)
	for _, s := range append(sim.Peripherals(), sim.Hub()) {
		var logouts int
		for _, r := range s.Calls() {
			if r.Method == "auth.logout" {
				logouts++
			}
		}
		require.Equal(t, 1, logouts, "%s got auth.logout", s.Name())
	}
	mustFault(t, c, -1, "Could not find session", "broadcast.system.listSystems", key, "all")
}

// Hubs older than sync.hub are discovered through the peripheral_server
// entitlement (names and FQDNs), and legacy hubs through their systems.
func TestDiscoveryOnOlderHubs(t *testing.T) {
	for _, mode := range []string{uyunisim.DiscoverySyncHub, uyunisim.DiscoveryEntitlement, uyunisim.DiscoveryLegacy} {
		t.Run(mode, func(t *testing.T) {
			sim := startSim(t, uyunisim.Config{Peripherals: 2, Discovery: mode})
			g := startGateway(t, sim, nil)
			c := kolo(t, g.URL)
			res := mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin")
			key := member(res, "SessionKey").(string)
			require.Len(t, member(res, "Successful", "ServerIds"), 2, "%v", member(res, "Failed"))
			res = mustCall(t, c, "broadcast.system.listSystems", key, "all")
			require.Equal(t, true, member(res, "Complete"))
			name := member(res, "Results").([]any)[0].(map[string]any)["ServerName"]
			if mode == uyunisim.DiscoverySyncHub {
				require.Equal(t, sim.Peripherals()[0].FQDN(), name, "sync.hub names peripherals by FQDN")
			} else {
				require.Equal(t, sim.Peripherals()[0].Name(), name)
			}
		})
	}
}

// The core's metrics move with what clients do: logins by outcome, jobs,
// read cache hits and misses, the state store's operations; and the
// breaker gauge names every peripheral from the start, before any call.
func TestCoreMetrics(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	p0, p1 := sim.Peripherals()[0], sim.Peripherals()[1]
	g := startGateway(t, sim, func(c *server.Config) {
		c.ReadCache = "channel.listAllChannels=1m"
		c.LoginFailures, c.LoginRefill = 1, time.Hour
		// Configured peripherals (here with only a time zone) are known
		// before discovery.
		c.Peripherals = map[string]server.Peripheral{p0.FQDN(): {Timezone: "UTC"}, p1.FQDN(): {Timezone: "UTC"}}
	})
	scrape := func() string {
		t.Helper()
		status, body := get(t, g.Base+"/metrics")
		require.Equal(t, http.StatusOK, status)
		return body
	}
	series := func(name, labels string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^` + name + `\{` + labels + `\} `)
	}
	breakerLines := func(metrics string) []string {
		return regexp.MustCompile(`(?m)^hubgw_breaker_state\{.*$`).FindAllString(metrics, -1)
	}
	start := scrape()
	want := []string{
		`hubgw_breaker_state{server="` + p0.FQDN() + `"} 0`,
		`hubgw_breaker_state{server="` + p1.FQDN() + `"} 0`,
		`hubgw_breaker_state{server="hub"} 0`,
	}
	require.ElementsMatch(t, want, breakerLines(start), "every server, closed, before any call")
	require.Regexp(t, `(?m)^hubgw_readcache_requests_total\{result="hit"\} 0$`, start)
	require.Regexp(t, `(?m)^hubgw_jobs_running 0$`, start)

	c := kolo(t, g.URL)
	res := mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin")
	key := member(res, "SessionKey").(string)
	require.ElementsMatch(t, want, breakerLines(scrape()), "discovered by the names configured: listed once")
	for range 2 {
		mustCall(t, c, "unicast.channel.listAllChannels", key, p0.ID())
	}
	mustCall(t, c, "broadcast.system.listSystems", key, "all")
	mustFault(t, c, 2950, "", "hub.login", "admin", "wrong")
	mustFault(t, c, gateway.CodeThrottled, "", "hub.login", "admin", "wrong")

	m := scrape()
	for _, tt := range []struct{ name, labels, value string }{
		{"hubgw_logins_total", `mode="autoconnect",outcome="ok"`, "1"},
		{"hubgw_logins_total", `mode="manual",outcome="bad_credentials"`, "1"},
		{"hubgw_logins_total", `mode="manual",outcome="throttled"`, "1"},
		{"hubgw_readcache_requests_total", `result="hit"`, "1"},
		{"hubgw_readcache_requests_total", `result="miss"`, "1"},
		{"hubgw_jobs_total", `status="ok"`, "1"},
	} {
		require.Regexp(t, regexp.MustCompile(series(tt.name, tt.labels).String()+regexp.QuoteMeta(tt.value)+`$`), m, "%s{%s}", tt.name, tt.labels)
	}
	require.Regexp(t, `(?m)^hubgw_jobs_running 0$`, m)
	require.Regexp(t, series("hubgw_store_operation_duration_seconds_count", `op="get",store="memory"`).String()+`[1-9]`, m)
	require.Regexp(t, series("hubgw_store_operation_duration_seconds_count", `op="batch",store="memory"`).String()+`[1-9]`, m, "the job's record")
	require.Regexp(t, series("hubgw_store_errors_total", `op="get",store="memory"`).String()+`0$`, m, "listed from the start")
	require.NotRegexp(t, `(?m)^hubgw_store_errors_total\{.*\} [1-9]`, m, "no store operation failed")
}
