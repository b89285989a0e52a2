package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Staged rollouts (issue 15) against uyunisim: what each server was sent
// is read from the simulator's call log.

// groupDoc is a one-object bundle: one write (systemgroup.create) per server.
var groupDoc = map[string]any{"apiVersion": "hubgw/v1", "kind": "SystemGroup", "metadata": map[string]any{"name": "web"},
	"spec": map[string]any{"description": "Web servers"}}

// startRollout posts a rollout of groupDoc to all peripherals, in id
// order, with the given settings, and returns its id.
func startRollout(t *testing.T, g *gw, token string, settings map[string]any) string {
	t.Helper()
	req := map[string]any{"documents": []any{groupDoc}, "targets": []any{"all"}, "order": "id"}
	for k, v := range settings {
		req[k] = v
	}
	r := rest(t, g, http.MethodPost, "/api/v1/rollouts", token, req)
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	m := r.JSON(t)
	require.Equal(t, "running", m["status"])
	require.Equal(t, false, m["durable"], "the memory store")
	require.Equal(t, "/api/v1/rollouts/"+m["id"].(string), r.Header.Get("Location"))
	return m["id"].(string)
}

func getRollout(t *testing.T, g *gw, token, id string) map[string]any {
	t.Helper()
	r := rest(t, g, http.MethodGet, "/api/v1/rollouts/"+id, token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.JSON(t)
}

// settledRollout waits until the rollout is no longer running and no
// server is in flight (those of a halted wave finish after the halt).
func settledRollout(t *testing.T, g *gw, token, id string) map[string]any {
	t.Helper()
	var m map[string]any
	require.Eventually(t, func() bool {
		m = getRollout(t, g, token, id)
		for _, s := range serverStates(t, m) {
			if strings.HasPrefix(s, "running#") {
				return false
			}
		}
		return m["status"] != "running"
	}, 60*time.Second, 20*time.Millisecond)
	return m
}

func decideRollout(t *testing.T, g *gw, token, id, op string, body any) map[string]any {
	t.Helper()
	r := rest(t, g, http.MethodPost, "/api/v1/rollouts/"+id+"/"+op, token, body)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.JSON(t)
}

// serverStates maps each server id to "status#attempt".
func serverStates(t *testing.T, m map[string]any) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	for _, tv := range m["targets"].([]any) {
		id, err := tv.(map[string]any)["serverId"].(json.Number).Int64()
		require.NoError(t, err)
		out[id] = fmt.Sprintf("%s#%s", member(tv, "status"), member(tv, "attempt"))
	}
	return out
}

// creates counts the systemgroup.create calls that created the group on
// each peripheral (a call refused, for a stale session, writes nothing).
func creates(sim *uyunisim.Sim) map[int64]int {
	out := map[int64]int{}
	for _, p := range sim.Peripherals() {
		for _, c := range p.Calls() {
			if c.Method == "systemgroup.create" && c.Outcome == uyunisim.OutcomeOK {
				out[p.ID()]++
			}
		}
	}
	return out
}

func failCreate(t *testing.T, ps ...*uyunisim.Server) {
	t.Helper()
	for _, p := range ps {
		require.NoError(t, p.Inject(uyunisim.Faults{FailMethod: map[string]*rpc.Fault{"systemgroup.create": {Code: 2800, String: "no room"}}}))
	}
}

func TestRolloutCanaryFailureHalts(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 4})
	ps := sim.Peripherals()
	failCreate(t, ps[0])
	resetCalls(sim)

	id := startRollout(t, g, token, map[string]any{"waves": []any{2}})
	m := settledRollout(t, g, token, id)
	require.Equal(t, "halted", m["status"])
	require.Equal(t, "the canary failed", m["reason"])
	require.Len(t, m["documentsHash"], 64)
	require.Equal(t, map[int64]string{ps[0].ID(): "failed#1", ps[1].ID(): "pending#0", ps[2].ID(): "pending#0", ps[3].ID(): "pending#0"}, serverStates(t, m))
	require.Equal(t, json.Number("1"), member(m, "counts", "failed"))
	waves := m["waves"].([]any)
	require.Len(t, waves, 3, "the canary, then waves of 2")
	require.Equal(t, "failed", member(waves[0], "status"))
	require.Equal(t, "pending", member(waves[1], "status"))
	for _, p := range ps[1:] {
		require.Empty(t, writes(p), "%s was written to", p.Name())
	}
	obj := member(m["targets"].([]any)[0], "objects").([]any)[0]
	require.Equal(t, "failed", member(obj, "outcome"))
	require.Equal(t, json.Number("2800"), member(obj, "faultCode"))

	list := rest(t, g, http.MethodGet, "/api/v1/rollouts", token, nil).JSON(t)["rollouts"].([]any)
	require.Equal(t, id, member(list[0], "id"))
	requireProblem(t, rest(t, g, http.MethodGet, "/api/v1/rollouts/nope", token, nil), http.StatusNotFound, 4124, "no such rollout")
	requireProblem(t, rest(t, g, http.MethodPost, "/api/v1/rollouts/"+id+"/resume", "", nil), http.StatusUnauthorized, -1, "bearer")
	m = decideRollout(t, g, token, id, "abort", nil)
	require.Equal(t, "aborted", m["status"])
	require.Equal(t, "skipped#0", serverStates(t, m)[ps[3].ID()])
	requireProblem(t, rest(t, g, http.MethodPost, "/api/v1/rollouts/"+id+"/resume", token, nil), http.StatusConflict, 4125, "only a paused or halted rollout resumes")
}

