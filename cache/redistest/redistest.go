// Package redistest gives tests a real Redis: the one REDIS_URL names
// (REDIS_CLUSTER_URL, REDIS_SENTINEL_URL for those), or a redis-server
// (standalone, sentinel or cluster) the test starts on free loopback ports
// and kills when it ends. Tests sharing one Redis keep apart with Prefix. Without either it skips the test,
// or fails it when CI is set (.ci/run installs redis-server).
package redistest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hubgw/hubgw/cache"
)

// Server is one Redis for a test.
type Server struct {
	URL      string // redis://127.0.0.1:<port>
	Addr     string
	External bool // from REDIS_URL: not ours to stop

	t    testing.TB
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start returns REDIS_URL's Redis when set, else starts redis-server on a
// free port with persistence off.
func Start(t testing.TB) *Server {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		return &Server{URL: u, External: true, t: t}
	}
	bin := binary(t)
	port := freePort(t)
	s := &Server{t: t, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	s.URL = "redis://" + s.Addr
	s.args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir()}
	s.start(bin)
	t.Cleanup(s.kill)
	return s
}

func binary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not installed and REDIS_URL is not set (.ci/run installs it)")
		}
		t.Skip("redis-server is not installed and REDIS_URL is not set")
	}
	return bin
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before redis-server binds it; start fails loudly if so.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) start(bin string, extra ...string) {
	s.startTLS(bin, nil, extra...)
}

func (s *Server) startTLS(bin string, tlsConf *tls.Config, extra ...string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(bin, append(append([]string(nil), extra...), s.args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	var confs []*tls.Config
	if tlsConf != nil {
		confs = append(confs, tlsConf)
	}
	if err := waitPing(s.Addr, done, confs...); err != nil {
		cmd.Process.Kill()
		<-done
		s.t.Fatalf("redis-server on %s: %v\n%s", s.Addr, err, out.String())
	}
}

// waitPing waits until PING answers (or the process exits).
func waitPing(addr string, exited <-chan struct{}, tlsConf ...*tls.Config) error {
	o := &redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second}
	if len(tlsConf) > 0 {
		o.TLSConfig = tlsConf[0]
	}
	c := redis.NewClient(o)
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PING answer within 30s: %w", err)
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited")
		case <-tick.C:
		}
	}
}

func (s *Server) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Stop kills redis-server (SIGKILL: what a crash looks like); the test is
// skipped when the Redis is REDIS_URL's.
func (s *Server) Stop() {
	s.t.Helper()
	if s.External {
		s.t.Skip("stopping Redis needs a redis-server this test starts (REDIS_URL is set)")
	}
	s.kill()
}

// Restart starts redis-server again on the same port, empty.
func (s *Server) Restart() {
	s.t.Helper()
	if s.External {
		s.t.Skip("restarting Redis needs a redis-server this test starts (REDIS_URL is set)")
	}
	s.kill()
	s.start(binary(s.t))
}

// Prefix returns a key prefix of the test's own, so tests can share one Redis.
func Prefix(t testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	return "test:" + hex.EncodeToString(b[:]) + ":"
}

// Cluster starts n masters (n >= 3) with cluster mode on and joins them; it
// returns a redis-cluster:// URL naming one seed node.
func Cluster(t testing.TB, n int) string {
	t.Helper()
	if u := os.Getenv("REDIS_CLUSTER_URL"); u != "" {
		return u
	}
	bin := binary(t)
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli is not installed")
	}
	dir := t.TempDir()
	var addrs []string
	for i := range n {
		port := freePort(t)
		s := &Server{t: t, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
		s.args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)), "--dir", dir}
		s.start(bin)
		t.Cleanup(s.kill)
		addrs = append(addrs, s.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	out, err := exec.CommandContext(ctx, cli, append(args, "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	// Wait until every node agrees the cluster is up.
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if ctx.Err() != nil {
				c.Close()
				t.Fatalf("cluster on %s never became ok: %v %s", a, err, info)
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
		c.Close()
	}
	return "redis-cluster://" + addrs[0]
}

// Sentinel starts a master and one sentinel watching it under the name
// "mymaster"; it returns a redis-sentinel:// URL.
func Sentinel(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_SENTINEL_URL"); u != "" {
		return u
	}
	bin := binary(t)
	dir := t.TempDir()
	master := freePort(t)
	m := &Server{t: t, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(master))}
	m.args = []string{"--port", strconv.Itoa(master), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}
	m.start(bin)
	t.Cleanup(m.kill)

	sport := freePort(t)
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster 127.0.0.1 %d 1\nsentinel down-after-milliseconds mymaster 5000\n", sport, dir, master)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(sport))}
	s.args = []string{"--sentinel"}
	s.start(bin, conf)
	t.Cleanup(s.kill)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	for {
		addr, err := c.GetMasterAddrByName(ctx, "mymaster").Result()
		if err == nil && len(addr) == 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("sentinel on %s does not know mymaster: %v", s.Addr, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return "redis-sentinel://" + s.Addr + "?master_name=mymaster"
}

// TLS starts redis-server serving TLS only, with a fresh self-signed
// certificate for 127.0.0.1; it returns a rediss:// URL and the
// certificate's PEM file, to trust as a CA.
func TLS(t testing.TB) (url, caFile string) {
	t.Helper()
	bin := binary(t)
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "redistest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	caFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	s := &Server{t: t, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	s.args = []string{"--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
		"--tls-cert-file", caFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", caFile, "--tls-auth-clients", "no"}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	s.startTLS(bin, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	t.Cleanup(s.kill)
	return "rediss://" + s.Addr, caFile
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// Main runs a package's tests with go-redis's own logger silenced: tests
// that stop Redis on purpose would fill the output with its reconnection
// attempts. Use it as TestMain.
func Main(m *testing.M) {
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

// Stores returns a constructor per cache.Store implementation, "memory"
// and "redis" (a fresh prefix on this package's Redis), for tests and
// benchmarks that run against both.
func Stores() map[string]func(testing.TB) cache.Store {
	return map[string]func(testing.TB) cache.Store{
		"memory": func(testing.TB) cache.Store { return cache.NewMemory(cache.MemoryOptions{}) },
		"redis": func(t testing.TB) cache.Store {
			srv := Start(t)
			r, err := cache.NewRedis(srv.URL, cache.RedisOptions{Prefix: Prefix(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r
		},
	}
}
