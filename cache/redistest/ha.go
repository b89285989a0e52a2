package redistest

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// This file starts the highly available topologies, Redis Cluster and
// Sentinel, with timeouts short enough that a failover takes seconds: the
// engines' own failover is what tests of the gateway's recovery measure
// against.

// NodeTimeout is the cluster's node timeout and the sentinels'
// down-after: how long a master must be silent before a failover starts.
const NodeTimeout = time.Second

// Cluster is a Redis Cluster started for a test (or REDIS_CLUSTER_URL's).
type Cluster struct {
	URL   string    // redis-cluster://<seed>?addr=...: every node is a seed
	Nodes []*Server // nil when External
	// External: REDIS_CLUSTER_URL's cluster, not ours to kill.
	External bool

	t testing.TB
}

// StartCluster starts masters × (1 + replicas) redis-server nodes with
// cluster mode on (masters >= 3), joins them with redis-cli and waits
// until every node reports the cluster ok and every replica is in sync.
func StartCluster(t testing.TB, masters, replicas int) *Cluster {
	t.Helper()
	if u := os.Getenv("REDIS_CLUSTER_URL"); u != "" {
		return &Cluster{URL: u, External: true, t: t}
	}
	bin := binary(t)
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli is not installed")
	}
	dir := t.TempDir()
	c := &Cluster{t: t}
	var addrs []string
	for i := range masters * (1 + replicas) {
		s := newServer(t, dir, "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)),
			"--cluster-node-timeout", strconv.Itoa(int(NodeTimeout.Milliseconds())))
		s.start(bin)
		t.Cleanup(s.kill)
		c.Nodes = append(c.Nodes, s)
		addrs = append(addrs, s.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.URL = "redis-cluster://" + addrs[0]
	if len(addrs) > 1 {
		c.URL += "?addr=" + strings.Join(addrs[1:], "&addr=")
	}
	c.WaitHealthy(time.Minute)
	return c
}

// WaitHealthy waits until every running node says cluster_state:ok and
// knows every other running node, and every replica's link to its master
// is up: the state in which a master's loss can be failed over.
func (c *Cluster) WaitHealthy(timeout time.Duration) {
	c.t.Helper()
	if c.External {
		return
	}
	waitFor(c.t, timeout, "cluster healthy", func(ctx context.Context) (bool, string) {
		for _, s := range c.Nodes {
			if !s.Running() {
				continue
			}
			cl := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
			ok, why := nodeHealthy(ctx, cl)
			cl.Close()
			if !ok {
				return false, s.Addr + ": " + why
			}
		}
		return true, ""
	})
}

func nodeHealthy(ctx context.Context, cl *redis.Client) (bool, string) {
	info, err := cl.ClusterInfo(ctx).Result()
	if err != nil {
		return false, err.Error()
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return false, "cluster_state not ok"
	}
	repl, err := cl.Info(ctx, "replication").Result()
	if err != nil {
		return false, err.Error()
	}
	if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
		return false, "replica not in sync"
	}
	return true, ""
}

// MasterOf returns the node that serves key's slot now.
func (c *Cluster) MasterOf(key string) *Server {
	c.t.Helper()
	if c.External {
		c.t.Skip("finding a cluster node needs a cluster this test starts (REDIS_CLUSTER_URL is set)")
	}
	var master *Server
	ok := askRunning(c.Nodes, func(ctx context.Context, s *Server) bool {
		cl := redis.NewClient(&redis.Options{Addr: s.Addr})
		slot, err := cl.ClusterKeySlot(ctx, key).Result()
		ranges, err2 := cl.ClusterSlots(ctx).Result()
		cl.Close()
		if err = cmp.Or(err, err2); err != nil {
			c.t.Fatalf("CLUSTER KEYSLOT, SLOTS on %s: %v", s.Addr, err)
		}
		for _, r := range ranges {
			if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
				for _, n := range c.Nodes {
					if n.Addr == r.Nodes[0].Addr {
						master = n
						return true
					}
				}
			}
		}
		c.t.Fatalf("no node of this test serves slot %d of %q", slot, key)
		return false
	})
	if !ok {
		c.t.Fatal("no cluster node is running")
	}
	return master
}

// WaitReplicated waits until every running master's replicas have
// everything it acknowledged (WAIT), so that killing one loses nothing.
func (c *Cluster) WaitReplicated() {
	c.t.Helper()
	if c.External {
		return
	}
	for _, s := range c.Nodes {
		if s.Running() {
			waitReplicated(c.t, s.Addr, false)
		}
	}
}

// WaitReplicated waits until the master's replicas have everything it
// acknowledged (WAIT), so that killing it loses nothing.
func (st *Sentinel) WaitReplicated() {
	st.t.Helper()
	if !st.External {
		waitReplicated(st.t, st.MasterAddr(), true)
	}
}

