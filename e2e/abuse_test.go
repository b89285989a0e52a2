package e2e

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Issue 12, H1: without a gateway session, a targeted path reaches the hub
// and nothing else: no peripheral sees a call, and no fault names one.
func TestNoSessionReachesTheHubOnly(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, func(c *server.Config) { c.Groups = map[string][]string{"web": {sim.Peripherals()[0].Name()}} })
	for _, p := range sim.Peripherals() {
		p.ResetCalls()
	}
	for _, spec := range []string{"all", "web", sim.Peripherals()[0].Name() + "," + sim.Peripherals()[1].Name(), "no-such-peripheral"} {
		c := kolo(t, g.Base+"/t/"+spec+"/rpc/api")
		require.NotEmpty(t, mustCall(t, c, "api.getVersion"), spec)
		require.NotEmpty(t, mustCall(t, c, "api.systemVersion"), spec)
		// Methods that take a session, or that the catalog does not know,
		// with something that is not a gateway session where the key goes.
		for _, cl := range [][]any{{"system.listSystems", "forged"}, {"system.listSystems", int64(1)}, {"made.up", "x", strings.Repeat("A", 1<<20)}} {
			_, f := call(t, c, cl[0].(string), cl[1:]...)
			if f == nil {
				continue // the hub answered (an unknown method it knows nothing of is its own fault)
			}
			for _, p := range sim.Peripherals() {
				require.NotContains(t, f.String, p.Name(), "%s %s: a fault without a session names no peripheral", spec, cl[0])
				require.NotContains(t, f.String, p.FQDN(), "%s %s", spec, cl[0])
			}
		}
	}
	for _, p := range sim.Peripherals() {
		require.Empty(t, p.Calls(), "%s was called without a session", p.Name())
	}
}

// Issue 12, M1: a client that trickles its request is dropped once the
// read deadline (derived from the body limit and the call timeout) passes.
func TestTricklingClientIsDropped(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, func(c *server.Config) { c.CallTimeout = time.Second; c.MaxBodyBytes = 1 << 10 })
	tm := server.ServerTimeouts(g.Server.Config())
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.Base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /hub/rpc/api HTTP/1.1\r\nHost: gw\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<?xml")
	require.NoError(t, err)
	// The gateway answers (408 or a fault) or closes; either way before
	// the test's own bound, which is well past the read deadline.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(tm.Read+5*time.Second)))
	_, err = bufio.NewReader(conn).ReadString('\n')
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the trickling connection was still open after %s", tm.Read+5*time.Second)
}

