package main

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/hubgw/hubgw/adapters/certfile"
	"github.com/hubgw/hubgw/adapters/server"
)

// listen opens the gateway's listener: TLS when tls-cert is set, with the
// certificate reloaded on SIGHUP and when its files change, until ctx ends.
// SIGHUP is taken in any case: its default action would end the process,
// and `systemctl reload hubgw` sends it.
func listen(ctx context.Context, cfg server.Config, log *slog.Logger) (net.Listener, <-chan struct{}, error) {
	done := make(chan struct{})
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, nil, err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	if cfg.TLSCert == "" {
		go func() {
			defer close(done)
			defer signal.Stop(hup)
			for {
				select {
				case <-ctx.Done():
					return
				case <-hup:
					log.Info("SIGHUP: nothing to reload (no tls-cert); other settings need a restart")
				}
			}
		}()
		return l, done, nil
	}
	certs, err := certfile.Load(cfg.TLSCert, cfg.TLSKey, log)
	var watching <-chan error
	if err == nil {
		watching, err = certs.Watch(ctx, hup)
	}
	if err != nil {
		signal.Stop(hup)
		l.Close()
		return nil, nil, err
	}
	go func() {
		defer close(done)
		defer signal.Stop(hup)
		if err := <-watching; err != nil {
			log.Error("tls certificate reloading stopped", "err", err)
		}
	}()
	return tls.NewListener(l, certs.ServerConfig()), done, nil
}
