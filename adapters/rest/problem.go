package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/openapi"
)

// Problem is an RFC 9457 problem details object with hubgw's members; the
// document's Problem schema describes it.
type Problem struct {
	Type          string                 `json:"type"`
	Title         string                 `json:"title"`
	Status        int                    `json:"status"`
	Detail        string                 `json:"detail,omitempty"`
	Instance      string                 `json:"instance,omitempty"`
	FaultCode     int                    `json:"faultCode"`
	RequestID     string                 `json:"requestId,omitempty"`
	ServerID      *int64                 `json:"serverId,omitempty"`
	ServerName    string                 `json:"serverName,omitempty"`
	Outcome       string                 `json:"outcome,omitempty"`
	InvalidParams []openapi.InvalidParam `json:"invalidParams,omitempty"`
	ValidTargets  []string               `json:"validTargets,omitempty"`
}

// codeKeyNotFound is Uyuni's fault for a missing activation key, shared
// with InvalidEntitlementException.
const codeKeyNotFound = -212

// Status maps a fault code to the HTTP status of the problem that carries
// it (the README has this table). Upstream faults keep their code; the
// status says what kind of failure it was.
func Status(f *rpc.Fault) int {
	switch f.Code {
	case gateway.CodeParse, gateway.CodeInvalidRequest, gateway.CodeBadParams:
		return http.StatusBadRequest
	case gateway.CodeNoMethod, gateway.CodeUnknownServer:
		return http.StatusNotFound
	case gateway.CodeInternal:
		return http.StatusInternalServerError
	case gateway.CodeNotAttached:
		return http.StatusConflict
	case gateway.CodeUnreachable, gateway.CodeHubUnreachable:
		return http.StatusBadGateway
	case gateway.CodeStateUnavailable:
		return http.StatusServiceUnavailable
	case gateway.CodeUnknownJob, gateway.CodeUnknownRollout:
		return http.StatusNotFound
	case gateway.CodeRolloutState:
		return http.StatusConflict
	case gateway.CodeTimeout:
		return http.StatusGatewayTimeout
	case gateway.CodeCircuitOpen:
		return http.StatusServiceUnavailable
	case gateway.CodeTooLarge, gateway.CodeInFlight:
		return http.StatusRequestEntityTooLarge
	case gateway.CodeThrottled:
		return http.StatusTooManyRequests
	case rpc.CodeNoSession:
		// Uyuni's -1 is a missing session, and also "no such method" and
		// failed conversions: only the first is about credentials.
		if strings.Contains(strings.ToLower(f.String), "session") {
			return http.StatusUnauthorized
		}
		return http.StatusBadRequest
	case rpc.CodeLogin:
		return http.StatusUnauthorized
	case rpc.CodePermission:
		return http.StatusForbidden
	case rpc.CodeNoSuchSystem, rpc.CodeNoSuchChannel, rpc.CodeNoSuchUser, rpc.CodeNoSuchOrg, rpc.CodeNoSuchActKey, rpc.CodeConfigNotFound:
		return http.StatusNotFound
	case rpc.CodeDuplicateLabel:
		return http.StatusConflict
	case codeKeyNotFound:
		// -212 is both "Activation Key [k] Not Found!" (XmlRpcActivationKeysHelper)
		// and "Invalid entitlement": only the first is a missing object.
		if strings.Contains(f.String, "Not Found") {
			return http.StatusNotFound
		}
	}
	// Any other fault: the server understood the call and refused it
	// (invalid channel, names, labels, arguments...).
	return http.StatusUnprocessableEntity
}

// problemError is a problem+json answer not yet written. Handlers and
// their helpers return it like any error; rendered writes every one, in
// one place, so a helper's failure is a value its caller passes up.
type problemError struct {
	status int // 0: Status(fault)
	fault  *rpc.Fault
	extra  func(*Problem)
}

func (e *problemError) Error() string { return e.fault.Error() }

// problem is the error for a problem+json answer. status 0 means Status(f).
func (h *Handler) problem(_ echo.Context, status int, f *rpc.Fault, extra func(*Problem)) error {
	return &problemError{status: status, fault: f, extra: extra}
}

// rendered wraps a route's handler: the error it returns is written here,
// as problem+json (or, on Uyuni's HTTP API, as Uyuni answers), unless the
// answer has begun already (a failed write to the client).
func (h *Handler) rendered(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		var ne *nativeError
		if errors.As(err, &ne) {
			return h.writeNative(c, ne)
		}
		var pe *problemError
		if !errors.As(err, &pe) {
			pe = &problemError{fault: gateway.AsFault(err)}
		}
		return h.writeProblem(c, pe)
	}
}

// writeProblem writes a problem+json answer.
func (h *Handler) writeProblem(c echo.Context, pe *problemError) error {
	f, status := pe.fault, pe.status
	if status == 0 {
		status = Status(f)
	}
	gateway.AccessOf(c.Request().Context()).NoteFault(f.Code)
	p := &Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    f.String,
		Instance:  c.Request().URL.Path,
		FaultCode: f.Code,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
	}
	if pe.extra != nil {
		pe.extra(p)
	}
	if status == http.StatusUnauthorized && strings.HasPrefix(c.Request().URL.Path, openapi.APIPrefix) {
		v := `Bearer realm="hubgw"`
		if bearer(c.Request()) != "" {
			v += `, error="invalid_token"`
		}
		c.Response().Header().Set("WWW-Authenticate", v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // JSON for programs: "<token>" stays readable
	if err := enc.Encode(p); err != nil {
		return err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h.log.DebugContext(c.Request().Context(), "rest problem", "path", c.Request().URL.Path, "status", status, "fault_code", f.Code)
	return c.Blob(status, openapi.ContentProblem, b)
}

// fault is the problem for an error the gateway returned.
func (h *Handler) fault(c echo.Context, err error) error {
	var pe *problemError
	if errors.As(err, &pe) {
		return err
	}
	return h.problem(c, 0, gateway.AsFault(err), nil)
}

// invalid is a 400 naming the parameters.
func (h *Handler) invalid(c echo.Context, ve *openapi.ValidationError) error {
	return h.problem(c, http.StatusBadRequest, rpc.Faultf(gateway.CodeBadParams, "hubgw: %s", ve.Error()), func(p *Problem) {
		p.InvalidParams = ve.Params
	})
}

// resultProblem is the problem for one server's failed result.
func (h *Handler) resultProblem(c echo.Context, r fanout.Result) error {
	return h.problem(c, 0, gateway.Fault(r), func(p *Problem) {
		id := r.Target.ID
		p.ServerID, p.ServerName, p.Outcome = &id, r.Target.String(), fanout.Kind(r)
	})
}
