package main

import (
	"fmt"
	"strings"
)

// parseGroups reads target groups as flags and environment give them:
// "NAME=MEMBER,MEMBER" entries, several joined by ';' (HUBGW_GROUPS) or
// one per --groups flag. YAML gives the map itself.
func parseGroups(entries ...string) (map[string]any, error) {
	out := map[string]any{}
	for _, e := range entries {
		for _, g := range strings.Split(e, ";") {
			if g = strings.TrimSpace(g); g == "" {
				continue
			}
			name, list, ok := strings.Cut(g, "=")
			name = strings.TrimSpace(name)
			if !ok || name == "" {
				return nil, fmt.Errorf("groups: %q is not NAME=MEMBER,MEMBER", g)
			}
			var members []any
			for _, m := range strings.Split(list, ",") {
				if m = strings.TrimSpace(m); m != "" {
					members = append(members, m)
				}
			}
			out[name] = members
		}
	}
	return out, nil
}
