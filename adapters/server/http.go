package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// minClientRate is the slowest upload or download a client is allowed: a
// client trickling bytes slower than this holds a connection (a
// descriptor, a goroutine, a buffer) for nothing, so the timeouts below
// are derived from it and the sizes they must cover.
const minClientRate = 256 << 10 // bytes per second

// headerTimeout bounds reading a request's headers: they are small.
const headerTimeout = 10 * time.Second

// Timeouts are the HTTP server's deadlines, derived from the body limit
// and the call timeout so that a legitimate client (a full-size body at
// minClientRate, then the longest call) always fits and a trickling or
// idle one is dropped.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// ServerTimeouts derives the HTTP server's deadlines from cfg.
func ServerTimeouts(cfg Config) Timeouts {
	header := min(headerTimeout, cfg.CallTimeout)
	body := time.Duration(cfg.MaxBodyBytes/minClientRate+1) * time.Second
	read := header + body
	return Timeouts{
		ReadHeader: header,
		Read:       read,
		// Write runs from the end of the headers: the body, the call, and
		// an answer of up to the same size as the body limit again.
		Write: read + cfg.CallTimeout + body,
		// A keep-alive connection waits at most as long as one call may
		// take, capped: a client that sends nothing for two minutes can
		// open a new connection.
		Idle: min(cfg.CallTimeout, 2*time.Minute),
	}
}

// httpServer is the http.Server for s: deadlines from ServerTimeouts, its
// own error log (TLS handshakes, broken clients) through slog at WARN.
func (s *Server) httpServer(ctx context.Context) *http.Server {
	t := ServerTimeouts(s.cfg)
	return &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

// limitListener caps client connections open at once (0: no cap). Past the
// cap, new connections wait in the kernel's backlog until one closes; the
// timeouts above make sure one does.
func limitListener(l net.Listener, n int) net.Listener {
	if n <= 0 {
		return l
	}
	return netutil.LimitListener(l, n)
}

// Config is the configuration s was built with.
func (s *Server) Config() Config { return s.cfg }
