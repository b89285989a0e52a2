package uyunisim

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway/catalog"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// surface is the API one Uyuni version serves: the catalog's namespaces,
// trimmed or extended for the discovery mode, with its introspection answers
// encoded once (api.getApiCallList is large).
type surface struct {
	mode       string
	namespaces []*namespace // by name
	byName     map[string]*namespace

	namespacesResp []byte // api.getApiNamespaces
	callListResp   []byte // api.getApiCallList
}

type namespace struct {
	name    string
	handler string // fully qualified class, as "Could not find method" names it
	class   string // without its package, as api.getApiNamespaces names it
	// keepsKey: AuthHandler and the search handlers take the session key as
	// a string; BaseHandler does not load a session for them.
	keepsKey     bool
	methods      map[string][]catalog.Method // by method name, source order
	callList     rpc.Struct
	callListResp []byte // api.getApiNamespaceCallList(ns)
}

// extraMethods are methods newer Uyuni serves that the 2021 catalog lacks.
func extraMethods(mode string) []catalog.Method {
	session := catalog.Param{Name: "sessionKey", Type: "string", Java: "User", Reflect: "string"}
	var out []catalog.Method
	if mode != DiscoveryLegacy {
		out = append(out,
			catalog.Method{Namespace: "api", Name: "productName", Returns: "string", ReturnsReflect: "string", ReadOnly: true},
			catalog.Method{Namespace: "system", Name: "listSystemsWithEntitlement",
				Params:  []catalog.Param{session, {Name: "entitlementName", Type: "string", Java: "String", Reflect: "string"}},
				Returns: "array", ReturnsElementType: "struct", ReturnsReflect: "array", ReadOnly: true})
	}
	if mode == DiscoverySyncHub {
		out = append(out, catalog.Method{Namespace: "sync.hub", Name: "listPeripheralServers",
			Params:  []catalog.Param{session},
			Returns: "array", ReturnsElementType: "struct", ReturnsReflect: "array", ReadOnly: true})
	}
	return out
}

func newSurface(cat *catalog.Catalog, mode string) (*surface, error) {
	sf := &surface{mode: mode, byName: make(map[string]*namespace)}
	for _, ns := range cat.Namespaces {
		if ns.Name == "sync.hub" && mode != DiscoverySyncHub {
			continue // older Uyuni has no hub sync at all
		}
		class := ns.HandlerClass()
		n := &namespace{
			name:     ns.Name,
			handler:  ns.Handler,
			class:    class,
			keepsKey: strings.HasSuffix(class, "AuthHandler") || strings.HasSuffix(class, "SearchHandler"),
			methods:  make(map[string][]catalog.Method),
		}
		for _, m := range ns.Methods {
			m.Namespace = ns.Name
			n.methods[m.Name] = append(n.methods[m.Name], m)
		}
		sf.byName[n.name] = n
		sf.namespaces = append(sf.namespaces, n)
	}
	for _, m := range extraMethods(mode) {
		n := sf.byName[m.Namespace]
		if n == nil {
			return nil, fmt.Errorf("uyunisim: extra method %s has no namespace", m.FullName())
		}
		n.methods[m.Name] = append(n.methods[m.Name], m)
	}
	sort.Slice(sf.namespaces, func(i, j int) bool { return sf.namespaces[i].name < sf.namespaces[j].name })

	var err error
	handlers := make(rpc.Struct, 0, len(sf.namespaces))
	all := make(rpc.Struct, 0, len(sf.namespaces))
	for _, n := range sf.namespaces {
		n.callList = n.apiCallList()
		if n.callListResp, err = xmlrpc.AppendResponse(nil, n.callList); err != nil {
			return nil, err
		}
		handlers = append(handlers, rpc.Member{Name: n.name, Value: n.class})
		all = append(all, rpc.Member{Name: n.name, Value: n.callList})
	}
	if sf.namespacesResp, err = xmlrpc.AppendResponse(nil, handlers); err != nil {
		return nil, err
	}
	if sf.callListResp, err = xmlrpc.AppendResponse(nil, all); err != nil {
		return nil, err
	}
	return sf, nil
}

