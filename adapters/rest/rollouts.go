package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"

	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/rollout"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// rolloutStart is POST /api/v1/rollouts: 202 {id, status}; the rollout
// runs in the background (GET /api/v1/rollouts/{id}, .../events).
func (h *Handler) rolloutStart(c echo.Context) error {
	s, err := h.authed(c)
	if err != nil {
		return err
	}
	body, err := h.readBody(c)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := yaml.Unmarshal(body, &m); err != nil { // JSON is YAML; numbers stay integers
		return h.problem(c, http.StatusBadRequest, rpc.Faultf(gateway.CodeParse, "hubgw: the body is not a rollout object {\"documents\", \"targets\", ...}: %v", err), nil)
	}
	req, err := desired.ParseRolloutRequest(m)
	if err != nil {
		return h.desiredFault(c, err)
	}
	rec, err := h.cfg.Rollouts.Start(c.Request().Context(), s, req)
	if err != nil {
		return h.desiredFault(c, desired.RolloutFault(err))
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/rollouts/"+rec.ID)
	return c.JSON(http.StatusAccepted, map[string]any{"id": rec.ID, "status": string(rec.Status), "durable": h.cfg.Rollouts.C.Durable()})
}

// rolloutList is GET /api/v1/rollouts?limit=N: the caller's, newest first.
func (h *Handler) rolloutList(c echo.Context) error {
	s, err := h.authed(c)
	if err != nil {
		return err
	}
	limit, err := h.limit(c)
	if err != nil {
		return err
	}
	recs, err := h.cfg.Rollouts.C.List(c.Request().Context(), s.User, limit)
	if err != nil {
		return h.fault(c, desired.RolloutFault(err))
	}
	out := make([]desired.RolloutView, len(recs))
	for i := range recs {
		out[i] = desired.View(&recs[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"rollouts": out})
}

// rollout is GET /api/v1/rollouts/{id}.
func (h *Handler) rollout(c echo.Context) error {
	s, err := h.authed(c)
	if err != nil {
		return err
	}
	rec, err := h.cfg.Rollouts.Get(c.Request().Context(), s, c.Param("id"))
	if err != nil {
		return h.fault(c, desired.RolloutFault(err))
	}
	return c.JSON(http.StatusOK, desired.View(rec))
}

// rolloutDecide is POST /api/v1/rollouts/{id}/resume|retry|abort; resume
// takes {"maxFailures"}, retry {"servers": [...]} (default: every failed,
// unreachable, deferred and in-doubt one); the body is optional.
func (h *Handler) rolloutDecide(op string) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, err := h.authed(c)
		if err != nil {
			return err
		}
		body, err := h.readBody(c)
		if err != nil {
			return err
		}
		var req struct {
			MaxFailures any      `yaml:"maxFailures"`
			Servers     []string `yaml:"servers"`
		}
		if len(body) > 0 {
			if err := yaml.Unmarshal(body, &req); err != nil {
				return h.problem(c, http.StatusBadRequest, rpc.Faultf(gateway.CodeParse, "hubgw: the body is not {\"maxFailures\"} or {\"servers\": [...]}: %v", err), nil)
			}
		}
		ctx, id := c.Request().Context(), c.Param("id")
		var rec *rollout.Record
		switch op {
		case "resume":
			var budget *rollout.Amount
			if req.MaxFailures != nil {
				a := rollout.Amount(fmt.Sprint(req.MaxFailures))
				budget = &a
			}
			rec, err = h.cfg.Rollouts.Resume(ctx, s, id, budget)
		case "retry":
			rec, err = h.cfg.Rollouts.C.Retry(ctx, id, s.User, req.Servers)
		default:
			rec, err = h.cfg.Rollouts.C.Abort(ctx, id, s.User)
		}
		if err != nil {
			return h.fault(c, desired.RolloutFault(err))
		}
		return c.JSON(http.StatusOK, desired.View(rec))
	}
}

// rolloutEvents is GET /api/v1/rollouts/{id}/events: server-sent events,
// one per server, wave and rollout change (the event's name is its type),
// starting with where the rollout stands; the stream ends when the
// rollout has finished.
func (h *Handler) rolloutEvents(c echo.Context) error {
	s, err := h.authed(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := h.cfg.Rollouts.Get(ctx, s, c.Param("id")); err != nil {
		return h.fault(c, desired.RolloutFault(err))
	}
	events, err := h.cfg.Rollouts.C.Watch(ctx, c.Param("id"))
	if err != nil {
		return h.fault(c, desired.RolloutFault(err))
	}
	w := c.Response()
	// The stream lasts as long as the rollout, not the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set(echo.HeaderCacheControl, "no-cache")
	w.WriteHeader(http.StatusOK)
	w.Flush()
	for e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, b); err != nil {
			return nil // the client went away
		}
		w.Flush()
	}
	return nil
}

// rollouts is /api/v1/rollouts: POST starts one, GET lists them.
func (h *Handler) rollouts(c echo.Context) error {
	if c.Request().Method == http.MethodPost {
		return h.rolloutStart(c)
	}
	return h.only(http.MethodGet, h.rolloutList)(c)
}
