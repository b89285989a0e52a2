package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/hubgw/hubgw/gateway/catalog"
	"github.com/hubgw/hubgw/gateway/rpc"
)

var loadCatalog = sync.OnceValues(catalog.Load)

func testCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := loadCatalog()
	require.NoError(t, err)
	return cat
}

var catalogSpec = sync.OnceValues(func() (*Spec, error) {
	cat, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	return Build(context.Background(), FromCatalog(cat, Options{ReadOnly: func(m string) bool { return strings.Contains(m, ".list") }}))
})

func testSpec(t testing.TB) *Spec {
	t.Helper()
	s, err := catalogSpec()
	require.NoError(t, err)
	return s
}

// callList builds an api.getApiCallList answer the way Uyuni does: per
// namespace, entries keyed by method and reflected types, no names.
func callList(cat *catalog.Catalog, extra ...catalog.Method) rpc.Struct {
	byNS := map[string]rpc.Struct{}
	var order []string
	add := func(m catalog.Method) {
		key := m.FullName()
		params := make([]any, len(m.Params))
		for i, p := range m.Params {
			params[i] = p.Reflect
			key += "_" + p.Reflect
		}
		if _, ok := byNS[m.Namespace]; !ok {
			order = append(order, m.Namespace)
		}
		entries := byNS[m.Namespace]
		for _, e := range entries {
			if e.Name == key {
				return // collapsed, as in Uyuni's HashMap
			}
		}
		byNS[m.Namespace] = append(entries, rpc.Member{Name: key, Value: rpc.Struct{
			{Name: "name", Value: m.Name}, {Name: "parameters", Value: params},
			{Name: "exceptions", Value: []any{}}, {Name: "return", Value: m.ReturnsReflect},
		}})
	}
	for m := range cat.Methods() {
		add(m)
	}
	for _, m := range extra {
		add(m)
	}
	out := rpc.Struct{}
	for _, ns := range order {
		out = append(out, rpc.Member{Name: ns, Value: byNS[ns]})
	}
	return out
}

func TestCatalogDocument(t *testing.T) {
	s := testSpec(t)
	require.NoError(t, s.Doc.Validate(context.Background()))
	require.Equal(t, "3.0.3", s.Doc.OpenAPI)

	// What is served parses back into a valid document.
	loaded, err := openapi3.NewLoader().LoadFromData(s.JSON)
	require.NoError(t, err)
	require.NoError(t, loaded.Validate(context.Background()))
	y, err := s.YAML()
	require.NoError(t, err)
	fromYAML, err := openapi3.NewLoader().LoadFromData(y)
	require.NoError(t, err)
	require.NoError(t, fromYAML.Validate(context.Background()))
	require.Equal(t, loaded.Paths.Len(), fromYAML.Paths.Len())
	var jv, yv any
	require.NoError(t, json.Unmarshal(s.JSON, &jv))
	require.NoError(t, yaml.Unmarshal(y, &yv))
	require.Equal(t, jv.(map[string]any)["info"], yv.(map[string]any)["info"])

	// 836 overloads (839 less auth's 3), three kinds each, and the gateway's own.
	require.Equal(t, 836, s.Model.Len())
	require.Equal(t, 3*836+17, loaded.Paths.Len())
	for _, p := range []string{"/api/v1/login", "/api/v1/logout", "/api/v1/attach", "/api/v1/peripherals", "/api/v1/jobs", "/api/v1/jobs/{jobId}", "/api/v1/plan", "/api/v1/apply", "/api/v1/export/{target}/{kind}/{name}", "/rhn/manager/api/auth/login",
		"/api/v1/rollouts", "/api/v1/rollouts/{id}", "/api/v1/rollouts/{id}/events", "/api/v1/rollouts/{id}/resume", "/api/v1/rollouts/{id}/retry", "/api/v1/rollouts/{id}/abort"} {
		require.NotNil(t, loaded.Paths.Value(p), p)
	}
	require.Nil(t, loaded.Paths.Value("/api/v1/hub/auth/login"), "auth is the gateway's business")
	require.Equal(t, "catalog", s.Doc.Info.Extensions["x-hubgw-source"])
	require.Contains(t, loaded.Components.SecuritySchemes, SecurityBearer)
	require.Equal(t, "bearer", loaded.Components.SecuritySchemes[SecurityBearer].Value.Scheme)
	require.NotNil(t, loaded.Tags.Get("jobs"), "the jobs endpoints' place is reserved")
	require.Empty(t, (*loaded.Paths.Value("/api/v1/login").Post.Security), "login needs no token")

	// The envelopes.
	problem := loaded.Components.Schemas[SchemaProblem].Value
	require.Contains(t, problem.Properties, "faultCode")
	require.Contains(t, problem.Properties, "invalidParams")
	tr := loaded.Components.Schemas[SchemaTargetResult].Value
	for _, f := range []string{"serverId", "serverName", "ok", "value", "faultCode", "faultString", "error", "durationMs", "attempts"} {
		require.Contains(t, tr.Properties, f)
	}
	fr := loaded.Components.Schemas[SchemaFanoutResult].Value
	require.Contains(t, fr.Properties, "complete")
	require.Contains(t, fr.Properties, "jobId")
}