func TestRolloutBadRequests(t *testing.T) {
	_, g, token := desiredRig(t, uyunisim.Config{Peripherals: 2})
	for _, tc := range []struct {
		body     any
		status   int
		contains string
	}{
		{map[string]any{"targets": []any{"all"}}, http.StatusUnprocessableEntity, "documents: a list of documents is required"},
		{map[string]any{"documents": []any{groupDoc}, "targets": []any{"all"}, "waves": []any{"x%"}}, http.StatusUnprocessableEntity, "waves[0]"},
		{map[string]any{"documents": []any{groupDoc}, "targets": []any{"all"}, "colour": "red"}, http.StatusUnprocessableEntity, "colour: unknown member"},
		{map[string]any{"documents": []any{groupDoc}, "targets": []any{"all"}, "groupSlots": map[string]any{"dc9": 1}}, http.StatusBadRequest, "not a configured group"},
		{map[string]any{"documents": []any{map[string]any{"kind": "Nope"}}, "targets": []any{"all"}}, http.StatusUnprocessableEntity, "documents[0]"},
		{"[", http.StatusBadRequest, "not a rollout object"},
	} {
		r := rest(t, g, http.MethodPost, "/api/v1/rollouts", token, tc.body)
		require.Equal(t, tc.status, r.Status, "%v: %s", tc.body, r.Body)
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		require.Contains(t, string(r.Body), tc.contains)
	}
}

// maxFailures 1 with two failing servers: the second failure halts; the
// later waves are untouched; resume with a larger budget finishes them;
// retry after the servers are fixed touches only them, as attempt 2.
func TestRolloutBudgetResumeRetry(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 6})
	ps := sim.Peripherals()
	failCreate(t, ps[1], ps[2])
	resetCalls(sim)

	id := startRollout(t, g, token, map[string]any{"waves": []any{2}, "maxFailures": 1})
	m := settledRollout(t, g, token, id)
	require.Equal(t, "halted", m["status"])
	require.Contains(t, m["reason"], "2 servers failed, over the budget of 1")
	states := serverStates(t, m)
	require.Equal(t, "succeeded#1", states[ps[0].ID()])
	require.Equal(t, "failed#1", states[ps[1].ID()])
	require.Equal(t, "failed#1", states[ps[2].ID()])
	for _, p := range ps[3:] {
		require.Equal(t, "pending#0", states[p.ID()])
		require.Empty(t, writes(p), "%s was written to", p.Name())
	}

	m = decideRollout(t, g, token, id, "resume", map[string]any{"maxFailures": 2})
	require.Equal(t, "running", m["status"])
	m = settledRollout(t, g, token, id)
	require.Equal(t, "completed-with-failures", m["status"])
	for _, p := range ps[3:] {
		require.Equal(t, "succeeded#1", serverStates(t, m)[p.ID()])
	}

	for _, p := range ps[1:3] {
		require.NoError(t, p.ClearFaults())
	}
	resetCalls(sim)
	decideRollout(t, g, token, id, "retry", nil)
	m = settledRollout(t, g, token, id)
	require.Equal(t, "succeeded", m["status"])
	require.Equal(t, map[int64]int{ps[1].ID(): 1, ps[2].ID(): 1}, creates(sim), "only the failed servers were written to")
	for _, p := range ps {
		want := "succeeded#1"
		if p == ps[1] || p == ps[2] {
			want = "succeeded#2"
		}
		require.Equal(t, want, serverStates(t, m)[p.ID()], p.Name())
		if want == "succeeded#1" {
			require.Empty(t, p.Calls(), "%s was not retried", p.Name())
		}
	}
	requireProblem(t, rest(t, g, http.MethodPost, "/api/v1/rollouts/"+id+"/retry", token, nil), http.StatusConflict, 4125, "no failed server")
}

