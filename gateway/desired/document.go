package desired

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// APIVersion is the only document version this engine reads.
const APIVersion = "hubgw/v1"

// The kinds of object, in the order a server needs them (dependencies first).
const (
	KindSystemGroup     = "SystemGroup"
	KindSoftwareChannel = "SoftwareChannel"
	KindConfigChannel   = "ConfigChannel"
	KindActivationKey   = "ActivationKey"
)

// Document is one declared object: what a client sent, as plain values.
type Document struct {
	APIVersion string         `json:"apiVersion" yaml:"apiVersion"`
	Kind       string         `json:"kind" yaml:"kind"`
	Metadata   Metadata       `json:"metadata" yaml:"metadata"`
	Spec       map[string]any `json:"spec" yaml:"spec"`
}

// Metadata names a document's object.
type Metadata struct {
	Name string `json:"name" yaml:"name"`
}

// ValidationError lists every problem of a bundle (or of a rollout
// request), each with its path.
type ValidationError struct {
	Problems []string
	What     string // what is invalid; default "documents"
}

func (e *ValidationError) Error() string {
	return "invalid " + cmp.Or(e.What, "documents") + ": " + strings.Join(e.Problems, "; ")
}

// ParseYAML reads YAML (several documents separated by ---) or JSON: a
// single document, a list of them, or {"documents": [...]}. The result is
// not yet validated (Load does that).
func ParseYAML(data []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []any
	for i := 0; ; i++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &ValidationError{Problems: []string{fmt.Sprintf("documents[%d]: not YAML or JSON: %v", i, err)}}
		}
		switch x := v.(type) {
		case nil:
			continue
		case []any:
			out = append(out, x...)
		case map[string]any:
			if docs, ok := x["documents"].([]any); ok && len(x) <= 2 {
				out = append(out, docs...)
				continue
			}
			out = append(out, x)
		default:
			out = append(out, x)
		}
	}
	return out, nil
}

// object is a validated document: what is managed, normalised for
// comparison, and what the writes need beyond it.
type object struct {
	Kind, Name string
	index      int
	want       fields
	// deps are the objects that must exist on a server first.
	deps []ref
	doc  Document
	// files: a config channel's declared file contents by path.
	files  map[string][]byte
	deploy string // config channels: changed, always, never
	prune  map[string]bool
}

// ref names an object.
type ref struct{ Kind, Name string }

func (r ref) String() string { return r.Kind + " " + r.Name }

// Bundle is a validated set of documents, in dependency order.
type Bundle struct{ objects []*object }

// Len is the number of objects.
func (b *Bundle) Len() int { return len(b.objects) }

// Refs lists the objects as "Kind/name", for job records.
func (b *Bundle) Refs() []any {
	out := make([]any, len(b.objects))
	for i, o := range b.objects {
		out[i] = o.Kind + "/" + o.Name
	}
	return out
}

var kindOrder = map[string]int{KindSystemGroup: 0, KindSoftwareChannel: 1, KindConfigChannel: 3, KindActivationKey: 4}

// Load validates documents (plain values as decoded from YAML, JSON or
// XML-RPC) and returns them in dependency order: groups, base channels,
// child channels, config channels, keys. Every problem is listed.
func Load(docs []any) (*Bundle, error) {
	v := &checker{}
	if len(docs) == 0 {
		v.add("documents", "no documents")
	}
	b := &Bundle{}
	seen := map[ref]string{}
	defaults := 0
	for i, raw := range docs {
		p := fmt.Sprintf("documents[%d]", i)
		m, ok := plain(raw).(map[string]any)
		if !ok {
			v.add(p, "is not an object")
			continue
		}
		o := v.document(p, m, i)
		if o == nil {
			continue
		}
		r := ref{o.Kind, o.Name}
		if first, dup := seen[r]; dup {
			v.add(p+".metadata.name", fmt.Sprintf("%s %q is declared twice (first in %s)", o.Kind, o.Name, first))
			continue
		}
		seen[r] = p
		if d, ok := o.want["universalDefault"].(bool); ok && d {
			defaults++
			if defaults > 1 {
				v.add(p+".spec.universalDefault", "only one activation key per org can be the universal default")
			}
		}
		b.objects = append(b.objects, o)
	}
	if len(v.problems) > 0 {
		return nil, &ValidationError{Problems: v.problems}
	}
	rank := func(o *object) int {
		r := kindOrder[o.Kind]
		if o.Kind == KindSoftwareChannel && o.want["parent"] != nil && o.want["parent"] != "" {
			r = 2
		}
		return r
	}
	sort.SliceStable(b.objects, func(i, j int) bool { return rank(b.objects[i]) < rank(b.objects[j]) })
	return b, nil
}

