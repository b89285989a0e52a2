package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway"
)

// restResp is one REST answer.
type restResp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body (numbers as json.Number, so ids stay exact).
func (r restResp) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&m), "%s", r.Body)
	return m
}

// rest sends one request: body is a JSON value, a string sent as is, or nil.
func rest(t testing.TB, g *gw, method, path, token string, body any) restResp {
	t.Helper()
	return restWith(t, http.DefaultClient, g, method, path, token, "application/json", body)
}

func restWith(t testing.TB, hc *http.Client, g *gw, method, path, token, ctype string, body any) restResp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, g.Base+path, rd)
	require.NoError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return doRest(t, hc, req)
}

// doRest sends req and reads the whole answer.
func doRest(t testing.TB, hc *http.Client, req *http.Request) restResp {
	t.Helper()
	resp, err := hc.Do(req)
	require.NoError(t, err)
	return readResp(t, resp)
}

// readResp reads and closes an answer.
func readResp(t testing.TB, resp *http.Response) restResp {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return restResp{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// restLogin logs in over REST and returns the bearer token.
func restLogin(t testing.TB, g *gw, mode string) string {
	t.Helper()
	r := rest(t, g, http.MethodPost, "/api/v1/login", "", map[string]any{"username": "admin", "password": "admin", "mode": mode})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m := r.JSON(t)
	require.Equal(t, "Bearer", m["tokenType"])
	require.Equal(t, mode, m["mode"])
	return m["token"].(string)
}

// requireProblem checks an RFC 9457 answer and returns it.
func requireProblem(t *testing.T, r restResp, status, faultCode int, contains string) map[string]any {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r.Body)
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), "%s", r.Body)
	p := r.JSON(t)
	require.Equal(t, json.Number(fmt.Sprint(status)), p["status"])
	require.Equal(t, http.StatusText(status), p["title"])
	require.Equal(t, "about:blank", p["type"])
	require.Equal(t, json.Number(fmt.Sprint(faultCode)), p["faultCode"], "%s", r.Body)
	require.Contains(t, p["detail"], contains)
	require.NotEmpty(t, p["requestId"])
	return p
}

// invalidParams returns the names a 400 names.
func invalidParams(t *testing.T, p map[string]any) []string {
	t.Helper()
	var names []string
	list, _ := p["invalidParams"].([]any)
	for _, e := range list {
		names = append(names, e.(map[string]any)["name"].(string))
	}
	return names
}

// requireServing checks the gateway still answers, over REST and XML-RPC.
func requireServing(t *testing.T, g *gw, token string) {
	t.Helper()
	r := rest(t, g, http.MethodPost, "/api/v1/hub/api/getVersion", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	mustCall(t, kolo(t, g.URL), "api.getVersion")
}

// pname is the name the registry gives a simulated peripheral: a sync.hub
// hub (uyunisim's default) names peripherals by FQDN.
func pname(p *uyunisim.Server) string { return p.FQDN() }

func results(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	list, ok := m["results"].([]any)
	require.True(t, ok, "%v", m)
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

func names(rs []map[string]any) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r["serverName"].(string)
	}
	return out
}

