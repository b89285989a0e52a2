package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Jobs: every multicast/broadcast is recorded and readable with
// hub.getJob / hub.listJobs (here in the default, in-memory mode).
func TestJobsOverXMLRPC(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	c := kolo(t, g.URL)
	key := mustCall(t, c, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	ids := ints(mustCall(t, c, "hub.listServerIds", key))
	mustCall(t, c, "hub.attachToServers", key, anys(ids...))
	byID := map[int64]*uyunisim.Server{}
	for _, p := range sim.Peripherals() {
		byID[p.ID()] = p
	}
	require.NoError(t, byID[ids[1]].Inject(uyunisim.Faults{FailMethod: map[string]*rpc.Fault{"system.listSystems": {Code: 2800, String: "validation failed"}}}))

	res := mustCall(t, c, "broadcast.system.listSystems", key, anys(ids...))
	jobID := member(res, "JobId").(string)
	job := mustCall(t, c, "hub.getJob", key, jobID)
	require.Equal(t, "done", member(job, "Status"))
	require.Equal(t, "admin", member(job, "User"))
	require.IsType(t, time.Time{}, member(job, "Started"))
	require.IsType(t, time.Time{}, member(job, "Ended"))
	require.Equal(t, []any{int64(3), int64(3), int64(2), int64(1)}, []any{member(job, "Total"), member(job, "Finished"), member(job, "Succeeded"), member(job, "Failed")})
	targets := member(job, "Targets").([]any)
	for i, tg := range targets {
		require.Equal(t, ids[i], member(tg, "ServerId"), "request order")
	}
	require.Equal(t, "fault", member(targets[1], "Outcome"))
	require.EqualValues(t, 2800, member(targets[1], "FaultCode"))
	require.Equal(t, "validation failed", member(targets[1], "FaultString"))
	// A read's answer is described, not kept: a job records what was
	// changed where.
	require.Nil(t, member(targets[0], "Value"))
	require.Contains(t, member(targets[0], "ValueOmitted"), "answer of a read-only method, not recorded")

	// A write's answer is kept.
	wres := mustCall(t, c, "broadcast.channel.software.create", key, anys(ids[0]), "job-chan", "Job channel", "s", "channel-x86_64", "")
	wjob := mustCall(t, c, "hub.getJob", key, member(wres, "JobId"))
	require.EqualValues(t, 1, member(member(wjob, "Targets").([]any)[0], "Value"))

	// listJobs: newest first; limit; bad arguments are clear faults.
	res2 := mustCall(t, c, "broadcast.system.listSystems", key, "all")
	list := mustCall(t, c, "hub.listJobs", key).([]any)
	require.Equal(t, member(res2, "JobId"), member(list[0], "JobId"))
	require.Equal(t, member(wres, "JobId"), member(list[1], "JobId"))
	require.Equal(t, jobID, member(list[2], "JobId"))
	require.Nil(t, member(list[0], "Targets"))
	require.Len(t, mustCall(t, c, "hub.listJobs", key, 1), 1)
	mustFault(t, c, gateway.CodeUnknownJob, "no job", "hub.getJob", key, "jdoesnotexist")
	mustFault(t, c, gateway.CodeBadParams, "takes 2 arguments", "hub.getJob", key)
	mustFault(t, c, gateway.CodeBadParams, "must be a string", "hub.getJob", key, 42)
	mustFault(t, c, gateway.CodeBadParams, "from 1 to 1000", "hub.listJobs", key, 0)
	mustFault(t, c, gateway.CodeNoSession, "Could not find session", "hub.getJob", "gwnope", jobID)

	// Python's xmlrpc.client reads a job as well.
	out := python(t, `
import os, xmlrpc.client
c = xmlrpc.client.ServerProxy(os.environ["GW"])
j = c.hub.getJob(os.environ["KEY"], os.environ["JOB"])
print(j["Status"], j["Targets"][1]["FaultCode"], type(j["Started"]).__name__)
`, "GW="+g.URL, "KEY="+key, "JOB="+jobID)
	require.Equal(t, "done 2800 DateTime", out)
}

// Secrets in arguments never reach the job record.
func TestJobArgumentsRedacted(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, nil)
	c := kolo(t, g.URL)
	key := member(mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin"), "SessionKey").(string)
	ids := ints(mustCall(t, c, "hub.listServerIds", key))
	// multicast: per-server arguments, a password among them.
	res := mustCall(t, c, "multicast.user.create", key, anys(ids...), anys("bob", "carol"), anys("hunter2", "s3cret!"), anys("Bob", "Carol"), anys("B", "C"), anys("b@example.com", "c@example.com"))
	status, body := post(t, g.URL, "text/xml", strings.NewReader(xmlCall(t, "hub.getJob", key, member(res, "JobId"))))
	require.Equal(t, 200, status)
	require.NotContains(t, body, "hunter2")
	require.NotContains(t, body, "s3cret!")
	require.NotContains(t, body, key[2:], "nor the session key")
	job := mustCall(t, c, "hub.getJob", key, member(res, "JobId"))
	require.Equal(t, []any{"bob", "[redacted]", "Bob", "B", "b@example.com"}, member(job, "Args"))
	require.Equal(t, []any{"carol", "[redacted]", "Carol", "C", "c@example.com"}, member(member(job, "Targets").([]any)[1], "Args"))
}

func xmlCall(t *testing.T, method string, args ...any) string {
	t.Helper()
	b, err := xmlrpc.AppendCall(nil, method, args...)
	require.NoError(t, err)
	return string(b)
}

// With recording off, multicast results carry no JobId and hub.getJob says why.
func TestJobsOff(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, func(c *server.Config) { c.Jobs = false })
	c := kolo(t, g.URL)
	key := member(mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin"), "SessionKey").(string)
	res := mustCall(t, c, "broadcast.system.listSystems", key, "all")
	require.Nil(t, member(res, "JobId"))
	mustFault(t, c, gateway.CodeUnknownJob, "recording is off", "hub.getJob", key, "jx")
	require.Empty(t, mustCall(t, c, "hub.listJobs", key))
}

// The read cache, shared by two gateways through Redis: a hit on one is a
// hit on the other; a write through either to the same namespace on the
// same peripheral invalidates it for both.
func TestReadCacheAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	keyFile, prefix := secretKeyFile(t), redistest.Prefix(t)
	tweak := func(c *server.Config) {
		c.RedisURL, c.SecretKeyFile, c.RedisPrefix = srv.URL, keyFile, prefix
		c.ReadCache = "channel.listAllChannels=1m"
	}
	a, b := kolo(t, startGateway(t, sim, tweak).URL), kolo(t, startGateway(t, sim, tweak).URL)
	key := member(mustCall(t, a, "hub.loginWithAutoconnectMode", "admin", "admin"), "SessionKey").(string)
	ids := ints(mustCall(t, b, "hub.listServerIds", key))
	p := map[int64]*uyunisim.Server{}
	for _, s := range sim.Peripherals() {
		p[s.ID()] = s
	}
	upstream := func(id int64) int {
		n := 0
		for _, c := range p[id].Calls() {
			if c.Method == "channel.listAllChannels" {
				n++
			}
		}
		return n
	}

	first := mustCall(t, a, "unicast.channel.listAllChannels", key, ids[0])
	require.Equal(t, first, mustCall(t, b, "unicast.channel.listAllChannels", key, ids[0]))
	mustCall(t, b, "broadcast.channel.listAllChannels", key, "all")
	require.Equal(t, 1, upstream(ids[0]), "B's calls were hits")
	require.Equal(t, 1, upstream(ids[1]))

	mustCall(t, b, "unicast.channel.software.create", key, ids[0], "cached-chan", "Cached channel", "summary", "channel-x86_64", "")
	after := mustCall(t, a, "unicast.channel.listAllChannels", key, ids[0])
	require.Equal(t, 2, upstream(ids[0]), "the write invalidated the cache on that peripheral")
	require.Contains(t, fmt.Sprint(after), "cached-chan")
	mustCall(t, a, "unicast.channel.listAllChannels", key, ids[1])
	require.Equal(t, 1, upstream(ids[1]), "and only there")
}

