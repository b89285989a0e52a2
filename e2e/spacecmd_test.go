package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway"
)

// spacecmd cannot be installed here (no package, no PyPI), so these tests
// replay its exact call sequences (../shared/uyuni-wire-facts.md, and
// spacecmd/src/spacecmd/misc.py do_login) with Python's xmlrpc.client, which
// is what spacecmd uses: the same URL handling (user@host becomes a Basic
// Authorization header), the same encoding, the same session cache file.
// One run of the script is one run of spacecmd: it logs in (or reuses the
// cached key) and runs the steps given.
const spacecmdReplay = `
import json, os, xmlrpc.client

CONF, SERVER = os.environ["CONF"], os.environ["SERVER"]

def plain(v):
    if isinstance(v, xmlrpc.client.DateTime):
        return v.value
    if isinstance(v, xmlrpc.client.Binary):
        return v.data.decode("latin-1")
    if isinstance(v, list):
        return [plain(e) for e in v]
    if isinstance(v, dict):
        return {k: plain(e) for k, e in v.items()}
    return v

class Spacecmd:
    def __init__(self, url):
        self.client = xmlrpc.client.Server(url)  # as do_login: xmlrpclib.Server(server_url)
        self.session = ""

    def login(self, user, password):
        version = self.client.api.getVersion()
        if float(version) < 10.8:
            raise RuntimeError("API too old")
        session_file = os.path.join(CONF, SERVER, "session")
        cached = False
        if os.path.isfile(session_file):
            for line in open(session_file):
                parts = line.split(":")  # "user:key\n": parts[1] keeps the newline
                if parts[0] == user:
                    self.session = parts[1]
        if self.session:
            try:
                self.client.user.listAssignableRoles(self.session)
                cached = True
            except xmlrpc.client.Fault:
                self.session = ""
        if not self.session:
            self.session = self.client.auth.login(user, password)
            os.makedirs(os.path.join(CONF, SERVER), 0o700, exist_ok=True)
            with open(session_file, "w") as f:
                f.write("%s:%s\n" % (user, self.session))
        return {"version": version, "cached": cached, "session": self.session}

    def system_list(self):
        return self.client.system.listSystems(self.session)

    def softwarechannel_create(self, name, label, arch="x86_64", parent=""):
        arches = [a.get("label") for a in self.client.channel.software.listArches(self.session)]
        if "channel-" + arch not in arches:
            raise RuntimeError("invalid arch " + arch)
        return self.client.channel.software.create(self.session, label, name, name,
            "channel-" + arch, parent, "sha256", {}, True)

    def softwarechannel_list(self):
        return self.client.channel.listAllChannels(self.session)

    def configchannel_create(self, name):
        return self.client.configchannel.create(self.session, name, name, name, "normal")

    def configchannel_list(self):
        return self.client.configchannel.listGlobals(self.session)

    def activationkey_create(self, key, description, base):
        return self.client.activationkey.create(self.session, key, description, base, [], False)

    def activationkey_list(self):
        return self.client.activationkey.listActivationKeys(self.session)

    def api(self, method, *args):
        return getattr(self.client, method)(self.session, *args)

sc = Spacecmd(os.environ["URL"])
out = []
for step in json.loads(os.environ["PLAN"]):
    try:
        out.append({"value": plain(getattr(sc, step["cmd"])(*step.get("args", [])))})
    except xmlrpc.client.Fault as f:
        out.append({"fault": {"code": f.faultCode, "string": f.faultString}})
        break  # spacecmd prints ERROR: <faultString> and exits 1
print(json.dumps(out))
`

type step struct {
	Cmd  string `json:"cmd"`
	Args []any  `json:"args,omitempty"`
}

type stepResult struct {
	Value any `json:"value"`
	Fault *struct {
		Code   int    `json:"code"`
		String string `json:"string"`
	} `json:"fault"`
}

