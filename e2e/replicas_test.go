package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kolo/xmlrpc"
	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway"
)

// Many replicas behave as one: these tests run hubgw as separate
// processes (the binary, built here) sharing one Redis, in front of an
// in-test uyunisim.

// buildReplicaBinary builds cmd/hubgw into a temporary directory.
func buildReplicaBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs hubgw processes")
	}
	return build(t, "cmd/hubgw")
}

// secretKeyFile writes a fresh 32-byte key, hex encoded.
func secretKeyFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret.key")
	sum := sha256.Sum256([]byte("hubgw e2e secret key"))
	require.NoError(t, os.WriteFile(path, []byte(hex.EncodeToString(sum[:])+"\n"), 0o600))
	return path
}

// replica is one hubgw process.
type replica struct {
	name string
	URL  string // XML-RPC endpoint
	Base string
	cmd  *exec.Cmd
	done chan struct{}

	mu  sync.Mutex
	log []string // stderr lines (JSON)
}

// startReplica runs `hubgw serve` and waits until it listens.
func startReplica(t *testing.T, bin, name string, sim *uyunisim.Sim, args ...string) *replica {
	t.Helper()
	all := append([]string{"serve", "--listen", "127.0.0.1:0", "--hub-url", sim.Hub().URL(), "--peripheral-scheme", "http",
		"--request-timeout", "60s", "--call-timeout", "2m", "--retries", "0", "--log-level", "debug"}, args...)
	cmd := exec.Command(bin, all...)
	cmd.Env = append(os.Environ(), "REDIS_URL=") // nothing from the test's environment but what args say
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	r := &replica{name: name, cmd: cmd, done: make(chan struct{})}
	listen := make(chan string, 1)
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.log = append(r.log, line)
			r.mu.Unlock()
			var rec struct {
				Msg    string `json:"msg"`
				Listen string `json:"listen"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "hubgw serving" {
				listen <- rec.Listen
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-r.done
		}
		if t.Failed() {
			t.Logf("replica %s log:\n%s", name, r.logs())
		}
	})
	select {
	case addr := <-listen:
		r.Base = "http://" + addr
		r.URL = r.Base + "/hub/rpc/api"
	case <-r.done:
		t.Fatalf("replica %s exited before serving:\n%s", name, r.logs())
	case <-time.After(60 * time.Second):
		t.Fatalf("replica %s did not start:\n%s", name, r.logs())
	}
	return r
}

func (r *replica) logs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.log, "\n")
}

// kill is what a crash looks like: SIGKILL, no shutdown.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, r.cmd.Process.Kill())
	<-r.done
}

// readyz returns /readyz's status and body.
func readyz(t *testing.T, base string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	require.Eventually(t, func() bool { code, _ := readyz(t, base); return code == http.StatusOK }, 60*time.Second, 50*time.Millisecond, "%s never ready", base)
}

// replicas starts n hubgw processes sharing srv's Redis.
func replicas(t *testing.T, n int, sim *uyunisim.Sim, srv *redistest.Server, args ...string) []*replica {
	t.Helper()
	bin := buildReplicaBinary(t)
	key := secretKeyFile(t)
	prefix := redistest.Prefix(t) // the replicas of this test share it
	out := make([]*replica, n)
	for i := range out {
		out[i] = startReplica(t, bin, string(rune('A'+i)), sim, append([]string{"--redis-url", srv.URL, "--secret-key-file", key, "--redis-prefix", prefix}, args...)...)
	}
	for _, r := range out {
		waitReady(t, r.Base)
	}
	return out
}

func TestReplicasShareSessionsAndJobs(t *testing.T) {
	srv := redistest.Start(t)
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	rs := replicas(t, 2, sim, srv)
	a, b := kolo(t, rs[0].URL), kolo(t, rs[1].URL)

	// Log in through A, call through B.
	key := mustCall(t, a, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	ids := ints(mustCall(t, b, "hub.listServerIds", key))
	require.Len(t, ids, 3)
	res := mustCall(t, b, "hub.attachToServers", key, anys(ids...))
	require.Len(t, member(res, "Successful", "ServerIds"), 3)
	require.NotEmpty(t, mustCall(t, a, "unicast.system.listSystems", key, ids[0]), "A sees what B attached")

	// A fan-out through A is a job B can read, with every target.
	res = mustCall(t, a, "broadcast.system.listSystems", key, "all")
	require.Equal(t, true, member(res, "Complete"))
	jobID, _ := member(res, "JobId").(string)
	require.Regexp(t, `^j[0-9a-f]{32}$`, jobID)
	job := mustCall(t, b, "hub.getJob", key, jobID)
	require.Equal(t, "done", member(job, "Status"))
	require.Equal(t, "system.listSystems", member(job, "Method"))
	require.EqualValues(t, 3, member(job, "Succeeded"))
	targets := member(job, "Targets").([]any)
	require.Len(t, targets, 3)
	for _, tg := range targets {
		require.Equal(t, "ok", member(tg, "Outcome"))
		require.NotEmpty(t, member(tg, "ValueOmitted"), "a read's answer is described, from any replica")
	}
	list := mustCall(t, a, "hub.listJobs", key).([]any)
	require.Equal(t, jobID, member(list[0], "JobId"))

	// Logging out through B ends the session for A too.
	mustCall(t, b, "hub.logout", key)
	mustFault(t, a, gateway.CodeNoSession, "Could not find session", "hub.listServerIds", key)
}

// A replica killed in the middle of a fan-out leaves its job interrupted,
// with the targets that had answered recorded: visible from the other
// replica while it runs and after.
func TestReplicaKilledMidFanOut(t *testing.T) {
	srv := redistest.Start(t)
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	rs := replicas(t, 2, sim, srv, "--job-lease", "2s")
	a, b := kolo(t, rs[0].URL), kolo(t, rs[1].URL)
	key := mustCall(t, a, "hub.loginWithAutoconnectMode", "admin", "admin")
	skey := member(key, "SessionKey").(string)
	ids := ints(mustCall(t, a, "hub.listServerIds", skey))

	hang := sim.Peripherals()[2]
	require.NoError(t, hang.Inject(uyunisim.Faults{Hang: true}))
	fanout := make(chan struct{})
	go func() {
		defer close(fanout)
		body, _ := xmlrpc.EncodeMethodCall("broadcast.system.listSystems", skey, "all")
		resp, err := http.Post(rs[0].URL, "text/xml", strings.NewReader(string(body)))
		if err == nil { // A dies before answering: an error is what we expect
			resp.Body.Close()
		}
	}()

	// B sees the job running, two targets done, one still out.
	var jobID string
	require.Eventually(t, func() bool {
		for _, j := range mustCall(t, b, "hub.listJobs", skey).([]any) {
			if member(j, "Status") == "running" && member(j, "Finished") == int64(2) {
				jobID = member(j, "JobId").(string)
				return true
			}
		}
		return false
	}, 60*time.Second, 20*time.Millisecond)
	job := mustCall(t, b, "hub.getJob", skey, jobID)
	require.Equal(t, "running", member(job, "Status"))
	byID := map[int64]any{}
	for _, tg := range member(job, "Targets").([]any) {
		byID[member(tg, "ServerId").(int64)] = tg
	}
	require.Equal(t, "running", member(byID[hang.ID()], "Outcome"))

	rs[0].kill(t)
	<-fanout

	// Once A's lease lapses, B reports the job interrupted: not lost, not
	// running forever, the finished targets kept.
	require.Eventually(t, func() bool {
		return member(mustCall(t, b, "hub.getJob", skey, jobID), "Status") == "interrupted"
	}, 60*time.Second, 50*time.Millisecond)
	job = mustCall(t, b, "hub.getJob", skey, jobID)
	require.EqualValues(t, 2, member(job, "Finished"))
	require.NotNil(t, member(job, "Ended"))
	for _, tg := range member(job, "Targets").([]any) {
		want := "ok"
		if member(tg, "ServerId") == hang.ID() {
			want = "interrupted"
		}
		require.Equal(t, want, member(tg, "Outcome"), "server %v", member(tg, "ServerId"))
	}
	require.Len(t, ids, 3)
	require.NoError(t, hang.ClearFaults())
}

// Redis stopped mid-run: calls that need state get fault 4108 at once,
// /readyz says why, nothing hangs; Redis back: both replicas recover by
// themselves.
func TestRedisLostAndBack(t *testing.T) {
	srv := redistest.Start(t)
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	rs := replicas(t, 2, sim, srv, "--redis-timeout", "1s")
	a, b := kolo(t, rs[0].URL), kolo(t, rs[1].URL)
	key := mustCall(t, a, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	ids := ints(mustCall(t, b, "hub.listServerIds", key))
	mustCall(t, b, "hub.attachToServers", key, anys(ids...))

	srv.Stop()
	for _, c := range []*koloClient{a, b} {
		mustFault(t, c, gateway.CodeStateUnavailable, "state store unavailable", "hub.listServerIds", key)
		mustFault(t, c, gateway.CodeStateUnavailable, "state store unavailable", "broadcast.system.listSystems", key, "all")
		mustFault(t, c, gateway.CodeStateUnavailable, "state store unavailable", "hub.login", "admin", "admin")
		mustFault(t, c, gateway.CodeStateUnavailable, "state store unavailable", "system.listSystems", key) // passthrough: never the gateway key to the hub
	}
	for _, r := range rs { // readiness is cached for a second
		var body string
		require.Eventually(t, func() bool {
			var code int
			code, body = readyz(t, r.Base)
			return code == http.StatusServiceUnavailable
		}, 10*time.Second, 50*time.Millisecond)
		require.Contains(t, body, "state store")
	}

	srv.Restart() // empty: persistence is off
	for _, r := range rs {
		waitReady(t, r.Base)
	}
	mustFault(t, b, gateway.CodeNoSession, "Could not find session", "hub.listServerIds", key)
	key = mustCall(t, b, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	mustCall(t, a, "hub.attachToServers", key, anys(ids...))
	res := mustCall(t, b, "broadcast.system.listSystems", key, "all")
	require.Equal(t, true, member(res, "Complete"))
	job := mustCall(t, a, "hub.getJob", key, member(res, "JobId"))
	require.Equal(t, "done", member(job, "Status"))
}

// Redis down when a replica starts: it starts (and says so clearly), is not
// ready, refuses stateful calls with 4108, and becomes ready when Redis
// answers.
func TestRedisDownAtStart(t *testing.T) {
	srv := redistest.Start(t)
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	srv.Stop()
	r := startReplica(t, buildReplicaBinary(t), "A", sim, "--redis-url", srv.URL, "--secret-key-file", secretKeyFile(t), "--redis-timeout", "1s")
	require.Eventually(t, func() bool { return strings.Contains(r.logs(), "state store unavailable at start") }, 30*time.Second, 20*time.Millisecond)
	code, body := readyz(t, r.Base)
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "state store")
	c := kolo(t, r.URL)
	mustFault(t, c, gateway.CodeStateUnavailable, srv.Addr, "hub.login", "admin", "admin")

	srv.Restart()
	waitReady(t, r.Base)
	key := mustCall(t, c, "hub.login", "admin", "admin").(string)
	require.Len(t, ints(mustCall(t, c, "hub.listServerIds", key)), 1)
}

// Without a secret key, Redis mode refuses to start, saying what to do.
func TestRedisModeNeedsASecretKey(t *testing.T) {
	bin := buildReplicaBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--redis-url", "redis://127.0.0.1:1").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "secret-key-file")
	require.Contains(t, string(out), "openssl rand -hex 32")
}
