package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
	"github.com/hubgw/hubgw/openapi"
)

// bearer is the request's bearer token, "" when there is none.
func bearer(r *http.Request) string {
	a := r.Header.Get(echo.HeaderAuthorization)
	if len(a) > 7 && strings.EqualFold(a[:7], "Bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// authed returns the request's gateway session, or the 401: the bearer
// token's, else that of the session cookie of Uyuni's HTTP API (a browser
// signed in there; the web console uses it). A browser sends that cookie
// by itself, so such a request must pass the same cross-site rules as
// Uyuni's HTTP API (csrf.go).
func (h *Handler) authed(c echo.Context) (*auth.Session, error) {
	req := c.Request()
	token := bearer(req)
	if token == "" {
		if ck, err := req.Cookie(openapi.NativeCookie); err == nil && ck.Value != "" {
			if why := nativeCrossSite(req); why != "" {
				return nil, h.problem(c, http.StatusForbidden, rpc.Faultf(gateway.CodeNoSession,
					"hubgw: the session cookie is refused: %s", why), nil)
			}
			token = ck.Value
		}
	}
	if token == "" {
		return nil, h.problem(c, http.StatusUnauthorized, rpc.Faultf(gateway.CodeNoSession,
			"hubgw: no bearer token: POST /api/v1/login and send Authorization: Bearer <token>"), nil)
	}
	s, err := h.gw.Session(req.Context(), token)
	if err != nil {
		var f *rpc.Fault
		if errors.As(err, &f) && f.Code == gateway.CodeNoSession {
			return nil, h.problem(c, http.StatusUnauthorized, f, nil)
		}
		return nil, h.fault(c, err)
	}
	h.refreshIfDue(s)
	return s, nil
}

// validation is the problem for a failed validation.
func (h *Handler) validation(c echo.Context, err error) error {
	var ve *openapi.ValidationError
	if errors.As(err, &ve) {
		return h.invalid(c, ve)
	}
	return h.fault(c, err)
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Mode     string `json:"mode"`
}

func (h *Handler) login(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	body, err := h.readBody(c)
	if err != nil {
		return err
	}
	if err := h.jsonBody(c, body); err != nil {
		return err
	}
	spec, err := h.spec(c)
	if err != nil {
		return err
	}
	if err := spec.ValidateOperation(ctx, req, body, http.MethodPost, "/api/v1/login"); err != nil {
		return h.validation(c, err)
	}
	var lr loginRequest
	if err := json.Unmarshal(body, &lr); err != nil {
		return h.problem(c, http.StatusBadRequest, rpc.Faultf(gateway.CodeParse, "hubgw: malformed JSON: %v", err), nil)
	}
	mode := auth.Mode(lr.Mode)
	if mode == "" {
		mode = auth.Manual
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.CallTimeout)
	defer cancel()
	s, results, err := h.gw.Login(ctx, mode, lr.Username, lr.Password)
	if err != nil {
		return h.fault(c, err)
	}
	h.log.InfoContext(ctx, "rest login", "session", s)
	h.refreshIfDue(s)
	w := h.writer(c, http.StatusOK, echo.MIMEApplicationJSON)
	w.buf = append(w.buf, `{"token":`...)
	w.buf = xmlrpc.AppendJSONString(w.buf, s.ID)
	w.buf = append(w.buf, `,"tokenType":"Bearer","username":`...)
	w.buf = xmlrpc.AppendJSONString(w.buf, s.User)
	w.buf = append(w.buf, `,"mode":`...)
	w.buf = xmlrpc.AppendJSONString(w.buf, string(s.Mode))
	if mode == auth.Autoconnect {
		w.buf = append(w.buf, `,"attached":{`...)
		w.appendFanout(gateway.Outcome{Results: results})
		w.buf = append(w.buf, '}')
	}
	w.buf = append(w.buf, '}')
	return w.close()
}

func (h *Handler) logout(c echo.Context) error {
	s, err := h.authed(c)
	if err != nil {
		return err
	}
	if err := h.gw.Logout(c.Request().Context(), s.ID); err != nil {
		return h.fault(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

type attachRequest struct {
	Targets     []string `json:"targets"`
	Credentials []struct {
		Target   string `json:"target"`
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"credentials"`
}

// attach logs the session in to peripherals: those in targets with the
// session's own credentials, those in credentials with theirs.
func (h *Handler) attach(c echo.Context) error {
	req := c.Request()
	s, err := h.authed(c)
	if err != nil {
		return err
	}
	body, err := h.readBody(c)
	if err != nil {
		return err
	}
	if err := h.jsonBody(c, body); err != nil {
		return err
	}
	spec, err := h.spec(c)
	if err != nil {
		return err
	}
	if err := spec.ValidateOperation(req.Context(), req, body, http.MethodPost, "/api/v1/attach"); err != nil {
		return h.validation(c, err)
	}
	var ar attachRequest
	if err := json.Unmarshal(body, &ar); err != nil {
		return h.problem(c, http.StatusBadRequest, rpc.Faultf(gateway.CodeParse, "hubgw: malformed JSON: %v", err), nil)
	}
	if len(ar.Targets) == 0 && len(ar.Credentials) == 0 {
		return h.invalid(c, &openapi.ValidationError{Params: []openapi.InvalidParam{{Name: "targets", Reason: "give targets, credentials, or both"}}})
	}
	ctx, cancel := context.WithTimeout(req.Context(), h.cfg.CallTimeout)
	defer cancel()
	var out gateway.Outcome
	if len(ar.Credentials) > 0 {
		var targets []target.Target
		var users, passwords []string
		for _, cr := range ar.Credentials {
			t, err := h.onePeripheral(c, s, cr.Target)
			if err != nil {
				return err
			}
			targets = append(targets, t)
			users, passwords = append(users, cr.Username), append(passwords, cr.Password)
		}
		rs, err := h.gw.Attach(ctx, s, targets, users, passwords)
		if err != nil {
			return h.fault(c, err)
		}
		out.Results = append(out.Results, rs...)
	}
	if len(ar.Targets) > 0 {
		targets, err := h.attachable(c, s, ar.Targets)
		if err != nil {
			return err
		}
		rs, err := h.gw.Attach(ctx, s, targets, nil, nil)
		if err != nil {
			return h.fault(c, err)
		}
		out.Results = append(out.Results, rs...)
	}
	return h.writeFanout(c, out)
}

// attachable resolves targets to attach: "all" is every peripheral (not
// only the attached ones, as for calls); the hub is not attachable.
func (h *Handler) attachable(c echo.Context, s *auth.Session, refs []string) ([]target.Target, error) {
	ctx := c.Request().Context()
	var out []target.Target
	seen := map[string]bool{}
	for _, ref := range refs {
		var ts []target.Target
		if strings.EqualFold(strings.TrimSpace(ref), "all") {
			snap, err := h.gw.Peripherals(ctx, s)
			if err != nil {
				return nil, h.fault(c, err)
			}
			ts = snap.Targets
		} else {
			var err error
			if ts, err = h.resolve(c, s, []string{ref}); err != nil {
				return nil, err
			}
		}
		for _, t := range ts {
			if t.Hub {
				return nil, h.invalid(c, &openapi.ValidationError{Params: []openapi.InvalidParam{{Name: "targets", Reason: "the hub is attached at login"}}})
			}
			if !seen[t.Key()] {
				seen[t.Key()] = true
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// resolve resolves target references; an unknown one is a 404 listing the
// valid ones.
func (h *Handler) resolve(c echo.Context, s *auth.Session, refs []string) ([]target.Target, error) {
	ctx := c.Request().Context()
	ts, err := h.gw.Resolve(ctx, s, refs)
	if err == nil {
		return ts, nil
	}
	var u *gateway.UnknownTarget
	if !errors.As(err, &u) {
		return nil, h.fault(c, err)
	}
	return nil, h.problem(c, http.StatusNotFound, u.Fault, func(p *Problem) { p.ValidTargets = u.Valid })
}

// onePeripheral resolves a reference that must name exactly one peripheral.
func (h *Handler) onePeripheral(c echo.Context, s *auth.Session, ref string) (target.Target, error) {
	ts, err := h.resolve(c, s, []string{ref})
	if err != nil {
		return target.Target{}, err
	}
	if len(ts) != 1 || ts[0].Hub {
		reason := "names " + plural(len(ts), "server") + ", not one peripheral: use /api/v1/call with targets"
		if len(ts) == 1 {
			reason = "is the hub: use /api/v1/hub"
		}
		return target.Target{}, h.invalid(c, &openapi.ValidationError{Params: []openapi.InvalidParam{{Name: "target", Reason: strings.TrimSpace(ref) + " " + reason}}})
	}
	return ts[0], nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// ServerStatus is one server in GET /api/v1/peripherals.
type ServerStatus struct {
	ID       int64       `json:"id"`
	Name     string      `json:"name"`
	FQDN     string      `json:"fqdn,omitempty"`
	Attached bool        `json:"attached"`
	Breaker  string      `json:"breaker"`
	Last     *LastStatus `json:"last,omitempty"`
}

// LastStatus is the last call to a server.
type LastStatus struct {
	Outcome    string    `json:"outcome"`
	At         time.Time `json:"at"`
	DurationMs int64     `json:"durationMs"`
	FaultCode  int       `json:"faultCode,omitempty"`
}

func (h *Handler) status(t target.Target, attached bool) ServerStatus {
	st := ServerStatus{ID: t.ID, Name: t.String(), FQDN: t.FQDN, Attached: attached, Breaker: h.cfg.Breaker(t.Key())}
	if l, ok := h.cfg.Health.Last(t.Key()); ok {
		st.Last = &LastStatus{Outcome: l.Outcome, At: l.At.UTC(), DurationMs: l.Duration.Milliseconds(), FaultCode: l.FaultCode}
	}
	return st
}

func (h *Handler) peripherals(c echo.Context) error {
	s, err := h.authed(c)
	if err != nil {
		return err
	}
	snap, err := h.gw.Peripherals(c.Request().Context(), s)
	if err != nil {
		return h.fault(c, err)
	}
	out := struct {
		Hub         ServerStatus   `json:"hub"`
		Peripherals []ServerStatus `json:"peripherals"`
		Source      string         `json:"source,omitempty"`
		LoadedAt    time.Time      `json:"loadedAt"`
	}{Hub: h.status(h.gw.Hub(), true), Peripherals: []ServerStatus{}, Source: snap.Source, LoadedAt: snap.LoadedAt.UTC()}
	for _, t := range snap.Targets {
		_, attached := s.Keys[t.Key()]
		out.Peripherals = append(out.Peripherals, h.status(t, attached))
	}
	return c.JSON(http.StatusOK, out)
}

// targetRefs reads ?targets=a&targets=b,c; none means "all".
func targetRefs(c echo.Context) []string {
	var refs []string
	for _, v := range c.QueryParams()["targets"] {
		for _, r := range strings.Split(v, ",") {
			if r = strings.TrimSpace(r); r != "" {
				refs = append(refs, r)
			}
		}
	}
	if len(refs) == 0 {
		return []string{"all"}
	}
	return refs
}

// call serves the three kinds of method call.
func (h *Handler) call(kind openapi.Kind) echo.HandlerFunc {
	prefix := map[openapi.Kind]string{openapi.Hub: openapi.HubPrefix, openapi.Peripheral: openapi.PeripheralPrefix, openapi.Fanout: openapi.FanoutPrefix}[kind]
	return func(c echo.Context) error {
		req := c.Request()
		start := time.Now()
		s, err := h.authed(c)
		if err != nil {
			return err
		}
		rest := strings.TrimPrefix(req.URL.Path, prefix)
		var ref string
		pathParams := map[string]string{}
		if kind == openapi.Peripheral {
			ref, rest, _ = strings.Cut(rest, "/")
			pathParams["target"] = ref
		}
		method, sig, hasSig, ok := openapi.ParseMethodPath(rest)
		if !ok {
			return h.problem(c, http.StatusNotFound, rpc.Faultf(gateway.CodeNoMethod, "hubgw: %q is not a method path (<namespace path>/<method>, such as system/listSystems)", rest), nil)
		}
		spec, err := h.spec(c)
		if err != nil {
			return err
		}
		if spec.Model.Overloads(method) == nil {
			msg := "hubgw: the hub has no method " + method
			if strings.HasPrefix(method, "auth.") {
				msg += " here: sessions are the gateway's (POST /api/v1/login, /api/v1/logout)"
			}
			return h.problem(c, http.StatusNotFound, &rpc.Fault{Code: gateway.CodeNoMethod, String: msg}, nil)
		}
		body, err := h.readBody(c)
		if err != nil {
			return err
		}
		if err := h.jsonBody(c, body); err != nil {
			return err
		}
		obj, err := params(body)
		if err != nil {
			return h.problem(c, http.StatusBadRequest, rpc.Faultf(gateway.CodeParse, "hubgw: %v", err), nil)
		}
		var o *openapi.Overload
		if hasSig {
			if o = spec.Model.BySig(method, sig); o == nil {
				_, se := spec.Model.Select(method, nil)
				return h.problem(c, http.StatusNotFound, rpc.Faultf(gateway.CodeNoMethod, "hubgw: %s has no overload (%s); %v", method, sig, validSets(se)), nil)
			}
		} else if o, err = spec.Model.Select(method, obj.names()); err != nil {
			detail, ve := selectProblem(err)
			return h.problem(c, http.StatusBadRequest, rpc.Faultf(gateway.CodeBadParams, "hubgw: %s", detail), func(p *Problem) {
				p.InvalidParams = ve.Params
			})
		}
		if err := spec.ValidateRequest(req.Context(), req, body, kind, o, pathParams); err != nil {
			return h.validation(c, err)
		}

		var targets []target.Target
		many := false
		switch kind {
		case openapi.Hub:
			targets = []target.Target{h.gw.Hub()}
		case openapi.Peripheral:
			t, err := h.onePeripheral(c, s, ref)
			if err != nil {
				return err
			}
			targets = []target.Target{t}
		default:
			refs := targetRefs(c)
			if targets, err = h.resolve(c, s, refs); err != nil {
				return err
			}
			many = h.gw.IsMany(refs)
		}

		// Arguments: once, unless dates make them depend on each
		// target's zone.
		shared, ve := args(o, obj, time.UTC)
		if ve != nil {
			return h.invalid(c, ve)
		}
		perTarget := hasDates(o)
		ctx, cancel := context.WithTimeout(req.Context(), h.cfg.CallTimeout)
		defer cancel()
		out, err := h.gw.Do(ctx, gateway.Request{
			Session:   s,
			Targets:   targets,
			Method:    method,
			NoSession: !o.Session,
			Many:      many,
			Args: func(_ int, t target.Target) []any {
				if !perTarget {
					return shared
				}
				a, _ := args(o, obj, h.cfg.Zone(t)) // converted without error above
				return a
			},
		})
		if err != nil {
			return h.fault(c, err)
		}
		h.log.DebugContext(ctx, "rest call", "kind", kind.String(), "method", method, "targets", len(targets), "complete", out.Results.IsComplete(), "took", time.Since(start))
		if kind == openapi.Fanout {
			return h.writeFanout(c, out)
		}
		r := out.Results[0]
		if !r.OK() {
			return h.resultProblem(c, r)
		}
		w := h.writer(c, http.StatusOK, echo.MIMEApplicationJSON)
		w.buf, _ = h.appendResult(w.buf, r)
		return w.close()
	}
}

func validSets(err error) string {
	var se *openapi.SelectError
	if errors.As(err, &se) {
		return "valid parameter sets: " + strings.Join(se.Valid, " ")
	}
	return ""
}

// selectProblem turns a failed overload selection into parameter
// problems; the detail lists the valid parameter sets once.
func selectProblem(err error) (string, *openapi.ValidationError) {
	var se *openapi.SelectError
	if !errors.As(err, &se) {
		return err.Error(), &openapi.ValidationError{Params: []openapi.InvalidParam{{Name: "(body)", Reason: err.Error()}}}
	}
	ve := &openapi.ValidationError{}
	for _, n := range se.Unknown {
		ve.Params = append(ve.Params, openapi.InvalidParam{Name: n, Reason: "not a parameter of " + se.Method})
	}
	for _, n := range se.Missing {
		ve.Params = append(ve.Params, openapi.InvalidParam{Name: n, Reason: "required, but missing"})
	}
	if len(ve.Params) == 0 {
		ve.Params = []openapi.InvalidParam{{Name: "(body)", Reason: se.Error()}}
	}
	slices.SortStableFunc(ve.Params, func(a, b openapi.InvalidParam) int { return strings.Compare(a.Name, b.Name) })
	return se.Error(), ve
}
