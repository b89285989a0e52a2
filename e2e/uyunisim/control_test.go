package uyunisim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// control sends a control request to url and decodes the JSON answer into out.
func control(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: transport(t)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return resp.StatusCode
}

func simURL(s *uyunisim.Server, path string) string { return "http://" + s.FQDN() + path }

// hiddenScript: objects of the org the admin cannot see are not found, yet
// their names and labels are taken (issue 11, §3).
const hiddenScript = `
out["details"] = call("channel.software.getDetails", "secret-chan")
out["exists"] = call("channel.software.isExisting", "secret-chan")
out["create_label"] = call("channel.software.create", "secret-chan", "Another Name", "s", "channel-x86_64", "")
out["create_name"] = call("channel.software.create", "other-label", "Secret Channel", "s", "channel-x86_64", "")
out["listed"] = [c["label"] for c in call("channel.listAllChannels")]
out["as_base"] = call("activationkey.create", "k", "d", "secret-chan", [], False)
`

func TestHiddenOrg(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 2})
	p := sim.Peripherals()[1]
	var objs uyunisim.Objects
	if code := control(t, http.MethodPost, simURL(p, "/sim/objects"),
		`{"kind":"channel","label":"secret-chan","name":"Secret Channel","hidden":true}`, &objs); code != http.StatusOK {
		t.Fatalf("seed: %d", code)
	}
	if len(objs.Channels) != 1 || !objs.Channels[0].Hidden || objs.HiddenOrg.ID != 3 || objs.Org.ID != 2 {
		t.Fatalf("objects after seeding: %+v", objs)
	}
	got := runPython(t, hiddenScript, p.URL())
	wantJSON(t, got, map[string]string{
		"details":      fault(-210, "No such channel: secret-chan"),
		"exists":       `false`,
		"create_label": fault(1201, "The channel label 'secret-chan' is already in use, please enter a different label"),
		"create_name":  fault(1200, "The channel name 'Secret Channel' is already in use, please enter a different name"),
		"listed":       `[]`,
		"as_base":      fault(-211, "Invalid channel"),
	})
}

// controlScript is run once the faults of TestControlFaults are set.
const controlScript = `
call("configchannel.create", "cfg", "Config", "d")
out["writes"] = []
for i in range(3):
    r = call("configchannel.createOrUpdatePath", "cfg", "/etc/f%d" % i, False, {"contents": "x"})
    out["writes"].append(r.get("fault", 0) if isinstance(r, dict) and "fault" in r else r["path"])
try:
    s.activationkey.create(k, "dropped", "d", "", [], False)
    out["dropped"] = "answered"
except x.Fault as e:
    out["dropped"] = "fault"
except Exception as e:
    out["dropped"] = "no answer"
`

func TestControlFaults(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 1})
	p := sim.Peripherals()[0]
	body := `{"fail_after":{"configchannel.createOrUpdatePath":{"after":2,"code":-1,"string":"boom"}},` +
		`"drop_answer":["activationkey.create"]}`
	var f uyunisim.Faults
	if code := control(t, http.MethodPost, simURL(sim.Hub(), "/sim/servers/peripheral-1/faults"), body, &f); code != http.StatusOK ||
		f.FailAfter["configchannel.createOrUpdatePath"].After != 2 || len(f.DropAnswer) != 1 {
		t.Fatalf("set faults: %d %+v", code, f)
	}
	got := runPython(t, controlScript, p.URL())
	wantJSON(t, got, map[string]string{
		"writes":  `["/etc/f0", "/etc/f1", -1]`,
		"dropped": `"no answer"`,
	})
	var objs uyunisim.Objects
	control(t, http.MethodGet, simURL(p, "/sim/objects"), "", &objs)
	if len(objs.ActivationKeys) != 1 || objs.ActivationKeys[0].Key != "1-dropped" {
		t.Errorf("the dropped create was not applied: %+v", objs.ActivationKeys)
	}
	if files := objs.ConfigChannels[0].Files; len(files) != 2 || files[0].Revisions != 1 || files[0].SHA256 == "" {
		t.Errorf("files: %+v", files)
	}
	var dropped bool
	for _, c := range p.Calls() {
		dropped = dropped || (c.Method == "activationkey.create" && c.Outcome == uyunisim.OutcomeDropped)
	}
	if !dropped {
		t.Error("no dropped call recorded")
	}
}

