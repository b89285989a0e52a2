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
	mathrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	s := newServer(t, t.TempDir())
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

// freePort returns a loopback port below 32768 (the kernel's ephemeral
// range starts there, and test servers stay out of it) that is free now,
// and whose cluster bus port (+10000) is free too. Another process could
// take it before redis-server binds it; start fails loudly if so.
func freePort(t testing.TB) int {
	t.Helper()
	for range 1000 {
		port := 12000 + mathrand.IntN(10000)
		if free(port) && free(port+10000) {
			return port
		}
	}
	t.Fatal("no free loopback port below 32768")
	return 0
}

func free(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// newServer is a redis-server for this test on a free port, with
// persistence off, not started yet.
func newServer(t testing.TB, dir string, extra ...string) *Server {
	port := freePort(t)
	s := &Server{t: t, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	s.URL = "redis://" + s.Addr
	s.args = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}, extra...)
	return s
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

// Running reports whether the test's redis-server runs (paused counts).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Pause stops redis-server with SIGSTOP: it keeps its connections and
// its data but answers nothing, as a Redis stalled by the host or by a
// long fork does, until Resume. Cleanup kills it even when paused.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused redis-server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	if s.External {
		s.t.Skip("signalling Redis needs a redis-server this test starts (REDIS_URL is set)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		s.t.Fatalf("redis-server on %s is not running", s.Addr)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signalling redis-server on %s: %v", s.Addr, err)
	}
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