// plain turns decoded XML-RPC values (rpc.Struct) into maps, so every door's
// documents look alike.
func plain(v any) any {
	switch x := v.(type) {
	case rpc.Struct:
		m := make(map[string]any, len(x))
		for _, mb := range x {
			m[mb.Name] = plain(mb.Value)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = plain(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case float64: // JSON numbers
		if x == float64(int64(x)) {
			return int64(x)
		}
	}
	return v
}

// checker collects problems with their paths.
type checker struct{ problems []string }

func (v *checker) add(path, msg string) { v.problems = append(v.problems, path+": "+msg) }

// Uyuni's label rules, so a bad label is refused before any server is asked.
var (
	channelLabelRe = regexp.MustCompile(`^[a-z\d][a-z\d\-._]*$`)
	configLabelRe  = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9\-_]*$`)
	modeRe         = regexp.MustCompile(`^0?[0-7]{3,4}$`)
)

func (v *checker) document(p string, m map[string]any, i int) *object {
	for k := range m {
		if !slices.Contains([]string{"apiVersion", "kind", "metadata", "spec"}, k) {
			v.add(p+"."+k, "unknown field")
		}
	}
	if av, _ := m["apiVersion"].(string); av != APIVersion {
		v.add(p+".apiVersion", fmt.Sprintf("%v is not %q", m["apiVersion"], APIVersion))
	}
	kind, _ := m["kind"].(string)
	if _, ok := kindOrder[kind]; !ok {
		v.add(p+".kind", fmt.Sprintf("%q is not one of SoftwareChannel, ConfigChannel, ActivationKey, SystemGroup", kind))
		return nil
	}
	md, _ := m["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	name = strings.TrimSpace(name)
	if name == "" {
		v.add(p+".metadata.name", "missing")
	}
	spec, ok := m["spec"].(map[string]any)
	if !ok {
		if m["spec"] != nil {
			v.add(p+".spec", "is not an object")
		}
		spec = map[string]any{}
	}
	o := &object{Kind: kind, Name: name, index: i, want: fields{}, prune: map[string]bool{},
		doc: Document{APIVersion: APIVersion, Kind: kind, Metadata: Metadata{Name: name}, Spec: spec}}
	s := &specReader{v: v, p: p + ".spec", m: spec, o: o}
	switch kind {
	case KindSystemGroup:
		if d, ok := s.str("description", ""); ok {
			o.want["description"] = groupDescription(d)
		}
	case KindSoftwareChannel:
		if name != "" && (!channelLabelRe.MatchString(name) || len(name) < 6) {
			v.add(p+".metadata.name", fmt.Sprintf("%q is not a channel label (6 or more of a-z 0-9 - . _)", name))
		}
		softwareChannelSpec(s)
	case KindConfigChannel:
		if name != "" && !configLabelRe.MatchString(name) {
			v.add(p+".metadata.name", fmt.Sprintf("%q is not a config channel label (a-z A-Z 0-9 - _, not starting with -)", name))
		}
		configChannelSpec(s)
	case KindActivationKey:
		if strings.ContainsAny(name, `,"`) {
			v.add(p+".metadata.name", fmt.Sprintf("%q: a key may not contain , or \"", name))
		}
		o.Name = scrub(strings.ReplaceAll(name, " ", ""))
		activationKeySpec(s)
	}
	s.unknown()
	return o
}

