// Package xmlrpc is hubgw's XML-RPC codec: it decodes method calls and method
// responses and encodes them back, byte for byte as Uyuni speaks them.
//
// It is written by hand because no Go library does the server side, and the
// one client library we use elsewhere (kolo/xmlrpc) decodes lossily: it drops
// the rest of an array after an empty <value/>, rejects untyped string values
// and leaves base64 undecoded. It is also the hot path of the gateway, and a
// single-pass scanner over a byte slice is several times faster than
// encoding/xml's token stream (see the benchmarks).
//
// Decoded values are the Go values documented in package rpc. Raw carries a
// <value> element through untouched where the gateway need not look inside.
//
// Decoding and re-encoding keeps every value, with these normalisations:
// untyped values and <value/> become <string>; any integer width becomes
// <i4> (<i8> past 32 bits); booleans become 1/0; doubles are rewritten
// without exponent; dates keep their wall clock to the second and lose any
// zone and fraction (Uyuni's yyyyMMddTHH:mm:ss has neither); struct members
// whose value is nil are left out, as Uyuni does. The fuzz tests check this.
//
// The decoder accepts only UTF-8 documents without DTD, so there are no
// entity expansions beyond the five predefined ones and character references;
// characters XML 1.0 forbids are rejected, literal or referenced. Line ends
// are not normalised (a literal CR stays a CR). Limits bound size and depth.
package xmlrpc

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Limits bound what a decoder accepts, so hostile input costs little.
type Limits struct {
	MaxBytes int // the whole document; 0 means DefaultMaxBytes
	MaxDepth int // nesting of arrays and structs; 0 means DefaultMaxDepth
}

const (
	DefaultMaxBytes = 64 << 20
	DefaultMaxDepth = 100
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// Call is a decoded methodCall.
type Call struct {
	Method string
	Params []any
}

// Raw is one complete <value>…</value> element, exactly as it arrived. The
// encoder writes it verbatim. A Raw returned by a decoder aliases the decoded
// buffer, which must then stay unchanged while the Raw is in use.
type Raw []byte

// Encoded is the value's bytes (rpc.Raw).
func (r Raw) Encoded() []byte { return r }

// Decode decodes a raw value into plain Go values.
func (r Raw) Decode() (any, error) {
	d := decoder{b: r, lim: Limits{}.withDefaults()}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	if d.i != len(d.b) {
		return nil, d.errorf("unexpected data after value")
	}
	return v, nil
}

// SyntaxError is returned for a document that is not well-formed XML-RPC.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("malformed XML-RPC at byte %d: %s", e.Offset, e.Msg)
}

// ErrTooLarge is returned for a document over Limits.MaxBytes.
var ErrTooLarge = errors.New("XML-RPC document too large")

// DecodeCall decodes a methodCall. Params are decoded into plain Go values.
func DecodeCall(data []byte, lim Limits) (Call, error) {
	return decodeCall(data, lim, false, false)
}

// DecodeCallRaw decodes a methodCall but leaves each parameter as a Raw
// (validated), for callers that forward most parameters unchanged.
func DecodeCallRaw(data []byte, lim Limits) (Call, error) {
	return decodeCall(data, lim, true, false)
}

// DecodeCallOwned is DecodeCall for an edge that hands over data: it
// must never change afterwards, because long strings (aliasMin bytes and
// more) are not copied out of it but refer to it. A 15 MiB argument is
// then held once, not as the request body and again as its string (issue
// 12, H2); such a string keeps the body alive as long as it lives.
func DecodeCallOwned(data []byte, lim Limits) (Call, error) {
	return decodeCall(data, lim, false, true)
}

// aliasMin is the length from which DecodeCallOwned's strings refer to
// the input: below it a copy costs less than keeping a larger body alive.
const aliasMin = 64 << 10

