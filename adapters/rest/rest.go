// Package rest is hubgw's REST/JSON surface, on echo:
//
//   - /api/v1: the gateway's own API. Login returns a bearer token (the
//     gateway session id, so one session serves XML-RPC and REST alike);
//     attach, logout, the peripherals with their health; and every Uyuni
//     method on the hub, on one peripheral, or fanned out to a set of
//     targets with one result per target.
//   - /rhn/manager/api: Uyuni's own HTTP API for the hub, so scripts
//     written for it work against the gateway.
//   - /openapi.json, /openapi.yaml: the generated document (package
//     openapi), which every /api/v1 request is validated against;
//     /docs: Swagger UI (openapi/swaggerui); /ui: the web console
//     (adapters/console), a page over /api/v1.
//
// Upstream it speaks XML-RPC through gateway.Gateway; answers are
// transcoded from the raw XML-RPC straight to JSON (xmlrpc.Raw.AppendJSON).
// Errors are RFC 9457 problem details carrying the Uyuni fault code.
package rest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
	"github.com/hubgw/hubgw/openapi"
)

// Gateway is what the REST surface needs of the core; *gateway.Gateway is one.
type Gateway interface {
	Login(ctx context.Context, mode auth.Mode, user, password string) (*auth.Session, fanout.Results, error)
	Session(ctx context.Context, key any) (*auth.Session, error)
	Logout(ctx context.Context, key any) error
	Peripherals(ctx context.Context, s *auth.Session) (*registry.Snapshot, error)
	Hub() target.Target
	Resolve(ctx context.Context, s *auth.Session, refs []string) ([]target.Target, error)
	IsMany(refs []string) bool
	Attach(ctx context.Context, s *auth.Session, targets []target.Target, users, passwords []string) (fanout.Results, error)
	Do(ctx context.Context, req gateway.Request) (gateway.Outcome, error)
	Job(ctx context.Context, s *auth.Session, id string) (*jobs.Job, error)
	Jobs(ctx context.Context, s *auth.Session, limit int) ([]jobs.Job, error)
}

// Config is what the REST surface is built from.
type Config struct {
	Gateway Gateway
	Live    *openapi.Live
	Docs    http.Handler // Swagger UI, served under /docs
	Console http.Handler // the web console, served under /ui
	// MaxBody bounds request bodies (the XML-RPC limit, --max-body-bytes).
	MaxBody int64
	// CallTimeout bounds one whole request, fan-out included.
	CallTimeout time.Duration
	// Zone is the time zone of a server's wall-clock dates (default UTC).
	Zone func(t target.Target) *time.Location
	// Breaker reports a server's circuit state by target key (nil: "closed").
	Breaker func(targetKey string) string
	// Health records the last call to each server (nil: none shown).
	Health *Health
	// Groups are the configured target groups' names, for messages.
	Groups []string
	// IntrospectUser and IntrospectPassword, when set, let the gateway log
	// in to the hub at start to read its API list for the document;
	// otherwise the first REST login does.
	IntrospectUser, IntrospectPassword string
	// RefreshEvery is how often the hub's API is looked at again (on REST
	// activity); default 5m.
	RefreshEvery time.Duration
	Logger       *slog.Logger
	// Desired is the desired-state engine behind /api/v1/plan and /export;
	// nil answers them 404.
	Desired *desired.Engine
	// Rollouts are staged rollouts of documents behind /api/v1/rollouts,
	// and /api/v1/apply (a rollout of one wave); nil answers them 404.
	Rollouts *desired.Rollouts
}

