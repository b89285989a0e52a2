package tracing_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.uber.org/goleak"
	"google.golang.org/grpc"

	"github.com/hubgw/hubgw/adapters/tracing"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Off, tracing is nothing: no exporter, no goroutine, no span, and the
// per-server stack gets no layer.
func TestOffCostsNothing(t *testing.T) {
	defer goleak.VerifyNone(t)
	tr, err := tracing.New(context.Background(), tracing.Settings{SampleRatio: 1})
	require.NoError(t, err)
	require.Nil(t, tr)
	require.Nil(t, tr.Tracer())
	calls := 0
	base := func(context.Context, fanout.Call) fanout.Result { calls++; return fanout.Result{} }
	inv := tr.Upstream()(base)
	inv(context.Background(), fanout.Call{})
	require.Equal(t, 1, calls)
	ctx := context.Background()
	lctx, end := tr.Login(ctx, "relay", "admin")
	require.Equal(t, ctx, lctx)
	end("ok")
	require.NoError(t, tr.Shutdown(ctx))
}

// On, the exporter's goroutines end with Shutdown.
func TestShutdownStopsTheExporter(t *testing.T) {
	defer goleak.VerifyNone(t)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer collector.Close()
	tr, err := tracing.New(context.Background(), tracing.Settings{Endpoint: collector.URL, SampleRatio: 1})
	require.NoError(t, err)
	_, end := tr.Login(context.Background(), "relay", "admin")
	end("ok")
	require.NoError(t, tr.Shutdown(context.Background()))
	collector.CloseClientConnections()
}

// An upstream span names the server, the method, the attempts, the
// outcome and the fault code.
func TestUpstreamSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := tracing.NewWith(trace.NewTracerProvider(trace.WithSpanProcessor(rec)))
	inv := tr.Upstream()(func(context.Context, fanout.Call) fanout.Result {
		return fanout.Result{Fault: &rpc.Fault{Code: 2601, String: "no such system"}, Attempts: 1}
	})
	call := fanout.Call{Target: target.Target{ID: 7, Name: "p7.example.com"}, Method: "system.getDetails"}
	inv(context.Background(), call)
	require.Empty(t, rec.Ended(), "a call outside any traced request (a probe's) makes no trace of its own")
	ctx, parent := tr.Tracer().Start(context.Background(), "request")
	inv(ctx, call)
	parent.End()
	spans := rec.Ended()
	require.Len(t, spans, 2)
	require.Equal(t, parent.SpanContext().SpanID(), spans[0].Parent().SpanID())
	got := map[string]string{}
	for _, kv := range spans[0].Attributes() {
		got[string(kv.Key)] = kv.Value.Emit()
	}
	require.Equal(t, "p7.example.com", got["hubgw.server"])
	require.Equal(t, "system.getDetails", got["rpc.method"])
	require.Equal(t, "1", got["hubgw.attempts"])
	require.Equal(t, "fault", got["hubgw.outcome"])
	require.Equal(t, "2601", got["hubgw.fault_code"])
}

func TestSettings(t *testing.T) {
	for _, tt := range []struct {
		s    tracing.Settings
		want string
	}{
		{tracing.Settings{}, ""},
		{tracing.Settings{Endpoint: "http://collector:4318", SampleRatio: 0.1}, ""},
		{tracing.Settings{Endpoint: "collector:4318", SampleRatio: 1}, "OTLP URL"},
		{tracing.Settings{Endpoint: "http://collector:4317", Protocol: "grpc", SampleRatio: 1}, ""},
		{tracing.Settings{Endpoint: "http://collector:4317", Protocol: "thrift", SampleRatio: 1}, "http or grpc"},
		{tracing.Settings{Endpoint: "https://collector", SampleRatio: 2}, "0 to 1"},
	} {
		err := tt.s.Validate()
		if tt.want == "" {
			require.NoError(t, err, "%+v", tt.s)
		} else {
			require.ErrorContains(t, err, tt.want)
		}
	}
}

// collector is an OTLP/gRPC trace collector keeping the spans' names.
type collector struct {
	coltrace.UnimplementedTraceServiceServer
	names chan string
}

func (c *collector) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.names <- s.Name
			}
		}
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

// With tracing-protocol grpc, spans go to the collector's gRPC port.
func TestGRPCExport(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	col := &collector{names: make(chan string, 10)}
	coltrace.RegisterTraceServiceServer(srv, col)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	tr, err := tracing.New(context.Background(), tracing.Settings{Endpoint: "http://" + l.Addr().String(), Protocol: "grpc", SampleRatio: 1})
	require.NoError(t, err)
	_, end := tr.Login(context.Background(), "relay", "admin")
	end("ok")
	require.NoError(t, tr.Shutdown(context.Background()), "the stop exports what is buffered")
	require.Equal(t, "gateway.Login", <-col.names)
}
