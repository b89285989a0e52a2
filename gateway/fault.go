package gateway

import (
	"errors"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Faults are values: the core returns them, and each edge renders them in
// one place of its own (an XML-RPC fault, problem+json, a native-API
// answer).

// AsFault is the one error→fault function: the fault an error carries,
// else an internal error. Edges call it before rendering.
func AsFault(err error) *rpc.Fault {
	var f *rpc.Fault
	if errors.As(err, &f) {
		return f
	}
	return rpc.Faultf(CodeInternal, "hubgw: %v", err)
}

// Fault is the fault a client sees for a failed result: the upstream fault
// unchanged, or one of the gateway's codes naming the server.
func Fault(r fanout.Result) *rpc.Fault {
	if r.Fault != nil {
		return r.Fault
	}
	code := CodeUnreachable
	switch fanout.Kind(r) {
	case "timeout":
		code = CodeTimeout
	case "circuit_open":
		code = CodeCircuitOpen
	}
	if r.Target.Hub && code == CodeUnreachable {
		code = CodeHubUnreachable
	}
	return rpc.Faultf(code, "hubgw: %s: %v", r.Target, r.Err)
}

// storeFault is the fault for a failing session or job store: the state
// store being unreachable has its own code, so clients can tell it from a
// bug and retry.
func storeFault(err error) *rpc.Fault {
	if errors.Is(err, cache.ErrUnavailable) {
		return rpc.Faultf(CodeStateUnavailable, "hubgw: %v; try again shortly", err)
	}
	return rpc.Faultf(CodeInternal, "hubgw: session store: %v", err)
}

func badParams(format string, args ...any) *rpc.Fault {
	return rpc.Faultf(CodeBadParams, "hubgw: "+format, args...)
}

// BadParams is the fault for arguments of the wrong count, type or shape.
func BadParams(format string, args ...any) *rpc.Fault { return badParams(format, args...) }
