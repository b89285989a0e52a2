package desired

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Export reads one object from one server (the hub, or a golden
// peripheral) and returns it as a document that Load accepts, so "make
// every peripheral's key like the hub's" is export, then apply. It only
// reads. A missing object is fault -210 (as Uyuni's "No such channel").
func (e *Engine) Export(ctx context.Context, s *auth.Session, t target.Target, kind, name string) (*Document, error) {
	if _, ok := kindOrder[kind]; !ok {
		return nil, &ValidationError{Problems: []string{fmt.Sprintf("kind: %q is not one of SoftwareChannel, ConfigChannel, ActivationKey, SystemGroup", kind)}}
	}
	srv := e.server(s, t, true)
	o := &object{Kind: kind, Name: name}
	have, err := opsFor(kind).read(ctx, srv, o)
	if err != nil {
		return nil, err
	}
	if have == nil {
		return nil, rpc.Faultf(rpc.CodeNoSuchChannel, "hubgw: no %s %q on %s", kind, name, t)
	}
	return &Document{APIVersion: APIVersion, Kind: kind, Metadata: Metadata{Name: name}, Spec: toSpec(kind, have)}, nil
}

// toSpec turns fields read from a server into a document's spec.
func toSpec(kind string, f fields) map[string]any {
	spec := map[string]any{}
	nested := func(parent, key string, v any) {
		m, _ := spec[parent].(map[string]any)
		if m == nil {
			m = map[string]any{}
			spec[parent] = m
		}
		m[key] = v
	}
	var repos []any
	files := map[string]map[string]any{}
	for _, k := range sortedKeys(f) {
		v := shown(f[k])
		switch {
		case strings.HasPrefix(k, "files["):
			path := k[len("files["):strings.LastIndex(k, "]")]
			field := k[strings.LastIndex(k, "].")+2:]
			if files[path] == nil {
				files[path] = map[string]any{"path": path}
			}
			switch field {
			case "sha256":
				continue
			case "mode":
				v = "0" + v.(string)
			}
			if s, ok := v.(string); ok && s == "" && field != "content" {
				continue
			}
			files[path][field] = v
		case strings.HasPrefix(k, "repositories["):
			typ, url, _ := strings.Cut(v.(string), " ")
			repos = append(repos, map[string]any{"label": k[len("repositories[") : len(k)-1], "type": typ, "url": url})
		case k == "paths":
		case strings.Contains(k, "."):
			parent, key, _ := strings.Cut(k, ".")
			if parent == "sync" && v == "" {
				continue
			}
			nested(parent, key, v)
		case kind == KindActivationKey && k == "baseChannel" && v == "none":
			spec[k] = ""
		case kind == KindActivationKey && k == "description" && v == "None":
			spec[k] = ""
		default:
			spec[k] = v
		}
	}
	if repos != nil {
		spec["repositories"] = repos
	}
	if len(files) > 0 {
		paths := sortedKeys(files)
		sort.Strings(paths)
		list := make([]any, len(paths))
		for i, p := range paths {
			list[i] = files[p]
		}
		spec["files"] = list
	}
	for k, v := range spec {
		if l, ok := v.([]string); ok {
			spec[k] = anyList(l)
		}
	}
	return spec
}
