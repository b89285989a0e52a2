package jobs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hubgw/hubgw/gateway/catalog"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Redacted replaces secrets in recorded arguments.
const Redacted = "[redacted]"

// secretName matches the parameter and struct member names that carry
// secrets in Uyuni's API (password, adminPassword, rootPassword,
// sshPrivKeyPass, token, ...).
var secretName = regexp.MustCompile(`(?i)pass|secret|token|credential|priv.?key|session.?key`)

// sessionKey matches Uyuni's and hubgw's session keys wherever they appear.
var sessionKey = regexp.MustCompile(`^\s*([0-9]+x|gw)[0-9a-f]{64}\s*$`)

// contentName matches the parameters and struct members that carry a
// file's contents (configchannel's contents, kickstart.snippet's
// contents, kickstartFileContents, a key's content, formula data): they
// are recorded as their SHA-256 and size, which identify a revision
// (configchannel.lookupFileInfo answers the same sha256) without keeping
// what may hold secrets.
var contentName = regexp.MustCompile(`(?i)contents?$`)

// param is how a parameter is recorded.
type param uint8

const (
	plain   param = iota
	secret        // Redacted
	content       // SHA-256 and size
)

func kindOf(name string) param {
	switch {
	case secretName.MatchString(name):
		return secret
	case contentName.MatchString(name):
		return content
	}
	return plain
}

// paramKinds indexes how each parameter of each method overload is
// recorded, leaving out the session key that Args never include. Every
// method of the catalog has an entry: one without is unknown, and its
// arguments are recorded as types only.
func paramKinds(cat *catalog.Catalog) map[string][][]param {
	out := map[string][][]param{}
	for m := range cat.Methods() {
		ps := m.Params
		if len(ps) > 0 && ps[0].Name == "sessionKey" {
			ps = ps[1:]
		}
		kinds := make([]param, len(ps))
		for i, p := range ps {
			kinds[i] = kindOf(p.Name)
		}
		out[m.FullName()] = append(out[m.FullName()], kinds)
	}
	return out
}

// summarize is the recorded form of a call's arguments: JSON, secrets
// replaced by Redacted (by the catalog's parameter names, struct member
// names, and anything shaped like a session key), file contents by their
// SHA-256 and size, long strings and lists shortened, binary data
// described rather than copied. A method the catalog does not know has
// no parameter names to go by: its arguments are recorded as types only.
func (r *Recorder) summarize(method string, args []any) json.RawMessage {
	if len(args) == 0 {
		return nil
	}
	overloads, known := r.params[method]
	kinds := make([]param, len(args))
	for _, overload := range overloads {
		if len(overload) == len(args) {
			for i, k := range overload {
				kinds[i] = max(kinds[i], k) // secret wins over content
			}
		}
	}
	e := encoder{summary: true}
	b := []byte{'['}
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case !known:
			b = appendString(b, typeName(a))
		case kinds[i] == secret:
			b = appendString(b, Redacted)
		case kinds[i] == content:
			b = appendDigest(b, a)
		default:
			b, _ = e.value(b, a, 0) // summaries never fail
		}
	}
	return append(b, ']')
}

// typeName is an argument's XML-RPC type, for methods the catalog does
// not know.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "(nil)"
	case string:
		return "(string)"
	case int, int32, int64:
		return "(int)"
	case bool:
		return "(boolean)"
	case float64:
		return "(double)"
	case time.Time:
		return "(dateTime.iso8601)"
	case []byte:
		return "(base64)"
	case rpc.Struct, map[string]any:
		return "(struct)"
	case []any:
		return "(array)"
	}
	return "(value)"
}

// appendDigest records file contents as {"sha256": ..., "size": ...}:
// of the text or bytes themselves, or of the JSON of anything else.
func appendDigest(b []byte, v any) []byte {
	var data []byte
	switch x := v.(type) {
	case string:
		data = []byte(x)
	case []byte:
		data = x
	default:
		data, _ = appendJSON(nil, v, 0) // what cannot be encoded is digested as far as it goes
	}
	sum := sha256.Sum256(data)
	b = append(b, `{"sha256":"`...)
	b = hex.AppendEncode(b, sum[:])
	b = append(b, `","size":`...)
	b = strconv.AppendInt(b, int64(len(data)), 10)
	return append(b, '}')
}

// appendJSON is the default ResultJSON: package rpc's values as JSON,
// struct members in order.
func appendJSON(dst []byte, v any, depth int) ([]byte, error) {
	return encoder{}.value(dst, v, depth)
}

type encoder struct{ summary bool }

const (
	maxDepth      = 32
	summaryString = 200 // runes kept of a string in a summary
	summaryList   = 50  // elements kept of an array in a summary
)

func (e encoder) value(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		if e.summary {
			return appendString(b, "…"), nil
		}
		return b, fmt.Errorf("value nested over %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		if e.summary {
			if sessionKey.MatchString(x) {
				return appendString(b, Redacted), nil
			}
			if utf8.RuneCountInString(x) > summaryString {
				r := []rune(x)
				return appendString(b, string(r[:summaryString])+fmt.Sprintf("…(%d characters)", len(r))), nil
			}
		}
		return appendString(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return appendString(b, strconv.FormatFloat(x, 'g', -1, 64)), nil
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64), nil
	case time.Time:
		return appendString(b, x.Format("2006-01-02T15:04:05")), nil
	case []byte:
		if e.summary {
			return appendString(b, fmt.Sprintf("(base64, %d bytes)", len(x))), nil
		}
		j, _ := json.Marshal(x) // base64
		return append(b, j...), nil
	case rpc.Struct:
		b = append(b, '{')
		for i, m := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.member(b, m.Name, m.Value, depth); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.member(b, k, x[k], depth); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case []any:
		b = append(b, '[')
		n := len(x)
		if e.summary {
			n = min(n, summaryList)
		}
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.value(b, x[i], depth+1); err != nil {
				return b, err
			}
		}
		if n < len(x) {
			b = appendString(append(b, ','), fmt.Sprintf("…(%d more)", len(x)-n))
		}
		return append(b, ']'), nil
	case rpc.Raw: // an edge's raw value
		d, err := x.Decode()
		if err != nil {
			if e.summary {
				return appendString(b, "(undecodable value)"), nil
			}
			return b, err
		}
		return e.value(b, d, depth)
	}
	if e.summary {
		return appendString(b, fmt.Sprintf("(%T)", v)), nil
	}
	return b, fmt.Errorf("cannot record a %T", v)
}

func (e encoder) member(b []byte, name string, v any, depth int) ([]byte, error) {
	b = append(appendString(b, name), ':')
	if e.summary {
		switch kindOf(name) {
		case secret:
			return appendString(b, Redacted), nil
		case content:
			return appendDigest(b, v), nil
		}
	}
	return e.value(b, v, depth+1)
}
