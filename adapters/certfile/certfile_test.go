package certfile_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/certfile"
)

func writePair(t *testing.T, dir string, serial int64) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	c, k := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	require.NoError(t, os.WriteFile(c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(k, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	return c, k
}

// A broken renewal (here, a truncated certificate) is refused and the
// certificate in use stays; a missing pair stops the start.
func TestBrokenRenewalKeepsTheCertificate(t *testing.T) {
	dir := t.TempDir()
	c, k := writePair(t, dir, 7)
	r, err := certfile.Load(c, k, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(c, []byte("-----BEGIN CERTIFICATE-----\nMII"), 0o600))
	require.ErrorContains(t, r.Reload(), c)
	got, err := r.GetCertificate(nil)
	require.NoError(t, err)
	require.Equal(t, int64(7), got.Leaf.SerialNumber.Int64())

	_, err = certfile.Load(filepath.Join(dir, "none.pem"), k, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "none.pem")
}