func TestOverloadsAreDistinctOperations(t *testing.T) {
	s := testSpec(t)
	ovs := s.Model.Overloads("channel.software.create")
	require.Len(t, ovs, 4)
	var sigs []string
	for _, o := range ovs {
		sigs = append(sigs, o.Sig())
		for _, k := range []Kind{Hub, Peripheral, Fanout} {
			item := s.Doc.Paths.Value(DocPath(k, o))
			require.NotNil(t, item, "%s %s", k, o.Sig())
			op := item.Post
			require.Equal(t, OperationID(k, o), op.OperationID)
			body := op.RequestBody.Value.Content["application/json"].Schema.Value
			require.ElementsMatch(t, body.Required, strings.Split(o.Sig(), ","))
			require.False(t, *body.AdditionalProperties.Has, "exactly the overload's parameters")
		}
	}
	require.Equal(t, []string{
		"label,name,summary,archLabel,parentLabel",
		"label,name,summary,archLabel,parentLabel,checksumType",
		"label,name,summary,archLabel,parentLabel,checksumType,gpgKey",
		"label,name,summary,archLabel,parentLabel,checksumType,gpgKey,gpgCheck",
	}, sigs)
	require.NotNil(t, s.Doc.Paths.Value("/api/v1/call/channel/software/create(label,name,summary,archLabel,parentLabel)"))
	require.Nil(t, s.Doc.Paths.Value("/api/v1/call/channel/software/create"), "the bare path is served, not listed")

	// Same count, different names.
	ids := s.Model.Overloads("channel.software.getDetails")
	require.Len(t, ids, 2)
	require.NotEqual(t, DocPath(Hub, ids[0]), DocPath(Hub, ids[1]))

	// Not overloaded: the plain path.
	ls := s.Model.Overloads("system.listSystems")
	require.Len(t, ls, 1)
	require.Equal(t, "/api/v1/peripherals/{target}/system/listSystems", DocPath(Peripheral, ls[0]))
	op := s.Doc.Paths.Value("/api/v1/call/system/listSystems").Post
	require.Nil(t, op.RequestBody, "no parameters: no body")
	require.Equal(t, "targets", op.Parameters[0].Value.Name)
	require.Contains(t, op.Description, "Read-only")
}

func TestTypedSchemas(t *testing.T) {
	s := testSpec(t)
	body := func(method, sig string) openapi3.Schemas {
		t.Helper()
		o := s.Model.BySig(method, sig)
		require.NotNil(t, o, "%s(%s)", method, sig)
		return s.Doc.Paths.Value(DocPath(Hub, o)).Post.RequestBody.Value.Content["application/json"].Schema.Value.Properties
	}
	p := body("actionchain.addErrataUpdate", "serverId,errataIds,chainLabel")
	require.Equal(t, "integer", p["serverId"].Value.Type.Slice()[0])
	require.Equal(t, "int32", p["serverId"].Value.Format)
	require.Equal(t, "array", p["errataIds"].Value.Type.Slice()[0])
	require.Equal(t, "integer", p["errataIds"].Value.Items.Value.Type.Slice()[0])
	require.Equal(t, "Java List<Integer>", p["errataIds"].Value.Description)

	p = body("channel.software.listAllPackages", "channelLabel,startDate,endDate")
	require.Equal(t, "date-time", p["startDate"].Value.Format)

	p = body("actionchain.addConfigurationDeployment", "chainLabel,serverId,revisionSpecifiers")
	require.Equal(t, "object", p["revisionSpecifiers"].Value.Items.Value.Type.Slice()[0])

	// Return types: typed per-target and fan-out envelopes.
	resp := s.Doc.Paths.Value("/api/v1/call/system/listSystems").Post.Responses.Status(200)
	require.Equal(t, "#/components/responses/Fanout.array.struct", resp.Ref)
	resp = s.Doc.Paths.Value("/api/v1/hub/packages/getPackage").Post.Responses.Status(200)
	require.Equal(t, "#/components/responses/Result.base64", resp.Ref)
	value := s.Doc.Components.Schemas["TargetResult.base64"].Value.AllOf[1].Value.Properties["value"].Value
	require.Equal(t, "byte", value.Format)
	value = s.Doc.Components.Schemas["TargetResult.dateTime.iso8601"].Value.AllOf[1].Value.Properties["value"].Value
	require.Equal(t, "date-time", value.Format)
}

