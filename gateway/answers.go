package gateway

import (
	"context"
	"sync"

	"github.com/hubgw/hubgw/gateway/fanout"
)

// A request that asks for it (Request.Arena: hub-xmlrpc-api's broadcast,
// multicast, unicast and passthrough, spacecmd at one server) reads its
// answers into an arena (fanout.Answers; for one server, a pooled buffer)
// whose memory the next request reuses once the client's answer is written.
// Who may give it back is narrow on purpose: the edge that writes the
// answer (WithReleases, Release), and only the arenas a handler hands it,
// on the request's own goroutine, for an answer built from that outcome
// (HoldAnswers). Work that outlives the request (a rollout, a shared
// cache fill) never hands its arenas over, so their memory is never
// reused under it.

type releasesKey struct{}

// Releases holds the arenas of one client request until its edge has
// written the answer.
type Releases struct {
	mu sync.Mutex
	as []*fanout.Answers
}

// WithReleases gives a client request a place for its arenas; the edge
// calls Release once its answer is written.
func WithReleases(ctx context.Context) (context.Context, *Releases) {
	r := &Releases{}
	return context.WithValue(ctx, releasesKey{}, r), r
}

// HoldAnswers hands out's arena to the request's edge, to be given back
// after the answer is written. Call it only from the request's handler,
// for an outcome the client's answer is built from.
func HoldAnswers(ctx context.Context, out Outcome) {
	r, ok := ctx.Value(releasesKey{}).(*Releases)
	if !ok || out.Answers == nil {
		return
	}
	r.mu.Lock()
	r.as = append(r.as, out.Answers)
	r.mu.Unlock()
}

// Release gives back the arenas held: nothing read into them may be used
// from now on.
func (r *Releases) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.as {
		a.Release()
	}
	r.as = nil
}
