package gateway

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
	"github.com/hubgw/hubgw/gateway/uyuniapi"
)

// Merging: a client written for one Uyuni server (spacecmd, a script)
// that addresses many gets the answer one server would give. The rules,
// also in the README's spacecmd section:
//
//   - any target failed: a fault naming each failed target with its fault
//     code and message, the targets where the call succeeded, and the job;
//     its code is the targets' own when all failed alike, else
//     CodeTargetsFailed. (A read that misses a target is a fault too, since
//     a partial list would look complete.)
//   - lists: concatenated in target order, each struct element getting a
//     member PeripheralMember naming its server; scalar elements (role
//     names, labels) appear once.
//   - the same value from every target: that value.
//   - a write with different values: the first target's (a struct marked
//     with PeripheralMember); the change is done everywhere, so a fault
//     would mislead.
//   - a read with different values: CodeTargetsDisagree, showing each.

// PeripheralMember is the member added to each struct of a merged list (and
// to a write's struct answer) naming the server it came from.
const PeripheralMember = "peripheral"

// Merge turns many targets' results into one answer.
func (g *Gateway) Merge(ctx context.Context, method string, out Outcome) (any, error) {
	rs := out.Results
	if !rs.IsComplete() {
		return nil, failedOn(method, out.JobID, rs)
	}
	vals := make([]any, len(rs))
	lists := 0
	for i, r := range rs {
		v, err := rpc.Decode(r.Value)
		if err != nil {
			return nil, rpc.Faultf(CodeInternal, "hubgw: %s's answer to %s: %v", r.Target, method, err)
		}
		vals[i] = v
		if _, ok := v.([]any); ok {
			lists++
		}
	}
	switch {
	case lists == len(vals):
		return mergeLists(rs, vals), nil
	case allEqual(vals):
		return rs[0].Value, nil
	case !uyuniapi.ReadOnly(method):
		g.o.Logger.InfoContext(ctx, "targets answered a write differently; the first target's answer is returned", "method", method, "server", rs[0].Target.String())
		if st, ok := vals[0].(rpc.Struct); ok {
			return withPeripheral(st, rs[0].Target), nil
		}
		return vals[0], nil
	}
	return nil, disagree(method, rs, vals)
}

// failedOn is the fault of a call that failed on some of many targets.
func failedOn(method, jobID string, rs fanout.Results) *rpc.Fault {
	var failed, done []string
	codes := map[int]bool{}
	for _, r := range rs {
		if r.OK() {
			done = append(done, r.Target.String())
			continue
		}
		f := Fault(r)
		codes[f.Code] = true
		failed = append(failed, r.Target.String()+": "+f.Error())
	}
	code := CodeTargetsFailed
	if len(done) == 0 && len(codes) == 1 {
		for c := range codes {
			code = c
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "hubgw: %s failed on %d of %d targets", method, len(failed), len(rs))
	if jobID != "" {
		fmt.Fprintf(&b, " (job %s)", jobID)
	}
	b.WriteString(": ")
	b.WriteString(strings.Join(failed, "; "))
	if len(done) > 0 {
		b.WriteString("; it succeeded on ")
		b.WriteString(strings.Join(done, ", "))
	}
	return &rpc.Fault{Code: code, String: b.String()}
}

// disagree is the fault of a read whose targets answered different values
// that cannot be merged.
func disagree(method string, rs fanout.Results, vals []any) *rpc.Fault {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Target.String() + ": " + brief(vals[i])
	}
	return rpc.Faultf(CodeTargetsDisagree, "hubgw: the targets answered %s differently (%s); call it for one peripheral",
		method, strings.Join(parts, "; "))
}

func brief(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return strconv.Quote(v)
	case int64, bool, float64:
		return fmt.Sprint(v)
	}
	return "a " + rpc.TypeName(v)
}

// mergeLists concatenates the targets' lists in target order.
func mergeLists(rs fanout.Results, vals []any) []any {
	n := 0
	for _, v := range vals {
		n += len(v.([]any))
	}
	out := make([]any, 0, n)
	seen := map[any]bool{}
	for i, v := range vals {
		for _, e := range v.([]any) {
			switch e := e.(type) {
			case rpc.Struct:
				out = append(out, withPeripheral(e, rs[i].Target))
			case string, int64, bool, float64:
				// A scalar cannot say where it came from; the same role
				// name or label from every server is one entry.
				if !seen[e] {
					seen[e] = true
					out = append(out, e)
				}
			default:
				out = append(out, e)
			}
		}
	}
	return out
}

// withPeripheral returns a copy of st that names t.
func withPeripheral(st rpc.Struct, t target.Target) rpc.Struct {
	c := make(rpc.Struct, len(st), len(st)+1)
	copy(c, st)
	return c.Set(PeripheralMember, t.String())
}

func allEqual(vals []any) bool {
	for _, v := range vals[1:] {
		if !reflect.DeepEqual(vals[0], v) {
			return false
		}
	}
	return true
}
