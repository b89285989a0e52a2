package e2e

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/rpc"
)

func anys[T any](xs ...T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func TestManualModeFlow(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	c := kolo(t, g.URL)

	key := mustCall(t, c, "hub.login", "admin", "admin").(string)
	require.Regexp(t, `^gw[0-9a-f]{64}$`, key)
	ids := ints(mustCall(t, c, "hub.listServerIds", key))
	require.Len(t, ids, 3)

	// Not attached yet: a clear fault, not a hub error.
	mustFault(t, c, gateway.CodeNotAttached, "not attached", "unicast.system.listSystems", key, ids[0])

	res := mustCall(t, c, "hub.attachToServers", key, anys(ids...), anys("admin", "admin", "admin"), anys("admin", "wrong", "admin"))
	require.Equal(t, anys(ids[0], ids[2]), member(res, "Successful", "ServerIds"))
	require.Equal(t, anys(ids[1]), member(res, "Failed", "ServerIds"))
	require.Equal(t, "Fault(2950): redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect.", member(res, "Failed", "Responses").([]any)[0])

	systems := mustCall(t, c, "unicast.system.listSystems", key, ids[0]).([]any)
	require.NotEmpty(t, systems)

	// Peripheral faults come through unchanged (Uyuni checks the name first: 1200).
	mustCall(t, c, "unicast.channel.software.create", key, ids[0], "e2e-chan", "E2E channel", "summary", "channel-x86_64", "")
	mustFault(t, c, 1200, "already in use", "unicast.channel.software.create", key, ids[0], "e2e-chan", "E2E channel", "summary", "channel-x86_64", "")

	mustCall(t, c, "hub.logout", key)
	mustFault(t, c, -1, "Could not find session", "hub.listServerIds", key)
}

func TestRelayMulticastOneResultPerServer(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 4})
	g := startGateway(t, sim, func(c *server.Config) { c.RequestTimeout = 500 * time.Millisecond })
	c := kolo(t, g.URL)
	key := mustCall(t, c, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	ids := ints(mustCall(t, c, "hub.listServerIds", key))
	res := mustCall(t, c, "hub.attachToServers", key, anys(ids...))
	require.Len(t, member(res, "Successful", "ServerIds"), 4)

	// peripheral order follows ids; break three of them in different ways.
	byID := map[int64]*uyunisim.Server{}
	for _, p := range sim.Peripherals() {
		byID[p.ID()] = p
	}
	peri := make([]*uyunisim.Server, len(ids))
	for i, id := range ids {
		peri[i] = byID[id]
		require.NotNil(t, peri[i], "no simulated peripheral for id %d", id)
	}
	require.NoError(t, peri[1].Inject(uyunisim.Faults{Down: true}))
	require.NoError(t, peri[2].Inject(uyunisim.Faults{Hang: true}))
	require.NoError(t, peri[3].Inject(uyunisim.Faults{Latency: 100 * time.Millisecond}))

	start := time.Now()
	// Request order is not id order: results must follow the request.
	order := []int64{ids[3], ids[0], ids[2], ids[1]}
	res = mustCall(t, c, "broadcast.system.listSystems", key, anys(order...))
	took := time.Since(start)
	require.Less(t, took, 2*time.Second, "the hanging server is bounded by its deadline")
	require.Equal(t, anys(order[0], order[1]), member(res, "Successful", "ServerIds"))
	require.Equal(t, anys(order[2], order[3]), member(res, "Failed", "ServerIds"))
	results := member(res, "Results").([]any)
	require.Len(t, results, 4)
	outcomes := []string{}
	for _, r := range results {
		outcomes = append(outcomes, r.(map[string]any)["Outcome"].(string))
	}
	require.Equal(t, []string{"ok", "ok", "timeout", "transport"}, outcomes)
	failed := member(res, "Failed", "Responses").([]any)
	require.Contains(t, failed[0], fmt.Sprintf("Fault(%d)", gateway.CodeTimeout))
	require.Contains(t, failed[1], fmt.Sprintf("Fault(%d)", gateway.CodeUnreachable))
	require.Equal(t, false, member(res, "Complete"))

	// The multicast form with per-server argument lists, and a length mismatch.
	res = mustCall(t, c, "multicast.channel.software.getDetails", key, anys(ids[0], ids[3]), anys("nope-a", "nope-b"))
	require.Len(t, member(res, "Failed", "ServerIds"), 2)
	require.Contains(t, member(res, "Failed", "Responses").([]any)[0], "Fault(-210)")
	mustFault(t, c, gateway.CodeBadParams, "has 1 values for 2 servers", "multicast.channel.software.getDetails", key, anys(ids[0], ids[3]), anys("only-one"))
	mustFault(t, c, gateway.CodeBadParams, "must be an array", "multicast.channel.software.getDetails", key, anys(ids[0]), "not-a-list")
}

