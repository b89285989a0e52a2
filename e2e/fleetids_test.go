package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fleetids"
)

// spacecmd on many peripherals sees the whole fleet: every system of every
// target under a gateway-wide id, and a command that names systems or
// actions reaches only the servers that own them, with their own ids.
func TestSpacecmdFleetIDs(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3, Systems: 4})
	g := startGateway(t, sim, nil)
	ps := sim.Peripherals()
	all := kolo(t, forms[1].url(g, "all"))
	key := mustCall(t, all, "auth.login", "admin", "admin").(string)

	// system_list: the sum of every peripheral's systems, ids unique and
	// gateway-wide, each naming where it lives.
	systems := mustCall(t, all, "system.listSystems", key).([]any)
	require.Len(t, systems, 12)
	byPeripheral := map[string][]int64{}
	seen := map[int64]bool{}
	for _, s := range systems {
		id := member(s, "id").(int64)
		require.True(t, fleetids.IsGlobal(id), "%d", id)
		require.False(t, seen[id], "id %d twice", id)
		seen[id] = true
		where := member(s, "peripheral").(string)
		byPeripheral[where] = append(byPeripheral[where], id)
	}
	require.Len(t, byPeripheral, 3)
	sysOf := func(i int) int64 { return byPeripheral[ps[i].FQDN()][0] }
	localOf := func(i int) int64 {
		for _, s := range mustCall(t, kolo(t, forms[1].url(g, ps[i].FQDN())), "system.listSystems", key).([]any) {
			return member(s, "id").(int64)
		}
		t.Fatal("no systems")
		return 0
	}
	sent := func(p *uyunisim.Server, method string) [][]any {
		var out [][]any
		for _, c := range p.Calls() {
			if c.Method == method {
				out = append(out, c.Params[1:])
			}
		}
		return out
	}

	// system_details-like: one system by its gateway-wide id reaches only
	// its peripheral, with that peripheral's own id.
	mustCall(t, all, "system.config.listChannels", key, sysOf(1))
	require.Empty(t, sent(ps[0], "system.config.listChannels"))
	require.Equal(t, [][]any{{localOf(1)}}, sent(ps[1], "system.config.listChannels"))
	require.Empty(t, sent(ps[2], "system.config.listChannels"))

	// Systems of two peripherals in one call: split between them.
	mustCall(t, all, "configchannel.create", key, "fleet-cfg", "Fleet cfg", "for the id test")
	mustCall(t, all, "system.config.addChannels", key, anys(sysOf(0), sysOf(2)), []any{"fleet-cfg"}, false)
	require.Equal(t, [][]any{{[]any{localOf(0)}, []any{"fleet-cfg"}, false}}, sent(ps[0], "system.config.addChannels"))
	require.Empty(t, sent(ps[1], "system.config.addChannels"))
	require.Equal(t, [][]any{{[]any{localOf(2)}, []any{"fleet-cfg"}, false}}, sent(ps[2], "system.config.addChannels"))

	// An action scheduled on one peripheral has a gateway-wide id, and
	// asking about it reaches that peripheral only.
	action := mustCall(t, all, "system.config.scheduleApplyConfigChannel", key, anys(sysOf(2)), time.Now(), false).(int64)
	require.True(t, fleetids.IsGlobal(action), "%d", action)
	mustCall(t, all, "schedule.listInProgressSystems", key, action)
	require.Len(t, sent(ps[2], "schedule.listInProgressSystems"), 1)
	require.Empty(t, sent(ps[0], "schedule.listInProgressSystems"))
	actions := mustCall(t, all, "schedule.listAllActions", key).([]any)
	require.NotEmpty(t, actions)
	found := false
	for _, a := range actions {
		found = found || member(a, "id").(int64) == action
	}
	require.True(t, found, "the listing shows the action under the id the schedule call gave")

	// A server's own id typed by hand, or an id the gateway never gave:
	// refused, nothing sent.
	before := len(sent(ps[0], "system.config.listChannels"))
	mustFault(t, all, gateway.CodeServerLocalID, "one peripheral", "system.config.listChannels", key, localOf(0))
	mustFault(t, all, gateway.CodeServerLocalID, "not a system id this gateway gave out", "system.config.listChannels", key, int64(fleetids.Base+1_000_000))
	require.Len(t, sent(ps[0], "system.config.listChannels"), before)

	// One target keeps the server's own ids.
	one := mustCall(t, kolo(t, forms[1].url(g, ps[0].FQDN())), "system.listSystems", key).([]any)
	require.False(t, fleetids.IsGlobal(member(one[0], "id").(int64)))
}

// With Redis, two replicas give the same ids, and so does a restart.
func TestFleetIDsAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	sim := startSim(t, uyunisim.Config{Peripherals: 2, Systems: 3})
	keyFile, prefix := secretKeyFile(t), redistest.Prefix(t)
	tweak := func(c *server.Config) { c.RedisURL, c.SecretKeyFile, c.RedisPrefix = srv.URL, keyFile, prefix }
	ids := func(g *gw) []int64 {
		c := kolo(t, forms[1].url(g, "all"))
		key := mustCall(t, c, "auth.login", "admin", "admin").(string)
		var out []int64
		for _, s := range mustCall(t, c, "system.listSystems", key).([]any) {
			out = append(out, member(s, "id").(int64))
		}
		return out
	}
	first := ids(startGateway(t, sim, tweak))
	require.Len(t, first, 6)
	require.Equal(t, first, ids(startGateway(t, sim, tweak)), "another replica, or the same one restarted")
}
