// Package openapi is hubgw's REST contract: a model of the Uyuni API the hub
// serves (from its live api.getApiCallList, with parameter names from the
// embedded signature catalog), the OpenAPI 3 document generated from it
// (kin-openapi), request validation against that document, and the
// document's life as the hub's API changes (Live). Swagger UI, served
// offline, is in swaggerui/.
package openapi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hubgw/hubgw/gateway/catalog"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Type is an Uyuni parameter or return type.
type Type struct {
	XMLRPC string // string int boolean double dateTime.iso8601 struct array base64; "" when unknown
	Elem   string // XML-RPC type of an array's elements, when known
	Java   string // the Java type, when the catalog knows it
}

// Param is one named parameter a client passes.
type Param struct {
	Name string
	Type Type
}

// Overload is one callable signature of an Uyuni method.
type Overload struct {
	Method    string // "channel.software.create"
	Namespace string // "channel.software"
	Name      string // "create"
	// Session: the first upstream parameter is the session key, which the
	// gateway fills in; it is not among Params.
	Session    bool
	Params     []Param // what a client passes, in upstream order
	Returns    Type
	ReadOnly   bool
	Deprecated bool
	// Positional: the catalog lacks this signature, so the names are
	// arg1, arg2... in upstream order.
	Positional bool
	// Overloaded: the method has more than one overload, so this one has a
	// path and a component of its own (see Sig).
	Overloaded bool
}

// Sig is the overload's parameter names, comma-separated: what tells
// overloads apart in paths ("label,name,summary") and in messages.
func (o *Overload) Sig() string {
	names := make([]string, len(o.Params))
	for i, p := range o.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ",")
}

// Key names the overload in component names and operation ids: the
// method, plus "__" and its parameter names when it is overloaded.
func (o *Overload) Key() string {
	if !o.Overloaded {
		return o.Method
	}
	return o.Method + "__" + strings.ReplaceAll(o.Sig(), ",", "_")
}

