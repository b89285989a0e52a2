package openapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Why each overload is an operation of its own: Uyuni overloads a method by
// its parameter set (channel.software.create takes 5, 6, 7 or 8), and one
// OpenAPI operation cannot have several request bodies except as a oneOf.
// Swagger UI shows a oneOf body poorly: its example and "Try it out" editor
// hold the first alternative only, and a validation failure against a oneOf
// says that no alternative matched rather than which parameter is wrong.
// So each overload gets its own path, the method path with the overload's
// parameter names appended, "/create(label,name,summary,archLabel,parentLabel)",
// which reads in Swagger UI as the signature it stands for, with its own
// example body, and validation against it names the offending parameter.
// The bare method path is served too and picks the overload by parameter
// names, as Uyuni's own HTTP API does; it is described, not listed, since
// OpenAPI 3.0 allows one operation per path and method.

// Schema and component names the document and clients share.
const (
	SchemaProblem       = "Problem"
	SchemaTargetResult  = "TargetResult"
	SchemaFanoutResult  = "FanoutResult"
	SecurityBearer      = "bearerAuth"
	SecurityNative      = "uyuniSession"
	NativeCookie        = "pxt-session-cookie"
	ContentProblem      = "application/problem+json"
	contentJSON         = "application/json"
	componentsPrefix    = "#/components/"
	schemaRefPrefix     = componentsPrefix + "schemas/"
	responseRefPrefix   = componentsPrefix + "responses/"
	parameterRefPrefix  = componentsPrefix + "parameters/"
	bodyRefPrefix       = componentsPrefix + "requestBodies/"
	tagGateway          = "gateway"
	tagJobs             = "jobs"
	tagNative           = "uyuni-native"
	paramTarget         = "Target"
	paramTargets        = "Targets"
	respProblem         = "Problem"
	respBadRequest      = "BadRequest"
	respUnauthorized    = "Unauthorized"
	respNotFound        = "NotFound"
	openAPIVersion      = "3.0.3"
	documentTitle       = "hubgw: the Uyuni hub gateway"
	documentInfoVersion = "1"
)

// generator builds one document; shared components are made once and
// referenced (with their Value set, so validation needs no resolving).
type generator struct {
	doc   *openapi3.T
	m     *Model
	resps map[string]*openapi3.ResponseRef // by component name
	// the responses every call operation refers to
	badRequest, unauthorized, notFound, problem *openapi3.ResponseRef
	target, targets                             *openapi3.ParameterRef
	targetResult, fanoutResult                  *openapi3.SchemaRef
	routes                                      map[routeKey]*route
}

type routeKey struct {
	kind Kind
	o    *Overload
}

// route is what validation needs of one operation.
type route struct {
	path string
	item *openapi3.PathItem
	op   *openapi3.Operation
	body *openapi3.SchemaRef // the parameters' schema, nil when there are none
}

// Generate builds the OpenAPI 3 document for m: the gateway's own
// operations, and every overload of every method on the hub, on one
// peripheral and fanned out.
func Generate(m *Model) *openapi3.T {
	doc, _ := generate(m)
	return doc
}

func generate(m *Model) (*openapi3.T, map[routeKey]*route) {
	g := &generator{m: m, resps: map[string]*openapi3.ResponseRef{}, routes: map[routeKey]*route{}}
	g.doc = &openapi3.T{
		OpenAPI: openAPIVersion,
		Info: &openapi3.Info{
			Title:       documentTitle,
			Version:     documentInfoVersion,
			Description: g.description(),
			Extensions: map[string]any{
				"x-hubgw-source":         m.Source,
				"x-hubgw-hub-api":        m.Version,
				"x-hubgw-signature-hash": m.Hash,
			},
		},
		Servers:    openapi3.Servers{{URL: "/"}},
		Paths:      openapi3.NewPaths(),
		Components: &openapi3.Components{},
		// The bearer token, or Uyuni's session cookie (for a browser signed
		// in there: the web console).
		Security: openapi3.SecurityRequirements{{SecurityBearer: []string{}}, {SecurityNative: []string{}}},
	}
	g.components()
	g.tags()
	g.gatewayOps()
	for _, ns := range m.Namespaces {
		for _, method := range ns.Methods {
			for _, o := range m.Overloads(method) {
				body := g.params(o)
				for _, k := range []Kind{Hub, Peripheral, Fanout} {
					g.callOp(k, o, body)
				}
			}
		}
	}
	return g.doc, g.routes
}