func decodeCall(data []byte, lim Limits, raw bool, owned bool) (Call, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return Call{}, ErrTooLarge
	}
	d := decoder{b: data, lim: lim, raw: raw, owned: owned}
	var c Call
	if err := d.prolog(); err != nil {
		return c, err
	}
	if err := d.open("methodCall"); err != nil {
		return c, err
	}
	d.misc()
	if err := d.open("methodName"); err != nil {
		return c, err
	}
	name, err := d.chars()
	if err != nil {
		return c, err
	}
	name = trimSpace(name)
	if err := checkMethodName(name); err != nil {
		return c, d.errorf("%v", err)
	}
	c.Method = string(name)
	if err := d.close("methodName"); err != nil {
		return c, err
	}
	params, err := d.params("methodCall")
	if err != nil {
		return c, err
	}
	c.Params = params
	return c, d.epilog()
}

// MaxMethodName bounds a methodName. Uyuni's longest is under 80 bytes;
// a name is logged and forwarded, so one of megabytes must not get that far.
const MaxMethodName = 256

// checkMethodName is the one rule for method names, applied where every
// XML-RPC call is decoded so nothing logs or forwards a bad one: Uyuni's
// names are namespace.method in [A-Za-z0-9_.]. The error never quotes the
// name itself, which may be huge or hostile.
func checkMethodName(name []byte) error {
	switch {
	case len(name) == 0:
		return errors.New("empty methodName")
	case len(name) > MaxMethodName:
		return fmt.Errorf("methodName of %d bytes is over the %d byte limit", len(name), MaxMethodName)
	}
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return fmt.Errorf("methodName has byte %#02x at %d: only A-Z a-z 0-9 _ . are allowed", c, i)
		}
	}
	return nil
}

// DecodeResponse decodes a methodResponse. A fault is returned as a *rpc.Fault error.
func DecodeResponse(data []byte, lim Limits) (any, error) {
	return decodeResponse(data, lim, false)
}

// DecodeResponseRaw decodes a methodResponse but returns its value as a Raw,
// validated and not copied. A fault is returned as a *rpc.Fault error.
func DecodeResponseRaw(data []byte, lim Limits) (Raw, error) {
	v, err := decodeResponse(data, lim, true)
	if err != nil {
		return nil, err
	}
	return v.(Raw), nil
}

func decodeResponse(data []byte, lim Limits, raw bool) (any, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, ErrTooLarge
	}
	d := decoder{b: data, lim: lim, raw: raw}
	if err := d.prolog(); err != nil {
		return nil, err
	}
	if err := d.open("methodResponse"); err != nil {
		return nil, err
	}
	d.misc()
	if d.peekOpen("fault") {
		f, err := d.fault()
		if err != nil {
			return nil, err
		}
		if err := d.close("methodResponse"); err != nil {
			return nil, err
		}
		if err := d.epilog(); err != nil {
			return nil, err
		}
		return nil, f
	}
	params, err := d.params("methodResponse")
	if err != nil {
		return nil, err
	}
	if len(params) != 1 {
		return nil, d.errorf("methodResponse has %d params, want 1", len(params))
	}
	if err := d.epilog(); err != nil {
		return nil, err
	}
	return params[0], nil
}

type decoder struct {
	b     []byte
	i     int
	depth int
	lim   Limits
	raw   bool // params as Raw
	skip  bool // validate only, build nothing
	owned bool // the input never changes: long strings may refer to it (DecodeCallOwned)

	// Scratch stacks for the members and elements of the structs and arrays
	// being read: each container collects its children at the top and then
	// copies them into a slice of exactly the right size, one allocation
	// instead of a growing append per container.
	members []rpc.Member
	elems   []any

	// names interns struct member names: a list of structs repeats the same
	// few names, so each is allocated once per document. Direct-mapped by a
	// hash; a collision only costs an allocation.
	names [64]string
}

func (d *decoder) errorf(format string, args ...any) error {
	return d.errorAt(d.i, format, args...)
}