func TestRESTDocumentFollowsTheHub(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, nil)

	// Before anyone logged in: the embedded catalog's document.
	r := rest(t, g, http.MethodGet, "/openapi.json", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	doc, err := openapi3.NewLoader().LoadFromData(r.Body)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	require.Equal(t, "catalog", doc.Info.Extensions["x-hubgw-source"])
	require.Nil(t, doc.Paths.Value("/api/v1/call/system/listSystemsWithEntitlement"), "not in the 2021 catalog")
	etag := r.Header.Get("ETag")
	require.NotEmpty(t, etag)

	req, _ := http.NewRequest(http.MethodGet, g.Base+"/openapi.json", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotModified, resp.StatusCode)

	y := rest(t, g, http.MethodGet, "/openapi.yaml", "", nil)
	require.Equal(t, http.StatusOK, y.Status)
	require.Equal(t, "application/yaml", y.Header.Get("Content-Type"))
	fromYAML, err := openapi3.NewLoader().LoadFromData(y.Body)
	require.NoError(t, err)
	require.Equal(t, doc.Paths.Len(), fromYAML.Paths.Len())

	// A REST login lets the gateway read the hub's own API list.
	restLogin(t, g, "manual")
	live := waitForHubDocument(t, g)
	require.NoError(t, live.Validate(context.Background()))
	require.Equal(t, "27", live.Info.Extensions["x-hubgw-hub-api"])
	// A method the catalog lacks is there, with positional names.
	op := live.Paths.Value("/api/v1/call/system/listSystemsWithEntitlement").Post
	require.NotNil(t, op)
	body := op.RequestBody.Value.Content["application/json"].Schema.Value
	require.Equal(t, []string{"arg1"}, body.Required)
	require.Contains(t, op.Description, "positional")
	require.NotNil(t, live.Paths.Value("/api/v1/hub/sync/hub/listPeripheralServers"))
	r = rest(t, g, http.MethodGet, "/openapi.json", "", nil)
	require.NotEqual(t, etag, r.Header.Get("ETag"))
}

// waitForHubDocument waits until the served document is the one read from
// the hub, and returns it parsed. The poll reads only its info: parsing
// 2 MB of OpenAPI every few milliseconds under the race detector was
// itself the load that made the wait run out.
func waitForHubDocument(t *testing.T, g *gw) *openapi3.T {
	t.Helper()
	var body []byte
	require.Eventually(t, func() bool {
		r := rest(t, g, http.MethodGet, "/openapi.json", "", nil)
		var head struct {
			Info struct {
				Source string `json:"x-hubgw-source"`
			} `json:"info"`
		}
		body = r.Body
		return json.Unmarshal(r.Body, &head) == nil && head.Info.Source == "hub"
	}, 90*time.Second, 100*time.Millisecond)
	doc, err := openapi3.NewLoader().LoadFromData(body)
	require.NoError(t, err)
	return doc
}

func TestRESTDocumentAtStartAndLegacyHub(t *testing.T) {
	// A 2021 hub (no sync.hub namespace), read at start with the
	// introspection account, before any client came.
	sim := startSim(t, uyunisim.Config{Peripherals: 1, Discovery: uyunisim.DiscoveryLegacy})
	g := startGateway(t, sim, func(c *server.Config) { c.IntrospectUser, c.IntrospectPassword = "admin", "admin" })
	doc := waitForHubDocument(t, g)
	require.Equal(t, "25", doc.Info.Extensions["x-hubgw-hub-api"])
	require.Nil(t, doc.Paths.Value("/api/v1/hub/sync/hub/listPeripheralServers"), "a legacy hub has no sync.hub")
	require.NotNil(t, doc.Paths.Value("/api/v1/hub/system/listSystems"))
	// The introspection session was logged out again.
	var logouts int
	for _, c := range sim.Hub().Calls() {
		if c.Method == "auth.logout" {
			logouts++
		}
	}
	require.Equal(t, 1, logouts)

	// And the sync.hub method is then unknown to the REST surface.
	token := restLogin(t, g, "manual")
	requireProblem(t, rest(t, g, http.MethodPost, "/api/v1/hub/sync/hub/listPeripheralServers", token, nil), http.StatusNotFound, gateway.CodeNoMethod, "no method sync.hub.listPeripheralServers")
	requireServing(t, g, token)
}

