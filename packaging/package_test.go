package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// These tests build the packages with `make package`, as a release does,
// and check them with the distributions' own tools. They are Go tests,
// not a Make target, so `make test` (CI) runs them with everything else;
// each check skips, saying which tool is missing, where a tool is absent
// (.ci/run installs them all).

// tool returns a tool's path, or skips the test naming it.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (on Debian: apt-get install %s; .ci/run installs it): skipping this package check", name, debPackage[name])
	}
	return p
}

var debPackage = map[string]string{"make": "make", "git": "git", "rpmlint": "rpmlint", "lintian": "lintian", "dpkg-deb": "dpkg", "systemd-analyze": "systemd"}

// run runs a command and returns its combined output; it fails the test
// when the command fails.
func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "%s %s:\n%s", name, strings.Join(args, " "), out.String())
	return out.String()
}

// built holds the packages of one `make package` run.
type built struct{ rpm, deb string }

func makePackages(t *testing.T) built {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not building packages")
	}
	makeBin := tool(t, "make")
	tool(t, "git")
	out := t.TempDir()
	run(t, "..", makeBin, "--no-print-directory", "package", "PKG_OUT="+out)
	rpms, _ := filepath.Glob(filepath.Join(out, "*.rpm"))
	debs, _ := filepath.Glob(filepath.Join(out, "*.deb"))
	require.Len(t, rpms, 1)
	require.Len(t, debs, 1)
	return built{rpm: rpms[0], deb: debs[0]}
}

func TestPackages(t *testing.T) {
	pkgs := makePackages(t)

	t.Run("rpmlint: clean, each exception explained in rpmlint.toml", func(t *testing.T) {
		out := run(t, "..", tool(t, "rpmlint"), "-c", "packaging/rpmlint.toml", pkgs.rpm)
		require.Contains(t, out, "0 errors, 0 warnings", out)
	})

	t.Run("lintian: clean, each override explained", func(t *testing.T) {
		out := run(t, "..", tool(t, "lintian"), "--fail-on", "error,warning", pkgs.deb)
		require.NotRegexp(t, regexp.MustCompile(`(?m)^[EWI]: `), out)
	})

	// Unpacked as dpkg would install it: the files, their modes, the
	// binary running, and the unit as systemd reads it.
	t.Run("the DEB's contents", func(t *testing.T) {
		dpkg := tool(t, "dpkg-deb")
		root := t.TempDir()
		run(t, "", dpkg, "-x", pkgs.deb, root)
		require.Equal(t, "/etc/hubgw/hubgw.env\n/etc/hubgw/hubgw.yaml\n", run(t, "", dpkg, "--info", pkgs.deb, "conffiles"), "settings survive upgrades")
		listing := run(t, "", dpkg, "--contents", pkgs.deb)
		for _, want := range []string{
			`-rwxr-xr-x root/root .* ./usr/bin/hubgw`,
			`drwxr-x--- root/hubgw .* ./etc/hubgw/`,
			`-rw-r----- root/hubgw .* ./etc/hubgw/hubgw.yaml`,
			`-rw-r----- root/hubgw .* ./etc/hubgw/hubgw.env`,
			`-rw-r--r-- root/root .* ./lib/systemd/system/hubgw.service`,
			`-rw-r--r-- root/root .* ./usr/lib/sysusers.d/hubgw.conf`,
			`-rw-r--r-- root/root .* ./usr/share/doc/hubgw/copyright`,
		} {
			require.Regexp(t, regexp.MustCompile(`(?m)^`+want+`$`), listing)
		}

		bin := filepath.Join(root, "usr/bin/hubgw")
		require.Regexp(t, `^hubgw v\S+ \(commit [0-9a-f]{40}, built \d{4}-\d\d-\d\dT\S+, go\S+ linux/\w+\)\n$`, run(t, "", bin, "version"))
		help := run(t, "", bin, "serve", "--help")
		for _, flag := range []string{"--config", "--hub-url", "--tls-cert", "--shutdown-grace"} {
			require.Contains(t, help, flag)
		}

		unit, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/hubgw.service"))
		require.NoError(t, err)
		for _, want := range []string{"User=hubgw", "ProtectSystem=strict", "NoNewPrivileges=yes", "Restart=on-failure",
			"EnvironmentFile=-/etc/hub/hub.conf", "EnvironmentFile=-/etc/hubgw/hubgw.env", "ExecStart=/usr/bin/hubgw serve --config /etc/hubgw/hubgw.yaml"} {
			require.Contains(t, string(unit), want+"\n")
		}
		require.NotRegexp(t, regexp.MustCompile(`(?m)^ReadWritePaths=`), string(unit), "hubgw writes nothing to disk")

		// systemd-analyze checks the unit against the unpacked tree (the
		// binary must be there); it needs the host's targets and kill.
		analyze := tool(t, "systemd-analyze")
		targets, _ := filepath.Glob("/lib/systemd/system/*.target")
		require.NotEmpty(t, targets, "systemd's targets")
		for _, f := range append(targets, "/bin/kill") {
			dst, mode := filepath.Join(root, "lib/systemd/system", filepath.Base(f)), os.FileMode(0o644)
			if f == "/bin/kill" {
				dst, mode = filepath.Join(root, "bin/kill"), 0o755
			}
			require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(dst, b, mode))
		}
		out := run(t, "", analyze, "verify", "--root="+root, "/lib/systemd/system/hubgw.service")
		require.Empty(t, strings.TrimSpace(out), "systemd-analyze verify has something to say")
		// The hardening, scored by systemd: 0 is fully locked down, 10 not
		// at all; under 2 is what systemd calls OK.
		out = run(t, "", analyze, "security", "--offline=yes", "--root="+root, "--threshold=20", "--no-pager", "hubgw.service")
		require.Regexp(t, `Overall exposure level for hubgw.service: 1\.\d OK`, out)
	})
}