func (g *generator) description() string {
	src := "the hub's own API list (`api.getApiCallList`), API version " + g.m.Version
	if g.m.Source != "hub" {
		src = "hubgw's embedded signature catalog (Uyuni's API as of 2021 plus `sync.hub`): the gateway has not read the hub's own API list yet, and replaces this document when it has"
	}
	return strings.Join([]string{
		"Every Uyuni API method, on the hub, on one peripheral, or fanned out to many, with named JSON parameters. Built from " + src + ".",
		"",
		"* `POST /api/v1/login` returns a bearer token: the gateway session id, usable over XML-RPC too. Use it with **Authorize**.",
		"* `/api/v1/hub/<ns>/<method>` calls the hub; `/api/v1/peripherals/{target}/<ns>/<method>` one peripheral (id, name or FQDN); `/api/v1/call/<ns>/<method>?targets=...` a set (`all`, `hub`, groups, ids, names), with one result per target.",
		"* Overloaded methods have one operation per overload, the path ending in the overload's parameter names: `create(label,name,summary,archLabel,parentLabel)`. The bare path (`.../create`) also works and picks the overload whose parameter names are exactly the ones sent.",
		"* The session key is never a parameter: the gateway puts each server's own key in front.",
		"* Dates are RFC 3339 with a zone (Uyuni's are wall clock times in the server's zone, configured with `--peripheral-timezone`); base64 is standard base64.",
		"* Errors are RFC 9457 problem details (`application/problem+json`) carrying the Uyuni fault code in `faultCode`.",
		"* Uyuni's own HTTP API is served too, for the hub, at `/rhn/manager/api/<ns>/<method>` (see the `uyuni-native` tag).",
	}, "\n")
}

func ref(prefix, name string) string { return prefix + name }

func schemaRef(name string, s *openapi3.Schema) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Ref: ref(schemaRefPrefix, name), Value: s}
}

func types(t string) *openapi3.Types { return &openapi3.Types{t} }

func obj(required []string, props openapi3.Schemas) *openapi3.Schema {
	return &openapi3.Schema{Type: types(openapi3.TypeObject), Required: required, Properties: props}
}

func str(desc string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types(openapi3.TypeString), Description: desc}}
}

func integer(format, desc string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types(openapi3.TypeInteger), Format: format, Description: desc}}
}

func boolean(desc string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types(openapi3.TypeBoolean), Description: desc}}
}

func arrayOf(items *openapi3.SchemaRef, desc string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types(openapi3.TypeArray), Items: items, Description: desc}}
}

func (g *generator) addSchema(name string, s *openapi3.Schema) *openapi3.SchemaRef {
	if g.doc.Components.Schemas == nil {
		g.doc.Components.Schemas = openapi3.Schemas{}
	}
	g.doc.Components.Schemas[name] = &openapi3.SchemaRef{Value: s}
	return schemaRef(name, s)
}

func (g *generator) addResponse(name string, r *openapi3.Response) *openapi3.ResponseRef {
	if g.doc.Components.Responses == nil {
		g.doc.Components.Responses = openapi3.ResponseBodies{}
	}
	g.doc.Components.Responses[name] = &openapi3.ResponseRef{Value: r}
	rr := &openapi3.ResponseRef{Ref: ref(responseRefPrefix, name), Value: r}
	g.resps[name] = rr
	return rr
}

func jsonContent(s *openapi3.SchemaRef) openapi3.Content {
	return openapi3.Content{contentJSON: &openapi3.MediaType{Schema: s}}
}

func ptr[T any](v T) *T { return &v }

