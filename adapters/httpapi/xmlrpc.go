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
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Handler answers decoded calls; *gateway.Gateway is one.
type Handler interface {
	Handle(ctx context.Context, method string, params []any) (any, error)
}

// XMLRPC serves XML-RPC over HTTP. Every error is an XML-RPC fault sent with
// HTTP 200, as Uyuni does, so clients always get something they can parse.
type XMLRPC struct {
	h       Handler
	maxBody int64
	log     *slog.Logger
	bufs    sync.Pool
}

// NewXMLRPC serves h, refusing request bodies over maxBody bytes.
func NewXMLRPC(h Handler, maxBody int64, log *slog.Logger) *XMLRPC {
	if maxBody <= 0 {
		maxBody = 16 << 20
	}
	x := &XMLRPC{h: h, maxBody: maxBody, log: log}
	x.bufs.New = func() any { b := make([]byte, 0, 64<<10); return &b }
	return x
}

// Serve is the echo handler for POST <path>.
func (x *XMLRPC) Serve(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	start := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, x.maxBody))
	var method string
	var out []byte
	bp := x.bufs.Get().(*[]byte)
	defer func() {
		*bp = out[:0]
		x.bufs.Put(bp)
	}()
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		out = xmlrpc.AppendFault((*bp)[:0], rpc.Faultf(gateway.CodeTooLarge, "hubgw: request body over the %d byte limit", x.maxBody))
	case err != nil:
		out = xmlrpc.AppendFault((*bp)[:0], rpc.Faultf(gateway.CodeInvalidRequest, "hubgw: reading request: %v", err))
	default:
		out = x.answer(ctx, body, &method, (*bp)[:0])
	}
	x.log.InfoContext(ctx, "xmlrpc", "method", method, "took", time.Since(start), "bytes_out", len(out))
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/xml; charset=UTF-8")
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(out)))
	c.Response().WriteHeader(http.StatusOK)
	_, err = c.Response().Write(out)
	return err
}

func (x *XMLRPC) answer(ctx context.Context, body []byte, method *string, dst []byte) []byte {
	call, err := xmlrpc.DecodeCall(body, xmlrpc.Limits{MaxBytes: int(x.maxBody)})
	if err != nil {
		return xmlrpc.AppendFault(dst, rpc.Faultf(gateway.CodeParse, "hubgw: %v", err))
	}
	*method = call.Method
	v, err := x.h.Handle(ctx, call.Method, call.Params)
	if err != nil {
		var f *rpc.Fault
		if !errors.As(err, &f) {
			f = rpc.Faultf(gateway.CodeInternal, "hubgw: %v", err)
		}
		return xmlrpc.AppendFault(dst, f)
	}
	out, err := xmlrpc.AppendResponse(dst, v)
	if err != nil {
		return xmlrpc.AppendFault(dst[:0], rpc.Faultf(gateway.CodeInternal, "hubgw: encoding the answer to %s: %v", call.Method, err))
	}
	return out
}

// NotAllowed answers a GET on an XML-RPC path the way a person can read.
func NotAllowed(c echo.Context) error {
	return c.String(http.StatusMethodNotAllowed, fmt.Sprintf("XML-RPC endpoint: POST a methodCall to %s\n", c.Path()))
}