// waitReplicated runs WAIT on addr if it is a master with replicas.
func waitReplicated(t testing.TB, addr string, mustBeMaster bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		t.Fatalf("INFO on %s: %v", addr, err)
	}
	if !strings.Contains(info, "role:master") {
		if mustBeMaster {
			t.Fatalf("%s is not a master", addr)
		}
		return
	}
	if strings.Contains(info, "connected_slaves:0") {
		return
	}
	if err := c.Do(ctx, "WAIT", 1, 5000).Err(); err != nil {
		t.Fatalf("WAIT on %s: %v", addr, err)
	}
}

// askRunning asks each running server in turn until ask says it has its
// answer, and reports whether one did.
func askRunning(servers []*Server, ask func(context.Context, *Server) bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		if s.Running() && ask(ctx, s) {
			return true
		}
	}
	return false
}

// Sentinel is a master, its replicas and the sentinels watching them,
// started for a test (or REDIS_SENTINEL_URL's).
type Sentinel struct {
	URL       string // redis-sentinel://<sentinel>?master_name=mymaster&addr=...
	Name      string // the master's name, "mymaster"
	Master    *Server
	Replicas  []*Server
	Sentinels []*Server
	External  bool

	t testing.TB
}

// StartSentinel starts a master, replicas replicas of it and sentinels
// sentinels (quorum: a majority) watching it, and waits until every
// sentinel knows the replicas and the other sentinels, so a failover can
// be agreed.
func StartSentinel(t testing.TB, replicas, sentinels int) *Sentinel {
	t.Helper()
	if u := os.Getenv("REDIS_SENTINEL_URL"); u != "" {
		return &Sentinel{URL: u, Name: "mymaster", External: true, t: t}
	}
	bin := binary(t)
	dir := t.TempDir()
	st := &Sentinel{Name: "mymaster", t: t}
	st.Master = newServer(t, dir)
	st.Master.start(bin)
	t.Cleanup(st.Master.kill)
	for range replicas {
		host, port, _ := strings.Cut(st.Master.Addr, ":")
		r := newServer(t, dir, "--replicaof", host, port)
		r.start(bin)
		t.Cleanup(r.kill)
		st.Replicas = append(st.Replicas, r)
	}
	var addrs []string
	for i := range sentinels {
		port := freePort(t)
		conf := filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", i))
		body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
			"sentinel monitor %s %s %d\n"+
			"sentinel down-after-milliseconds %[3]s %[6]d\n"+
			"sentinel failover-timeout %[3]s 10000\n",
			port, dir, st.Name, strings.Replace(st.Master.Addr, ":", " ", 1), sentinels/2+1, NodeTimeout.Milliseconds())
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		s := &Server{t: t, Addr: fmt.Sprintf("127.0.0.1:%d", port), args: []string{"--sentinel"}}
		s.start(bin, conf)
		t.Cleanup(s.kill)
		st.Sentinels = append(st.Sentinels, s)
		addrs = append(addrs, s.Addr)
	}
	st.URL = "redis-sentinel://" + addrs[0] + "?master_name=" + st.Name
	for _, a := range addrs[1:] {
		st.URL += "&addr=" + a
	}
	// Sentinels find replicas and each other through the master's hello
	// channel, every 2 s.
	waitFor(t, time.Minute, "sentinels agree", func(ctx context.Context) (bool, string) {
		for _, s := range st.Sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
			m, err := c.Master(ctx, st.Name).Result()
			c.Close()
			if err != nil {
				return false, err.Error()
			}
			if m["num-slaves"] != strconv.Itoa(replicas) || m["num-other-sentinels"] != strconv.Itoa(sentinels-1) {
				return false, fmt.Sprintf("%s knows %s replicas and %s other sentinels", s.Addr, m["num-slaves"], m["num-other-sentinels"])
			}
		}
		return true, ""
	})
	return st
}

// MasterAddr is the master's address as the first running sentinel
// reports it.
func (st *Sentinel) MasterAddr() string {
	st.t.Helper()
	var master string
	if askRunning(st.Sentinels, func(ctx context.Context, s *Server) bool {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
		addr, err := c.GetMasterAddrByName(ctx, st.Name).Result()
		c.Close()
		if err == nil && len(addr) == 2 {
			master = addr[0] + ":" + addr[1]
		}
		return master != ""
	}) {
		return master
	}
	st.t.Fatal("no sentinel knows the master")
	return ""
}

// waitFor polls cond every 50 ms until it holds, failing the test with
// cond's last reason after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func(context.Context) (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		ok, why := cond(cctx)
		ccancel()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s: %s", what, timeout, why)
		case <-tick.C:
		}
	}
}