// specReader reads one spec, checking types and recording managed fields.
type specReader struct {
	v    *checker
	p    string
	m    map[string]any
	o    *object
	used []string
}

func (s *specReader) at(key string) (any, bool) {
	s.used = append(s.used, key)
	x, ok := s.m[key]
	return x, ok && x != nil
}

func (s *specReader) unknown() {
	for k := range s.m {
		if !slices.Contains(s.used, k) {
			s.v.add(s.p+"."+k, "unknown field")
		}
	}
}

// sub reads a nested object.
func (s *specReader) sub(key string) *specReader {
	x, ok := s.at(key)
	if !ok {
		return nil
	}
	m, isMap := x.(map[string]any)
	if !isMap {
		s.v.add(s.p+"."+key, "is not an object")
		return nil
	}
	return &specReader{v: s.v, p: s.p + "." + key, m: m, o: s.o}
}

// str manages a string field (trimmed, as Uyuni trims what it stores).
func (s *specReader) str(key, field string) (string, bool) {
	x, ok := s.at(key)
	if !ok {
		return "", false
	}
	str, isStr := x.(string)
	if !isStr {
		s.v.add(s.p+"."+key, fmt.Sprintf("%v is not a string", x))
		return "", false
	}
	str = strings.TrimSpace(str)
	if field != "" {
		s.o.want[field] = str
	}
	return str, true
}

func (s *specReader) oneOf(key, field string, allowed ...string) (string, bool) {
	str, ok := s.str(key, field)
	if ok && !slices.Contains(allowed, str) {
		s.v.add(s.p+"."+key, fmt.Sprintf("%q is not one of %s", str, strings.Join(allowed, ", ")))
		return "", false
	}
	return str, ok
}

func (s *specReader) boolean(key, field string) (bool, bool) {
	x, ok := s.at(key)
	if !ok {
		return false, false
	}
	b, isBool := x.(bool)
	if !isBool {
		s.v.add(s.p+"."+key, fmt.Sprintf("%v is not true or false", x))
		return false, false
	}
	if field != "" {
		s.o.want[field] = b
	}
	return b, true
}

// strings manages a list of strings: a set, or a list whose order counts.
func (s *specReader) strings(key, field string, ordered bool) ([]string, bool) {
	x, ok := s.at(key)
	if !ok {
		return nil, false
	}
	list, isList := x.([]any)
	if !isList {
		s.v.add(s.p+"."+key, "is not a list")
		return nil, false
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		str, isStr := e.(string)
		if !isStr || strings.TrimSpace(str) == "" {
			s.v.add(fmt.Sprintf("%s.%s[%d]", s.p, key, i), fmt.Sprintf("%v is not a non-empty string", e))
			continue
		}
		out = append(out, strings.TrimSpace(str))
	}
	if field != "" {
		if ordered {
			s.o.want[field] = list_(out)
		} else {
			s.o.want[field] = newSet(out)
		}
	}
	return out, true
}

