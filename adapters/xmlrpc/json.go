package xmlrpc

// XML-RPC → JSON, for hubgw's REST surface. A Raw value is transcoded in
// one pass over its bytes, straight into JSON: no tree of Go values is
// built, so a 1000-system listSystems costs what scanning it costs (see
// BenchmarkJSONTranscode against kolo/xmlrpc + encoding/json). The
// canonical form Uyuni writes takes a fast path (jsonFast); anything else
// the general path, which reuses the decoder's scanner (tag, chars,
// close...), so both accept and reject exactly the same documents.
//
// The mapping:
//
//	<string>, untyped, <value/>      JSON string
//	<i4> <int> <i8> ...              JSON number (integer)
//	<double>                         JSON number, formatted as encoding/json does
//	<boolean>                        true / false
//	<dateTime.iso8601>               RFC 3339 string with a zone (JSONOptions.Location)
//	<base64>                         standard base64 string, padded
//	<struct>                         JSON object, members in wire order
//	<array>                          JSON array
//	<nil/>                           null

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// JSONOptions tune the JSON form of values.
type JSONOptions struct {
	// Location is the time zone of the server the value came from. Uyuni
	// writes dates as its local wall clock without a zone; JSON dates carry
	// one, so a zone-less date is read as a wall clock in Location. Dates
	// that arrived with a zone keep their instant and are shown in
	// Location. Nil means UTC.
	Location *time.Location
}

func (o *JSONOptions) loc() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

// AppendJSON appends the JSON form of the raw value to dst. On error dst is
// returned as it was given.
func (r Raw) AppendJSON(dst []byte, o JSONOptions) ([]byte, error) {
	n := len(dst)
	if out, ok := fastJSON(dst, r, o.loc()); ok {
		return out, nil
	}
	dst = dst[:n]
	d := decoder{b: r, lim: Limits{}.withDefaults()}
	dst, err := d.jsonValue(dst, &o)
	if err == nil && d.i != len(d.b) {
		err = d.errorf("unexpected data after value")
	}
	if err != nil {
		return dst[:n], err
	}
	return dst, nil
}

var cdataOpen = []byte("<![CDATA[")

// maxJSONDepth bounds AppendValueJSON on values built in Go (cycles).
const maxJSONDepth = 200

// jsonValue is value() writing JSON instead of building a value.
func (d *decoder) jsonValue(dst []byte, o *JSONOptions) ([]byte, error) {
	d.misc()
	name, empty, err := d.tag()
	if err != nil {
		return dst, err
	}
	if string(name) != "value" {
		return dst, d.errorf("expected <value>, found <%s>", name)
	}
	if empty {
		return append(dst, `""`...), nil
	}
	start := d.i
	d.misc()
	if d.i < len(d.b) && d.b[d.i] == '<' && !d.peekClose() && !bytes.HasPrefix(d.b[d.i:], cdataOpen) {
		if dst, err = d.jsonTyped(dst, o); err != nil {
			return dst, err
		}
		return dst, d.close("value")
	}
	d.i = start // untyped: the character data is a string, white space included
	txt, err := d.chars()
	if err != nil {
		return dst, err
	}
	return appendJSONString(dst, txt), d.close("value")
}

func (d *decoder) jsonTyped(dst []byte, o *JSONOptions) ([]byte, error) {
	name, empty, err := d.tag()
	if err != nil {
		return dst, err
	}
	local := name
	if k := bytes.IndexByte(name, ':'); k >= 0 {
		local = name[k+1:]
	}
	switch string(local) {
	case "struct":
		return d.jsonStruct(dst, name, empty, o)
	case "array":
		return d.jsonArray(dst, name, empty, o)
	case "nil":
		if !empty {
			if err := d.closeName(name); err != nil {
				return dst, err
			}
		}
		return append(dst, "null"...), nil
	}
	var txt []byte
	at := d.i
	if !empty {
		if txt, err = d.chars(); err != nil {
			return dst, err
		}
		if err := d.closeName(name); err != nil {
			return dst, err
		}
	}
	if string(local) == "string" {
		return appendJSONString(dst, txt), nil
	}
	txt = trimSpace(txt)
	switch string(local) {
	case "i4", "int", "i8", "i2", "i1":
		n, ok := parseInt(txt)
		if !ok {
			return dst, d.errorAt(at, "bad <%s> %q", name, txt)
		}
		return strconv.AppendInt(dst, n, 10), nil
	case "boolean":
		switch string(txt) {
		case "1", "true":
			return append(dst, "true"...), nil
		case "0", "false":
			return append(dst, "false"...), nil
		}
		return dst, d.errorAt(at, "bad <boolean> %q", txt)
	case "double", "float":
		f, ok := parseDouble(txt)
		if !ok {
			return dst, d.errorAt(at, "bad <%s> %q", name, txt)
		}
		return appendJSONFloat(dst, f), nil
	case "dateTime.iso8601":
		t, err := ParseDateTime(txt)
		if err != nil {
			return dst, d.errorAt(at, "bad <dateTime.iso8601> %q", txt)
		}
		return appendJSONTime(dst, t, !hasZone(txt), o.loc()), nil
	case "base64":
		b, err := decodeBase64(txt)
		if err != nil {
			return dst, d.errorAt(at, "bad <base64>: %v", err)
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, b)
		return append(dst, '"'), nil
	}
	return dst, d.errorAt(at, "unknown value type <%s>", name)
}

