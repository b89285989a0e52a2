package gateway

import (
	"context"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// The in-flight budget bounds what requests may cost at once: a request
// weighs its body's size times the servers it goes to (what sending it
// holds, were nothing shared), so one huge broadcast, or many at once,
// is refused with a clear fault instead of growing the process until the
// kernel kills it (issue 12, H2). The edges tell the gateway a body's
// size when they read it.

type requestBytesKey struct{}

// WithRequestBytes records the size of the client request behind ctx.
func WithRequestBytes(ctx context.Context, n int64) context.Context {
	return context.WithValue(ctx, requestBytesKey{}, n)
}

func requestBytes(ctx context.Context) int64 {
	n, _ := ctx.Value(requestBytesKey{}).(int64)
	return n
}

// reserve takes req's weight from the budget, or refuses: past the whole
// budget for good, past what is left until other requests finish. It
// does not wait: the body is already in memory, and a queue of them is
// what the budget is there to prevent.
func (g *Gateway) reserve(ctx context.Context, req Request) (release func(), err error) {
	w := requestBytes(ctx) * int64(len(req.Targets))
	if g.inflight == nil || w <= 0 {
		return func() {}, nil
	}
	if w > g.o.InFlightBytes {
		return nil, rpc.Faultf(CodeInFlight, "hubgw: %s: a %d byte request to %d servers is over the gateway's in-flight budget of %d bytes; send it to fewer servers at a time", req.Method, requestBytes(ctx), len(req.Targets), g.o.InFlightBytes)
	}
	if !g.inflight.TryAcquire(w) {
		return nil, rpc.Faultf(CodeInFlight, "hubgw: %s: the gateway's in-flight budget (%d bytes) is taken by other requests; retry later", req.Method, g.o.InFlightBytes)
	}
	return func() { g.inflight.Release(w) }, nil
}
