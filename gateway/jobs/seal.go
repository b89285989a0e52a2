package jobs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Sealer encrypts and authenticates; *auth.Sealer is one.
type Sealer interface {
	Seal(plain, aad []byte) []byte
	Open(sealed, aad []byte) ([]byte, error)
}

// aad binds a sealed field to its job and place, so it cannot be moved
// to another.
func aad(id, field string) []byte { return []byte(id + "/" + field) }

// storedTarget is a target's outcome at rest: with a Sealer, its
// arguments and answer are in Sealed (a secretPart), not in the clear.
type storedTarget struct {
	Target
	Sealed []byte `json:"sealed,omitempty"`
}

type secretPart struct {
	Args  json.RawMessage `json:"args,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
}

func (run *Run) sealTarget(i int, t Target, result json.RawMessage) []byte {
	secret, _ := json.Marshal(secretPart{Args: t.Args, Value: result}) // recorded JSON: cannot fail
	t.Args = nil
	b, _ := json.Marshal(storedTarget{Target: t, Sealed: run.rec.o.Seal.Seal(secret, aad(run.id, "t:"+strconv.Itoa(i)))})
	return b
}

// unsealedTarget reads a stored outcome, opening what was sealed. An
// outcome sealed with another key (the key file changed) keeps its
// status and says so in ValueOmitted.
func (r *Recorder) unsealedTarget(id string, i int, b []byte) (Target, error) {
	var st storedTarget
	if err := json.Unmarshal(b, &st); err != nil {
		return Target{}, err
	}
	if st.Sealed == nil {
		return st.Target, nil
	}
	var p secretPart
	if err := r.open(st.Sealed, id, "t:"+strconv.Itoa(i), &p); err != nil {
		st.ValueOmitted = "arguments and answer unreadable: " + err.Error()
		return st.Target, nil
	}
	st.Args, st.Value = p.Args, p.Value
	return st.Target, nil
}

// unsealedArgs is the header's arguments, opened if sealed.
func (r *Recorder) unsealedArgs(h header) json.RawMessage {
	if h.Sealed == nil {
		return h.Args
	}
	var args json.RawMessage
	if err := r.open(h.Sealed, h.ID, "job", &args); err != nil {
		b, _ := json.Marshal("(unreadable: " + err.Error() + ")")
		return b
	}
	return args
}

func (r *Recorder) open(sealed []byte, id, field string, v any) error {
	if r.o.Seal == nil {
		return fmt.Errorf("sealed, and this gateway has no secret key")
	}
	plain, err := r.o.Seal.Open(sealed, aad(id, field))
	if err != nil {
		return fmt.Errorf("sealed with another key or altered: %w", err)
	}
	return json.Unmarshal(plain, v)
}

// shape describes an answer without recording it: its type and length,
// and its encoded size when the edge knows it (hint > 0).
func shape(v any, hint int) string {
	var s string
	// Concatenated, not fmt.Sprintf: every target of a 500-server read
	// is described.
	switch x := v.(type) {
	case []any:
		s = "array of " + strconv.Itoa(len(x))
	case rpc.Struct:
		s = "struct of " + strconv.Itoa(len(x)) + " members"
	case string:
		s = "string of " + strconv.Itoa(utf8.RuneCountInString(x)) + " characters"
	case rpc.Raw: // an edge's raw value: not decoded for this
	default:
		s = typeName(v)
	}
	if hint > 0 {
		if s != "" {
			s += ", "
		}
		s += "about " + strconv.Itoa(hint) + " bytes"
	}
	if s == "" {
		s = "(value)"
	}
	return s
}