func TestRESTAuth(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, nil)

	p := requireProblem(t, rest(t, g, http.MethodPost, "/api/v1/login", "", map[string]any{"username": "admin", "password": "wrong"}),
		http.StatusUnauthorized, 2950, "Either the password or username is incorrect")
	require.Equal(t, "/api/v1/login", p["instance"])
	requireProblem(t, rest(t, g, http.MethodPost, "/api/v1/login", "", map[string]any{"username": "admin", "password": "admin", "mode": "sideways"}),
		http.StatusBadRequest, gateway.CodeBadParams, `parameter "mode"`)
	requireProblem(t, rest(t, g, http.MethodPost, "/api/v1/login", "", map[string]any{"username": "admin"}),
		http.StatusBadRequest, gateway.CodeBadParams, `parameter "password"`)

	r := rest(t, g, http.MethodPost, "/api/v1/hub/system/listSystems", "", nil)
	requireProblem(t, r, http.StatusUnauthorized, gateway.CodeNoSession, "no bearer token")
	require.Equal(t, `Bearer realm="hubgw"`, r.Header.Get("WWW-Authenticate"))
	r = rest(t, g, http.MethodGet, "/api/v1/peripherals", "gw"+strings.Repeat("0", 64), nil)
	requireProblem(t, r, http.StatusUnauthorized, gateway.CodeNoSession, "Could not find session")
	require.Contains(t, r.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

	// The token is the gateway session: XML-RPC takes it, and REST takes
	// what XML-RPC's hub.login returns.
	token := restLogin(t, g, "relay")
	c := kolo(t, g.URL)
	require.Len(t, ints(mustCall(t, c, "hub.listServerIds", token)), 2)
	key := mustCall(t, c, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	r = rest(t, g, http.MethodPost, "/api/v1/hub/system/listSystems", key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	// Logout ends it everywhere.
	r = rest(t, g, http.MethodPost, "/api/v1/logout", token, nil)
	require.Equal(t, http.StatusNoContent, r.Status)
	requireProblem(t, rest(t, g, http.MethodGet, "/api/v1/peripherals", token, nil), http.StatusUnauthorized, gateway.CodeNoSession, "Could not find session")
	mustFault(t, c, -1, "Could not find session", "hub.listServerIds", token)
	requireServing(t, g, key)
}

func TestRESTCallKinds(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	r := rest(t, g, http.MethodPost, "/api/v1/login", "", map[string]any{"username": "admin", "password": "admin", "mode": "autoconnect"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	login := r.JSON(t)
	token := login["token"].(string)
	attached := login["attached"].(map[string]any)
	require.Equal(t, true, attached["complete"])
	require.Len(t, results(t, attached), 3)
	require.Equal(t, "attached", results(t, attached)[0]["value"])

	// On the hub: one result.
	r = rest(t, g, http.MethodPost, "/api/v1/hub/system/listSystems", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	hub := r.JSON(t)
	require.Equal(t, "hub", hub["serverName"])
	require.Equal(t, json.Number("0"), hub["serverId"])
	require.Equal(t, true, hub["ok"])
	require.Equal(t, "ok", hub["outcome"])
	require.Equal(t, json.Number("1"), hub["attempts"])
	require.Len(t, hub["value"], 3, "the hub's systems are its peripherals")

	// On one peripheral, by name and by id: members in Uyuni's order, dates with a zone.
	p1 := sim.Peripherals()[0]
	for _, ref := range []string{pname(p1), fmt.Sprint(p1.ID())} {
		r = rest(t, g, http.MethodPost, "/api/v1/peripherals/"+ref+"/system/listSystems", token, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", ref, r.Body)
		one := r.JSON(t)
		require.Equal(t, pname(p1), one["serverName"])
		require.Equal(t, json.Number(fmt.Sprint(p1.ID())), one["serverId"])
		systems := one["value"].([]any)
		require.Len(t, systems, 10)
		checkin := systems[0].(map[string]any)["last_checkin"].(string)
		_, err := time.Parse(time.RFC3339, checkin)
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(checkin, "Z"), checkin)
	}
	require.Regexp(t, `"value":\[\{"id":\d+,"name":"[^"]+","last_checkin":"[^"]+","created":"[^"]+","last_boot":[^,]+,"extra_pkg_count":0,"outdated_pkg_count":\d+\}`, string(r.Body))

	// Fanned out: one result per target, in the order asked.
	ps := sim.Peripherals()
	r = rest(t, g, http.MethodPost, "/api/v1/call/system/listSystems?targets="+pname(ps[2])+","+pname(ps[0])+"&targets=hub", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	fan := r.JSON(t)
	require.Equal(t, true, fan["complete"])
	rs := results(t, fan)
	require.Equal(t, []string{pname(ps[2]), pname(ps[0]), "hub"}, names(rs))
	for _, x := range rs {
		require.Equal(t, true, x["ok"])
		require.NotNil(t, x["durationMs"])
	}
	// No targets: all attached peripherals.
	r = rest(t, g, http.MethodPost, "/api/v1/call/system/listSystems", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, []string{pname(ps[0]), pname(ps[1]), pname(ps[2])}, names(results(t, r.JSON(t))))

	// An upstream fault on one server: its code, its server.
	r = rest(t, g, http.MethodPost, "/api/v1/peripherals/"+pname(p1)+"/channel/software/getDetails", token, map[string]any{"channelLabel": "nope"})
	pr := requireProblem(t, r, http.StatusNotFound, -210, "No such channel: nope")
	require.Equal(t, pname(p1), pr["serverName"])
	require.Equal(t, "fault", pr["outcome"])

	// Overloads: the bare path picks by parameter names, the suffixed path names one.
	create := map[string]any{"label": "rest-chan", "name": "REST channel", "summary": "s", "archLabel": "channel-x86_64", "parentLabel": ""}
	r = rest(t, g, http.MethodPost, "/api/v1/call/channel/software/create?targets=all", token, create)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, x := range results(t, r.JSON(t)) {
		require.Equal(t, json.Number("1"), x["value"])
	}
	create6 := map[string]any{"label": "rest-chan-2", "name": "REST channel two", "summary": "s", "archLabel": "channel-x86_64", "parentLabel": "", "checksumType": "sha256"}
	r = rest(t, g, http.MethodPost, "/api/v1/peripherals/"+pname(p1)+"/channel/software/create", token, create6)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for label, sum := range map[string]string{"rest-chan": "sha1", "rest-chan-2": "sha256"} {
		r = rest(t, g, http.MethodPost, "/api/v1/peripherals/"+pname(p1)+"/channel/software/getDetails(channelLabel)", token, map[string]any{"channelLabel": label})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, sum, r.JSON(t)["value"].(map[string]any)["checksum_label"], label)
	}
	// The 5-parameter overload went upstream with 5 arguments after the key.
	var createCalls []int
	for _, c := range p1.Calls() {
		if c.Method == "channel.software.create" {
			createCalls = append(createCalls, len(c.Params))
		}
	}
	require.Equal(t, []int{6, 7}, createCalls)
	r = rest(t, g, http.MethodPost, "/api/v1/hub/channel/software/create(label,name,summary,archLabel,parentLabel,checksumType)", token, create6)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	// Creating again: a fault per target inside a complete answer.
	r = rest(t, g, http.MethodPost, "/api/v1/call/channel/software/create", token, create)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	fan = r.JSON(t)
	require.Equal(t, false, fan["complete"])
	for _, x := range results(t, fan) {
		require.Equal(t, false, x["ok"])
		require.Equal(t, "fault", x["outcome"])
		require.Equal(t, json.Number("1200"), x["faultCode"])
		require.Contains(t, x["faultString"], "already in use")
	}

	// The registry with health.
	r = rest(t, g, http.MethodGet, "/api/v1/peripherals", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	reg := r.JSON(t)
	require.Equal(t, "hub", reg["hub"].(map[string]any)["name"])
	list := reg["peripherals"].([]any)
	require.Len(t, list, 3)
	first := list[0].(map[string]any)
	require.Equal(t, true, first["attached"])
	require.Equal(t, "closed", first["breaker"])
	require.Equal(t, "fault", first["last"].(map[string]any)["outcome"], "the last call there was the duplicate create")
	requireServing(t, g, token)
}

func TestRESTFanoutWithAPeripheralDown(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, func(c *server.Config) { c.BreakerFailures = 1; c.BreakerCooldown = time.Hour })
	token := restLogin(t, g, "relay")
	r := rest(t, g, http.MethodPost, "/api/v1/attach", token, map[string]any{"targets": []string{"all"}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, true, r.JSON(t)["complete"])

	ps := sim.Peripherals()
	require.NoError(t, ps[1].Inject(uyunisim.Faults{Down: true}))
	r = rest(t, g, http.MethodPost, "/api/v1/call/system/listSystems?targets=all", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	fan := r.JSON(t)
	require.Equal(t, false, fan["complete"])
	rs := results(t, fan)
	require.Equal(t, []string{pname(ps[0]), pname(ps[1]), pname(ps[2])}, names(rs))
	require.Equal(t, true, rs[0]["ok"])
	require.Equal(t, true, rs[2]["ok"])
	down := rs[1]
	require.Equal(t, false, down["ok"])
	require.Equal(t, "transport", down["outcome"])
	require.Equal(t, json.Number(fmt.Sprint(gateway.CodeUnreachable)), down["faultCode"], "%s", r.Body)
	require.NotEmpty(t, down["error"])
	require.Nil(t, down["value"])

	// Its circuit is now open: the one-peripheral call says so.
	r = rest(t, g, http.MethodPost, "/api/v1/peripherals/"+pname(ps[1])+"/system/listSystems", token, nil)
	p := requireProblem(t, r, http.StatusServiceUnavailable, gateway.CodeCircuitOpen, "circuit open")
	require.Equal(t, "circuit_open", p["outcome"])
	r = rest(t, g, http.MethodGet, "/api/v1/peripherals", token, nil)
	require.Equal(t, http.StatusOK, r.Status)
	st := r.JSON(t)["peripherals"].([]any)[1].(map[string]any)
	require.Equal(t, "open", st["breaker"])
	last := st["last"].(map[string]any)
	require.Equal(t, "circuit_open", last["outcome"], "the last call there was refused by the breaker")
	require.Equal(t, json.Number(fmt.Sprint(gateway.CodeCircuitOpen)), last["faultCode"])
	requireServing(t, g, token)
}

func TestRESTManualAttach(t *testing.T) {
	// A hub that names its peripherals (system names, not FQDNs).
	sim := startSim(t, uyunisim.Config{Peripherals: 2, Discovery: uyunisim.DiscoveryEntitlement})
	g := startGateway(t, sim, nil)
	token := restLogin(t, g, "manual")
	ps := sim.Peripherals()

	requireProblem(t, rest(t, g, http.MethodPost, "/api/v1/peripherals/"+ps[0].Name()+"/system/listSystems", token, nil),
		http.StatusConflict, gateway.CodeNotAttached, "not attached")
	// Without credentials a manual session cannot attach.
	requireProblem(t, rest(t, g, http.MethodPost, "/api/v1/attach", token, map[string]any{"targets": []string{"all"}}),
		http.StatusBadRequest, gateway.CodeBadParams, "usernames and passwords")

	r := rest(t, g, http.MethodPost, "/api/v1/attach", token, map[string]any{"credentials": []map[string]string{
		{"target": ps[0].Name(), "username": "admin", "password": "admin"},
		{"target": fmt.Sprint(ps[1].ID()), "username": "admin", "password": "wrong"},
	}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	rs := results(t, r.JSON(t))
	require.Equal(t, true, rs[0]["ok"])
	require.Equal(t, false, rs[1]["ok"])
	require.Equal(t, json.Number("2950"), rs[1]["faultCode"])
	require.NotContains(t, string(r.Body), `"wrong"`, "passwords never come back")

	// all: every peripheral the hub lists; one this manual session is not
	// attached to is a failed result, and the answer is not complete.
	r = rest(t, g, http.MethodPost, "/api/v1/call/system/listSystems?targets=all", token, nil)
	all := r.JSON(t)
	require.Equal(t, []string{ps[0].Name(), ps[1].Name()}, names(results(t, all)))
	require.Equal(t, false, all["complete"])
	require.Equal(t, json.Number(fmt.Sprint(gateway.CodeNotAttached)), results(t, all)[1]["faultCode"])
	r = rest(t, g, http.MethodPost, "/api/v1/call/system/listSystems?targets="+ps[1].Name(), token, nil)
	rs = results(t, r.JSON(t))
	require.Equal(t, json.Number(fmt.Sprint(gateway.CodeNotAttached)), rs[0]["faultCode"])
	requireServing(t, g, token)
}

func TestRESTBadRequests(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, func(c *server.Config) { c.MaxBodyBytes = 64 << 10 })
	token := restLogin(t, g, "autoconnect")
	ps := sim.Peripherals()
	create := "/api/v1/hub/channel/software/create(label,name,summary,archLabel,parentLabel)"
	good := map[string]any{"label": "x-chan", "name": "X chan", "summary": "s", "archLabel": "channel-x86_64", "parentLabel": ""}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}

	tests := []struct {
		name      string
		method    string
		path      string
		ctype     string
		body      any
		status    int
		code      int
		contains  string
		badParams []string
	}{
		{"wrong type", "POST", create, "", with("label", 7), 400, gateway.CodeBadParams, `parameter "label": value must be a string`, []string{"label"}},
		{"missing", "POST", create, "", with("parentLabel", nil), 400, gateway.CodeBadParams, `parameter "parentLabel"`, []string{"parentLabel"}},
		{"unknown", "POST", create, "", with("colour", "red"), 400, gateway.CodeBadParams, `parameter "colour"`, []string{"colour"}},
		{"no overload takes these", "POST", "/api/v1/hub/channel/software/create", "", map[string]any{"label": "x", "bogus": 1}, 400, gateway.CodeBadParams, "valid parameter sets", []string{"archLabel", "bogus", "name", "parentLabel", "summary"}},
		{"bad date", "POST", "/api/v1/hub/channel/software/listAllPackages", "", map[string]any{"channelLabel": "c", "startDate": "tomorrow"}, 400, gateway.CodeBadParams, "RFC 3339", []string{"startDate"}},
		{"array element", "POST", "/api/v1/hub/system/listFqdns", "", map[string]any{"sid": "one"}, 400, gateway.CodeBadParams, `parameter "sid"`, []string{"sid"}},
		{"malformed JSON", "POST", create, "", `{"label": "x",`, 400, gateway.CodeParse, "malformed JSON", nil},
		{"trailing garbage", "POST", create, "", `{"label": "x"} {}`, 400, gateway.CodeParse, "malformed JSON", nil},
		{"not an object", "POST", create, "", `["x"]`, 400, gateway.CodeParse, "JSON object", nil},
		{"duplicate parameter", "POST", create, "", `{"label":"a","label":"b"}`, 400, gateway.CodeParse, `"label" is given twice`, nil},
		{"not JSON", "POST", create, "application/x-www-form-urlencoded", "label=x", 415, gateway.CodeInvalidRequest, "Content-Type: application/json", nil},
		{"huge body", "POST", create, "", `{"label":"` + strings.Repeat("x", 100<<10) + `"}`, 413, gateway.CodeTooLarge, "byte limit", nil},
		{"unknown target", "POST", "/api/v1/call/system/listSystems?targets=" + pname(ps[0]) + ",nowhere", "", nil, 404, gateway.CodeUnknownServer, `unknown target "nowhere"`, nil},
		{"unknown peripheral", "POST", "/api/v1/peripherals/nowhere/system/listSystems", "", nil, 404, gateway.CodeUnknownServer, `unknown target "nowhere"`, nil},
		{"hub as a peripheral", "POST", "/api/v1/peripherals/hub/system/listSystems", "", nil, 400, gateway.CodeBadParams, "use /api/v1/hub", []string{"target"}},
		{"a set as a peripheral", "POST", "/api/v1/peripherals/all/system/listSystems", "", nil, 400, gateway.CodeBadParams, "not one peripheral", []string{"target"}},
		{"unknown method", "POST", "/api/v1/call/system/launchRocket", "", nil, 404, gateway.CodeNoMethod, "no method system.launchRocket", nil},
		{"unknown namespace", "POST", "/api/v1/hub/rocket/launch", "", nil, 404, gateway.CodeNoMethod, "no method rocket.launch", nil},
		{"not a method path", "POST", "/api/v1/hub/listSystems", "", nil, 404, gateway.CodeNoMethod, "not a method path", nil},
		{"unknown overload", "POST", "/api/v1/hub/channel/software/create(label)", "", map[string]any{"label": "x"}, 404, gateway.CodeNoMethod, "no overload (label)", nil},
		{"auth is the gateway's", "POST", "/api/v1/hub/auth/login", "", map[string]any{"username": "a", "password": "b"}, 404, gateway.CodeNoMethod, "/api/v1/login", nil},
		{"wrong HTTP method", "GET", "/api/v1/call/system/listSystems", "", nil, 405, gateway.CodeInvalidRequest, "takes POST", nil},
		{"unknown endpoint", "GET", "/api/v1/nothing", "", nil, 404, gateway.CodeNoMethod, "no such endpoint", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctype := tt.ctype
			if ctype == "" {
				ctype = "application/json"
			}
			r := restWith(t, http.DefaultClient, g, tt.method, tt.path, token, ctype, tt.body)
			p := requireProblem(t, r, tt.status, tt.code, tt.contains)
			if tt.badParams != nil {
				require.Equal(t, tt.badParams, invalidParams(t, p))
			}
			if tt.code == gateway.CodeUnknownServer {
				require.Contains(t, p["validTargets"], pname(ps[1]))
			}
			if tt.status == http.StatusMethodNotAllowed {
				require.Equal(t, "POST", r.Header.Get("Allow"))
			}
			requireServing(t, g, token)
		})
	}
	// Values never come back in messages (they may be passwords).
	r := rest(t, g, http.MethodPost, create, token, with("label", 123456789))
	require.NotContains(t, string(r.Body), "123456789")
	// Nothing reached the hub's channel.software.create.
	for _, c := range sim.Hub().Calls() {
		require.NotEqual(t, "channel.software.create", c.Method)
	}
}

func TestRESTDatesInTheServersZone(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, func(c *server.Config) {
		c.PeripheralTimezone = "Asia/Tokyo"
		c.Peripherals = map[string]server.Peripheral{sim.Peripherals()[1].FQDN(): {Timezone: "America/New_York"}}
	})
	token := restLogin(t, g, "autoconnect")
	r := rest(t, g, http.MethodPost, "/api/v1/call/system/listSystems", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	rs := results(t, r.JSON(t))
	tokyo := rs[0]["value"].([]any)[0].(map[string]any)["last_checkin"].(string)
	ny := rs[1]["value"].([]any)[0].(map[string]any)["last_checkin"].(string)
	require.True(t, strings.HasSuffix(tokyo, "+09:00"), tokyo)
	require.Regexp(t, `-0[45]:00$`, ny)

	// Dates sent go upstream as the wall clock in the server's zone.
	p2 := sim.Peripherals()[1]
	r = rest(t, g, http.MethodPost, "/api/v1/peripherals/"+pname(p2)+"/channel/software/listAllPackages", token,
		map[string]any{"channelLabel": "nope", "startDate": "2025-01-02T12:00:00Z"})
	requireProblem(t, r, http.StatusBadRequest, -1, "not simulated")
	var sent any
	for _, c := range p2.Calls() {
		if c.Method == "channel.software.listAllPackages" {
			sent = c.Params[2]
		}
	}
	require.Equal(t, time.Date(2025, 1, 2, 7, 0, 0, 0, time.UTC), sent, "12:00Z is 07:00 in New York, sent as a wall clock")
}

// TestRESTUyuniNative drives /rhn/manager/api as a script written for
// Uyuni's own HTTP API does: Python's urllib with a cookie jar.
func TestRESTUyuniNative(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, nil)
	out := python(t, `
import http.cookiejar, json, os, urllib.request, urllib.error
base = os.environ["BASE"] + "/rhn/manager/api"
jar = http.cookiejar.CookieJar()
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with op.open(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
print(call("POST", "/auth/login", {"login": "admin", "password": "wrong"}))
print(call("POST", "/auth/login", {"login": "admin", "password": "admin"}))
print([c.name for c in jar])
s, r = call("GET", "/system/listSystems")
print(s, r["success"], len(r["result"]), sorted(r["result"][0]))
print(call("POST", "/channel/software/create", {"label": "native-chan", "name": "Native channel", "summary": "s", "archLabel": "channel-x86_64", "parentLabel": ""}))
print(call("POST", "/channel/software/create", {"label": "native-chan", "name": "Native channel", "summary": "s", "archLabel": "channel-x86_64", "parentLabel": ""}))
s, r = call("GET", "/channel/software/getDetails?channelLabel=native-chan")
print(s, r["success"], r["result"]["label"], r["result"]["checksum_label"])
print(call("GET", "/channel/software/getDetails?id=notanumber"))
print(call("GET", "/channel/software/create?label=x"))
print(call("POST", "/system/launchRocket"))
print(call("POST", "/auth/logout"))
print(call("GET", "/system/listSystems"))
`, "BASE="+g.Base)
	lines := strings.Split(out, "\n")
	require.Len(t, lines, 12, out)
	require.Equal(t, `(401, {'success': False, 'message': 'Either the password or username is incorrect.'})`, lines[0])
	require.Equal(t, `(200, {'success': True})`, lines[1])
	require.Equal(t, `['pxt-session-cookie']`, lines[2])
	require.Equal(t, `200 True 2 ['created', 'extra_pkg_count', 'id', 'last_boot', 'last_checkin', 'name', 'outdated_pkg_count']`, lines[3])
	require.Equal(t, `(200, {'success': True, 'result': 1})`, lines[4])
	require.Contains(t, lines[5], `(200, {'success': False, 'message': "redstone.xmlrpc.XmlRpcFault:`)
	require.Contains(t, lines[5], `already in use`)
	require.Equal(t, `200 True native-chan sha1`, lines[6])
	require.Contains(t, lines[7], `(400, {'success': False, 'message': 'parameter id: must be a number'})`)
	require.Contains(t, lines[8], `(405, {'success': False, 'message': 'channel.software.create changes things: use POST'})`)
	require.Contains(t, lines[9], `(404, {'success': False, 'message': 'no such API method: system.launchRocket'})`)
	require.Equal(t, `(200, {'success': True})`, lines[10])
	require.Contains(t, lines[11], `(401, {'success': False`, "logout dropped the cookie")

	// The cookie is a gateway session, usable over XML-RPC too.
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := &http.Client{Jar: jar}
	r := restWith(t, hc, g, http.MethodPost, "/rhn/manager/api/auth/login", "", "application/json", map[string]string{"login": "admin", "password": "admin"})
	require.Equal(t, http.StatusOK, r.Status)
	var cookie string
	for _, c := range r.Header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(c, "pxt-session-cookie="); ok {
			cookie, _, _ = strings.Cut(v, ";")
			require.Contains(t, c, "HttpOnly")
		}
	}
	require.Regexp(t, `^gw[0-9a-f]{64}$`, cookie)
	require.Len(t, ints(mustCall(t, kolo(t, g.URL), "hub.listServerIds", cookie)), 2)
	r = restWith(t, hc, g, http.MethodPost, "/rhn/manager/api/system/listSystems", "", "application/json", "{}")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.True(t, bytes.HasPrefix(r.Body, []byte(`{"success":true,"result":[{"id":`)), "%s", r.Body)
	r = restWith(t, hc, g, http.MethodPost, "/rhn/manager/api/system/listSystems", "", "application/json", "{oops")
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Contains(t, string(r.Body), `"success":false`)
	requireServing(t, g, cookie)
}
