package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// writeFile writes a test's file under dir, making its directories.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// requireObjectLines checks that stdout has a table row per peripheral
// and object of the bundle with the given action or outcome.
func requireObjectLines(t *testing.T, stdout string, ps []*uyunisim.Server, word string) {
	t.Helper()
	for _, p := range ps {
		for _, o := range []string{"SystemGroup/web", "SoftwareChannel/fleet-base", "SoftwareChannel/fleet-tools", "ConfigChannel/fleet-cfg", "ActivationKey/web"} {
			require.Regexp(t, `(?m)^`+regexp.QuoteMeta(pname(p))+`\s+`+regexp.QuoteMeta(o)+`\s+`+word+`(\s|$)`, stdout)
		}
	}
}

// TestCLIDesired drives hubgw plan, apply and export as a user and a
// script would: the exit codes of changes, convergence, a server down and
// an invalid bundle; -o json against the REST answer; the simulator's
// state after apply; sources read next to their document; export then
// apply.
func TestCLIDesired(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	u := loggedInCLI(t, g)
	ps := sim.Peripherals()
	token := keptToken(t, u, g.Base)
	dir := t.TempDir()
	fleet := writeFile(t, dir, "fleet.yaml", bundle)

	t.Run("help documents the exit codes", func(t *testing.T) {
		for _, cmd := range []string{"plan", "apply", "export"} {
			r := u.ok(t, cmd, "--help")
			require.Contains(t, r.Stdout, "2  plan --detailed-exitcode: changes planned")
			require.Contains(t, r.Stdout, "6  plan incomplete")
		}
	})

	t.Run("plan before apply: changes, exit 2 with --detailed-exitcode", func(t *testing.T) {
		r := u.run(t, "", nil, "plan", "-f", fleet, "--targets", "all", "--detailed-exitcode")
		require.Equal(t, 2, r.Code, "%s%s", r.Stdout, r.Stderr)
		require.NotContains(t, r.Stderr, "Error", "changes are an answer, not an error")
		require.Regexp(t, `(?m)^SERVER\s+OBJECT\s+ACTION\s+CHANGES$`, r.Stdout)
		requireObjectLines(t, r.Stdout, ps, "create")
		require.Regexp(t, `(?m)^`+regexp.QuoteMeta(pname(ps[0]))+`\s+SoftwareChannel/fleet-base\s+create\s+.*name: Fleet Base`, r.Stdout)
		require.Regexp(t, `plan: finished in \S+: 15 to create, 0 to update, 0 unchanged, 0 conflicts, 0 blocked, 0 unknown, on 3 servers\n`, r.Stderr)

		u.ok(t, "plan", "-f", fleet, "--targets", "all") // without the flag, changes exit 0
		r = u.run(t, bundle, nil, "plan", "-f", "-", "--targets", "all", "--detailed-exitcode")
		require.Equal(t, 2, r.Code, "standard input: %s%s", r.Stdout, r.Stderr)
		requireObjectLines(t, r.Stdout, ps, "create")

		r = u.ok(t, "plan", "-f", fleet, "-t", "all", "-o", "json")
		rr := restWith(t, http.DefaultClient, g, http.MethodPost, "/api/v1/plan?targets=all", token, "application/yaml", bundle)
		require.Equal(t, http.StatusOK, rr.Status, "%s", rr.Body)
		require.JSONEq(t, string(rr.Body), r.Stdout)

		r = u.ok(t, "plan", "-f", fleet, "-t", pname(ps[0]), "-o", "diff")
		require.Contains(t, r.Stdout, pname(ps[0])+":\n")
		require.Contains(t, r.Stdout, "  + SoftwareChannel/fleet-base will be created\n")
		require.Contains(t, r.Stdout, `      + name: "Fleet Base"`+"\n")
		require.NotRegexp(t, ansiEscape, r.Stdout)
	})

	t.Run("apply creates everything; again, unchanged", func(t *testing.T) {
		r := u.ok(t, "apply", "-f", fleet, "--targets", "all")
		require.Regexp(t, `(?m)^SERVER\s+OBJECT\s+OUTCOME\s+CHANGES OR FAULT$`, r.Stdout)
		requireObjectLines(t, r.Stdout, ps, "created")
		require.Regexp(t, `apply: finished in \S+: 15 created, 0 updated, 0 unchanged, 0 failed, 0 conflicts, 0 blocked, 0 unreachable, 0 skipped, on 3 servers \(job \S+\)\n`, r.Stderr)
		sum := sha256.Sum256([]byte(motd))
		for _, p := range ps {
			o := p.Objects()
			key := findKey(t, o, "web")
			require.Equal(t, "fleet-base", key.Base, p.Name())
			require.Equal(t, []string{"fleet-tools"}, key.ChildChannels)
			require.Equal(t, "fleet-base", findChannel(t, o, "fleet-tools").Parent)
			var got string
			for _, f := range findConfig(t, o, "fleet-cfg").Files {
				if f.Path == "/etc/motd" {
					got = f.SHA256
				}
			}
			require.Equal(t, hex.EncodeToString(sum[:]), got, p.Name())
		}

		resetCalls(sim)
		r = u.ok(t, "apply", "-f", fleet, "--targets", "all", "-o", "json")
		require.Contains(t, r.Stdout, `"unchanged":15`)
		for _, s := range sim.Servers() {
			require.Empty(t, writes(s), s.Name())
		}
		r = u.ok(t, "apply", "-f", fleet, "--targets", "all")
		requireObjectLines(t, r.Stdout, ps, "unchanged")
		r = u.ok(t, "plan", "-f", fleet, "--targets", "all", "--detailed-exitcode")
		requireObjectLines(t, r.Stdout, ps, "noop")
		r = u.ok(t, "plan", "-f", fleet, "--targets", "all", "-o", "diff")
		require.Contains(t, r.Stdout, pname(ps[1])+":\n  no changes (5 objects as declared)\n")
	})

	t.Run("a server down: plan 6, apply 4", func(t *testing.T) {
		down := pname(ps[2])
		require.NoError(t, ps[2].Inject(uyunisim.Faults{Down: true}))
		t.Cleanup(func() { require.NoError(t, ps[2].ClearFaults()) })
		r := u.run(t, "", nil, "plan", "-f", fleet, "--targets", "all", "--detailed-exitcode")
		require.Equal(t, 6, r.Code, "%s%s", r.Stdout, r.Stderr)
		require.Contains(t, r.Stderr, "Error: plan incomplete: 1 of 3 servers ("+down+") could not be read\n")
		require.Regexp(t, `(?m)^`+regexp.QuoteMeta(down)+`\s+SystemGroup/web\s+unknown\s+`, r.Stdout)
		require.Regexp(t, `(?m)^`+regexp.QuoteMeta(pname(ps[0]))+`\s+SystemGroup/web\s+noop\s+-$`, r.Stdout)
		require.Equal(t, 6, u.run(t, "", nil, "plan", "-f", fleet, "--targets", "all").Code, "incomplete whatever the flags")

		r = u.run(t, "", nil, "apply", "-f", fleet, "--targets", "all")
		require.Equal(t, 4, r.Code, "%s%s", r.Stdout, r.Stderr)
		require.Regexp(t, `Error: apply finished with failures on 1 of 3 servers \(`+regexp.QuoteMeta(down)+`\) \(job \S+\)\n$`, r.Stderr)
		require.Regexp(t, `(?m)^`+regexp.QuoteMeta(down)+`\s+ActivationKey/web\s+unreachable\s+`, r.Stdout)
		require.Regexp(t, `(?m)^`+regexp.QuoteMeta(pname(ps[1]))+`\s+ActivationKey/web\s+unchanged\s+-$`, r.Stdout)
	})

	t.Run("an invalid bundle: one error listing each problem by file, exit 1", func(t *testing.T) {
		bad := writeFile(t, dir, "bad/one.yaml", "apiVersion: hubgw/v1\nkind: SystemGroup\nmetadata: {name: ok}\n---\nkind: Nope\nmetadata: {name: x}\n")
		bad2 := writeFile(t, dir, "bad/two.json", `{"apiVersion": "hubgw/v1", "kind": "ConfigChannel", "metadata": {"name": "c"}, "spec": {"files": [{"path": "/x", "content": "y", "mode": "644x"}]}}`)
		resetCalls(sim)
		r := u.run(t, "", nil, "plan", "-f", bad, "-f", bad2, "--targets", "all")
		require.Equal(t, 1, r.Code, "%s%s", r.Stdout, r.Stderr)
		require.Empty(t, r.Stdout)
		require.Equal(t, "Error: invalid documents, 3 problems:\n"+
			"  "+bad+`: documents[1].apiVersion: <nil> is not "hubgw/v1"`+"\n"+
			"  "+bad+`: documents[1].kind: "Nope" is not one of SoftwareChannel, ConfigChannel, ActivationKey, SystemGroup`+"\n"+
			"  "+bad2+`: documents[0].spec.files[0].mode: "644x" is not an octal mode (write it quoted: "0644")`+"\n", r.Stderr)
		for _, s := range sim.Servers() {
			require.Empty(t, writes(s), "nothing is sent")
		}
		requireOneLine(t, u.run(t, "", nil, "apply", "-f", filepath.Join(dir, "missing.yaml"), "--targets", "all"), 1, "missing.yaml: no such file")
		requireOneLine(t, u.run(t, "", nil, "apply", "-f", fleet), 1, "which servers? give --targets")
		requireOneLine(t, u.run(t, "", nil, "plan", "--targets", "all"), 1, "no documents: give -f FILE")
		requireOneLine(t, u.run(t, "", nil, "plan", "-f", fleet, "--targets", "nowhere"), 1, "nowhere")
		requireOneLine(t, u.run(t, "", nil, "plan", "-f", fleet, "--targets", "all", "-o", "yaml"), 1, "-o yaml: want one of table, json, diff")
	})

	t.Run("a config file's source is read next to its document", func(t *testing.T) {
		const issue = "Authorised use only\n"
		writeFile(t, dir, "cfg/issue.yaml", `apiVersion: hubgw/v1
kind: ConfigChannel
metadata: {name: issue-cfg}
spec:
  name: Issue
  files:
    - {path: /etc/issue, source: files/issue.txt, mode: "0644"}
`)
		writeFile(t, dir, "cfg/files/issue.txt", issue)
		writeFile(t, dir, "files/issue.txt", "the wrong one: relative to the working directory\n")
		u.dir = dir // where the wrong files/issue.txt is
		t.Cleanup(func() { u.dir = "" })
		u.ok(t, "apply", "-f", "cfg/issue.yaml", "-t", pname(ps[0]))
		sum := sha256.Sum256([]byte(issue))
		files := findConfig(t, ps[0].Objects(), "issue-cfg").Files
		require.Len(t, files, 1)
		require.Equal(t, hex.EncodeToString(sum[:]), files[0].SHA256)

		missing := writeFile(t, dir, "cfg/missing.yaml", strings.ReplaceAll(
			"apiVersion: hubgw/v1\nkind: ConfigChannel\nmetadata: {name: m}\nspec: {files: [{path: /x, source: nope.txt}]}\n", "\t", ""))
		requireOneLine(t, u.run(t, "", nil, "plan", "-f", missing, "-t", "all"), 1, missing+`: documents[0].spec.files[0].source: "nope.txt" cannot be read`)
	})

	t.Run("export, then apply: round trip", func(t *testing.T) {
		src := pname(ps[0])
		r := u.ok(t, "export", "--from", src, "ConfigChannel/fleet-cfg")
		require.True(t, strings.HasPrefix(r.Stdout, "apiVersion: hubgw/v1\n"), "%s", r.Stdout)
		exported := writeFile(t, dir, "exported.yaml", r.Stdout)
		r = u.ok(t, "export", "--from", src, "ActivationKey/web", "-o", "json")
		rr := rest(t, g, http.MethodGet, "/api/v1/export/"+src+"/ActivationKey/web", token, nil)
		require.Equal(t, http.StatusOK, rr.Status, "%s", rr.Body)
		require.JSONEq(t, string(rr.Body), r.Stdout)

		u.ok(t, "plan", "-f", exported, "-t", src, "--detailed-exitcode") // noop where it came from
		r = u.ok(t, "apply", "-f", exported, "-t", "hub")
		require.Regexp(t, `(?m)^hub\s+ConfigChannel/fleet-cfg\s+created\s`, r.Stdout)
		want := findConfig(t, ps[0].Objects(), "fleet-cfg").Files
		got := findConfig(t, sim.Hub().Objects(), "fleet-cfg").Files
		require.Len(t, got, len(want))
		for i := range want {
			require.Equal(t, want[i].Path, got[i].Path)
			require.Equal(t, want[i].SHA256, got[i].SHA256)
			require.Equal(t, want[i].Type, got[i].Type)
		}
		u.ok(t, "plan", "-f", exported, "-t", "hub,"+src, "--detailed-exitcode")

		requireOneLine(t, u.run(t, "", nil, "export", "--from", src, "SystemGroup/nope"), 1, "fault -210")
		requireOneLine(t, u.run(t, "", nil, "export", "--from", src, "SystemGroup"), 1, "want KIND/NAME")
		requireOneLine(t, u.run(t, "", nil, "export", "ConfigChannel/fleet-cfg"), 1, "give --from TARGET")
	})
}

