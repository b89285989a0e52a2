package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway/uyuniapi"
)

// BenchmarkPlanApply plans and applies the 5-object bundle (fresh names
// every iteration, so every apply creates) to 1, 10, 100 and 500
// peripherals with 20 ms latency, over REST. It reports the wall time
// against one peripheral's (x-of-one: the target is within 2 at 100) and
// the upstream calls per object, reads and writes apart.
func BenchmarkPlanApply(b *testing.B) {
	lat := 20 * time.Millisecond
	var one float64
	for _, n := range []int{1, 10, 100, 500} {
		sim, err := uyunisim.Start(context.Background(), uyunisim.Config{Peripherals: n, Faults: uyunisim.Faults{Latency: lat}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { sim.Close() })
		g := benchGateway(b, sim)
		token := restLogin(b, g, "autoconnect")
		seq := 0 // names are fresh in every iteration of every run of the function
		b.Run(fmt.Sprintf("peripherals=%d", n), func(b *testing.B) {
			for _, s := range sim.Servers() {
				s.ResetCalls()
			}
			b.ResetTimer()
			for range b.N {
				seq++
				i := seq
				// A repository URL is one per org (createRepo fault 1): fresh too.
				docs := strings.NewReplacer("fleet-", fmt.Sprintf("fleet%d-", i), "Fleet ", fmt.Sprintf("Fleet%d ", i), "/tools", fmt.Sprintf("/tools%d", i),
					"web", fmt.Sprintf("web%d", i)).Replace(bundle)
				for _, op := range []string{"plan", "apply"} {
					r := restWith(b, http.DefaultClient, g, http.MethodPost, "/api/v1/"+op+"?targets=all", token, "application/yaml", docs)
					if r.Status != http.StatusOK || op == "apply" && !strings.Contains(string(r.Body), fmt.Sprintf(`"created":%d`, 5*n)) {
						b.Fatalf("%s: %d %s", op, r.Status, r.Body)
					}
				}
			}
			b.StopTimer()
			var reads, writes int
			for _, s := range sim.Peripherals() {
				for _, c := range s.Calls() {
					switch {
					case c.Method == "" || strings.HasPrefix(c.Method, "auth."):
					case uyuniapi.ReadOnly(c.Method):
						reads++
					default:
						writes++
					}
				}
			}
			objects := float64(5 * n * b.N)
			b.ReportMetric(float64(reads)/objects, "reads/object")
			b.ReportMetric(float64(writes)/objects, "writes/object")
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if n == 1 {
				one = perOp
			}
			if one > 0 {
				b.ReportMetric(perOp/one, "x-of-one")
			}
		})
	}
}