// apiCallList is ApiHandler.getApiNamespaceCallList: one entry per overload,
// keyed "<ns>.<method>_<t1>_<t2>", with reflected type names and no
// parameter names. Overloads with the same reflected types collapse into one
// entry, as in Uyuni's HashMap. The declared exceptions are not in the
// catalog, so "exceptions" is always empty.
func (n *namespace) apiCallList() rpc.Struct {
	entries := map[string]rpc.Struct{}
	for _, ms := range n.methods {
		for _, m := range ms {
			key := n.name + "." + m.Name
			params := make([]any, len(m.Params))
			for i, p := range m.Params {
				params[i] = p.Reflect
				key += "_" + p.Reflect
			}
			entries[key] = rpc.Struct{
				{Name: "name", Value: m.Name},
				{Name: "parameters", Value: params},
				{Name: "exceptions", Value: []any{}},
				{Name: "return", Value: m.ReturnsReflect},
			}
		}
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(rpc.Struct, len(keys))
	for i, k := range keys {
		out[i] = rpc.Member{Name: k, Value: entries[k]}
	}
	return out
}

// paramNames are the Java parameter names of method's first overload with
// n parameters, for redacting call records.
func (sf *surface) paramNames(method string, n int) []string {
	i := strings.LastIndexByte(method, '.')
	if i < 0 {
		return nil
	}
	ns := sf.byName[method[:i]]
	if ns == nil {
		return nil
	}
	for _, m := range ns.methods[beanify(method[i+1:])] {
		if len(m.Params) == n {
			names := make([]string, n)
			for j, p := range m.Params {
				names[j] = p.Name
			}
			return names
		}
	}
	return nil
}

// preEncoded is a complete methodResponse a handler already has.
type preEncoded []byte

// call is one API call on its way to a handler.
type call struct {
	srv  *Server
	st   *state // locked for the whole call
	m    catalog.Method
	args []any // converted to the declared Java types; a session is *user
}

// invoke answers one decoded call the way Uyuni's redstone dispatcher and
// BaseHandler.invoke do, and returns the complete response document; the
// fault is returned too when the answer is one.
func (s *Server) invoke(method string, params []any) ([]byte, *rpc.Fault) {
	body, f := s.resolveAndRun(method, params)
	if f != nil {
		return xmlrpc.AppendFault(nil, f), f
	}
	return body, nil
}

// resolveAndRun returns the encoded response or a fault.
func (s *Server) resolveAndRun(method string, params []any) ([]byte, *rpc.Fault) {
	i := strings.LastIndexByte(method, '.')
	var ns *namespace
	if i > 0 {
		ns = s.surface().byName[method[:i]]
	}
	if ns == nil {
		// Redstone finds no handler for the namespace (a method name without
		// a dot goes to the "__default__" handler, which Uyuni has not).
		return nil, &rpc.Fault{Code: -1, String: "The specified handler cannot be found."}
	}
	name := beanify(method[i+1:])
	args := slices.Clone(params)
	for _, a := range args {
		if a == nil {
			return nil, &rpc.Fault{Code: -1, String: "java.lang.NullPointerException"}
		}
	}

	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	st.settle(st.now(), s.sim.cfg.ActionDelay, s.faults.Load().ActionFailure)

	var sess *session
	if len(args) > 0 && !ns.keepsKey {
		if key, ok := args[0].(string); ok && isSessionKey(key) {
			var jerr *javaError
			if sess, jerr = st.lookupByKey(key); jerr != nil {
				return nil, rawFault(jerr)
			}
			args[0] = sess.user
		}
	}

	var cands []catalog.Method
	for _, m := range ns.methods[name] {
		if len(m.Params) == len(args) {
			cands = append(cands, m)
		}
	}
	if len(cands) == 0 {
		types := make([]string, len(args))
		for j, a := range args {
			types[j] = classOf(a).name()
		}
		return nil, handlerFault(-1, fmt.Sprintf("Could not find method: %s in class: %s with params: [%s]",
			name, ns.handler, strings.Join(types, ", ")))
	}
	m, f := st.pickOverload(cands, args)
	if f != nil {
		return nil, f
	}
	if sess != nil {
		defer st.extend(sess) // BaseHandler extends in its finally block
	}

	full := m.FullName()
	h, ok := s.sim.handlers[full]
	if !ok {
		return nil, handlerFault(-1, "uyunisim: "+full+" is in Uyuni's API but not simulated")
	}
	var cacheKey string
	if h.read {
		cacheKey = full + "\x00" + cacheArgs(args)
		if c, ok := st.cache[cacheKey]; ok && c.version == st.version {
			return c.body, nil
		}
	}
	v, f := h.fn(&call{srv: s, st: st, m: m, args: args})
	if f != nil {
		return nil, f
	}
	if pe, ok := v.(preEncoded); ok {
		return pe, nil // shared by every server: not cached per server
	}
	body, err := xmlrpc.AppendResponse(nil, v)
	if err != nil {
		return nil, unhandled("uyunisim cannot encode the answer: " + err.Error())
	}
	if h.read {
		if len(st.cache) >= maxCached {
			clear(st.cache)
		}
		st.cache[cacheKey] = cachedResponse{version: st.version, body: body}
	}
	return body, nil
}

// pickOverload chooses among candidates of the right arity as BaseHandler
// does, converting args in place when no overload matches exactly.
func (st *state) pickOverload(cands []catalog.Method, args []any) (catalog.Method, *rpc.Fault) {
	classes := make([]jclass, len(args))
	for i, a := range args {
		classes[i] = classOf(a)
	}
	for _, m := range cands {
		if len(m.Params) == 0 {
			return m, nil
		}
		perfect := true
		for i, p := range m.Params {
			if !assignable(p.Java, classes[i]) {
				perfect = false
				break
			}
		}
		if perfect {
			return m, nil
		}
	}
	m := cands[0]
	for i, p := range m.Params {
		if sameClass(p.Java, classes[i]) {
			continue
		}
		v, f := st.translate(args[i], classes[i], p.Java)
		if f != nil {
			return m, f
		}
		args[i] = v
	}
	return m, nil
}

// cacheArgs is the part of a cache key the arguments make; the session
// user by login (Config.Users see other answers than the admin).
func cacheArgs(args []any) string {
	var b strings.Builder
	for _, a := range args {
		if u, ok := a.(*user); ok {
			fmt.Fprintf(&b, "user:%s\x00", u.login)
			continue
		}
		fmt.Fprintf(&b, "%T:%v\x00", a, a)
	}
	return b.String()
}