func TestFromCallList(t *testing.T) {
	cat := testCatalog(t)
	session := catalog.Param{Name: "sessionKey", Type: "string", Java: "User", Reflect: "string"}
	extra := []catalog.Method{
		// Newer Uyuni: a method the 2021 catalog lacks.
		{Namespace: "system", Name: "listSystemsWithEntitlement", Params: []catalog.Param{session, {Reflect: "string"}, {Reflect: "date"}}, ReturnsReflect: "array"},
		// A new overload of a known method.
		{Namespace: "system", Name: "listSystems", Params: []catalog.Param{session, {Reflect: "int"}}, ReturnsReflect: "array"},
		// A namespace the catalog lacks.
		{Namespace: "saltkey", Name: "acceptedList", Params: []catalog.Param{session}, ReturnsReflect: "array"},
	}
	list := callList(cat, extra...)
	m, err := FromCallList(list, "27", cat, Options{})
	require.NoError(t, err)
	require.Equal(t, "hub", m.Source)
	require.Equal(t, "27", m.Version)
	require.Equal(t, 836+3, m.Len())

	o := m.Overloads("system.listSystemsWithEntitlement")
	require.Len(t, o, 1)
	require.True(t, o[0].Positional)
	require.True(t, o[0].Session)
	require.Equal(t, "arg1,arg2", o[0].Sig())
	require.Equal(t, "dateTime.iso8601", o[0].Params[1].Type.XMLRPC)

	ls := m.Overloads("system.listSystems")
	require.Len(t, ls, 2)
	require.Equal(t, "", ls[0].Sig())
	require.Equal(t, "arg1", ls[1].Sig())
	require.True(t, ls[0].Overloaded)
	require.Equal(t, "/api/v1/hub/system/listSystems(arg1)", DocPath(Hub, ls[1]))

	require.Len(t, m.Overloads("saltkey.acceptedList"), 1)
	require.Nil(t, m.Overloads("auth.login"))

	// Catalog names where the reflected types match.
	cr := m.Overloads("channel.software.create")
	require.Len(t, cr, 4)
	require.False(t, cr[0].Positional)

	s, err := Build(context.Background(), m)
	require.NoError(t, err)
	require.NoError(t, s.Doc.Validate(context.Background()))
	require.NotNil(t, s.Doc.Paths.Value("/api/v1/call/system/listSystemsWithEntitlement"))
	require.NotNil(t, s.Doc.Tags.Get("saltkey"))

	// The hash is the API's, not the listing's order.
	slices.Reverse(list)
	m2, err := FromCallList(list, "27", cat, Options{})
	require.NoError(t, err)
	require.Equal(t, m.Hash, m2.Hash)
	m3, err := FromCallList(callList(cat), "27", cat, Options{})
	require.NoError(t, err)
	require.NotEqual(t, m.Hash, m3.Hash)

	for _, bad := range []any{"x", rpc.Struct{{Name: "ns", Value: 1}}, rpc.Struct{{Name: "bad name", Value: rpc.Struct{}}},
		rpc.Struct{{Name: "ns", Value: rpc.Struct{{Name: "k", Value: rpc.Struct{{Name: "name", Value: "a/b"}}}}}}} {
		_, err := FromCallList(bad, "27", cat, Options{})
		require.Error(t, err, "%v", bad)
	}
}

