package uyunisim

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
)

// BenchmarkServeRPC measures what one call costs the simulator, without the
// network: it must never be what limits a gateway benchmark. (The recorder
// copies each answer; a real connection does not.)
func BenchmarkServeRPC(b *testing.B) {
	for _, systems := range []int{100, 1000} {
		sim, err := Start(context.Background(), Config{Peripherals: 1, Systems: systems})
		if err != nil {
			b.Fatal(err)
		}
		p := sim.Peripherals()[0]
		key := p.st.login(p.st.admin, p.st.ttl)
		calls := []struct {
			name   string
			method string
			params []any
		}{
			{"getVersion", "api.getVersion", nil},
			{"listSystems", "system.listSystems", []any{key}},
			{"getApiCallList", "api.getApiCallList", []any{key}},
			{"login", "auth.login", []any{"admin", "admin"}},
		}
		for _, c := range calls {
			body, err := xmlrpc.AppendCall(nil, c.method, c.params...)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("systems=%d/%s", systems, c.name), func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						w := httptest.NewRecorder()
						p.handler.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/rpc/api", bytes.NewReader(body)))
						if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte("<fault>")) {
							b.Fatalf("%s: %d %s", c.method, w.Code, w.Body.Bytes())
						}
					}
				})
			})
		}
		sim.Close()
	}
}
