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
	var certs *certfile.Reloader
	if cfg.TLSCert != "" {
		if certs, err = certfile.Load(cfg.TLSCert, cfg.TLSKey, log); err != nil {
			l.Close()
			return nil, nil, err
		}
		l = tls.NewListener(l, certs.ServerConfig())
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer close(done)
		defer signal.Stop(hup)
		if certs == nil {
			for {
				select {
				case <-ctx.Done():
					return
				case <-hup:
					log.Info("SIGHUP: nothing to reload (no tls-cert); other settings need a restart")
				}
			}
		}
		if err := certs.Watch(ctx, hup); err != nil {
			log.Error("tls certificate reloading stopped", "err", err)
		}
	}()
	return l, done, nil
}