func TestSelect(t *testing.T) {
	m := testSpec(t).Model
	o, err := m.Select("channel.software.create", []string{"name", "label", "summary", "archLabel", "parentLabel", "checksumType"})
	require.NoError(t, err)
	require.Equal(t, "label,name,summary,archLabel,parentLabel,checksumType", o.Sig())

	o, err = m.Select("channel.software.getDetails", []string{"id"})
	require.NoError(t, err)
	require.Equal(t, "int", o.Params[0].Type.XMLRPC)

	_, err = m.Select("channel.software.create", []string{"label", "name", "bogus"})
	var se *SelectError
	require.True(t, errors.As(err, &se))
	require.Equal(t, []string{"bogus"}, se.Unknown)
	require.Equal(t, []string{"summary", "archLabel", "parentLabel"}, se.Missing)
	require.Contains(t, err.Error(), `unknown parameter "bogus"`)
	require.Contains(t, err.Error(), "(label,name,summary,archLabel,parentLabel)")

	_, err = m.Select("system.listSystems", []string{"x"})
	require.ErrorAs(t, err, &se)
	require.Equal(t, []string{"x"}, se.Unknown)
}

func TestParseMethodPath(t *testing.T) {
	tests := []struct {
		in, method, sig string
		hasSig, ok      bool
	}{
		{"system/listSystems", "system.listSystems", "", false, true},
		{"/channel/software/create(label,name)", "channel.software.create", "label,name", true, true},
		{"channel/software/regenerateNeededCache()", "channel.software.regenerateNeededCache", "", true, true},
		{"system.listSystems", "", "", false, false},
		{"listSystems", "", "", false, false},
		{"system/list-systems", "", "", false, false},
		{"system/x(a", "", "", false, false},
		{"system/x(a)(b)", "", "", false, false},
		{"../etc/passwd", "", "", false, false},
		{"", "", "", false, false},
	}
	for _, tt := range tests {
		method, sig, hasSig, ok := ParseMethodPath(tt.in)
		require.Equal(t, tt.ok, ok, tt.in)
		require.Equal(t, tt.method, method, tt.in)
		require.Equal(t, tt.sig, sig, tt.in)
		require.Equal(t, tt.hasSig, hasSig, tt.in)
	}
}

