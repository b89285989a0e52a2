package gateway

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// CodeThrottled: too many failed logins for this user or from this
// client; nothing was sent to the hub.
const CodeThrottled = 4111

// LoginThrottle tunes how failed logins are throttled (issue 12): each
// user name and each client address may fail Burst times in a row, then
// once every Every. Successful logins cost nothing, so scripts that log in
// often are not slowed; guessing passwords is.
type LoginThrottle struct {
	Burst int // 0: no throttling
	Every time.Duration
}

type clientKey struct{}

// WithClient records who the request behind ctx came from (an edge's
// opaque client string, such as its address), for login throttling and
// logs.
func WithClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

// Client is the client string an edge recorded with WithClient.
func Client(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(string)
	return c
}

// maxThrottled bounds the limiters kept; past it, the ones that have
// refilled (they would behave as new ones) are dropped.
const maxThrottled = 10_000

// throttle keeps one token bucket (x/time/rate) per user and per client.
type throttle struct {
	set     LoginThrottle
	mu      sync.Mutex
	buckets map[string]*rate.Limiter // "u:" + user, "c:" + client
}

func newThrottle(set LoginThrottle) *throttle {
	if set.Burst <= 0 {
		return nil
	}
	if set.Every <= 0 {
		set.Every = 6 * time.Second
	}
	return &throttle{set: set, buckets: map[string]*rate.Limiter{}}
}

func (t *throttle) keys(user, client string) []string {
	ks := []string{"u:" + user}
	if client != "" {
		ks = append(ks, "c:"+client)
	}
	return ks
}

// allowed refuses a login whose user or client has no failure left.
func (t *throttle) allowed(user, client string) *rpc.Fault {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	for _, k := range t.keys(user, client) {
		if b := t.buckets[k]; b != nil && b.TokensAt(now) < 1 {
			wait := time.Duration((1 - b.TokensAt(now)) * float64(t.set.Every)).Round(time.Second)
			return rpc.Faultf(CodeThrottled, "hubgw: too many failed logins for this user or from this address; try again in %s", max(wait, time.Second))
		}
	}
	return nil
}

// failed takes one failure from the user's and the client's buckets.
func (t *throttle) failed(user, client string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if len(t.buckets) >= maxThrottled {
		for k, b := range t.buckets {
			if b.TokensAt(now) >= float64(t.set.Burst) {
				delete(t.buckets, k)
			}
		}
	}
	for _, k := range t.keys(user, client) {
		b := t.buckets[k]
		if b == nil {
			b = rate.NewLimiter(rate.Every(t.set.Every), t.set.Burst)
			t.buckets[k] = b
		}
		b.AllowN(now, 1)
	}
}