// groupSlots: never more than one server of the group at once, though
// the wave has room for all (the call log's times).
func TestRolloutGroupSlots(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 5})
	ps := sim.Peripherals()
	g := startGateway(t, sim, func(c *server.Config) {
		c.Groups = map[string][]string{"dc1": {ref(sim, 1), ref(sim, 2), ref(sim, 3)}}
	})
	token := restLogin(t, g, "autoconnect")
	for _, p := range ps {
		require.NoError(t, p.Inject(uyunisim.Faults{Latency: 30 * time.Millisecond}))
	}
	resetCalls(sim)
	id := startRollout(t, g, token, map[string]any{"waves": []any{"100%"}, "groupSlots": map[string]any{"dc1": 1}})
	m := settledRollout(t, g, token, id)
	require.Equal(t, "succeeded", m["status"])

	type span struct{ from, to time.Time }
	spanOf := func(p *uyunisim.Server) span {
		calls := p.Calls()
		require.NotEmpty(t, calls)
		s := span{calls[0].Start, calls[0].Start.Add(calls[0].Duration)}
		for _, c := range calls {
			if c.Start.Before(s.from) {
				s.from = c.Start
			}
			if end := c.Start.Add(c.Duration); end.After(s.to) {
				s.to = end
			}
		}
		return s
	}
	group := []span{spanOf(ps[1]), spanOf(ps[2]), spanOf(ps[3])}
	for i := range group {
		for j := range group {
			if i != j {
				require.False(t, group[i].from.Before(group[j].to) && group[j].from.Before(group[i].to),
					"servers %d and %d of dc1 were worked on at once: %v %v", i+1, j+1, group[i], group[j])
			}
		}
	}
	// The server outside the group did run beside one of it: the slot
	// bounds the group, not the wave.
	other := spanOf(ps[4])
	overlaps := false
	for _, s := range group {
		overlaps = overlaps || (other.from.Before(s.to) && s.from.Before(other.to))
	}
	require.True(t, overlaps, "the wave ran one server at a time")
}

// The session expires in the middle: the rollout pauses with reason
// credentials; resume from a new login finishes it, each server written once.
func TestRolloutSessionExpiryPauses(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 4})
	ps := sim.Peripherals()
	for _, p := range ps {
		require.NoError(t, p.Inject(uyunisim.Faults{Latency: 50 * time.Millisecond}))
	}
	resetCalls(sim)
	id := startRollout(t, g, token, map[string]any{"waves": []any{1}, "concurrency": 1})
	require.Eventually(t, func() bool {
		return strings.HasPrefix(serverStates(t, getRollout(t, g, token, id))[ps[1].ID()], "succeeded")
	}, 30*time.Second, 5*time.Millisecond)
	require.Equal(t, http.StatusNoContent, rest(t, g, http.MethodPost, "/api/v1/logout", token, nil).Status)

	token = restLogin(t, g, "autoconnect")
	m := settledRollout(t, g, token, id)
	require.Equal(t, "paused", m["status"])
	require.Equal(t, "credentials", m["reason"])
	require.Contains(t, serverStates(t, m)[ps[3].ID()], "pending", "the last server waits")

	decideRollout(t, g, token, id, "resume", nil)
	m = settledRollout(t, g, token, id)
	require.Equal(t, "succeeded", m["status"], "%v", m)
	require.Equal(t, map[int64]int{ps[0].ID(): 1, ps[1].ID(): 1, ps[2].ID(): 1, ps[3].ID(): 1}, creates(sim))
}

