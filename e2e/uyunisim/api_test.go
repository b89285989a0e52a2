package uyunisim_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway/catalog"
	"github.com/hubgw/hubgw/gateway/rpc"
)

func TestIntrospection(t *testing.T) {
	sim := start(t, uyunisim.Config{})
	c := dial(t, sim.Hub().URL())
	key := login(t, c)

	for method, want := range map[string]string{"api.getVersion": "27", "api.systemVersion": "2025.10", "api.productName": "Uyuni"} {
		if got := mustCall(t, c, method); got != want {
			t.Errorf("%s = %v, want %q", method, got, want)
		}
	}

	nss := mustCall(t, c, "api.getApiNamespaces", key).(map[string]any)
	if len(nss) != 58 || nss["channel.software"] != "ChannelSoftwareHandler" || nss["sync.hub"] != "HubHandler" {
		t.Errorf("getApiNamespaces: %d namespaces, channel.software=%v sync.hub=%v", len(nss), nss["channel.software"], nss["sync.hub"])
	}

	ns := mustCall(t, c, "api.getApiNamespaceCallList", key, "channel.software").(map[string]any)
	entry, ok := ns["channel.software.create_string_string_string_string_string_string"].(map[string]any)
	if !ok {
		t.Fatalf("no 6-parameter create among %d entries", len(ns))
	}
	if entry["name"] != "create" || entry["return"] != "int" || len(entry["exceptions"].([]any)) != 0 ||
		fmt.Sprint(entry["parameters"]) != "[string string string string string string]" {
		t.Errorf("create entry = %v", entry)
	}
	if _, ok := ns["channel.software.create_string_string_string_string_string_string_string_struct_boolean"]; !ok {
		t.Error("no 9-parameter create")
	}
	if _, ok := ns["channel.software.getDetails_string_int"]; !ok {
		t.Error("no getDetails by id")
	}
	keyShape := regexp.MustCompile(`^channel\.software\.[a-zA-Z]+(_(string|int|date|boolean|struct|array|base64))*$`)
	for k := range ns {
		if !keyShape.MatchString(k) {
			t.Errorf("key %q has an unexpected shape", k)
		}
	}

	// The whole list is large: our decoder reads it faster than kolo under -race.
	v, err := rawCall(t, transport(t), sim.Hub().URL(), "api.getApiCallList", key)
	if err != nil {
		t.Fatal(err)
	}
	all := v.(rpc.Struct).Map()
	if len(all) != 58 {
		t.Errorf("getApiCallList has %d namespaces", len(all))
	}
	has := func(ns, key string) bool {
		s, _ := all[ns].(rpc.Struct)
		_, ok := s.Get(key)
		return ok
	}
	if got := len(all["channel.software"].(rpc.Struct)); got != len(ns) {
		t.Errorf("getApiCallList[channel.software] has %d entries, getApiNamespaceCallList %d", got, len(ns))
	}
	for _, k := range []string{"system.listSystemsWithEntitlement_string_string", "system.listSystems_string"} {
		if !has("system", k) {
			t.Errorf("system lacks %s", k)
		}
	}
	if !has("sync.hub", "sync.hub.listPeripheralServers_string") {
		t.Error("sync.hub lacks listPeripheralServers")
	}
	if !has("api", "api.getVersion") {
		t.Error("api.getVersion (no parameters) should be keyed without a suffix")
	}

	// Every catalog overload is listed (overloads whose reflected types
	// coincide share one entry, as in Uyuni's HashMap).
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	for m := range cat.Methods() {
		k := m.FullName()
		for _, p := range m.Params {
			k += "_" + p.Reflect
		}
		if !has(m.Namespace, k) {
			t.Errorf("getApiCallList lacks %s", k)
		}
	}

	_, err = call(c, "api.getApiNamespaceCallList", key, "nope")
	wantFault(t, err, -1, "redstone.xmlrpc.XmlRpcFault: unhandled internal exception: Handler nope not found.")
}