func (d *decoder) errorAt(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// misc skips white space, comments and processing instructions.
func (d *decoder) misc() {
	for d.i < len(d.b) {
		c := d.b[d.i]
		if isSpace(c) {
			d.i++
			continue
		}
		if c != '<' || d.i+1 >= len(d.b) {
			return
		}
		if c = d.b[d.i+1]; c != '!' && c != '?' { // an element: the usual case
			return
		}
		switch {
		case bytes.HasPrefix(d.b[d.i:], []byte("<!--")):
			end := bytes.Index(d.b[d.i+4:], []byte("-->"))
			if end < 0 {
				return // left for the caller to report
			}
			d.i += 4 + end + 3
		case d.b[d.i+1] == '?':
			end := bytes.Index(d.b[d.i+2:], []byte("?>"))
			if end < 0 {
				return
			}
			d.i += 2 + end + 2
		default:
			return
		}
	}
}

// prolog checks the XML declaration's encoding and skips what precedes the root.
func (d *decoder) prolog() error {
	if bytes.HasPrefix(d.b, []byte("\xef\xbb\xbf")) {
		d.i = 3 // skipped, not cut, so error offsets count from the real start
	}
	if bytes.HasPrefix(d.b[d.i:], []byte("<?xml")) {
		end := bytes.Index(d.b[d.i:], []byte("?>"))
		if end < 0 {
			return d.errorf("unterminated XML declaration")
		}
		end += d.i
		decl := d.b[d.i:end]
		if k := bytes.Index(decl, []byte("encoding")); k >= 0 {
			enc := decl[k+len("encoding"):]
			enc = bytes.TrimLeft(enc, " \t\r\n=\"'")
			if j := bytes.IndexAny(enc, "\"'"); j >= 0 {
				enc = enc[:j]
			}
			switch string(bytes.ToLower(enc)) {
			case "utf-8", "utf8", "us-ascii", "ascii":
			default:
				return d.errorf("unsupported encoding %q (only UTF-8)", enc)
			}
		}
		d.i = end + 2
	}
	d.misc()
	if bytes.HasPrefix(d.b[d.i:], []byte("<!")) {
		return d.errorf("DOCTYPE and other declarations are not accepted")
	}
	return nil
}

func (d *decoder) epilog() error {
	d.misc()
	if d.i != len(d.b) {
		return d.errorf("unexpected data after document end")
	}
	return nil
}

// tag reads a start tag and returns its name and whether it closed itself.
// Attributes (e.g. Apache's xmlns:ex) are checked for syntax and skipped.
func (d *decoder) tag() (name []byte, empty bool, err error) {
	b := d.b
	if d.i >= len(b) {
		return nil, false, d.errorf("unexpected end of document")
	}
	if b[d.i] != '<' {
		return nil, false, d.errorf("expected a tag")
	}
	// misc and chars skip complete comments and PIs, so what is left here
	// is unterminated or does not belong.
	if d.i+1 < len(b) {
		switch b[d.i+1] {
		case '/':
			return nil, false, d.errorf("expected a start tag, found an end tag")
		case '?':
			return nil, false, d.errorf("unterminated processing instruction")
		case '!':
			rest := b[d.i:]
			switch {
			case bytes.HasPrefix(rest, []byte("<!--")):
				return nil, false, d.errorf("unterminated comment")
			case bytes.HasPrefix(rest, []byte("<![CDATA[")):
				return nil, false, d.errorf("CDATA section where an element is expected")
			}
			return nil, false, d.errorf("DOCTYPE and other declarations are not accepted")
		}
	}
	j := d.i + 1
	for j < len(b) && isNameByte(b[j]) {
		j++
	}
	if j == d.i+1 {
		if j >= len(b) {
			return nil, false, d.errorf("unexpected end of document in tag")
		}
		d.i = j
		return nil, false, d.errorf("bad tag name")
	}
	name = b[d.i+1 : j]
	for {
		sp := j
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j >= len(b) {
			d.i = j
			return nil, false, d.errorf("unexpected end of document in tag")
		}
		switch b[j] {
		case '>':
			d.i = j + 1
			return name, false, nil
		case '/':
			if j+1 < len(b) && b[j+1] == '>' {
				d.i = j + 2
				return name, true, nil
			}
			d.i = j
			return nil, false, d.errorf("bad character '/' in tag")
		}
		// An attribute: white space, name, '=', quoted value without '<'.
		a := j
		for j < len(b) && isNameByte(b[j]) {
			j++
		}
		if j == a || sp == a {
			d.i = j
			if j >= len(b) {
				return nil, false, d.errorf("unexpected end of document in tag")
			}
			return nil, false, d.errorf("bad character %q in tag", b[j])
		}
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j >= len(b) || b[j] != '=' {
			d.i = j
			return nil, false, d.errorf("attribute without value")
		}
		j++
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if j >= len(b) || (b[j] != '"' && b[j] != '\'') {
			d.i = j
			return nil, false, d.errorf("attribute value not quoted")
		}
		q := b[j]
		k := bytes.IndexByte(b[j+1:], q)
		if k < 0 {
			d.i = j
			return nil, false, d.errorf("unterminated attribute value")
		}
		if bytes.IndexByte(b[j+1:j+1+k], '<') >= 0 {
			d.i = j
			return nil, false, d.errorf("'<' in attribute value")
		}
		j += k + 2
	}
}

// isNameByte reports whether c may be part of an element or attribute name.
// Names are only compared with the few XML-RPC names, so this is loose.
func isNameByte(c byte) bool { return nameByte[c] }

var nameByte = func() (t [256]bool) {
	for c := '!'; c < 256; c++ {
		t[c] = !strings.ContainsRune(`<>/="'&?!`, c)
	}
	return t
}()

// open reads the start tag name, which must not be self-closing.
func (d *decoder) open(name string) error {
	d.misc()
	n, empty, err := d.tag()
	if err != nil {
		return err
	}
	if string(n) != name {
		return d.errorf("expected <%s>, found <%s>", name, n)
	}
	if empty {
		return d.errorf("unexpected empty <%s/>", name)
	}
	return nil
}

// peekOpen reports whether the next tag is <name …> (possibly self-closing).
func (d *decoder) peekOpen(name string) bool {
	rest := d.b[d.i:]
	if len(rest) < len(name)+2 || rest[0] != '<' || string(rest[1:1+len(name)]) != name {
		return false
	}
	c := rest[1+len(name)]
	return c == '>' || c == '/' || isSpace(c)
}

func (d *decoder) peekClose() bool {
	return d.i+1 < len(d.b) && d.b[d.i] == '<' && d.b[d.i+1] == '/'
}

// close reads </name>, after optional white space and comments.
func (d *decoder) close(name string) error {
	d.misc()
	rest := d.b[d.i:]
	if len(rest) < len(name)+3 || rest[0] != '<' || rest[1] != '/' || string(rest[2:2+len(name)]) != name {
		if len(rest) == 0 {
			return d.errorf("unexpected end of document, expected </%s>", name)
		}
		return d.errorf("expected </%s>", name)
	}
	j := 2 + len(name)
	for j < len(rest) && isSpace(rest[j]) {
		j++
	}
	if j >= len(rest) || rest[j] != '>' {
		return d.errorf("bad </%s>", name)
	}
	d.i += j + 1
	return nil
}

// closeName is close for a name taken from the input (a type element such
// as <ex:i8>): the usual case costs no string conversion.
func (d *decoder) closeName(name []byte) error {
	d.misc()
	rest := d.b[d.i:]
	if n := len(name); len(rest) > n+2 && rest[0] == '<' && rest[1] == '/' && bytes.Equal(rest[2:2+n], name) && rest[2+n] == '>' {
		d.i += n + 3
		return nil
	}
	return d.close(string(name)) // white space before '>', or an error to report
}

// params reads an optional <params> list and the closing root tag.
func (d *decoder) params(root string) ([]any, error) {
	d.misc()
	var out []any
	if d.peekOpen("params") {
		_, empty, err := d.tag()
		if err != nil {
			return nil, err
		}
		if !empty {
			for {
				d.misc()
				if d.peekClose() {
					break
				}
				if err := d.open("param"); err != nil {
					return nil, err
				}
				d.misc()
				v, err := d.param()
				if err != nil {
					return nil, err
				}
				out = append(out, v)
				if err := d.close("param"); err != nil {
					return nil, err
				}
			}
			if err := d.close("params"); err != nil {
				return nil, err
			}
		}
	}
	if err := d.close(root); err != nil {
		return nil, err
	}
	return out, nil
}

// param reads one <value> as a Raw or as a decoded value.
func (d *decoder) param() (any, error) {
	if !d.raw {
		return d.value()
	}
	start := d.i
	if end, ok := scanValue(d.b, d.i, d.lim.MaxDepth); ok {
		d.i = end
		return Raw(d.b[start:end:end]), nil
	}
	d.skip = true
	_, err := d.value()
	d.skip = false
	if err != nil {
		return nil, err
	}
	return Raw(d.b[start:d.i:d.i]), nil
}

func (d *decoder) fault() (*rpc.Fault, error) {
	if err := d.open("fault"); err != nil {
		return nil, err
	}
	d.misc()
	skip := d.skip
	d.skip = false
	v, err := d.value()
	d.skip = skip
	if err != nil {
		return nil, err
	}
	if err := d.close("fault"); err != nil {
		return nil, err
	}
	s, ok := v.(rpc.Struct)
	if !ok {
		return nil, d.errorf("fault value is a %s, want a struct", rpc.TypeName(v))
	}
	f := &rpc.Fault{}
	code, _ := s.Get("faultCode")
	switch c := code.(type) {
	case int64:
		f.Code = int(c)
	case string: // some servers send the code as a string
		n, err := strconv.Atoi(string(trimSpace([]byte(c))))
		if err != nil {
			return nil, d.errorf("fault code %q is not a number", c)
		}
		f.Code = n
	default:
		return nil, d.errorf("fault has no integer faultCode")
	}
	str, _ := s.Get("faultString")
	f.String, _ = str.(string)
	return f, nil
}

// value reads <value>…</value> (or <value/>) at the current position.
func (d *decoder) value() (any, error) {
	d.misc()
	name, empty, err := d.tag()
	if err != nil {
		return nil, err
	}
	if string(name) != "value" {
		return nil, d.errorf("expected <value>, found <%s>", name)
	}
	if empty {
		return "", nil // <value/> is the empty string
	}
	start := d.i
	d.misc()
	if d.i < len(d.b) && d.b[d.i] == '<' && !d.peekClose() && !bytes.HasPrefix(d.b[d.i:], []byte("<![CDATA[")) {
		v, err := d.typed()
		if err != nil {
			return nil, err
		}
		return v, d.close("value")
	}
	// Untyped: the character data is a string, white space included.
	d.i = start
	s, err := d.text()
	if err != nil {
		return nil, err
	}
	return s, d.close("value")
}

// typed reads one typed element such as <int>1</int>.
func (d *decoder) typed() (any, error) {
	name, empty, err := d.tag()
	if err != nil {
		return nil, err
	}
	local := name
	if k := bytes.IndexByte(name, ':'); k >= 0 {
		local = name[k+1:]
	}
	switch string(local) {
	case "struct":
		return d.structure(name, empty)
	case "array":
		return d.array(name, empty)
	case "nil":
		if !empty {
			if err := d.closeName(name); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	var txt []byte
	at := d.i // errors about the content point at its start
	if !empty {
		if txt, err = d.chars(); err != nil {
			return nil, err
		}
		if err := d.closeName(name); err != nil {
			return nil, err
		}
	}
	if string(local) == "string" {
		if d.skip {
			return nil, nil
		}
		return d.str(txt), nil
	}
	// In skip mode values are validated but not returned: boxing them in
	// an interface would allocate for nothing.
	txt = trimSpace(txt)
	switch string(local) {
	case "i4", "int", "i8", "i2", "i1":
		n, ok := parseInt(txt)
		if !ok {
			return nil, d.errorAt(at, "bad <%s> %q", name, txt)
		}
		if d.skip {
			return nil, nil
		}
		return n, nil
	case "boolean":
		switch string(txt) {
		case "1", "true":
			return true, nil
		case "0", "false":
			return false, nil
		}
		return nil, d.errorAt(at, "bad <boolean> %q", txt)
	case "double", "float":
		f, ok := parseDouble(txt)
		if !ok {
			return nil, d.errorAt(at, "bad <%s> %q", name, txt)
		}
		if d.skip {
			return nil, nil
		}
		return f, nil
	case "dateTime.iso8601":
		t, err := ParseDateTime(txt)
		if err != nil {
			return nil, d.errorAt(at, "bad <dateTime.iso8601> %q", txt)
		}
		if d.skip {
			return nil, nil
		}
		return t, nil
	case "base64":
		// Decoding is the validation; skip mode must reject exactly what
		// the full decoder rejects (DecodeResponseRaw agrees with DecodeResponse).
		b, err := decodeBase64(txt)
		if err != nil {
			return nil, d.errorAt(at, "bad <base64>: %v", err)
		}
		if d.skip {
			return nil, nil
		}
		return b, nil
	}
	return nil, d.errorAt(at, "unknown value type <%s>", name)
}

// parseDouble accepts decimal numbers with an optional fraction and
// exponent, as XML-RPC implementations write them (the spec has no exponent,
// Python and Java write one). strconv alone would also take NaN, Inf, hex
// floats and underscores, which no peer sends and we could not re-encode.
func parseDouble(b []byte) (float64, bool) {
	i := 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	digits := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		e := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == e {
			return 0, false
		}
	}
	if i != len(b) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil { // out of range: ±Inf has no XML-RPC form
		return 0, false
	}
	return f, true
}

// parseInt parses a decimal int64 without allocating (strconv wants a string).
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	for len(b) > 1 && b[0] == '0' { // leading zeros do not count towards the 19 digits
		b = b[1:]
	}
	if len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return d.errorf("nesting deeper than %d", d.lim.MaxDepth)
	}
	return nil
}

