package rest

import (
	"sync"
	"time"

	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
)

// Last is the last call the gateway made to one server.
type Last struct {
	Outcome   string // fanout.Kind
	At        time.Time
	Duration  time.Duration
	FaultCode int // when not ok
}

// Health remembers the last call to each server, for GET
// /api/v1/peripherals. It is a fanout.Observer: put it in the engine's
// stack with fanout.Observe.
type Health struct {
	now  func() time.Time
	mu   sync.Mutex
	last map[string]Last // by target key
}

// NewHealth returns an empty Health.
func NewHealth() *Health {
	return &Health{now: time.Now, last: map[string]Last{}}
}

// Started is part of fanout.Observer.
func (h *Health) Started(fanout.Call) {}

// Finished records r as c's server's last call.
func (h *Health) Finished(c fanout.Call, r fanout.Result) {
	l := Last{Outcome: fanout.Kind(r), At: h.now(), Duration: r.Duration}
	if !r.OK() {
		l.FaultCode = gateway.Fault(r).Code
	}
	h.mu.Lock()
	h.last[c.Target.Key()] = l
	h.mu.Unlock()
}

// Last returns the last call to the server with this target key.
func (h *Health) Last(key string) (Last, bool) {
	if h == nil {
		return Last{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.last[key]
	return l, ok
}
