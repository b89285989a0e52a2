package uyunisim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway/rpc"
)

func TestFaults(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 2})
	p, other := sim.Peripherals()[0], sim.Peripherals()[1]
	tr := transport(t)
	key := loginRaw(t, p.URL())
	tests := []struct {
		name    string
		faults  uyunisim.Faults
		check   func(t *testing.T)
		outcome string
	}{
		{
			name:   "latency",
			faults: uyunisim.Faults{Latency: 60 * time.Millisecond, Jitter: 20 * time.Millisecond},
			check: func(t *testing.T) {
				start := time.Now()
				if _, err := rawCall(t, tr, p.URL(), "api.getVersion"); err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d < 60*time.Millisecond {
					t.Errorf("answered in %v, before the latency", d)
				}
			},
			outcome: uyunisim.OutcomeOK,
		},
		{
			name:   "http 500",
			faults: uyunisim.Faults{HTTP500: true},
			check: func(t *testing.T) {
				status, body, err := raw(t, tr, p.URL(), "api.getVersion")
				if err != nil || status != http.StatusInternalServerError || !strings.Contains(string(body), "HTTP Status 500") {
					t.Errorf("got %d %q %v", status, body, err)
				}
				_, err = call(dial(t, p.URL()), "api.getVersion")
				if err == nil || !strings.Contains(err.Error(), "500") {
					t.Errorf("kolo: %v", err)
				}
			},
			outcome: uyunisim.OutcomeHTTP500,
		},
		{
			name:   "garbage",
			faults: uyunisim.Faults{Garbage: true},
			check: func(t *testing.T) {
				status, body, err := raw(t, tr, p.URL(), "api.getVersion")
				if err != nil || status != http.StatusOK {
					t.Fatal(status, err)
				}
				if _, err := xmlrpc.DecodeResponse(body, xmlrpc.Limits{}); err == nil {
					t.Errorf("garbage decoded: %q", body)
				}
				if _, err := call(dial(t, p.URL()), "api.getVersion"); err == nil {
					t.Error("kolo decoded garbage")
				}
			},
			outcome: uyunisim.OutcomeGarbage,
		},
		{
			name:   "truncated",
			faults: uyunisim.Faults{Truncated: true},
			check: func(t *testing.T) {
				_, body, err := raw(t, tr, p.URL(), "api.getApiNamespaces", key)
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("read %d bytes, err %v; want unexpected EOF", len(body), err)
				}
			},
			outcome: uyunisim.OutcomeTruncated,
		},
		{
			name: "fail method",
			faults: uyunisim.Faults{FailMethod: map[string]*rpc.Fault{
				"system.listSystems": {Code: -23, String: "redstone.xmlrpc.XmlRpcFault: You do not have permissions"},
			}},
			check: func(t *testing.T) {
				c := dial(t, p.URL())
				key := login(t, c) // other methods still work
				_, err := call(c, "system.listSystems", key)
				wantFault(t, err, -23, "redstone.xmlrpc.XmlRpcFault: You do not have permissions")
			},
			outcome: uyunisim.OutcomeInjectedFault,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := p.Inject(tt.faults); err != nil {
				t.Fatal(err)
			}
			p.ResetCalls()
			t.Cleanup(func() { p.ClearFaults() })
			tt.check(t)
			calls := p.Calls()
			if last := calls[len(calls)-1]; last.Outcome != tt.outcome {
				t.Errorf("recorded outcome %q, want %q", last.Outcome, tt.outcome)
			}
			// The fault is confined to its server.
			if _, err := rawCall(t, tr, other.URL(), "api.getVersion"); err != nil {
				t.Errorf("other peripheral: %v", err)
			}
		})
	}
}

func loginRaw(t *testing.T, url string) string {
	t.Helper()
	v, err := rawCall(t, transport(t), url, "auth.login", "admin", "admin")
	if err != nil {
		t.Fatal(err)
	}
	return v.(string)
}

