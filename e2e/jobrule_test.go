package e2e

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// The job rule is one rule for every door (README, "Jobs"): a job records
// every fan-out (more than one server, or a set the client named: all, a
// group, a list, a multicast) and every write to any server, the hub
// included; not a read of one server, nor the gateway's own calls, nor
// calls without a user. The same reads and writes go through every door,
// and the jobs they leave are compared.
func TestJobRuleEveryDoor(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, func(c *server.Config) {
		c.Groups = map[string][]string{"pair": {ref(sim, 0), ref(sim, 1)}}
	})
	hubAPI := kolo(t, g.URL)
	key := mustCall(t, hubAPI, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	p1, p2 := sim.Peripherals()[0], sim.Peripherals()[1]
	at := func(form int, target string) *koloClient { return kolo(t, forms[form].url(g, target)) }
	n := 0
	label := func() string { n++; return fmt.Sprintf("jobrule-%d", n) }
	create := func(l string) []any { return []any{l, "Job rule " + l, "s", "channel-x86_64", ""} }

	// Each door sends one call; job is the method the new job records
	// ("" for none) and targets how many servers it lists.
	type door struct {
		name    string
		send    func(t *testing.T)
		job     string
		targets int
	}
	xml := func(c *koloClient, method string, args ...any) func(t *testing.T) {
		return func(t *testing.T) { mustCall(t, c, method, args...) }
	}
	restCall := func(path string, body any) func(t *testing.T) {
		return func(t *testing.T) {
			r := rest(t, g, http.MethodPost, path, key, body)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		}
	}
	restBody := func(l string) map[string]any {
		return map[string]any{"label": l, "name": "Job rule " + l, "summary": "s", "archLabel": "channel-x86_64", "parentLabel": ""}
	}
	native := func(method, path string, body any) func(t *testing.T) {
		return func(t *testing.T) {
			r := restWith(t, &http.Client{Jar: cookieJar(t, g.Base, key)}, g, method, "/rhn/manager/api"+path, "", "application/json", body)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			require.Equal(t, true, r.JSON(t)["success"], "%s", r.Body)
		}
	}
	doors := []door{
		{"xmlrpc unicast read", xml(hubAPI, "unicast.system.listSystems", key, p1.ID()), "", 0},
		{"xmlrpc unicast write", xml(hubAPI, "unicast.channel.software.create", append([]any{key, p1.ID()}, create(label())...)...), "channel.software.create", 1},
		{"xmlrpc multicast read, one server", xml(hubAPI, "multicast.system.listSystems", key, anys(p2.ID())), "system.listSystems", 1},
		{"xmlrpc broadcast read, all", xml(hubAPI, "broadcast.system.listSystems", key, "all"), "system.listSystems", 2},
		{"xmlrpc broadcast write", xml(hubAPI, "broadcast.channel.software.create", append([]any{key, anys(p1.ID(), p2.ID())}, create(label())...)...), "channel.software.create", 2},
		{"xmlrpc passthrough read", xml(hubAPI, "system.listSystems", key), "", 0},
		{"xmlrpc passthrough write", xml(hubAPI, "channel.software.create", append([]any{key}, create(label())...)...), "channel.software.create", 1},
		{"xmlrpc without a session", xml(hubAPI, "api.getVersion"), "", 0},
		{"spacecmd basic-auth, one, read", xml(at(0, ref(sim, 0)), "system.listSystems", key), "", 0},
		{"spacecmd basic-auth, one, write", xml(at(0, ref(sim, 0)), "channel.software.create", append([]any{key}, create(label())...)...), "channel.software.create", 1},
		{"spacecmd basic-auth, many, read", xml(at(0, "all"), "system.listSystems", key), "system.listSystems", 2},
		{"spacecmd path, one, read", xml(at(1, ref(sim, 1)), "system.listSystems", key), "", 0},
		{"spacecmd path, group, read", xml(at(1, "pair"), "system.listSystems", key), "system.listSystems", 2},
		{"spacecmd path, many, write", xml(at(1, "all"), "channel.software.create", append([]any{key}, create(label())...)...), "channel.software.create", 2},
		{"spacecmd without a session, all", xml(at(1, "all"), "api.getVersion"), "", 0},
		{"REST hub read", restCall("/api/v1/hub/system/listSystems", nil), "", 0},
		{"REST hub write", restCall("/api/v1/hub/channel/software/create", restBody(label())), "channel.software.create", 1},
		{"REST one peripheral read", restCall("/api/v1/peripherals/"+pname(p1)+"/system/listSystems", nil), "", 0},
		{"REST one peripheral write", restCall("/api/v1/peripherals/"+pname(p2)+"/channel/software/create", restBody(label())), "channel.software.create", 1},
		{"REST fan-out to one server, read", restCall("/api/v1/call/system/listSystems?targets="+pname(p1), nil), "", 0},
		{"REST fan-out to all, read", restCall("/api/v1/call/system/listSystems?targets=all", nil), "system.listSystems", 2},
		{"REST fan-out to a group, write", restCall("/api/v1/call/channel/software/create?targets=pair", restBody(label())), "channel.software.create", 2},
		{"native read", native(http.MethodGet, "/system/listSystems", nil), "", 0},
		{"native write", native(http.MethodPost, "/channel/software/create", restBody(label())), "channel.software.create", 1},
	}
	jobs := func(t *testing.T) []any {
		t.Helper()
		return mustCall(t, hubAPI, "hub.listJobs", key, int64(1000)).([]any)
	}
	for _, d := range doors {
		t.Run(d.name, func(t *testing.T) {
			before := len(jobs(t))
			d.send(t)
			after := jobs(t)
			if d.job == "" {
				require.Len(t, after, before, "no job")
				return
			}
			require.Len(t, after, before+1, "one job")
			require.Equal(t, d.job, member(after[0], "Method"))
			require.EqualValues(t, d.targets, member(after[0], "Total"))
			require.Equal(t, "admin", member(after[0], "User"))
		})
	}
}

// A job lists every target the client asked for, those that could not be
// reached with why: a peripheral that refuses the login is in the job,
// failed, not left out.
func TestJobListsUnreachedTargets(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	c := kolo(t, g.URL)
	key := mustCall(t, c, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	require.NoError(t, sim.Peripherals()[2].Inject(uyunisim.Faults{Down: true}))
	res := mustCall(t, c, "broadcast.system.listSystems", key, "all")
	require.Equal(t, false, member(res, "Complete"))
	job := mustCall(t, c, "hub.getJob", key, member(res, "JobId"))
	require.EqualValues(t, 3, member(job, "Total"))
	require.EqualValues(t, 1, member(job, "Failed"))
	targets := member(job, "Targets").([]any)
	require.Equal(t, "transport", member(targets[2], "Outcome"))
	require.True(t, strings.Contains(member(targets[2], "FaultString").(string), "hubgw:"), "%v", targets[2])
}

// cookieJar holds a native-API session cookie for key (the gateway
// session id is the cookie's value).
func cookieJar(t *testing.T, base, key string) http.CookieJar {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	u, err := url.Parse(base)
	require.NoError(t, err)
	jar.SetCookies(u, []*http.Cookie{{Name: "pxt-session-cookie", Value: key, Path: "/"}})
	return jar
}
