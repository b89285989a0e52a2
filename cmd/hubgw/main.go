// Command hubgw is the Uyuni hub gateway.
//
//	hubgw serve [--config hubgw.yaml] [--listen :2830] [--hub-url https://hub/rpc/api] ...
//
// Every flag --some-name has the environment twin HUBGW_SOME_NAME and the
// YAML key some-name. hub-xmlrpc-api's variables (HUB_API_URL,
// HUB_CONNECT_TIMEOUT, HUB_REQUEST_TIMEOUT, HUB_CONNECT_USING_SSL) are
// honoured too, so it can be swapped in without changing its environment.
// Precedence, lowest first: defaults, YAML, HUB_*, HUBGW_*, flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hubgw/hubgw/adapters/httpapi"
	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/buildinfo"
	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cmd/hubgw/internal/cli"
)

func main() {
	cmd := root()
	if err := cmd.Execute(); err != nil {
		// Printed here rather than by cobra: an exit code that is the
		// whole answer (a plan's 2, changes planned) has no message.
		if msg := err.Error(); msg != "" {
			cmd.PrintErrln(cmd.ErrPrefix(), msg)
		}
		os.Exit(cli.ExitCode(err))
	}
}

func root() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "hubgw",
		Short:         "Gateway for Uyuni hub deployments: XML-RPC (hub-xmlrpc-api compatible) with fan-out to peripherals",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildinfo.Read().String(),
	}
	cmd.SetVersionTemplate("{{.Version}}\n")
	cli.AddCommands(cmd)
	cmd.AddCommand(serveCmd(), versionCmd())
	return cmd
}

