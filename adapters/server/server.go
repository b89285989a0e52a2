// Package server assembles a running hubgw from its configuration: the
// Uyuni client, the fan-out stack, the registry, sessions, the gateway and
// the HTTP surface. It is the one place where the pieces meet, so the
// binary and the end-to-end tests build the same thing.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hubgw/hubgw/adapters/httpapi"
	"github.com/hubgw/hubgw/adapters/metrics"
	"github.com/hubgw/hubgw/adapters/uyuni"
	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/target"
)

// Peripheral overrides what discovery says about one peripheral.
type Peripheral struct {
	URL      string `koanf:"url"`
	CAFile   string `koanf:"ca-file"`
	Insecure bool   `koanf:"insecure"`
}

// Config is hubgw's whole configuration (flags, env and YAML fill it).
type Config struct {
	Listen           string                `koanf:"listen"`
	HubURL           string                `koanf:"hub-url"`
	PeripheralScheme string                `koanf:"peripheral-scheme"` // https (default) or http
	ConnectTimeout   time.Duration         `koanf:"connect-timeout"`
	RequestTimeout   time.Duration         `koanf:"request-timeout"` // per server
	CallTimeout      time.Duration         `koanf:"call-timeout"`    // per client request
	MaxConcurrency   int                   `koanf:"max-concurrency"`
	MaxPerServer     int                   `koanf:"max-per-server"`
	Retries          int                   `koanf:"retries"`
	BreakerFailures  int                   `koanf:"breaker-failures"`
	BreakerCooldown  time.Duration         `koanf:"breaker-cooldown"`
	RegistryTTL      time.Duration         `koanf:"registry-ttl"`
	MaxBodyBytes     int64                 `koanf:"max-body-bytes"`
	SessionIdle      time.Duration         `koanf:"session-idle"`
	SessionMax       time.Duration         `koanf:"session-max"`
	CAFile           string                `koanf:"ca-file"`
	Insecure         bool                  `koanf:"insecure"`
	LogLevel         string                `koanf:"log-level"`
	Peripherals      map[string]Peripheral `koanf:"peripherals"` // by name or FQDN
}

// Defaults are the values a flag-less start uses.
func Defaults() Config {
	return Config{
		Listen:           ":2830",
		HubURL:           "https://localhost/rpc/api",
		PeripheralScheme: "https",
		ConnectTimeout:   10 * time.Second,
		RequestTimeout:   60 * time.Second,
		CallTimeout:      5 * time.Minute,
		MaxConcurrency:   512,
		MaxPerServer:     16,
		Retries:          2,
		BreakerFailures:  5,
		BreakerCooldown:  30 * time.Second,
		RegistryTTL:      5 * time.Minute,
		MaxBodyBytes:     16 << 20,
		SessionIdle:      30 * time.Minute,
		SessionMax:       12 * time.Hour,
		LogLevel:         "info",
	}
}

// Validate says what is wrong with a configuration, all at once.
func (c Config) Validate() error {
	var errs []error
	if !strings.HasPrefix(c.HubURL, "http://") && !strings.HasPrefix(c.HubURL, "https://") {
		errs = append(errs, fmt.Errorf("hub-url %q must start with http:// or https://", c.HubURL))
	}
	if c.PeripheralScheme != "http" && c.PeripheralScheme != "https" {
		errs = append(errs, fmt.Errorf("peripheral-scheme %q must be http or https", c.PeripheralScheme))
	}
	if c.RequestTimeout <= 0 || c.CallTimeout <= 0 {
		errs = append(errs, errors.New("request-timeout and call-timeout must be positive"))
	}
	return errors.Join(errs...)
}

// Server is an assembled hubgw.
type Server struct {
	cfg      Config
	log      *slog.Logger
	client   *uyuni.Client
	registry *registry.Registry
	gateway  *gateway.Gateway
	echo     *echo.Echo
	metrics  *prometheus.Registry
}