func (d *decoder) structure(name []byte, empty bool) (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	if empty {
		if d.skip {
			return nil, nil
		}
		return rpc.Struct{}, nil
	}
	base := len(d.members)
	for {
		d.misc()
		if d.peekClose() {
			break
		}
		if err := d.open("member"); err != nil {
			return nil, err
		}
		var (
			mname   string
			mval    any
			gotName bool
			gotVal  bool
		)
		for !gotName || !gotVal {
			d.misc()
			switch {
			case !gotName && d.peekOpen("name"):
				_, e, err := d.tag()
				if err != nil {
					return nil, err
				}
				if !e {
					if mname, err = d.memberName(); err != nil {
						return nil, err
					}
					if err := d.close("name"); err != nil {
						return nil, err
					}
				}
				gotName = true
			case !gotVal && d.peekOpen("value"):
				v, err := d.value()
				if err != nil {
					return nil, err
				}
				mval, gotVal = v, true
			default:
				return nil, d.errorf("expected <name> and <value> in <member>")
			}
		}
		if err := d.close("member"); err != nil {
			return nil, err
		}
		if !d.skip {
			d.members = append(d.members, rpc.Member{Name: mname, Value: mval})
		}
	}
	if err := d.closeName(name); err != nil {
		return nil, err
	}
	if d.skip {
		return nil, nil
	}
	s := make(rpc.Struct, len(d.members)-base)
	copy(s, d.members[base:])
	clear(d.members[base:]) // drop references the scratch need not keep
	d.members = d.members[:base]
	return s, nil
}