// spacecmdRun is one spacecmd process: server is its -s string (the
// session cache's directory), url what it builds from it.
func spacecmdRun(t *testing.T, conf, server, url string, steps ...step) []stepResult {
	t.Helper()
	plan, err := json.Marshal(steps)
	require.NoError(t, err)
	out := python(t, spacecmdReplay, "CONF="+conf, "SERVER="+server, "URL="+url, "PLAN="+string(plan))
	var rs []stepResult
	require.NoError(t, json.Unmarshal([]byte(out), &rs), out)
	return rs
}

func login() step { return step{Cmd: "login", Args: []any{"admin", "admin"}} }

// okValues requires every step to have succeeded and returns their values.
func okValues(t *testing.T, rs []stepResult, n int) []any {
	t.Helper()
	out := make([]any, len(rs))
	for i, r := range rs {
		require.Nil(t, r.Fault, "step %d: %+v", i, r.Fault)
		out[i] = r.Value
	}
	require.Len(t, out, n)
	return out
}

// lastFault requires the run to have ended in a fault and returns it.
func lastFault(t *testing.T, rs []stepResult) (int, string) {
	t.Helper()
	require.NotEmpty(t, rs)
	f := rs[len(rs)-1].Fault
	require.NotNil(t, f, "want a fault, got %v", rs[len(rs)-1].Value)
	return f.Code, f.String
}

// form is how a client names its target.
type form struct {
	name string
	// server is spacecmd's -s string (or a directory name for scripts),
	// url the endpoint the client posts to.
	server, url func(g *gw, target string) string
}

var forms = []form{
	{
		name:   "basic-auth",
		server: func(g *gw, target string) string { return target + "@" + strings.TrimPrefix(g.Base, "http://") },
		url: func(g *gw, target string) string {
			return "http://" + target + "@" + strings.TrimPrefix(g.Base, "http://") + "/rpc/api"
		},
	},
	{
		name:   "path",
		server: func(g *gw, target string) string { return "path-" + target },
		url:    func(g *gw, target string) string { return g.Base + "/t/" + url.PathEscape(target) + "/rpc/api" },
	},
}

// startNamedSim starts a hub with 3 peripherals, discovered with
// sync.hub.listPeripheralServers (the newest hubs), which names them by
// FQDN: ref(sim, i) is peripheral i's (0-based), "127.0.0.1:<port>" here.
func startNamedSim(t *testing.T) *uyunisim.Sim {
	t.Helper()
	return startSim(t, uyunisim.Config{Peripherals: 3})
}

func ref(sim *uyunisim.Sim, i int) string { return sim.Peripherals()[i].FQDN() }

func refs(sim *uyunisim.Sim) []string {
	var out []string
	for _, p := range sim.Peripherals() {
		out = append(out, p.FQDN())
	}
	return out
}

// fieldOn lists a member of each element of a list method's answer, asked
// of a simulated server directly.
func fieldOn(t *testing.T, s *uyunisim.Server, method, field string) []string {
	t.Helper()
	c := kolo(t, s.URL())
	key := mustCall(t, c, "auth.login", "admin", "admin").(string)
	var out []string
	for _, e := range mustCall(t, c, method, key).([]any) {
		out = append(out, fmt.Sprint(e.(map[string]any)[field]))
	}
	return out
}

// fields lists a member of each struct of a list.
func fields(v any, name string) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, fmt.Sprint(e.(map[string]any)[name]))
	}
	return out
}

func count(xs []string, x string) int {
	n := 0
	for _, e := range xs {
		if e == x {
			n++
		}
	}
	return n
}