// TestDownFor: a server taken down for a while comes back by itself.
func TestDownFor(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 1})
	p := sim.Peripherals()[0]
	if code := control(t, http.MethodPost, simURL(sim.Hub(), "/sim/servers/peripheral-1/faults"),
		`{"down":true,"down_for_ms":300,"latency_ms":1}`, nil); code != http.StatusOK {
		t.Fatalf("down: %d", code)
	}
	if _, err := rawCall(t, transport(t), p.URL(), "api.getVersion"); err == nil {
		t.Fatal("answered while down")
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Faults().Down {
		if time.Now().After(deadline) {
			t.Fatal("still down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v, err := rawCall(t, transport(t), p.URL(), "api.getVersion"); err != nil || v != "27" {
		t.Fatalf("back up: %v %v", v, err)
	}
	if f := p.Faults(); f.Latency != time.Millisecond || f.DownFor != 0 {
		t.Errorf("faults kept after coming back: %+v", f)
	}
}

// driftScript reads what another admin changed behind the API's back.
const driftScript = `
out["info"] = [[f["revision"], f["contents"]] for f in call("configchannel.lookupFileInfo", "cfg", ["/etc/motd"])]
out["summary"] = call("channel.software.getDetails", "base-chan")["summary"]
`

func TestObjectsDrift(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 1})
	p := sim.Peripherals()[0]
	for _, c := range []string{
		`{"kind":"channel","label":"base-chan","name":"Base Channel"}`,
		`{"kind":"config_channel","label":"cfg","set":{"name":"Config"}}`,
		`{"kind":"config_file","channel":"cfg","path":"/etc/motd","set":{"contents":"one"}}`,
		`{"kind":"config_file","channel":"cfg","path":"/etc/motd","set":{"contents":"two"}}`,
		`{"kind":"channel","label":"base-chan","set":{"summary":"drifted"}}`,
	} {
		if code := control(t, http.MethodPost, simURL(p, "/sim/objects"), c, nil); code != http.StatusOK {
			t.Fatalf("%s: %d", c, code)
		}
	}
	for _, bad := range []string{`{"kind":"planet"}`, `{"kind":"group","name":"g","hidden":true}`, `{"kind":"channel","label":"base-chan","set":{"arch_label":"x"}}`, `{"colour":1}`} {
		var e map[string]string
		if code := control(t, http.MethodPost, simURL(p, "/sim/objects"), bad, &e); code != http.StatusBadRequest || e["error"] == "" {
			t.Errorf("%s: %d %v", bad, code, e)
		}
	}
	got := runPython(t, driftScript, p.URL())
	wantJSON(t, got, map[string]string{
		"info":    `[[2, "two"]]`,
		"summary": `"drifted"`,
	})
}

// versionScript: an older server lacks newer methods and setDetails keys.
const versionScript = `
out["version"] = s.api.getVersion()
call("channel.software.create", "base-chan", "Base Channel", "s", "channel-x86_64", "")
out["vendor"] = call("channel.software.setDetails", "base-chan", {"vendor_channel": "false"})
r = call("system.listSystemsWithEntitlement", "peripheral_server")
out["newer_method"] = r["fault"] if isinstance(r, dict) else "served"
`

func TestServerVersions(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 2, ServerVersions: map[string]string{"peripheral-2": uyunisim.DiscoveryLegacy}})
	newer := runPython(t, versionScript, sim.Peripherals()[0].URL())
	wantJSON(t, newer, map[string]string{"version": `"27"`, "vendor": `1`, "newer_method": `"served"`})
	older := runPython(t, versionScript, sim.Peripherals()[1].URL())
	wantJSON(t, older, map[string]string{"version": `"25"`, "vendor": fault(2801, "Invalid argument(s): vendor_channel"), "newer_method": `-1`})

	if _, err := uyunisim.Start(context.Background(), uyunisim.Config{ServerVersions: map[string]string{"peripheral-9": uyunisim.DiscoveryLegacy}}); err == nil {
		t.Error("a version for a server that does not exist was accepted")
	}
}