func (d *decoder) array(name []byte, empty bool) (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	if empty {
		return d.emptyArray(), nil
	}
	d.misc()
	if d.peekClose() { // <array></array>: tolerated as empty
		return d.emptyArray(), d.closeName(name)
	}
	dname, dataEmpty, err := d.tag()
	if err != nil {
		return nil, err
	}
	if string(dname) != "data" {
		return nil, d.errorf("expected <data> in <array>, found <%s>", dname)
	}
	if dataEmpty {
		return d.emptyArray(), d.closeName(name)
	}
	base := len(d.elems)
	for {
		d.misc()
		if d.peekClose() {
			break
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if !d.skip {
			d.elems = append(d.elems, v)
		}
	}
	if err := d.close("data"); err != nil {
		return nil, err
	}
	if err := d.closeName(name); err != nil {
		return nil, err
	}
	if d.skip {
		return nil, nil
	}
	out := make([]any, len(d.elems)-base)
	copy(out, d.elems[base:])
	clear(d.elems[base:])
	d.elems = d.elems[:base]
	return out, nil
}

func (d *decoder) emptyArray() any {
	if d.skip {
		return nil
	}
	return []any{}
}

// memberName reads a struct member's name, interned (see decoder.names).
func (d *decoder) memberName() (string, error) {
	b, err := d.chars()
	if err != nil || d.skip {
		return "", err
	}
	if len(b) == 0 || len(b) > 64 {
		return string(b), nil
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	slot := &d.names[h%uint32(len(d.names))]
	if *slot != string(b) {
		*slot = string(b)
	}
	return *slot, nil
}

// text reads character data as a string (see chars).
func (d *decoder) text() (string, error) {
	b, err := d.chars()
	if err != nil || d.skip {
		return "", err
	}
	return d.str(b), nil
}

// str is a string value of what chars read: a copy, or for a long one
// in owned input, the bytes themselves (they alias the input, or a
// buffer chars made for them alone; neither changes again).
func (d *decoder) str(b []byte) string {
	if d.owned && len(b) >= aliasMin {
		return unsafe.String(&b[0], len(b))
	}
	return string(b)
}

// chars reads character data up to the next tag, resolving entities and
// CDATA sections and skipping comments. It rejects invalid UTF-8 and the
// characters XML 1.0 forbids (controls other than tab, LF and CR; U+FFFE;
// U+FFFF), literal or referenced: the encoder could not write them back.
// On the fast path (no entity, CDATA or comment) the result aliases the
// input, so numbers and dates are parsed without allocating.
// Line ends are not normalised: a literal CR stays a CR, as its sender meant.
func (d *decoder) chars() ([]byte, error) {
	start := d.i
	b := d.b
	// Fast path: plain text with no entity, CDATA or comment.
	i := start
	for i < len(b) {
		c := b[i]
		if textByte[c] {
			i++
			continue
		}
		if c == '<' {
			if i+1 < len(b) && b[i+1] == '!' {
				break // comment or CDATA: slow path
			}
			d.i = i
			return b[start:i], nil
		}
		if c == '&' {
			break
		}
		n, err := d.checkChar(b, i)
		if err != nil {
			return nil, err
		}
		i += n
	}
	if i >= len(b) {
		d.i = i
		return nil, d.errorf("unexpected end of document in text")
	}
	// Slow path: copy what was scanned and continue with unescaping.
	buf := make([]byte, 0, i-start+16)
	buf = append(buf, b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case textByte[c]:
			buf = append(buf, c)
			i++
		case c == '<':
			switch {
			case bytes.HasPrefix(b[i:], []byte("<!--")):
				end := bytes.Index(b[i+4:], []byte("-->"))
				if end < 0 {
					d.i = i
					return nil, d.errorf("unterminated comment")
				}
				i += 4 + end + 3
				continue
			case bytes.HasPrefix(b[i:], []byte("<![CDATA[")):
				end := bytes.Index(b[i+9:], []byte("]]>"))
				if end < 0 {
					d.i = i
					return nil, d.errorf("unterminated CDATA section")
				}
				for k := i + 9; k < i+9+end; {
					n, err := d.checkChar(b, k)
					if err != nil {
						return nil, err
					}
					k += n
				}
				buf = append(buf, b[i+9:i+9+end]...)
				i += 9 + end + 3
				continue
			}
			d.i = i
			return buf, nil
		case c == '&':
			end := bytes.IndexByte(b[i:min(len(b), i+12)], ';')
			if end < 0 {
				d.i = i
				return nil, d.errorf("bad entity reference")
			}
			ent := b[i+1 : i+end]
			var r rune
			switch string(ent) {
			case "lt":
				r = '<'
			case "gt":
				r = '>'
			case "amp":
				r = '&'
			case "quot":
				r = '"'
			case "apos":
				r = '\''
			default:
				var n uint64
				var err error
				switch {
				case len(ent) > 2 && ent[0] == '#' && ent[1] == 'x':
					n, err = strconv.ParseUint(string(ent[2:]), 16, 32)
				case len(ent) > 1 && ent[0] == '#' && ent[1] >= '0' && ent[1] <= '9':
					n, err = strconv.ParseUint(string(ent[1:]), 10, 32)
				default:
					err = errors.New("unknown")
				}
				if err != nil || n > utf8.MaxRune || !xmlChar(rune(n)) {
					d.i = i
					return nil, d.errorf("bad entity reference &%s;", ent)
				}
				r = rune(n)
			}
			buf = utf8.AppendRune(buf, r)
			i += end + 1
		default:
			n, err := d.checkChar(b, i)
			if err != nil {
				return nil, err
			}
			buf = append(buf, b[i:i+n]...)
			i += n
		}
	}
	d.i = i
	return nil, d.errorf("unexpected end of document in text")
}

// textByte marks the bytes that are plain character data on their own:
// printable ASCII except '<' and '&', and tab, LF and CR.
var textByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '<' && c != '&'
	}
	t['\t'], t['\n'], t['\r'] = true, true, true
	return t
}()