// A stock spacecmd at /rpc/api with no target: the gateway is the hub.
func TestSpacecmdAtTheHub(t *testing.T) {
	sim := startNamedSim(t)
	g := startGateway(t, sim, nil)
	conf := t.TempDir()
	server := strings.TrimPrefix(g.Base, "http://")
	endpoint := g.Base + "/rpc/api"

	rs := okValues(t, spacecmdRun(t, conf, server, endpoint,
		login(),
		step{Cmd: "system_list"},
		step{Cmd: "softwarechannel_create", Args: []any{"Hub channel", "hub-channel"}},
		step{Cmd: "softwarechannel_list"},
		step{Cmd: "configchannel_create", Args: []any{"hub-config"}},
		step{Cmd: "configchannel_list"},
		step{Cmd: "activationkey_create", Args: []any{"hubkey", "a hub key", "hub-channel"}},
		step{Cmd: "activationkey_list"},
		step{Cmd: "api", Args: []any{"channel.software.getDetails", "hub-channel"}},
	), 9)
	session := rs[0].(map[string]any)
	require.Equal(t, "27", session["version"])
	require.Regexp(t, `^[1-9][0-9]*x[a-f0-9]{64}$`, session["session"], "the hub's own key passes through")
	require.Equal(t, []string{"peripheral-1", "peripheral-2", "peripheral-3"}, fields(rs[1], "name"), "the hub's systems are its peripherals")
	require.EqualValues(t, 1, rs[2])
	require.Contains(t, fields(rs[3], "label"), "hub-channel")
	require.Contains(t, fields(rs[5], "label"), "hub-config")
	require.Equal(t, "1-hubkey", rs[6])
	require.Contains(t, fields(rs[7], "key"), "1-hubkey")
	require.Equal(t, "hub-channel", rs[8].(map[string]any)["label"])
	for _, r := range [][]any{rs[1].([]any), rs[3].([]any)} {
		require.NotContains(t, r[0], gateway.PeripheralMember, "untargeted answers are the hub's, unchanged")
	}

	// The next run reuses the cached key, which arrives as "key\n".
	rs = okValues(t, spacecmdRun(t, conf, server, endpoint, login(), step{Cmd: "system_list"}), 2)
	require.Equal(t, true, rs[0].(map[string]any)["cached"])
	require.Equal(t, session["session"].(string)+"\n", rs[0].(map[string]any)["session"])
	require.Len(t, rs[1], 3)

	require.Contains(t, fieldOn(t, sim.Hub(), "channel.listAllChannels", "label"), "hub-channel")
	for _, p := range sim.Peripherals() {
		require.NotContains(t, fieldOn(t, p, "channel.listAllChannels", "label"), "hub-channel")
	}
}