// The read cache keys an answer by the user the peripheral knows the
// caller as, not by the gateway user (issue 12, L): one gateway user
// reaching a peripheral as two accounts never gets the other account's
// cached answer; two gateway users reaching it as one account (a
// configured service account) share it.
func TestReadCacheKeyedByUpstreamUser(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2, Systems: 4, Users: map[string]string{"viewer": "vpw"}})
	p1, p2 := sim.Peripherals()[0], sim.Peripherals()[1]
	g := startGateway(t, sim, func(c *server.Config) {
		c.ReadCache = "system.listSystems=1m"
		c.Peripherals = map[string]server.Peripheral{p2.FQDN(): {User: "viewer", Password: "vpw"}}
	})
	c := kolo(t, g.URL)
	upstream := func(p *uyunisim.Server) int {
		n := 0
		for _, call := range p.Calls() {
			if call.Method == "system.listSystems" {
				n++
			}
		}
		return n
	}
	systems := func(key string, p *uyunisim.Server) int {
		return len(mustCall(t, c, "unicast.system.listSystems", key, p.ID()).([]any))
	}

	// Peripheral 1, no service account: the admin's relayed account, and a
	// manual session of the same gateway user attached as the viewer.
	relay := mustCall(t, c, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	manual := mustCall(t, c, "hub.login", "admin", "admin").(string)
	mustCall(t, c, "hub.attachToServers", manual, []any{p1.ID()}, []any{"viewer"}, []any{"vpw"})
	require.Equal(t, 4, systems(relay, p1))
	require.Equal(t, 0, systems(manual, p1), "the viewer's own answer, not the admin's cached one")
	require.Equal(t, 2, upstream(p1))
	require.Equal(t, 0, systems(manual, p1))
	again := mustCall(t, c, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	require.Equal(t, 4, systems(again, p1))
	require.Equal(t, 2, upstream(p1), "the same accounts again: both hits")

	// Peripheral 2: every session reaches it as the service account, so
	// the admin and the viewer share its answer.
	viewer := mustCall(t, c, "hub.loginWithAuthRelayMode", "viewer", "vpw").(string)
	require.Equal(t, 0, systems(relay, p2), "the service account's answer")
	require.Equal(t, 0, systems(viewer, p2))
	require.Equal(t, 1, upstream(p2), "one account upstream: one call")
}

// BenchmarkJobRecording: a 500-peripheral broadcast.system.listSystems
// (20 ms per peripheral), without job recording, recording in memory, and
// recording in a local Redis. overhead-us/target is the difference of the
// median call to the run without recording, divided by the targets.
func BenchmarkJobRecording(b *testing.B) {
	const n = 500
	sim, err := uyunisim.Start(context.Background(), uyunisim.Config{Peripherals: n, Systems: 10, Faults: uyunisim.Faults{Latency: 20 * time.Millisecond}, MaxCalls: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sim.Close() })
	redis := redistest.Start(b)
	keyFile := secretKeyFile(b)
	var base time.Duration
	for _, mode := range []string{"off", "memory", "redis"} {
		b.Run("jobs="+mode, func(b *testing.B) {
			g := startGateway(b, sim, func(c *server.Config) {
				c.MaxPerServer, c.MaxConcurrency, c.RequestTimeout = 64, 4096, 30*time.Second
				c.Jobs = mode != "off"
				if mode == "redis" {
					c.RedisURL, c.SecretKeyFile, c.RedisPrefix = redis.URL, keyFile, redistest.Prefix(b)
				}
			})
			call := func(method string, params ...any) any {
				body, err := xmlrpc.AppendCall(nil, method, params...)
				if err != nil {
					b.Fatal(err)
				}
				resp, err := http.Post(g.URL, "text/xml", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				defer resp.Body.Close()
				raw, err := io.ReadAll(resp.Body)
				if err != nil {
					b.Fatal(err)
				}
				v, err := xmlrpc.DecodeResponse(raw, xmlrpc.Limits{MaxBytes: 256 << 20})
				if err != nil {
					b.Fatal(err)
				}
				return v
			}
			key, _ := call("hub.loginWithAutoconnectMode", "admin", "admin").(rpc.Struct).Get("SessionKey")
			call("broadcast.system.listSystems", key, "all") // warm the connections
			var lats []time.Duration
			for b.Loop() {
				start := time.Now()
				res := call("broadcast.system.listSystems", key, "all").(rpc.Struct)
				lats = append(lats, time.Since(start))
				if ok, _ := res.Get("Complete"); ok != true {
					b.Fatalf("incomplete: %v", res)
				}
			}
			slices.Sort(lats)
			p50 := lats[len(lats)/2]
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			if mode == "off" {
				base = p50
			} else if base > 0 {
				b.ReportMetric(float64((p50-base).Microseconds())/n, "overhead-us/target")
			}
		})
	}
}