// components: envelopes, problem details, security schemes, parameters.
func (g *generator) components() {
	c := g.doc.Components
	c.SecuritySchemes = openapi3.SecuritySchemes{
		SecurityBearer: {Value: &openapi3.SecurityScheme{
			Type: "http", Scheme: "bearer", BearerFormat: "hubgw session id",
			Description: "The token from POST /api/v1/login (a gateway session id, as hub.login returns over XML-RPC).",
		}},
		SecurityNative: {Value: &openapi3.SecurityScheme{
			Type: "apiKey", In: "cookie", Name: NativeCookie,
			Description: "Uyuni's session cookie, set by POST /rhn/manager/api/auth/login; its value is a gateway session id. /api/v1 takes it instead of a bearer token from a same-origin request (a POST with a JSON body).",
		}},
	}

	problem := obj([]string{"type", "title", "status"}, openapi3.Schemas{
		"type":          {Value: &openapi3.Schema{Type: types(openapi3.TypeString), Description: "Problem type (about:blank: the status says it all, faultCode says more)."}},
		"title":         str("The HTTP status phrase."),
		"status":        integer("int32", "The HTTP status code."),
		"detail":        str("What went wrong, for people; for an Uyuni fault, its faultString."),
		"instance":      str("The request path."),
		"faultCode":     integer("int32", "The Uyuni fault code: the upstream server's own, or the gateway's (see the README's table)."),
		"requestId":     str("The X-Request-Id of the request, for the gateway's logs."),
		"serverId":      integer("int64", "The server the call went to (0: the hub), for a call to one server."),
		"serverName":    str("That server's name."),
		"outcome":       {Value: outcomeSchema()},
		"invalidParams": arrayOf(&openapi3.SchemaRef{Value: obj([]string{"name", "reason"}, openapi3.Schemas{"name": str("The parameter."), "reason": str("What is wrong with it.")})}, "The parameters that failed validation."),
		"validTargets":  arrayOf(str(""), "What targets may be, when one was unknown."),
	})
	problem.Description = "RFC 9457 problem details, with the Uyuni fault code."
	problemRef := g.addSchema(SchemaProblem, problem)
	problemContent := openapi3.Content{ContentProblem: &openapi3.MediaType{Schema: problemRef}}
	g.problem = g.addResponse(respProblem, &openapi3.Response{Description: ptr("An error: problem details with the Uyuni fault code (see the README for the fault code → HTTP status table)."), Content: problemContent})
	g.badRequest = g.addResponse(respBadRequest, &openapi3.Response{Description: ptr("The request is malformed or its parameters do not fit the method: the problem names them."), Content: problemContent})
	g.unauthorized = g.addResponse(respUnauthorized, &openapi3.Response{Description: ptr("No bearer token, or an unknown or expired one (faultCode -1): log in again."), Content: problemContent})
	g.notFound = g.addResponse(respNotFound, &openapi3.Response{Description: ptr("Not found: no such method, overload or target; or the server's own fault about a missing object (no such system, channel, user, ...)."), Content: problemContent})

	tr := obj([]string{"serverId", "serverName", "ok", "outcome", "durationMs", "attempts"}, openapi3.Schemas{
		"serverId":    integer("int64", "The peripheral's system id on the hub; 0 for the hub."),
		"serverName":  str("The server's name (\"hub\" for the hub)."),
		"ok":          boolean("The server answered with a value."),
		"outcome":     {Value: outcomeSchema()},
		"value":       {Value: &openapi3.Schema{Description: "The server's answer, when ok."}},
		"faultCode":   integer("int32", "The fault's code, when not ok: the server's own, or the gateway's 41xx."),
		"faultString": str("The fault's message, when not ok."),
		"error":       str("The transport error, when no answer came."),
		"durationMs":  integer("int64", "How long the call took, retries included."),
		"attempts":    integer("int32", "Calls made: more than 1 after retries or logging in again."),
	})
	tr.Description = "One server's result."
	g.targetResult = g.addSchema(SchemaTargetResult, tr)
	fr := obj([]string{"complete", "results"}, openapi3.Schemas{
		"complete": boolean("Every target answered with a value."),
		"jobId":    str("The job that records this fan-out (GET /api/v1/jobs/{jobId}, when jobs are recorded); absent otherwise."),
		"results":  arrayOf(g.targetResult, "One result per target, in the order of the targets."),
	})
	fr.Description = "A fan-out's results."
	g.fanoutResult = g.addSchema(SchemaFanoutResult, fr)

	c.Parameters = openapi3.ParametersMap{}
	target := &openapi3.Parameter{
		Name: "target", In: openapi3.ParameterInPath, Required: true,
		Description: "A peripheral: its system id, name or FQDN, as GET /api/v1/peripherals lists them.",
		Schema:      str(""),
	}
	c.Parameters[paramTarget] = &openapi3.ParameterRef{Value: target}
	g.target = &openapi3.ParameterRef{Ref: ref(parameterRefPrefix, paramTarget), Value: target}
	targets := &openapi3.Parameter{
		Name: "targets", In: openapi3.ParameterInQuery,
		Description: "Where the call goes: `all` (every attached peripheral), `hub`, a group, or peripherals by id, name or FQDN. Repeat the parameter or separate with commas. Default: all.",
		Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{
			Type: types(openapi3.TypeArray), Items: str(""), Default: []any{"all"},
		}},
	}
	c.Parameters[paramTargets] = &openapi3.ParameterRef{Value: targets}
	g.targets = &openapi3.ParameterRef{Ref: ref(parameterRefPrefix, paramTargets), Value: targets}
}