// Param returns the parameter called name.
func (o *Overload) Param(name string) (Param, bool) {
	for _, p := range o.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Model is the API the hub serves, as the REST surface exposes it.
type Model struct {
	Source  string // "hub" (its live introspection) or "catalog" (the embedded one)
	Version string // the hub's api.getVersion; "" for the catalog
	Hash    string // hex SHA-256 of the hub's signatures (see signatureHash)
	// Namespaces in order, with their Java handler class when known.
	Namespaces []Namespace
	methods    map[string][]*Overload
}

// Namespace is one API namespace.
type Namespace struct {
	Name    string
	Handler string
	Methods []string // full names, sorted
}

// Overloads returns the overloads of method ("system.listSystems"), nil
// when the hub has no such method.
func (m *Model) Overloads(method string) []*Overload { return m.methods[method] }

// Len is the number of overloads.
func (m *Model) Len() int {
	n := 0
	for _, ov := range m.methods {
		n += len(ov)
	}
	return n
}

// excluded namespaces are not exposed as calls: auth is the gateway's
// business (/api/v1/login, /api/v1/logout), and a hub session key must
// never reach a client.
func excluded(namespace string) bool { return namespace == "auth" }

// Options tune how a model is built.
type Options struct {
	// ReadOnly says whether a method only reads (gateway.ReadOnly); the
	// catalog's own flag wins where it has one.
	ReadOnly func(method string) bool
}

func (o Options) readOnly(method string) bool {
	return o.ReadOnly != nil && o.ReadOnly(method)
}

// FromCatalog builds the model from the embedded catalog alone: what the
// gateway serves before it has seen the hub's own API list.
func FromCatalog(cat *catalog.Catalog, opts Options) *Model {
	m := &Model{Source: "catalog", methods: map[string][]*Overload{}}
	var sigs []string
	for _, ns := range cat.Namespaces {
		if excluded(ns.Name) {
			continue
		}
		for _, cm := range ns.Methods {
			cm.Namespace = ns.Name
			m.add(fromCatalog(cm, opts))
			sigs = append(sigs, catalogSignature(cm))
		}
	}
	m.Hash = signatureHash(sigs)
	m.finish(cat)
	return m
}

func fromCatalog(cm catalog.Method, opts Options) *Overload {
	o := &Overload{
		Method:     cm.FullName(),
		Namespace:  cm.Namespace,
		Name:       cm.Name,
		Returns:    Type{XMLRPC: cm.Returns, Elem: cm.ReturnsElementType},
		ReadOnly:   cm.ReadOnly || opts.readOnly(cm.FullName()),
		Deprecated: cm.Deprecated,
	}
	params := cm.Params
	if cm.TakesSession() {
		o.Session = true
		params = params[1:]
	}
	o.Params = make([]Param, len(params))
	for i, p := range params {
		o.Params[i] = Param{Name: p.Name, Type: Type{XMLRPC: p.Type, Elem: p.ElementType, Java: p.Java}}
	}
	return o
}

func catalogSignature(cm catalog.Method) string {
	types := make([]string, len(cm.Params))
	for i, p := range cm.Params {
		types[i] = p.Reflect
	}
	return cm.FullName() + "(" + strings.Join(types, ",") + ")" + cm.ReturnsReflect
}

// FromCallList builds the model from the hub's api.getApiCallList answer
// (decoded: {namespace: {"ns.method_t1_t2": {name, parameters, return}}}),
// taking parameter names, Java types and array element types from the
// catalog where a catalog overload has the same reflected types. An
// overload the catalog lacks is still exposed, with positional names.
func FromCallList(callList any, version string, cat *catalog.Catalog, opts Options) (*Model, error) {
	root, ok := callList.(rpc.Struct)
	if !ok {
		return nil, fmt.Errorf("openapi: api.getApiCallList answered %s, not a struct", rpc.TypeName(callList))
	}
	m := &Model{Source: "hub", Version: version, methods: map[string][]*Overload{}}
	var sigs []string
	for _, nsm := range root {
		entries, ok := nsm.Value.(rpc.Struct)
		if !ok {
			return nil, fmt.Errorf("openapi: api.getApiCallList: namespace %q is %s, not a struct", nsm.Name, rpc.TypeName(nsm.Value))
		}
		ns := nsm.Name
		if !validName(ns, true) {
			return nil, fmt.Errorf("openapi: api.getApiCallList: bad namespace name %q", ns)
		}
		for _, e := range entries {
			st, ok := e.Value.(rpc.Struct)
			if !ok {
				return nil, fmt.Errorf("openapi: api.getApiCallList: %s is %s, not a struct", e.Name, rpc.TypeName(e.Value))
			}
			name, _ := st.Map()["name"].(string)
			ret, _ := st.Map()["return"].(string)
			rawParams, _ := st.Map()["parameters"].([]any)
			if !validName(name, false) {
				return nil, fmt.Errorf("openapi: api.getApiCallList: %s: bad method name %q", e.Name, name)
			}
			types := make([]string, len(rawParams))
			for i, p := range rawParams {
				if types[i], ok = p.(string); !ok {
					return nil, fmt.Errorf("openapi: api.getApiCallList: %s: parameter %d is %s, not a type name", e.Name, i+1, rpc.TypeName(p))
				}
			}
			sigs = append(sigs, ns+"."+name+"("+strings.Join(types, ",")+")"+ret)
			if excluded(ns) {
				continue
			}
			for _, o := range overloadsFor(cat, ns, name, types, ret, opts) {
				m.add(o)
			}
		}
	}
	m.Hash = signatureHash(sigs)
	m.finish(cat)
	return m, nil
}

// overloadsFor finds the catalog overloads with these reflected types (an
// entry of Uyuni's introspection stands for all overloads whose reflected
// types are equal: they collapse in its HashMap), or makes a positional one.
func overloadsFor(cat *catalog.Catalog, ns, name string, types []string, ret string, opts Options) []*Overload {
	method := ns + "." + name
	var out []*Overload
	known := cat.Overloads(method)
	for _, cm := range known {
		if len(cm.Params) != len(types) {
			continue
		}
		same := true
		for i, p := range cm.Params {
			if p.Reflect != types[i] {
				same = false
				break
			}
		}
		if same {
			cm.Namespace = ns
			out = append(out, fromCatalog(cm, opts))
		}
	}
	if len(out) > 0 {
		return out
	}
	// Unknown to the catalog. Uyuni reports the session parameter as
	// "string", so a leading string is taken for the session key when the
	// method's known overloads take one, or when the method is unknown
	// altogether (nearly every Uyuni method takes a session key first).
	session := len(types) > 0 && types[0] == "string"
	if session && len(known) > 0 {
		session = known[0].TakesSession()
	}
	o := &Overload{
		Method:     method,
		Namespace:  ns,
		Name:       name,
		Session:    session,
		Returns:    Type{XMLRPC: reflectType(ret)},
		ReadOnly:   opts.readOnly(method),
		Positional: true,
	}
	if session {
		types = types[1:]
	}
	o.Params = make([]Param, len(types))
	for i, t := range types {
		o.Params[i] = Param{Name: "arg" + strconv.Itoa(i+1), Type: Type{XMLRPC: reflectType(t)}}
	}
	return []*Overload{o}
}

// reflectType maps the type names of Uyuni's introspection to XML-RPC types.
func reflectType(t string) string {
	switch t {
	case "int", "string", "boolean", "struct", "array", "base64", "double":
		return t
	case "date":
		return "dateTime.iso8601"
	}
	return "" // unknown: any JSON value
}

// validName accepts Java identifiers, and dotted ones for namespaces: names
// become paths and component names.
func validName(s string, dotted bool) bool {
	if s == "" {
		return false
	}
	for i, part := range strings.Split(s, ".") {
		if part == "" || (i > 0 && !dotted) {
			return false
		}
		for j, c := range part {
			letter := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !letter && (j == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// signatureHash identifies an API by its signatures, whatever order the
// hub listed them in.
func signatureHash(sigs []string) string {
	slices.Sort(sigs)
	h := sha256.New()
	for _, s := range sigs {
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (m *Model) add(o *Overload) {
	for _, have := range m.methods[o.Method] {
		if have.Sig() == o.Sig() {
			return // the same names twice (two reflected entries, one catalog overload): keep one
		}
	}
	m.methods[o.Method] = append(m.methods[o.Method], o)
}

// finish marks overloaded methods and orders namespaces and methods.
func (m *Model) finish(cat *catalog.Catalog) {
	byNS := map[string][]string{}
	for name, ovs := range m.methods {
		for _, o := range ovs {
			o.Overloaded = len(ovs) > 1
		}
		// Fewest parameters first, then by names: a stable order for
		// documents and messages whatever order the hub listed them in.
		slices.SortStableFunc(ovs, func(a, b *Overload) int {
			if len(a.Params) != len(b.Params) {
				return len(a.Params) - len(b.Params)
			}
			return strings.Compare(a.Sig(), b.Sig())
		})
		ns := ovs[0].Namespace
		byNS[ns] = append(byNS[ns], name)
	}
	for ns, methods := range byNS {
		slices.Sort(methods)
		n := Namespace{Name: ns, Methods: methods}
		if c, ok := cat.Namespace(ns); ok {
			n.Handler = c.HandlerClass()
		}
		m.Namespaces = append(m.Namespaces, n)
	}
	slices.SortFunc(m.Namespaces, func(a, b Namespace) int { return strings.Compare(a.Name, b.Name) })
}

// SelectError says why no overload matches a set of parameter names.
type SelectError struct {
	Method  string
	Unknown []string // names no overload takes
	Missing []string // names the closest overload needs
	Valid   []string // every overload's signature
}

func (e *SelectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no overload of %s takes exactly these parameters", e.Method)
	if len(e.Unknown) > 0 {
		fmt.Fprintf(&b, "; unknown parameter %s", quoteAll(e.Unknown))
	}
	if len(e.Missing) > 0 {
		fmt.Fprintf(&b, "; missing parameter %s", quoteAll(e.Missing))
	}
	fmt.Fprintf(&b, "; valid parameter sets: %s", strings.Join(e.Valid, " "))
	return b.String()
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// Select picks the overload of method whose parameter names are exactly
// names, as Uyuni's HTTP API does. It returns nil and a *SelectError when
// none matches.
func (m *Model) Select(method string, names []string) (*Overload, error) {
	ovs := m.methods[method]
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	var best *Overload
	bestMissing := -1
	for _, o := range ovs {
		missing := 0
		for _, p := range o.Params {
			if !set[p.Name] {
				missing++
			}
		}
		if missing == 0 && len(o.Params) == len(set) {
			return o, nil
		}
		if best == nil || missing < bestMissing {
			best, bestMissing = o, missing
		}
	}
	e := &SelectError{Method: method}
	takes := map[string]bool{}
	for _, o := range ovs {
		e.Valid = append(e.Valid, "("+o.Sig()+")")
		for _, p := range o.Params {
			takes[p.Name] = true
		}
	}
	for _, n := range names {
		if !takes[n] {
			e.Unknown = append(e.Unknown, n)
		}
	}
	slices.Sort(e.Unknown)
	if best != nil {
		for _, p := range best.Params {
			if !set[p.Name] {
				e.Missing = append(e.Missing, p.Name)
			}
		}
	}
	return nil, e
}

// BySig returns the overload of method with exactly these parameter names
// in this order (Overload.Sig), nil when there is none.
func (m *Model) BySig(method, sig string) *Overload {
	for _, o := range m.methods[method] {
		if o.Sig() == sig {
			return o
		}
	}
	return nil
}