func serveCmd() *cobra.Command {
	d := server.Defaults()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the gateway",
		Args:  cobra.NoArgs,
	}
	f := cmd.Flags()
	f.String("config", "", "YAML configuration file")
	f.String("listen", d.Listen, "address to listen on")
	f.String("hub-url", d.HubURL, "the hub's XML-RPC URL (HUB_API_URL)")
	f.String("peripheral-scheme", d.PeripheralScheme, "scheme for peripherals' URLs: https or http (HUB_CONNECT_USING_SSL=false means http)")
	f.Duration("connect-timeout", d.ConnectTimeout, "TCP connect and TLS handshake timeout (HUB_CONNECT_TIMEOUT, seconds)")
	f.Duration("request-timeout", d.RequestTimeout, "deadline for one server's answer (HUB_REQUEST_TIMEOUT, seconds)")
	f.Duration("call-timeout", d.CallTimeout, "deadline for one whole client request, fan-out included")
	f.Int("max-concurrency", d.MaxConcurrency, "upstream calls in flight, in all")
	f.Int("max-per-server", d.MaxPerServer, "upstream calls in flight per server")
	f.Int("retries", d.Retries, "retries of read-only calls after transport failures")
	f.Int("breaker-failures", d.BreakerFailures, "consecutive transport failures that open a server's circuit (0: no breaker)")
	f.Duration("breaker-cooldown", d.BreakerCooldown, "how long an open circuit stays open")
	f.Duration("registry-ttl", d.RegistryTTL, "how long the peripheral list is fresh")
	f.Int64("max-body-bytes", d.MaxBodyBytes, "largest request body accepted")
	f.Int("max-connections", d.MaxConnections, "client connections open at once (0: no cap)")
	f.Int64("max-inflight-bytes", d.MaxInFlightBytes, "budget for one request's arguments times its targets; a fan-out past it is refused with fault 4110")
	f.Int("login-failures", d.LoginFailures, "failed logins in a row per user and per client address before further logins are refused (4111); 0: no throttling")
	f.Duration("login-refill", d.LoginRefill, "after login-failures, one more failed login is allowed every this long")
	f.Duration("session-idle", d.SessionIdle, "gateway sessions expire after this long unused")
	f.Duration("session-max", d.SessionMax, "gateway sessions expire after this long in any case")
	f.String("ca-file", "", "PEM bundle to trust for the hub and peripherals")
	f.Bool("insecure", false, "skip TLS verification (never in production)")
	f.String("client-cert", "", "PEM client certificate shown to the hub and peripherals that require one (mutual TLS); peripherals.<name>.client-cert overrides it")
	f.String("client-key", "", "PEM private key of --client-cert (chmod 600: a world-readable key is refused)")
	f.String("log-level", d.LogLevel, "debug, info, warn or error")
	f.StringArray("groups", nil, "a named target group, NAME=PERIPHERAL,PERIPHERAL (repeatable; HUBGW_GROUPS joins them with ';')")
	f.String("redis-url", "", "shared state in Redis, for replicas (redis://, rediss://, redis-sentinel://, redis-cluster://; see README); unset: in memory")
	f.Duration("redis-timeout", d.RedisTimeout, "bound on every Redis operation")
	f.String("redis-ca-file", "", "PEM bundle to trust for rediss:// (default: the system's roots)")
	f.String("redis-prefix", d.RedisPrefix, "prefix of every Redis key: the gateways of one hub share one, of different hubs differ")
	f.String("secret-key-file", "", "32-byte key (raw, hex or base64) sealing credentials stored in Redis; required with --redis-url")
	f.String("read-cache", "", "cache answers of these read-only methods: method=ttl,... (e.g. system.listSystems=30s)")
	f.Int("cache-size", d.CacheSize, "entries of the in-memory store (no Redis)")
	f.Bool("jobs", d.Jobs, "record every fan-out as a job (hub.getJob, hub.listJobs)")
	f.Duration("job-retention", d.JobRetention, "how long job records are kept")
	f.Duration("job-lease", d.JobLease, "a running job whose replica stops renewing it for this long shows as interrupted")
	f.Int64("job-max-bytes", d.JobMaxBytes, "byte budget of the job records this replica wrote, all users together; past it the oldest finished jobs are deleted")
	f.Int64("job-max-user-bytes", d.JobMaxUserBytes, "byte budget of one user's job records (at most job-max-bytes)")
	f.Int64("job-max-answer-bytes", d.JobMaxAnswerBytes, "answers recorded in one job; past it they are noted as omitted")
	f.Duration("rollout-lease", d.RolloutLease, "a rollout whose owner stops renewing its lease for this long is taken over by another replica")
	f.Duration("rollout-retention", d.RolloutRetention, "how long finished rollouts are kept, for audit")
	f.String("peripheral-timezone", d.PeripheralTimezone, "time zone of the servers' dates (Uyuni sends wall clock times), for the REST surface's RFC 3339 dates; peripherals.<name>.timezone overrides it")
	f.String("introspect-user", "", "hub account the gateway reads the API list with at start, for /openapi.json (else at the first REST login)")
	f.String("introspect-password", "", "its password (prefer HUBGW_INTROSPECT_PASSWORD)")
	f.Duration("openapi-refresh", d.OpenAPIRefresh, "how often the hub's API list is looked at again for /openapi.json")
	f.String("tls-cert", "", "PEM certificate (chain) to serve HTTPS with; reloaded on SIGHUP and when the file changes")
	f.String("tls-key", "", "PEM private key of --tls-cert")
	f.Duration("shutdown-grace", 0, "how long calls in flight may finish after a stop (0: call-timeout)")
	f.Int("gc-percent", d.GCPercent, "the garbage collector's GOGC (the GOGC environment variable wins); the soft memory limit is max-inflight-bytes plus 512 MiB unless GOMEMLIMIT is set")
	f.String("debug-listen", "", "serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060; unset: none")
	f.String("tracing-endpoint", "", "OpenTelemetry: the collector's OTLP URL, e.g. http://collector:4318 (empty: no tracing)")
	f.String("tracing-protocol", d.TracingProtocol, "OTLP over http (port 4318) or grpc (port 4317)")
	f.Float64("tracing-sample-ratio", d.TracingSampleRatio, "share of new traces kept, 0 to 1 (a client's traceparent decides for its own)")
	f.Duration("drain-delay", 0, "after a stop, answer /readyz 503 for this long before closing the listener (behind a load balancer)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := loadConfig(f, os.Environ())
		if err != nil {
			return err
		}
		return serve(cmd.Context(), cfg)
	}
	return cmd
}