func (d *decoder) jsonStruct(dst []byte, name []byte, empty bool, o *JSONOptions) ([]byte, error) {
	if err := d.enter(); err != nil {
		return dst, err
	}
	defer func() { d.depth-- }()
	dst = append(dst, '{')
	if empty {
		return append(dst, '}'), nil
	}
	first := true
	for {
		d.misc()
		if d.peekClose() {
			break
		}
		if err := d.open("member"); err != nil {
			return dst, err
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		var err error
		if dst, err = d.jsonMember(dst, o); err != nil {
			return dst, err
		}
		if err := d.close("member"); err != nil {
			return dst, err
		}
	}
	if err := d.closeName(name); err != nil {
		return dst, err
	}
	return append(dst, '}'), nil
}

// jsonMember writes "name":value. XML-RPC puts <name> first; a member with
// its <value> first (which the decoder also accepts) is moved into place.
func (d *decoder) jsonMember(dst []byte, o *JSONOptions) ([]byte, error) {
	var valueAt = -1
	gotName := false
	for !gotName || valueAt < 0 {
		d.misc()
		switch {
		case !gotName && d.peekOpen("name"):
			_, e, err := d.tag()
			if err != nil {
				return dst, err
			}
			var n []byte
			if !e {
				if n, err = d.chars(); err != nil {
					return dst, err
				}
				if err := d.close("name"); err != nil {
					return dst, err
				}
			}
			if valueAt >= 0 { // value came first: put the name in front of it
				v := slices.Clone(dst[valueAt:])
				dst = appendJSONString(dst[:valueAt], n)
				dst = append(dst, ':')
				dst = append(dst, v...)
			} else {
				dst = appendJSONString(dst, n)
				dst = append(dst, ':')
			}
			gotName = true
		case valueAt < 0 && d.peekOpen("value"):
			valueAt = len(dst)
			var err error
			if dst, err = d.jsonValue(dst, o); err != nil {
				return dst, err
			}
		default:
			return dst, d.errorf("expected <name> and <value> in <member>")
		}
	}
	return dst, nil
}

func (d *decoder) jsonArray(dst []byte, name []byte, empty bool, o *JSONOptions) ([]byte, error) {
	if err := d.enter(); err != nil {
		return dst, err
	}
	defer func() { d.depth-- }()
	if empty {
		return append(dst, "[]"...), nil
	}
	d.misc()
	if d.peekClose() { // <array></array>: tolerated as empty
		return append(dst, "[]"...), d.closeName(name)
	}
	dname, dataEmpty, err := d.tag()
	if err != nil {
		return dst, err
	}
	if string(dname) != "data" {
		return dst, d.errorf("expected <data> in <array>, found <%s>", dname)
	}
	if dataEmpty {
		return append(dst, "[]"...), d.closeName(name)
	}
	dst = append(dst, '[')
	first := true
	for {
		d.misc()
		if d.peekClose() {
			break
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if dst, err = d.jsonValue(dst, o); err != nil {
			return dst, err
		}
	}
	if err := d.close("data"); err != nil {
		return dst, err
	}
	if err := d.closeName(name); err != nil {
		return dst, err
	}
	return append(dst, ']'), nil
}

// hasZone reports whether a date's text names a zone (Z or ±hh:mm after
// the time), as opposed to Uyuni's zone-less wall clock.
func hasZone(txt []byte) bool {
	t := bytes.IndexByte(txt, 'T')
	return t >= 0 && bytes.ContainsAny(txt[t:], "Z+-")
}

// appendJSONTime writes t as an RFC 3339 string in loc. A wall clock (no
// zone on the wire, so ParseDateTime returned it as UTC) is read as a time
// in loc; a time with a zone keeps its instant.
func appendJSONTime(dst []byte, t time.Time, wall bool, loc *time.Location) []byte {
	if wall {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	} else {
		t = t.In(loc)
	}
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendJSONFloat formats f as encoding/json does, so numbers read the same
// whichever path produced them.
func appendJSONFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' { // clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// jsonSafe marks the ASCII bytes a JSON string may hold as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s (valid UTF-8, as the decoder guarantees) as a
// JSON string. Written by hand because encoding/json has no append form
// for a []byte without an allocation per string. U+2028 and U+2029 are
// escaped as encoding/json does, so the output is also valid JavaScript.
func appendJSONString[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
		if c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2]&^1 == 0xA8 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[s[i+2]&0xF])
			i += 3
			start = i
			continue
		}
		i++
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendJSONString appends s as a JSON string, for callers that write
// JSON around transcoded values. s must be valid UTF-8.
func AppendJSONString(dst []byte, s string) []byte { return appendJSONString(dst, s) }

// AppendValueJSON appends the JSON form of a decoded value (see package
// rpc for the Go types), with the same mapping as Raw.AppendJSON; a Raw
// anywhere inside is transcoded. A time.Time in UTC is taken for Uyuni's
// wall clock (that is how the decoder returns dates) and read in
// o.Location; any other keeps its instant. map[string]any members are
// sorted, as the XML-RPC encoder sorts them. On error dst is returned as it
// was given.
func AppendValueJSON(dst []byte, v any, o JSONOptions) ([]byte, error) {
	n := len(dst)
	dst, err := appendValueJSON(dst, v, &o, 0)
	if err != nil {
		return dst[:n], err
	}
	return dst, nil
}

func appendValueJSON(dst []byte, v any, o *JSONOptions, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return dst, &EncodeError{"value nested too deeply (a cycle?)"}
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendJSONString(dst, x), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return dst, &EncodeError{fmt.Sprintf("%v has no JSON form", x)}
		}
		return appendJSONFloat(dst, x), nil
	case time.Time:
		return appendJSONTime(dst, x, x.Location() == time.UTC, o.loc()), nil
	case []byte:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"'), nil
	case Raw:
		n := len(dst)
		if out, ok := fastJSON(dst, x, o.loc()); ok {
			return out, nil
		}
		d := decoder{b: x, lim: Limits{}.withDefaults()}
		dst, err := d.jsonValue(dst[:n], o)
		if err == nil && d.i != len(d.b) {
			err = d.errorf("unexpected data after value")
		}
		return dst, err
	case rpc.Struct:
		dst = append(dst, '{')
		for i, m := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, m.Name)
			dst = append(dst, ':')
			var err error
			if dst, err = appendValueJSON(dst, m.Value, o, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendValueJSON(dst, x[k], o, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValueJSON(dst, e, o, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, e)
		}
		return append(dst, ']'), nil
	case *rpc.Fault:
		return dst, &EncodeError{"a fault is not a value"}
	}
	return dst, &EncodeError{fmt.Sprintf("%T has no JSON form", v)}
}

