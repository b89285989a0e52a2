package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// benchClient is the same lean XML-RPC client for the direct and the
// gateway runs, so the difference between them is the gateway.
type benchClient struct {
	hc  *http.Client
	url string
}

func newBenchClient(url string) *benchClient {
	return &benchClient{url: url, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
}

// call reads the whole answer into a buffer sized by Content-Length and
// validates it (the decoder's validate-only path), as a careful client
// would; it builds no values, so the client's own parsing, on the same two
// cores, weighs as little as it can on the figures.
func (c *benchClient) call(method string, params ...any) (any, error) {
	body, err := xmlrpc.AppendCall(nil, method, params...)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Post(c.url, "text/xml", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var b []byte
	if resp.ContentLength >= 0 {
		b = make([]byte, resp.ContentLength)
		_, err = io.ReadFull(resp.Body, b)
	} else {
		b, err = io.ReadAll(resp.Body)
	}
	if err != nil {
		return nil, err
	}
	return xmlrpc.DecodeResponseRaw(b, xmlrpc.Limits{MaxBytes: 1 << 30})
}

// warm opens the connections a run at this concurrency needs, so the
// run measures steady state.
func warm(b *testing.B, conc int, call func() (any, error)) {
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if _, err := call(); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

// measure runs call b.N times at concurrency conc (2 cores: RunParallel's
// goroutines are GOMAXPROCS × parallelism), records each call's time and
// returns the calls per second. warmed, when set, is called once the
// connections are open.
func measure(b *testing.B, conc int, lats *latencies, call func() (any, error), warmed func()) float64 {
	warm(b, conc, call)
	if warmed != nil {
		warmed()
	}
	b.ResetTimer()
	run := func() {
		start := time.Now()
		if _, err := call(); err != nil {
			b.Error(err)
		}
		lats.add(time.Since(start))
	}
	if conc == 1 {
		for b.Loop() {
			run()
		}
	} else {
		b.SetParallelism(max(conc/2, 1))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				run()
			}
		})
	}
	b.StopTimer()
	rps := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rps, "req/s")
	return rps
}

// latencies records per-call times and reports p50 and p99.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B, base time.Duration) {
	slices.Sort(l.d)
	if len(l.d) == 0 {
		return
	}
	p50, p99 := l.d[len(l.d)/2], l.d[len(l.d)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	if base > 0 {
		b.ReportMetric(float64(p50)/float64(base), "p50/latency")
	}
}

// benchLogin logs in in autoconnect mode and returns the session key.
func benchLogin(b *testing.B, c *benchClient) string {
	b.Helper()
	res, err := c.call("hub.loginWithAutoconnectMode", "admin", "admin")
	if err != nil {
		b.Fatal(err)
	}
	v, _ := res.(xmlrpc.Raw).Decode()
	key, _ := v.(rpc.Struct).Get("SessionKey")
	return key.(string)
}

// benchGateway is a gateway sized for load runs in front of sim.
func benchGateway(b *testing.B, sim *uyunisim.Sim) *gw {
	return startGateway(b, sim, func(c *server.Config) {
		c.MaxPerServer = 64
		c.MaxConcurrency = 4096
		c.RequestTimeout = 30 * time.Second
	})
}