func TestDown(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 2, ServerFaults: map[string]uyunisim.Faults{"peripheral-2": {Down: true}}})
	p1, p2 := sim.Peripherals()[0], sim.Peripherals()[1]
	refused := func(s *uyunisim.Server) bool {
		conn, err := net.Dial("tcp", s.FQDN())
		if err == nil {
			conn.Close()
			return false
		}
		return true
	}
	if !refused(p2) || refused(p1) {
		t.Fatalf("down at start: p1 refused=%v p2 refused=%v", refused(p1), refused(p2))
	}

	// A client with a live keep-alive connection loses it too.
	c := dial(t, p1.URL())
	key := login(t, c)
	if err := p1.Inject(uyunisim.Faults{Down: true}); err != nil {
		t.Fatal(err)
	}
	if !refused(p1) {
		t.Fatal("p1 still accepts connections")
	}
	if _, err := call(c, "system.listSystems", key); err == nil {
		t.Fatal("call on a down server succeeded")
	}
	if err := p1.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	if refused(p1) {
		t.Fatal("p1 not back on its port")
	}
	// State survives: the session is still valid.
	mustCall(t, dial(t, p1.URL()), "system.listSystems", key)

	if err := p2.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	mustCall(t, dial(t, p2.URL()), "api.getVersion")
}

func TestHang(t *testing.T) {
	sim := start(t, uyunisim.Config{Faults: uyunisim.Faults{Hang: true}})
	tr := transport(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	body, _ := xmlrpc.AppendCall(nil, "api.getVersion")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, sim.Hub().URL(), bytes.NewReader(body))
	_, err := (&http.Client{Transport: tr}).Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung call ended with %v, want the client's timeout", err)
	}

	// A request still hanging when the simulator closes is released: Close
	// returns, the client sees the connection end, and goleak (TestMain) sees
	// no handler left.
	waitFor(t, func() bool { return len(sim.Hub().Calls()) == 1 && uyunisim.Hanging(sim.Hub()) == 0 })
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rawCall(t, tr, sim.Hub().URL(), "api.getVersion")
	}()
	waitFor(t, func() bool { return uyunisim.Hanging(sim.Hub()) == 1 })
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	calls := sim.Hub().Calls()
	if len(calls) != 2 || calls[0].Outcome != uyunisim.OutcomeHang || calls[1].Outcome != uyunisim.OutcomeHang {
		t.Errorf("calls = %+v", calls)
	}
}