// jsonFast transcodes the canonical form Uyuni writes (elements without
// attributes or prefixes, no comments, CDATA or character references,
// <name> before <value>, no white space inside tags) by matching whole
// tags, about twice as fast as the general path; on anything else it gives
// up and the general path (the decoder's scanner) transcodes the value from
// its start. It accepts nothing the decoder rejects: FuzzRawJSON checks that
// both paths agree with the decoder. Kept apart from the decoder's own
// validate-only fast path because this one writes as it reads.
type jsonFast struct {
	b     []byte
	i     int
	depth int
	loc   *time.Location
}

// fastJSON appends raw's JSON, or reports false leaving dst's length as it
// was (the caller truncates).
func fastJSON(dst []byte, raw []byte, loc *time.Location) ([]byte, bool) {
	f := jsonFast{b: raw, loc: loc}
	dst, ok := f.value(dst)
	return dst, ok && f.i == len(f.b)
}

func litPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

func (f *jsonFast) ws() {
	for f.i < len(f.b) && isSpace(f.b[f.i]) {
		f.i++
	}
}

func (f *jsonFast) lit(s string) bool {
	if len(f.b)-f.i >= len(s) && string(f.b[f.i:f.i+len(s)]) == s {
		f.i += len(s)
		return true
	}
	return false
}

