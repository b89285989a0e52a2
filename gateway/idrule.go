package gateway

import (
	"context"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// IDRule is the wrapper that keeps server-local ids from fanning out.
// System, channel, action, org... ids number different objects on each
// server: system 1000010001 on one peripheral is another machine, or
// nothing, on the next. A request to a set of targets whose shared
// arguments carry such an id (by the parameter names of Uyuni's API, for
// the overload Uyuni would pick) is refused with CodeServerLocalID before
// anything is sent; a method the API catalog does not know is refused
// when any argument is a number. Per-target arguments (hub-xmlrpc-api's
// multicast) are the client's choice for each server and pass.
func (g *Gateway) IDRule() Wrapper {
	return func(next Handler) Handler {
		return func(ctx context.Context, req Request) (Outcome, error) {
			if req.PerTarget || (!req.Many && len(req.Targets) <= 1) {
				return next(ctx, req)
			}
			session := !req.NoSession
			switch p := g.api.LocalID(req.Method, session, req.args(0)); {
			case p == "":
				return next(ctx, req)
			case !g.api.Known(req.Method):
				return Outcome{}, rpc.Faultf(CodeServerLocalID, "hubgw: %s is not in the gateway's API catalog, so it cannot tell whether %s is an id, which would name a different object on each server; call it for one peripheral, not for many targets", req.Method, p)
			default:
				return Outcome{}, rpc.Faultf(CodeServerLocalID, "hubgw: %s takes %s, an id that names a different object on each server; call it for one peripheral, not for many targets", req.Method, p)
			}
		}
	}
}
