package main

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// A setting nobody reads is a mistake the admin cannot see: a typo in
// hubgw.yaml (max-per-sever) or in a HUBGW_ variable would leave the
// default in force without a word. unknownKeys names each such key and
// the valid one nearest to it.

// unknownKeys checks a parsed YAML document against cfg's koanf tags, down
// through nested structs and maps of structs (peripherals.<name>.…).
func unknownKeys(doc map[string]any, cfg reflect.Type) error {
	return errors.Join(walkKeys(doc, cfg, "")...)
}

func walkKeys(doc map[string]any, t reflect.Type, prefix string) []error {
	fields := keysOf(t)
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		ft, ok := fields[k]
		if !ok {
			errs = append(errs, unknownKey(prefix+k, k, fields, func(s string) string { return prefix + s }))
			continue
		}
		sub, isMap := doc[k].(map[string]any)
		switch {
		case !isMap:
		case ft.Kind() == reflect.Struct:
			errs = append(errs, walkKeys(sub, ft, prefix+k+".")...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			for _, name := range slices.Sorted(maps.Keys(sub)) {
				if entry, ok := sub[name].(map[string]any); ok {
					errs = append(errs, walkKeys(entry, ft.Elem(), prefix+k+"."+name+".")...)
				}
			}
		}
	}
	return errs
}

// clientEnv are the client commands' variables (internal/cli), not serve's
// settings: the shell serve is started from may well have them set.
var clientEnv = map[string]bool{"HUBGW_GATEWAY": true, "HUBGW_TOKEN": true, "HUBGW_PASSWORD": true}

// unknownEnv checks HUBGW_ variables: each must name a top-level setting
// (or be one of the client commands').
func unknownEnv(environ []string, cfg reflect.Type) error {
	fields := keysOf(cfg)
	var errs []error
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "HUBGW_") || clientEnv[name] {
			continue
		}
		k := envKey(name)
		if _, ok := fields[k]; !ok {
			errs = append(errs, unknownKey(name, k, fields, func(s string) string {
				return "HUBGW_" + strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
			}))
		}
	}
	return errors.Join(errs...)
}

// envKey maps HUBGW_SOME_NAME to the setting some-name.
func envKey(name string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, "HUBGW_")), "_", "-")
}

func unknownKey(shown, key string, fields map[string]reflect.Type, spell func(string) string) error {
	if near := nearest(key, fields); near != "" {
		return fmt.Errorf("unknown setting %q (did you mean %q?)", shown, spell(near))
	}
	return fmt.Errorf("unknown setting %q", shown)
}

// keysOf maps each koanf key of struct t to its field's type; ",squash"
// fields contribute their own keys.
func keysOf(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag := f.Tag.Get("koanf")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case opts == "squash" && f.Type.Kind() == reflect.Struct:
			for k, v := range keysOf(f.Type) {
				out[k] = v
			}
		case name != "" && name != "-":
			out[name] = f.Type
		}
	}
	return out
}

// nearest returns the key closest to k in edit distance, if it is close
// enough to be a typo (a third of the key's length, at least 2).
func nearest(k string, fields map[string]reflect.Type) string {
	best, bestD := "", max(2, len(k)/3)+1
	for _, cand := range slices.Sorted(maps.Keys(fields)) {
		if d := editDistance(k, cand); d < bestD {
			best, bestD = cand, d
		}
	}
	return best
}

// editDistance is Levenshtein's distance. Hand-written: it is ten lines,
// and no library for it is worth a dependency.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
