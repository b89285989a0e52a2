package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// cliUser is the hubgw binary as a user runs it: its own HOME and config
// and cache directories, no HUBGW_* or NO_COLOR from the test's
// environment, no terminal unless asked.
type cliUser struct {
	bin, home string
	env       []string
	dir       string // the working directory ("": the test's)
}

func newCLIUser(t *testing.T, bin string, env ...string) *cliUser {
	t.Helper()
	home := t.TempDir()
	u := &cliUser{bin: bin, home: home}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HUBGW_") && !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "HOME=") &&
			!strings.HasPrefix(kv, "XDG_") && !strings.HasPrefix(kv, "TERM=") {
			u.env = append(u.env, kv)
		}
	}
	u.env = append(u.env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	u.env = append(u.env, env...)
	return u
}

// credentials is the kept login file.
func (u *cliUser) credentials() string {
	return filepath.Join(u.home, "config", "hubgw", "credentials.json")
}

// cliRun is one run's outcome.
type cliRun struct {
	Stdout, Stderr string
	Code           int
}

// run runs hubgw without a terminal, stdin from the given text.
func (u *cliUser) run(t *testing.T, stdin string, env []string, args ...string) cliRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, u.bin, args...)
	cmd.Env = append(append([]string{}, u.env...), env...)
	cmd.Dir = u.dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		require.NoError(t, err)
	}
	return cliRun{Stdout: out.String(), Stderr: errOut.String(), Code: cmd.ProcessState.ExitCode()}
}

// ok runs hubgw and requires exit 0.
func (u *cliUser) ok(t *testing.T, args ...string) cliRun {
	t.Helper()
	r := u.run(t, "", nil, args...)
	require.Equal(t, 0, r.Code, "hubgw %v: %s%s", args, r.Stdout, r.Stderr)
	return r
}

