package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/hubgw/hubgw/gateway"
)

// Config is what the HTTP surface needs from the process.
type Config struct {
	XMLRPC  *XMLRPC
	Ready   func(ctx context.Context) error // nil error means ready
	Metrics *prometheus.Registry
	// Routes add other surfaces' routes (REST, Swagger UI) to the same
	// echo instance, behind the same middleware.
	Routes []func(*echo.Echo)
	Logger *slog.Logger // the access lines; nil: none
	// Tracer, when set, spans every client request (access.go),
	// continuing the client's traceparent.
	Tracer trace.Tracer
}

type ctxKey struct{}

// RequestID returns the request id echo assigned, for logs.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// New builds the echo instance with every route.
func New(cfg Config) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Use(middleware.Recover())
	e.Use(plainRequestID, middleware.RequestID())
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := c.Response().Header().Get(echo.HeaderXRequestID)
			ctx := context.WithValue(c.Request().Context(), ctxKey{}, id)
			// The peer's address, not X-Forwarded-For, which any client
			// can write: login throttling counts per client.
			host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
			if err != nil {
				host = c.Request().RemoteAddr
			}
			c.SetRequest(c.Request().WithContext(gateway.WithClient(ctx, host)))
			return next(c)
		}
	})
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e.Use(accessLog(log, newInbound(cfg.Metrics), cfg.Tracer))
	for _, p := range []string{"/hub/rpc/api", "/rpc/api", "/t/:target/rpc/api"} {
		e.GET(p, NotAllowed)
	}
	e.POST("/hub/rpc/api", cfg.XMLRPC.Serve)
	// Uyuni's path: the hub, or (target.go) peripherals named by a stock client.
	e.POST("/rpc/api", cfg.XMLRPC.Serve, TargetFromBasicAuth)
	e.POST("/t/:target/rpc/api", cfg.XMLRPC.Serve, TargetFromPath)
	// Anything else under /t/ is a script's mistake (/t/x/../rpc/api,
	// /t/a/b/rpc/api): an XML-RPC client reads a fault, not a 404 page.
	e.POST("/t/*", BadTargetPath)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
		defer cancel()
		if err := cfg.Ready(ctx); err != nil {
			return c.String(http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
		}
		return c.String(http.StatusOK, "ready\n")
	})
	if cfg.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{})))
	}
	for _, add := range cfg.Routes {
		add(e)
	}
	return e
}

// maxRequestID bounds a client's X-Request-Id: it is logged and echoed.
const maxRequestID = 64

// plainRequestID drops a client's X-Request-Id unless it is short and
// plain ([A-Za-z0-9._-]), so the RequestID middleware after it generates
// one instead: a client's id is logged with every line of its request.
func plainRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" && !plainID(id) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

func plainID(s string) bool {
	if len(s) > maxRequestID {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// LogHandler adds the request id to every record logged with a
// request's context, and its trace id when it is traced.
type LogHandler struct{ slog.Handler }

func (h LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h LogHandler) WithAttrs(a []slog.Attr) slog.Handler { return LogHandler{h.Handler.WithAttrs(a)} }
func (h LogHandler) WithGroup(n string) slog.Handler      { return LogHandler{h.Handler.WithGroup(n)} }