// Issue 12, M1: connections over --max-connections wait until one closes;
// an idle keep-alive connection is one.
func TestConnectionCap(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, func(c *server.Config) { c.MaxConnections = 1 })
	held := &http.Client{Transport: &http.Transport{}}
	resp, err := held.Get(g.Base + "/healthz")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close() // the connection stays open, idle, in held's pool

	other := &http.Client{Transport: &http.Transport{}, Timeout: 300 * time.Millisecond}
	_, err = other.Get(g.Base + "/healthz")
	require.Error(t, err, "a second connection was served while the cap of 1 was taken")

	held.CloseIdleConnections()
	other.Timeout = 10 * time.Second
	resp, err = other.Get(g.Base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// Issue 12, M2: a method name over 256 bytes or outside [A-Za-z0-9_.] is
// refused with a parse fault that does not quote it, and reaches no server.
func TestBadMethodNamesRefused(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	sim.Hub().ResetCalls()
	for _, name := range []string{strings.Repeat("a", 257), strings.Repeat("A", 1<<20), "api.getVersion\x7f", "api get", "api.getVersion;rm", "<x>"} {
		body := "<?xml version=\"1.0\"?><methodCall><methodName>" + xmlEscape(name) + "</methodName><params/></methodCall>"
		for _, path := range []string{"/hub/rpc/api", "/rpc/api", "/t/hub/rpc/api"} {
			status, resp := post(t, g.Base+path, "text/xml", strings.NewReader(body))
			require.Equal(t, http.StatusOK, status)
			require.Contains(t, resp, "<int>-32700</int>", "%s %.40q", path, name)
			require.Less(t, len(resp), 1024, "the fault must not quote the name")
		}
	}
	require.Empty(t, sim.Hub().Calls())
	c := kolo(t, g.URL)
	require.NotEmpty(t, mustCall(t, c, "api.getVersion"), "a plain name still passes")
}

// Issue 12, M2: the client's X-Request-Id is echoed only when it is short
// and plain; otherwise the gateway makes its own.
func TestRequestIDShortAndPlain(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	for _, tc := range []struct {
		sent string
		kept bool
	}{{"abc-123.X_y", true}, {strings.Repeat("a", 65), false}, {"a b", false}, {"ü", false}} {
		req, err := http.NewRequest(http.MethodGet, g.Base+"/healthz", nil)
		require.NoError(t, err)
		req.Header.Set("X-Request-Id", tc.sent)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		got := resp.Header.Get("X-Request-Id")
		require.NotEmpty(t, got)
		require.Equal(t, tc.kept, got == tc.sent, "%q → %q", tc.sent, got)
	}
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Issue 12, M3: calls that time out waiting for a per-server slot say the
// gateway is busy, not that the server is down: the server's circuit stays
// closed and the next call reaches it.
func TestWaitingForASlotNeverOpensTheCircuit(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, func(c *server.Config) {
		c.MaxPerServer = 1
		c.CallTimeout = 400 * time.Millisecond
		c.RequestTimeout = 2 * time.Second
		c.BreakerFailures = 2
		c.BreakerCooldown = time.Minute
	})
	p := sim.Peripherals()[0]
	c := kolo(t, g.URL)
	key := mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin")
	key = member(key, "SessionKey")
	require.NoError(t, p.Inject(uyunisim.Faults{Latency: 150 * time.Millisecond}))
	// Ten calls to one server with one slot: about two get it in time,
	// the rest time out in the queue.
	var wg sync.WaitGroup
	timeouts := make(chan int, 10)
	for range 10 {
		wg.Go(func() {
			if _, f := call(t, c, "unicast.system.listSystems", key, p.ID()); f != nil {
				timeouts <- f.Code
			}
		})
	}
	wg.Wait()
	close(timeouts)
	n := 0
	for code := range timeouts {
		require.Equal(t, gateway.CodeTimeout, code)
		n++
	}
	require.GreaterOrEqual(t, n, 2, "the test needs calls that waited past their deadline")
	require.NoError(t, p.ClearFaults())
	mustCall(t, c, "unicast.system.listSystems", key, p.ID())
}

// Issue 12, H2: a request's body times its servers is held against the
// in-flight budget; past it the request is refused with 4110 before any
// server is called, and within it the broadcast reaches every server with
// the argument intact (encoded once, sent to each).
func TestInFlightBudget(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 4})
	g := startGateway(t, sim, func(c *server.Config) { c.MaxInFlightBytes = 1 << 20 })
	c := kolo(t, g.URL)
	key := member(mustCall(t, c, "hub.loginWithAutoconnectMode", "admin", "admin"), "SessionKey")
	ids := ints(mustCall(t, c, "hub.listServerIds", key))
	for _, p := range sim.Peripherals() {
		p.ResetCalls()
	}
	big := strings.Repeat("x<&", 100<<10) // 300 KiB, escaped on the wire: over 1 MiB to 4 servers
	mustFault(t, c, gateway.CodeInFlight, "in-flight budget", "broadcast.system.setCustomValues", key, anys(ids...), int64(1000010000), map[string]any{"k": big})
	for _, p := range sim.Peripherals() {
		require.Empty(t, p.Calls(), "%s was called past the budget", p.Name())
	}
	small := strings.Repeat("x<&", 20<<10)
	mustCall(t, c, "broadcast.system.listSystemsWithEntitlement", key, anys(ids...), small)
	keys := map[any]bool{}
	for _, p := range sim.Peripherals() {
		calls := p.Calls()
		require.Len(t, calls, 1, p.Name())
		require.Equal(t, small, calls[0].Params[1], "%s got the shared argument intact", p.Name())
		keys[calls[0].Params[0]] = true
	}
	require.Len(t, keys, len(sim.Peripherals()), "each server got its own session key in front of the shared bytes")
}

