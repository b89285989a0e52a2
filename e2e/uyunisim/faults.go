package uyunisim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
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
	// ActionFailure is the fraction (0 to 1) of systems on which a scheduled
	// action fails once Config.ActionDelay has passed; which ones is decided
	// by a hash of the action and system ids, the same way every time.
	ActionFailure float64
}

// IsZero reports whether no fault is set.
func (f Faults) IsZero() bool {
	return f.Latency == 0 && f.Jitter == 0 && !f.Down && !f.Hang && !f.HTTP500 &&
		!f.Garbage && !f.Truncated && len(f.FailMethod) == 0 && f.ActionFailure == 0
}

// clone copies f so that later changes to the caller's map do not leak in.
func (f Faults) clone() *Faults {
	f.FailMethod = maps.Clone(f.FailMethod)
	return &f
}

// faultsJSON is the wire form of Faults on the control endpoint.
type faultsJSON struct {
	LatencyMS     float64              `json:"latency_ms"`
	JitterMS      float64              `json:"jitter_ms"`
	Down          bool                 `json:"down"`
	Hang          bool                 `json:"hang"`
	HTTP500       bool                 `json:"http500"`
	Garbage       bool                 `json:"garbage"`
	Truncated     bool                 `json:"truncated"`
	FailMethod    map[string]faultJSON `json:"fail_method,omitempty"`
	ActionFailure float64              `json:"action_failure,omitempty"`
}

type faultJSON struct {
	Code   int    `json:"code"`
	String string `json:"string"`
}

// MarshalJSON writes the control endpoint's form, e.g.
// {"latency_ms":20,"down":false,"fail_method":{"system.listSystems":{"code":-1,"string":"..."}}}.
func (f Faults) MarshalJSON() ([]byte, error) {
	j := faultsJSON{
		LatencyMS: ms(f.Latency), JitterMS: ms(f.Jitter),
		Down: f.Down, Hang: f.Hang, HTTP500: f.HTTP500, Garbage: f.Garbage, Truncated: f.Truncated,
		ActionFailure: f.ActionFailure,
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
	if j.ActionFailure < 0 || j.ActionFailure > 1 {
		return fmt.Errorf("faults: action_failure is a fraction from 0 to 1")
	}
	*f = Faults{
		Latency: fromMS(j.LatencyMS), Jitter: fromMS(j.JitterMS),
		Down: j.Down, Hang: j.Hang, HTTP500: j.HTTP500, Garbage: j.Garbage, Truncated: j.Truncated,
		ActionFailure: j.ActionFailure,
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