// GET /api/v1/rollouts/{id}/events: one event per server, wave and
// rollout change, until the rollout ends.
func TestRolloutEvents(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 3})
	for _, p := range sim.Peripherals() {
		require.NoError(t, p.Inject(uyunisim.Faults{Latency: 20 * time.Millisecond}))
	}
	id := startRollout(t, g, token, map[string]any{"waves": []any{1}, "concurrency": 1})
	req, err := http.NewRequest(http.MethodGet, g.Base+"/api/v1/rollouts/"+id+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))

	type event struct {
		Type   string `json:"type"`
		Status string `json:"status"`
		Wave   int    `json:"wave"`
		Server *struct {
			ServerID int64 `json:"serverId"`
		} `json:"server"`
	}
	var events []event
	sc := bufio.NewScanner(resp.Body)
	name := ""
	for sc.Scan() { // until the stream ends with the rollout
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "event: "); ok {
			name = n
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			var e event
			require.NoError(t, json.Unmarshal([]byte(d), &e))
			require.Equal(t, name, e.Type)
			events = append(events, e)
		}
	}
	require.NotEmpty(t, events)
	require.Equal(t, event{Type: "rollout", Status: "succeeded"}, events[len(events)-1])
	succeeded := map[string]int{}
	for _, e := range events {
		if e.Status != "succeeded" {
			continue
		}
		switch e.Type {
		case "server":
			succeeded[fmt.Sprint("server ", e.Server.ServerID)]++
		case "wave":
			succeeded[fmt.Sprint("wave ", e.Wave)]++
		}
	}
	want := map[string]int{"wave 0": 1, "wave 1": 1, "wave 2": 1}
	for _, p := range sim.Peripherals() {
		want[fmt.Sprint("server ", p.ID())] = 1
	}
	require.Equal(t, want, succeeded)
}

// takeoverRig is n peripherals (each prepared by prepare, if set, then
// answering in 300 ms, so waves take seconds) and two gateway processes
// on one redis-server with a 1 s rollout lease, with XML-RPC clients and
// a session key; the call log starts empty.
func takeoverRig(t *testing.T, n int, prepare func(*uyunisim.Server)) (*uyunisim.Sim, []*replica, *koloClient, *koloClient, string) {
	t.Helper()
	srv := redistest.Start(t)
	sim := startSim(t, uyunisim.Config{Peripherals: n})
	rs := replicas(t, 2, sim, srv, "--rollout-lease", "1s")
	a, b := kolo(t, rs[0].URL), kolo(t, rs[1].URL)
	key := member(mustCall(t, a, "hub.loginWithAutoconnectMode", "admin", "admin"), "SessionKey").(string)
	for _, p := range sim.Peripherals() {
		if prepare != nil {
			prepare(p)
		}
		require.NoError(t, p.Inject(uyunisim.Faults{Latency: 300 * time.Millisecond}))
	}
	resetCalls(sim)
	return sim, rs, a, b, key
}

// Two hubgw processes on one Redis: the owner is killed mid-wave; the
// other takes the rollout over and finishes it; every server got the
// group exactly once; the record shows the takeover. Started and read
// over XML-RPC (hub.startRollout, hub.getRollout).
func TestRolloutTakeover(t *testing.T) {
	sim, rs, a, b, key := takeoverRig(t, 4, nil)
	ps := sim.Peripherals()

	docs := "apiVersion: hubgw/v1\nkind: SystemGroup\nmetadata: {name: web}\nspec: {description: Web servers}\n"
	started := mustCall(t, a, "hub.startRollout", key, map[string]any{"documents": docs, "targets": []any{"all"}, "order": "id",
		"waves": []any{1}, "concurrency": 1})
	id := member(started, "id").(string)
	require.Equal(t, true, member(started, "durable"))
	get := func(c *koloClient) any { return mustCall(t, c, "hub.getRollout", key, id) }
	status := func(r any, i int) string { return member(member(r, "targets").([]any)[i], "status").(string) }

	// A owns it; kill A while the second server's step is under way.
	require.Eventually(t, func() bool {
		r := get(b)
		return status(r, 0) == "succeeded" && status(r, 1) == "running"
	}, 60*time.Second, 10*time.Millisecond)
	owner := member(get(b), "owner").(string)
	rs[0].kill(t)

	var r any
	require.Eventually(t, func() bool {
		r = get(b)
		return member(r, "status") == "succeeded"
	}, 60*time.Second, 50*time.Millisecond, "B never finished the rollout")
	require.NotEqual(t, owner, member(r, "owner"))
	took := false
	for _, e := range member(r, "log").([]any) {
		took = took || member(e, "event") == "taken over from "+owner
	}
	require.True(t, took, "the record shows the takeover: %v", member(r, "log"))
	want := map[int64]int{}
	for _, p := range ps {
		want[p.ID()] = 1
	}
	require.Equal(t, want, creates(sim), "every server got the group exactly once")
	list := mustCall(t, b, "hub.listRollouts", key).([]any)
	require.Equal(t, id, member(list[0], "id"))
}