func softwareChannelSpec(s *specReader) {
	o := s.o
	s.str("name", "name")
	s.str("summary", "summary")
	s.str("description", "description")
	s.str("arch", "arch")
	if parent, ok := s.str("parent", "parent"); ok && parent != "" {
		o.deps = append(o.deps, ref{KindSoftwareChannel, parent})
	}
	if _, ok := o.want["parent"]; !ok {
		o.want["parent"] = "" // a channel is a base unless it says otherwise: parent is immutable
	}
	if ig, ok := s.boolean("ignoreHubSync", ""); ok && ig {
		o.prune["ignoreHubSync"] = true
	}
	s.oneOf("checksum", "checksum", "sha1", "sha256", "sha384", "sha512")
	if g := s.sub("gpg"); g != nil {
		g.str("url", "gpg.url")
		if id, ok := g.str("id", ""); ok {
			o.want["gpg.id"] = strings.ToUpper(id)
		}
		g.str("fingerprint", "gpg.fingerprint")
		g.boolean("check", "gpg.check")
		g.unknown()
	}
	if m := s.sub("maintainer"); m != nil {
		m.str("name", "maintainer.name")
		m.str("email", "maintainer.email")
		m.str("phone", "maintainer.phone")
		m.unknown()
	}
	s.str("supportPolicy", "supportPolicy")
	if x, ok := s.at("repositories"); ok {
		list, isList := x.([]any)
		if !isList {
			s.v.add(s.p+".repositories", "is not a list")
		}
		for i, e := range list {
			m, isMap := e.(map[string]any)
			if !isMap {
				s.v.add(fmt.Sprintf("%s.repositories[%d]", s.p, i), "is not an object")
				continue
			}
			r := &specReader{v: s.v, p: fmt.Sprintf("%s.repositories[%d]", s.p, i), m: m, o: o}
			label, _ := r.str("label", "")
			if label == "" {
				s.v.add(r.p+".label", "missing")
			}
			typ, ok := r.oneOf("type", "", "yum", "uln", "deb")
			if !ok {
				typ = "yum"
			}
			url, _ := r.str("url", "")
			if url == "" {
				s.v.add(r.p+".url", "missing")
			}
			r.unknown()
			o.want["repositories["+label+"]"] = typ + " " + url
		}
	}
	if sy := s.sub("sync"); sy != nil {
		if on, ok := sy.boolean("onCreate", ""); ok && on {
			o.prune["syncOnCreate"] = true
		}
		sy.str("schedule", "sync.schedule")
		sy.unknown()
	}
	s.oneOf("access", "access", "public", "private", "protected")
	for _, req := range []string{"name", "summary", "arch"} {
		if _, ok := o.want[req]; !ok {
			s.v.add(s.p+"."+req, "missing (needed to create the channel)")
		}
	}
}

func configChannelSpec(s *specReader) {
	o := s.o
	o.files = map[string][]byte{}
	if _, ok := s.str("name", "name"); !ok {
		o.want["name"] = o.Name
	}
	s.str("description", "description")
	typ, ok := s.oneOf("type", "type", "normal", "state")
	if !ok {
		typ = "normal"
		o.want["type"] = typ
	}
	o.deploy = "changed"
	if d, ok := s.oneOf("deploy", "", "changed", "always", "never"); ok {
		o.deploy = d
	}
	if pr, ok := s.boolean("prune", ""); ok && pr {
		o.prune["files"] = true
	}
	var paths []string
	if x, ok := s.at("files"); ok {
		list, isList := x.([]any)
		if !isList {
			s.v.add(s.p+".files", "is not a list")
		}
		for i, e := range list {
			p := fmt.Sprintf("%s.files[%d]", s.p, i)
			m, isMap := e.(map[string]any)
			if !isMap {
				s.v.add(p, "is not an object")
				continue
			}
			if path := fileSpec(&specReader{v: s.v, p: p, m: m, o: o}, typ); path != "" {
				if slices.Contains(paths, path) {
					s.v.add(p+".path", fmt.Sprintf("%q is listed twice", path))
				}
				paths = append(paths, path)
			}
		}
	}
	if o.prune["files"] {
		o.want["paths"] = newSet(paths)
	}
	if sub := s.sub("subscribe"); sub != nil {
		if groups, ok := sub.strings("systemGroups", "subscribe.systemGroups", false); ok {
			for _, g := range groups {
				o.deps = append(o.deps, ref{KindSystemGroup, g})
			}
		}
		sub.unknown()
	}
}