// One peripheral: the gateway is that peripheral.
func TestSpacecmdOnePeripheral(t *testing.T) {
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			sim := startNamedSim(t)
			g := startGateway(t, sim, nil)
			conf := t.TempDir()
			server, endpoint := f.server(g, ref(sim, 1)), f.url(g, ref(sim, 1))
			p2 := sim.Peripherals()[1]

			rs := okValues(t, spacecmdRun(t, conf, server, endpoint,
				login(),
				step{Cmd: "system_list"},
				step{Cmd: "softwarechannel_create", Args: []any{"Peripheral channel", "p-channel"}},
				step{Cmd: "softwarechannel_list"},
				step{Cmd: "configchannel_create", Args: []any{"p-config"}},
				step{Cmd: "configchannel_list"},
				step{Cmd: "activationkey_create", Args: []any{"pkey", "a peripheral key", "p-channel"}},
				step{Cmd: "activationkey_list"},
				// Server-local ids are fine for one peripheral: they are its own.
				step{Cmd: "api", Args: []any{"system.listFqdns", 1000010002}},
			), 9)
			session := rs[0].(map[string]any)
			require.Equal(t, "27", session["version"])
			require.Regexp(t, `^gw[0-9a-f]{64}$`, session["session"], "a gateway key: no ':' and no white space")
			names := fields(rs[1], "name")
			require.Len(t, names, 10)
			for _, n := range names {
				require.True(t, strings.HasPrefix(n, "peripheral-2-minion-"), n)
			}
			require.NotContains(t, rs[1].([]any)[0], gateway.PeripheralMember, "one peripheral's answers come unchanged")
			require.EqualValues(t, 1, rs[2])
			require.Equal(t, []string{"p-channel"}, fields(rs[3], "label"))
			require.Equal(t, "p-config", rs[4].(map[string]any)["label"])
			require.Equal(t, []string{"p-config"}, fields(rs[5], "label"))
			// Each peripheral's admin is in its own org: the key prefix is p2's.
			pkey := fmt.Sprintf("%d-pkey", p2.OrgID())
			require.Equal(t, pkey, rs[6])
			require.Equal(t, []string{pkey}, fields(rs[7], "key"))
			require.Equal(t, []any{"peripheral-2-minion-2.example.org"}, rs[8])

			// Only peripheral-2 changed.
			for i, p := range sim.Peripherals() {
				has := slices.Contains(fieldOn(t, p, "channel.listAllChannels", "label"), "p-channel")
				require.Equal(t, i == 1, has, p.Name())
				has = slices.Contains(fieldOn(t, p, "configchannel.listGlobals", "label"), "p-config")
				require.Equal(t, i == 1, has, p.Name())
				has = slices.Contains(fieldOn(t, p, "activationkey.listActivationKeys", "key"), pkey)
				require.Equal(t, i == 1, has, p.Name())
			}
			require.NotContains(t, fieldOn(t, sim.Hub(), "channel.listAllChannels", "label"), "p-channel")

			// A peripheral fault comes through unchanged (name in use: 1200).
			again := spacecmdRun(t, conf, server, endpoint, login(), step{Cmd: "softwarechannel_create", Args: []any{"Peripheral channel", "p-channel"}})
			code, msg := lastFault(t, again)
			require.Equal(t, 1200, code, msg)
			require.Equal(t, true, again[0].Value.(map[string]any)["cached"])

			// The cached key arrives with its newline and is accepted; the
			// peripheral saw the key the gateway holds, never the client's.
			p2.ResetCalls()
			again = spacecmdRun(t, conf, server, endpoint, login(), step{Cmd: "system_list"})
			require.Len(t, okValues(t, again, 2)[1], 10)
			require.Equal(t, session["session"].(string)+"\n", again[0].Value.(map[string]any)["session"])
			for _, c := range p2.Calls() {
				require.NotEqual(t, "auth.login", c.Method, "the cached gateway key was reused")
				if len(c.Params) > 0 {
					require.NotContains(t, fmt.Sprint(c.Params[0]), "gw", "the peripheral gets its own key")
				}
			}
		})
	}
}