// TestCLIDesiredTerminal runs plan and apply on a pseudo-terminal: the
// progress tracker draws on it, then the summary and the table follow.
func TestCLIDesiredTerminal(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, nil)
	u := loggedInCLI(t, g, "TERM=xterm-256color")
	fleet := writeFile(t, t.TempDir(), "fleet.yaml", bundle)
	for _, p := range sim.Peripherals() {
		require.NoError(t, p.Inject(uyunisim.Faults{Latency: 30 * time.Millisecond})) // long enough to see progress
	}

	out, code := u.onTerminal(t, "", "apply", "-f", fleet, "--targets", "all")
	require.Equal(t, 0, code, "%s", out)
	require.Regexp(t, `\[\S+\] \.\.\. apply: 5 documents from `+regexp.QuoteMeta(fleet)+` on all\r\n`, out, "the tracker, with the time so far")
	require.Regexp(t, ` \.\.\. done! \[\S+\]\r\n`, out, "the tracker, done")
	require.Regexp(t, `apply: finished in \S+: 10 created, `, out)
	require.Len(t, regexp.MustCompile(`(?m)^\S+\s+\S+\s+\x1b\[32mcreated\x1b\[0m`).FindAllString(out, -1), 10, "%q", out)

	out, code = u.onTerminal(t, "", "plan", "-f", fleet, "--targets", "all", "-o", "diff")
	require.Equal(t, 0, code, "%s", out)
	require.Contains(t, out, "plan: finished in ")
	require.Contains(t, out, "no changes (5 objects as declared)")
}
