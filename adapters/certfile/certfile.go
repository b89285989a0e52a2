// Package certfile serves TLS with a certificate and key read from files,
// and reloads them when the files change or on demand (SIGHUP), so a
// renewed certificate is used without a restart: connections already open
// keep the certificate they were made with, new ones get the new one.
// Client does the same for the certificate the gateway shows the servers.
package certfile

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/hubgw/hubgw/auth"
)

// Client is a client certificate for mutual TLS to Uyuni servers
// (client-cert, client-key), read from its files and read again when they
// change: a renewed certificate is shown from the next new connection on,
// without a restart, and connections already open keep theirs. The files
// are looked at (their size, time and inode) when a TLS handshake asks for
// a certificate: connections are kept alive, so handshakes are few, and
// no watcher runs; a renewal written in place, renamed into place or
// swapped by symlink is seen alike. A renewal that cannot be read, or
// whose key every user may read, is logged and the certificate in use
// stays.
type Client struct {
	certFile, keyFile, setting string
	log                        *slog.Logger
	mu                         sync.Mutex
	cert                       *tls.Certificate
	stamp                      [2]fileStamp // of the files cert was read from
	// failed is the stamp of the last renewal that could not be used:
	// it is logged once, not at every handshake, until the files change.
	failed [2]fileStamp
}

// LoadClient reads a client certificate and its key. The key must not be
// readable or writable by every user on the machine, as for
// secret-key-file: a key anyone can read identifies anyone as the
// gateway. setting names the configuration keys in errors and logs.
func LoadClient(certFile, keyFile, setting string, log *slog.Logger) (*Client, error) {
	c := &Client{certFile: certFile, keyFile: keyFile, setting: setting, log: log}
	st, err := c.stat()
	if err == nil {
		err = c.load(st, "start")
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// GetClientCertificate is tls.Config.GetClientCertificate.
func (c *Client) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.stat()
	if err == nil && (st == c.stamp || st == c.failed) {
		return c.cert, nil
	}
	if err == nil {
		if err = c.load(st, "file change"); err != nil {
			c.failed = st
		}
	}
	if err != nil {
		c.log.Error("client certificate not reloaded; the one in use stays", "setting", c.setting+"-cert", "err", err)
	}
	return c.cert, nil
}

// load reads the pair, whose files had stamps st; c.mu is held (or c is
// not shared yet).
func (c *Client) load(st [2]fileStamp, why string) error {
	if err := auth.CheckPrivate(c.keyFile, c.setting+"-key"); err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("%s-cert %s, %s-key %s: %w", c.setting, c.certFile, c.setting, c.keyFile, err)
	}
	c.cert, c.stamp = &cert, st
	c.log.Info("client certificate loaded", append([]any{"why", why, "setting", c.setting + "-cert", "file", c.certFile}, leafAttrs(&cert)...)...)
	return nil
}

// fileStamp tells whether a file changed: a rename or symlink swap gives
// another inode, a rewrite in place another size or time, a chmod (a key
// made private again) another mode.
type fileStamp struct {
	size, modNanos int64
	mode           os.FileMode
	dev, ino       uint64
}

func (c *Client) stat() ([2]fileStamp, error) {
	var st [2]fileStamp
	for i, name := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return st, fmt.Errorf("%s: %w", c.setting, err)
		}
		st[i] = fileStamp{size: fi.Size(), modNanos: fi.ModTime().UnixNano(), mode: fi.Mode()}
		if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
			st[i].dev, st[i].ino = uint64(sys.Dev), uint64(sys.Ino) //nolint:unconvert // int32 on some systems
		}
	}
	return st, nil
}

// Reloader holds the current certificate.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger
	mu                sync.RWMutex
	cert              *tls.Certificate
}

// Load reads the pair once; an error here stops the start, as a gateway
// that cannot serve TLS must not fall back to plain HTTP.
func Load(certFile, keyFile string, log *slog.Logger) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.load("start"); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the pair again. On an error the certificate in use stays:
// a half-written renewal must not take the gateway down.
func (r *Reloader) Reload() error { return r.load("reload") }

func (r *Reloader) load(why string) error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls-cert %s, tls-key %s: %w", r.certFile, r.keyFile, err)
	}
	r.mu.Lock()
	r.cert = &cert
	r.mu.Unlock()
	r.log.Info("tls certificate loaded", append([]any{"why", why, "file", r.certFile}, leafAttrs(&cert)...)...)
	return nil
}

// leafAttrs are what the logs say of a certificate loaded: whose, which
// and until when.
func leafAttrs(cert *tls.Certificate) []any {
	leaf := cert.Leaf // set by LoadX509KeyPair since Go 1.23
	return []any{"subject", leaf.Subject.String(), "serial", leaf.SerialNumber.String(), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339)}
}

// GetCertificate is tls.Config.GetCertificate.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert, nil
}

// ServerConfig is the server side: TLS 1.2 at least (what Uyuni's own
// Apache accepts, and what spacecmd's Python speaks), HTTP/1.1.
func (r *Reloader) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		NextProtos:     []string{"http/1.1"},
	}
}

// Watch reloads when either file changes, and whenever trigger receives,
// until ctx ends. It returns once the watch is in place (so a change made
// after it returns is seen); the channel yields how the watch ended: nil
// when ctx ended. It watches the files' directories, not the files: a
// renewal usually writes a new file and renames it over the old one (or
// swaps a symlink, as certbot and Kubernetes secrets do), which a watch on
// the old file would not see.
func (r *Reloader) Watch(ctx context.Context, trigger <-chan os.Signal) (<-chan error, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching the certificate: %w", err)
	}
	for _, d := range []string{filepath.Dir(r.certFile), filepath.Dir(r.keyFile)} {
		if err := w.Add(d); err != nil {
			w.Close()
			return nil, fmt.Errorf("watching %s: %w", d, err)
		}
	}
	done := make(chan error, 1)
	go func() {
		defer w.Close()
		done <- r.watch(ctx, w, trigger)
	}()
	return done, nil
}

func (r *Reloader) watch(ctx context.Context, w *fsnotify.Watcher, trigger <-chan os.Signal) error {
	// A renewal writes two files, often in several steps: reload once
	// things have been quiet for a moment, not at every event.
	const settle = 200 * time.Millisecond
	timer := time.NewTimer(settle)
	timer.Stop()
	defer timer.Stop()
	reload := func(why string) {
		if err := r.load(why); err != nil {
			r.log.Error("tls certificate not reloaded; the one in use stays", "why", why, "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-trigger:
			reload("signal")
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("certificate watch closed")
			}
			if r.concerns(ev.Name) {
				timer.Reset(settle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("certificate watch closed")
			}
			r.log.Warn("certificate watch", "err", err)
		case <-timer.C:
			reload("file change")
		}
	}
}

// concerns says whether a change to name may change the pair: the files
// themselves, or (for symlinked files) anything in their directories'
// hidden data links, such as Kubernetes' ..data.
func (r *Reloader) concerns(name string) bool {
	name = filepath.Clean(name)
	if name == filepath.Clean(r.certFile) || name == filepath.Clean(r.keyFile) {
		return true
	}
	base := filepath.Base(name)
	return len(base) > 1 && base[0] == '.' && base[1] == '.'
}
