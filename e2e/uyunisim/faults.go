package uyunisim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Faults are failures injected into one server's XML-RPC endpoint
// (POST /rpc/api). The /sim control endpoints are never affected, except by
// Down, which takes the whole port away.
//
// When several are set, Latency is served first, then the first of Down,
// Hang, HTTP500, Garbage, FailMethod applies; Truncated cuts whatever answer
// results (the real one or a FailMethod fault).
type Faults struct {
	Latency time.Duration // added before every answer
	Jitter  time.Duration // up to this much more, uniformly random
	// Down closes the listener: new connections are refused and open ones
	// are cut. Clearing it listens again on the same port.
	Down bool
	// Hang reads requests and never answers, until the client goes away or
	// the simulator closes.
	Hang    bool
	HTTP500 bool // HTTP 500 with a Tomcat-like HTML page
	Garbage bool // HTTP 200, text/xml, with a body that is not XML
	// Truncated sends the answer's headers (with the full Content-Length)
	// and half its body, then closes the connection.
	Truncated bool
	// FailMethod answers these methods ("system.listSystems") with the given
	// fault instead of running them.
	FailMethod map[string]*rpc.Fault
	// FailAfter lets a method succeed After times, then answers every
	// further call with Fault: a failure in the middle of a sequence of
	// writes. The count starts when the faults are set.
	FailAfter map[string]FailAfter
	// DropAnswer runs these methods (the server changes) and then closes
	// the connection without answering.
	DropAnswer []string
	// DownFor, with Down, brings the server back by itself after this long.
	DownFor time.Duration
	// ActionFailure is the fraction (0 to 1) of systems on which a scheduled
	// action fails once Config.ActionDelay has passed; which ones is decided
	// by a hash of the action and system ids, the same way every time.
	ActionFailure float64
}

// FailAfter is a fault that starts after some successful calls.
type FailAfter struct {
	After int
	Fault *rpc.Fault
}

// IsZero reports whether no fault is set.
func (f Faults) IsZero() bool {
	return f.Latency == 0 && f.Jitter == 0 && !f.Down && !f.Hang && !f.HTTP500 &&
		!f.Garbage && !f.Truncated && len(f.FailMethod) == 0 && f.ActionFailure == 0 &&
		len(f.FailAfter) == 0 && len(f.DropAnswer) == 0 && f.DownFor == 0
}

// clone copies f so that later changes to the caller's map do not leak in.
func (f Faults) clone() *Faults {
	f.FailMethod = maps.Clone(f.FailMethod)
	f.FailAfter = maps.Clone(f.FailAfter)
	f.DropAnswer = slices.Clone(f.DropAnswer)
	return &f
}

// faultsJSON is the wire form of Faults on the control endpoint.
type faultsJSON struct {
	LatencyMS     float64                  `json:"latency_ms"`
	JitterMS      float64                  `json:"jitter_ms"`
	Down          bool                     `json:"down"`
	Hang          bool                     `json:"hang"`
	HTTP500       bool                     `json:"http500"`
	Garbage       bool                     `json:"garbage"`
	Truncated     bool                     `json:"truncated"`
	FailMethod    map[string]faultJSON     `json:"fail_method,omitempty"`
	FailAfter     map[string]failAfterJSON `json:"fail_after,omitempty"`
	DropAnswer    []string                 `json:"drop_answer,omitempty"`
	DownForMS     float64                  `json:"down_for_ms,omitempty"`
	ActionFailure float64                  `json:"action_failure,omitempty"`
}

type faultJSON struct {
	Code   int    `json:"code"`
	String string `json:"string"`
}

type failAfterJSON struct {
	After  int    `json:"after"`
	Code   int    `json:"code"`
	String string `json:"string"`
}

// MarshalJSON writes the control endpoint's form, e.g.
// {"latency_ms":20,"down":false,"fail_method":{"system.listSystems":{"code":-1,"string":"..."}}}.
func (f Faults) MarshalJSON() ([]byte, error) {
	j := faultsJSON{
		LatencyMS: ms(f.Latency), JitterMS: ms(f.Jitter),
		Down: f.Down, Hang: f.Hang, HTTP500: f.HTTP500, Garbage: f.Garbage, Truncated: f.Truncated,
		ActionFailure: f.ActionFailure, DownForMS: ms(f.DownFor), DropAnswer: f.DropAnswer,
	}
	if len(f.FailAfter) > 0 {
		j.FailAfter = make(map[string]failAfterJSON, len(f.FailAfter))
		for m, fa := range f.FailAfter {
			j.FailAfter[m] = failAfterJSON{After: fa.After, Code: fa.Fault.Code, String: fa.Fault.String}
		}
	}
	if len(f.FailMethod) > 0 {
		j.FailMethod = make(map[string]faultJSON, len(f.FailMethod))
		for m, flt := range f.FailMethod {
			if flt != nil {
				j.FailMethod[m] = faultJSON{Code: flt.Code, String: flt.String}
			}
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the control endpoint's form. Unknown fields are
// rejected, so a typo ("latency": 20) fails loudly instead of injecting nothing.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	if j.LatencyMS < 0 || j.JitterMS < 0 {
		return fmt.Errorf("faults: negative latency or jitter")
	}
	if j.DownForMS < 0 || (j.DownForMS > 0 && !j.Down) {
		return fmt.Errorf("faults: down_for_ms needs down and a positive duration")
	}
	if j.ActionFailure < 0 || j.ActionFailure > 1 {
		return fmt.Errorf("faults: action_failure is a fraction from 0 to 1")
	}
	*f = Faults{
		Latency: fromMS(j.LatencyMS), Jitter: fromMS(j.JitterMS),
		Down: j.Down, Hang: j.Hang, HTTP500: j.HTTP500, Garbage: j.Garbage, Truncated: j.Truncated,
		ActionFailure: j.ActionFailure, DownFor: fromMS(j.DownForMS), DropAnswer: j.DropAnswer,
	}
	for m, fa := range j.FailAfter {
		if fa.After < 0 {
			return fmt.Errorf("faults: fail_after %s: negative count", m)
		}
		if f.FailAfter == nil {
			f.FailAfter = make(map[string]FailAfter, len(j.FailAfter))
		}
		f.FailAfter[m] = FailAfter{After: fa.After, Fault: &rpc.Fault{Code: fa.Code, String: fa.String}}
	}
	if len(j.FailMethod) > 0 {
		f.FailMethod = make(map[string]*rpc.Fault, len(j.FailMethod))
		for m, flt := range j.FailMethod {
			f.FailMethod[m] = &rpc.Fault{Code: flt.Code, String: flt.String}
		}
	}
	return nil
}

func ms(d time.Duration) float64     { return float64(d) / float64(time.Millisecond) }
func fromMS(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
