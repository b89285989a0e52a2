package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// The encoder writes what Uyuni writes: <i4> for integers (<i8> only past
// 32 bits, which Uyuni itself never sends), <boolean>1</boolean>, typed
// <string>, dates as yyyyMMddTHH:mm:ss with no zone, and struct members with
// a nil value left out. kolo/xmlrpc's EncodeMethodCall is not used because it
// does not escape member names and writes every integer as <int>.

const header = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// AppendCall appends a complete methodCall document to dst. On error dst is
// returned as it was given, so a reused buffer holds no half document.
func AppendCall(dst []byte, method string, params ...any) ([]byte, error) {
	n := len(dst)
	dst = AppendCallHead(dst, method)
	dst, err := AppendParams(dst, params...)
	if err != nil {
		return dst[:n], err
	}
	return AppendCallTail(dst), nil
}

// AppendCallHead, AppendParams and AppendCallTail are AppendCall in three
// parts, so a caller can encode parameters many calls share once and send
// them between each call's own head and parameters and the tail.
func AppendCallHead(dst []byte, method string) []byte {
	dst = append(dst, header...)
	dst = append(dst, "<methodCall><methodName>"...)
	dst = appendEscaped(dst, method)
	return append(dst, "</methodName><params>"...)
}

// AppendParams appends one <param> per value. On error dst is returned as
// it was given.
func AppendParams(dst []byte, params ...any) ([]byte, error) {
	var e encoder
	n := len(dst)
	for _, p := range params {
		var err error
		dst = append(dst, "<param>"...)
		if dst, err = e.appendElem(dst, p, -1); err != nil {
			return dst[:n], err
		}
		dst = append(dst, "</param>"...)
	}
	return dst, nil
}

// AppendCallTail closes what AppendCallHead opened.
func AppendCallTail(dst []byte) []byte { return append(dst, "</params></methodCall>"...) }

// AppendResponse appends a methodResponse carrying v. On error dst is
// returned as it was given.
func AppendResponse(dst []byte, v any) ([]byte, error) {
	var e encoder
	n := len(dst)
	dst = append(dst, header...)
	dst = append(dst, "<methodResponse><params><param>"...)
	dst, err := e.appendElem(dst, v, -1)
	if err != nil {
		return dst[:n], err
	}
	return append(dst, "</param></params></methodResponse>"...), nil
}

// encoder carries what one encoding needs beyond the output buffer: when
// split is set, large raw values are not copied but recorded as cuts, to be
// spliced in when the document is written (see AppendResponseSegments).
type encoder struct {
	split bool
	// splitStrings also references large strings that need no escaping
	// (AppendParamsSegments).
	splitStrings bool
	cuts         []cut
}

// cut is a raw value, or a string, that belongs at offset at of the
// encoded bytes.
type cut struct {
	at  int
	raw Raw
	str string
}

// splitMin is the size from which a raw value is referenced rather than
// copied: below it, a copy is cheaper than another write.
const splitMin = 4 << 10

// AppendResponseSegments is AppendResponse for large answers made of raw
// upstream values (a multicast's responses): those are not copied into dst
// but referenced, and the document is the concatenation of segs, in order.
// It saves copying (and holding a second copy of) every response in
// flight; the caller writes segs with one Content-Length, their sum.
// segs alias dst and the raw values, which must stay untouched until
// written. On error dst is returned as it was given and segs is nil.
func AppendResponseSegments(dst []byte, segs [][]byte, v any) ([]byte, [][]byte, error) {
	e := encoder{split: true}
	n := len(dst)
	dst = append(dst, header...)
	dst = append(dst, "<methodResponse><params><param>"...)
	dst, err := e.appendElem(dst, v, -1)
	if err != nil {
		return dst[:n], nil, err
	}
	dst = append(dst, "</param></params></methodResponse>"...)
	at := n
	for _, c := range e.cuts {
		segs = append(segs, dst[at:c.at:c.at], c.raw)
		at = c.at
	}
	return dst, append(segs, dst[at:]), nil
}

// Segment is one piece of an encoding made by AppendParamsSegments: bytes
// of the buffer, or a large string referenced where it is.
type Segment struct {
	B []byte
	S string
}

// Len is the segment's size in bytes.
func (s Segment) Len() int { return len(s.B) + len(s.S) }

// AppendParamsSegments is AppendParams for large parameters a fan-out
// sends to every server (issue 12, H2): large raw values, and large strings
// that need no escaping, are not copied into dst but referenced, and the
// encoding is the concatenation of segs, in order. segs alias dst and the
// parameters, which must stay untouched while they are sent. On error dst
// is returned as it was given and segs is nil.
func AppendParamsSegments(dst []byte, params ...any) ([]byte, []Segment, error) {
	e := encoder{split: true, splitStrings: true}
	n := len(dst)
	for _, p := range params {
		var err error
		dst = append(dst, "<param>"...)
		if dst, err = e.appendElem(dst, p, -1); err != nil {
			return dst[:n], nil, err
		}
		dst = append(dst, "</param>"...)
	}
	var segs []Segment
	at := n
	for _, c := range e.cuts {
		segs = append(segs, Segment{B: dst[at:c.at:c.at]}, Segment{B: c.raw, S: c.str})
		at = c.at
	}
	return dst, append(segs, Segment{B: dst[at:]}), nil
}

