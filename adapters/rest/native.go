package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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

// Uyuni's own HTTP API (README, "Uyuni's own HTTP API"), for the hub:
// /rhn/manager/api/<namespace path>/<method>, GET for read-only methods and
// POST for all, parameters by Java name (scalars in the query, anything in
// a JSON body) matching one overload exactly, answers {success, result} or
// {success: false, message} (a handler fault is HTTP 200, as Uyuni sends
// it), the session in the pxt-session-cookie cookie. The cookie holds a
// gateway session id, and the calls go to the hub over XML-RPC with that
// session's hub key.

// nativeAnswer writes Uyuni's envelope; result is JSON, nil on failure,
// empty for a bare {"success":true}.
func (h *Handler) nativeAnswer(c echo.Context, status int, result []byte, message string) error {
	w := h.writer(c, status, echo.MIMEApplicationJSON)
	if result != nil && len(result) == 0 {
		w.buf = append(w.buf, `{"success":true`...)
	} else if result != nil {
		w.buf = append(w.buf, `{"success":true,"result":`...)
		w.buf = append(w.buf, result...)
	} else {
		w.buf = append(w.buf, `{"success":false,"message":`...)
		w.buf = xmlrpc.AppendJSONString(w.buf, message)
	}
	w.buf = append(w.buf, '}')
	return w.close()
}

// nativeError is an answer of Uyuni's HTTP API not yet written
// ({"success": false, "message"}); rendered writes it.
type nativeError struct {
	status  int
	message string
	code    int // the fault's, for the access line; 0 when none
}

func (e *nativeError) Error() string { return e.message }

func (h *Handler) nativeFail(_ echo.Context, status int, message string) error {
	return &nativeError{status: status, message: message}
}

// writeNative writes a native failure.
func (h *Handler) writeNative(c echo.Context, ne *nativeError) error {
	if ne.code != 0 {
		gateway.AccessOf(c.Request().Context()).NoteFault(ne.code)
	}
	h.log.DebugContext(c.Request().Context(), "native problem", "path", c.Request().URL.Path, "status", ne.status)
	return h.nativeAnswer(c, ne.status, nil, ne.message)
}

// nativeFault answers a gateway error: faults from the hub's handlers are
// HTTP 200 as in Uyuni; the gateway's own follow the status table.
func (h *Handler) nativeFault(_ echo.Context, err error) error {
	f := gateway.AsFault(err)
	return &nativeError{status: Status(f), message: f.String, code: f.Code}
}