func TestAutoconnectAndExpiredPeripheralSession(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	c := kolo(t, g.URL)
	res := mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin")
	key := member(res, "SessionKey").(string)
	require.Len(t, member(res, "Successful", "ServerIds"), 3)
	require.Empty(t, member(res, "Failed", "ServerIds"))

	// Every peripheral forgets its sessions: relay re-logs in by itself.
	for _, p := range sim.Peripherals() {
		p.ExpireSessions()
	}
	res = mustCall(t, c, "broadcast.system.listSystems", key, "all")
	require.Len(t, member(res, "Successful", "ServerIds"), 3, "%v", member(res, "Failed"))
	for _, r := range member(res, "Results").([]any) {
		require.Equal(t, int64(2), r.(map[string]any)["Attempts"], "one failed call, one after logging in again")
	}
}

func TestPassthroughToHub(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, nil)
	c := kolo(t, g.URL)
	require.Equal(t, "27", mustCall(t, c, "api.getVersion"))
	key := mustCall(t, c, "hub.login", "admin", "admin").(string)
	// The gateway key stands in for the hub key.
	systems := mustCall(t, c, "system.listSystems", key).([]any)
	require.Len(t, systems, 2, "the hub's systems are its peripherals")
	// A hub fault passes unchanged.
	mustFault(t, c, -210, "", "channel.software.getDetails", key, "no-such-channel")
	// Plain Uyuni login through the gateway, as spacecmd does at the hub.
	hubKey := mustCall(t, kolo(t, g.Base+"/rpc/api"), "auth.login", "admin", "admin").(string)
	require.Regexp(t, `^[1-9][0-9]*x[a-f0-9]{64}$`, hubKey)
	mustCall(t, c, "user.listAssignableRoles", hubKey)
}

func TestBadInputsGetClearFaults(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, func(c *server.Config) { c.MaxBodyBytes = 64 << 10 })
	c := kolo(t, g.URL)
	key := mustCall(t, c, "hub.login", "admin", "admin").(string)

	for _, tc := range []struct {
		name     string
		method   string
		args     []any
		code     int
		contains string
	}{
		{"unknown session", "hub.listServerIds", []any{"gw0000"}, -1, "Could not find session"},
		{"unknown hub method", "hub.frobnicate", []any{key}, gateway.CodeNoMethod, "unknown method hub.frobnicate"},
		{"login wrong arg count", "hub.login", []any{"admin"}, gateway.CodeBadParams, "takes 2 arguments"},
		{"login wrong type", "hub.login", []any{"admin", 7}, gateway.CodeBadParams, "password must be a string, not int"},
		{"wrong password", "hub.login", []any{"admin", "nope"}, 2950, "Either the password or username is incorrect"},
		{"server id not a peripheral", "unicast.system.listSystems", []any{key, 999}, gateway.CodeUnknownServer, "server id 999 is not a peripheral"},
		{"server id wrong type", "unicast.system.listSystems", []any{key, "one"}, gateway.CodeBadParams, "server id must be an int"},
		{"unicast too few args", "unicast.system.listSystems", []any{key}, gateway.CodeBadParams, "takes a session key, a server id"},
		{"attach relay on manual session", "hub.attachToServers", []any{key, []any{1}}, gateway.CodeBadParams, "needs a relay or autoconnect session"},
		{"attach wrong list length", "hub.attachToServers", []any{key, []any{1, 2}, []any{"a"}, []any{"b"}}, gateway.CodeBadParams, "1 usernames for 2 server ids"},
		{"broadcast all needs broadcast", "multicast.system.listSystems", []any{key, "all"}, gateway.CodeBadParams, "server ids must be an array"},
	} {
		t.Run(tc.name, func(t *testing.T) { mustFault(t, c, tc.code, tc.contains, tc.method, tc.args...) })
	}

	for _, tc := range []struct {
		name, body string
		code       int
		contains   string
	}{
		{"malformed XML", "<methodCall><methodName>x</methodName><params><param><value><int>1</value></param></params></methodCall>", gateway.CodeParse, "malformed XML-RPC"},
		{"not XML at all", "hello", gateway.CodeParse, "malformed XML-RPC"},
		{"empty body", "", gateway.CodeParse, "malformed XML-RPC"},
		{"huge body", "<methodCall><methodName>x</methodName><params><param><value><string>" + strings.Repeat("a", 70<<10) + "</string></value></param></params></methodCall>", gateway.CodeTooLarge, "over the 65536 byte limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, g.URL, "text/xml", strings.NewReader(tc.body))
			require.Equal(t, 200, status, "faults travel with HTTP 200")
			require.Contains(t, body, fmt.Sprintf("<int>%d</int>", tc.code))
			require.Contains(t, body, tc.contains)
		})
	}
	// The gateway keeps serving after all of that.
	mustCall(t, c, "hub.listServerIds", key)
}

