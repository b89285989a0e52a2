package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"go.yaml.in/yaml/v3"
)

// Spec is one generated document with everything served or checked
// against it. Treat it as read-only.
type Spec struct {
	Model *Model
	Doc   *openapi3.T
	JSON  []byte
	ETag  string // changes with the hub's API

	routes map[routeKey]*routers.Route
	ops    map[string]*routers.Route // the gateway's own, by "METHOD path"
	bodies map[*Overload]*openapi3.Schema
	filter *openapi3filter.Options

	yamlOnce sync.Once
	yaml     []byte
	yamlErr  error
}

// Build generates m's document, checks it with kin-openapi's validator and
// encodes it.
func Build(ctx context.Context, m *Model) (*Spec, error) {
	doc, rs := generate(m)
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("openapi: the generated document is not valid OpenAPI: %w", err)
	}
	j, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: encoding the document: %w", err)
	}
	s := &Spec{
		Model:  m,
		Doc:    doc,
		JSON:   j,
		ETag:   `"` + m.Source + "-" + m.Version + "-" + m.Hash[:16] + `"`,
		routes: make(map[routeKey]*routers.Route, len(rs)),
		ops:    map[string]*routers.Route{},
		bodies: map[*Overload]*openapi3.Schema{},
		filter: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, // the REST layer authenticates first
			MultiError:         true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.EnableFormatValidation(), openapi3.DisableSchemaErrorDetails(),
			},
		},
	}
	for _, path := range []string{"/api/v1/login", "/api/v1/logout", "/api/v1/attach", "/api/v1/peripherals"} {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			s.ops[method+" "+path] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	for k, r := range rs {
		s.routes[k] = &routers.Route{Spec: doc, Path: r.path, PathItem: r.item, Method: http.MethodPost, Operation: r.op}
		if r.body != nil {
			s.bodies[k.o] = r.body.Value
		}
	}
	return s, nil
}

// YAML is the document as YAML, made on first use (most clients want JSON).
func (s *Spec) YAML() ([]byte, error) {
	s.yamlOnce.Do(func() { s.yaml, s.yamlErr = toYAML(s.JSON) })
	return s.yaml, s.yamlErr
}

// toYAML re-encodes JSON as block-style YAML, keeping the key order (JSON
// is YAML, so yaml.v3 reads it into nodes; only the styles change).
func toYAML(j []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(j, &n); err != nil {
		return nil, err
	}
	var unstyle func(*yaml.Node)
	unstyle = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			if n.Tag == "!!str" {
				n.Style = 0 // quoted only where YAML needs it
			}
		} else {
			n.Style = 0
		}
		for _, c := range n.Content {
			unstyle(c)
		}
	}
	unstyle(&n)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// InvalidParam is one parameter that failed validation.
type InvalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// ValidationError lists what is wrong with a request, by parameter.
type ValidationError struct {
	Params []InvalidParam
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Params))
	for i, p := range e.Params {
		parts[i] = fmt.Sprintf("parameter %q: %s", p.Name, p.Reason)
	}
	return strings.Join(parts, "; ")
}

// ValidateRequest checks req against o's operation of kind k with
// kin-openapi's openapi3filter: the targets query, the path's target and
// the JSON body of named parameters. body is the request body, already
// read; pathParams holds "target" for Peripheral. A *ValidationError
// names the failing parameters.
func (s *Spec) ValidateRequest(ctx context.Context, req *http.Request, body []byte, k Kind, o *Overload, pathParams map[string]string) error {
	r := s.routes[routeKey{k, o}]
	if r == nil {
		return fmt.Errorf("openapi: no operation for %s %s", k, o.Method)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	err := openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: pathParams,
		Route:      r,
		Options:    s.filter,
	})
	if err == nil {
		return nil
	}
	return toValidationError(err)
}

