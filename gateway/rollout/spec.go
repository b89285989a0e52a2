// Package rollout runs a change over many servers in stages: a canary
// first, then waves, at most so many servers at once and so many of a
// group, halting when a failure budget over the whole rollout (and,
// optionally, within one wave) is spent. A halted or paused rollout is
// resumed (with a larger budget, if need be), its failed servers retried
// as a new attempt in the same record, or aborted; there is no automatic
// rollback, since Uyuni has no undo.
//
// What one server's step does is not this package's business: a Step
// applies the rollout's documents to one server and reports its outcome
// (the desired-state engine's apply, which re-reads before it writes, so
// a step run twice does no harm). The controller decides which server runs
// when, records every decision in the state store, and survives its
// replica: with Redis a rollout is owned under a lease, and when the owner
// dies another replica takes it over, with a higher epoch that makes the
// old owner's late writes fail; servers the old owner had started without
// recording an outcome are in doubt, and run again.
package rollout

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hubgw/hubgw/gateway/target"
)

// Status is a rollout's state.
type Status string

const (
	Running   Status = "running"
	Paused    Status = "paused" // waiting for resume (after the canary, or credentials)
	Halted    Status = "halted" // a failure budget is spent
	Succeeded Status = "succeeded"
	// CompletedWithFailures: every server ran, some failed within the budget
	// (or were set aside as unreachable).
	CompletedWithFailures Status = "completed-with-failures"
	Aborted               Status = "aborted"
)

// Active reports whether the rollout may still run servers.
func (s Status) Active() bool { return s == Running || s == Paused || s == Halted }

// ServerStatus is one server's state in a rollout.
type ServerStatus string

const (
	Pending     ServerStatus = "pending"
	InFlight    ServerStatus = "running"
	Done        ServerStatus = "succeeded"
	Failed      ServerStatus = "failed"
	Unreachable ServerStatus = "unreachable"
	Deferred    ServerStatus = "deferred" // unreachable, set aside for a retry
	Skipped     ServerStatus = "skipped"  // not run: the rollout was aborted
	InDoubt     ServerStatus = "in-doubt" // started by an owner that died before recording it
)

// failure reports whether a server's status counts against the budget.
func (s ServerStatus) failure() bool { return s == Failed || s == Unreachable }

// Amount is a count ("3") or a percentage of all targets ("10%").
type Amount string

// Of resolves the amount against n targets: a percentage rounds up, so
// "10%" of 5 is 1. "" is 0.
func (a Amount) Of(n int) (int, error) {
	s := strings.TrimSpace(string(a))
	if s == "" {
		return 0, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f < 0 || f > 100 {
			return 0, fmt.Errorf("%q is not a percentage from 0%% to 100%%", s)
		}
		return int(math.Ceil(f * float64(n) / 100)), nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a count or a percentage", s)
	}
	return v, nil
}

// Spec is what a rollout is asked to do.
type Spec struct {
	User string `json:"user"`
	// Session is the gateway session the steps run with, as the caller
	// passes it (sealed, with a shared store: the record is in Redis and a
	// replica that takes the rollout over needs it); the owner keeps it
	// alive, and the rollout pauses (reason "credentials") when it is gone.
	Session string `json:"session,omitempty"`
	// Documents are what the steps apply, kept so a replica that takes the
	// rollout over can run them. DocumentsHash binds the rollout to them:
	// a changed document is a new rollout. Objects name what it touches
	// ("kind/name"), so two active rollouts touching the same object on
	// the same server are refused.
	Documents     json.RawMessage `json:"documents,omitempty"`
	DocumentsHash string          `json:"documentsHash"`
	Objects       []string        `json:"objects,omitempty"`
	Targets       []target.Target `json:"targets"` // in order
	// Groups maps a target key to the groups it is in, for GroupSlots.
	Groups map[string][]string `json:"groups,omitempty"`

	Canary int `json:"canary"` // servers in the first wave; default 1; zero tolerance
	// Waves sizes the waves after the canary: counts or percentages of all
	// targets; the last repeats until every server is done. Default: all
	// the rest in one wave.
	Waves       []Amount       `json:"waves,omitempty"`
	Concurrency int            `json:"concurrency"` // servers at once in a wave; default 10
	GroupSlots  map[string]int `json:"groupSlots,omitempty"`
	// MaxFailures is the budget over the whole rollout (default 0: the
	// first failure halts); MaxWaveFailures, optional, a percentage per wave.
	MaxFailures      Amount        `json:"maxFailures,omitempty"`
	MaxWaveFailures  Amount        `json:"maxWaveFailures,omitempty"`
	PauseAfterCanary bool          `json:"pauseAfterCanary,omitempty"`
	PauseBetween     time.Duration `json:"pauseBetween,omitempty"`
	// DeferUnreachable sets unreachable servers aside for a retry instead
	// of counting them as failures.
	DeferUnreachable bool `json:"deferUnreachable,omitempty"`
	// Synchronous: an apply its caller waits for (Wait), not a staged
	// rollout: the first wave is no canary (its failures count against
	// MaxFailures like any wave's), and nothing is said about memory.
	Synchronous bool `json:"synchronous,omitempty"`
}

// waves splits n ordered targets into waves of indexes: the canary, then
// the sizes of spec.Waves, the last repeating.
func (s Spec) waves() ([][]int, error) {
	n := len(s.Targets)
	canary := s.Canary
	if canary <= 0 {
		canary = 1
	}
	var out [][]int
	next := 0
	take := func(k int) {
		k = max(1, min(k, n-next))
		w := make([]int, k)
		for i := range w {
			w[i] = next + i
		}
		out = append(out, w)
		next += k
	}
	take(canary)
	sizes := s.Waves
	if len(sizes) == 0 {
		sizes = []Amount{Amount(strconv.Itoa(max(n, 1)))}
	}
	for i := 0; next < n; i++ {
		k, err := sizes[min(i, len(sizes)-1)].Of(n)
		if err != nil {
			return nil, fmt.Errorf("waves[%d]: %w", min(i, len(sizes)-1), err)
		}
		take(k)
	}
	return out, nil
}

// Validate says what is wrong with a spec, all at once.
func (s Spec) Validate() error {
	var errs []string
	if len(s.Targets) == 0 {
		errs = append(errs, "targets: none")
	}
	if s.User == "" {
		errs = append(errs, "user: none")
	}
	if s.Concurrency < 0 || s.Canary < 0 {
		errs = append(errs, "canary and concurrency must not be negative")
	}
	for i, w := range s.Waves {
		if k, err := w.Of(len(s.Targets)); err != nil {
			errs = append(errs, fmt.Sprintf("waves[%d]: %v", i, err))
		} else if k == 0 {
			errs = append(errs, fmt.Sprintf("waves[%d]: a wave of no servers", i))
		}
	}
	for name, a := range map[string]Amount{"maxFailures": s.MaxFailures, "maxWaveFailures": s.MaxWaveFailures} {
		if _, err := a.Of(len(s.Targets)); err != nil {
			errs = append(errs, name+": "+err.Error())
		}
	}
	for g, n := range s.GroupSlots {
		if n <= 0 {
			errs = append(errs, fmt.Sprintf("groupSlots[%s]: must be at least 1", g))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(errs, "; "))
	}
	return nil
}