func outcomeSchema() *openapi3.Schema {
	return &openapi3.Schema{
		Type:        types(openapi3.TypeString),
		Enum:        []any{"ok", "fault", "timeout", "transport", "circuit_open", "canceled"},
		Description: "ok; fault (the server answered with a fault); timeout, transport, circuit_open, canceled (no answer).",
	}
}

func (g *generator) tags() {
	g.doc.Tags = openapi3.Tags{
		{Name: tagGateway, Description: "Sessions, peripherals and attachment."},
		{Name: tagJobs, Description: "Recorded fan-outs (FanoutResult.jobId): what was sent where and what each target answered, readable from any replica until the retention ends."},
		{Name: tagNative, Description: "Uyuni's own HTTP API for the hub, so scripts written for it work against the gateway: `/rhn/manager/api/<ns path>/<method>`, GET for read-only methods and POST for the others, parameters by name (scalars in the query, anything in a JSON body; the set must match one overload), answers `{success, result}` or `{success: false, message}`, session in the `pxt-session-cookie` cookie."},
	}
	for _, ns := range g.m.Namespaces {
		desc := "Uyuni namespace " + ns.Name
		if ns.Handler != "" {
			desc += " (" + ns.Handler + ")"
		}
		g.doc.Tags = append(g.doc.Tags, &openapi3.Tag{Name: ns.Name, Description: desc + "."})
	}
}

func responses(rs ...any) *openapi3.Responses {
	out := openapi3.NewResponses()
	out.Delete("default")
	for i := 0; i < len(rs); i += 2 {
		r := rs[i+1].(*openapi3.ResponseRef)
		switch k := rs[i].(type) {
		case int:
			out.Set(fmt.Sprint(k), r)
		case string:
			out.Set(k, r)
		}
	}
	return out
}

func (g *generator) addOp(path, method string, op *openapi3.Operation) {
	item := g.doc.Paths.Value(path)
	if item == nil {
		item = &openapi3.PathItem{}
		g.doc.Paths.Set(path, item)
	}
	item.SetOperation(method, op)
}

func body(desc string, s *openapi3.SchemaRef) *openapi3.RequestBodyRef {
	return &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Description: desc, Required: true, Content: jsonContent(s)}}
}

