package httpapi

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"sync"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Go's HTTP server refuses a request whose path is not a valid URL path (a
// bad %-escape: /t/%ZZ/rpc/api) by itself, before any handler runs: it
// writes a plain-text 400 straight to the connection and closes it, and
// offers no hook to answer otherwise. The targeted door speaks XML-RPC,
// so its clients must read a fault, as they do for every other bad path
// under /t/ (BadTargetPath). FaultListener's connections recognise that
// exact answer as the server writes it and, when the request line it
// refused is under /t/, write an XML-RPC fault instead; every other byte
// passes through untouched.
//
// Plain HTTP only: under TLS, http.Server must see the *tls.Conn itself
// (its TLS state, HTTP/2), so nothing can sit between it and the bytes.

// goBadRequest is what net/http writes for a request it cannot parse
// (net/http/server.go, conn.serve).
const goBadRequest = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"

// FaultListener wraps l's connections as the comment above says.
func FaultListener(l net.Listener) net.Listener { return faultListener{l} }

type faultListener struct{ net.Listener }

func (l faultListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: c}, nil
}

type faultConn struct {
	net.Conn
	mu sync.Mutex
	// last is what the last Read returned, in the server's own read
	// buffer (not a copy: reads cost nothing more). The server fails a
	// request line right after reading it, before it reads again, so the
	// line is still there when the 400 is written.
	last []byte
}

func (c *faultConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.last = p[:n]
	c.mu.Unlock()
	return n, err
}

func (c *faultConn) Write(p []byte) (int, error) {
	if len(p) == len(goBadRequest) && string(p) == goBadRequest {
		c.mu.Lock()
		answer := badPathAnswer(c.last)
		c.mu.Unlock()
		if answer != nil {
			if _, err := c.Conn.Write(answer); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.Conn.Write(p)
}

// badPathAnswer finds, in what was read last, a request line under /t/
// whose path net/url refuses, and returns a complete HTTP answer with an
// XML-RPC fault that says so; nil if there is none (another parse error:
// Go's answer stands).
func badPathAnswer(read []byte) []byte {
	for line := range bytes.Lines(read) {
		method, rest, ok := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(" "))
		if !ok || len(method) == 0 {
			continue
		}
		target, proto, ok := bytes.Cut(rest, []byte(" "))
		if !ok || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || !bytes.HasPrefix(target, []byte("/t/")) {
			continue
		}
		_, err := url.ParseRequestURI(string(target))
		if err == nil {
			continue
		}
		p := string(target)
		if len(p) > 200 {
			p = p[:200] + "…"
		}
		body := xmlrpc.AppendFault(nil, rpc.Faultf(gateway.CodeUnknownServer,
			"hubgw: the path %q is not a valid URL path (a %% must begin an escape of two hex digits, such as %%2C); the targeted door is /t/<target>/rpc/api", p))
		head := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(body))
		return append(head, body...)
	}
	return nil
}
