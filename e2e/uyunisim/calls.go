package uyunisim

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Outcomes of a call, as CallRecord.Outcome reports them.
const (
	OutcomeOK            = "ok"             // a value was sent
	OutcomeFault         = "fault"          // Uyuni (or the simulator) answered a fault
	OutcomeInjectedFault = "injected-fault" // Faults.FailMethod answered
	OutcomeHTTP500       = "http500"
	OutcomeGarbage       = "garbage"
	OutcomeTruncated     = "truncated"
	OutcomeHang          = "hang"     // never answered; recorded when the client gave up or the simulator closed
	OutcomeCanceled      = "canceled" // the client went away during the injected latency
	OutcomeDropped       = "dropped"  // Faults.DropAnswer: run, then the connection closed unanswered
)

// Redacted replaces passwords in recorded parameters.
const Redacted = "********"

// CallRecord is one request to a server's XML-RPC endpoint.
type CallRecord struct {
	Server string
	Method string // empty if the request could not be decoded
	// Params as decoded (strings trimmed); the password of auth.login, any
	// parameter whose Java name contains "password" and any struct member so
	// named are replaced by Redacted. Session keys are kept: tests may want to
	// check which key reached which server.
	Params   []any
	Outcome  string
	Fault    *rpc.Fault // set for OutcomeFault and OutcomeInjectedFault
	Start    time.Time
	Duration time.Duration
	// TraceParent is the request's W3C traceparent header, if it had one:
	// the trace the caller's span belongs to.
	TraceParent string
}

// MarshalJSON is the form GET /sim/calls returns.
func (c CallRecord) MarshalJSON() ([]byte, error) {
	j := struct {
		Server      string  `json:"server"`
		Method      string  `json:"method"`
		Params      []any   `json:"params"`
		Outcome     string  `json:"outcome"`
		FaultCode   *int    `json:"fault_code,omitempty"`
		FaultString string  `json:"fault_string,omitempty"`
		Start       string  `json:"start"`
		DurationMS  float64 `json:"duration_ms"`
		TraceParent string  `json:"traceparent,omitempty"`
	}{
		Server: c.Server, Method: c.Method, Params: make([]any, 0, len(c.Params)), Outcome: c.Outcome,
		Start: c.Start.Format(time.RFC3339Nano), DurationMS: ms(c.Duration), TraceParent: c.TraceParent,
	}
	for _, p := range c.Params {
		j.Params = append(j.Params, jsonable(p))
	}
	if c.Fault != nil {
		j.FaultCode, j.FaultString = &c.Fault.Code, c.Fault.String
	}
	return json.Marshal(j)
}

// jsonable turns decoded XML-RPC values into values encoding/json writes
// sensibly: structs become objects, dates Uyuni's own text form.
func jsonable(v any) any {
	switch x := v.(type) {
	case rpc.Struct:
		m := make(map[string]any, len(x))
		for _, mb := range x {
			m[mb.Name] = jsonable(mb.Value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	case time.Time:
		return x.Format(xmlrpc.DateTimeLayout)
	}
	return v
}

// redact returns params with passwords replaced. names are the Java
// parameter names of the method called, when known.
func redact(method string, params []any, names []string) []any {
	out := make([]any, len(params))
	for i, p := range params {
		switch {
		case method == "auth.login" && i == 1,
			i < len(names) && isPasswordName(names[i]):
			out[i] = Redacted
		default:
			out[i] = redactValue(p)
		}
	}
	return out
}

func redactValue(v any) any {
	switch x := v.(type) {
	case rpc.Struct:
		out := make(rpc.Struct, len(x))
		for i, mb := range x {
			if isPasswordName(mb.Name) {
				mb.Value = Redacted
			} else {
				mb.Value = redactValue(mb.Value)
			}
			out[i] = mb
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e)
		}
		return out
	}
	return v
}

func isPasswordName(name string) bool {
	return strings.Contains(strings.ToLower(name), "password")
}

// callLog keeps the latest records of one server, oldest first.
type callLog struct {
	mu   sync.Mutex
	max  int
	recs []CallRecord
	next int // where the next record goes once recs is full
}

func (l *callLog) add(r CallRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.recs) < l.max {
		l.recs = append(l.recs, r)
		return
	}
	l.recs[l.next] = r
	l.next = (l.next + 1) % l.max
}

func (l *callLog) all() []CallRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]CallRecord, 0, len(l.recs))
	out = append(out, l.recs[l.next:]...)
	return append(out, l.recs[:l.next]...)
}

func (l *callLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs, l.next = nil, 0
}
