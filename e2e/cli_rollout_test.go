package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// groupFile writes a one-object bundle, the system group name: one
// write (systemgroup.create) per server.
func groupFile(t *testing.T, dir, name string) string {
	t.Helper()
	return writeFile(t, dir, name+".yaml", "apiVersion: hubgw/v1\nkind: SystemGroup\nmetadata: {name: "+name+"}\nspec: {description: "+name+" servers}\n")
}

// loggedInCLI is a CLI user of a freshly built hubgw, logged in to g
// from a script (autoconnect, the password on stdin).
func loggedInCLI(t *testing.T, g *gw, env ...string) *cliUser {
	t.Helper()
	u := newCLIUser(t, buildHubgw(t), env...)
	r := u.run(t, "admin\n", nil, "login", "--gateway", g.Base, "-u", "admin", "--mode", "autoconnect", "--password-stdin")
	require.Equal(t, 0, r.Code, "%s", r.Stderr)
	return u
}

// rolloutID is the rollout a CLI run names in its last line on stderr.
func rolloutID(t *testing.T, r cliRun) string {
	t.Helper()
	m := regexp.MustCompile(`rollout (\w+) (halted|was aborted|is paused|finished|succeeded)`).FindStringSubmatch(r.Stderr)
	require.NotNil(t, m, "no rollout named: %s", r.Stderr)
	return m[1]
}

// requireServerRow checks the status table's row of a server: wave,
// status, attempt, created, and the fault column's start.
func requireServerRow(t *testing.T, stdout string, p *uyunisim.Server, wave int, status string, attempt, created int, fault string) {
	t.Helper()
	require.Regexp(t, fmt.Sprintf(`(?m)^%s\s+%d\s+%s\s+%d\s+%d\s+0\s+0\s+\d+\s+%s`, regexp.QuoteMeta(pname(p)), wave, status, attempt, created, regexp.QuoteMeta(fault)), stdout)
}

