package e2e

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// testCA is a private CA, as an admin's own PKI or Uyuni's RHN-ORG-TRUSTED-SSL-CERT.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hubgw test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a certificate for 127.0.0.1 and localhost, for servers
// and clients (mutual TLS), with the given serial, and its key, to cert.pem and key.pem in dir; each file is
// written aside and renamed into place, as renewal tools do.
func (ca *testCA) issue(t *testing.T, dir string, serial int64) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, block := range map[string]*pem.Block{keyFile: {Type: "PRIVATE KEY", Bytes: keyDER}, certFile: {Type: "CERTIFICATE", Bytes: der}} {
		require.NoError(t, os.WriteFile(file+".new", pem.EncodeToMemory(block), 0o600))
		require.NoError(t, os.Rename(file+".new", file))
	}
	return certFile, keyFile
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// serveTLS runs the hubgw binary over HTTPS in front of sim and returns its address.
func serveTLS(t *testing.T, sim *uyunisim.Sim, certFile, keyFile string) (*proc, string) {
	t.Helper()
	bin := build(t, "cmd/hubgw")
	p := start(t, bin, "serve", "--listen", "127.0.0.1:0", "--hub-url", sim.Hub().URL(), "--peripheral-scheme", "http",
		"--tls-cert", certFile, "--tls-key", keyFile)
	m := p.waitFor(t, regexp.MustCompile(`"msg":"hubgw serving".*"listen":"([^"]+)"`))
	return p, m[1]
}

// spacecmd speaks XML-RPC over HTTPS with Python's xmlrpc.client and the
// system's trust store (SSL_CERT_FILE stands in for it here): with TLS
// served, it needs no --nossl, and the target still rides in the URL's
// user part.
func TestTLSServingToPythonClient(t *testing.T) {
	ca := newCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.issue(t, dir, 1)
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, ca.pem, 0o600))
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	gwProc, addr := serveTLS(t, sim, certFile, keyFile)
	_, port, _ := net.SplitHostPort(addr)

	out := python(t, `
import json, os, ssl, xmlrpc.client
hub = xmlrpc.client.ServerProxy("https://localhost:%s/rpc/api" % os.environ["PORT"])
key = hub.auth.login("admin", "admin")
one = xmlrpc.client.ServerProxy("https://%s@localhost:%s/rpc/api" % (os.environ["TARGET"], os.environ["PORT"]))
okey = one.auth.login("admin", "admin")
try:
    xmlrpc.client.ServerProxy("https://localhost:%s/rpc/api" % os.environ["PORT"], context=ssl.create_default_context(cafile=os.environ["OTHER_CA"])).api.getVersion()
    refused = False
except ssl.SSLError:
    refused = True
print(json.dumps({"hub": len(hub.system.listSystems(key)), "one": len(one.system.listSystems(okey)), "untrusted_refused": refused}))
`, "SSL_CERT_FILE="+caFile, "PORT="+port, "TARGET="+sim.Peripherals()[0].FQDN(), "OTHER_CA="+writeOtherCA(t))
	var got struct {
		Hub, One         int
		UntrustedRefused bool `json:"untrusted_refused"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Positive(t, got.Hub)
	require.Positive(t, got.One)
	require.True(t, got.UntrustedRefused, "a client that does not trust the CA is refused")

	// TLS 1.2 at least.
	_, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool(), MaxVersion: tls.VersionTLS11})
	require.Error(t, err, "TLS 1.1 is refused")
	// The HTTP server's own errors go through the gateway's log, as JSON
	// at WARN, not as plain text (issue 12, M1).
	gwProc.waitFor(t, regexp.MustCompile(`^\{"time":"[^"]+","level":"WARN","msg":"http: TLS handshake error from 127\.0\.0\.1:\d+: `))
	// Plain HTTP gets a clear answer, not a hang.
	status, body := get(t, "http://"+addr+"/healthz")
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, "HTTPS")
}

func writeOtherCA(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "other-ca.pem")
	require.NoError(t, os.WriteFile(f, newCA(t).pem, 0o600))
	return f
}

// A renewed certificate is served to new connections, after SIGHUP or as
// soon as the files change, while a connection made before keeps working.
func TestTLSCertificateReload(t *testing.T) {
	for _, how := range []string{"SIGHUP", "file change"} {
		t.Run(how, func(t *testing.T) {
			ca := newCA(t)
			dir := t.TempDir()
			certFile, keyFile := ca.issue(t, dir, 1)
			sim := startSim(t, uyunisim.Config{Peripherals: 1})
			p, addr := serveTLS(t, sim, certFile, keyFile)

			old, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool(), ServerName: "localhost"})
			require.NoError(t, err)
			t.Cleanup(func() { old.Close() })
			oldReader := bufio.NewReader(old)
			healthz(t, old, oldReader)
			require.Equal(t, int64(1), old.ConnectionState().PeerCertificates[0].SerialNumber.Int64())

			ca.issue(t, dir, 2)
			why := "file change"
			if how == "SIGHUP" {
				why = "signal"
				require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
			}
			p.waitFor(t, regexp.MustCompile(`"msg":"tls certificate loaded","why":"`+why+`".*"serial":"2"`))
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool(), ServerName: "localhost"})
			require.NoError(t, err)
			defer conn.Close()
			require.Equal(t, int64(2), conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), "a new connection gets the renewed certificate")
			healthz(t, conn, bufio.NewReader(conn))

			healthz(t, old, oldReader) // the connection from before is still served
		})
	}
}

// healthz sends GET /healthz on an open connection and checks the answer.
func healthz(t *testing.T, conn net.Conn, r *bufio.Reader) {
	t.Helper()
	_, err := fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
}
