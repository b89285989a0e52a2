package desired

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// fields are an object's managed values by field name ("gpg.id",
// "files[/etc/motd].sha256"), normalised the way Uyuni stores them, so
// that what was read compares equal to what was declared once applied.
// Values are string, bool, int64, set or ranked.
type fields map[string]any

// set is an unordered list; unless exact, it is satisfied when the server
// has at least these items (prune off: others are left alone).
type set struct {
	items []string
	exact bool
}

func newSet(items []string) set {
	s := slices.Clone(items)
	sort.Strings(s)
	return set{items: slices.Compact(s)}
}

// ranked is an ordered list (a key's config channels); unless exact, the
// server's other items may follow.
type ranked struct {
	items []string
	exact bool
}

// list_ is an ordered list compared exactly.
func list_(items []string) ranked { return ranked{items: items, exact: true} }

// usageLimit is a declared limit; 0 reads back like unlimited (TokenSerializer).
func usageLimit(n int64) any { return n }

// Change is one field that differs: what the server has, what is declared.
type Change struct {
	Field string `json:"field"`
	Have  any    `json:"have"`
	Want  any    `json:"want"`
}

// satisfied reports whether the server's value have meets the declared want.
func satisfied(want, have any) bool {
	switch w := want.(type) {
	case set:
		h, _ := have.(set)
		if w.exact {
			return slices.Equal(w.items, h.items)
		}
		for _, i := range w.items {
			if !slices.Contains(h.items, i) {
				return false
			}
		}
		return true
	case ranked:
		h, _ := have.(ranked)
		if w.exact {
			return slices.Equal(w.items, h.items)
		}
		var mine []string
		for _, i := range h.items {
			if slices.Contains(w.items, i) {
				mine = append(mine, i)
			}
		}
		return slices.Equal(w.items, mine)
	case int64:
		if hs, ok := have.(string); ok && hs == "unlimited" {
			return w == 0 // Uyuni reads 0 for both
		}
	}
	return want == have
}

// diff lists the declared fields the server does not meet, in field order.
// An absent object (have nil) differs in every field.
func diff(want, have fields) []Change {
	var out []Change
	for _, k := range sortedKeys(want) {
		var h any
		if have != nil {
			h = have[k]
		}
		if have == nil || !satisfied(want[k], h) {
			out = append(out, Change{Field: k, Have: shown(h), Want: shown(want[k])})
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// shown is a field value as a client sees it in a plan.
func shown(v any) any {
	switch x := v.(type) {
	case set:
		return nonNil(x.items)
	case ranked:
		return nonNil(x.items)
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Normalisation of what Uyuni rewrites (../shared/uyuni-hub-operations.md §1.1).

// scrub is Scrubber.scrub: trimmed, without < > ( ) { }.
func scrub(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if strings.ContainsRune("<>(){}", r) {
			return -1
		}
		return r
	}, s))
}

// keyDescription is how a key's description is stored: scrubbed, "None" when empty.
func keyDescription(s string) string {
	if s = scrub(s); s == "" {
		return "None"
	}
	return s
}

// baseLabel is a key's base channel as getDetails reports it: "none" for the default.
func baseLabel(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// normMode turns "0644", "644" or 420 into Uyuni's permissions_mode "644".
func normMode(s string) string {
	n, err := strconv.ParseInt(s, 8, 32)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%03o", n)
}

// Reading decoded XML-RPC values.

func structOf(v any) map[string]any {
	switch x := v.(type) {
	case rpc.Struct:
		return x.Map()
	case map[string]any:
		return x
	}
	return nil
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

func boolean(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true" || x == "1"
	}
	return num(v) != 0
}

func strList(v any) []string {
	out := make([]string, 0, len(items(v)))
	for _, e := range items(v) {
		out = append(out, str(e))
	}
	return out
}

func items(v any) []any {
	list, _ := v.([]any)
	return list
}