// requireOneLine checks a failed run: the exit code, nothing on stdout,
// one line on stderr saying what it must.
func requireOneLine(t *testing.T, r cliRun, code int, contains string) {
	t.Helper()
	require.Equal(t, code, r.Code, "stdout %q stderr %q", r.Stdout, r.Stderr)
	require.Empty(t, r.Stdout)
	line := strings.TrimSuffix(r.Stderr, "\n")
	require.NotContains(t, line, "\n", "one line: %q", r.Stderr)
	require.Contains(t, line, contains)
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestCLI drives the hubgw binary as a user and a script would, against a
// gateway in front of uyunisim: login (stdin, env, refused), call on the
// hub and fanned out (table and JSON, positional and named arguments, exit
// codes), jobs, logout, and the errors of a wrong URL or a dead token.
func TestCLI(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	bin := buildHubgw(t)
	u := newCLIUser(t, bin)
	ps := sim.Peripherals()

	t.Run("help documents the exit codes", func(t *testing.T) {
		for _, args := range [][]string{{"--help"}, {"call", "--help"}, {"jobs", "--help"}, {"login", "--help"}} {
			r := u.ok(t, args...)
			require.Contains(t, r.Stdout, "Exit codes:")
			require.Contains(t, r.Stdout, "4  finished with failures")
		}
	})

	t.Run("not logged in", func(t *testing.T) {
		requireOneLine(t, u.run(t, "", nil, "call", "api.getVersion"), 1, "run hubgw login --gateway URL")
		requireOneLine(t, u.run(t, "", nil, "login", "--gateway", g.Base, "-u", "admin"), 1, "no password")
		requireOneLine(t, u.run(t, "wrong\n", nil, "login", "--gateway", g.Base, "-u", "admin", "--password-stdin"), 1, "fault 2950")
		requireOneLine(t, u.run(t, "admin\n", nil, "login", "--gateway", "gw:2830", "-u", "admin", "--password-stdin"), 1, "http:// or https://")
		requireOneLine(t, u.run(t, "admin\n", nil, "login", "--gateway", g.Base, "-u", "admin", "--mode", "auto", "--password-stdin"), 1, "--mode auto")
		_, err := os.Stat(u.credentials())
		require.ErrorIs(t, err, os.ErrNotExist, "a failed login keeps nothing")
	})

	// Log in from a script: password on stdin, autoconnect.
	r := u.run(t, "admin\n", nil, "login", "--gateway", g.Base+"/", "-u", "admin", "--mode", "autoconnect", "--password-stdin")
	require.Equal(t, 0, r.Code, "%s", r.Stderr)
	require.Contains(t, r.Stderr, "Logged in to "+g.Base+" as admin (autoconnect)")
	require.Contains(t, r.Stderr, "Attached 3 of 3 peripherals")
	token := keptToken(t, u, g.Base)

	t.Run("the token file is the user's only", func(t *testing.T) {
		fi, err := os.Stat(u.credentials())
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		di, err := os.Stat(filepath.Dir(u.credentials()))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), di.Mode().Perm())
		requireServing(t, g, token) // the kept token is a live session
	})

	t.Run("call on the hub: -o json is the REST answer", func(t *testing.T) {
		r := u.ok(t, "call", "api.getVersion", "-o", "json")
		rr := rest(t, g, http.MethodPost, "/api/v1/hub/api/getVersion", token, nil)
		require.Equal(t, http.StatusOK, rr.Status)
		requireSameResults(t, rr.Body, []byte(r.Stdout))
		r = u.ok(t, "call", "api/getVersion")
		require.Regexp(t, `(?m)^SERVER\s+OUTCOME\s+DURATION\s+VALUE OR FAULT$`, r.Stdout)
		require.Regexp(t, `(?m)^hub\s+ok\s+\d+ms\s+`+regexp.QuoteMeta(member(rr.JSON(t), "value").(string))+`$`, r.Stdout)
	})

	t.Run("fan-out: a table row per server, exit 4 when one failed", func(t *testing.T) {
		r := u.ok(t, "call", "system.listSystems", "--targets", "all", "-o", "json")
		rr := rest(t, g, http.MethodPost, "/api/v1/call/system/listSystems?targets=all", token, nil)
		requireSameResults(t, rr.Body, []byte(r.Stdout))

		require.NoError(t, ps[2].Inject(uyunisim.Faults{Down: true}))
		t.Cleanup(func() { require.NoError(t, ps[2].Inject(uyunisim.Faults{})) })
		r = u.run(t, "", nil, "call", "system.listSystems", "-t", pname(ps[0])+","+pname(ps[2]), "-t", "hub")
		require.Equal(t, 4, r.Code, "%s%s", r.Stdout, r.Stderr)
		require.Equal(t, "Error: system.listSystems: 1 of 3 servers failed\n", r.Stderr)
		lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
		require.Len(t, lines, 4, "%s", r.Stdout)
		require.Regexp(t, `^`+regexp.QuoteMeta(pname(ps[0]))+`\s+ok\s+\d+ms\s+\[\{`, lines[1])
		require.Regexp(t, `^`+regexp.QuoteMeta(pname(ps[2]))+`\s+transport\s+\S+\s+fault 4103: `, lines[2])
		require.Regexp(t, `^hub\s+ok\s`, lines[3])
		require.NotRegexp(t, ansiEscape, r.Stdout, "no colour without a terminal")

		r = u.run(t, "", nil, "call", "system.listSystems", "-t", pname(ps[2])+",hub", "-o", "json")
		require.Equal(t, 4, r.Code)
		var f struct {
			JobID    string
			Complete bool
			Results  []struct{ Outcome string }
		}
		require.NoError(t, json.Unmarshal([]byte(r.Stdout), &f), "%s", r.Stdout)
		require.False(t, f.Complete)
		require.Equal(t, "transport", f.Results[0].Outcome)

		t.Run("jobs", func(t *testing.T) {
			r := u.ok(t, "jobs")
			require.Regexp(t, `(?m)^ID\s+METHOD\s+STATUS\s+STARTED\s+SERVERS OK/FAILED/ALL$`, r.Stdout)
			require.Regexp(t, `(?m)^`+regexp.QuoteMeta(f.JobID)+`\s+system\.listSystems\s+done\s+[-0-9: ]+\s+1/1/2$`, r.Stdout)
			r = u.ok(t, "jobs", "show", f.JobID, "-o", "json")
			rr := rest(t, g, http.MethodGet, "/api/v1/jobs/"+f.JobID, token, nil)
			require.JSONEq(t, string(rr.Body), r.Stdout)
			r = u.ok(t, "jobs", "show", f.JobID)
			require.Contains(t, r.Stdout, "Job "+f.JobID+": system.listSystems by admin, done")
			require.Regexp(t, `(?m)^`+regexp.QuoteMeta(pname(ps[2]))+`\s+transport\s+\S+\s+fault 4103: `, r.Stdout)
			r = u.ok(t, "jobs", "list", "--limit", "1", "-o", "json")
			var list struct{ Jobs []json.RawMessage }
			require.NoError(t, json.Unmarshal([]byte(r.Stdout), &list))
			require.Len(t, list.Jobs, 1)
			requireOneLine(t, u.run(t, "", nil, "jobs", "show", "no-such-job"), 1, "no job")
			requireOneLine(t, u.run(t, "", nil, "jobs", "show"), 1, "which job?")
		})
	})

	t.Run("arguments: positional by the document, name=value, typed", func(t *testing.T) {
		target := pname(ps[0])
		u.ok(t, "call", "channel.software.create", "cli-dev", "CLI Dev", "made by the CLI", "channel-x86_64", "", "-t", target)
		r := u.ok(t, "call", "channel.software.getDetails", "cli-dev", "-t", target, "-o", "json")
		var f struct {
			Results []struct{ Value map[string]any }
		}
		require.NoError(t, json.Unmarshal([]byte(r.Stdout), &f), "%s", r.Stdout)
		require.Equal(t, "CLI Dev", f.Results[0].Value["name"])
		id := strconv.FormatFloat(f.Results[0].Value["id"].(float64), 'f', -1, 64)
		// A number goes to getDetails(id), as over XML-RPC an int would.
		r = u.ok(t, "call", "channel.software.getDetails", id, "-t", target, "-o", "json")
		require.Contains(t, r.Stdout, `"label":"cli-dev"`)
		r = u.ok(t, "call", "channel.software.isExisting", "channelLabel=cli-dev", "-t", target, "-o", "json")
		require.Contains(t, r.Stdout, `"value":true`)
		cached, err := filepath.Glob(filepath.Join(u.home, "cache", "hubgw", "openapi-*"))
		require.NoError(t, err)
		require.Len(t, cached, 1, "the document is kept for the next call")
		fi, err := os.Stat(cached[0])
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		requireOneLine(t, u.run(t, "", nil, "call", "channel.software.create", "a", "b", "-t", target), 1, "channel.software.create takes (label, name, summary, archLabel, parentLabel) or")
		requireOneLine(t, u.run(t, "", nil, "call", "channel.software.isExisting", "channelLabel=x", "y"), 1, "all as name=value or all positional")
		// --params: the REST body, from stdin or a file, name=value added.
		r = u.run(t, `{"label":"cli-dev2","name":"CLI Dev 2","summary":"s","archLabel":"channel-x86_64"}`, nil,
			"call", "channel.software.create", "--params", "@-", "parentLabel=", "-t", target)
		require.Equal(t, 0, r.Code, "%s%s", r.Stdout, r.Stderr)
		file := filepath.Join(t.TempDir(), "params.json")
		require.NoError(t, os.WriteFile(file, []byte(`{"channelLabel": "cli-dev2"}`), 0o600))
		r = u.ok(t, "call", "channel.software.isExisting", "-p", "@"+file, "-t", target, "-o", "json")
		require.Contains(t, r.Stdout, `"value":true`)
		requireOneLine(t, u.run(t, "", nil, "call", "channel.software.isExisting", "-p", "[1]"), 1, "want one JSON object")
		requireOneLine(t, u.run(t, "", nil, "call", "channel.software.isExisting", "-p", `{"channelLabel":"a"}`, "b"), 1, "with --params, arguments are name=value")
		requireOneLine(t, u.run(t, "", nil, "call", "channel.software.isExisting", "-p", `{"channelLabel":"a"}`, "channelLabel=b"), 1, "channelLabel is given twice")
		requireOneLine(t, u.run(t, "", nil, "call", "channel.software.isExisting", "channelLable=x"), 1, "channel.software.isExisting has no parameter channelLable: it takes (channelLabel)")
		r = u.ok(t, "call", "channel.software.isExisting", `"channelLable=x"`, "-o", "json") // quoted: a value
		require.Contains(t, r.Stdout, `"value":false`)
		requireOneLine(t, u.run(t, "", nil, "call", "no.such.method", "x"), 1, "no method no.such.method")
		requireOneLine(t, u.run(t, "", nil, "call", "nodots"), 1, "not a method name")
		// The gateway's refusal, by parameter name: exit 1, nothing ran.
		requireOneLine(t, u.run(t, "", nil, "call", "system.getDetails", "serverId=abc"), 1, "serverId")
		// One server's fault on a single-target call: a row, exit 4.
		r = u.run(t, "", nil, "call", "channel.software.getDetails", "no-such-channel")
		require.Equal(t, 4, r.Code, "%s%s", r.Stdout, r.Stderr)
		require.Regexp(t, `(?m)^hub\s+fault\s+\S+\s+fault -210: `, r.Stdout)
		r = u.run(t, "", nil, "call", "channel.software.getDetails", "no-such-channel", "-o", "json")
		require.Equal(t, 4, r.Code)
		require.Contains(t, r.Stdout, `"faultCode":-210`, "the problem, as the gateway sent it")
	})

	t.Run("completion", func(t *testing.T) {
		r := u.ok(t, "completion", "bash")
		require.Contains(t, r.Stdout, "__start_hubgw")
		r = u.ok(t, "__complete", "call", "system.listSy")
		require.Contains(t, r.Stdout, "system.listSystems\n")
		r = u.ok(t, "__complete", "login", "--mode", "")
		require.Contains(t, r.Stdout, "autoconnect\n")
		r = u.ok(t, "__complete", "call", "api.getVersion", "--targets", "hub,")
		require.Contains(t, r.Stdout, "hub,all\n")
		require.Contains(t, r.Stdout, "hub,"+pname(ps[2])+"\n")
	})

	t.Run("a wrong gateway URL or a dead token: one line, exit 1", func(t *testing.T) {
		l := u.run(t, "", []string{"HUBGW_GATEWAY=http://127.0.0.1:1"}, "call", "api.getVersion")
		requireOneLine(t, l, 1, "not logged in to http://127.0.0.1:1") // the kept token is not sent elsewhere
		l = u.run(t, "", []string{"HUBGW_GATEWAY=http://127.0.0.1:1", "HUBGW_TOKEN=" + token}, "call", "api.getVersion")
		requireOneLine(t, l, 1, "cannot reach the gateway at http://127.0.0.1:1: dial tcp")
		l = u.run(t, "", []string{"HUBGW_GATEWAY=" + strings.TrimSuffix(sim.Hub().URL(), "/rpc/api"), "HUBGW_TOKEN=" + token}, "jobs")
		requireOneLine(t, l, 1, "not a hubgw gateway, or not its base URL")
		l = u.run(t, "", []string{"HUBGW_GATEWAY=" + g.Base + "/api/v1", "HUBGW_TOKEN=" + token}, "jobs")
		requireOneLine(t, l, 1, "no such endpoint /api/v1/api/v1/jobs")
		l = u.run(t, "", []string{"HUBGW_TOKEN=not-a-session"}, "call", "api.getVersion")
		requireOneLine(t, l, 1, "not logged in, or the session expired")
		requireOneLine(t, l, 1, "run hubgw login")
	})

	t.Run("logout, and a session ended elsewhere", func(t *testing.T) {
		u.ok(t, "logout")
		require.Empty(t, keptLogins(t, u))
		requireOneLine(t, u.run(t, "", nil, "jobs"), 1, "not logged in to "+g.Base)

		r := u.run(t, "", []string{"HUBGW_PASSWORD=admin"}, "login", "-u", "admin", "--gateway", g.Base)
		require.Equal(t, 0, r.Code, "%s", r.Stderr)
		tok := keptToken(t, u, g.Base)
		require.Equal(t, http.StatusNoContent, rest(t, g, http.MethodPost, "/api/v1/logout", tok, nil).Status)
		requireOneLine(t, u.run(t, "", nil, "call", "api.getVersion"), 1, "session expired")
		r = u.run(t, "", []string{"HUBGW_PASSWORD=admin"}, "login") // again: the same gateway, user and mode
		require.Equal(t, 0, r.Code, "%s", r.Stderr)
		require.Contains(t, r.Stderr, "Logged in to "+g.Base+" as admin (manual)")
		require.NotEqual(t, tok, keptToken(t, u, g.Base))
		u.ok(t, "call", "api.getVersion")
		// Logging in again over a live session ends that one.
		live := keptToken(t, u, g.Base)
		u.ok(t, "jobs") // the session is live
		r = u.run(t, "admin\n", nil, "login", "--password-stdin")
		require.Equal(t, 0, r.Code, "%s", r.Stderr)
		require.Equal(t, http.StatusUnauthorized, rest(t, g, http.MethodGet, "/api/v1/jobs", live, nil).Status, "the replaced session is logged out")
		require.Equal(t, http.StatusNoContent, rest(t, g, http.MethodPost, "/api/v1/logout", keptToken(t, u, g.Base), nil).Status)
		u.ok(t, "logout") // forgets it all the same
		require.Empty(t, keptLogins(t, u))

		// A gateway gone for good: the token is forgotten, and it is said
		// that the session could not be ended. (Its login, autoconnect with
		// a peripheral down, lists that one and stands.)
		var gone string
		t.Run("a gateway that stops", func(t *testing.T) {
			g2 := startGateway(t, sim, nil) // stopped when this subtest ends
			gone = g2.Base
			require.NoError(t, ps[1].Inject(uyunisim.Faults{Down: true}))
			r := u.run(t, "admin\n", nil, "login", "--gateway", g2.Base, "-u", "admin", "--mode", "autoconnect", "--password-stdin")
			require.NoError(t, ps[1].Inject(uyunisim.Faults{}))
			require.Equal(t, 0, r.Code, "%s", r.Stderr)
			require.Contains(t, r.Stderr, "Attached 2 of 3 peripherals.\n")
			require.Regexp(t, `(?m)^`+regexp.QuoteMeta(pname(ps[1]))+`\s+transport\s+\S+\s+fault 4103: `, r.Stderr)
		})
		requireOneLine(t, u.run(t, "", nil, "logout"), 1, "forgot the token, but the session could not be logged out (it ends when it idles out): cannot reach the gateway at "+gone)
		require.Empty(t, keptLogins(t, u))
	})
}