func (g *generator) gatewayOps() {
	noAuth := &openapi3.SecurityRequirements{}
	mode := &openapi3.Schema{Type: types(openapi3.TypeString), Enum: []any{"manual", "relay", "autoconnect"}, Default: "manual",
		Description: "manual: attach each peripheral with its own credentials; relay: attaching reuses these; autoconnect: like relay, and every peripheral the user may see is attached now."}
	loginReq := g.addSchema("LoginRequest", obj([]string{"username", "password"}, openapi3.Schemas{
		"username": str("The hub user."),
		"password": {Value: &openapi3.Schema{Type: types(openapi3.TypeString), Format: "password"}},
		"mode":     {Value: mode},
	}))
	loginResp := g.addSchema("LoginResponse", obj([]string{"token", "tokenType", "username", "mode"}, openapi3.Schemas{
		"token":     str("The bearer token: the gateway session id (also an XML-RPC session key)."),
		"tokenType": {Value: &openapi3.Schema{Type: types(openapi3.TypeString), Enum: []any{"Bearer"}}},
		"username":  str(""),
		"mode":      {Value: mode},
		"attached":  g.fanoutResult,
	}))
	g.addOp("/api/v1/login", http.MethodPost, &openapi3.Operation{
		Tags: []string{tagGateway}, OperationID: "login", Summary: "Log in: a bearer token",
		Description: "Logs in to the hub (and, in autoconnect mode, to every peripheral the user may see; `attached` has their results).",
		Security:    noAuth,
		RequestBody: body("Credentials and mode.", loginReq),
		Responses: responses(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("Logged in."), Content: jsonContent(loginResp)}},
			400, g.badRequest, 401, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("Wrong credentials (faultCode 2950)."), Content: openapi3.Content{ContentProblem: &openapi3.MediaType{Schema: schemaRef(SchemaProblem, g.doc.Components.Schemas[SchemaProblem].Value)}}}},
			"default", g.problem),
	})
	g.addOp("/api/v1/logout", http.MethodPost, &openapi3.Operation{
		Tags: []string{tagGateway}, OperationID: "logout", Summary: "Log out everywhere",
		Description: "Ends the gateway session and logs out of the hub and every attached peripheral.",
		Responses:   responses(204, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("Logged out.")}}, 401, g.unauthorized, "default", g.problem),
	})
	cred := obj([]string{"target", "username", "password"}, openapi3.Schemas{
		"target":   str("A peripheral's id, name or FQDN."),
		"username": str(""),
		"password": {Value: &openapi3.Schema{Type: types(openapi3.TypeString), Format: "password"}},
	})
	attachReq := g.addSchema("AttachRequest", &openapi3.Schema{
		Type: types(openapi3.TypeObject),
		Properties: openapi3.Schemas{
			"targets":     arrayOf(str(""), "Peripherals to attach with the session's own credentials (relay and autoconnect sessions): ids, names, FQDNs, groups, or all."),
			"credentials": arrayOf(&openapi3.SchemaRef{Value: cred}, "Peripherals to attach each with its own credentials (any session; what manual sessions need)."),
		},
		Description: "Give targets, credentials, or both.",
	})
	g.addOp("/api/v1/attach", http.MethodPost, &openapi3.Operation{
		Tags: []string{tagGateway}, OperationID: "attach", Summary: "Attach peripherals to the session",
		Description: "Logs in to each peripheral concurrently; value is \"attached\" for those that worked.",
		RequestBody: body("What to attach.", attachReq),
		Responses:   responses(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("One result per peripheral."), Content: jsonContent(g.fanoutResult)}}, 400, g.badRequest, 401, g.unauthorized, 404, g.notFound, "default", g.problem),
	})
	status := g.addSchema("ServerStatus", obj([]string{"id", "name", "breaker"}, openapi3.Schemas{
		"id":       integer("int64", "System id on the hub; 0 for the hub."),
		"name":     str(""),
		"fqdn":     str(""),
		"attached": boolean("This session holds a key for the server."),
		"breaker":  {Value: &openapi3.Schema{Type: types(openapi3.TypeString), Enum: []any{"closed", "open", "half-open"}, Description: "The server's circuit breaker."}},
		"last": {Value: &openapi3.Schema{
			Type:        types(openapi3.TypeObject),
			Description: "The last call the gateway made to the server, for anyone.",
			Properties: openapi3.Schemas{
				"outcome":    {Value: outcomeSchema()},
				"at":         {Value: openapi3.NewDateTimeSchema()},
				"durationMs": integer("int64", ""),
				"faultCode":  integer("int32", ""),
			},
		}},
	}))
	peripherals := g.addSchema("Peripherals", obj([]string{"hub", "peripherals"}, openapi3.Schemas{
		"hub":         status,
		"peripherals": arrayOf(status, "The hub's peripherals, by id."),
		"source":      str("How the hub listed them."),
		"loadedAt":    {Value: openapi3.NewDateTimeSchema()},
	}))
	g.addOp("/api/v1/peripherals", http.MethodGet, &openapi3.Operation{
		Tags: []string{tagGateway}, OperationID: "peripherals", Summary: "The peripherals and their health",
		Responses: responses(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("The registry, as this session sees it."), Content: jsonContent(peripherals)}}, 401, g.unauthorized, "default", g.problem),
	})

	g.jobs()
	g.desired()
	g.rollouts()

	native := g.addSchema("NativeResponse", obj([]string{"success"}, openapi3.Schemas{
		"success": boolean(""),
		"result":  {Value: &openapi3.Schema{Description: "The method's value, on success."}},
		"message": str("The fault's message, on failure."),
	}))
	nativeLogin := g.addSchema("NativeLogin", obj([]string{"login", "password"}, openapi3.Schemas{
		"login":    str(""),
		"password": {Value: &openapi3.Schema{Type: types(openapi3.TypeString), Format: "password"}},
	}))
	nativeResp := func(desc string) *openapi3.ResponseRef {
		return &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr(desc), Content: jsonContent(native)}}
	}
	g.addOp(NativePrefix+"auth/login", http.MethodPost, &openapi3.Operation{
		Tags: []string{tagNative}, OperationID: "nativeLogin", Summary: "Uyuni's login: sets pxt-session-cookie",
		Security:    noAuth,
		RequestBody: body("Uyuni's login body.", nativeLogin),
		Responses: responses(200, &openapi3.ResponseRef{Value: &openapi3.Response{
			Description: ptr("Logged in; the cookie holds a gateway session id."), Content: jsonContent(native),
			Headers: openapi3.Headers{"Set-Cookie": {Value: &openapi3.Header{Parameter: openapi3.Parameter{Schema: str(NativeCookie + "=<session>; Path=/; HttpOnly")}}}},
		}}, 401, nativeResp("Wrong credentials.")),
	})
	g.addOp(NativePrefix+"auth/logout", http.MethodPost, &openapi3.Operation{
		Tags: []string{tagNative}, OperationID: "nativeLogout", Summary: "Uyuni's logout",
		Security:  &openapi3.SecurityRequirements{{SecurityNative: []string{}}},
		Responses: responses(200, nativeResp("Logged out."), 401, nativeResp("No session.")),
	})
}

