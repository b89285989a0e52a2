package rest

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// job is GET /api/v1/jobs/{jobId}: one fan-out's record, per target, from
// whichever replica ran it.
func (h *Handler) job(c echo.Context) error {
	s, err := h.authed(c)
	if err != nil {
		return err
	}
	j, err := h.gw.Job(c.Request().Context(), s, c.Param("id"))
	if err != nil {
		return h.fault(c, err)
	}
	return c.JSON(http.StatusOK, j)
}

// jobList is GET /api/v1/jobs?limit=N: the user's jobs, newest first,
// without per-target detail.
func (h *Handler) jobList(c echo.Context) error {
	s, err := h.authed(c)
	if err != nil {
		return err
	}
	limit, err := h.limit(c)
	if err != nil {
		return err
	}
	list := []jobs.Job{}
	js, err := h.gw.Jobs(c.Request().Context(), s, limit)
	if err != nil {
		return h.fault(c, err)
	}
	list = append(list, js...)
	return c.JSON(http.StatusOK, struct {
		Jobs []jobs.Job `json:"jobs"`
	}{list})
}

// limit reads ?limit=N of a list: 1 to 1000, default 50.
func (h *Handler) limit(c echo.Context) (int, error) {
	q := c.QueryParam("limit")
	if q == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > 1000 {
		return 0, h.fault(c, rpc.Faultf(gateway.CodeBadParams, "hubgw: limit must be an integer from 1 to 1000, not %q", q))
	}
	return n, nil
}