// keptLogins reads the credentials file's logins.
func keptLogins(t *testing.T, u *cliUser) map[string]struct{ Token string } {
	t.Helper()
	b, err := os.ReadFile(u.credentials())
	require.NoError(t, err)
	var c struct {
		Logins map[string]struct{ Token string }
	}
	require.NoError(t, json.Unmarshal(b, &c), "%s", b)
	return c.Logins
}

func keptToken(t *testing.T, u *cliUser, gateway string) string {
	t.Helper()
	tok := keptLogins(t, u)[gateway].Token
	require.NotEmpty(t, tok)
	return tok
}

// requireSameResults compares a CLI's JSON with the REST answer to the
// same call: everything but the timings and the job id.
func requireSameResults(t *testing.T, want, got []byte) {
	t.Helper()
	norm := func(b []byte) any {
		var v any
		require.NoError(t, json.Unmarshal(b, &v), "%s", b)
		var strip func(any)
		strip = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				delete(x, "durationMs")
				delete(x, "jobId")
				for _, e := range x {
					strip(e)
				}
			case []any:
				for _, e := range x {
					strip(e)
				}
			}
		}
		strip(v)
		return v
	}
	require.Equal(t, norm(want), norm(got))
}

// TestCLITerminal runs hubgw on a pseudo-terminal: the password prompt
// does not echo, tables are coloured unless NO_COLOR says not.
func TestCLITerminal(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, nil)
	u := newCLIUser(t, buildHubgw(t), "TERM=xterm-256color")

	out, code := u.onTerminal(t, "admin\n", "login", "--gateway", g.Base, "-u", "admin", "--mode", "relay")
	require.Equal(t, 0, code, "%s", out)
	require.Contains(t, out, "Password: ")
	require.NotContains(t, out, "admin\r\n", "the password is not echoed")
	require.Contains(t, out, "Logged in to "+g.Base+" as admin (relay)")
	keptToken(t, u, g.Base)

	out, code = u.onTerminal(t, "", "call", "api.getVersion", "--targets", "all,hub")
	require.Equal(t, 0, code, "%s", out)
	require.Regexp(t, "\x1b\\[32mok\x1b\\[0m", out, "ok in green: %q", out)
	require.Len(t, regexp.MustCompile(`(?m)^\S+\s+\x1b\[32mok`).FindAllString(out, -1), 3, "%q", out)

	// Long values are cut to the terminal's 200 columns, and it is said.
	out, code = u.onTerminal(t, "", "call", "system.listSystems", "--targets", "all")
	require.Equal(t, 0, code, "%s", out)
	require.Contains(t, out, "…\r\n")
	require.Contains(t, out, "-o json shows them whole")
	for line := range strings.Lines(out) {
		require.LessOrEqual(t, utf8.RuneCountInString(ansiEscape.ReplaceAllString(strings.TrimRight(line, "\r\n"), "")), 200, "%q", line)
	}

	u.env = append(u.env, "NO_COLOR=1")
	out, code = u.onTerminal(t, "", "call", "api.getVersion", "--targets", "all,hub")
	require.Equal(t, 0, code, "%s", out)
	require.NotRegexp(t, ansiEscape, out)
	require.Regexp(t, `(?m)^hub\s+ok\s`, out)
}

