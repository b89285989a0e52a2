package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// Two hubgw processes on a highly available Redis (Sentinel, Cluster),
// a stream of broadcasts through both, and a master killed (SIGKILL; in
// the cluster, the one holding the job indexes): calls are back within
// 10 s of the engine's own failover, /readyz is 503 during and 200 after,
// the session survives, and every fan-out that was answered as complete
// reads done with every answer.
func TestReplicasThroughRedisFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Sentinel and Cluster setups, two hubgw processes, and kills a master")
	}
	tests := []struct {
		name  string
		start func(t *testing.T, prefix string) (url string, replicated, kill func(), failedOver func() bool)
	}{
		{"sentinel", func(t *testing.T, _ string) (string, func(), func(), func() bool) {
			st := redistest.StartSentinel(t, 1, 3)
			if st.External {
				t.Skip("kills a master: needs a setup this test starts")
			}
			old := st.Master.Addr
			return st.URL, st.WaitReplicated, st.Master.Stop, func() bool { return st.MasterAddr() != old }
		}},
		{"cluster", func(t *testing.T, prefix string) (string, func(), func(), func() bool) {
			c := redistest.StartCluster(t, 3, 1)
			victim := c.MasterOf(prefix + "jobs") // skips for REDIS_CLUSTER_URL's
			return c.URL, c.WaitReplicated, victim.Stop, func() bool { return c.MasterOf(prefix+"jobs") != victim }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := redistest.Prefix(t)
			url, replicated, kill, failedOver := tt.start(t, prefix)
			sim := startSim(t, uyunisim.Config{Peripherals: 3})
			rs := replicas(t, 2, sim, &redistest.Server{URL: url}, "--redis-prefix", prefix, "--redis-timeout", "1s")
			clients := []*koloClient{kolo(t, rs[0].URL), kolo(t, rs[1].URL)}
			key := mustCall(t, clients[0], "hub.loginWithAuthRelayMode", "admin", "admin").(string)
			ids := ints(mustCall(t, clients[1], "hub.listServerIds", key))
			mustCall(t, clients[1], "hub.attachToServers", key, anys(ids...))

			var done []string // jobs answered as complete
			// broadcast through every replica; true when each was complete.
			broadcast := func() bool {
				all := true
				for _, c := range clients {
					res, f := call(t, c, "broadcast.system.listSystems", key, "all")
					if f != nil || member(res, "Complete") != true {
						all = false
						continue
					}
					done = append(done, member(res, "JobId").(string))
				}
				return all
			}
			ready := func() bool {
				for _, r := range rs {
					if code, _ := readyz(t, r.Base); code != http.StatusOK {
						return false
					}
				}
				return true
			}
			require.True(t, broadcast())
			require.True(t, ready())
			replicated()

			start := time.Now()
			kill()
			// Calls are back when every broadcast through both replicas
			// is complete from then on (five rounds in a row): in a
			// cluster, fan-outs whose records live on the other masters
			// go through during the outage too.
			var notReady, engine, back, readyAgain, failed time.Duration
			streak := 0
			for engine == 0 || readyAgain == 0 || streak < 5 {
				since := time.Since(start)
				require.Less(t, since, 90*time.Second, "no recovery: engine %v, calls %v, ready %v", engine, back, readyAgain)
				if engine == 0 && failedOver() {
					engine = since
				}
				if broadcast() {
					if streak == 0 {
						back = time.Since(start)
					}
					streak++
				} else {
					streak, failed = 0, time.Since(start)
				}
				switch r := ready(); {
				case !r && notReady == 0:
					notReady = time.Since(start)
				case r && notReady != 0 && readyAgain == 0:
					readyAgain = time.Since(start)
				}
			}
			t.Logf("/readyz 503 after %v; engine failed over after %v; broadcasts complete on both replicas after %v; /readyz 200 after %v",
				notReady.Round(10*time.Millisecond), engine.Round(10*time.Millisecond), back.Round(10*time.Millisecond), readyAgain.Round(10*time.Millisecond))
			require.NotZero(t, failed, "calls failed during the failover")
			require.Less(t, back-engine, 10*time.Second, "calls back within 10 s of the engine")
			require.Less(t, readyAgain-engine, 10*time.Second, "ready within 10 s of the engine")

			// The session survived; every complete fan-out reads done,
			// with every answer, from either replica.
			for _, c := range clients {
				require.Len(t, ints(mustCall(t, c, "hub.listServerIds", key)), 3)
			}
			for i, id := range done {
				c := clients[i%2]
				require.Eventually(t, func() bool {
					job, f := call(t, c, "hub.getJob", key, id)
					if f != nil {
						return false
					}
					require.NotEqual(t, "interrupted", member(job, "Status"), "job %s", id)
					return member(job, "Status") == "done" && member(job, "Succeeded") == int64(3)
				}, 30*time.Second, 50*time.Millisecond, "job %s", id)
			}
		})
	}
}