// BenchmarkUnicast compares calling the peripheral directly with calling
// it through the gateway, run as its own process (hubgw serve, as in
// BenchmarkMulticast, so its CPU is its own and its settings those it
// ships with), with no latency and with 20 ms. Each gateway run reports
// of-direct, its req/s over the direct run's just before it, and
// gw-CPU-µs/op, the gateway process's CPU time per call: what the gateway
// adds, which unlike req/s hardly depends on what else the machine runs.
// With BENCH_BASE_HUBGW, the base build runs each case too. The floor,
// build=relay, is benchrelay --unicast: a net/http program that passes
// the peripheral's answer on and does nothing else.
func BenchmarkUnicast(b *testing.B) {
	builds := hubgwBuilds(b)
	relayBin := build(b, "e2e/internal/benchrelay")
	for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
		sim, err := uyunisim.Start(context.Background(), uyunisim.Config{Peripherals: 1, Systems: 100, Faults: uyunisim.Faults{Latency: lat}, MaxCalls: 1})
		if err != nil {
			b.Fatal(err)
		}
		p := sim.Peripherals()[0]
		direct := newBenchClient(p.URL())
		v, err := direct.call("auth.login", "admin", "admin")
		if err != nil {
			b.Fatal(err)
		}
		pv, _ := v.(xmlrpc.Raw).Decode()
		pkey := pv.(string)
		type gwRun struct {
			name string
			proc *hubgwProcess
			c    *benchClient
			key  string
		}
		var gws []gwRun
		for _, bld := range builds {
			proc := startHubgwProcess(b, bld.bin, sim)
			c := newBenchClient(proc.url)
			gws = append(gws, gwRun{bld.name, proc, c, benchLogin(b, c)})
		}
		relay := startRelayProcess(b, relayBin, sim, "--unicast")
		gws = append(gws, gwRun{"relay", relay, newBenchClient(relay.url), ""})
		for _, conc := range []int{1, 32} {
			var directRPS float64
			b.Run(fmt.Sprintf("latency=%s/conc=%d/direct", lat, conc), func(b *testing.B) {
				var lats latencies
				directRPS = measure(b, conc, &lats, func() (any, error) { return direct.call("system.listSystems", pkey) }, nil)
				lats.report(b, lat)
			})
			for _, g := range gws {
				b.Run(fmt.Sprintf("latency=%s/conc=%d/build=%s", lat, conc, g.name), func(b *testing.B) {
					var lats latencies
					var dials float64
					var cpu time.Duration
					isRelay := g.name == "relay"
					rps := measure(b, conc, &lats, func() (any, error) { return g.c.call("unicast.system.listSystems", g.key, p.ID()) },
						func() {
							if !isRelay {
								dials = g.proc.metric(b, "hubgw_upstream_connections_total")
							}
							cpu = g.proc.cpu(b)
						})
					cpu = g.proc.cpu(b) - cpu
					lats.report(b, lat)
					if directRPS > 0 {
						b.ReportMetric(rps/directRPS, "of-direct")
					}
					b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "gw-CPU-µs/op")
					if !isRelay {
						b.ReportMetric((g.proc.metric(b, "hubgw_upstream_connections_total")-dials)*1000/float64(b.N), "new-conns/1000calls")
					}
				})
			}
		}
		for _, g := range gws {
			g.proc.stop(b)
		}
		sim.Close()
	}
}

// BenchmarkMulticast runs the gateway as its own process (hubgw serve), so
// its peak RSS and CPU are its own: the simulated peripherals and the load
// client live in the benchmark's process. Peak RSS is reset before each
// run (/proc/<pid>/clear_refs) and read after it (VmHWM), and compared
// with the bytes of the upstream responses in flight (conc × peripherals
// × one response); CPU-s/GB is the process's CPU time (utime + stime)
// over the run per GB of answers delivered to the client. With
// BENCH_BASE_HUBGW naming another hubgw binary (make bench builds main's),
// each case runs on it too (build=base) right before this tree's
// (build=this), against the same peripherals. build=relay is the floor:
// e2e/internal/benchrelay moves the same bytes through net/http and does
// nothing else (no validation, sessions, jobs, metrics); at 500
// peripherals, build=this-nojobs is this tree's with --jobs=false.
func BenchmarkMulticast(b *testing.B) {
	lat := 20 * time.Millisecond
	builds := hubgwBuilds(b)
	relayBin := build(b, "e2e/internal/benchrelay")
	for _, n := range []int{10, 100, 500, 1000} {
		if testing.Short() && n > 100 {
			continue
		}
		sim, err := uyunisim.Start(context.Background(), uyunisim.Config{Peripherals: n, Systems: 100, Faults: uyunisim.Faults{Latency: lat}, MaxCalls: 1})
		if err != nil {
			b.Fatal(err)
		}
		one := responseSize(b, sim)
		runs := builds
		if n == 500 {
			// The fan-out's own memory: job records (kept within
			// --job-max-bytes) grow with every run in the others.
			this := builds[len(builds)-1]
			runs = append(runs, hubgwBuild{name: "this-nojobs", bin: this.bin, flags: []string{"--jobs=false"}})
		}
		for _, bld := range append(runs, hubgwBuild{name: "relay", bin: relayBin}) {
			relay := bld.name == "relay"
			var proc *hubgwProcess
			var key string
			if relay {
				proc = startRelayProcess(b, bld.bin, sim)
			} else {
				proc = startHubgwProcess(b, bld.bin, sim, bld.flags...)
			}
			c := newBenchClient(proc.url)
			if !relay {
				key = benchLogin(b, c)
			}
			for _, conc := range []int{1, 8} {
				if n > 500 && conc > 1 {
					continue // 1,000 peripherals: latency and memory of one at a time
				}
				b.Run(fmt.Sprintf("peripherals=%d/conc=%d/build=%s", n, conc, bld.name), func(b *testing.B) {
					var lats latencies
					var dials float64
					var cpu time.Duration
					var delivered atomic.Int64
					var anon func() int
					measure(b, conc, &lats, func() (any, error) {
						r, err := c.call("broadcast.system.listSystems", key, "all")
						if err == nil {
							err = allSucceeded(r, n)
							delivered.Add(int64(len(r.(xmlrpc.Raw))))
						}
						return r, err
					}, func() {
						proc.resetPeak(b)
						if !relay {
							dials = proc.metric(b, "hubgw_upstream_connections_total")
						}
						cpu = proc.cpu(b)
						delivered.Store(0)
						anon = proc.watchAnon(b)
					})
					cpu = proc.cpu(b) - cpu
					lats.report(b, lat)
					peak, peakAnon := proc.peakRSS(b), anon()
					b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
					b.ReportMetric(float64(peak)/float64(conc*n*one), "RSS/in-flight")
					b.ReportMetric(float64(peakAnon)/float64(conc*n*one), "anon/in-flight")
					b.ReportMetric(cpu.Seconds()/(float64(delivered.Load())/1e9), "CPU-s/GB")
					if !relay {
						b.ReportMetric((proc.metric(b, "hubgw_upstream_connections_total")-dials)*1000/float64(b.N*n), "new-conns/1000calls")
					}
				})
			}
			proc.stop(b)
		}
		sim.Close()
	}
}

