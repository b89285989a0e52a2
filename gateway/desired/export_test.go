package desired

import (
	"context"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway/target"
)

// PlanCall sends one method through a planning server's invoker.
func PlanCall(ctx context.Context, e *Engine, s *auth.Session, t target.Target, method string, args ...any) (any, error) {
	return e.server(s, t, true).call(ctx, method, args...)
}
