package e2e

import (
	"encoding/json"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// demoGuide is what a started demo printed.
type demoGuide struct {
	addr    string     // the gateway's host:port
	sim     string     // the simulated hub's host:port
	targets []string   // every spacecmd -s value printed
	paths   []string   // every /t/<target>/rpc/api URL printed
	cli     [][]string // every hubgw command line printed, without "hubgw"
}

func startDemo(t *testing.T, bin string, args ...string) demoGuide {
	t.Helper()
	p := start(t, bin, args...)
	p.waitFor(t, regexp.MustCompile(`^Ctrl-C stops the demo\.$`))
	out := p.output()
	var g demoGuide
	g.addr = regexp.MustCompile(`landing page: +http://(\S+)/`).FindStringSubmatch(out)[1]
	g.sim = regexp.MustCompile(`simulated hub: +http://(\S+)/rpc/api`).FindStringSubmatch(out)[1]
	for _, m := range regexp.MustCompile(`spacecmd -s (\S+) --nossl`).FindAllStringSubmatch(out, -1) {
		g.targets = append(g.targets, m[1])
	}
	g.paths = regexp.MustCompile(`http://\S+/t/\S+/rpc/api`).FindAllString(out, -1)
	for _, m := range regexp.MustCompile(`(?m)^  hubgw (.+?)(?: {2,}\(.*\))?$`).FindAllStringSubmatch(out, -1) {
		g.cli = append(g.cli, strings.Fields(m[1]))
	}
	require.Len(t, g.targets, 5, out)
	require.Len(t, g.cli, 7, out)
	require.Len(t, g.paths, 2, out)
	return g
}

// Two demos on one machine: each picks free ports and prints targets that
// work as printed, through spacecmd's client (Python's xmlrpc.client and
// its user@host URLs); a port that is taken gets a message saying what to do.
func TestDemoTwiceOnOneMachine(t *testing.T) {
	bin := build(t, "e2e/demo")
	first := startDemo(t, bin)
	second := startDemo(t, bin)
	require.NotEqual(t, first.addr, second.addr)

	for _, g := range []demoGuide{first, second} {
		urls := g.paths
		for _, s := range g.targets {
			urls = append(urls, "http://"+s+"/rpc/api") // what spacecmd -s builds
		}
		out := python(t, `
import json, os, xmlrpc.client
seen = {}
for url in os.environ["URLS"].split():
    c = xmlrpc.client.ServerProxy(url)
    key = c.auth.login("admin", "admin")
    seen[url] = len(c.system.listSystems(key))
print(json.dumps(seen))
`, "URLS="+strings.Join(urls, " "))
		var seen map[string]int
		require.NoError(t, json.Unmarshal([]byte(out), &seen), out)
		require.Len(t, seen, len(urls))
	}

	// The command lines, as printed: login, call, plan (changes), apply,
	// plan again (none), jobs.
	u := newCLIUser(t, build(t, "cmd/hubgw"), "HUBGW_PASSWORD=admin")
	for _, args := range first.cli {
		if args[0] == "plan" {
			args = append(args, "--detailed-exitcode")
		}
		r := u.run(t, "", nil, args...)
		require.Contains(t, []int{0, 2}, r.Code, "hubgw %v: %s%s", args, r.Stdout, r.Stderr)
		if args[0] == "plan" && r.Code == 2 {
			require.Regexp(t, `(?m)^\S+\s+ActivationKey/demo-web\s+create\s`, r.Stdout)
		}
		if args[0] == "apply" && !slices.Contains(args, "--canary") {
			require.Contains(t, r.Stderr, "6 created, 0 updated, 0 unchanged, 0 failed", "the example bundle applies cleanly")
		}
	}
	r := u.run(t, "", nil, first.cli[2]...)
	require.Equal(t, 0, r.Code, "after apply, the plan is empty: %s%s", r.Stdout, r.Stderr)
	require.Contains(t, r.Stderr, "6 unchanged")

	// The ports of a running demo, asked for again: through make, as a
	// person would.
	for _, tc := range []struct{ variable, addr, what string }{
		{"PORT", first.addr, "gateway"},
		{"SIM_PORT", first.sim, "simulated hub"},
	} {
		_, port, _ := net.SplitHostPort(tc.addr)
		out, err := exec.Command("make", "--no-print-directory", "-C", "..", "demo", tc.variable+"="+port).CombinedOutput()
		require.Error(t, err, "%s", out)
		require.Contains(t, string(out), tc.what)
		require.Contains(t, string(out), "port "+port+" is taken")
		require.Contains(t, string(out), "make demo "+tc.variable+"=..., or leave "+tc.variable+" unset for a free one")
		require.NotContains(t, strings.ToLower(string(out)), "panic")
	}
}
