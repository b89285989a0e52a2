// Package server assembles a running hubgw from its configuration: the
// Uyuni client, the fan-out stack, the registry, sessions, the gateway and
// the HTTP surface. It is the one place where the pieces meet, so the
// binary and the end-to-end tests build the same thing.
package server

import (
	"context"
	"crypto/tls"
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
	"github.com/hubgw/hubgw/adapters/hubapi"
	"github.com/hubgw/hubgw/adapters/metrics"
	"github.com/hubgw/hubgw/adapters/rest"
	"github.com/hubgw/hubgw/adapters/spacecmd"
	"github.com/hubgw/hubgw/adapters/tracing"
	"github.com/hubgw/hubgw/adapters/uyuni"
	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/buildinfo"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/fleetids"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
	"github.com/hubgw/hubgw/gateway/uyuniapi"
)

// Peripheral overrides what discovery says about one peripheral.
type Peripheral struct {
	URL      string `koanf:"url"`
	CAFile   string `koanf:"ca-file"`
	Insecure bool   `koanf:"insecure"`
	// ClientCert and ClientKey, PEM files, are the certificate the
	// gateway shows a peripheral that requires client certificates
	// (mutual TLS); the key must not be world-readable.
	ClientCert string `koanf:"client-cert"`
	ClientKey  string `koanf:"client-key"`
	// User and Password, when set, are the service account targeted
	// sessions (spacecmd -s <peripheral>@gateway) log in with there instead
	// of relaying the user's own credentials.
	User     string `koanf:"user"`
	Password string `koanf:"password"`
	// Timezone is the server's own (its dates are wall clock times), for
	// the REST surface's dates; default peripheral-timezone.
	Timezone string `koanf:"timezone"`
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
	MaxConnections   int                   `koanf:"max-connections"` // client connections open at once (http.go)
	MaxInFlightBytes int64                 `koanf:"max-inflight-bytes"`
	LoginFailures    int                   `koanf:"login-failures"` // in a row, per user and per client, before throttling
	LoginRefill      time.Duration         `koanf:"login-refill"`   // one more failure allowed every
	SessionIdle      time.Duration         `koanf:"session-idle"`
	SessionMax       time.Duration         `koanf:"session-max"`
	CAFile           string                `koanf:"ca-file"`
	Insecure         bool                  `koanf:"insecure"`
	ClientCert       string                `koanf:"client-cert"` // for the hub, and peripherals without their own
	ClientKey        string                `koanf:"client-key"`
	LogLevel         string                `koanf:"log-level"`
	Peripherals      map[string]Peripheral `koanf:"peripherals"` // by name or FQDN
	// REST surface (rest.go): the servers' time zone for JSON dates; an
	// account to read the hub's API list with at start; how often to look
	// at it again.
	PeripheralTimezone string        `koanf:"peripheral-timezone"`
	IntrospectUser     string        `koanf:"introspect-user"`
	IntrospectPassword string        `koanf:"introspect-password"`
	OpenAPIRefresh     time.Duration `koanf:"openapi-refresh"`
	// Groups name sets of peripherals (by name, FQDN or id) for targets.
	Groups map[string][]string `koanf:"groups"`
	// Shared state (state.go): memory unless RedisURL is set.
	RedisURL      string        `koanf:"redis-url"`
	RedisTimeout  time.Duration `koanf:"redis-timeout"`   // bound on every Redis operation
	RedisPrefix   string        `koanf:"redis-prefix"`    // of every key: gateways of different hubs can share a Redis
	RedisCAFile   string        `koanf:"redis-ca-file"`   // PEM bundle to trust for rediss://
	SecretKeyFile string        `koanf:"secret-key-file"` // AES-256 key sealing credentials in Redis
	ReadCache     string        `koanf:"read-cache"`      // method=ttl,... allowlist
	CacheSize     int           `koanf:"cache-size"`      // entries of the memory store
	Jobs          bool          `koanf:"jobs"`            // record every fan-out
	JobRetention  time.Duration `koanf:"job-retention"`
	JobLease      time.Duration `koanf:"job-lease"`
	// The byte budget of the job records this replica wrote: in all, per
	// user, and of the answers kept in one job (gateway/jobs/budget.go).
	JobMaxBytes       int64 `koanf:"job-max-bytes"`
	JobMaxUserBytes   int64 `koanf:"job-max-user-bytes"`
	JobMaxAnswerBytes int64 `koanf:"job-max-answer-bytes"`
	// Rollouts (rollouts.go): a rollout's owner renews its lease; another
	// replica takes it over when it lapses. Finished ones are kept for
	// retention.
	RolloutLease     time.Duration `koanf:"rollout-lease"`
	RolloutRetention time.Duration `koanf:"rollout-retention"`
	// Rings order a rollout's targets with "order": "rings": ring name →
	// members (names, FQDNs, ids or groups), "*" for every other server;
	// the canary ring first, the "*" ring last, the others by name.
	Rings map[string][]string `koanf:"rings"`
	// How it is served: TLS, shutdown (ops.go).
	Ops `koanf:",squash"`
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
		MaxConnections:   4096,
		MaxInFlightBytes: 2 << 30,
		Ops:              Ops{GCPercent: 25, TracingProtocol: "http", TracingSampleRatio: 1},
		LoginFailures:    10,
		LoginRefill:      6 * time.Second,
		SessionIdle:      30 * time.Minute,
		SessionMax:       12 * time.Hour,
		LogLevel:         "info",
		RedisTimeout:     2 * time.Second,
		RedisPrefix:      "hubgw:",
		CacheSize:        100_000,
		Jobs:             true,
		JobRetention:     6 * time.Hour,
		JobLease:         30 * time.Second,
		// The job recorder's own defaults, written out so flags show them.
		JobMaxBytes:       128 << 20,
		JobMaxUserBytes:   32 << 20,
		JobMaxAnswerBytes: 4 << 20,
		RolloutLease:      15 * time.Second,
		RolloutRetention:  30 * 24 * time.Hour,

		PeripheralTimezone: "UTC", // REST surface
		OpenAPIRefresh:     5 * time.Minute,
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
	for name, members := range c.Groups {
		if strings.EqualFold(name, "all") || strings.EqualFold(name, "hub") || name == "" || strings.ContainsAny(name, ", \t/@:") || len(members) == 0 {
			errs = append(errs, fmt.Errorf("group %q: a group needs members and a name other than all or hub, without , / @ : or spaces", name))
		}
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		errs = append(errs, errors.New("client-cert and client-key go together"))
	}
	for ref, p := range c.Peripherals {
		if (p.ClientCert == "") != (p.ClientKey == "") {
			errs = append(errs, fmt.Errorf("peripherals.%s: client-cert and client-key go together", ref))
		}
	}
	errs = append(errs, c.validateState()...)
	errs = append(errs, c.Ops.validate())
	if err := c.validateREST(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateRollouts(); err != nil {
		errs = append(errs, err)
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
	rest     *rest.Handler
	rollouts *desired.Rollouts
	state    *state
	invoke   fanout.Invoker   // the per-server stack
	tls      *tls.Config      // nil: plain HTTP
	tracing  *tracing.Tracing // nil: off
	hub      target.Target

	readiness *readiness // /readyz, cached; unready while draining (ready.go)
}

// New assembles a Server; it does no I/O.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	client, err := uyuni.New(uyuni.Options{
		ConnectTimeout: cfg.ConnectTimeout,
		MaxIdlePerHost: max(cfg.MaxPerServer, 1),
		DefaultTLS:     uyuni.TLS{CAFile: cfg.CAFile, Insecure: cfg.Insecure, ClientCert: cfg.ClientCert, ClientKey: cfg.ClientKey, Setting: "client"},
		Hosts:          peripheralTLS(cfg.Peripherals),
		Log:            log,
	})
	if err != nil {
		return nil, err
	}
	api, err := uyuniapi.Load() // the embedded catalog, parsed once per process
	if err != nil {
		return nil, err
	}
	// Every metric is registered here, once (adapters/metrics).
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics.RegisterBuildInfo(reg, buildinfo.Read())
	core := metrics.NewCore(reg)
	st, err := newState(cfg, api, metrics.NewStoreMetrics(reg), core, log)
	if err != nil {
		return nil, err
	}
	metrics.RegisterReadCache(reg, st.cacheStats())
	tr, err := tracing.New(context.Background(), cfg.tracingSettings())
	if err != nil {
		return nil, err
	}
	obs := metrics.NewUpstream(reg, MethodClass, client.Dials)
	breakers := fanout.NewBreakers(fanout.BreakerSettings{Failures: cfg.BreakerFailures, Cooldown: cfg.BreakerCooldown,
		OnChange: func(server, from, to string) {
			log.Warn("circuit breaker", "server", server, "from", from, "to", to)
		}})
	health := rest.NewHealth() // each server's last call, for GET /api/v1/peripherals

	// One path per request, as KrakenD's lura stacks an endpoint's proxies
	// over its backends'. Every client call, from every door, is a
	// gateway.Request through gw.Do; the gateway's own calls (discovery,
	// readiness, logins) use the per-server stack directly.
	//
	// The per-server stack, outermost first: the read cache answers
	// before anything else (a hit costs neither a slot nor an upstream
	// metric or span); the upstream span (tracing on) covers the call as
	// the request sees it, its retries included, and is the parent the
	// Uyuni client's traceparent names; metrics see what the client sees;
	// each retry waits for its own slot (a backoff holds none), bounded
	// by the client request's deadline. The breaker is inside the
	// limiter, and the per-server deadline inside the breaker, so the
	// breaker counts only what happened after a request was sent: a wait
	// for a slot says the gateway is busy, not that the server is down,
	// and must never open its circuit (issue 12, M3).
	invoke := fanout.Stack(client.Invoke,
		st.readCache(),
		tr.Upstream(),
		fanout.Observe(obs),
		fanout.Observe(health),
		fanout.Timed(),
		fanout.Retry(fanout.RetryPolicy{Attempts: cfg.Retries + 1, Base: 100 * time.Millisecond, Max: 2 * time.Second}),
		fanout.NewLimiter(cfg.MaxConcurrency, cfg.MaxPerServer).Middleware(),
		breakers.Middleware(),
		fanout.Timeout(cfg.RequestTimeout),
	)

	hub := target.Target{Hub: true, Name: "hub", FQDN: hostOf(cfg.HubURL), URL: cfg.HubURL}
	disc := registry.Discovery{
		Call:   hubCaller(invoke, hub),
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
	regy := registry.New(load, registry.Options{TTL: cfg.RegistryTTL, Logger: log, Shared: st.shared})
	metrics.RegisterBreakers(reg, func() []string { return knownServers(regy, cfg.Peripherals) }, breakers.States)
	gw := gateway.New(gateway.Options{
		Hub:       hub,
		Sessions:  st.sessions,
		Jobs:      st.jobs,
		Registry:  regy,
		Invoke:    invoke,
		API:       api,
		CallLimit: cfg.CallTimeout,
		Logger:    log,
		// Bodies times targets in flight (gateway/inflight.go).
		InFlightBytes: cfg.MaxInFlightBytes,
		LoginThrottle: gateway.LoginThrottle{Burst: cfg.LoginFailures, Every: cfg.LoginRefill},
		Logins: func(ctx context.Context, mode auth.Mode, user string) (context.Context, func(string)) {
			ctx, end := tr.Login(ctx, string(mode), user)
			return ctx, func(outcome string) {
				core.Login(string(mode), outcome)
				end(outcome)
			}
		},
		Groups: cfg.Groups,
		ServiceCredentials: func(t target.Target) (string, string, bool) {
			p, ok := overrideFor(t, cfg.Peripherals)
			return p.User, p.Password, ok && p.User != ""
		},
	})
	// The per-request wrappers, outermost first: the request's span
	// (tracing on) sees it as the client sent it; gateway-wide ids of
	// systems and actions route a many-target call to the servers that own
	// the ids it names, and translate the answers' ids; the server-local
	// id rule refuses what is left before anything is recorded or sent;
	// the job record sees every target the client asked for, the ones that
	// could not be reached included; session keys (attach on demand,
	// re-login once) innermost, so a repeat after a re-login is part of the
	// same job.
	gw.Use(
		tr.Requests(),
		gw.FleetIDs(fleetids.New(st.store)),
		gw.IDRule(),
		gw.RecordJobs(),
		gw.KeepSessions(),
	)
	s := &Server{cfg: cfg, log: log, tracing: tr, invoke: invoke, hub: hub, registry: regy, client: client, gateway: gw, metrics: reg, state: st}
	s.readiness = newReadiness(s.ready)
	engine := desired.New(gw)
	s.rollouts = newRollouts(cfg, gw, engine, st, log)
	if s.rest, err = newREST(cfg, gw, api, breakers, health, engine, s.rollouts, log); err != nil {
		return nil, err
	}
	s.echo = httpapi.New(httpapi.Config{
		XMLRPC:  httpapi.NewXMLRPC(hubapi.New(gw).WithRollouts(s.rollouts), spacecmd.New(gw, log), cfg.MaxBodyBytes, cfg.CallTimeout, log),
		Ready:   s.readiness.ready,
		Metrics: reg,
		Tracer:  tr.Tracer(),
		Routes:  []func(*echo.Echo){s.rest.Register, s.landing},
		Logger:  log,
	})
	return s, nil
}