func (f *jsonFast) value(dst []byte) ([]byte, bool) {
	f.ws()
	if f.lit("<value/>") {
		return append(dst, `""`...), true
	}
	if !f.lit("<value>") {
		return dst, false
	}
	start := f.i
	f.ws()
	var ok bool
	if f.i+1 < len(f.b) && f.b[f.i] == '<' && f.b[f.i+1] != '/' {
		if dst, ok = f.typed(dst); !ok {
			return dst, false
		}
		f.ws()
		return dst, f.lit("</value>")
	}
	f.i = start // untyped: a string, white space included
	if dst, ok = f.str(dst); !ok {
		return dst, false
	}
	return dst, f.lit("</value>")
}

// str writes the character data up to the next '<' as a JSON string,
// resolving the five predefined entities; anything unusual gives up.
func (f *jsonFast) str(dst []byte) ([]byte, bool) {
	b := f.b
	dst = append(dst, '"')
	run := f.i // start of bytes copied as they are
	for i := f.i; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf && jsonSafe[c] && c != '<' && c != '&' {
			i++
			continue
		}
		dst = append(dst, b[run:i]...)
		switch {
		case c == '<':
			if i+1 < len(b) && b[i+1] == '!' {
				return dst, false // comment or CDATA
			}
			f.i = i
			return append(dst, '"'), true
		case c == '&':
			rest := b[i:]
			switch {
			case litPrefix(rest, "&amp;"):
				dst, i = append(dst, '&'), i+5
			case litPrefix(rest, "&lt;"):
				dst, i = append(dst, '<'), i+4
			case litPrefix(rest, "&gt;"):
				dst, i = append(dst, '>'), i+4
			case litPrefix(rest, "&quot;"):
				dst, i = append(dst, '\\', '"'), i+6
			case litPrefix(rest, "&apos;"):
				dst, i = append(dst, '\''), i+6
			default:
				return dst, false
			}
		case c == '"' || c == '\\':
			dst, i = append(dst, '\\', c), i+1
		case c == '\n':
			dst, i = append(dst, '\\', 'n'), i+1
		case c == '\r':
			dst, i = append(dst, '\\', 'r'), i+1
		case c == '\t':
			dst, i = append(dst, '\\', 't'), i+1
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(b[i:])
			if (r == utf8.RuneError && n <= 1) || !xmlChar(r) {
				return dst, false
			}
			if r == '\u2028' || r == '\u2029' {
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			} else {
				dst = append(dst, b[i:i+n]...)
			}
			i += n
		default:
			return dst, false // a control character: the general path says which
		}
		run = i
	}
	return dst, false // no end
}

// raw is the character data up to the next '<' when it is plain (numbers, dates).
func (f *jsonFast) raw() ([]byte, bool) {
	start := f.i
	for f.i < len(f.b) {
		c := f.b[f.i]
		if c == '<' {
			return f.b[start:f.i], true
		}
		if !textByte[c] || c == '&' {
			return nil, false
		}
		f.i++
	}
	return nil, false
}

