package jobs

import (
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

// secretParams indexes which parameters of each method overload are
// secret, leaving out the session key that Args never include.
func secretParams(cat *catalog.Catalog) map[string][][]bool {
	out := map[string][][]bool{}
	for m := range cat.Methods() {
		ps := m.Params
		if len(ps) > 0 && ps[0].Name == "sessionKey" {
			ps = ps[1:]
		}
		secret := make([]bool, len(ps))
		some := false
		for i, p := range ps {
			secret[i] = secretName.MatchString(p.Name)
			some = some || secret[i]
		}
		if some {
			out[m.FullName()] = append(out[m.FullName()], secret)
		}
	}
	return out
}

// summarize is the recorded form of a call's arguments: JSON, secrets
// replaced by Redacted (by the catalog's parameter names, struct member
// names, and anything shaped like a session key), long strings and lists
// shortened, binary data described rather than copied.
func (r *Recorder) summarize(method string, args []any) json.RawMessage {
	if len(args) == 0 {
		return nil
	}
	secret := make([]bool, len(args))
	for _, overload := range r.secrets[method] {
		if len(overload) == len(args) {
			for i, s := range overload {
				secret[i] = secret[i] || s
			}
		}
	}
	e := encoder{summary: true}
	b := []byte{'['}
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		if secret[i] {
			b = appendString(b, Redacted)
			continue
		}
		b, _ = e.value(b, a, 0) // summaries never fail
	}
	return append(b, ']')
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
	case interface{ Decode() (any, error) }: // an edge's raw value
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
	if e.summary && secretName.MatchString(name) {
		return appendString(b, Redacted), nil
	}
	return e.value(b, v, depth+1)
}

func appendString(b []byte, s string) []byte {
	j, _ := json.Marshal(s) // strings always marshal
	return append(b, j...)
}
