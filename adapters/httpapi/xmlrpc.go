// Package httpapi wires hubgw's HTTP surface with echo: the XML-RPC
// endpoints, health and readiness, and metrics.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Dialect answers decoded calls: hub-xmlrpc-api's (adapters/hubapi).
type Dialect interface {
	Handle(ctx context.Context, method string, params []any) (any, error)
}

// Targeted answers decoded calls aimed at a target spec: a stock Uyuni
// client's (adapters/spacecmd).
type Targeted interface {
	Handle(ctx context.Context, spec, method string, params []any) (any, error)
}

// XMLRPC serves XML-RPC over HTTP. Every error is an XML-RPC fault sent with
// HTTP 200, as Uyuni does, so clients always get something they can parse.
type XMLRPC struct {
	h        Dialect
	targeted Targeted
	maxBody  int64
	timeout  time.Duration
	log      *slog.Logger
	bufs     xmlrpc.Buffers
}

// NewXMLRPC serves h, and targeted for requests that name a target (see
// target.go), refusing request bodies over maxBody bytes and bounding each
// call by timeout.
func NewXMLRPC(h Dialect, targeted Targeted, maxBody int64, timeout time.Duration, log *slog.Logger) *XMLRPC {
	if maxBody <= 0 {
		maxBody = 16 << 20
	}
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	x := &XMLRPC{h: h, targeted: targeted, maxBody: maxBody, timeout: timeout, log: log}
	return x
}

// Serve is the echo handler for POST <path>.
func (x *XMLRPC) Serve(c echo.Context) error {
	start := time.Now()
	body, err := ReadBody(c, x.maxBody)
	// ReadBody noted the body's size in ctx; answers the handler holds
	// (gateway.HoldAnswers) are given back once the answer is written.
	ctx, answers := gateway.WithReleases(c.Request().Context())
	var method string
	var segs [][]byte
	bp := x.bufs.Get()
	out := *bp
	defer func() {
		clear(segs) // the pool must not keep upstream responses alive
		x.bufs.Put(bp, out)
		answers.Release()
	}()
	var mbe *http.MaxBytesError
	var f *rpc.Fault
	switch {
	case errors.As(err, &mbe):
		f = rpc.Faultf(gateway.CodeTooLarge, "hubgw: request body over the %d byte limit", x.maxBody)
	case err != nil:
		f = rpc.Faultf(gateway.CodeInvalidRequest, "hubgw: reading request: %v", err)
	default:
		spec, aimed := c.Get(targetKey).(string)
		out, segs, f = x.answer(ctx, spec, aimed, body, &method, out)
	}
	access := gateway.AccessOf(ctx)
	access.NoteMethod(method)
	if f != nil { // every fault is rendered here
		access.NoteFault(f.Code)
		out, segs = xmlrpc.AppendFault(out, f), nil
	}
	if segs == nil {
		segs = [][]byte{out}
	}
	n := 0
	for _, s := range segs {
		n += len(s)
	}
	x.log.DebugContext(ctx, "xmlrpc", "method", method, "took", time.Since(start), "bytes_out", n)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/xml; charset=UTF-8")
	h.Set(echo.HeaderContentLength, strconv.Itoa(n))
	c.Response().WriteHeader(http.StatusOK)
	for _, s := range segs {
		if _, err := c.Response().Write(s); err != nil {
			return err
		}
	}
	return nil
}

// ReadBody reads a request body of at most max bytes (an
// *http.MaxBytesError past it), for every door, and tells the gateway its
// size (gateway.WithRequestBytes: the in-flight budget). With a
// Content-Length it reads into one buffer of that size: io.ReadAll grows
// by doubling, which for a large body costs up to twice its size in
// garbage (issue 12, H2).
func ReadBody(c echo.Context, max int64) ([]byte, error) {
	req := c.Request()
	r := http.MaxBytesReader(c.Response(), req.Body, max)
	var b []byte
	var err error
	if n := req.ContentLength; n > max {
		return nil, &http.MaxBytesError{Limit: max}
	} else if n > 0 {
		b = make([]byte, n)
		_, err = io.ReadFull(r, b)
	} else {
		b, err = io.ReadAll(r)
	}
	if err != nil {
		return nil, err
	}
	c.SetRequest(req.WithContext(gateway.WithRequestBytes(req.Context(), int64(len(b)))))
	return b, nil
}

// answer returns the response document as segments (see
// xmlrpc.AppendResponseSegments: upstream responses are written from where
// they were read, not copied), or nil segments and the document in dst.
func (x *XMLRPC) answer(ctx context.Context, spec string, aimed bool, body []byte, method *string, dst []byte) ([]byte, [][]byte, *rpc.Fault) {
	call, err := xmlrpc.DecodeCallOwned(body, xmlrpc.Limits{MaxBytes: int(x.maxBody)}) // body is this request's alone (ReadBody)
	if err != nil {
		return dst, nil, rpc.Faultf(gateway.CodeParse, "hubgw: %v", err)
	}
	*method = call.Method
	ctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	var v any
	if aimed {
		v, err = x.targeted.Handle(ctx, spec, call.Method, call.Params)
	} else {
		v, err = x.h.Handle(ctx, call.Method, call.Params)
	}
	if err != nil {
		return dst, nil, gateway.AsFault(err)
	}
	out, segs, err := xmlrpc.AppendResponseSegments(dst, nil, v)
	if err != nil {
		return dst, nil, rpc.Faultf(gateway.CodeInternal, "hubgw: encoding the answer to %s: %v", call.Method, err)
	}
	return out, segs, nil
}

// NotAllowed answers a GET on an XML-RPC path the way a person can read.
func NotAllowed(c echo.Context) error {
	return c.String(http.StatusMethodNotAllowed, fmt.Sprintf("XML-RPC endpoint: POST a methodCall to %s\n", c.Path()))
}
