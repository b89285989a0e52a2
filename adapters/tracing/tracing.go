// Package tracing is hubgw's OpenTelemetry tracing: the provider and its
// OTLP exporter (HTTP or gRPC), and the spans of the gateway's own layers, each put
// in the one place its layer is assembled (adapters/server): a span per
// gateway request (a gateway.Wrapper around Do), per upstream call (a
// fanout.Middleware in the per-server stack) and per login. The inbound
// span, which continues a client's traceparent, is the HTTP surface's
// (adapters/httpapi, beside the access log); the Uyuni client puts the
// traceparent on every upstream request.
//
// Off (no endpoint), a *Tracing is nil: its middlewares are the identity,
// no span is made, no goroutine runs. Attributes name methods, users,
// servers, targets and outcomes, never arguments, passwords or keys.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
)

// Settings configure tracing.
type Settings struct {
	// Endpoint is the collector's OTLP URL: over HTTP
	// (http://collector:4318; /v1/traces is added when it has no path)
	// or, with Protocol grpc, its gRPC port (http://collector:4317;
	// https for TLS). Empty: tracing is off. The exporter's other
	// OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression,
	// certificates) apply as the SDK reads them.
	Endpoint string
	Protocol string // "http" (OTLP/HTTP with protobuf, the default) or "grpc"
	// SampleRatio is the share of new traces kept (0 to 1); a trace a
	// client started is kept when the client kept it.
	SampleRatio float64
	Version     string // service.version
}

// Validate checks the settings without I/O.
func (s Settings) Validate() error {
	if s.Endpoint == "" {
		return nil
	}
	var errs []error
	if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("tracing-endpoint %q: want the collector's OTLP URL, such as http://collector:4318 (or :4317 with tracing-protocol grpc)", s.Endpoint))
	}
	if s.Protocol != "" && s.Protocol != "http" && s.Protocol != "grpc" {
		errs = append(errs, fmt.Errorf("tracing-protocol %q: want http or grpc", s.Protocol))
	}
	if s.SampleRatio < 0 || s.SampleRatio > 1 {
		errs = append(errs, fmt.Errorf("tracing-sample-ratio %v: want 0 to 1", s.SampleRatio))
	}
	return errors.Join(errs...)
}

// Tracing makes hubgw's spans; nil is off.
type Tracing struct {
	tp *sdktrace.TracerProvider
	tr trace.Tracer
}

// New sets tracing up; nil (off) without an endpoint. It does no I/O:
// spans are exported in batches, in the background, until Shutdown.
func New(ctx context.Context, s Settings) (*Tracing, error) {
	if s.Endpoint == "" {
		return nil, nil
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	exp, err := exporter(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	// Ours first, so OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "hubgw"), attribute.String("service.version", s.Version)),
		resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	return NewWith(sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(s.SampleRatio))),
	)), nil
}

func exporter(ctx context.Context, s Settings) (sdktrace.SpanExporter, error) {
	if s.Protocol == "grpc" {
		return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(s.Endpoint))
	}
	endpoint := s.Endpoint
	if u, _ := url.Parse(endpoint); u.Path == "" || u.Path == "/" {
		endpoint = strings.TrimSuffix(endpoint, "/") + "/v1/traces"
	}
	return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
}

// NewWith traces with tp (tests give one with a span recorder).
func NewWith(tp *sdktrace.TracerProvider) *Tracing {
	return &Tracing{tp: tp, tr: tp.Tracer("github.com/hubgw/hubgw")}
}

// Tracer is the tracer of hubgw's spans (nil when off).
func (t *Tracing) Tracer() trace.Tracer {
	if t == nil {
		return nil
	}
	return t.tr
}

// Shutdown exports the spans still buffered and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// Requests is the gateway.Wrapper that spans each request through Do:
// its method, user, how many targets and how many failed, its fault.
func (t *Tracing) Requests() gateway.Wrapper {
	return func(next gateway.Handler) gateway.Handler {
		if t == nil {
			return next
		}
		return func(ctx context.Context, req gateway.Request) (gateway.Outcome, error) {
			ctx, span := t.tr.Start(ctx, "gateway.Do "+req.Method, trace.WithAttributes(
				attribute.String("rpc.method", req.Method),
				attribute.Int("hubgw.targets", len(req.Targets)),
				attribute.Bool("hubgw.many", req.Many),
			))
			defer span.End()
			if req.Session != nil {
				span.SetAttributes(attribute.String("enduser.id", req.Session.User))
			}
			out, err := next(ctx, req)
			failed := 0
			for _, r := range out.Results {
				if !r.OK() {
					failed++
				}
			}
			span.SetAttributes(attribute.Int("hubgw.failed", failed))
			if out.JobID != "" {
				span.SetAttributes(attribute.String("hubgw.job", out.JobID))
			}
			if err != nil {
				f := gateway.AsFault(err)
				span.SetAttributes(attribute.Int("hubgw.fault_code", f.Code))
				span.SetStatus(codes.Error, "fault")
			}
			return out, err
		}
	}
}

// Upstream is the fanout.Middleware that spans each call to a server:
// its name, the method, the attempts made, how it went and its fault
// code. The Uyuni client sends the span's traceparent with the call.
// Only calls made for a traced request are spanned: the gateway's own
// (readiness probes, background refreshes) would each be a trace of one
// span, every second.
func (t *Tracing) Upstream() fanout.Middleware {
	return func(next fanout.Invoker) fanout.Invoker {
		if t == nil {
			return next
		}
		return func(ctx context.Context, c fanout.Call) fanout.Result {
			if !trace.SpanContextFromContext(ctx).IsValid() {
				return next(ctx, c)
			}
			ctx, span := t.tr.Start(ctx, "upstream "+c.Method, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
				attribute.String("hubgw.server", c.Target.String()),
				attribute.String("rpc.system", "xmlrpc"),
				attribute.String("rpc.method", c.Method),
			))
			defer span.End()
			r := next(ctx, c)
			kind := fanout.Kind(r)
			span.SetAttributes(attribute.Int("hubgw.attempts", max(r.Attempts, 1)), attribute.String("hubgw.outcome", kind),
				attribute.Float64("hubgw.duration_ms", float64(r.Duration.Microseconds())/1000))
			if r.Fault != nil {
				span.SetAttributes(attribute.Int("hubgw.fault_code", r.Fault.Code))
			}
			if kind != "ok" {
				span.SetStatus(codes.Error, kind)
			}
			return r
		}
	}
}

// Login spans a login; the function returned ends it with its outcome.
func (t *Tracing) Login(ctx context.Context, mode, user string) (context.Context, func(outcome string)) {
	if t == nil {
		return ctx, func(string) {}
	}
	ctx, span := t.tr.Start(ctx, "gateway.Login", trace.WithAttributes(
		attribute.String("hubgw.mode", mode), attribute.String("enduser.id", user)))
	return ctx, func(outcome string) {
		span.SetAttributes(attribute.String("hubgw.outcome", outcome))
		if outcome != "ok" {
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
}