// all: every call goes to every peripheral; lists are merged.
func TestSpacecmdAllPeripherals(t *testing.T) {
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			sim := startNamedSim(t)
			g := startGateway(t, sim, nil)
			conf := t.TempDir()
			server, endpoint := f.server(g, "all"), f.url(g, "all")

			rs := okValues(t, spacecmdRun(t, conf, server, endpoint,
				login(),
				step{Cmd: "system_list"},
				step{Cmd: "softwarechannel_create", Args: []any{"Everywhere channel", "all-channel"}},
				step{Cmd: "softwarechannel_list"},
				step{Cmd: "configchannel_create", Args: []any{"all-config"}},
				step{Cmd: "configchannel_list"},
				step{Cmd: "activationkey_create", Args: []any{"allkey", "a key everywhere", "all-channel"}},
				step{Cmd: "activationkey_list"},
				step{Cmd: "api", Args: []any{"channel.software.listArches"}},
				step{Cmd: "api", Args: []any{"user.listAssignableRoles"}},
			), 10)
			session := rs[0].(map[string]any)
			require.Equal(t, "27", session["version"])
			require.Regexp(t, `^gw[0-9a-f]{64}$`, session["session"])

			// 3 × 10 systems, each naming its peripheral.
			systems := rs[1].([]any)
			require.Len(t, systems, 30)
			names := map[string]string{}
			for _, p := range sim.Peripherals() {
				names[p.FQDN()] = p.Name()
			}
			for _, s := range systems {
				m := s.(map[string]any)
				require.True(t, strings.HasPrefix(m["name"].(string), names[m[gateway.PeripheralMember].(string)]+"-minion-"), "%v", m)
			}
			require.Equal(t, 10, count(fields(systems, gateway.PeripheralMember), ref(sim, 2)))
			require.EqualValues(t, 1, rs[2], "all succeeded: the common result")
			require.Equal(t, refs(sim), fields(rs[3], gateway.PeripheralMember), "in target order")
			require.Equal(t, []string{"all-channel", "all-channel", "all-channel"}, fields(rs[3], "label"))
			require.Equal(t, "all-config", rs[4].(map[string]any)["label"])
			require.Equal(t, 3, count(fields(rs[5], "label"), "all-config"))
			// Keys carry each peripheral's org: the first's answer, then one key per peripheral.
			require.Equal(t, fmt.Sprintf("%d-allkey", sim.Peripherals()[0].OrgID()), rs[6])
			for _, p := range sim.Peripherals() {
				require.Equal(t, 1, count(fields(rs[7], "key"), fmt.Sprintf("%d-allkey", p.OrgID())), p.Name())
			}
			require.Len(t, rs[8], 3*len(fieldOn(t, sim.Peripherals()[0], "channel.software.listArches", "label")))
			roles := rs[9].([]any)
			require.NotEmpty(t, roles)
			require.Len(t, slices.Compact(slices.Clone(roles)), len(roles), "the same role from every server is listed once")

			for _, p := range sim.Peripherals() {
				require.Contains(t, fieldOn(t, p, "channel.listAllChannels", "label"), "all-channel", p.Name())
				require.Contains(t, fieldOn(t, p, "configchannel.listGlobals", "label"), "all-config", p.Name())
				require.Contains(t, fieldOn(t, p, "activationkey.listActivationKeys", "key"), fmt.Sprintf("%d-allkey", p.OrgID()), p.Name())
			}
			require.NotContains(t, fieldOn(t, sim.Hub(), "channel.listAllChannels", "label"), "all-channel")

			// System ids name different systems on each peripheral: refused
			// before anything is sent.
			for _, p := range sim.Peripherals() {
				p.ResetCalls()
			}
			rs2 := spacecmdRun(t, conf, server, endpoint, login(), step{Cmd: "api", Args: []any{"system.listFqdns", 1000010002}})
			require.Equal(t, true, rs2[0].Value.(map[string]any)["cached"], "the cached key with its newline is accepted")
			code, msg := lastFault(t, rs2)
			require.Equal(t, gateway.CodeServerLocalID, code)
			require.Contains(t, msg, "system.listFqdns takes sid, an id that names a different object on each server")
			require.Contains(t, msg, "call it for one peripheral")
			for _, p := range sim.Peripherals() {
				for _, c := range p.Calls() {
					require.NotEqual(t, "system.listFqdns", c.Method, p.Name())
				}
			}
			// A label is not an id: the overload taking one is fine.
			details := okValues(t, spacecmdRun(t, conf, server, endpoint, login(), step{Cmd: "api", Args: []any{"channel.software.getDetails", "all-channel"}}), 2)
			require.Equal(t, "all-channel", details[1].(map[string]any)["label"])
			rs2 = spacecmdRun(t, conf, server, endpoint, login(), step{Cmd: "api", Args: []any{"channel.software.getDetails", 100}})
			code, msg = lastFault(t, rs2)
			require.Equal(t, gateway.CodeServerLocalID, code, msg)
		})
	}
}