// typeSchema is the JSON schema of an Uyuni type.
func typeSchema(t Type, param bool) *openapi3.Schema {
	var s *openapi3.Schema
	switch t.XMLRPC {
	case rpc.TypeString:
		s = openapi3.NewStringSchema()
	case rpc.TypeInt:
		s = openapi3.NewIntegerSchema()
		switch {
		case t.Java == "Long" || t.Java == "long":
			s.Format = "int64"
		case param:
			s.Format = "int32" // Java Integer, XML-RPC <i4>
		}
	case rpc.TypeBoolean:
		s = openapi3.NewBoolSchema()
	case rpc.TypeDouble:
		s = openapi3.NewFloat64Schema()
	case rpc.TypeDateTime:
		s = openapi3.NewDateTimeSchema()
	case rpc.TypeBase64:
		s = openapi3.NewBytesSchema()
	case rpc.TypeStruct:
		s = openapi3.NewObjectSchema()
	case rpc.TypeArray:
		s = openapi3.NewArraySchema()
		if t.Elem != "" {
			s.Items = &openapi3.SchemaRef{Value: typeSchema(Type{XMLRPC: t.Elem}, param)}
		} else {
			s.Items = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
		}
	default:
		s = &openapi3.Schema{} // unknown: any value
	}
	return s
}