// New assembles a Server; it does no I/O.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hosts := map[string]uyuni.TLS{}
	for _, p := range cfg.Peripherals {
		if p.URL != "" && (p.CAFile != "" || p.Insecure) {
			hosts[hostOf(p.URL)] = uyuni.TLS{CAFile: p.CAFile, Insecure: p.Insecure}
		}
	}
	client, err := uyuni.New(uyuni.Options{
		ConnectTimeout: cfg.ConnectTimeout,
		MaxIdlePerHost: max(cfg.MaxPerServer, 1),
		DefaultTLS:     uyuni.TLS{CAFile: cfg.CAFile, Insecure: cfg.Insecure},
		Hosts:          hosts,
	})
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	obs := metrics.NewUpstream(reg, MethodClass, client.Dials)
	breakers := fanout.NewBreakers(fanout.BreakerSettings{Failures: cfg.BreakerFailures, Cooldown: cfg.BreakerCooldown, OnChange: obs.BreakerChanged})

	// The whole per-server stack, outermost first: metrics see what the
	// client sees; the deadline covers queueing and retries; retries go
	// through the breaker; the limiter guards the actual call.
	invoke := fanout.Stack(client.Invoke,
		fanout.Observe(obs),
		fanout.Timed(),
		fanout.Timeout(cfg.RequestTimeout),
		fanout.Retry(fanout.RetryPolicy{Attempts: cfg.Retries + 1, Base: 100 * time.Millisecond, Max: 2 * time.Second}),
		breakers.Middleware(),
		fanout.NewLimiter(cfg.MaxConcurrency, cfg.MaxPerServer).Middleware(),
	)

	hub := target.Target{Hub: true, Name: "hub", FQDN: hostOf(cfg.HubURL), URL: cfg.HubURL}
	disc := registry.Discovery{
		Call: func(ctx context.Context, method string, params []any) (any, error) {
			return client.CallValue(ctx, cfg.HubURL, method, params)
		},
		URLFor: func(fqdn string) string { return cfg.PeripheralScheme + "://" + fqdn + "/rpc/api" },
	}
	load := func(ctx context.Context, key string) (*registry.Snapshot, error) {
		snap, err := disc.Load(ctx, key)
		if err != nil {
			return nil, err
		}
		applyOverrides(snap, cfg.Peripherals)
		return snap, nil
	}
	regy := registry.New(load, registry.Options{TTL: cfg.RegistryTTL, Logger: log})
	sessions := auth.NewMemoryStore(auth.Expiry{Idle: cfg.SessionIdle, Absolute: cfg.SessionMax}, 0, nil)
	gw := gateway.New(gateway.Options{
		Hub:       hub,
		Sessions:  sessions,
		Registry:  regy,
		Invoke:    invoke,
		Decode:    decodeRaw,
		ReadOnly:  gateway.ReadOnly,
		CallLimit: cfg.CallTimeout,
		Logger:    log,
	})
	s := &Server{cfg: cfg, log: log, client: client, registry: regy, gateway: gw, metrics: reg}
	s.echo = httpapi.New(httpapi.Config{
		XMLRPC:  httpapi.NewXMLRPC(gw, cfg.MaxBodyBytes, log),
		Ready:   s.ready,
		Metrics: reg,
	})
	return s, nil
}

func decodeRaw(v any) (any, error) {
	if r, ok := v.(xmlrpc.Raw); ok {
		return r.Decode()
	}
	return v, nil
}

func hostOf(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	if i := strings.IndexByte(u, '/'); i >= 0 {
		u = u[:i]
	}
	return u
}

func applyOverrides(snap *registry.Snapshot, over map[string]Peripheral) {
	for i, t := range snap.Targets {
		for ref, p := range over {
			if p.URL != "" && (strings.EqualFold(ref, t.Name) || strings.EqualFold(ref, t.FQDN)) {
				snap.Targets[i].URL = p.URL
			}
		}
	}
}

// MethodClass names a method's class for metrics.
func MethodClass(method string) string {
	switch {
	case strings.HasPrefix(method, "auth."):
		return "auth"
	case gateway.ReadOnly(method):
		return "read"
	}
	return "write"
}

// ready: the hub answers api.getVersion (no session needed).
func (s *Server) ready(ctx context.Context) error {
	if _, err := s.client.CallValue(ctx, s.cfg.HubURL, "api.getVersion", nil); err != nil {
		return fmt.Errorf("hub not reachable: %w", err)
	}
	if ok, err := s.registry.Ready(); !ok && err != nil {
		return fmt.Errorf("peripheral registry: %w", err)
	}
	return nil
}

// Handler is the HTTP handler (for tests that use httptest).
func (s *Server) Handler() http.Handler { return s.echo }

// Client exposes the upstream client (connection counts in benchmarks).
func (s *Server) Client() *uyuni.Client { return s.client }

// Serve serves on l until ctx ends, then shuts down gracefully: in-flight
// calls finish (bounded by grace) before Serve returns.
func (s *Server) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	srv := &http.Server{Handler: s.echo, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	s.registry.Wait()
	s.client.CloseIdle()
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