func TestDiscovery(t *testing.T) {
	const couldNot = "Fault(-1): redstone.xmlrpc.XmlRpcFault: Could not find method: "
	tests := []struct {
		mode          string
		version       string
		syncHub       string // error of sync.hub.listPeripheralServers, "" if served
		withEnt       string // error of system.listSystemsWithEntitlement, "" if served
		namespaces    int
		productNameOK bool
	}{
		{uyunisim.DiscoverySyncHub, "27", "", "", 58, true},
		{uyunisim.DiscoveryEntitlement, "26", "Fault(-1): The specified handler cannot be found.", "", 57, true},
		{uyunisim.DiscoveryLegacy, "25", "Fault(-1): The specified handler cannot be found.",
			couldNot + "listSystemsWithEntitlement in class: com.redhat.rhn.frontend.xmlrpc.system.SystemHandler with params: " +
				"[com.redhat.rhn.domain.user.legacy.UserImpl, java.lang.String]", 57, false},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			sim := start(t, uyunisim.Config{Peripherals: 3, Discovery: tt.mode})
			c := dial(t, sim.Hub().URL())
			key := login(t, c)
			if got := mustCall(t, c, "api.getVersion"); got != tt.version {
				t.Errorf("getVersion = %v", got)
			}
			if got := len(mustCall(t, c, "api.getApiNamespaces", key).(map[string]any)); got != tt.namespaces {
				t.Errorf("%d namespaces, want %d", got, tt.namespaces)
			}
			if _, err := call(c, "api.productName"); (err == nil) != tt.productNameOK {
				t.Errorf("productName: %v", err)
			}

			// The legacy way always works: the hub's systems are its peripherals.
			if got := names(mustCall(t, c, "system.listSystems", key), "name"); strings.Join(got, ",") != "peripheral-1,peripheral-2,peripheral-3" {
				t.Errorf("listSystems = %v", got)
			}
			for _, p := range sim.Peripherals() {
				fqdns := mustCall(t, c, "system.listFqdns", key, p.ID()).([]any)
				if len(fqdns) != 1 || fqdns[0] != p.FQDN() {
					t.Errorf("listFqdns(%d) = %v, want [%s]", p.ID(), fqdns, p.FQDN())
				}
			}
			_, err := call(c, "system.listFqdns", key, 42)
			wantFault(t, err, -208, "redstone.xmlrpc.XmlRpcFault: No such system - sid = 42")
			if got := names(mustCall(t, c, "system.listUserSystems", key, "admin"), "name"); len(got) != 3 {
				t.Errorf("listUserSystems = %v", got)
			}

			v, err := call(c, "system.listSystemsWithEntitlement", key, "peripheral_server")
			if tt.withEnt != "" {
				if err == nil || err.Error() != tt.withEnt {
					t.Errorf("listSystemsWithEntitlement error = %v\nwant %s", err, tt.withEnt)
				}
			} else if err != nil || len(v.([]any)) != 3 || v.([]any)[0].(map[string]any)["id"] != sim.Peripherals()[0].ID() {
				t.Errorf("listSystemsWithEntitlement = %v, %v", v, err)
			}

			v, err = call(c, "sync.hub.listPeripheralServers", key)
			if tt.syncHub != "" {
				if err == nil || err.Error() != tt.syncHub {
					t.Errorf("listPeripheralServers error = %v, want %s", err, tt.syncHub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range v.([]any) {
				m := e.(map[string]any)
				p := sim.Peripherals()[i]
				if m["fqdn"] != p.FQDN() || m["id"] != p.ID() {
					t.Errorf("peripheral %d = %v, want %s/%d", i, m, p.FQDN(), p.ID())
				}
				block, _ := pem.Decode([]byte(m["root_ca"].(string)))
				if block == nil {
					t.Fatalf("root_ca is not PEM: %q", m["root_ca"])
				}
				if _, err := x509.ParseCertificate(block.Bytes); err != nil {
					t.Errorf("root_ca: %v", err)
				}
			}
		})
	}
}

func TestPeripherals(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 2, Systems: 250})
	if sim.Hub().Name() != "hub" || sim.Hub().Role() != uyunisim.RoleHub || sim.Hub().ID() != 0 {
		t.Errorf("hub = %s/%s/%d", sim.Hub().Name(), sim.Hub().Role(), sim.Hub().ID())
	}
	for i, p := range sim.Peripherals() {
		if p.Name() != fmt.Sprintf("peripheral-%d", i+1) || p.ID() != int64(1000010001+i) || p.Role() != uyunisim.RolePeripheral {
			t.Errorf("peripheral %d = %s/%d/%s", i, p.Name(), p.ID(), p.Role())
		}
		if p.URL() != "http://"+p.FQDN()+"/rpc/api" {
			t.Errorf("URL %s, FQDN %s", p.URL(), p.FQDN())
		}
		c := dial(t, p.URL())
		key := login(t, c)
		systems := mustCall(t, c, "system.listSystems", key).([]any)
		if len(systems) != 250 {
			t.Fatalf("%d systems, want 250", len(systems))
		}
		s := systems[0].(map[string]any)
		if s["name"] != p.Name()+"-minion-1" || s["id"] != int64(1000010001) {
			t.Errorf("first system = %v", s)
		}
		fq := mustCall(t, c, "system.listFqdns", key, 1000010001).([]any)
		if fq[0] != p.Name()+"-minion-1.example.org" {
			t.Errorf("listFqdns = %v", fq)
		}
		if got := mustCall(t, c, "sync.hub.listPeripheralServers", key).([]any); len(got) != 0 {
			t.Errorf("a peripheral lists peripherals: %v", got)
		}
		if got, _ := sim.Server(p.Name()); got != p {
			t.Errorf("Server(%q) = %v", p.Name(), got)
		}
	}
	if _, ok := sim.Server("nope"); ok {
		t.Error("Server(nope) found")
	}
	none := start(t, uyunisim.Config{Peripherals: 1, Systems: -1}).Peripherals()[0]
	c := dial(t, none.URL())
	if got := mustCall(t, c, "system.listSystems", login(t, c)).([]any); len(got) != 0 {
		t.Errorf("Systems -1: %d systems", len(got))
	}
}

