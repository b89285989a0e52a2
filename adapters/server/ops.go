package server

import (
	"errors"
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
	// TracingEndpoint, the collector's OTLP URL, turns on OpenTelemetry
	// tracing (adapters/tracing); empty: off, at no cost.
	// TracingProtocol is how it is spoken: http (OTLP/HTTP) or grpc.
	// TracingSampleRatio is the share of new traces kept.
	TracingEndpoint    string  `koanf:"tracing-endpoint"`
	TracingProtocol    string  `koanf:"tracing-protocol"`
	TracingSampleRatio float64 `koanf:"tracing-sample-ratio"`
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