// Handler serves the REST surface.
type Handler struct {
	cfg  Config
	gw   Gateway
	live *openapi.Live
	log  *slog.Logger
	bufs xmlrpc.Buffers

	// base bounds background work (reading the hub's API); Close or the
	// end of Start's context cancels it.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds the handler; it does no I/O.
func New(cfg Config) (*Handler, error) {
	if cfg.Gateway == nil || cfg.Live == nil {
		return nil, errors.New("rest: Gateway and Live are required")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 16 << 20
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 5 * time.Minute
	}
	if cfg.Zone == nil {
		cfg.Zone = func(target.Target) *time.Location { return time.UTC }
	}
	if cfg.Breaker == nil {
		cfg.Breaker = func(string) string { return "closed" }
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, gw: cfg.Gateway, live: cfg.Live, log: cfg.Logger}
	h.base, h.cancel = context.WithCancel(context.Background())
	return h, nil
}

// Register adds the routes to e. Each path takes every HTTP method and
// answers a wrong one itself, so every error is problem+json (Uyuni's own
// answer under its HTTP API).
func (h *Handler) Register(e *echo.Echo) {
	// Every route's errors are written in one place (rendered).
	route := func(path string, fn echo.HandlerFunc) { e.Any(path, h.rendered(fn)) }
	route("/openapi.json", h.only(http.MethodGet, h.document(false)))
	route("/openapi.yaml", h.only(http.MethodGet, h.document(true)))
	if h.cfg.Docs != nil {
		route("/docs", echo.WrapHandler(h.cfg.Docs))
		route("/docs/*", echo.WrapHandler(h.cfg.Docs))
	}
	if h.cfg.Console != nil {
		route("/ui", echo.WrapHandler(h.cfg.Console))
		route("/ui/*", echo.WrapHandler(h.cfg.Console))
	}
	route("/api/v1/login", h.only(http.MethodPost, h.login))
	route("/api/v1/logout", h.only(http.MethodPost, h.logout))
	route("/api/v1/attach", h.only(http.MethodPost, h.attach))
	route("/api/v1/peripherals", h.only(http.MethodGet, h.peripherals))
	route("/api/v1/hub/*", h.only(http.MethodPost, h.call(openapi.Hub)))
	route("/api/v1/peripherals/:target/*", h.only(http.MethodPost, h.call(openapi.Peripheral)))
	route("/api/v1/call/*", h.only(http.MethodPost, h.call(openapi.Fanout)))
	route("/api/v1/jobs", h.only(http.MethodGet, h.jobList))
	route("/api/v1/jobs/:id", h.only(http.MethodGet, h.job))
	if h.cfg.Desired != nil {
		route("/api/v1/plan", h.only(http.MethodPost, h.plan))
		route("/api/v1/export/:target/:kind/:name", h.only(http.MethodGet, h.export))
	}
	if h.cfg.Rollouts != nil {
		route("/api/v1/apply", h.only(http.MethodPost, h.apply))
		route("/api/v1/rollouts", h.rollouts)
		route("/api/v1/rollouts/:id", h.only(http.MethodGet, h.rollout))
		route("/api/v1/rollouts/:id/events", h.only(http.MethodGet, h.rolloutEvents))
		for _, op := range []string{"resume", "retry", "abort"} {
			route("/api/v1/rollouts/:id/"+op, h.only(http.MethodPost, h.rolloutDecide(op)))
		}
	}
	route("/api/v1/*", h.unknownRoute)
	route("/api/v1", h.unknownRoute)
	route(openapi.NativePrefix+"*", h.native)
}

// Start runs what the surface does in the background until ctx ends or
// Close: reading the hub's API list for the document, if introspection
// credentials are set.
func (h *Handler) Start(ctx context.Context) {
	context.AfterFunc(ctx, h.cancel)
	if h.cfg.IntrospectUser == "" {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.introspectLoop(h.base)
	}()
}

// Close stops background work and waits for it.
func (h *Handler) Close() {
	h.cancel()
	h.wg.Wait()
	h.live.Wait()
}

// introspectLoop reads the hub's API list with the introspection account
// (log in, read, log out): at start, retrying with backoff until it has
// worked (the hub may not be up yet), then whenever it is due again, so the
// document follows the hub without waiting for REST traffic.
func (h *Handler) introspectLoop(ctx context.Context) {
	wait, done := time.Second, false
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !done || h.live.Due(h.cfg.RefreshEvery) {
			if err := h.introspect(ctx); err != nil {
				h.log.WarnContext(ctx, "reading the hub's API list for the OpenAPI document failed", "err", err, "retry_in", wait)
			} else {
				done = true
			}
		}
		if done {
			wait = h.cfg.RefreshEvery
		}
		t.Reset(wait)
		if !done {
			wait = min(2*wait, 30*time.Second)
		}
	}
}