func (h *Handler) native(c echo.Context) error {
	req := c.Request()
	p := strings.TrimPrefix(req.URL.Path, openapi.NativePrefix)
	if why := nativeCrossSite(req); why != "" {
		return h.nativeFail(c, http.StatusForbidden, why)
	}
	switch p {
	case "auth/login", "auth/logout":
		if req.Method != http.MethodPost {
			return h.nativeFail(c, http.StatusMethodNotAllowed, p+" takes POST")
		}
		if p == "auth/login" {
			return h.nativeLogin(c)
		}
		return h.nativeLogout(c)
	}
	method, _, hasSig, ok := openapi.ParseMethodPath(p)
	if !ok || hasSig {
		return h.nativeFail(c, http.StatusNotFound, "no such API method: "+p)
	}
	s, err := h.nativeSession(c)
	if err != nil {
		return err
	}
	spec, err := h.spec(c)
	if err != nil {
		return err
	}
	ovs := spec.Model.Overloads(method)
	if ovs == nil {
		return h.nativeFail(c, http.StatusNotFound, "no such API method: "+method)
	}
	switch {
	case req.Method == http.MethodPost:
	case req.Method == http.MethodGet && ovs[0].ReadOnly:
	case req.Method == http.MethodGet:
		return h.nativeFail(c, http.StatusMethodNotAllowed, method+" changes things: use POST")
	default:
		return h.nativeFail(c, http.StatusMethodNotAllowed, "use GET (read-only methods) or POST")
	}

	var obj object
	if req.Method == http.MethodPost {
		body, err := h.readBody(c)
		if err != nil {
			return err
		}
		if obj, err = params(body); err != nil {
			return h.nativeFail(c, http.StatusBadRequest, err.Error())
		}
	}
	query := req.URL.Query()
	names := obj.names()
	for k, vs := range query {
		if _, dup := obj.get(k); dup || len(vs) > 1 {
			return h.nativeFail(c, http.StatusBadRequest, "parameter "+k+" is given twice")
		}
		names = append(names, k)
	}
	o, err := spec.Model.Select(method, names)
	if err != nil {
		return h.nativeFail(c, http.StatusBadRequest, err.Error())
	}
	for k, vs := range query {
		p, _ := o.Param(k)
		v, err := queryValue(vs[0], p.Type)
		if err != nil {
			return h.nativeFail(c, http.StatusBadRequest, "parameter "+k+": "+err.Error())
		}
		obj = append(obj, member{k, v})
	}
	m, _ := plain(obj).(map[string]any)
	if err := spec.ValidateParams(o, m); err != nil {
		return h.nativeFail(c, http.StatusBadRequest, err.Error())
	}
	hub := h.gw.Hub()
	a, ve := args(o, obj, h.cfg.Zone(hub))
	if ve != nil {
		return h.nativeFail(c, http.StatusBadRequest, ve.Error())
	}
	ctx, cancel := context.WithTimeout(req.Context(), h.cfg.CallTimeout)
	defer cancel()
	start := time.Now()
	out, err := h.gw.Do(ctx, gateway.Request{
		Session: s, Targets: []target.Target{hub}, Method: method, NoSession: !o.Session,
		Args: func(int, target.Target) []any { return a },
	})
	if err != nil {
		return h.nativeFault(c, gateway.AsFault(err))
	}
	r := out.Results[0]
	h.log.InfoContext(ctx, "native call", "method", method, "ok", r.OK(), "took", time.Since(start))
	switch {
	case r.Fault != nil:
		return h.nativeFail(c, http.StatusOK, r.Fault.String)
	case !r.OK():
		return h.nativeFault(c, gateway.Fault(r))
	}
	bp := h.bufs.Get()
	result, err := appendValue(*bp, r.Value, h.cfg.Zone(hub))
	if err != nil {
		h.bufs.Put(bp, *bp)
		return h.nativeFault(c, rpc.Faultf(gateway.CodeInternal, "hubgw: the hub's answer as JSON: %v", err))
	}
	err = h.nativeAnswer(c, http.StatusOK, result, "")
	h.bufs.Put(bp, result)
	return err
}

// nativeSession is the session in the cookie, or a 401 in Uyuni's form.
func (h *Handler) nativeSession(c echo.Context) (*auth.Session, error) {
	ck, err := c.Cookie(openapi.NativeCookie)
	if err != nil || ck.Value == "" {
		return nil, h.nativeFail(c, http.StatusUnauthorized, "Authentication required: POST /rhn/manager/api/auth/login first")
	}
	s, err := h.gw.Session(c.Request().Context(), ck.Value)
	if err != nil {
		var f *rpc.Fault
		if errors.As(err, &f) && f.Code == gateway.CodeNoSession {
			return nil, h.nativeFail(c, http.StatusUnauthorized, f.String)
		}
		return nil, h.nativeFault(c, err)
	}
	h.refreshIfDue(s)
	return s, nil
}

func (h *Handler) nativeLogin(c echo.Context) error {
	body, err := h.readBody(c)
	if err != nil {
		return err
	}
	var in struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return h.nativeFail(c, http.StatusBadRequest, "the body must be JSON: {\"login\": ..., \"password\": ...}")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.cfg.CallTimeout)
	defer cancel()
	s, _, err := h.gw.Login(ctx, auth.Manual, in.Login, in.Password)
	if err != nil {
		var f *rpc.Fault
		if errors.As(err, &f) && f.Code == rpc.CodeLogin {
			return h.nativeFail(c, http.StatusUnauthorized, strings.TrimPrefix(f.String, "redstone.xmlrpc.XmlRpcFault: "))
		}
		return h.nativeFault(c, err)
	}
	h.log.InfoContext(ctx, "native login", "session", s)
	h.refreshIfDue(s)
	c.SetCookie(&http.Cookie{
		Name: openapi.NativeCookie, Value: s.ID, Path: "/", HttpOnly: true,
		Secure: c.Request().TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	return h.nativeAnswer(c, http.StatusOK, []byte{}, "")
}

func (h *Handler) nativeLogout(c echo.Context) error {
	s, err := h.nativeSession(c)
	if err != nil {
		return err
	}
	if err := h.gw.Logout(c.Request().Context(), s.ID); err != nil {
		return h.nativeFault(c, err)
	}
	c.SetCookie(&http.Cookie{Name: openapi.NativeCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return h.nativeAnswer(c, http.StatusOK, []byte{}, "")
}