// A group from the configuration, and a comma-separated list.
func TestSpacecmdGroupAndList(t *testing.T) {
	sim := startNamedSim(t)
	g := startGateway(t, sim, func(c *server.Config) {
		c.Groups = map[string][]string{"pair": {ref(sim, 0), fmt.Sprint(sim.Peripherals()[2].ID())}} // by FQDN and by id
	})
	conf := t.TempDir()
	basic, path := forms[0], forms[1]

	rs := okValues(t, spacecmdRun(t, conf, basic.server(g, "pair"), basic.url(g, "pair"),
		login(),
		step{Cmd: "softwarechannel_create", Args: []any{"Pair channel", "pair-channel"}},
		step{Cmd: "system_list"},
	), 3)
	require.EqualValues(t, 1, rs[1])
	require.Equal(t, 10, count(fields(rs[2], gateway.PeripheralMember), ref(sim, 0)))
	require.Equal(t, 10, count(fields(rs[2], gateway.PeripheralMember), ref(sim, 2)))
	require.Len(t, rs[2], 20)

	list := ref(sim, 1) + "," + ref(sim, 2)
	rs = okValues(t, spacecmdRun(t, conf, basic.server(g, list), basic.url(g, list),
		login(),
		step{Cmd: "configchannel_create", Args: []any{"list-config"}},
	), 2)
	require.Equal(t, "list-config", rs[1].(map[string]any)["label"])

	for i, p := range sim.Peripherals() {
		require.Equal(t, i != 1, slices.Contains(fieldOn(t, p, "channel.listAllChannels", "label"), "pair-channel"), p.Name())
		require.Equal(t, i != 0, slices.Contains(fieldOn(t, p, "configchannel.listGlobals", "label"), "list-config"), p.Name())
	}

	// A group of one is still a group: its answers are merged lists.
	g1 := startGateway(t, sim, func(c *server.Config) { c.Groups = map[string][]string{"solo": {ref(sim, 1)}} })
	rs = okValues(t, spacecmdRun(t, t.TempDir(), path.server(g1, "solo"), path.url(g1, "solo"), login(), step{Cmd: "system_list"}), 2)
	require.Equal(t, 10, count(fields(rs[1], gateway.PeripheralMember), ref(sim, 1)))
}