// plainText reports whether appendEscaped would write s unchanged. It runs
// s through appendEscaped a chunk at a time, in a small buffer, so the
// escaping rule stays in one place; a chunk ends at a character's start.
func plainText(s string) bool {
	var buf [8 << 10]byte
	for len(s) > 0 {
		n := min(len(s), 2<<10) // escaped, at most 3× in buf
		for n > 1 && n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		if string(appendEscaped(buf[:0], s[:n])) != s[:n] {
			return false
		}
		s = s[n:]
	}
	return true
}

// AppendFault appends a methodResponse carrying a fault, as Uyuni sends it.
func AppendFault(dst []byte, f *rpc.Fault) []byte {
	dst = append(dst, header...)
	dst = append(dst, "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>"...)
	dst = strconv.AppendInt(dst, int64(f.Code), 10)
	dst = append(dst, "</int></value></member><member><name>faultString</name><value><string>"...)
	dst = appendEscaped(dst, f.String)
	return append(dst, "</string></value></member></struct></value></fault></methodResponse>"...)
}

// EncodeError is returned for a Go value that has no XML-RPC form.
type EncodeError struct{ Msg string }

func (e *EncodeError) Error() string { return "xmlrpc encode: " + e.Msg }

// AppendValue appends <value>…</value> for v; a Raw, also one nested in a
// []any or rpc.Struct, is written verbatim. On error dst is returned as it
// was given.
func AppendValue(dst []byte, v any) ([]byte, error) {
	var e encoder
	n := len(dst)
	dst, err := e.appendElem(dst, v, -1)
	if err != nil {
		return dst[:n], err
	}
	return dst, nil
}

const maxEncodeDepth = 200

func (e *encoder) appendInner(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxEncodeDepth {
		return dst, &EncodeError{"value nested too deeply (a cycle?)"}
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "<nil/>"...), nil
	case string:
		dst = append(dst, "<string>"...)
		if e.splitStrings && len(x) >= splitMin && plainText(x) {
			e.cuts = append(e.cuts, cut{at: len(dst), str: x})
		} else {
			dst = appendEscaped(dst, x)
		}
		return append(dst, "</string>"...), nil
	case int64:
		return appendInt(dst, x), nil
	case int:
		return appendInt(dst, int64(x)), nil
	case int32:
		return appendInt(dst, int64(x)), nil
	case bool:
		if x {
			return append(dst, "<boolean>1</boolean>"...), nil
		}
		return append(dst, "<boolean>0</boolean>"...), nil
	case float64:
		return appendDouble(dst, x)
	case time.Time:
		if y := x.Year(); y < 0 || y > 9999 {
			// yyyyMMdd has room for four digits only.
			return dst, &EncodeError{fmt.Sprintf("year %d has no XML-RPC form", y)}
		}
		dst = append(dst, "<dateTime.iso8601>"...)
		dst = x.AppendFormat(dst, DateTimeLayout)
		return append(dst, "</dateTime.iso8601>"...), nil
	case []byte:
		dst = append(dst, "<base64>"...)
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, "</base64>"...), nil
	case rpc.Struct:
		dst = append(dst, "<struct>"...)
		for _, m := range x {
			var err error
			if dst, err = e.appendMember(dst, m.Name, m.Value, depth); err != nil {
				return dst, err
			}
		}
		return append(dst, "</struct>"...), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys) // a stable order for maps, which have none
		dst = append(dst, "<struct>"...)
		for _, k := range keys {
			var err error
			if dst, err = e.appendMember(dst, k, x[k], depth); err != nil {
				return dst, err
			}
		}
		return append(dst, "</struct>"...), nil
	case []any:
		dst = append(dst, "<array><data>"...)
		for _, el := range x {
			var err error
			if dst, err = e.appendElem(dst, el, depth); err != nil {
				return dst, err
			}
		}
		return append(dst, "</data></array>"...), nil
	case []string:
		dst = append(dst, "<array><data>"...)
		for _, el := range x {
			dst = append(dst, "<value><string>"...)
			dst = appendEscaped(dst, el)
			dst = append(dst, "</string></value>"...)
		}
		return append(dst, "</data></array>"...), nil
	case Raw:
		// Only reachable inside containers; strip nothing, it is a whole <value>.
		return dst, &EncodeError{"internal: Raw must be written by AppendValue"}
	case *rpc.Fault:
		return dst, &EncodeError{"a fault is not a value"}
	}
	return e.appendReflect(dst, reflect.ValueOf(v), depth)
}

func (e *encoder) appendMember(dst []byte, name string, v any, depth int) ([]byte, error) {
	if isNull(v) {
		return dst, nil // Uyuni omits null members
	}
	dst = append(dst, "<member><name>"...)
	dst = appendEscaped(dst, name)
	dst = append(dst, "</name>"...)
	dst, err := e.appendElem(dst, v, depth)
	if err != nil {
		return dst, fmt.Errorf("member %q: %w", name, err)
	}
	return append(dst, "</member>"...), nil
}