func TestValidateRequest(t *testing.T) {
	s := testSpec(t)
	create := s.Model.BySig("channel.software.create", "label,name,summary,archLabel,parentLabel")
	details := s.Model.BySig("channel.software.getDetails", "id")
	dates := s.Model.BySig("channel.software.listAllPackages", "channelLabel,startDate")
	list := s.Model.Overloads("system.listSystems")[0]
	tests := []struct {
		name   string
		kind   Kind
		o      *Overload
		query  string
		body   string
		params []InvalidParam // nil: valid
	}{
		{"valid", Hub, create, "", `{"label":"l","name":"n","summary":"s","archLabel":"a","parentLabel":""}`, nil},
		{"wrong type", Hub, create, "", `{"label":1,"name":"n","summary":"s","archLabel":"a","parentLabel":""}`, []InvalidParam{{"label", "value must be a string"}}},
		{"missing", Fanout, create, "targets=all", `{"label":"l","name":"n","summary":"s","archLabel":"a"}`, []InvalidParam{{"parentLabel", "required, but missing"}}},
		{"unknown", Peripheral, create, "", `{"label":"l","name":"n","summary":"s","archLabel":"a","parentLabel":"","x":1}`, []InvalidParam{{"x", "not a parameter of this overload"}}},
		{"not an integer", Hub, details, "", `{"id":1.5}`, []InvalidParam{{"id", "value must be an integer"}}},
		{"out of int32", Hub, details, "", `{"id":4294967296}`, []InvalidParam{{"id", `integer doesn't match the format "int32" (value should be between -2147483648 and 2147483647)`}}},
		{"bad date", Hub, dates, "", `{"channelLabel":"c","startDate":"yesterday"}`, []InvalidParam{{"startDate", "must be an RFC 3339 date-time with a zone, such as 2025-01-02T03:04:05Z"}}},
		{"good date", Hub, dates, "", `{"channelLabel":"c","startDate":"2025-01-02T03:04:05+01:00"}`, nil},
		{"not an object", Hub, create, "", `[1]`, []InvalidParam{{"(body)", "value must be an object"}}},
		{"no body", Hub, create, "", ``, []InvalidParam{{"(body)", "a JSON object of named parameters is required"}}},
		{"no parameters", Fanout, list, "targets=all&targets=hub", ``, nil},
		{"two problems", Hub, create, "", `{"label":1,"name":"n","summary":"s","archLabel":"a"}`, []InvalidParam{{"label", "value must be a string"}, {"parentLabel", "required, but missing"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/x?"+tt.query, nil)
			req.Header.Set("Content-Type", "application/json")
			pp := map[string]string{}
			if tt.kind == Peripheral {
				pp["target"] = "peripheral-1"
			}
			err := s.ValidateRequest(context.Background(), req, []byte(tt.body), tt.kind, tt.o, pp)
			if tt.params == nil {
				require.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.ElementsMatch(t, tt.params, ve.Params)
			require.NotContains(t, err.Error(), "4294967296", "values stay out of messages")
		})
	}

	// The native surface validates decoded parameters against the same schemas.
	require.NoError(t, s.ValidateParams(details, map[string]any{"id": float64(3)}))
	err := s.ValidateParams(details, map[string]any{"id": "x"})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, []InvalidParam{{"id", "value must be an integer"}}, ve.Params)
	require.Error(t, s.ValidateParams(list, map[string]any{"x": 1}))
	require.NoError(t, s.ValidateParams(list, nil))
}

func TestLive(t *testing.T) {
	cat := testCatalog(t)
	l := NewLive(cat, Options{}, nil)
	require.Equal(t, "catalog", l.Current().Model.Source)
	require.NoError(t, l.Err())
	require.True(t, l.Due(time.Hour))

	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	calls := 0
	list := callList(cat)
	fetch := func(context.Context) (string, any, error) { calls++; return "27", list, nil }
	changed, err := l.Refresh(context.Background(), fetch)
	require.NoError(t, err)
	require.True(t, changed)
	first := l.Current()
	require.Equal(t, "hub", first.Model.Source)
	require.Contains(t, string(first.JSON), `"x-hubgw-hub-api":"27"`)
	require.False(t, l.Due(time.Hour))
	now = now.Add(time.Hour)
	require.True(t, l.Due(time.Hour))

	// The same API: the document stays.
	changed, err = l.Refresh(context.Background(), fetch)
	require.NoError(t, err)
	require.False(t, changed)
	require.Same(t, first, l.Current())

	// A new version: rebuilt, with a new ETag.
	fetch = func(context.Context) (string, any, error) { return "28", list, nil }
	changed, err = l.Refresh(context.Background(), fetch)
	require.NoError(t, err)
	require.True(t, changed)
	require.NotEqual(t, first.ETag, l.Current().ETag)

	// Failures keep the document.
	cur := l.Current()
	_, err = l.Refresh(context.Background(), func(context.Context) (string, any, error) { return "", nil, errors.New("hub down") })
	require.ErrorContains(t, err, "hub down")
	_, err = l.Refresh(context.Background(), func(context.Context) (string, any, error) { return "29", "garbage", nil })
	require.Error(t, err)
	require.Same(t, cur, l.Current())
	// After a failure: again within a minute, not every request.
	require.False(t, l.Due(time.Hour))
	now = now.Add(time.Minute)
	require.True(t, l.Due(time.Hour))

	// In the background, one at a time.
	done := make(chan struct{})
	l.RefreshAsync(context.Background(), time.Minute, func(context.Context) (string, any, error) { <-done; return "30", list, nil })
	l.RefreshAsync(context.Background(), time.Minute, func(context.Context) (string, any, error) {
		t.Error("second refresh while one runs")
		return "", nil, nil
	})
	close(done)
	l.Wait()
	require.Equal(t, "30", l.Current().Model.Version)
}

// BenchmarkGenerate builds the model of all 839 catalog methods and its
// document (target: under 200 ms).
func BenchmarkGenerate(b *testing.B) {
	cat := testCatalog(b)
	b.ReportAllocs()
	for b.Loop() {
		doc := Generate(FromCatalog(cat, Options{}))
		if doc.Paths.Len() < 2500 {
			b.Fatal(doc.Paths.Len())
		}
	}
}

// BenchmarkBuild is Generate plus what a served document also costs:
// kin-openapi's Validate and the JSON encoding.
func BenchmarkBuild(b *testing.B) {
	cat := testCatalog(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(context.Background(), FromCatalog(cat, Options{})); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateRequest is the validation overhead per REST request:
// openapi3filter on a call with a 5-parameter JSON body.
func BenchmarkValidateRequest(b *testing.B) {
	s := testSpec(b)
	o := s.Model.BySig("channel.software.create", "label,name,summary,archLabel,parentLabel")
	body := []byte(`{"label":"my-channel","name":"My channel","summary":"summary","archLabel":"channel-x86_64","parentLabel":""}`)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/call/channel/software/create?targets=all", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.ValidateRequest(ctx, req, body, Fanout, o, nil); err != nil {
			b.Fatal(err)
		}
	}
}
