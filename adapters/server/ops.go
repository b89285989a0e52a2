package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/hubgw/hubgw/adapters/tracing"
	"github.com/hubgw/hubgw/buildinfo"
)

// Ops is how the process is served, apart from what it serves: TLS, and
// how it stops. Config embeds it.
type Ops struct {
	// TLSCert and TLSKey, PEM files, make the gateway serve HTTPS only;
	// they are reloaded when they change and on SIGHUP.
	TLSCert string `koanf:"tls-cert"`
	TLSKey  string `koanf:"tls-key"`
	// ShutdownGrace bounds how long calls in flight may run on after a
	// stop; 0 means call-timeout, so no call the gateway accepted is cut
	// short by its own shutdown.
	ShutdownGrace time.Duration `koanf:"shutdown-grace"`
	// DrainDelay keeps serving for this long after a stop with /readyz
	// answering 503, so a load balancer stops sending new calls before
	// the listener closes. 0 (the default) suits systemd; behind a load
	// balancer, use its probe interval times its failure threshold.
	DrainDelay time.Duration `koanf:"drain-delay"`
	// DebugListen, when set, serves Go's profiler (net/http/pprof) on
	// its own listener, apart from the API and without authentication:
	// a loopback address, for profiling a running gateway. Off by default.
	DebugListen string `koanf:"debug-listen"`
	// GCPercent is the garbage collector's GOGC (the GOGC environment
	// variable wins): how far the heap may grow past what is live before
	// a collection. Go's 100 let a gateway holding a fan-out's answers
	// grow to twice that; fan-outs read into reused arenas make little
	// garbage, so collecting at 25% costs little CPU (make bench).
	GCPercent int `koanf:"gc-percent"`
	// TracingEndpoint, the collector's OTLP URL, turns on OpenTelemetry
	// tracing (adapters/tracing); empty: off, at no cost.
	// TracingProtocol is how it is spoken: http (OTLP/HTTP) or grpc.
	// TracingSampleRatio is the share of new traces kept.
	TracingEndpoint    string  `koanf:"tracing-endpoint"`
	TracingProtocol    string  `koanf:"tracing-protocol"`
	TracingSampleRatio float64 `koanf:"tracing-sample-ratio"`
}

// MemoryLimit is the soft memory limit the gateway runs under when
// GOMEMLIMIT is not set: the in-flight budget (what the requests being
// served may hold) plus room for everything else, so the collector works
// harder as the budget fills instead of letting the heap double past it.
// 0: none.
func (c Config) MemoryLimit() int64 {
	if c.MaxInFlightBytes <= 0 {
		return 0
	}
	return c.MaxInFlightBytes + 512<<20
}

// tracingSettings are the tracing settings in force.
func (o Ops) tracingSettings() tracing.Settings {
	return tracing.Settings{Endpoint: o.TracingEndpoint, Protocol: o.TracingProtocol, SampleRatio: o.TracingSampleRatio, Version: buildinfo.Read().Version}
}

// Grace is the shutdown grace in force.
func (c Config) Grace() time.Duration {
	if c.ShutdownGrace > 0 {
		return c.ShutdownGrace
	}
	return c.CallTimeout
}

func (o Ops) validate() error {
	var errs []error
	if (o.TLSCert == "") != (o.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key go together"))
	}
	if o.ShutdownGrace < 0 || o.DrainDelay < 0 {
		errs = append(errs, errors.New("shutdown-grace and drain-delay cannot be negative"))
	}
	errs = append(errs, o.tracingSettings().Validate())
	return errors.Join(errs...)
}

// serveDebug serves net/http/pprof on cfg.DebugListen until ctx ends; it
// is not on the API's mux, so neither its middleware nor its listener
// sees it, and a gateway without debug-listen has no profiler at all.
func serveDebug(ctx context.Context, addr string, log *slog.Logger) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("debug-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Warn("profiler serving: keep debug-listen on a loopback address", "debug_listen", l.Addr().String())
	go func() {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			log.Error("profiler stopped", "err", err)
		}
	}()
	return nil
}
