package certfile_test

import (
	"bytes"
	"context"
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
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

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

// Watch reloads on a change to the files, written in place or renamed
// into place, and on a trigger; it stops, leaving nothing running, when
// its context ends.
func TestWatch(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := t.TempDir()
	c, k := writePair(t, dir, 1)
	r, err := certfile.Load(c, k, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	serial := func() int64 {
		got, err := r.GetCertificate(nil)
		require.NoError(t, err)
		return got.Leaf.SerialNumber.Int64()
	}
	ctx, cancel := context.WithCancel(context.Background())
	trigger := make(chan os.Signal, 1)
	done, err := r.Watch(ctx, trigger)
	require.NoError(t, err)

	writePair(t, dir, 2) // seen by the watch
	require.Eventually(t, func() bool { return serial() == 2 }, 10*time.Second, 10*time.Millisecond)

	// A renewal renamed into place, key first, as renewal tools do.
	other := t.TempDir()
	c3, k3 := writePair(t, other, 3)
	require.NoError(t, os.Rename(k3, k))
	require.NoError(t, os.Rename(c3, c))
	require.Eventually(t, func() bool { return serial() == 3 }, 10*time.Second, 10*time.Millisecond)

	// The files as symlinks into a directory nobody watches (as certbot's
	// live/ points into archive/): rewriting the targets makes no event
	// where the watch looks, so only the trigger brings the change in.
	archive := t.TempDir()
	writePair(t, archive, 4)
	require.NoError(t, os.Remove(c))
	require.NoError(t, os.Remove(k))
	require.NoError(t, os.Symlink(filepath.Join(archive, "c.pem"), c))
	require.NoError(t, os.Symlink(filepath.Join(archive, "k.pem"), k))
	require.Eventually(t, func() bool { return serial() == 4 }, 10*time.Second, 10*time.Millisecond, "the symlinks' change is seen")
	writePair(t, archive, 5)
	trigger <- syscall.SIGHUP
	require.Eventually(t, func() bool { return serial() == 5 }, 10*time.Second, 10*time.Millisecond)

	cancel()
	require.NoError(t, <-done)
}

// A client certificate is read again when its files change, whether
// written in place or renamed into place; a renewal that cannot be read,
// or whose key every user may read, leaves the one in use.
func TestClientCertificateFollowsItsFiles(t *testing.T) {
	dir := t.TempDir()
	c, k := writePair(t, dir, 1)
	var logs bytes.Buffer // written by the calls below, on this goroutine
	cc, err := certfile.LoadClient(c, k, "client", slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	serial := func() int64 {
		t.Helper()
		got, err := cc.GetClientCertificate(nil)
		require.NoError(t, err)
		return got.Leaf.SerialNumber.Int64()
	}
	require.Equal(t, int64(1), serial())
	require.Equal(t, int64(1), serial(), "unchanged files: the same certificate")

	writePair(t, dir, 2) // in place
	require.Equal(t, int64(2), serial())

	next := t.TempDir() // renamed into place, as certbot does
	nc, nk := writePair(t, next, 3)
	require.NoError(t, os.Rename(nk, k))
	require.NoError(t, os.Rename(nc, c))
	require.Equal(t, int64(3), serial())

	require.NoError(t, os.WriteFile(c, []byte("-----BEGIN CERTIFICATE-----\nMII"), 0o600))
	require.Equal(t, int64(3), serial(), "a broken renewal is not used")
	require.Contains(t, logs.String(), "client certificate not reloaded")
	logged := logs.Len()
	require.Equal(t, int64(3), serial())
	require.Equal(t, logged, logs.Len(), "a broken renewal is logged once, not at every handshake")

	writePair(t, dir, 4)
	require.NoError(t, os.Chmod(k, 0o644))
	require.Equal(t, int64(3), serial(), "a key every user may read is not used")
	require.Contains(t, logs.String(), "client-key")

	require.NoError(t, os.Chmod(k, 0o600))
	require.Equal(t, int64(4), serial(), "once mended, the renewal is used")

	_, err = certfile.LoadClient(c, filepath.Join(dir, "none.pem"), "client", slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "none.pem")
	require.NoError(t, os.Chmod(k, 0o644))
	_, err = certfile.LoadClient(c, k, "peripherals.p1.client", slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "peripherals.p1.client-key")
}
