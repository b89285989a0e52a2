// Package uyuni is hubgw's client for Uyuni servers' XML-RPC API: one
// pooled keep-alive transport per TLS profile, calls bound to a context, and
// responses kept raw so the gateway can pass them on without re-encoding.
//
// kolo/xmlrpc's Client is not used: it runs one request at a time, takes no
// context, and decodes lossily (see adapters/xmlrpc).
package uyuni

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/hubgw/hubgw/adapters/certfile"
	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// TLS says how to trust one server (or all servers, as the default).
type TLS struct {
	CAFile     string // PEM bundle to trust instead of the system pool
	Insecure   bool   // skip verification (tests, and admins who insist)
	ServerName string // expected name when it differs from the URL's host
	// ClientCert and ClientKey, PEM files, authenticate the gateway to
	// servers that require client certificates (certfile.Client: read
	// again when they change); Setting names their configuration keys in
	// errors and logs.
	ClientCert, ClientKey, Setting string
}

// Options configure a Client. Zero values pick sensible defaults.
type Options struct {
	ConnectTimeout   time.Duration  // TCP connect and TLS handshake; default 10s
	MaxIdlePerHost   int            // idle keep-alive connections kept per server; default 64
	MaxResponseBytes int64          // larger responses fail; default 256 MiB
	UserAgent        string         // default "hubgw"
	DefaultTLS       TLS            // for servers without an entry in Hosts
	Hosts            map[string]TLS // per server, keyed by host[:port] of its URL
	Log              *slog.Logger   // client certificate reloads; default none
}

// Client calls Uyuni servers. It is safe for concurrent use.
type Client struct {
	opts       Options
	transports map[string]*http.Transport // by host; "" is the default
	clients    map[string]*http.Client
	dials      atomic.Int64
}

