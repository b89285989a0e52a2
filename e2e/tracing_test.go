package e2e

import (
	"compress/gzip"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	collector "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/hubgw/hubgw/adapters/httpapi"
	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// otlpReceiver is an OTLP/HTTP trace collector: it keeps every span
// exported to it.
type otlpReceiver struct {
	URL   string
	mu    sync.Mutex
	spans []*tracepb.Span
}

func startOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = gz
		}
		b, err := io.ReadAll(body)
		var msg collector.ExportTraceServiceRequest
		if err == nil && req.URL.Path == "/v1/traces" {
			err = proto.Unmarshal(b, &msg)
		}
		if err != nil || req.URL.Path != "/v1/traces" {
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range msg.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&collector.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *otlpReceiver) Spans() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...)
}

func spanAttr(s *tracepb.Span, key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			if v, ok := a.Value.Value.(*commonpb.AnyValue_IntValue); ok {
				return strconv.FormatInt(v.IntValue, 10)
			}
			return a.Value.GetStringValue()
		}
	}
	return ""
}

// One REST fan-out to two peripherals is one trace, continuing the
// client's: the inbound span, the gateway's Do under it, one upstream
// span per peripheral under that; each peripheral got a traceparent of
// that trace naming its upstream span. Logs carry the trace id; no span
// holds a password or a session key.
func TestTracingFanOut(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	otlp := startOTLPReceiver(t)
	var buf lockedBuffer
	log := slog.New(httpapi.LogHandler{Handler: slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})})
	g := startGatewayLog(t, sim, func(c *server.Config) { c.TracingEndpoint = otlp.URL }, log)
	token := restLogin(t, g, "autoconnect")

	const clientTrace, clientSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	ps := sim.Peripherals()
	req, err := http.NewRequest(http.MethodPost, g.Base+"/api/v1/call/system/listSystems?targets="+pname(ps[0])+","+pname(ps[1]), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Traceparent", "00-"+clientTrace+"-"+clientSpan+"-01")
	r := doRest(t, http.DefaultClient, req)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	// XML-RPC is spanned the same way (a stock client aimed at one
	// peripheral; the REST token is the session key).
	const xmlTrace = "0af7651916cd43dd8448eb211c80319c"
	req, err = http.NewRequest(http.MethodPost, g.Base+"/t/"+pname(ps[0])+"/rpc/api", strings.NewReader(
		`<?xml version="1.0"?><methodCall><methodName>system.listSystems</methodName><params><param><value><string>`+token+`</string></value></param></params></methodCall>`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("Traceparent", "00-"+xmlTrace+"-b7ad6b7169203331-01")
	r = doRest(t, http.DefaultClient, req)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.NotContains(t, string(r.Body), "<fault>")
	require.NoError(t, g.Stop(), "the stop exports the spans still buffered")

	var xmlInbound *tracepb.Span
	for _, s := range otlp.Spans() {
		if hex.EncodeToString(s.TraceId) == xmlTrace && s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			xmlInbound = s
		}
	}
	require.NotNil(t, xmlInbound)
	require.Equal(t, "targeted", spanAttr(xmlInbound, "hubgw.dialect"))
	require.Equal(t, "system.listSystems", spanAttr(xmlInbound, "rpc.method"))

	var inbound, do *tracepb.Span
	var upstream []*tracepb.Span
	var login bool
	for _, s := range otlp.Spans() {
		for _, a := range s.Attributes {
			require.NotContains(t, a.Value.GetStringValue(), token, "span %s: no session key", s.Name)
		}
		if s.Name == "gateway.Login" && spanAttr(s, "hubgw.mode") == "autoconnect" && spanAttr(s, "hubgw.outcome") == "ok" {
			login = true
		}
		if hex.EncodeToString(s.TraceId) != clientTrace {
			continue
		}
		switch {
		case s.Kind == tracepb.Span_SPAN_KIND_SERVER:
			inbound = s
		case s.Name == "gateway.Do system.listSystems":
			do = s
		case s.Kind == tracepb.Span_SPAN_KIND_CLIENT && spanAttr(s, "rpc.method") == "system.listSystems":
			upstream = append(upstream, s)
		}
	}
	require.True(t, login, "a span per login, with its mode and outcome")
	require.NotNil(t, inbound, "the client's trace is continued")
	require.Equal(t, clientSpan, hex.EncodeToString(inbound.ParentSpanId))
	require.Equal(t, "POST /api/v1/call/*", inbound.Name)
	require.Equal(t, "admin", spanAttr(inbound, "enduser.id"))
	require.Equal(t, "ok", spanAttr(inbound, "hubgw.outcome"))
	require.Equal(t, "rest", spanAttr(inbound, "hubgw.dialect"))
	require.Equal(t, pname(ps[0])+","+pname(ps[1]), spanAttr(inbound, "hubgw.target"), "the target expression")
	require.Equal(t, "2", spanAttr(inbound, "hubgw.targets"))
	require.NotNil(t, do)
	require.Equal(t, inbound.SpanId, do.ParentSpanId, "Do under the inbound span")
	require.Len(t, upstream, 2)
	servers := []string{}
	for _, u := range upstream {
		require.Equal(t, do.SpanId, u.ParentSpanId, "upstream calls under Do")
		require.Equal(t, "1", spanAttr(u, "hubgw.attempts"))
		require.Equal(t, "ok", spanAttr(u, "hubgw.outcome"))
		servers = append(servers, spanAttr(u, "hubgw.server"))
		// The peripheral saw the upstream span as its caller.
		p, ok := sim.Server(spanAttr(u, "hubgw.server"))
		if !ok {
			for _, cand := range ps {
				if cand.FQDN() == spanAttr(u, "hubgw.server") {
					p, ok = cand, true
				}
			}
		}
		require.True(t, ok)
		var seen []string
		for _, c := range p.Calls() {
			if c.Method == "system.listSystems" && strings.Contains(c.TraceParent, clientTrace) {
				seen = append(seen, c.TraceParent)
			}
		}
		require.Equal(t, []string{"00-" + clientTrace + "-" + hex.EncodeToString(u.SpanId) + "-01"}, seen)
	}
	require.ElementsMatch(t, []string{pname(ps[0]), pname(ps[1])}, servers)

	var traced bool
	for _, l := range buf.lines(t, "access") {
		if l["trace_id"] == clientTrace {
			traced = true
			require.Equal(t, "rest", l["dialect"])
		}
	}
	require.True(t, traced, "the access line carries the trace id")
}