// ValidateOperation checks a request to one of the gateway's own
// operations (login, attach...) as ValidateRequest does.
func (s *Spec) ValidateOperation(ctx context.Context, req *http.Request, body []byte, method, path string) error {
	r := s.ops[method+" "+path]
	if r == nil {
		return fmt.Errorf("openapi: no operation %s %s", method, path)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	err := openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{Request: req, Route: r, Options: s.filter})
	if err == nil {
		return nil
	}
	return toValidationError(err)
}

// ValidateParams checks named parameters (decoded JSON) against o's
// parameter schema: what the Uyuni-native surface, which is not among the
// document's operations, validates with.
func (s *Spec) ValidateParams(o *Overload, params map[string]any) error {
	schema := s.bodies[o]
	if schema == nil {
		if len(params) == 0 {
			return nil
		}
		return &ValidationError{Params: []InvalidParam{{Name: firstKey(params), Reason: o.Method + " takes no parameters"}}}
	}
	err := schema.VisitJSON(params, openapi3.MultiErrors(), openapi3.VisitAsRequest(), openapi3.EnableFormatValidation(), openapi3.DisableSchemaErrorDetails())
	if err == nil {
		return nil
	}
	return toValidationError(err)
}

func firstKey(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys[0]
}

var propertyRE = regexp.MustCompile(`^property "([^"]*)" is (missing|unsupported)$`)

// toValidationError flattens kin-openapi's nested errors into one entry
// per parameter, with the parameter's name and a reason that never holds
// the value sent (it may be a password).
func toValidationError(err error) error {
	ve := &ValidationError{}
	seen := map[InvalidParam]bool{}
	add := func(name, reason string) {
		p := InvalidParam{Name: name, Reason: reason}
		if !seen[p] {
			seen[p] = true
			ve.Params = append(ve.Params, p)
		}
	}
	var walk func(err error, param string)
	walk = func(err error, param string) {
		var me openapi3.MultiError
		var re *openapi3filter.RequestError
		var se *openapi3.SchemaError
		switch {
		case errors.As(err, &me):
			for _, e := range me {
				walk(e, param)
			}
		case errors.As(err, &re):
			switch {
			case re.Parameter != nil:
				param = re.Parameter.Name
			case re.RequestBody != nil:
				param = ""
			}
			if re.Err == nil {
				add(orBody(param), re.Reason)
				return
			}
			if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) && re.RequestBody != nil {
				add("(body)", "a JSON object of named parameters is required")
				return
			}
			walk(re.Err, param)
		case errors.As(err, &se):
			ptr := se.JSONPointer()
			name, reason := param, se.Reason
			if se.SchemaField == "format" && se.Schema != nil {
				switch se.Schema.Format {
				case "date-time":
					reason = "must be an RFC 3339 date-time with a zone, such as 2025-01-02T03:04:05Z"
				case "byte":
					reason = "must be standard base64"
				}
			}
			if m := propertyRE.FindStringSubmatch(se.Reason); m != nil {
				if len(ptr) == 0 || ptr[len(ptr)-1] != m[1] {
					ptr = append(ptr, m[1])
				}
				reason = map[string]string{"missing": "required, but missing", "unsupported": "not a parameter of this overload"}[m[2]]
				if len(ptr) > 1 || param != "" {
					reason = map[string]string{"missing": "required member missing", "unsupported": "unknown member"}[m[2]]
				}
			}
			switch {
			case len(ptr) > 0 && param == "":
				name = ptr[0]
				if len(ptr) > 1 {
					reason = "at /" + strings.Join(ptr[1:], "/") + ": " + reason
				}
			case len(ptr) > 0:
				reason = "at /" + strings.Join(ptr, "/") + ": " + reason
			}
			if reason == "" {
				reason = "does not match the schema (" + se.SchemaField + ")"
			}
			add(orBody(name), reason)
		default:
			add(orBody(param), err.Error())
		}
	}
	walk(err, "")
	return ve
}

func orBody(name string) string {
	if name == "" {
		return "(body)"
	}
	return name
}