// One peripheral down: a fault naming it, and the others really done.
func TestSpacecmdOnePeripheralDown(t *testing.T) {
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			sim := startNamedSim(t)
			// No circuit breaker: every call tries the down peripheral, so
			// the faults are the transport's and it is reached when back.
			g := startGateway(t, sim, func(c *server.Config) { c.BreakerFailures = 0 })
			conf := t.TempDir()
			server, endpoint := f.server(g, "all"), f.url(g, "all")
			down := sim.Peripherals()[1]
			require.NoError(t, down.Inject(uyunisim.Faults{Down: true}))
			failedOnDown := func(t *testing.T, rs []stepResult, method string) {
				t.Helper()
				code, msg := lastFault(t, rs)
				require.Equal(t, gateway.CodeTargetsFailed, code, msg)
				// The job id is there when the gateway records jobs.
				require.Regexp(t, `^hubgw: `+regexp.QuoteMeta(method)+` failed on 1 of 3 targets( \(job [^ )]+\))?: `, msg)
				require.Contains(t, msg, fmt.Sprintf("%s: Fault(%d): ", ref(sim, 1), gateway.CodeUnreachable))
				require.Contains(t, msg, fmt.Sprintf("; it succeeded on %s, %s", ref(sim, 0), ref(sim, 2)))
				require.NotContains(t, msg, ref(sim, 0)+": Fault")
			}

			// Writes are done where they can be, and the fault says where not.
			rs := spacecmdRun(t, conf, server, endpoint, login(), step{Cmd: "configchannel_create", Args: []any{"partial-config"}})
			require.Nil(t, rs[0].Fault, "logging in to all works while one peripheral is down")
			failedOnDown(t, rs, "configchannel.create")
			rs = spacecmdRun(t, conf, server, endpoint, login(), step{Cmd: "activationkey_create", Args: []any{"partialkey", "d", ""}})
			failedOnDown(t, rs, "activationkey.create")

			// A read that misses a target is a fault too (a partial list would
			// look complete), so softwarechannel_create, which reads the arches
			// first, stops there and changes nothing anywhere.
			rs = spacecmdRun(t, conf, server, endpoint, login(), step{Cmd: "softwarechannel_create", Args: []any{"Partial channel", "partial-channel"}})
			failedOnDown(t, rs, "channel.software.listArches")
			rs = spacecmdRun(t, conf, server, endpoint, login(), step{Cmd: "system_list"})
			failedOnDown(t, rs, "system.listSystems")

			require.NoError(t, down.ClearFaults())
			for i, p := range sim.Peripherals() {
				require.Equal(t, i != 1, slices.Contains(fieldOn(t, p, "configchannel.listGlobals", "label"), "partial-config"), p.Name())
				require.Equal(t, i != 1, slices.Contains(fieldOn(t, p, "activationkey.listActivationKeys", "key"), fmt.Sprintf("%d-partialkey", p.OrgID())), p.Name())
				require.NotContains(t, fieldOn(t, p, "channel.listAllChannels", "label"), "partial-channel", p.Name())
			}
			// Back up: the same session reaches it again (logged in on
			// demand), and running the command again completes the change.
			back := spacecmdRun(t, conf, server, endpoint, login(), step{Cmd: "system_list"}, step{Cmd: "configchannel_create", Args: []any{"partial-config"}})
			require.Equal(t, true, back[0].Value.(map[string]any)["cached"])
			require.Len(t, back[1].Value, 30)
			code, msg := lastFault(t, back)
			require.Equal(t, gateway.CodeTargetsFailed, code, msg)
			require.Contains(t, msg, "failed on 2 of 3 targets")
			require.Contains(t, msg, "it succeeded on "+ref(sim, 1))
			require.Contains(t, fieldOn(t, down, "configchannel.listGlobals", "label"), "partial-config")
		})
	}
}

// A wrong target name: a fault listing the valid ones.
func TestSpacecmdWrongTarget(t *testing.T) {
	sim := startNamedSim(t)
	g := startGateway(t, sim, func(c *server.Config) { c.Groups = map[string][]string{"pair": {ref(sim, 0), ref(sim, 2)}} })
	valid := `valid targets: hub, all, pair, ` + strings.Join(refs(sim), ", ")
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			rs := spacecmdRun(t, t.TempDir(), f.server(g, "peripheral-9"), f.url(g, "peripheral-9"), login())
			code, msg := lastFault(t, rs)
			require.Equal(t, gateway.CodeUnknownServer, code)
			require.Contains(t, msg, `unknown target "peripheral-9"; `+valid)
		})
	}
	// A call without a session (api.getVersion, spacecmd's first) is the
	// hub's to answer, even when someone logged in since: no peripheral is
	// named to a client without credentials.
	v, f := call(t, kolo(t, forms[1].url(g, "nope")), "api.getVersion")
	require.Nil(t, f)
	require.NotEmpty(t, v)
	// A mix of good and bad names is refused as a whole, at login.
	rs := spacecmdRun(t, t.TempDir(), forms[1].server(g, ref(sim, 0)+",nope"), forms[1].url(g, ref(sim, 0)+",nope"), login())
	_, msg := lastFault(t, rs)
	require.Contains(t, msg, `unknown target "nope"`)
}

