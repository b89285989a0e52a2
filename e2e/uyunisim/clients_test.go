package uyunisim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// pythonClient is what spacecmd does, with Python's own xmlrpc.client: the
// client real Uyuni users run.
const pythonClient = `
import datetime, json, re, sys, xmlrpc.client as x

hub, per = x.ServerProxy(sys.argv[1]), x.ServerProxy(sys.argv[2])
out = {"version": hub.api.getVersion()}
key = hub.auth.login("admin", "admin")
out["key_ok"] = re.match(r"^[1-9][0-9]*x[a-f0-9]{64}$", key) is not None
out["hub_systems"] = [s["name"] for s in hub.system.listSystems(key + "\n")]  # spacecmd's cached key
out["peripherals"] = [[p["id"], p["fqdn"]] for p in hub.sync.hub.listPeripheralServers(key)]

pk = per.auth.login("admin", "admin")
per.user.listAssignableRoles(pk + "\n")
labels = [a["label"] for a in per.channel.software.listArches(pk)]
out["create"] = per.channel.software.create(pk, "py-chan", "Python Channel", "summary",
                                            "channel-x86_64", "", "sha256", {}, True)
try:
    per.channel.software.create(pk, "py-chan", "Python Channel", "summary", "channel-x86_64", "", "sha256", {}, True)
    out["dup"] = None
except x.Fault as f:
    out["dup"] = [f.faultCode, f.faultString]
d = per.channel.software.getDetails(pk, "py-chan")
out["gpg_check"] = d["gpg_check"]
# spacecmd parses dates with this format: a dash or a zone would break it.
out["last_modified"] = datetime.datetime.strptime(d["last_modified"].value, "%Y%m%dT%H:%M:%S").isoformat()
out["akey"] = per.activationkey.create(pk, "pykey", "desc", "", [], False)
out["config"] = per.configchannel.create(pk, "py-cfg", "Py Cfg", "desc", "normal")["label"]
out["systems"] = len(per.system.listSystems(pk))
try:
    per.system.listSystems(pk, 1)
except x.Fault as f:
    out["wrong_count"] = [f.faultCode, f.faultString]
print(json.dumps(out))
`