// hubgwBuild is a hubgw binary a process benchmark runs.
type hubgwBuild struct {
	name, bin string
	flags     []string // added to hubgw serve's
}

// hubgwBuilds is this tree's hubgw, after the one BENCH_BASE_HUBGW names
// when it is set (not HUBGW_: the gateway reads those as settings).
func hubgwBuilds(b *testing.B) []hubgwBuild {
	bs := []hubgwBuild{{name: "this", bin: buildHubgw(b)}}
	if base := os.Getenv("BENCH_BASE_HUBGW"); base != "" {
		bs = append([]hubgwBuild{{name: "base", bin: base}}, bs...)
	}
	return bs
}

// allSucceeded checks a multicast answer cheaply (decoding 22 MB per call
// would weigh on the figures): Complete, written after the responses, is
// true only when every server answered with a value.
func allSucceeded(r any, n int) error {
	raw := r.(xmlrpc.Raw)
	tail := raw[max(0, len(raw)-(n*512+4096)):]
	if !bytes.Contains(tail, []byte("<name>Complete</name><value><boolean>1</boolean></value>")) {
		return fmt.Errorf("not every one of the %d servers answered: %.2000s", n, tail)
	}
	return nil
}

// responseSize is the size of one peripheral's listSystems answer.
func responseSize(b *testing.B, sim *uyunisim.Sim) int {
	b.Helper()
	p := newBenchClient(sim.Peripherals()[0].URL())
	k, err := p.call("auth.login", "admin", "admin")
	if err != nil {
		b.Fatal(err)
	}
	key, _ := k.(xmlrpc.Raw).Decode()
	r, err := p.call("system.listSystems", key)
	if err != nil {
		b.Fatal(err)
	}
	return len(r.(xmlrpc.Raw))
}

// buildHubgw builds the hubgw binary once per benchmark run.
func buildHubgw(b testing.TB) string {
	b.Helper()
	return build(b, "cmd/hubgw")
}

type hubgwProcess struct {
	cmd  *exec.Cmd
	url  string
	base string
	log  tail // the process's last lines of output
}

// tail keeps the last 16 KiB written to it: a long run's log, bounded.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - 16<<10; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// startHubgwProcess runs `hubgw serve` in front of sim and waits until it
// answers /healthz.
func startHubgwProcess(b testing.TB, bin string, sim *uyunisim.Sim, flags ...string) *hubgwProcess {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--hub-url", sim.Hub().URL(), "--peripheral-scheme", "http",
		"--max-per-server", "64", "--max-concurrency", "4096", "--request-timeout", "30s", "--log-level", "warn"}, flags...)...)
	p := &hubgwProcess{cmd: cmd, base: "http://" + addr, url: "http://" + addr + "/hub/rpc/api"}
	cmd.Stdout, cmd.Stderr = &p.log, &p.log
	if os.Getenv("BENCH_HUBGW_STDERR") != "" {
		cmd.Stderr = os.Stderr // its logs (BENCH_HUBGW_STDERR=1), while profiling
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.stop(b) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("hubgw did not become healthy: %v\n%s", err, p.log.String())
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness, not waiting for time to pass
	}
}