// params makes the overload's parameter schema and request body (nil when
// it takes none): an object with exactly its parameters, all required.
func (g *generator) params(o *Overload) *openapi3.RequestBodyRef {
	if len(o.Params) == 0 {
		return nil
	}
	props := make(openapi3.Schemas, len(o.Params))
	required := make([]string, len(o.Params))
	for i, p := range o.Params {
		s := typeSchema(p.Type, true)
		if p.Type.Java != "" {
			s.Description = "Java " + p.Type.Java
		}
		props[p.Name] = &openapi3.SchemaRef{Value: s}
		required[i] = p.Name
	}
	s := obj(required, props)
	s.AdditionalProperties = openapi3.AdditionalProperties{Has: ptr(false)}
	name := o.Key()
	sr := g.addSchema(name, s)
	if g.doc.Components.RequestBodies == nil {
		g.doc.Components.RequestBodies = openapi3.RequestBodies{}
	}
	rb := &openapi3.RequestBody{Required: true, Description: "The parameters of " + o.Method + "(" + o.Sig() + "), by name.", Content: jsonContent(sr)}
	g.doc.Components.RequestBodies[name] = &openapi3.RequestBodyRef{Value: rb}
	return &openapi3.RequestBodyRef{Ref: ref(bodyRefPrefix, name), Value: rb}
}

// returnKey names the shared responses for a return type.
func returnKey(t Type) string {
	switch {
	case t.XMLRPC == "":
		return "any"
	case t.XMLRPC == "array" && t.Elem != "":
		return "array." + t.Elem
	}
	return t.XMLRPC
}

// resultResponses returns the 200 responses for a return type: one
// server's result and a fan-out's, typed, made once per type.
func (g *generator) resultResponses(t Type) (one, many *openapi3.ResponseRef) {
	key := returnKey(t)
	if r := g.resps["Result."+key]; r != nil {
		return r, g.resps["Fanout."+key]
	}
	value := typeSchema(t, false)
	tr := &openapi3.Schema{AllOf: openapi3.SchemaRefs{g.targetResult, {Value: obj(nil, openapi3.Schemas{"value": {Value: value}})}}}
	trRef := g.addSchema("TargetResult."+key, tr)
	fr := &openapi3.Schema{AllOf: openapi3.SchemaRefs{g.fanoutResult, {Value: obj(nil, openapi3.Schemas{"results": arrayOf(trRef, "")})}}}
	frRef := g.addSchema("FanoutResult."+key, fr)
	one = g.addResponse("Result."+key, &openapi3.Response{Description: ptr("The server's answer."), Content: jsonContent(trRef)})
	many = g.addResponse("Fanout."+key, &openapi3.Response{Description: ptr("One result per target, in order, whatever each answered."), Content: jsonContent(frRef)})
	return one, many
}

var kindSummary = map[Kind]string{Hub: "on the hub", Peripheral: "on one peripheral", Fanout: "fanned out"}

// OperationID names o's operation of kind k ("fanout_system_listSystems").
func OperationID(k Kind, o *Overload) string {
	return k.String() + "_" + strings.ReplaceAll(o.Key(), ".", "_")
}

func (g *generator) callOp(k Kind, o *Overload, rb *openapi3.RequestBodyRef) {
	one, many := g.resultResponses(o.Returns)
	op := &openapi3.Operation{
		Tags:        []string{o.Namespace},
		OperationID: OperationID(k, o),
		Summary:     o.Method + " " + kindSummary[k],
		RequestBody: rb,
		Deprecated:  o.Deprecated,
		Extensions:  map[string]any{"x-uyuni-method": o.Method},
	}
	var notes []string
	if o.Overloaded {
		notes = append(notes, "One overload of "+o.Method+"; the bare path picks the overload by the parameter names sent.")
	}
	if o.Positional {
		notes = append(notes, "Not in hubgw's signature catalog: the parameters are positional, arg1, arg2... in Uyuni's order.")
	}
	if o.ReadOnly {
		notes = append(notes, "Read-only: retried after transport failures.")
	}
	op.Description = strings.Join(notes, " ")
	switch k {
	case Fanout:
		op.Parameters = openapi3.Parameters{g.targets}
		op.Responses = responses(200, many, 400, g.badRequest, 401, g.unauthorized, 404, g.notFound, "default", g.problem)
	case Peripheral:
		op.Parameters = openapi3.Parameters{g.target}
		fallthrough
	default:
		op.Responses = responses(200, one, 400, g.badRequest, 401, g.unauthorized, 404, g.notFound, "default", g.problem)
	}
	path := DocPath(k, o)
	g.addOp(path, http.MethodPost, op)
	r := &route{path: path, item: g.doc.Paths.Value(path), op: op}
	if rb != nil {
		r.body = rb.Value.Content[contentJSON].Schema
	}
	g.routes[routeKey{k, o}] = r
}