// waitNoEcho waits until the terminal stops echoing: the prompt is
// written just before echo goes off, and what is typed before that is
// echoed (by the terminal, as for any program that prompts so). On Linux
// the master's termios calls reach the terminal's own settings.
func waitNoEcho(t *testing.T, f *os.File) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		require.NoError(t, err)
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "the terminal still echoes after the prompt")
		time.Sleep(time.Millisecond) // polling the terminal's state: there is no event for it
	}
}

// onTerminal runs hubgw with a pseudo-terminal as its stdin, stdout and
// stderr, typing input once it asks for a password, and returns all it
// wrote and its exit code.
func (u *cliUser) onTerminal(t *testing.T, input string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, u.bin, args...)
	cmd.Env = u.env
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	require.NoError(t, err)
	defer f.Close()
	var out bytes.Buffer
	buf := make([]byte, 4096)
	typed := input == ""
	for {
		n, err := f.Read(buf)
		out.Write(buf[:n])
		if !typed && bytes.Contains(out.Bytes(), []byte("Password: ")) {
			waitNoEcho(t, f)
			_, werr := io.WriteString(f, input)
			require.NoError(t, werr)
			typed = true
		}
		if err != nil { // EIO once the process has closed the terminal
			break
		}
	}
	_ = cmd.Wait()
	return out.String(), cmd.ProcessState.ExitCode()
}