func TestHubXMLRPCAPIExamplesInPython(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	// The flows of hub-xmlrpc-api's README, as its users' scripts run them.
	out := python(t, `
import os, xmlrpc.client, json
client = xmlrpc.client.ServerProxy(os.environ["GW"])
out = {}
# manual
key = client.hub.login("admin", "admin")
ids = client.hub.listServerIds(key)
users = ["admin"] * len(ids); pwds = ["admin"] * len(ids)
client.hub.attachToServers(key, ids, users, pwds)
r = client.multicast.system.listSystems(key, ids)
out["manual"] = len(r["Successful"]["Responses"])
out["unicast"] = len(client.unicast.system.listSystems(key, ids[0]))
client.hub.logout(key)
# relay
key = client.hub.loginWithAuthRelayMode("admin", "admin")
client.hub.attachToServers(key, ids)
r = client.multicast.system.listSystems(key, ids)
out["relay"] = r["Successful"]["ServerIds"] == ids
# autoconnect
r = client.hub.loginWithAutoconnectMode("admin", "admin")
key = r["SessionKey"]
r = client.multicast.channel.software.create(key, ids, ["py-%d" % i for i in ids], ["Python channel %d" % i for i in ids], ["s"]*len(ids), ["channel-x86_64"]*len(ids), [""]*len(ids))
out["autoconnect"] = r["Successful"]["Responses"]
try:
    client.unicast.channel.software.create(key, ids[0], "py-%d" % ids[0], "Python channel %d" % ids[0], "s", "channel-x86_64", "")
except xmlrpc.client.Fault as f:
    out["fault"] = f.faultCode
print(json.dumps(out))
`, "GW="+g.URL)
	require.JSONEq(t, `{"manual":3,"unicast":10,"relay":true,"autoconnect":[1,1,1],"fault":1200}`, out)
}

// Answers are read into memory that later requests reuse once the
// client's answer is written (gateway/fanout/answers.go): arenas for
// fan-outs, pooled buffers for one server's answer. Broadcasts, unicasts
// and hub passthroughs of different methods, many at once and one after
// another, each get their own servers' answers, byte for byte what the
// first of each got.
func TestAnswersIntactWhileMemoryIsReused(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 6, Systems: 40})
	g := startGateway(t, sim, nil)
	c := newBenchClient(g.URL)
	res, err := c.call("hub.loginWithAutoconnectMode", "admin", "admin")
	require.NoError(t, err)
	v, err := res.(xmlrpc.Raw).Decode()
	require.NoError(t, err)
	key, _ := v.(rpc.Struct).Get("SessionKey")
	res, err = c.call("hub.listServerIds", key)
	require.NoError(t, err)
	v, err = res.(xmlrpc.Raw).Decode()
	require.NoError(t, err)
	ids := v.([]any)
	require.Len(t, ids, 6)
	// call is one kind of request: "broadcast", "unicast" (to the i-th
	// server) or "hub" (passthrough), and its answers as values.
	type call struct {
		kind, method string
		i            int
	}
	answer := func(k call) (any, error) {
		var r any
		var err error
		switch k.kind {
		case "broadcast":
			r, err = c.call("broadcast."+k.method, key, "all")
		case "unicast":
			r, err = c.call("unicast."+k.method, key, ids[k.i])
		default:
			r, err = c.call(k.method, key)
		}
		if err != nil {
			return nil, fmt.Errorf("%v: %w", k, err)
		}
		v, err := r.(xmlrpc.Raw).Decode()
		if err != nil || k.kind != "broadcast" {
			return v, err
		}
		ok, _ := v.(rpc.Struct).Get("Successful")
		got, _ := ok.(rpc.Struct).Get("Responses")
		if n := len(got.([]any)); n != 6 {
			return nil, fmt.Errorf("%v: %d servers answered, want 6", k, n)
		}
		return got, nil
	}
	var calls []call
	for _, m := range []string{"system.listSystems", "channel.listAllChannels", "activationkey.listActivationKeys"} {
		calls = append(calls, call{"broadcast", m, 0}, call{"hub", m, 0})
		for i := range ids {
			calls = append(calls, call{"unicast", m, i})
		}
	}
	want := map[call]any{}
	for _, k := range calls {
		w, err := answer(k)
		require.NoError(t, err)
		want[k] = w
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 12 {
				k := calls[(i*5+j*7)%len(calls)]
				got, err := answer(k)
				if err == nil && !reflect.DeepEqual(want[k], got) {
					err = fmt.Errorf("%v: answers differ from the first call's", k)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