// order rings: the configured canary ring first, then the others, the
// ring of "*" last; a canary failure there halts before any other ring.
func TestRolloutRings(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 5})
	ps := sim.Peripherals()
	g := startGateway(t, sim, func(c *server.Config) {
		c.Rings = map[string][]string{"canary": {ref(sim, 3)}, "early": {ref(sim, 4), ref(sim, 1)}, "rest": {"*"}}
	})
	token := restLogin(t, g, "autoconnect")
	failCreate(t, ps[3])
	resetCalls(sim)
	id := startRollout(t, g, token, map[string]any{"order": "rings", "waves": []any{2}})
	m := settledRollout(t, g, token, id)
	require.Equal(t, "halted", m["status"])
	var order []int64
	for _, tv := range m["targets"].([]any) {
		n, _ := member(tv, "serverId").(json.Number).Int64()
		order = append(order, n)
	}
	require.Equal(t, []int64{ps[3].ID(), ps[1].ID(), ps[4].ID(), ps[0].ID(), ps[2].ID()}, order)
	require.Equal(t, map[int64]int{}, creates(sim))
}

// The XML-RPC methods through Python's xmlrpc.client: start with the YAML
// text, read, list, a halted rollout resumed with a larger budget, the
// faults for a bad request and an unknown rollout.
func TestRolloutPythonXMLRPC(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	failCreate(t, sim.Peripherals()[2])
	out := python(t, `
import json, os, time, xmlrpc.client as x
s = x.ServerProxy(os.environ["GW"])
k = s.hub.loginWithAutoconnectMode("admin", "admin")["SessionKey"]
docs = "apiVersion: hubgw/v1\nkind: SystemGroup\nmetadata: {name: web}\nspec: {description: Web servers}\n"
out = {}
r = s.hub.startRollout(k, {"documents": docs, "targets": ["all"], "order": "id", "waves": ["50%"]})
out["started"] = r["status"]
def settle():  # halted or done, and no server left in flight (those finish after a halt)
    for _ in range(3000):
        g = s.hub.getRollout(k, r["id"])
        if g["status"] != "running" and all(t["status"] != "running" for t in g["targets"]):
            return g
        time.sleep(0.01)
g = settle()
out["halted"] = [g["status"], g["reason"], [t["status"] for t in g["targets"]]]
s.hub.resumeRollout(k, r["id"], "1")
g = settle()
out["resumed"] = [g["status"], g["counts"]["created"], g["counts"]["failed"]]
out["listed"] = s.hub.listRollouts(k)[0]["id"] == r["id"]
try:
    s.hub.startRollout(k, {"documents": docs, "targets": ["all"], "canary": "one"})
except x.Fault as e:
    out["invalid"] = [e.faultCode, e.faultString]
try:
    s.hub.abortRollout(k, "nope")
except x.Fault as e:
    out["missing"] = e.faultCode
print(json.dumps(out))
`, "GW="+g.URL)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Equal(t, "running", got["started"])
	require.Equal(t, []any{"halted", "1 servers failed, over the budget of 0", []any{"succeeded", "succeeded", "failed"}}, got["halted"])
	require.Equal(t, []any{"completed-with-failures", float64(2), float64(1)}, got["resumed"])
	require.Equal(t, true, got["listed"])
	require.Equal(t, []any{float64(-32602), "hubgw: invalid rollout request: canary: must be an integer, at least 0"}, got["invalid"])
	require.Equal(t, float64(4124), got["missing"])
}

// A rollout waiting for its user keeps its session alive: the creator's
// token, idle far longer than the session's idle expiry, still works.
func TestRolloutKeepsItsSessionAlive(t *testing.T) {
	const idle = time.Second // the session's idle expiry
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, func(c *server.Config) {
		c.SessionIdle = idle
		c.RolloutLease = 200 * time.Millisecond
	})
	token := restLogin(t, g, "autoconnect")
	id := startRollout(t, g, token, map[string]any{"pauseAfterCanary": true})
	watcher := restLogin(t, g, "autoconnect") // reads without touching the rollout's session
	since := time.Now()
	require.Eventually(t, func() bool {
		m := getRollout(t, g, watcher, id)
		return m["status"] == "paused" && time.Since(since) > 3*idle
	}, 30*time.Second, 100*time.Millisecond)
	m := getRollout(t, g, token, id)
	require.Equal(t, "canary", m["reason"])
	decideRollout(t, g, token, id, "resume", nil)
	require.Equal(t, "succeeded", settledRollout(t, g, token, id)["status"])

	// Without a rollout waiting, the same idle time ends a session. Any
	// request would renew it, so there is nothing to poll: the expiry
	// being tested is a duration.
	time.Sleep(idle + idle/2)
	requireProblem(t, rest(t, g, http.MethodGet, "/api/v1/rollouts", token, nil), http.StatusUnauthorized, -1, "session")
}