// waitFor waits until cond holds, for what happens on the server's side of
// a connection and so has no event the client could wait on.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestControlEndpoint(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 2})
	tr := transport(t)
	hub, p := sim.Hub(), sim.Peripherals()[0]
	hc := &http.Client{Transport: tr}
	do := func(method, url, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	base := "http://" + p.FQDN()
	hubBase := "http://" + hub.FQDN()

	if code, body := do("POST", base+"/sim/faults", `{"http500":true,"latency_ms":1}`); code != 200 || !strings.Contains(body, `"http500":true`) {
		t.Fatalf("POST faults: %d %s", code, body)
	}
	if f := p.Faults(); !f.HTTP500 || f.Latency != time.Millisecond {
		t.Errorf("faults = %+v", f)
	}
	if status, _, _ := raw(t, tr, p.URL(), "api.getVersion"); status != 500 {
		t.Errorf("status %d after injecting http500", status)
	}
	if code, body := do("GET", base+"/sim/faults", ""); code != 200 || !strings.Contains(body, `"latency_ms":1`) {
		t.Errorf("GET faults: %d %s", code, body)
	}
	if code, _ := do("DELETE", base+"/sim/faults", ""); code != 200 || !p.Faults().IsZero() {
		t.Errorf("DELETE faults: %d %+v", code, p.Faults())
	}
	if code, body := do("POST", base+"/sim/faults", `{"latency":20}`); code != 400 || !strings.Contains(body, "unknown field") {
		t.Errorf("typo accepted: %d %s", code, body)
	}
	if code, _ := do("POST", base+"/sim/faults", `{"fail_method":{"api.getVersion":{"code":7,"string":"boom"}}}`); code != 200 {
		t.Errorf("fail_method: %d", code)
	}
	_, err := call(dial(t, p.URL()), "api.getVersion")
	wantFault(t, err, 7, "boom")
	p.ClearFaults()

	// Down through the hub, and back.
	if code, body := do("POST", hubBase+"/sim/servers/peripheral-1/faults", `{"down":true}`); code != 200 {
		t.Fatalf("down via hub: %d %s", code, body)
	}
	if _, err := net.Dial("tcp", p.FQDN()); err == nil {
		t.Fatal("peripheral-1 accepts connections while down")
	}
	var servers []map[string]any
	_, body := do("GET", hubBase+"/sim/servers", "")
	if err := json.Unmarshal([]byte(body), &servers); err != nil || len(servers) != 3 ||
		servers[1]["name"] != "peripheral-1" || servers[1]["faults"].(map[string]any)["down"] != true {
		t.Fatalf("GET /sim/servers: %v %s", err, body)
	}
	if code, _ := do("DELETE", hubBase+"/sim/servers/peripheral-1/faults", ""); code != 200 {
		t.Fatal("up via hub")
	}
	if code, body := do("GET", base+"/sim", ""); code != 200 || !strings.Contains(body, `"role":"peripheral"`) || !strings.Contains(body, `"id":1000010001`) {
		t.Errorf("GET /sim: %d %s", code, body)
	}
	// A server can take itself down through its own port, and still answers.
	if code, body := do("POST", base+"/sim/faults", `{"down":true}`); code != 200 || !strings.Contains(body, `"down":true`) {
		t.Fatalf("down via own port: %d %s", code, body)
	}
	if _, err := net.Dial("tcp", p.FQDN()); err == nil {
		t.Fatal("peripheral-1 accepts connections after going down via its own port")
	}
	if code, _ := do("DELETE", hubBase+"/sim/servers/peripheral-1/faults", ""); code != 200 {
		t.Fatal("up via hub")
	}
	if code, _ := do("GET", hubBase+"/sim/servers/nope", ""); code != 404 {
		t.Errorf("unknown server: %d", code)
	}
	if code, _ := do("GET", base+"/sim/servers", ""); code != 404 {
		t.Errorf("a peripheral serves /sim/servers: %d", code)
	}

	// Sessions and call records.
	c := dial(t, p.URL())
	key := login(t, c)
	if code, _ := do("POST", hubBase+"/sim/servers/peripheral-1/expire-sessions", ""); code != 200 {
		t.Fatal("expire-sessions")
	}
	if _, err := call(c, "system.listSystems", key); err == nil || !strings.Contains(err.Error(), "Could not find session") {
		t.Errorf("session survived expire-sessions: %v", err)
	}
	_, body = do("GET", base+"/sim/calls", "")
	var recs []map[string]any
	if err := json.Unmarshal([]byte(body), &recs); err != nil {
		t.Fatal(err)
	}
	var sawLogin bool
	for _, r := range recs {
		if r["method"] == "auth.login" {
			sawLogin = true
			params := r["params"].([]any)
			if params[0] != "admin" || params[1] != uyunisim.Redacted || r["outcome"] != "ok" {
				t.Errorf("login record = %v", r)
			}
		}
		if r["method"] == "system.listSystems" && (r["fault_code"] != float64(-1) || r["outcome"] != "fault") {
			t.Errorf("listSystems record = %v", r)
		}
	}
	if !sawLogin || strings.Contains(body, `"admin","admin"`) {
		t.Errorf("calls: %s", body)
	}
	if code, _ := do("DELETE", base+"/sim/calls", ""); code != 200 || len(p.Calls()) != 0 {
		t.Errorf("DELETE calls left %d", len(p.Calls()))
	}
}

func TestCallRecords(t *testing.T) {
	sim := start(t, uyunisim.Config{MaxCalls: 3})
	c := dial(t, sim.Hub().URL())
	key := login(t, c)
	call(c, "sync.hub.registerPeripheral", key, "fqdn", "user", "hunter2")
	call(c, "configchannel.create", key, "cfg-x", "X", "d", "state", map[string]any{"password": "p", "contents": "c"})
	call(c, "system.listSystems", key)
	calls := sim.Hub().Calls()
	if len(calls) != 3 {
		t.Fatalf("%d records kept, want the last 3", len(calls))
	}
	if calls[0].Method != "sync.hub.registerPeripheral" || calls[0].Params[3] != uyunisim.Redacted || calls[0].Params[2] != "user" {
		t.Errorf("registerPeripheral record = %+v", calls[0])
	}
	data := calls[1].Params[5].(rpc.Struct)
	if v, _ := data.Get("password"); v != uyunisim.Redacted {
		t.Errorf("struct password = %v", v)
	}
	if v, _ := data.Get("contents"); v != "c" {
		t.Errorf("contents = %v", v)
	}
	if calls[1].Outcome != uyunisim.OutcomeOK {
		t.Errorf("configchannel.create record = %+v", calls[1])
	}
	if calls[2].Params[0] != key || calls[2].Duration <= 0 || calls[2].Server != "hub" {
		t.Errorf("listSystems record = %+v", calls[2])
	}
	if calls[0].Outcome != uyunisim.OutcomeFault || !strings.Contains(calls[0].Fault.String, "not simulated") {
		t.Errorf("registerPeripheral outcome = %s %v", calls[0].Outcome, calls[0].Fault)
	}
}