// New builds a client; it fails when a CA file cannot be read.
func New(opts Options) (*Client, error) {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.MaxIdlePerHost <= 0 {
		opts.MaxIdlePerHost = 64
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 256 << 20
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "hubgw"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	c := &Client{opts: opts, transports: map[string]*http.Transport{}, clients: map[string]*http.Client{}}
	add := func(host string, t TLS) error {
		tr, err := c.newTransport(t)
		if err != nil {
			return fmt.Errorf("TLS for %q: %w", host, err)
		}
		c.transports[host] = tr
		c.clients[host] = &http.Client{Transport: tr, CheckRedirect: noRedirect}
		return nil
	}
	if err := add("", opts.DefaultTLS); err != nil {
		return nil, err
	}
	for host, t := range opts.Hosts {
		if err := add(host, t); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// An XML-RPC POST answered with a redirect is a misconfiguration (http to
// https, usually); following it would turn the POST into a GET.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (c *Client) newTransport(t TLS) (*http.Transport, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.Insecure, ServerName: t.ServerName} //nolint:gosec // Insecure is the admin's explicit choice
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.ClientCert != "" {
		cert, err := certfile.LoadClient(t.ClientCert, t.ClientKey, t.Setting, c.opts.Log)
		if err != nil {
			return nil, err
		}
		cfg.GetClientCertificate = cert.GetClientCertificate
	}
	d := &net.Dialer{Timeout: c.opts.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c.dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     cfg,
		TLSHandshakeTimeout: c.opts.ConnectTimeout,
		MaxIdleConns:        0, // no global cap: the per-host cap bounds it
		MaxIdleConnsPerHost: c.opts.MaxIdlePerHost,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}, nil
}

// Dials counts the TCP connections opened so far: in steady state it should
// not grow, because connections are kept alive and reused.
func (c *Client) Dials() int64 { return c.dials.Load() }

// CloseIdle closes idle connections (on shutdown, and in tests).
func (c *Client) CloseIdle() {
	for _, t := range c.transports {
		t.CloseIdleConnections()
	}
}

func (c *Client) httpClient(u string) *http.Client {
	if len(c.clients) > 1 {
		if pu, err := url.Parse(u); err == nil {
			if hc, ok := c.clients[pu.Host]; ok {
				return hc
			}
		}
	}
	return c.clients[""]
}

// TransportError is a call that got no XML-RPC answer: the connection
// failed, the server answered with an HTTP error, or its body was not
// XML-RPC.
type TransportError struct {
	URL    string
	Status int // HTTP status when there was one
	Err    error
}

func (e *TransportError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: HTTP %d: %v", e.URL, e.Status, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.URL, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Call calls method on the server at url and returns its value raw. A fault
// is returned as a *rpc.Fault, anything else that failed as a
// *TransportError (which wraps context errors, so errors.Is works).
func (c *Client) Call(ctx context.Context, u, method string, params []any) (xmlrpc.Raw, error) {
	return call(ctx, c, u, method, params, nil, nil, xmlrpc.DecodeResponseRaw)
}

// CallValue is Call with the value decoded into plain Go values.
func (c *Client) CallValue(ctx context.Context, u, method string, params []any) (any, error) {
	return call(ctx, c, u, method, params, nil, nil, xmlrpc.DecodeResponse)
}

func call[T any](ctx context.Context, c *Client, u, method string, params []any, shared *fanout.Shared, answers *fanout.Answers, decode func([]byte, xmlrpc.Limits) (T, error)) (T, error) {
	var zero T
	body, err := c.roundTrip(ctx, u, method, params, shared, answers)
	if err != nil {
		return zero, err
	}
	v, err := decode(body, xmlrpc.Limits{MaxBytes: int(c.opts.MaxResponseBytes)})
	var f *rpc.Fault
	if errors.As(err, &f) {
		return zero, f
	}
	if err != nil {
		return zero, &TransportError{URL: u, Err: fmt.Errorf("bad XML-RPC response: %w", err)}
	}
	return v, nil
}

func (c *Client) roundTrip(ctx context.Context, u, method string, params []any, shared *fanout.Shared, answers *fanout.Answers) ([]byte, error) {
	body, err := encode(method, params, shared)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return nil, &TransportError{URL: u, Err: err}
	}
	req.Body, req.GetBody, req.ContentLength = body.reader()
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	// The call's span (adapters/tracing), when it is traced: the server's
	// own tracing, or a proxy's, continues the trace. Nothing otherwise.
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := c.httpClient(u).Do(req)
	if err != nil {
		return nil, &TransportError{URL: u, Err: err}
	}
	defer resp.Body.Close()
	data, err := c.readBody(resp, answers)
	if err != nil {
		return nil, &TransportError{URL: u, Status: statusIfError(resp), Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &TransportError{URL: u, Status: resp.StatusCode, Err: fmt.Errorf("%s", snippet(data))}
	}
	return data, nil
}

// callBody is a methodCall as the parts it is sent in: own holds this
// call's head, own parameters and tail (in one pooled buffer); shared,
// when set, is the encoding of the parameters a fan-out's calls have in
// common (xmlrpc.AppendParamsSegments: its large strings and raw values
// referenced, not copied), sent between them and never copied per target.
type callBody struct {
	own    []byte
	split  int // own[:split] goes before shared, own[split:] after
	shared []xmlrpc.Segment
}

// encode writes the call: whole, or around the shared part. Its buffer
// is allocated at about the size it needs (xmlrpc.SizeHint), not taken
// from a pool of 64 KiB buffers: a 500-server fan-out holds 500 request
// bodies at once, of a few hundred bytes each, and pooled buffers made
// them 32 MB, more than the answers in flight (issue 19).
func encode(method string, params []any, shared *fanout.Shared) (callBody, error) {
	const frame = 128 // the XML declaration, methodCall and params tags
	if shared == nil || shared.From > len(params) {
		b, err := xmlrpc.AppendCall(make([]byte, 0, frame+len(method)+xmlrpc.SizeHint(params...)), method, params...)
		return callBody{own: b, split: len(b)}, err
	}
	sp, err := shared.Encoded(func() (any, error) {
		_, segs, err := xmlrpc.AppendParamsSegments(nil, params[shared.From:]...)
		return segs, err
	})
	if err != nil {
		return callBody{}, err
	}
	own := params[:shared.From]
	b := xmlrpc.AppendCallHead(make([]byte, 0, frame+len(method)+xmlrpc.SizeHint(own...)), method)
	if b, err = xmlrpc.AppendParams(b, own...); err != nil {
		return callBody{}, err
	}
	split := len(b)
	return callBody{own: xmlrpc.AppendCallTail(b), split: split, shared: sp.([]xmlrpc.Segment)}, nil
}

// reader is the request body, its GetBody (the transport resends a
// request whose reused connection failed) and its length. A body without
// shared parts is a *bytes.Reader, which net/http knows is in memory: it
// sends the headers and the body in one write. A body with shared parts
// is a segmentReader, written piece by piece (see WriteTo).
func (b callBody) reader() (io.ReadCloser, func() (io.ReadCloser, error), int64) {
	n := int64(len(b.own))
	for _, s := range b.shared {
		n += int64(s.Len())
	}
	open := func() (io.ReadCloser, error) {
		if len(b.shared) == 0 {
			return io.NopCloser(bytes.NewReader(b.own)), nil
		}
		segs := make([]xmlrpc.Segment, 0, len(b.shared)+2)
		segs = append(segs, xmlrpc.Segment{B: b.own[:b.split]})
		segs = append(segs, b.shared...)
		return &segmentReader{segs: append(segs, xmlrpc.Segment{B: b.own[b.split:]})}, nil
	}
	r, _ := open()
	return r, open, n
}

// segmentReader reads segments in order. Its WriteTo writes each one
// where it lies: io.MultiReader's WriteTo would allocate a 32 KiB buffer
// per request and copy through it (a 500-server fan-out: 16 MB of garbage).
type segmentReader struct {
	segs []xmlrpc.Segment
	off  int // into segs[0]
}

func (r *segmentReader) Read(p []byte) (int, error) {
	n := 0
	for len(r.segs) > 0 && n < len(p) {
		s := r.segs[0]
		var c int
		if s.S != "" {
			c = copy(p[n:], s.S[r.off:])
		} else {
			c = copy(p[n:], s.B[r.off:])
		}
		n += c
		if r.off += c; r.off == s.Len() {
			r.segs, r.off = r.segs[1:], 0
		}
	}
	if n == 0 && len(r.segs) == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (r *segmentReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for len(r.segs) > 0 {
		s := r.segs[0]
		var n int
		var err error
		if s.S != "" {
			n, err = io.WriteString(w, s.S[r.off:])
		} else {
			n, err = w.Write(s.B[r.off:])
		}
		total += int64(n)
		if r.off += n; r.off == s.Len() {
			r.segs, r.off = r.segs[1:], 0
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (r *segmentReader) Close() error { return nil }

func statusIfError(resp *http.Response) int {
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode
	}
	return 0
}

// readBody reads the whole response, sized by Content-Length when the
// server sent one (into the fan-out's arena when it has one), and refuses
// one over the limit.
func (c *Client) readBody(resp *http.Response, answers *fanout.Answers) ([]byte, error) {
	limit := c.opts.MaxResponseBytes
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("response of %d bytes is over the %d byte limit", resp.ContentLength, limit)
	}
	if resp.ContentLength >= 0 {
		b := answers.Alloc(int(resp.ContentLength))
		if b == nil {
			b = make([]byte, resp.ContentLength)
		}
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return nil, fmt.Errorf("reading response: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("response is over the %d byte limit", limit)
	}
	return b, nil
}

func snippet(b []byte) string {
	const n = 200
	b = bytes.TrimSpace(b)
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	if len(b) == 0 {
		return "empty body"
	}
	return string(b)
}

func callRaw(ctx context.Context, c *Client, fc fanout.Call) (xmlrpc.Raw, error) {
	return call(ctx, c, fc.Target.URL, fc.Method, fc.Params, fc.Shared, fc.Answers, xmlrpc.DecodeResponseRaw)
}

// Invoke is the fan-out engine's base Invoker: one attempt at one call,
// its value left raw.
func (c *Client) Invoke(ctx context.Context, call fanout.Call) fanout.Result {
	r := fanout.Result{Target: call.Target, Attempts: 1}
	v, err := callRaw(ctx, c, call)
	var f *rpc.Fault
	switch {
	case errors.As(err, &f):
		r.Fault = f
	case err != nil:
		r.Err = err
	default:
		r.Value = v
	}
	return r
}
