package openapi

import "strings"

// Kind is where a call goes.
type Kind int

const (
	// Hub: the hub itself, /api/v1/hub/<ns path>/<method>.
	Hub Kind = iota + 1
	// Peripheral: one peripheral, /api/v1/peripherals/{target}/<ns path>/<method>.
	Peripheral
	// Fanout: a set of targets, /api/v1/call/<ns path>/<method>?targets=...
	Fanout
)

func (k Kind) String() string {
	switch k {
	case Hub:
		return "hub"
	case Peripheral:
		return "peripheral"
	case Fanout:
		return "fanout"
	}
	return "unknown"
}

// Path prefixes of the REST surface.
const (
	APIPrefix        = "/api/v1/"
	HubPrefix        = "/api/v1/hub/"
	PeripheralPrefix = "/api/v1/peripherals/"
	FanoutPrefix     = "/api/v1/call/"
	NativePrefix     = "/rhn/manager/api/"
)

// MethodPath is a method's path segment as Uyuni's HTTP API writes it:
// the namespace's dots become slashes ("channel/software/create").
func MethodPath(method string) string { return strings.ReplaceAll(method, ".", "/") }

// overloadPath is the method path, with the parameter list of an
// overloaded method's overload: "channel/software/create(label,name,...)".
// Parentheses and commas are allowed in a path (RFC 3986 sub-delims), so
// the path reads as the signature it stands for.
func overloadPath(o *Overload) string {
	p := MethodPath(o.Method)
	if o.Overloaded {
		p += "(" + o.Sig() + ")"
	}
	return p
}

// DocPath is the document's path of o's operation of kind k.
func DocPath(k Kind, o *Overload) string {
	switch k {
	case Hub:
		return HubPrefix + overloadPath(o)
	case Peripheral:
		return PeripheralPrefix + "{target}/" + overloadPath(o)
	}
	return FanoutPrefix + overloadPath(o)
}

// ParseMethodPath reads "<ns path>/<method>" with an optional
// "(<names>)" after the method: the method's full name, the names, and
// whether they were given. ok is false for a path that cannot name a method.
func ParseMethodPath(p string) (method, sig string, hasSig, ok bool) {
	p = strings.Trim(p, "/")
	if i := strings.IndexByte(p, '('); i >= 0 {
		if !strings.HasSuffix(p, ")") || strings.Contains(p[i+1:len(p)-1], "(") {
			return "", "", false, false
		}
		sig, hasSig = p[i+1:len(p)-1], true
		p = p[:i]
	}
	if !strings.Contains(p, "/") {
		return "", "", false, false
	}
	method = strings.ReplaceAll(p, "/", ".")
	i := strings.LastIndexByte(method, '.')
	if !validName(method[:i], true) || !validName(method[i+1:], false) {
		return "", "", false, false
	}
	return method, sig, hasSig, true
}