// loadConfig layers defaults, YAML, hub-xmlrpc-api's env, HUBGW_* env and flags.
func loadConfig(f *pflag.FlagSet, environ []string) (server.Config, error) {
	k := koanf.New(".")
	if path, _ := f.GetString("config"); path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return server.Config{}, fmt.Errorf("reading %s: %w", path, err)
		}
		if err := unknownKeys(k.Raw(), reflect.TypeFor[server.Config]()); err != nil {
			return server.Config{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := unknownEnv(environ, reflect.TypeFor[server.Config]()); err != nil {
		return server.Config{}, fmt.Errorf("environment: %w", err)
	}
	legacy := map[string]func(string) (string, any){
		"HUB_API_URL":         func(v string) (string, any) { return "hub-url", v },
		"HUB_CONNECT_TIMEOUT": func(v string) (string, any) { return "connect-timeout", seconds(v) },
		"HUB_REQUEST_TIMEOUT": func(v string) (string, any) { return "request-timeout", seconds(v) },
		"HUB_CONNECT_USING_SSL": func(v string) (string, any) {
			return "peripheral-scheme", map[bool]string{true: "https", false: "http"}[isTrue(v)]
		},
	}
	if err := k.Load(env.Provider(".", env.Opt{
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(key, v string) (string, any) {
			if fn, ok := legacy[key]; ok {
				return fn(v)
			}
			return "", nil
		},
	}), nil); err != nil {
		return server.Config{}, err
	}
	var groupsErr error // the providers' callbacks cannot return errors
	groups := func(entries ...string) map[string]any {
		g, err := parseGroups(entries...)
		groupsErr = errors.Join(groupsErr, err)
		return g
	}
	if err := k.Load(env.Provider(".", env.Opt{
		Prefix:      "HUBGW_",
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(key, v string) (string, any) {
			key = envKey(key)
			if key == "groups" {
				return key, groups(v)
			}
			return key, v
		},
	}), nil); err != nil {
		return server.Config{}, err
	}
	if err := k.Load(posflag.ProviderWithFlag(f, ".", k, func(fl *pflag.Flag) (string, any) {
		if fl.Name == "groups" {
			entries, _ := f.GetStringArray("groups")
			return fl.Name, groups(entries...)
		}
		return fl.Name, posflag.FlagVal(f, fl)
	}), nil); err != nil {
		return server.Config{}, err
	}
	if groupsErr != nil {
		return server.Config{}, groupsErr
	}
	cfg := server.Defaults()
	if err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return server.Config{}, fmt.Errorf("configuration: %w", err)
	}
	return cfg, cfg.Validate()
}

// seconds reads hub-xmlrpc-api's timeouts, which are plain seconds.
func seconds(v string) string {
	v = strings.TrimSpace(v)
	if _, err := time.ParseDuration(v); err == nil {
		return v
	}
	return v + "s"
}

func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func serve(ctx context.Context, cfg server.Config) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("log-level: %w", err)
	}
	log := slog.New(httpapi.LogHandler{Handler: slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})})
	cache.LogTo(log)
	tuneGC(ctx, cfg)
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, tlsConfig, watching, err := listen(ctx, cfg, log)
	if err != nil {
		return err
	}
	srv.UseTLS(tlsConfig)
	log.Info("hubgw serving", "version", buildinfo.Read().Version, "listen", l.Addr().String(), "tls", cfg.TLSCert != "", "hub", cfg.HubURL, "xmlrpc", "/hub/rpc/api", "rest", "/api/v1", "docs", "/docs/")
	err = srv.Serve(ctx, l, cfg.Grace())
	stop()
	<-watching
	log.Info("hubgw stopped")
	return err
}