func (h *Handler) introspect(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.CallTimeout)
	defer cancel()
	s, _, err := h.gw.Login(ctx, auth.Manual, h.cfg.IntrospectUser, h.cfg.IntrospectPassword)
	if err != nil {
		return err
	}
	defer func() {
		if err := h.gw.Logout(context.WithoutCancel(ctx), s.ID); err != nil {
			h.log.WarnContext(ctx, "logging the introspection session out failed", "err", err)
		}
	}()
	_, err = h.live.Refresh(ctx, h.fetcher(s))
	return err
}

// fetcher reads the hub's API with session s.
func (h *Handler) fetcher(s *auth.Session) openapi.Fetch {
	return func(ctx context.Context) (string, any, error) {
		hub := []target.Target{h.gw.Hub()}
		v, err := h.hubValue(ctx, gateway.Request{Session: s, Targets: hub, Method: "api.getVersion", NoSession: true, Internal: true})
		if err != nil {
			return "", nil, err
		}
		var version string
		switch x := v.(type) {
		case string:
			version = x
		case float64: // some servers answer a number
			version = strconv.FormatFloat(x, 'f', -1, 64)
		case int64:
			version = strconv.FormatInt(x, 10)
		default:
			return "", nil, errors.New("api.getVersion answered " + rpc.TypeName(v))
		}
		list, err := h.hubValue(ctx, gateway.Request{Session: s, Targets: hub, Method: "api.getApiCallList", Internal: true})
		return version, list, err
	}
}

func (h *Handler) hubValue(ctx context.Context, req gateway.Request) (any, error) {
	out, err := h.gw.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	r := out.Results[0]
	if !r.OK() {
		return nil, gateway.Fault(r)
	}
	if raw, ok := r.Value.(xmlrpc.Raw); ok {
		return raw.Decode()
	}
	return r.Value, nil
}

// refreshIfDue looks at the hub's API again in the background when it is
// time, with the session of the request at hand (api.getApiCallList
// needs one).
func (h *Handler) refreshIfDue(s *auth.Session) {
	if h.live.Due(h.cfg.RefreshEvery) {
		h.live.RefreshAsync(h.base, h.cfg.CallTimeout, h.fetcher(s))
	}
}

// only lets one HTTP method through (HEAD too for GET).
func (h *Handler) only(method string, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m := c.Request().Method
		if m == method || (method == http.MethodGet && m == http.MethodHead) {
			return next(c)
		}
		c.Response().Header().Set("Allow", method)
		return h.problem(c, http.StatusMethodNotAllowed, &rpc.Fault{Code: gateway.CodeInvalidRequest,
			String: "hubgw: " + c.Request().URL.Path + " takes " + method + ", not " + m}, nil)
	}
}

func (h *Handler) unknownRoute(c echo.Context) error {
	return h.problem(c, http.StatusNotFound, &rpc.Fault{Code: gateway.CodeNoMethod,
		String: "hubgw: no such endpoint " + c.Request().URL.Path + " (see /openapi.json or /docs)"}, nil)
}

// spec is the document in force, or a 500 (the embedded catalog's
// document could not be built: a bug the unit tests catch).
func (h *Handler) spec(c echo.Context) (*openapi.Spec, error) {
	if s := h.live.Current(); s != nil {
		return s, nil
	}
	return nil, h.problem(c, http.StatusInternalServerError, rpc.Faultf(gateway.CodeInternal, "hubgw: no OpenAPI document: %v", h.live.Err()), nil)
}

// document serves the current OpenAPI document.
func (h *Handler) document(asYAML bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		spec, err := h.spec(c)
		if err != nil {
			return err
		}
		w := c.Response()
		w.Header().Set("ETag", spec.ETag)
		w.Header().Set("Cache-Control", "no-cache")
		if c.Request().Header.Get("If-None-Match") == spec.ETag {
			return c.NoContent(http.StatusNotModified)
		}
		if !asYAML {
			return c.Blob(http.StatusOK, "application/json", spec.JSON)
		}
		y, err := spec.YAML()
		if err != nil {
			return h.problem(c, http.StatusInternalServerError, rpc.Faultf(gateway.CodeInternal, "hubgw: the document as YAML: %v", err), nil)
		}
		return c.Blob(http.StatusOK, "application/yaml", y)
	}
}