// Issue 12, M4: the Uyuni-native API refuses what another site can make a
// browser send with the session cookie: non-JSON POSTs, foreign Origin or
// Sec-Fetch-Site, logout by GET, and login the same way; the cookie is
// SameSite=Strict.
func TestNativeAPIRefusesCrossSite(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	send := sender(t, &http.Client{Jar: jar}, g.Base+"/rhn/manager/api")
	login := `{"login":"admin","password":"admin"}`
	require.Equal(t, http.StatusForbidden, send("POST", "/auth/login", "text/plain", login).Status, "login CSRF")
	require.Empty(t, jar.Cookies(mustURL(t, g.Base)))
	r := send("POST", "/auth/login", "application/json", login, "Origin", g.Base, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Contains(t, r.Header.Get("Set-Cookie"), "SameSite=Strict")

	sim.Hub().ResetCalls()
	create := `{"label":"csrf-chan","name":"CSRF channel","summary":"s","archLabel":"channel-x86_64","parentLabel":""}`
	for _, tc := range []struct {
		name, ctype, body string
		hdr               []string
	}{
		{"text/plain", "text/plain", create, nil},
		{"form", "application/x-www-form-urlencoded", "label=csrf-chan", nil},
		{"multipart", "multipart/form-data; boundary=x", "--x--", nil},
		{"no content type", "", create, nil},
		{"foreign Origin", "application/json", create, []string{"Origin", "http://evil.example"}},
		{"cross-site fetch", "application/json", create, []string{"Sec-Fetch-Site", "cross-site"}},
		{"same-site fetch", "application/json", create, []string{"Sec-Fetch-Site", "same-site"}},
	} {
		r := send("POST", "/channel/software/create", tc.ctype, tc.body, tc.hdr...)
		require.Equal(t, http.StatusForbidden, r.Status, "%s: %s", tc.name, r.Body)
		require.Contains(t, string(r.Body), `"success":false`)
	}
	// Issue 12, L: NUL and invalid UTF-8 are refused, not turned into U+FFFD.
	for _, bad := range []string{`{"label":"nul\u0000chan","name":"n","summary":"s","archLabel":"channel-x86_64","parentLabel":""}`,
		"{\"label\":\"bad\xffchan\",\"name\":\"n\",\"summary\":\"s\",\"archLabel\":\"channel-x86_64\",\"parentLabel\":\"\"}"} {
		r := send("POST", "/channel/software/create", "application/json", bad)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	}
	r = send("GET", "/channel/software/getDetails?channelLabel=a%00b", "", "")
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	r = send("GET", "/auth/logout", "", "")
	require.Equal(t, http.StatusMethodNotAllowed, r.Status)
	for _, c := range sim.Hub().Calls() {
		require.NotEqual(t, "channel.software.create", c.Method, "a cross-site request reached the hub")
		require.NotEqual(t, "auth.logout", c.Method)
	}
	r = send("GET", "/system/listSystems", "", "")
	require.Equal(t, http.StatusOK, r.Status, "the session survived: %s", r.Body)
	require.Equal(t, http.StatusOK, send("POST", "/auth/logout", "application/json", "").Status)
}

// /api/v1 takes the session cookie of Uyuni's HTTP API (the web console
// in a browser signed in there), under the same cross-site rules: what
// another site can make a browser send with the cookie is refused.
func TestRESTSessionCookieSameSiteOnly(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := &http.Client{Jar: jar}
	r := restWith(t, hc, g, http.MethodPost, "/rhn/manager/api/auth/login", "", "application/json", map[string]string{"login": "admin", "password": "admin"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	send := sender(t, hc, g.Base)
	r = send("GET", "/api/v1/rollouts", "", "", "Sec-Fetch-Site", "same-origin", "Origin", g.Base)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `{"rollouts":[]}`, strings.TrimSpace(string(r.Body)))

	rollout := `{"documents": "kind: SystemGroup\nmetadata: {name: csrf}\n", "targets": ["all"]}`
	for _, tc := range []struct {
		name, method, path, ctype, body string
		hdr                             []string
	}{
		{"text/plain POST", "POST", "/api/v1/rollouts", "text/plain", rollout, nil},
		{"form POST", "POST", "/api/v1/call/system/listSystems?targets=all", "application/x-www-form-urlencoded", "", nil},
		{"foreign Origin", "POST", "/api/v1/rollouts", "application/json", rollout, []string{"Origin", "http://evil.example"}},
		{"cross-site GET", "GET", "/api/v1/jobs", "", "", []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		r := send(tc.method, tc.path, tc.ctype, tc.body, tc.hdr...)
		requireProblem(t, r, http.StatusForbidden, -1, "the session cookie is refused")
	}
	r = send("GET", "/api/v1/rollouts", "", "")
	require.Equal(t, `{"rollouts":[]}`, strings.TrimSpace(string(r.Body)), "nothing was started")
	require.Equal(t, http.StatusNoContent, send("POST", "/api/v1/logout", "application/json", "").Status)
	requireProblem(t, send("GET", "/api/v1/jobs", "", ""), http.StatusUnauthorized, -1, "")
}

// sender sends requests to base+path with hc (its cookie jar), a body of
// content type ctype, and headers given as name, value pairs.
func sender(t *testing.T, hc *http.Client, base string) func(method, path, ctype, body string, hdr ...string) restResp {
	return func(method, path, ctype, body string, hdr ...string) restResp {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return doRest(t, hc, req)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// Issue 12, login throttling: wrong passwords for one user, or from one
// address, stop reaching the hub after --login-failures; each failure is
// logged at WARN with the user, the client address and the fault, never
// the password.
func TestFailedLoginsThrottled(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	var logs lockedBuffer
	g := startGatewayLog(t, sim, func(c *server.Config) { c.LoginFailures = 5; c.LoginRefill = time.Hour },
		slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	sim.Hub().ResetCalls()
	c := kolo(t, g.URL)
	for i := range 20 {
		_, f := call(t, c, "hub.login", "admin", "guess-"+fmt.Sprint(i))
		require.NotNil(t, f)
		if i < 5 {
			require.Equal(t, 2950, f.Code, "attempt %d reaches the hub", i)
		} else {
			require.Equal(t, gateway.CodeThrottled, f.Code, "attempt %d: %s", i, f.String)
		}
	}
	mustFault(t, c, gateway.CodeThrottled, "too many failed logins", "hub.login", "admin", "admin")
	mustFault(t, c, gateway.CodeThrottled, "too many failed logins", "hub.login", "other", "x") // the same address
	logins := 0
	for _, cl := range sim.Hub().Calls() {
		if cl.Method == "auth.login" {
			logins++
		}
	}
	require.Equal(t, 5, logins, "only the first failures reached the hub")
	out := logs.String()
	require.Contains(t, out, `"level":"WARN","msg":"login failed","user":"admin","client":"127.0.0.1","fault":`)
	require.Contains(t, out, `"msg":"login refused","user":"admin","client":"127.0.0.1","fault":"hubgw: too many failed logins`)
	require.NotContains(t, out, "guess-")
}

// rawPost posts body to path as written, unchecked by net/url (which
// refuses %ZZ), and returns the status and the body of the answer.
func rawPost(t *testing.T, base, path, body string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: gw\r\nContent-Type: text/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", path, len(body), body)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	r := readResp(t, resp)
	return r.Status, string(r.Body)
}

// Issue 12, L: a path under /t/ that is not /t/<target>/rpc/api gets an
// XML-RPC fault an XML-RPC client can read, not a 404 page; so does one
// Go's HTTP server refuses itself before any handler runs (/t/%ZZ/, a bad
// escape), and the gateway keeps serving.
func TestBadTargetPathsGetFaults(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	body := `<?xml version="1.0"?><methodCall><methodName>api.getVersion</methodName><params/></methodCall>`
	for _, p := range []string{"/t/x/../rpc/api", "/t/x/y/rpc/api", "/t/x%2F..%2F/rpc/api", "/t/x", "/t/", "/t//rpc/api"} {
		status, resp := rawPost(t, g.Base, p, body)
		require.Equal(t, http.StatusOK, status, p)
		require.Contains(t, resp, "<int>4102</int>", p)
	}
	for _, p := range []string{"/t/%ZZ/rpc/api", "/t/x%/rpc/api", "/t/%zz%/../rpc/api"} {
		status, resp := rawPost(t, g.Base, p, body)
		require.Equal(t, http.StatusOK, status, p)
		f, err := xmlrpc.DecodeResponse([]byte(resp), xmlrpc.Limits{})
		var fault *rpc.Fault
		require.ErrorAs(t, err, &fault, "%s: %s", p, resp)
		require.Nil(t, f)
		require.Equal(t, gateway.CodeUnknownServer, fault.Code)
		require.Contains(t, fault.String, fmt.Sprintf("the path %q is not a valid URL path (a %% must begin an escape of two hex digits", p))
	}
	// Outside /t/, and for other requests Go cannot read, Go's own answer.
	status, resp := rawPost(t, g.Base, "/api/v1/%ZZ", body)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "400 Bad Request", resp)
	// Still serving.
	status, resp = get(t, g.Base+"/healthz")
	require.Equal(t, http.StatusOK, status, resp)
	mustCall(t, kolo(t, g.URL), "api.getVersion")
}

// Issue 12, L: a relay session's passthrough call logs in to the hub again
// when the hub has forgotten its session, through the one pipeline's
// re-login; a manual session, which cannot, gets -1 without the hub's
// session number or key in it.
func TestPassthroughLogsInToTheHubAgain(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	c := kolo(t, g.URL)
	relay := mustCall(t, c, "hub.loginWithAuthRelayMode", "admin", "admin").(string)
	manual := mustCall(t, c, "hub.login", "admin", "admin").(string)
	require.Len(t, mustCall(t, c, "system.listSystems", relay).([]any), 1)
	var hubKeys []string
	for _, cl := range sim.Hub().Calls() {
		if cl.Method == "system.listSystems" {
			hubKeys = append(hubKeys, cl.Params[0].(string))
		}
	}
	require.Len(t, hubKeys, 1)
	sim.Hub().ExpireSessions()
	sim.Hub().ResetCalls()

	require.Len(t, mustCall(t, c, "system.listSystems", relay).([]any), 1, "the relay session logged in again")
	var methods []string
	for _, cl := range sim.Hub().Calls() {
		methods = append(methods, cl.Method)
	}
	require.Equal(t, []string{"system.listSystems", "auth.login", "system.listSystems"}, methods)

	_, f := call(t, c, "system.listSystems", manual)
	require.NotNil(t, f)
	require.Equal(t, -1, f.Code, f.String)
	require.Contains(t, f.String, "log in again")
	require.NotRegexp(t, `[0-9]{3,}`, f.String, "no hub session number or key in the fault")
}

// Issue 12, L: an integer where the session key belongs is refused, never
// passed through: Uyuni's translator turns 1 into the user with id 1, the
// administrator (uyunisim does too). Through every door that passes calls
// through to the hub.
func TestIntegerSessionKeyRefused(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 1})
	g := startGateway(t, sim, nil)
	for _, url := range []string{g.URL, g.Base + "/rpc/api", g.Base + "/t/hub/rpc/api"} {
		sim.Hub().ResetCalls()
		_, f := call(t, kolo(t, url), "system.listSystems", int64(1))
		require.NotNil(t, f, url)
		require.Equal(t, gateway.CodeBadParams, f.Code, "%s: %s", url, f.String)
		require.Contains(t, f.String, "the session key must be a string, not int", "one wording at every door: %s", url)
		for _, c := range sim.Hub().Calls() {
			require.NotEqual(t, "system.listSystems", c.Method, "%s: passed through to the hub", url)
		}
	}
}