// isNull reports whether v is nil or a nil pointer: what Uyuni leaves out of
// a struct. Nil maps and slices are empty values, not nulls.
func isNull(v any) bool {
	switch v.(type) {
	case nil:
		return true
	case string, int64, int, bool, float64, time.Time, []byte, rpc.Struct, []any, Raw, map[string]any:
		return false
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

func (e *encoder) appendElem(dst []byte, v any, depth int) ([]byte, error) {
	if r, ok := v.(Raw); ok {
		if len(r) == 0 {
			// An empty Raw would leave an empty <param> or <member>.
			return dst, &EncodeError{"empty Raw value"}
		}
		if e.split && len(r) >= splitMin {
			e.cuts = append(e.cuts, cut{at: len(dst), raw: r})
			return dst, nil
		}
		return append(dst, r...), nil
	}
	dst = append(dst, "<value>"...)
	dst, err := e.appendInner(dst, v, depth+1)
	if err != nil {
		return dst, err
	}
	return append(dst, "</value>"...), nil
}

func appendInt(dst []byte, n int64) []byte {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		dst = append(dst, "<i4>"...)
		dst = strconv.AppendInt(dst, n, 10)
		return append(dst, "</i4>"...)
	}
	dst = append(dst, "<i8>"...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, "</i8>"...)
}

func appendDouble(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, &EncodeError{"NaN and Inf have no XML-RPC form"}
	}
	dst = append(dst, "<double>"...)
	// The spec allows no exponent; 'f' with the shortest precision keeps the value exact.
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	return append(dst, "</double>"...), nil
}

// appendReflect covers the Go values the type switch does not: other
// integer and float kinds, typed slices and maps, pointers and Go structs
// (fields named by an `xmlrpc:"name"` tag, else the field name).
func (e *encoder) appendReflect(dst []byte, rv reflect.Value, depth int) ([]byte, error) {
	switch rv.Kind() {
	case reflect.Invalid:
		return append(dst, "<nil/>"...), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return append(dst, "<nil/>"...), nil
		}
		return e.appendInner(dst, rv.Elem().Interface(), depth+1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return appendInt(dst, rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return dst, &EncodeError{fmt.Sprintf("integer %d out of range", u)}
		}
		return appendInt(dst, int64(u)), nil
	case reflect.Float32, reflect.Float64:
		return appendDouble(dst, rv.Float())
	case reflect.Bool:
		return e.appendInner(dst, rv.Bool(), depth)
	case reflect.String:
		return e.appendInner(dst, rv.String(), depth)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return e.appendInner(dst, rv.Bytes(), depth)
		}
		dst = append(dst, "<array><data>"...)
		for i := 0; i < rv.Len(); i++ {
			var err error
			if dst, err = e.appendElem(dst, rv.Index(i).Interface(), depth); err != nil {
				return dst, err
			}
		}
		return append(dst, "</data></array>"...), nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return dst, &EncodeError{"map keys must be strings"}
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int {
			if a.String() < b.String() {
				return -1
			}
			if a.String() > b.String() {
				return 1
			}
			return 0
		})
		dst = append(dst, "<struct>"...)
		for _, k := range keys {
			var err error
			if dst, err = e.appendMember(dst, k.String(), rv.MapIndex(k).Interface(), depth); err != nil {
				return dst, err
			}
		}
		return append(dst, "</struct>"...), nil
	case reflect.Struct:
		t := rv.Type()
		dst = append(dst, "<struct>"...)
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			// `xmlrpc:"name,omitempty"` as kolo/xmlrpc reads it.
			tag, opts, _ := strings.Cut(f.Tag.Get("xmlrpc"), ",")
			if tag == "-" && opts == "" {
				continue
			}
			name := f.Name
			if tag != "" {
				name = tag
			}
			fv := rv.Field(i)
			if opts == "omitempty" && fv.IsZero() {
				continue
			}
			var err error
			if dst, err = e.appendMember(dst, name, fv.Interface(), depth); err != nil {
				return dst, err
			}
		}
		return append(dst, "</struct>"...), nil
	}
	return dst, &EncodeError{fmt.Sprintf("cannot encode %s", rv.Type())}
}

// appendEscaped writes s as XML character data. Invalid UTF-8 and characters
// XML 1.0 forbids become U+FFFD, so the document always parses; \r is written
// as a reference because XML parsers turn a literal one into \n.
func appendEscaped(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		width := 1
		if c < utf8.RuneSelf {
			switch {
			case c == '<':
				esc = "&lt;"
			case c == '>':
				esc = "&gt;"
			case c == '&':
				esc = "&amp;"
			case c == '\r':
				esc = "&#xD;"
			case c < 0x20 && c != '\t' && c != '\n':
				esc = "\uFFFD"
			default:
				i++
				continue
			}
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			width = n
			if (r == utf8.RuneError && n == 1) || r == 0xFFFE || r == 0xFFFF {
				esc = "\uFFFD"
			} else {
				i += n
				continue
			}
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		i += width
		last = i
	}
	return append(dst, s[last:]...)
}