// hubCaller calls the hub through the per-server stack (limits, breaker,
// metrics apply to the gateway's own calls too) and decodes the answer.
func hubCaller(invoke fanout.Invoker, hub target.Target) registry.Caller {
	return func(ctx context.Context, method string, params []any) (any, error) {
		r := invoke(ctx, fanout.Call{Target: hub, Method: method, Params: params, ReadOnly: true})
		r.Target = hub
		if !r.OK() {
			if r.Fault != nil {
				return nil, r.Fault
			}
			return nil, r.Err
		}
		return rpc.Decode(r.Value)
	}
}

// peripheralTLS is how to reach each peripheral with TLS settings of its
// own, by the host of its URL: the url set there, else the entry's name
// taken as its FQDN (discovery makes https://<FQDN>/rpc/api).
func peripheralTLS(over map[string]Peripheral) map[string]uyuni.TLS {
	hosts := map[string]uyuni.TLS{}
	for ref, p := range over {
		if p.CAFile == "" && !p.Insecure && p.ClientCert == "" {
			continue
		}
		host := ref
		if p.URL != "" {
			host = hostOf(p.URL)
		}
		hosts[host] = uyuni.TLS{CAFile: p.CAFile, Insecure: p.Insecure, ClientCert: p.ClientCert, ClientKey: p.ClientKey, Setting: "peripherals." + ref + ".client"}
	}
	return hosts
}