// startRelayProcess runs the floor (e2e/internal/benchrelay) in front of
// sim's peripherals and waits until it says where it listens.
func startRelayProcess(b testing.TB, bin string, sim *uyunisim.Sim, flags ...string) *hubgwProcess {
	b.Helper()
	var urls []string
	for _, p := range sim.Peripherals() {
		urls = append(urls, p.URL())
	}
	cmd := exec.Command(bin, append([]string{"--peripherals", strings.Join(urls, ",")}, flags...)...)
	p := &hubgwProcess{cmd: cmd}
	cmd.Stderr = &p.log
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.stop(b) })
	addr, err := bufio.NewReader(out).ReadString('\n') // written once it listens
	if err != nil {
		b.Fatalf("benchrelay did not start: %v\n%s", err, p.log.String())
	}
	p.base = "http://" + strings.TrimSpace(addr)
	p.url = p.base + "/"
	return p
}

func (p *hubgwProcess) stop(b testing.TB) {
	if p.cmd.ProcessState != nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	_ = p.cmd.Wait()
}

// resetPeak resets the process's peak RSS (VmHWM) to its current RSS.
func (p *hubgwProcess) resetPeak(b testing.TB) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid), []byte("5"), 0); err != nil {
		b.Logf("cannot reset peak RSS: %v", err)
	}
}

// peakRSS reads VmHWM in bytes.
func (p *hubgwProcess) peakRSS(b testing.TB) int { return p.status(b, "VmHWM:") }

// watchAnon samples the process's anonymous resident memory (RssAnon)
// every 2 ms until the returned function is called, which returns the
// highest sample in bytes. VmHWM counts the binary's own pages too:
// about 22 MB of hubgw's (file-backed, shared and reclaimable, mapped in
// by the kernel's fault-around), a few of the relay's; RssAnon is the
// memory the process made, which the kernel has no peak figure of.
func (p *hubgwProcess) watchAnon(b testing.TB) func() int {
	var peak int
	var failed error
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			n, err := p.statusOf("RssAnon:")
			if err != nil {
				failed = err
				return
			}
			peak = max(peak, n)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int {
		close(stop)
		<-done
		if failed != nil {
			b.Fatal(failed)
		}
		return peak
	}
}

// status reads one kB figure of /proc/<pid>/status in bytes.
func (p *hubgwProcess) status(b testing.TB, field string) int {
	n, err := p.statusOf(field)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func (p *hubgwProcess) statusOf(field string) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.Atoi(f[1])
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}

// metric reads one unlabelled sample from the process's /metrics.
func (p *hubgwProcess) metric(b testing.TB, name string) float64 {
	resp, err := http.Get(p.base + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	b.Fatalf("no %s in /metrics", name)
	return 0
}

// BenchmarkBigBroadcast sends one broadcast of a 15 MiB argument to 50
// peripherals through the gateway running as its own process, and
// reports its peak RSS against the argument's size (issue 12, H2: the
// shared argument is encoded once, not once per peripheral; target ≤ 4×).
// jobs=true adds what recording the fan-out as a job costs on top.
func BenchmarkBigBroadcast(b *testing.B) {
	const n, size = 50, 15 << 20
	sim, err := uyunisim.Start(context.Background(), uyunisim.Config{Peripherals: n, Systems: 10, MaxCalls: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sim.Close() })
	ids := []any{}
	for _, p := range sim.Peripherals() {
		ids = append(ids, p.ID())
	}
	arg := strings.Repeat("x", size)
	for _, bld := range hubgwBuilds(b) {
		for _, jobs := range []bool{false, true} {
			b.Run(fmt.Sprintf("jobs=%t/build=%s", jobs, bld.name), func(b *testing.B) {
				proc := startHubgwProcess(b, bld.bin, sim, fmt.Sprintf("--jobs=%t", jobs))
				defer proc.stop(b)
				c := newBenchClient(proc.url)
				key := benchLogin(b, c)
				idle := proc.rss(b)
				proc.resetPeak(b)
				anon := proc.watchAnon(b)
				b.ResetTimer()
				for b.Loop() {
					r, err := c.call("broadcast.system.listSystemsWithEntitlement", key, ids, arg)
					if err != nil {
						b.Fatal(err)
					}
					if err := allSucceeded(r, n); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				peak := proc.peakRSS(b)
				b.ReportMetric(float64(idle)/(1<<20), "idle-RSS-MB")
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
				b.ReportMetric(float64(peak)/size, "RSS/argument")
				b.ReportMetric(float64(anon())/size, "anon/argument")
				b.ReportMetric(float64(peak-idle)/size, "growth/argument")
			})
		}
	}
}

// rss reads VmRSS in bytes.
func (p *hubgwProcess) rss(b testing.TB) int { return p.status(b, "VmRSS:") }

// cpu reads the process's CPU time so far (user and system), from
// /proc/<pid>/stat in clock ticks (USER_HZ, 100 on Linux).
func (p *hubgwProcess) cpu(b testing.TB) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after it. utime and stime are fields 14 and 15.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