// fileSpec reads one file of a config channel and returns its path.
func fileSpec(r *specReader, channelType string) string {
	o := r.o
	path, _ := r.str("path", "")
	if !strings.HasPrefix(path, "/") {
		r.v.add(r.p+".path", fmt.Sprintf("%q is not an absolute path", path))
		path = ""
	}
	typ, ok := r.oneOf("type", "", "file", "directory", "symlink")
	if !ok {
		typ = "file"
	}
	if channelType == "state" && typ != "file" {
		r.v.add(r.p+".type", "a state channel holds files only")
	}
	f := "files[" + path + "]."
	o.want[f+"type"] = typ
	content, hasContent := r.str("content", "")
	if x, ok := r.m["content"].(string); ok {
		content = x // contents are bytes: never trimmed
	}
	if _, ok := r.at("source"); ok {
		r.v.add(r.p+".source", "not read here: the client reads source files and sends their content")
	}
	switch typ {
	case "file":
		if !hasContent {
			r.v.add(r.p+".content", "missing")
		}
		sum := sha256.Sum256([]byte(content))
		o.want[f+"sha256"] = hex.EncodeToString(sum[:])
		o.files[path] = []byte(content)
	case "symlink":
		if t, ok := r.str("target", f+"target"); !ok || t == "" {
			r.v.add(r.p+".target", "missing (a symlink needs a target)")
		}
	}
	if hasContent && typ != "file" {
		r.v.add(r.p+".content", "only files have content")
	}
	if typ != "symlink" {
		r.str("owner", f+"owner")
		r.str("group", f+"group")
		if mode, ok := r.at("mode"); ok {
			str, isStr := mode.(string)
			if !isStr || !modeRe.MatchString(str) {
				r.v.add(r.p+".mode", fmt.Sprintf("%s is not an octal mode (write it quoted: \"0644\")", quote(mode)))
			} else {
				o.want[f+"mode"] = normMode(str)
			}
		}
	}
	r.str("selinuxCtx", f+"selinuxCtx")
	r.unknown()
	return path
}

func quote(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func activationKeySpec(s *specReader) {
	o := s.o
	if d, ok := s.str("description", ""); ok {
		o.want["description"] = keyDescription(d)
	}
	if base, ok := s.str("baseChannel", ""); ok {
		o.want["baseChannel"] = baseLabel(base)
		if base != "" && base != "none" {
			o.deps = append(o.deps, ref{KindSoftwareChannel, base})
		}
	}
	pr := s.sub("prune")
	if pr != nil {
		for _, k := range []string{"childChannels", "configChannels", "entitlements", "packages", "systemGroups"} {
			if b, ok := pr.boolean(k, ""); ok && b {
				o.prune[k] = true
			}
		}
		pr.unknown()
	}
	for _, k := range []string{"childChannels", "entitlements", "packages", "systemGroups"} {
		list, ok := s.strings(k, k, false)
		if !ok {
			continue
		}
		o.want[k] = set{items: newSet(list).items, exact: o.prune[k]}
		for _, e := range list {
			switch k {
			case "childChannels":
				o.deps = append(o.deps, ref{KindSoftwareChannel, e})
			case "systemGroups":
				o.deps = append(o.deps, ref{KindSystemGroup, e})
			}
		}
	}
	if list, ok := s.strings("configChannels", "", true); ok {
		o.want["configChannels"] = ranked{items: list, exact: o.prune["configChannels"]}
		for _, e := range list {
			o.deps = append(o.deps, ref{KindConfigChannel, e})
		}
	}
	if x, ok := s.at("usageLimit"); ok {
		switch n := x.(type) {
		case int:
			o.want["usageLimit"] = usageLimit(int64(n))
		case int64:
			o.want["usageLimit"] = usageLimit(n)
		case string:
			if n != "unlimited" {
				s.v.add(s.p+".usageLimit", fmt.Sprintf("%q is not a number or \"unlimited\"", n))
			}
			o.want["usageLimit"] = "unlimited"
		default:
			s.v.add(s.p+".usageLimit", fmt.Sprintf("%v is not a number or \"unlimited\"", x))
		}
		if n, ok := o.want["usageLimit"].(int64); ok && n < 0 {
			s.v.add(s.p+".usageLimit", "is negative")
		}
	}
	s.boolean("universalDefault", "universalDefault")
	s.boolean("disabled", "disabled")
	s.oneOf("contactMethod", "contactMethod", "default", "ssh-push", "ssh-push-tunnel")
	s.boolean("deployConfigs", "deployConfigs")
}