// TestCLIRollout drives staged rollouts through the hubgw binary without
// a terminal: every rollout exit code from a real situation (3 the canary
// failed, 5 paused after the canary, 4 failures within the budget, 0),
// resume, retry of the fixed server only (the simulator's call log),
// abort, --detach then status -w, a deferred server (4) retried by name, -o json against the REST answer, and a
// plain line per event.
func TestCLIRollout(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 4})
	g := startGateway(t, sim, nil)
	u := loggedInCLI(t, g)
	ps := sim.Peripherals()
	token := keptToken(t, u, g.Base)
	dir := t.TempDir()

	t.Run("help documents the exit codes", func(t *testing.T) {
		for _, args := range [][]string{{"--help"}, {"apply", "--help"}, {"rollout", "--help"}, {"rollout", "status", "--help"}} {
			r := u.ok(t, args...)
			require.Contains(t, r.Stdout, "3  rollout halted")
			require.Contains(t, r.Stdout, "5  rollout paused")
		}
		require.Contains(t, u.ok(t, "apply", "--help").Stdout, "--pause-after-canary")
	})

	t.Run("the canary fails: exit 3, nobody else written; abort", func(t *testing.T) {
		failCreate(t, ps[0])
		t.Cleanup(func() { require.NoError(t, ps[0].ClearFaults()) })
		resetCalls(sim)
		r := u.run(t, "", nil, "apply", "-f", groupFile(t, dir, "canary"), "--targets", "all", "--order", "id", "--wave", "2")
		require.Equal(t, 3, r.Code, "%s%s", r.Stdout, r.Stderr)
		id := rolloutID(t, r)
		require.Contains(t, r.Stderr, "Rollout "+id+" lives in the gateway's memory only")
		require.Contains(t, r.Stderr, "apply: rollout "+id+": wave 1/3: "+pname(ps[0])+" failed (attempt 1); servers 1/4 done, 1 failed (budget 0)\n")
		require.Contains(t, r.Stderr, "apply: rollout "+id+": halted: the canary failed\n")
		require.Regexp(t, `Error: rollout `+id+` halted: the canary failed \(hubgw rollout resume\|retry\|abort `+id+`\)\n$`, r.Stderr)
		require.Contains(t, r.Stdout, "Rollout "+id+": halted (the canary failed), by admin")
		require.Regexp(t, `(?m)^SERVER\s+WAVE\s+STATUS\s+ATTEMPT\s+CREATED\s+UPDATED\s+UNCHANGED\s+FAILED\s+FAULT$`, r.Stdout)
		requireServerRow(t, r.Stdout, ps[0], 1, "failed", 1, 0, "SystemGroup/canary: fault 2800: no room")
		requireServerRow(t, r.Stdout, ps[1], 2, "pending", 0, 0, "-")
		requireServerRow(t, r.Stdout, ps[3], 3, "pending", 0, 0, "-")
		for _, p := range ps[1:] {
			require.Empty(t, writes(p), "%s was written to", p.Name())
		}

		r = u.ok(t, "rollout", "abort", id)
		require.Contains(t, r.Stdout, "Rollout "+id+": aborted (aborted by admin)")
		requireServerRow(t, r.Stdout, ps[3], 3, "skipped", 0, 0, "-")
		r = u.run(t, "", nil, "rollout", "status", id)
		require.Equal(t, 3, r.Code, "an aborted rollout: %s%s", r.Stdout, r.Stderr)
		require.Equal(t, "Error: rollout "+id+" was aborted (aborted by admin)\n", r.Stderr)
		requireOneLine(t, u.run(t, "", nil, "rollout", "resume", id), 1, "only a paused or halted rollout resumes")
	})

	t.Run("paused after the canary: exit 5; resume finishes it: exit 0", func(t *testing.T) {
		resetCalls(sim)
		r := u.run(t, "", nil, "apply", "-f", groupFile(t, dir, "paused"), "--targets", "all", "--order", "id", "--pause-after-canary")
		require.Equal(t, 5, r.Code, "%s%s", r.Stdout, r.Stderr)
		id := rolloutID(t, r)
		require.Regexp(t, `Error: rollout `+id+` is paused \(canary\): hubgw rollout resume `+id+` goes on\n$`, r.Stderr)
		requireServerRow(t, r.Stdout, ps[0], 1, "succeeded", 1, 1, "-")
		requireServerRow(t, r.Stdout, ps[1], 2, "pending", 0, 0, "-")
		require.Equal(t, map[int64]int{ps[0].ID(): 1}, creates(sim))

		r = u.ok(t, "rollout", "resume", id)
		require.Contains(t, r.Stdout, "Rollout "+id+": succeeded, by admin")
		require.Contains(t, r.Stderr, "resume: rollout "+id+": succeeded\n")
		require.Regexp(t, `resume: finished in \S+: rollout `+id+` succeeded: 4 created, 0 updated, 0 unchanged, 0 failed, `, r.Stderr)
		for _, p := range ps {
			requireServerRow(t, r.Stdout, p, map[bool]int{true: 1, false: 2}[p == ps[0]], "succeeded", 1, 1, "-")
		}
		require.Equal(t, map[int64]int{ps[0].ID(): 1, ps[1].ID(): 1, ps[2].ID(): 1, ps[3].ID(): 1}, creates(sim))
	})

	t.Run("failures within the budget: exit 4; retry --failed touches only the fixed server", func(t *testing.T) {
		failCreate(t, ps[2])
		resetCalls(sim)
		r := u.run(t, "", nil, "apply", "-f", groupFile(t, dir, "budget"), "--targets", "all", "--order", "id", "--wave", "100%", "--max-failures", "1")
		require.Equal(t, 4, r.Code, "%s%s", r.Stdout, r.Stderr)
		id := rolloutID(t, r)
		require.Regexp(t, `Error: rollout `+id+` finished with failures on 1 of 4 servers \(`+regexp.QuoteMeta(pname(ps[2]))+`\)\n$`, r.Stderr)
		requireServerRow(t, r.Stdout, ps[2], 2, "failed", 1, 0, "SystemGroup/budget: fault 2800: no room")
		requireServerRow(t, r.Stdout, ps[3], 2, "succeeded", 1, 1, "-")

		require.NoError(t, ps[2].ClearFaults())
		resetCalls(sim)
		r = u.ok(t, "rollout", "retry", id, "--failed")
		requireServerRow(t, r.Stdout, ps[2], 2, "succeeded", 2, 1, "-")
		require.Equal(t, map[int64]int{ps[2].ID(): 1}, creates(sim), "only the fixed server was written to")
		for _, p := range []*uyunisim.Server{ps[0], ps[1], ps[3]} {
			require.Empty(t, p.Calls(), "%s was not retried", p.Name())
		}

		t.Run("-o json is the REST answer", func(t *testing.T) {
			r := u.ok(t, "rollout", "status", id, "-o", "json")
			rr := rest(t, g, http.MethodGet, "/api/v1/rollouts/"+id, token, nil)
			require.Equal(t, http.StatusOK, rr.Status)
			require.JSONEq(t, string(rr.Body), r.Stdout)
			var v struct {
				Status        string
				FailureBudget int
				Targets       []struct{ Attempt int }
			}
			require.NoError(t, json.Unmarshal([]byte(r.Stdout), &v))
			require.Equal(t, "succeeded", v.Status)
			require.Equal(t, 1, v.FailureBudget)

			r = u.ok(t, "rollout", "list", "-o", "json")
			var list struct{ Rollouts []struct{ ID string } }
			require.NoError(t, json.Unmarshal([]byte(r.Stdout), &list), "%s", r.Stdout)
			require.Len(t, list.Rollouts, 3)
			require.Equal(t, id, list.Rollouts[0].ID, "newest first")
			r = u.ok(t, "rollout", "list")
			require.Regexp(t, `(?m)^ID\s+STATUS\s+STARTED\s+WAVE\s+SERVERS OK/FAILED/ALL\s+REASON$`, r.Stdout)
			require.Regexp(t, `(?m)^`+id+`\s+succeeded\s+[-0-9: ]+\s+2/2\s+4/0/4\s+-$`, r.Stdout)
			require.Regexp(t, `(?m)^\S+\s+aborted\s+[-0-9: ]+\s+1/3\s+0/1/4\s+aborted by admin$`, r.Stdout)

			r = u.ok(t, "__complete", "rollout", "status", "")
			require.Contains(t, r.Stdout, id+"\tsucceeded\n")
		})
	})

	t.Run("--detach prints the id at once; status -w follows it: exit 0", func(t *testing.T) {
		r := u.ok(t, "apply", "-f", groupFile(t, dir, "detached"), "--targets", "all", "--wave", "1", "--detach")
		id := strings.TrimSpace(r.Stdout)
		require.Regexp(t, `^\S+$`, id)
		require.Contains(t, r.Stderr, "Rollout "+id+" started: hubgw rollout status "+id+" -w follows it.\n")
		r = u.ok(t, "rollout", "status", id, "-w")
		require.Contains(t, r.Stdout, "Rollout "+id+": succeeded, by admin")
		require.Contains(t, r.Stdout, "Wave 4/4, servers 4/4 done, 0 failed (budget 0)")
		require.Contains(t, r.Stderr, "rollout: rollout "+id+": succeeded\n")
		for _, p := range ps {
			require.Regexp(t, `(?m)^`+regexp.QuoteMeta(pname(p))+`\s+\d\s+succeeded\s+1\s+1\s+`, r.Stdout)
		}
	})

	t.Run("a server down, deferred: exit 4; retry --servers it once it is back: exit 0", func(t *testing.T) {
		require.NoError(t, ps[1].Inject(uyunisim.Faults{Down: true}))
		t.Cleanup(func() { require.NoError(t, ps[1].ClearFaults()) })
		r := u.run(t, "", nil, "apply", "-f", groupFile(t, dir, "deferred"), "--targets", "all", "--order", "id", "--unreachable", "defer")
		require.Equal(t, 4, r.Code, "%s%s", r.Stdout, r.Stderr)
		id := rolloutID(t, r)
		require.Regexp(t, `(?m)^`+regexp.QuoteMeta(pname(ps[1]))+`\s+2\s+deferred\s+1\s+0\s+`, r.Stdout)
		require.NoError(t, ps[1].ClearFaults())
		resetCalls(sim)
		r = u.ok(t, "rollout", "retry", id, "--servers", pname(ps[1]))
		requireServerRow(t, r.Stdout, ps[1], 2, "succeeded", 2, 1, "-")
		require.Equal(t, map[int64]int{ps[1].ID(): 1}, creates(sim))
	})

	t.Run("usage and gateway errors: one line, exit 1", func(t *testing.T) {
		f := groupFile(t, dir, "never")
		requireOneLine(t, u.run(t, "", nil, "apply", "-f", f, "-t", "all", "--wave", "1,x%"), 1, `--wave "x%": want a count (3) or a percentage (10%)`)
		requireOneLine(t, u.run(t, "", nil, "apply", "-f", f, "-t", "all", "--order", "size"), 1, "--order size: want name, id or rings")
		requireOneLine(t, u.run(t, "", nil, "rollout", "status", "no-such-rollout"), 1, "no such rollout")
		requireOneLine(t, u.run(t, "", nil, "rollout", "retry", "x", "--failed", "--servers", "a"), 1, "--failed or --servers, not both")
		requireOneLine(t, u.run(t, "", nil, "rollout", "resume", "x", "--max-failures", "many"), 1, `--max-failures "many"`)
	})
}

// TestCLIRolloutTerminal follows a rollout on a pseudo-terminal: the
// tracker shows the wave, the servers and the counts against the budget.
func TestCLIRolloutTerminal(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	u := loggedInCLI(t, g, "TERM=xterm-256color")
	for _, p := range sim.Peripherals() {
		require.NoError(t, p.Inject(uyunisim.Faults{Latency: 100 * time.Millisecond})) // long enough to see progress
	}
	out, code := u.onTerminal(t, "", "apply", "-f", groupFile(t, t.TempDir(), "tty"), "--targets", "all", "--wave", "1", "--concurrency", "1")
	require.Equal(t, 0, code, "%s", out)
	require.Regexp(t, `apply: rollout \S+: wave [1-3]/3, servers [0-3]/3 done, \d created, 0 updated, 0 unchanged, 0 failed \(budget 0\)`, out)
	require.Regexp(t, ` \.\.\. done! \[\S+\]\r\n`, out, "the tracker, done")
	require.NotContains(t, out, "(attempt 1); servers", "no plain lines on a terminal")
	require.Len(t, regexp.MustCompile(`(?m)^\S+\s+\d\s+\x1b\[32msucceeded\x1b\[0m`).FindAllString(out, -1), 3, "%q", out)
}
