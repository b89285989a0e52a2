package rest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/hubgw/hubgw/adapters/httpapi"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/openapi"
)

// readBody reads the request body within the size limit, or returns the
// problem.
func (h *Handler) readBody(c echo.Context) ([]byte, error) {
	body, err := httpapi.ReadBody(c, h.cfg.MaxBody)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, h.problem(c, http.StatusRequestEntityTooLarge, rpc.Faultf(gateway.CodeTooLarge, "hubgw: request body over the %d byte limit", h.cfg.MaxBody), nil)
	case err != nil:
		return nil, h.problem(c, http.StatusBadRequest, rpc.Faultf(gateway.CodeInvalidRequest, "hubgw: reading the request: %v", err), nil)
	}
	return body, nil
}

// jsonBody checks that a non-empty body says it is JSON.
func (h *Handler) jsonBody(c echo.Context, body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEApplicationJSON {
		return h.problem(c, http.StatusUnsupportedMediaType, rpc.Faultf(gateway.CodeInvalidRequest,
			"hubgw: the body must be JSON, sent with Content-Type: application/json (not %q)", mt), nil)
	}
	return nil
}

// member is one member of a JSON object; object keeps them in order.
type member struct {
	name  string
	value any
}

type object []member

// maxJSONDepth bounds nesting in request bodies.
const maxJSONDepth = 100

// decodeJSON reads one JSON value keeping object members in order and
// numbers exact (json.Number). encoding/json's Decoder is used token by
// token because decoding into map[string]any loses the order of struct
// members, which Uyuni gets in the order sent.
func decodeJSON(b []byte) (any, error) {
	// encoding/json turns invalid UTF-8 into U+FFFD: a name or label
	// the client never wrote would reach the servers.
	if !utf8.Valid(b) {
		return nil, errors.New("the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		if str, ok := tok.(string); ok {
			return str, plainText(str)
		}
		return tok, nil // json.Number, bool or nil
	}
	if depth >= maxJSONDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxJSONDepth)
	}
	switch d {
	case '{':
		obj := object{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			name, _ := k.(string)
			if err := plainText(name); err != nil {
				return nil, err
			}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, member{name, v})
		}
		_, err := dec.Token() // }
		return obj, err
	case '[':
		arr := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token() // ]
		return arr, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// plain turns decoded JSON into what kin-openapi validates: maps and
// float64 numbers.
func plain(v any) any {
	switch x := v.(type) {
	case object:
		m := make(map[string]any, len(x))
		for _, mb := range x {
			m[mb.name] = plain(mb.value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return v
}

// params reads a body of named parameters: nil for an empty body. A
// malformed or non-object body, or a name given twice, is an error for the
// client.
func params(body []byte) (object, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	obj, ok := v.(object)
	if !ok {
		return nil, errors.New("the body must be a JSON object of named parameters")
	}
	seen := map[string]bool{}
	for _, m := range obj {
		if seen[m.name] {
			return nil, fmt.Errorf("parameter %q is given twice", m.name)
		}
		seen[m.name] = true
	}
	return obj, nil
}

func (o object) names() []string {
	out := make([]string, len(o))
	for i, m := range o {
		out[i] = m.name
	}
	return out
}

func (o object) get(name string) (any, bool) {
	for _, m := range o {
		if m.name == name {
			return m.value, true
		}
	}
	return nil, false
}

// hasDates reports whether converting o's arguments depends on the
// target's time zone.
func hasDates(o *openapi.Overload) bool {
	for _, p := range o.Params {
		if p.Type.XMLRPC == "dateTime.iso8601" || p.Type.Elem == "dateTime.iso8601" {
			return true
		}
	}
	return false
}

// args converts named parameters to the overload's XML-RPC arguments, in
// its order, dates in loc (the target's zone). The request was validated,
// so errors here are the few things a schema cannot say (a base64 string
// that does not decode, an integer beyond int64).
func args(o *openapi.Overload, obj object, loc *time.Location) ([]any, *openapi.ValidationError) {
	out := make([]any, len(o.Params))
	for i, p := range o.Params {
		v, _ := obj.get(p.Name)
		x, err := toXMLRPC(v, p.Type.XMLRPC, p.Type.Elem, loc)
		if err != nil {
			return nil, &openapi.ValidationError{Params: []openapi.InvalidParam{{Name: p.Name, Reason: err.Error()}}}
		}
		out[i] = x
	}
	return out, nil
}

// toXMLRPC converts one decoded JSON value to the Go value of an XML-RPC
// type ("" when unknown: by the JSON value's own type).
func toXMLRPC(v any, typ, elem string, loc *time.Location) (any, error) {
	switch typ {
	case "int":
		n, ok := v.(json.Number)
		if !ok {
			return nil, errors.New("must be an integer")
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return nil, errors.New("must be an integer within 64 bits")
		}
		return i, nil
	case "double":
		n, ok := v.(json.Number)
		if !ok {
			return nil, errors.New("must be a number")
		}
		f, err := n.Float64()
		if err != nil {
			return nil, errors.New("must be a finite number")
		}
		return f, nil
	case "string":
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("must be a string")
		}
		return s, nil
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, errors.New("must be true or false")
		}
		return b, nil
	case "dateTime.iso8601":
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("must be a date-time string")
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, errors.New("must be an RFC 3339 date-time with a zone, such as 2025-01-02T03:04:05Z")
		}
		// Uyuni reads a wall clock in its own zone.
		return t.In(loc), nil
	case "base64":
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("must be a base64 string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, errors.New("must be standard base64")
		}
		return b, nil
	case "struct":
		if _, ok := v.(object); !ok {
			return nil, errors.New("must be a JSON object")
		}
		return generic(v), nil
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return nil, errors.New("must be a JSON array")
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			x, err := toXMLRPC(e, elem, "", loc)
			if err != nil {
				return nil, fmt.Errorf("at /%d: %w", i, err)
			}
			out[i] = x
		}
		return out, nil
	}
	return generic(v), nil
}

// generic converts JSON whose XML-RPC types are unknown (struct members):
// integral numbers become ints, others doubles; null members are left out,
// as Uyuni does.
func generic(v any) any {
	switch x := v.(type) {
	case object:
		s := make(rpc.Struct, 0, len(x))
		for _, m := range x {
			if m.value != nil {
				s = append(s, rpc.Member{Name: m.name, Value: generic(m.value)})
			}
		}
		return s
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = generic(e)
		}
		return out
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// plainText refuses NUL in a client's text: XML, which carries it on to
// the servers, cannot hold it, so it would arrive as U+FFFD.
func plainText(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return errors.New("text must not contain NUL (\\u0000)")
	}
	return nil
}

// queryValue turns a query string value into the JSON value of a scalar
// type (Uyuni's HTTP API takes scalars in the query).
func queryValue(s string, t openapi.Type) (any, error) {
	switch t.XMLRPC {
	case "int", "double":
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return nil, errors.New("must be a number")
		}
		return json.Number(s), nil
	case "boolean":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, errors.New("must be true or false")
		}
		return b, nil
	case "struct", "array":
		return nil, errors.New("a " + t.XMLRPC + " goes in the JSON body, not the query")
	}
	if !utf8.ValidString(s) {
		return nil, errors.New("is not valid UTF-8")
	}
	return s, plainText(s)
}
