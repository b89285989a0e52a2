// Package catalog is the Uyuni XML-RPC API as the gateway knows it: every
// namespace with its Java handler class, and every method overload with its
// parameters (Java names, XML-RPC types, and the type names Uyuni's own
// api.getApiNamespaceCallList reflects).
//
// The data is catalog.json, derived from source/uyuni-api-catalog.json (the
// signatures read from Uyuni's Java API handlers, kept in this repository)
// by `go generate` (see gen/) and embedded. Load parses it on each call; callers keep the *Catalog.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
)

//go:generate go run ./gen -in source/uyuni-api-catalog.json -out catalog.json

//go:embed catalog.json
var catalogJSON []byte

// Catalog is the whole API. Treat it as read-only once loaded.
type Catalog struct {
	Source     string      `json:"source"`
	Namespaces []Namespace `json:"namespaces"`

	index map[string][]Method // "ns.method" → overloads, built by Load
}

// Namespace is one API namespace such as "channel.software".
type Namespace struct {
	Name    string   `json:"name"`
	Handler string   `json:"handler"` // fully qualified Java class
	Methods []Method `json:"methods"` // overloads listed separately, in source order
}

// Method is one overload of one API method.
type Method struct {
	Namespace          string  `json:"-"`
	Name               string  `json:"name"`
	Params             []Param `json:"params"`
	Returns            string  `json:"returns"` // XML-RPC type
	ReturnsElementType string  `json:"returnsElementType,omitempty"`
	ReturnsReflect     string  `json:"returnsReflect"` // as api.getApiNamespaceCallList names it
	ReadOnly           bool    `json:"readOnly,omitempty"`
	Deprecated         bool    `json:"deprecated,omitempty"`
}

// Param is one method parameter.
type Param struct {
	Name        string `json:"name"` // Java name; the session parameter is "sessionKey"
	Type        string `json:"type"` // XML-RPC type: string int boolean double dateTime.iso8601 struct array base64
	ElementType string `json:"elementType,omitempty"`
	Java        string `json:"java"`    // Java type, e.g. "User", "Integer", "int", "List<String>"
	Reflect     string `json:"reflect"` // string int date boolean struct array base64
}

// Load parses the embedded catalog.
func Load() (*Catalog, error) {
	c := &Catalog{}
	if err := json.Unmarshal(catalogJSON, c); err != nil {
		return nil, fmt.Errorf("catalog: parse embedded catalog.json: %w", err)
	}
	c.index = make(map[string][]Method)
	for i := range c.Namespaces {
		ns := &c.Namespaces[i]
		for j := range ns.Methods {
			m := &ns.Methods[j]
			m.Namespace = ns.Name
			c.index[m.FullName()] = append(c.index[m.FullName()], *m)
		}
	}
	return c, nil
}

// FullName is "namespace.method", as it is called over XML-RPC.
func (m Method) FullName() string { return m.Namespace + "." + m.Name }

// TakesSession reports whether the overload's first parameter is the
// session key: a User parameter (Uyuni's translator turns the key into the
// user), or a String called sessionKey (the search handlers look the key
// up themselves). This is the one place that decides it.
func (m Method) TakesSession() bool {
	return len(m.Params) > 0 && (m.Params[0].Java == "User" || m.Params[0].Name == "sessionKey")
}

// HandlerClass is the handler's class name without its package, as
// api.getApiNamespaces reports it (e.g. "ChannelSoftwareHandler").
func (n Namespace) HandlerClass() string {
	return n.Handler[strings.LastIndexByte(n.Handler, '.')+1:]
}

// Namespace looks a namespace up by name.
func (c *Catalog) Namespace(name string) (Namespace, bool) {
	for _, ns := range c.Namespaces {
		if ns.Name == name {
			return ns, true
		}
	}
	return Namespace{}, false
}

// Overloads returns every overload of fullName ("channel.software.create"),
// in source order, or nil if there is none. The slice is shared: do not
// modify it.
func (c *Catalog) Overloads(fullName string) []Method {
	if c.index != nil {
		return c.index[fullName]
	}
	var out []Method
	for m := range c.Methods() {
		if m.FullName() == fullName {
			out = append(out, m)
		}
	}
	return out
}

// Methods yields every overload of every namespace, in catalog order.
func (c *Catalog) Methods() iter.Seq[Method] {
	return func(yield func(Method) bool) {
		for _, ns := range c.Namespaces {
			for _, m := range ns.Methods {
				m.Namespace = ns.Name
				if !yield(m) {
					return
				}
			}
		}
	}
}
