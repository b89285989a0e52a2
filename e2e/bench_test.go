package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
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
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return xmlrpc.DecodeResponseRaw(b, xmlrpc.Limits{})
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
// goroutines are GOMAXPROCS × parallelism) and records each call's time.
// warmed, when set, is called once the connections are open.
func measure(b *testing.B, conc int, lats *latencies, call func() (any, error), warmed func()) {
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

func benchSetup(b *testing.B, peripherals int, latency time.Duration) (*uyunisim.Sim, *gw, string) {
	b.Helper()
	sim, err := uyunisim.Start(context.Background(), uyunisim.Config{Peripherals: peripherals, Systems: 100, Faults: uyunisim.Faults{Latency: latency}, MaxCalls: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sim.Close() })
	g := startGateway(b, sim, func(c *server.Config) {
		c.MaxPerServer = 64
		c.MaxConcurrency = 4096
		c.RequestTimeout = 30 * time.Second
	})
	c := newBenchClient(g.URL)
	res, err := c.call("hub.loginWithAutoconnectMode", "admin", "admin")
	if err != nil {
		b.Fatal(err)
	}
	v, _ := res.(xmlrpc.Raw).Decode()
	key, _ := v.(rpc.Struct).Get("SessionKey")
	return sim, g, key.(string)
}

func BenchmarkUnicast(b *testing.B) {
	for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
		sim, g, key := benchSetup(b, 1, lat)
		p := sim.Peripherals()[0]
		direct := newBenchClient(p.URL())
		v, err := direct.call("auth.login", "admin", "admin")
		if err != nil {
			b.Fatal(err)
		}
		pv, _ := v.(xmlrpc.Raw).Decode()
		pkey := pv.(string)
		for _, conc := range []int{1, 32} {
			for _, via := range []string{"direct", "gateway"} {
				b.Run(fmt.Sprintf("latency=%s/conc=%d/%s", lat, conc, via), func(b *testing.B) {
					c := direct
					method, params := "system.listSystems", []any{pkey}
					if via == "gateway" {
						c = newBenchClient(g.URL)
						method, params = "unicast.system.listSystems", []any{key, p.ID()}
					}
					var lats latencies
					var dials int64
					measure(b, conc, &lats, func() (any, error) { return c.call(method, params...) },
						func() { dials = g.Server.Client().Dials() })
					lats.report(b, lat)
					if via == "gateway" {
						b.ReportMetric(float64(g.Server.Client().Dials()-dials)*1000/float64(b.N), "new-conns/1000calls")
					}
				})
			}
		}
	}
}

func BenchmarkMulticast(b *testing.B) {
	lat := 20 * time.Millisecond
	for _, n := range []int{10, 100, 500} {
		if testing.Short() && n > 100 {
			continue
		}
		_, g, key := benchSetup(b, n, lat)
		for _, conc := range []int{1, 8} {
			b.Run(fmt.Sprintf("peripherals=%d/conc=%d", n, conc), func(b *testing.B) {
				c := newBenchClient(g.URL)
				var lats latencies
				measure(b, conc, &lats, func() (any, error) { return c.call("broadcast.system.listSystems", key, "all") }, nil)
				lats.report(b, lat)
			})
		}
	}
}