// Scripts: the path form with Python's xmlrpc.client used directly, the
// hub as a target, and what the targeted surface refuses.
func TestTargetedScripts(t *testing.T) {
	sim := startNamedSim(t)
	g := startGateway(t, sim, nil)

	out := python(t, `
import os, json, xmlrpc.client
base = os.environ["GW"]
one = xmlrpc.client.ServerProxy(base + "/t/" + os.environ["ONE"] + "/rpc/api")
key = one.auth.login("admin", "admin")
out = {"key": key, "one": len(one.system.listSystems(key))}
# The same gateway key works for other targets (logged in to on demand) and at the hub.
every = xmlrpc.client.ServerProxy(base + "/t/all/rpc/api")
out["all"] = len(every.system.listSystems(key + "\n"))
hub = xmlrpc.client.ServerProxy(base + "/t/hub/rpc/api")
out["hub"] = [s["name"] for s in hub.system.listSystems(key)]
out["version"] = every.api.getVersion()
try:
    one.hub.listServerIds(key)
except xmlrpc.client.Fault as f:
    out["hubmethod"] = [f.faultCode, f.faultString]
out["logout"] = one.auth.logout(key)
try:
    every.system.listSystems(key)
except xmlrpc.client.Fault as f:
    out["afterlogout"] = f.faultCode
print(json.dumps(out))
`, "GW="+g.Base, "ONE="+fmt.Sprint(sim.Peripherals()[0].ID()))
	var res struct {
		Key        string
		One, All   int
		Hub        []string
		Version    string
		HubMethod  []any
		Logout     int
		AfterLogin int `json:"afterlogout"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Regexp(t, `^gw[0-9a-f]{64}$`, res.Key)
	require.Equal(t, 10, res.One)
	require.Equal(t, 30, res.All)
	require.Equal(t, []string{"peripheral-1", "peripheral-2", "peripheral-3"}, res.Hub)
	require.Equal(t, "27", res.Version)
	require.EqualValues(t, gateway.CodeNoMethod, res.HubMethod[0])
	require.Contains(t, res.HubMethod[1], "call it at /hub/rpc/api, without a target")
	require.Equal(t, 1, res.Logout)
	require.Equal(t, -1, res.AfterLogin, "logged out: as Uyuni, so clients log in again")

	// HTTP-level mistakes get clear faults; the gateway keeps serving.
	for _, tc := range []struct {
		name, url, auth string
		code            int
		contains        string
	}{
		{"bad basic credentials", g.Base + "/rpc/api", "Basic !!!", gateway.CodeBadParams, "not valid Basic credentials"},
		{"two different targets", g.Base + "/t/peripheral-1/rpc/api", "Basic cGVyaXBoZXJhbC0y", gateway.CodeBadParams, `two targets in one request: "peripheral-1" in the path and "peripheral-2"`},
		{"empty list", g.Base + "/t/%2C/rpc/api", "", gateway.CodeUnknownServer, "no target given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, tc.url, strings.NewReader(`<?xml version="1.0"?><methodCall><methodName>api.getVersion</methodName><params></params></methodCall>`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "text/xml")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body := readAll(t, resp)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Contains(t, body, fmt.Sprintf("<int>%d</int>", tc.code))
			require.Contains(t, body, tc.contains)
		})
	}
	resp, err := http.Get(g.Base + "/t/peripheral-1/rpc/api")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "27", mustCall(t, kolo(t, g.Base+"/rpc/api"), "api.getVersion"))
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// With sync.hub discovery peripherals are known by FQDN (here host:port)
// and id; both work in both forms.
func TestTargetByFQDNAndID(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	p3 := sim.Peripherals()[2]
	for _, f := range forms {
		for _, target := range []string{p3.FQDN(), fmt.Sprint(p3.ID())} {
			t.Run(f.name+"/"+target, func(t *testing.T) {
				rs := okValues(t, spacecmdRun(t, t.TempDir(), f.server(g, target), f.url(g, target), login(), step{Cmd: "system_list"}), 2)
				names := fields(rs[1], "name")
				require.Len(t, names, 10)
				require.True(t, strings.HasPrefix(names[0], "peripheral-3-minion-"), names[0])
			})
		}
	}
}