// typed writes one type element; f.b[f.i] is '<'.
func (f *jsonFast) typed(dst []byte) ([]byte, bool) {
	rest := f.b[f.i:]
	if len(rest) < 3 {
		return dst, false
	}
	var ok bool
	switch rest[1] {
	case 's':
		switch {
		case f.lit("<string>"):
			if dst, ok = f.str(dst); !ok {
				return dst, false
			}
			return dst, f.lit("</string>")
		case f.lit("<string/>"):
			return append(dst, `""`...), true
		case f.lit("<struct>"):
			return f.structure(dst)
		case f.lit("<struct/>"):
			return append(dst, "{}"...), true
		}
	case 'i':
		switch {
		case f.lit("<i4>"):
			return f.integer(dst, "</i4>")
		case f.lit("<int>"):
			return f.integer(dst, "</int>")
		case f.lit("<i8>"):
			return f.integer(dst, "</i8>")
		}
	case 'b':
		if f.lit("<boolean>") {
			switch {
			case f.lit("1</boolean>"), f.lit("true</boolean>"):
				return append(dst, "true"...), true
			case f.lit("0</boolean>"), f.lit("false</boolean>"):
				return append(dst, "false"...), true
			}
		}
	case 'd':
		switch {
		case f.lit("<dateTime.iso8601>"):
			txt, ok := f.raw()
			if !ok {
				return dst, false
			}
			txt = trimSpace(txt)
			t, err := ParseDateTime(txt)
			if err != nil {
				return dst, false
			}
			if hz := hasZone(txt); !hz && f.loc == time.UTC && uyuniShape(txt) {
				// Uyuni's yyyyMMddTHH:mm:ss in UTC, checked by ParseDateTime:
				// rearranged without the time package.
				dst = append(dst, '"')
				dst = append(dst, txt[0:4]...)
				dst = append(dst, '-', txt[4], txt[5], '-', txt[6], txt[7], 'T')
				dst = append(dst, txt[9:17]...)
				dst = append(dst, 'Z', '"')
			} else {
				dst = appendJSONTime(dst, t, !hz, f.loc)
			}
			return dst, f.lit("</dateTime.iso8601>")
		case f.lit("<double>"):
			txt, ok := f.raw()
			if !ok {
				return dst, false
			}
			d, ok := parseDouble(trimSpace(txt))
			if !ok {
				return dst, false
			}
			return appendJSONFloat(dst, d), f.lit("</double>")
		}
	case 'a':
		switch {
		case f.lit("<array>"):
			return f.array(dst)
		case f.lit("<array/>"):
			return append(dst, "[]"...), true
		}
	case 'n':
		if f.lit("<nil/>") {
			return append(dst, "null"...), true
		}
	}
	return dst, false // base64, i1, i2, float, prefixes, attributes: the general path
}

// uyuniShape reports whether a date is written yyyyMMddTHH:mm:ss.
func uyuniShape(b []byte) bool {
	if len(b) != 17 || b[8] != 'T' || b[11] != ':' || b[14] != ':' {
		return false
	}
	for i, c := range b {
		if i != 8 && i != 11 && i != 14 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func (f *jsonFast) integer(dst []byte, closing string) ([]byte, bool) {
	txt, ok := f.raw()
	if !ok {
		return dst, false
	}
	n, ok := parseInt(trimSpace(txt))
	if !ok {
		return dst, false
	}
	return strconv.AppendInt(dst, n, 10), f.lit(closing)
}

func (f *jsonFast) enter() bool {
	f.depth++
	return f.depth <= DefaultMaxDepth
}

func (f *jsonFast) structure(dst []byte) ([]byte, bool) {
	if !f.enter() {
		return dst, false
	}
	defer func() { f.depth-- }()
	dst = append(dst, '{')
	var ok bool
	for first := true; ; first = false {
		f.ws()
		if f.lit("</struct>") {
			return append(dst, '}'), true
		}
		if !f.lit("<member>") {
			return dst, false
		}
		f.ws()
		if !f.lit("<name>") {
			return dst, false
		}
		if !first {
			dst = append(dst, ',')
		}
		if dst, ok = f.str(dst); !ok || !f.lit("</name>") {
			return dst, false
		}
		dst = append(dst, ':')
		if dst, ok = f.value(dst); !ok {
			return dst, false
		}
		f.ws()
		if !f.lit("</member>") {
			return dst, false
		}
	}
}

func (f *jsonFast) array(dst []byte) ([]byte, bool) {
	if !f.enter() {
		return dst, false
	}
	defer func() { f.depth-- }()
	f.ws()
	if f.lit("<data/>") {
		f.ws()
		return append(dst, "[]"...), f.lit("</array>")
	}
	if !f.lit("<data>") {
		return dst, false
	}
	dst = append(dst, '[')
	var ok bool
	for first := true; ; first = false {
		f.ws()
		if f.lit("</data>") {
			f.ws()
			return append(dst, ']'), f.lit("</array>")
		}
		if !first {
			dst = append(dst, ',')
		}
		if dst, ok = f.value(dst); !ok {
			return dst, false
		}
	}
}