// jobs documents GET /api/v1/jobs and GET /api/v1/jobs/{jobId}
// (gateway/jobs.Job is the shape).
func (g *generator) jobs() {
	dateTime := &openapi3.SchemaRef{Value: openapi3.NewDateTimeSchema()}
	anyValue := &openapi3.SchemaRef{Value: &openapi3.Schema{Description: "JSON, as the REST calls return values; secrets removed from arguments."}}
	// A job's target is a TargetResult, in the same words, plus what only
	// a record has; its outcome may also be running or interrupted.
	props := openapi3.Schemas{}
	for k, v := range g.targetResult.Value.Properties {
		props[k] = v
	}
	outcome := outcomeSchema()
	outcome.Enum = append(outcome.Enum, "running", "interrupted")
	outcome.Description = "running while the job runs; interrupted if its replica stopped first; then " + outcome.Description
	props["outcome"] = &openapi3.SchemaRef{Value: outcome}
	props["hub"] = boolean("The hub itself.")
	props["valueOmitted"] = str("Why the value was not kept (a read-only method's answer, or too large).")
	props["finished"] = dateTime
	props["args"] = anyValue
	target := g.addSchema("JobTarget", obj(g.targetResult.Value.Required, props))
	job := g.addSchema("Job", obj([]string{"id", "method", "user", "status", "replica", "started", "total", "finished", "succeeded", "failed"}, openapi3.Schemas{
		"id":        str("The job id (FanoutResult.jobId, hub.getJob)."),
		"method":    str("The Uyuni method called."),
		"user":      str("Who called it."),
		"args":      anyValue,
		"status":    {Value: &openapi3.Schema{Type: types(openapi3.TypeString), Enum: []any{"running", "done", "interrupted"}}},
		"replica":   str("The gateway replica that ran it."),
		"started":   dateTime,
		"ended":     dateTime,
		"total":     integer("int32", "Targets in all."),
		"finished":  integer("int32", "Targets that answered so far."),
		"succeeded": integer("int32", ""),
		"failed":    integer("int32", ""),
		"targets":   arrayOf(target, "One entry per target, in the order of the call (absent in lists)."),
	}))
	list := g.addSchema("JobList", obj([]string{"jobs"}, openapi3.Schemas{"jobs": arrayOf(job, "The caller's jobs, newest first.")}))
	g.addOp("/api/v1/jobs", http.MethodGet, &openapi3.Operation{
		Tags: []string{tagJobs}, OperationID: "listJobs", Summary: "The caller's recorded fan-outs",
		Parameters: openapi3.Parameters{{Value: &openapi3.Parameter{
			Name: "limit", In: openapi3.ParameterInQuery, Description: "At most this many (1 to 1000; default 50).",
			Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types(openapi3.TypeInteger), Min: ptr(1.0), Max: ptr(1000.0)}},
		}}},
		Responses: responses(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("Newest first."), Content: jsonContent(list)}}, 401, g.unauthorized, "default", g.problem),
	})
	g.addOp("/api/v1/jobs/{jobId}", http.MethodGet, &openapi3.Operation{
		Tags: []string{tagJobs}, OperationID: "getJob", Summary: "One fan-out: what each target answered",
		Parameters: openapi3.Parameters{{Value: &openapi3.Parameter{
			Name: "jobId", In: openapi3.ParameterInPath, Required: true, Description: "FanoutResult.jobId.", Schema: str(""),
		}}},
		Responses: responses(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("The job, per target."), Content: jsonContent(job)}}, 401, g.unauthorized, "default", g.problem),
	})
}