func hostOf(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	if i := strings.IndexByte(u, '/'); i >= 0 {
		u = u[:i]
	}
	return u
}

// overrideFor finds t's entry in the peripherals section (by name or FQDN).
func overrideFor(t target.Target, over map[string]Peripheral) (Peripheral, bool) {
	for ref, p := range over {
		if strings.EqualFold(ref, t.Name) || strings.EqualFold(ref, t.FQDN) {
			return p, true
		}
	}
	return Peripheral{}, false
}

// knownServers names every server the gateway knows of, as logs and
// metrics name them: the hub, the discovered peripherals, and the
// configured ones not (yet) discovered, so the breaker gauge lists every
// one from the start.
func knownServers(reg *registry.Registry, over map[string]Peripheral) []string {
	names := []string{"hub"}
	snap := reg.Cached()
	if snap != nil {
		for _, t := range snap.Targets {
			names = append(names, t.String())
		}
	}
	for ref := range over {
		if snap != nil {
			if _, found := snap.Find(ref); found {
				continue
			}
		}
		names = append(names, ref)
	}
	return names
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
	case uyuniapi.ReadOnly(method):
		return "read"
	}
	return "write"
}

// ready: the hub answers api.getVersion (no session needed). /readyz
// answers anyone, so what it says names no URL, address or upstream
// message: the details go to the log.
func (s *Server) ready(ctx context.Context) error {
	notReady := func(what string, err error) error {
		s.log.WarnContext(ctx, "not ready", "what", what, "err", err)
		return errors.New(what)
	}
	if err := s.state.ready(ctx); err != nil {
		return notReady("the state store does not answer", err)
	}
	if _, err := hubCaller(s.invoke, s.hub)(ctx, "api.getVersion", nil); err != nil {
		return notReady("the hub does not answer", err)
	}
	if ok, err := s.registry.Ready(); !ok && err != nil {
		return notReady("the peripheral list cannot be read from the hub", err)
	}
	return nil
}