// TestWire checks the bytes: what Uyuni sends, not what a lenient client accepts.
func TestWire(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 1})
	tr := transport(t)
	url := sim.Peripherals()[0].URL()
	status, body, err := raw(t, tr, url, "auth.login", "admin", "admin")
	if err != nil || status != http.StatusOK {
		t.Fatal(status, err)
	}
	key := regexp.MustCompile(`<string>([^<]+)</string>`).FindSubmatch(body)[1]
	_, body, _ = raw(t, tr, url, "system.listSystems", string(key))
	s := string(body)
	for _, want := range []string{`<?xml version="1.0" encoding="UTF-8"?>`, "<i4>1000010001</i4>", "<name>last_checkin</name><value><dateTime.iso8601>"} {
		if !strings.Contains(s, want) {
			t.Errorf("listSystems lacks %q", want)
		}
	}
	if !regexp.MustCompile(`<dateTime\.iso8601>\d{8}T\d\d:\d\d:\d\d</dateTime\.iso8601>`).MatchString(s) {
		t.Error("dates are not yyyyMMddTHH:mm:ss")
	}
	for _, bad := range []string{"<nil/>", "<i8>", "<int>"} {
		if strings.Contains(s, bad) {
			t.Errorf("listSystems contains %s", bad)
		}
	}
	_, body, _ = raw(t, tr, url, "channel.software.create", string(key), "wire-chan", "Wire Channel", "s", "channel-x86_64", "", "sha1", map[string]any{}, false)
	if !strings.Contains(string(body), "<i4>1</i4>") {
		t.Errorf("create answers %s", body)
	}
	_, body, _ = raw(t, tr, url, "channel.software.getDetails", string(key), "wire-chan")
	if !strings.Contains(string(body), "<name>gpg_check</name><value><boolean>0</boolean></value>") {
		t.Errorf("getDetails booleans: %s", body)
	}
	_, body, _ = raw(t, tr, url, "system.listSystems", "1x"+strings.Repeat("0", 64))
	if !strings.Contains(string(body), "<fault><value><struct><member><name>faultCode</name><value><int>-1</int></value>") {
		t.Errorf("fault shape: %s", body)
	}
}

func TestHTTPEdges(t *testing.T) {
	sim := start(t, uyunisim.Config{})
	tr := transport(t)
	url := sim.Hub().URL()

	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /rpc/api = %d", resp.StatusCode)
	}

	for name, body := range map[string]string{
		"empty":     "",
		"not xml":   "hello",
		"truncated": "<?xml version=\"1.0\"?><methodCall><methodName>api.getVersion</methodName><params>",
	} {
		status, out, err := post(t, tr, url, "text/xml", []byte(body))
		if err != nil || status != http.StatusOK || !strings.Contains(string(out), "redstone.xmlrpc.XmlRpcException: The message could not be parsed") {
			t.Errorf("%s: %d %s %v", name, status, out, err)
		}
	}
	// An untyped value is a string (XML-RPC spec), and is trimmed too.
	status, out, err := post(t, tr, url, "text/xml", []byte(`<?xml version="1.0"?><methodCall><methodName>auth.login</methodName>
		<params><param><value> admin </value></param><param><value>admin</value></param></params></methodCall>`))
	if err != nil || status != http.StatusOK || !keyRe.MatchString(regexp.MustCompile(`<string>([^<]+)</string>`).FindStringSubmatch(string(out))[1]) {
		t.Errorf("untyped login: %d %s %v", status, out, err)
	}
}