// checkChar validates the character at b[i] and returns its length.
func (d *decoder) checkChar(b []byte, i int) (int, error) {
	c := b[i]
	if c < utf8.RuneSelf {
		if textByte[c] || c == '<' || c == '&' {
			return 1, nil
		}
		d.i = i
		return 0, d.errorf("control character %#x not allowed in XML", c)
	}
	r, n := utf8.DecodeRune(b[i:])
	if r == utf8.RuneError && n <= 1 {
		d.i = i
		return 0, d.errorf("invalid UTF-8")
	}
	if !xmlChar(r) {
		d.i = i
		return 0, d.errorf("character %U not allowed in XML", r)
	}
	return n, nil
}

// xmlChar reports whether XML 1.0 allows r in a document.
func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r >= 0xD800 && r <= 0xDFFF:
		return false
	case r == 0xFFFE || r == 0xFFFF:
		return false
	}
	return r <= utf8.MaxRune
}

// decodeBase64 accepts standard base64 with line breaks (Python wraps at 76
// columns) and with or without padding.
func decodeBase64(txt []byte) ([]byte, error) {
	clean := txt
	if bytes.ContainsAny(txt, " \t\r\n") {
		clean = make([]byte, 0, len(txt))
		for _, c := range txt {
			if !isSpace(c) {
				clean = append(clean, c)
			}
		}
	}
	enc := base64.StdEncoding
	if len(clean)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	n, err := enc.Decode(out, clean)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

// DateTimeLayout is how Uyuni writes dates: server-local wall clock, no zone.
const DateTimeLayout = "20060102T15:04:05"

var dateLayouts = []string{
	"20060102T15:04:05Z07:00",
	"20060102T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"20060102T150405",
	"20060102T150405Z07:00",
	"20060102T15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"20060102T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
}

// ParseDateTime reads Uyuni's yyyyMMddTHH:mm:ss and the usual variants
// (dashes, a zone, a fraction). A date without a zone is a wall clock time,
// returned in UTC; the caller decides which zone it was meant in.
func ParseDateTime(b []byte) (time.Time, error) {
	if len(b) == 17 && b[8] == 'T' && b[11] == ':' && b[14] == ':' {
		// Fast path for Uyuni's own form.
		n := func(s []byte) (int, bool) {
			v := 0
			for _, c := range s {
				if c < '0' || c > '9' {
					return 0, false
				}
				v = v*10 + int(c-'0')
			}
			return v, true
		}
		y, ok1 := n(b[0:4])
		mo, ok2 := n(b[4:6])
		dd, ok3 := n(b[6:8])
		h, ok4 := n(b[9:11])
		mi, ok5 := n(b[12:14])
		s, ok6 := n(b[15:17])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && dd >= 1 && dd <= 31 && h < 24 && mi < 60 && s < 60 {
			t := time.Date(y, time.Month(mo), dd, h, mi, s, 0, time.UTC)
			if t.Day() == dd {
				return t, nil
			}
		}
	}
	s := string(b)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised date %q", s)
}