// unreachable: defer sets a server that does not answer aside instead of
// counting it against the budget; once it is back, retry finishes it.
func TestRolloutUnreachableDeferred(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 3})
	ps := sim.Peripherals()
	require.NoError(t, ps[1].Inject(uyunisim.Faults{Down: true}))
	id := startRollout(t, g, token, map[string]any{"unreachable": "defer"})
	m := settledRollout(t, g, token, id)
	require.Equal(t, "completed-with-failures", m["status"], "%v", m["reason"])
	require.Equal(t, map[int64]string{ps[0].ID(): "succeeded#1", ps[1].ID(): "deferred#1", ps[2].ID(): "succeeded#1"}, serverStates(t, m))
	require.Equal(t, json.Number("1"), member(m, "counts", "unreachable"))

	require.NoError(t, ps[1].ClearFaults())
	decideRollout(t, g, token, id, "retry", map[string]any{"servers": []any{fmt.Sprint(ps[1].ID())}})
	m = settledRollout(t, g, token, id)
	require.Equal(t, "succeeded", m["status"], "%v", m["targets"])
	require.Equal(t, "succeeded#2", serverStates(t, m)[ps[1].ID()])
}

// A takeover after a server's deploy was scheduled and before its outcome
// was recorded: the new owner plans the in-doubt server again, finds the
// deploy action by its date (the claim's stamp) and schedules none again,
// so every subscribed system got exactly one deploy action.
func TestRolloutTakeoverDeploysOnce(t *testing.T) {
	subscribed := map[int64][]any{}
	sim, rs, a, b, key := takeoverRig(t, 3, func(p *uyunisim.Server) {
		c := kolo(t, p.URL())
		pk := mustCall(t, c, "auth.login", "admin", "admin")
		mustCall(t, c, "configchannel.create", pk, "app-cfg", "App", "App config", "normal")
		for _, s := range mustCall(t, c, "system.listSystems", pk).([]any)[:2] {
			subscribed[p.ID()] = append(subscribed[p.ID()], member(s, "id"))
		}
		mustCall(t, c, "system.config.addChannels", pk, subscribed[p.ID()], []any{"app-cfg"}, false)
	})
	ps := sim.Peripherals()

	docs := "apiVersion: hubgw/v1\nkind: ConfigChannel\nmetadata: {name: app-cfg}\n" +
		"spec: {name: App, description: App config, deploy: always, files: [{path: /etc/app.conf, content: \"x=1\\n\"}]}\n"
	started := mustCall(t, a, "hub.startRollout", key, map[string]any{"documents": docs, "targets": []any{"all"}, "order": "id",
		"waves": []any{1}, "concurrency": 1})
	id := member(started, "id").(string)
	deploys := func(p *uyunisim.Server) int {
		n := 0
		for _, c := range p.Calls() {
			if c.Method == "configchannel.deployAllSystems" && c.Outcome == uyunisim.OutcomeOK {
				n++
			}
		}
		return n
	}
	// A schedules the second server's deploy, then dies verifying it.
	require.Eventually(t, func() bool { return deploys(ps[1]) == 1 }, 60*time.Second, 5*time.Millisecond)
	rs[0].kill(t)

	var r any
	require.Eventually(t, func() bool {
		r = mustCall(t, b, "hub.getRollout", key, id)
		return member(r, "status") == "succeeded"
	}, 60*time.Second, 50*time.Millisecond, "B never finished the rollout")
	second := member(r, "targets").([]any)[1]
	require.EqualValues(t, 2, member(second, "attempt"), "the in-doubt server ran again: %v", second)
	require.Contains(t, member(member(second, "objects").([]any)[0], "reason"), "deploy not scheduled again")
	for _, p := range ps {
		require.Equal(t, 1, deploys(p), "%s: deployAllSystems calls", p.Name())
		per := map[string]int{}
		for _, act := range p.Objects().Actions {
			require.Equal(t, "Deploy config files to system", act.Type)
			for sid := range act.Systems {
				per[sid]++
			}
		}
		want := map[string]int{}
		for _, sid := range subscribed[p.ID()] {
			want[fmt.Sprint(sid)] = 1
		}
		require.Equal(t, want, per, "%s: deploy actions per system", p.Name())
	}
}
