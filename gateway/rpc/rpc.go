// Package rpc is the vocabulary every layer of hubgw shares when it speaks of
// Uyuni API calls: faults with their codes, and ordered structs. It knows
// nothing of XML or HTTP, so the core (gateway/) and the edges (adapters/)
// can both depend on it.
//
// Values travel as plain Go values:
//
//	int64            <i4>, <int>, <i8>
//	bool             <boolean>
//	string           <string> or an untyped <value>
//	float64          <double>
//	time.Time        <dateTime.iso8601> (wall clock; Uyuni sends no zone)
//	[]byte           <base64>
//	Struct           <struct>, members in wire order
//	[]any            <array>
//	nil              <nil/> (never sent by Uyuni; struct members that are nil are omitted)
//
// Edges may add opaque values of their own (the XML-RPC codec's Raw) that the
// core carries without looking inside.
package rpc

import (
	"fmt"
	"time"
)

// Fault is an Uyuni API fault: what the server answered instead of a value.
// Callers branch on Code; String is shown to people unchanged.
type Fault struct {
	Code   int
	String string
}

func (f *Fault) Error() string { return fmt.Sprintf("Fault(%d): %s", f.Code, f.String) }

// Faultf builds a fault with a formatted message.
func Faultf(code int, format string, args ...any) *Fault {
	return &Fault{Code: code, String: fmt.Sprintf(format, args...)}
}

// Uyuni's own fault codes (e2e/uyunisim/doc.go names the Java class behind each), for callers that branch on them.
const (
	CodeNoSession        = -1 // unknown or expired session, also "Could not find method"
	CodePermission       = -23
	CodeNoSuchChannel    = -210
	CodeInvalidChannel   = -211
	CodeNoSuchSystem     = -208
	CodeNoSuchUser       = -213
	CodeInvalidChanName  = 1200
	CodeInvalidChanLabel = 1201
	CodeInvalidParent    = 1202
	CodeInvalidArch      = 1205
	CodeDuplicateLabel   = 1206
	CodeConfigCreate     = 1021
	CodeConfigNotFound   = 1022
	CodeInvalidParameter = 1213
	CodeNoSuchOrg        = 2850
	CodeValidation       = 2800
	CodeInvalidArgs      = 2801
	CodeLogin            = 2950
	CodeNoSuchActKey     = 10001
)

// XML-RPC's type names, as Uyuni's API catalog and messages use them.
const (
	TypeInt      = "int"
	TypeBoolean  = "boolean"
	TypeString   = "string"
	TypeDouble   = "double"
	TypeDateTime = "dateTime.iso8601"
	TypeBase64   = "base64"
	TypeStruct   = "struct"
	TypeArray    = "array"
)

// Raw is an edge's encoded value that the core carries without looking
// inside (the XML-RPC codec's validated <value> bytes, passed from a
// server to the client untouched). Decode turns it into the plain values
// above when the core needs to look (merging, ids, job records).
type Raw interface {
	Decode() (any, error)
	// Encoded is the value as it arrived, for hashing and storing.
	Encoded() []byte
}

// Decode returns v's plain value: a Raw decoded, anything else as it is.
func Decode(v any) (any, error) {
	if r, ok := v.(Raw); ok {
		return r.Decode()
	}
	return v, nil
}

// Member is one named value of a Struct.
type Member struct {
	Name  string
	Value any
}

// Struct is an XML-RPC struct that keeps its members in order, so a value
// passed through the gateway reads the same as it did upstream.
type Struct []Member

// Get returns the value of the first member called name.
func (s Struct) Get(name string) (any, bool) {
	for i := range s {
		if s[i].Name == name {
			return s[i].Value, true
		}
	}
	return nil, false
}

// Map copies the members into a map (the last one wins on duplicates).
func (s Struct) Map() map[string]any {
	m := make(map[string]any, len(s))
	for _, mb := range s {
		m[mb.Name] = mb.Value
	}
	return m
}

// Set replaces the first member called name, or appends one.
func (s Struct) Set(name string, v any) Struct {
	for i := range s {
		if s[i].Name == name {
			s[i].Value = v
			return s
		}
	}
	return append(s, Member{Name: name, Value: v})
}

// TypeName names the XML-RPC type of a Go value as Uyuni's messages do.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case int64, int, int32:
		return TypeInt
	case bool:
		return TypeBoolean
	case string:
		return TypeString
	case float64:
		return TypeDouble
	case []byte:
		return TypeBase64
	case Struct, map[string]any:
		return TypeStruct
	case []any:
		return TypeArray
	case time.Time:
		return TypeDateTime
	case Raw:
		return "value"
	}
	return fmt.Sprintf("%T", v)
}