// UseTLS serves TLS with c (nil: plain HTTP); call it before Serve.
func (s *Server) UseTLS(c *tls.Config) { s.tls = c }

// Handler is the HTTP handler (for tests that use httptest).
func (s *Server) Handler() http.Handler { return s.echo }

// Client exposes the upstream client (connection counts in benchmarks).
func (s *Server) Client() *uyuni.Client { return s.client }

// Serve serves on l until ctx ends, then shuts down gracefully: in-flight
// calls finish (bounded by grace) before Serve returns.
func (s *Server) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	srv := s.httpServer(ctx)
	// Rollout event streams end at shutdown, or Shutdown would wait for them.
	srv.RegisterOnShutdown(s.rollouts.C.Close)
	// The connection cap counts TCP connections, under TLS: http.Server
	// must see the *tls.Conn itself to answer a plain-HTTP request on the
	// TLS port with a 400 and to set the request's TLS state.
	l = limitListener(l, s.cfg.MaxConnections)
	if s.tls != nil {
		l = tls.NewListener(l, s.tls)
	} else {
		l = httpapi.FaultListener(l) // a fault for /t/%ZZ/, which net/http refuses itself
	}
	if s.cfg.DebugListen != "" {
		if err := serveDebug(ctx, s.cfg.DebugListen, s.log); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	s.state.start(ctx, s.registry)
	s.rest.Start(ctx)
	s.rollouts.C.Run(ctx)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.drain(context.Background())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	s.rest.Close()
	s.rollouts.C.Close() // the steps running finish; the leases lapse for another replica
	s.registry.Wait()
	s.state.close()
	s.client.CloseIdle()
	tctx, tcancel := context.WithTimeout(context.Background(), 5*time.Second)
	if terr := s.tracing.Shutdown(tctx); terr != nil {
		s.log.Warn("tracing: the last spans were not exported", "err", terr)
	}
	tcancel()
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
