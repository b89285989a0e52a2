// Package certfile serves TLS with a certificate and key read from files,
// and reloads them when the files change or on demand (SIGHUP), so a
// renewed certificate is used without a restart: connections already open
// keep the certificate they were made with, new ones get the new one.
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
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/hubgw/hubgw/auth"
)

// LoadClient reads a client certificate and its key, for mutual TLS to
// Uyuni servers (client-cert, client-key). The key must not be readable
// or writable by every user on the machine, as for secret-key-file: a
// key anyone can read identifies anyone as the gateway. setting names the
// configuration keys in errors.
func LoadClient(certFile, keyFile, setting string) (*tls.Certificate, error) {
	if err := auth.CheckPrivate(keyFile, setting+"-key"); err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s-cert %s, %s-key %s: %w", setting, certFile, setting, keyFile, err)
	}
	return &cert, nil
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
	leaf := cert.Leaf // set by LoadX509KeyPair since Go 1.23
	r.log.Info("tls certificate loaded", "why", why, "file", r.certFile, "subject", leaf.Subject.String(), "serial", leaf.SerialNumber.String(), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	return nil
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
