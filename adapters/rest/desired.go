package rest

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
	"github.com/hubgw/hubgw/openapi"
)

// plan is POST /api/v1/plan: per server, per object, what apply would do.
func (h *Handler) plan(c echo.Context) error { return h.desiredOp(c, false) }

// apply is POST /api/v1/apply: make the targets match, as a rollout of
// one wave waited for, recorded as one job.
func (h *Handler) apply(c echo.Context) error { return h.desiredOp(c, true) }

func (h *Handler) desiredOp(c echo.Context, apply bool) error {
	s, ts, docs, b, err := h.desiredRequest(c)
	if err != nil {
		return err
	}
	var out any
	if apply { // a rollout of one wave, waited for
		out, err = h.cfg.Rollouts.Apply(c.Request().Context(), s, docs, ts)
		err = desired.RolloutFault(err)
	} else {
		out, err = h.cfg.Desired.Plan(c.Request().Context(), s, ts, b)
	}
	if err != nil {
		return h.fault(c, err)
	}
	return c.JSON(http.StatusOK, out)
}

// export is GET /api/v1/export/{target}/{kind}/{name}: one object of one
// server as a document (YAML when the client accepts application/yaml).
func (h *Handler) export(c echo.Context) error {
	s, err := h.authed(c)
	if err != nil {
		return err
	}
	ts, err := h.resolve(c, s, []string{c.Param("target")})
	if err != nil {
		return err
	}
	if len(ts) != 1 {
		return h.problem(c, http.StatusBadRequest, rpc.Faultf(gateway.CodeBadParams, "hubgw: export reads one server; %q names %d", c.Param("target"), len(ts)), nil)
	}
	doc, err := h.cfg.Desired.Export(c.Request().Context(), s, ts[0], c.Param("kind"), c.Param("name"))
	if err != nil {
		return h.desiredFault(c, err)
	}
	if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "yaml") {
		out, err := yaml.Marshal(doc)
		if err != nil {
			return h.fault(c, err)
		}
		return c.Blob(http.StatusOK, "application/yaml", out)
	}
	return c.JSON(http.StatusOK, doc)
}

// desiredRequest reads a plan or apply request: JSON {"documents",
// "targets"}, or the YAML documents as application/yaml with the targets
// in the query (?targets=all or repeated).
func (h *Handler) desiredRequest(c echo.Context) (*auth.Session, []target.Target, []any, *desired.Bundle, error) {
	s, err := h.authed(c)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	body, err := h.readBody(c)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var docs []any
	var refs []string
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	switch {
	case strings.HasSuffix(mt, "yaml"):
		if docs, err = desired.ParseYAML(body); err != nil {
			return nil, nil, nil, nil, h.desiredFault(c, err)
		}
		for _, q := range c.QueryParams()["targets"] {
			refs = append(refs, strings.Split(q, ",")...)
		}
	case mt == echo.MIMEApplicationJSON:
		var req struct {
			Documents []any    `yaml:"documents"`
			Targets   []string `yaml:"targets"`
		}
		if err := yaml.Unmarshal(body, &req); err != nil { // JSON is YAML; numbers stay integers
			return nil, nil, nil, nil, h.problem(c, http.StatusBadRequest, rpc.Faultf(gateway.CodeParse, "hubgw: the body is not {\"documents\": [...], \"targets\": [...]}: %v", err), nil)
		}
		docs, refs = req.Documents, req.Targets
	default:
		return nil, nil, nil, nil, h.problem(c, http.StatusUnsupportedMediaType, rpc.Faultf(gateway.CodeInvalidRequest,
			"hubgw: send the documents as application/json {\"documents\", \"targets\"} or as application/yaml (not %q)", mt), nil)
	}
	b, err := desired.Load(docs)
	if err != nil {
		return nil, nil, nil, nil, h.desiredFault(c, err)
	}
	if len(refs) == 0 {
		return nil, nil, nil, nil, h.invalid(c, &openapi.ValidationError{Params: []openapi.InvalidParam{{Name: "targets", Reason: "name the servers: all, a group, names, FQDNs, ids or hub"}}})
	}
	ts, err := h.resolve(c, s, refs)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return s, ts, docs, b, nil
}

// desiredFault is a document problem as a 422 listing each problem with
// its path, or any other fault.
func (h *Handler) desiredFault(c echo.Context, err error) error {
	var ve *desired.ValidationError
	if !errors.As(err, &ve) {
		return h.fault(c, err)
	}
	return h.problem(c, http.StatusUnprocessableEntity, rpc.Faultf(gateway.CodeBadParams, "hubgw: %s", ve.Error()), func(p *Problem) {
		for _, pr := range ve.Problems {
			name, reason, _ := strings.Cut(pr, ": ")
			p.InvalidParams = append(p.InvalidParams, openapi.InvalidParam{Name: name, Reason: reason})
		}
	})
}