func TestPythonClient(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	sim := start(t, uyunisim.Config{Peripherals: 2, Systems: 7})
	script := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(script, []byte(pythonClient), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, script, sim.Hub().URL(), sim.Peripherals()[0].URL()).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var got struct {
		Version      string   `json:"version"`
		KeyOK        bool     `json:"key_ok"`
		HubSystems   []string `json:"hub_systems"`
		Peripherals  [][]any  `json:"peripherals"`
		Create       int      `json:"create"`
		Dup          []any    `json:"dup"`
		GPGCheck     bool     `json:"gpg_check"`
		LastModified string   `json:"last_modified"`
		AKey         string   `json:"akey"`
		Config       string   `json:"config"`
		Systems      int      `json:"systems"`
		WrongCount   []any    `json:"wrong_count"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	p1 := sim.Peripherals()[0]
	switch {
	case got.Version != "27", !got.KeyOK, strings.Join(got.HubSystems, ",") != "peripheral-1,peripheral-2":
		t.Errorf("hub: %+v", got)
	case len(got.Peripherals) != 2 || got.Peripherals[0][0] != float64(p1.ID()) || got.Peripherals[0][1] != p1.FQDN():
		t.Errorf("peripherals: %v", got.Peripherals)
	case got.Create != 1, !got.GPGCheck, got.AKey != "1-pykey", got.Config != "py-cfg", got.Systems != 7:
		t.Errorf("peripheral: %+v", got)
	case len(got.Dup) != 2 || got.Dup[0] != float64(1200):
		t.Errorf("duplicate create: %v", got.Dup)
	case len(got.WrongCount) != 2 || got.WrongCount[0] != float64(-1) || !strings.Contains(got.WrongCount[1].(string), "Could not find method: listSystems"):
		t.Errorf("wrong count: %v", got.WrongCount)
	case got.LastModified == "":
		t.Errorf("last_modified: %q", got.LastModified)
	}
}

// TestManyPeripherals: a thousand peripherals in one process start fast and
// answer.
func TestManyPeripherals(t *testing.T) {
	if testing.Short() {
		t.Skip("a thousand servers take seconds under -race on a busy machine")
	}
	const n = 1000
	begin := time.Now()
	sim := start(t, uyunisim.Config{Peripherals: n, Systems: 3})
	last := sim.Peripherals()[n-1]
	lc := dial(t, last.URL())
	if got := mustCall(t, lc, "system.listSystems", login(t, lc)).([]any); len(got) != 3 {
		t.Fatalf("%s has %d systems", last.Name(), len(got))
	}
	started := time.Since(begin)
	c := dial(t, sim.Hub().URL())
	key := login(t, c)
	if got := len(mustCall(t, c, "sync.hub.listPeripheralServers", key).([]any)); got != n {
		t.Fatalf("%d peripherals listed", got)
	}

	tr := transport(t)
	work := make(chan *uyunisim.Server)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				v, err := rawCall(t, tr, p.URL(), "api.getVersion")
				if err == nil && v != "27" {
					err = fmt.Errorf("%s: version %v", p.Name(), v)
				}
				errs <- err
			}
		}()
	}
	for _, p := range sim.Peripherals() {
		work <- p
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	closing := time.Now()
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d peripherals: started in %v, all answered in %v, closed in %v",
		n, started, closing.Sub(begin)-started, time.Since(closing))
}

func TestConcurrentCalls(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 1})
	p := sim.Peripherals()[0]
	tr := transport(t)
	key := loginRaw(t, p.URL())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				label := fmt.Sprintf("chan-%d-%d", w, i)
				if _, err := rawCall(t, tr, p.URL(), "channel.software.create", key, label, "Channel "+label, "s", "channel-x86_64", ""); err != nil {
					t.Error(err)
					return
				}
				if _, err := rawCall(t, tr, p.URL(), "channel.listAllChannels", key); err != nil {
					t.Error(err)
					return
				}
				if i%5 == 0 {
					p.Inject(uyunisim.Faults{Latency: time.Microsecond})
					p.Calls()
				}
			}
		}()
	}
	wg.Wait()
	v, err := rawCall(t, tr, p.URL(), "channel.listAllChannels", key)
	if err != nil || len(v.([]any)) != 160 {
		t.Fatalf("listAllChannels after concurrent creates: %v", err)
	}
}

// TestFixedPorts: --listen 127.0.0.1:P puts the hub on P and peripheral i on P+i.
func TestFixedPorts(t *testing.T) {
	for attempt := range 5 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port > 65000 {
			continue
		}
		sim, err := uyunisim.Start(context.Background(), uyunisim.Config{Listen: "127.0.0.1:" + strconv.Itoa(port), Peripherals: 2})
		if err != nil {
			t.Logf("attempt %d: %v", attempt, err) // a neighbouring port was taken
			continue
		}
		defer sim.Close()
		for i, s := range sim.Servers() {
			if want := "127.0.0.1:" + strconv.Itoa(port+i); s.FQDN() != want {
				t.Errorf("%s on %s, want %s", s.Name(), s.FQDN(), want)
			}
		}
		return
	}
	t.Skip("no free run of 3 ports found")
}

func TestStartErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		cfg  uyunisim.Config
		want string
	}{
		{"busy port", uyunisim.Config{Listen: busy.Addr().String()}, "address already in use"},
		{"bad address", uyunisim.Config{Listen: "nowhere"}, "listen address"},
		{"ports run out", uyunisim.Config{Listen: "127.0.0.1:65535", Peripherals: 1}, "cannot hold"},
		{"negative peripherals", uyunisim.Config{Peripherals: -1}, "negative"},
		{"unknown discovery", uyunisim.Config{Discovery: "magic"}, "unknown discovery mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, err := uyunisim.Start(context.Background(), tt.cfg)
			if err == nil {
				sim.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestFaultsJSON(t *testing.T) {
	in := `{"latency_ms":20,"jitter_ms":2.5,"down":true,"hang":false,"http500":false,"garbage":true,"truncated":false,` +
		`"fail_method":{"system.listSystems":{"code":-23,"string":"no"}}}`
	var f uyunisim.Faults
	if err := json.Unmarshal([]byte(in), &f); err != nil {
		t.Fatal(err)
	}
	if f.Latency != 20*time.Millisecond || f.Jitter != 2500*time.Microsecond || !f.Down || !f.Garbage ||
		f.FailMethod["system.listSystems"].Code != -23 {
		t.Errorf("decoded %+v", f)
	}
	out, err := json.Marshal(f)
	if err != nil || string(out) != in {
		t.Errorf("round trip:\n%s\n%s (%v)", out, in, err)
	}
	for _, bad := range []string{`{"latency_ms":-1}`, `{"slow":true}`, `[]`} {
		if err := json.Unmarshal([]byte(bad), &f); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if !(uyunisim.Faults{}).IsZero() || (uyunisim.Faults{Hang: true}).IsZero() {
		t.Error("IsZero")
	}
}
