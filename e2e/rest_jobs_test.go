package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway"
)

// A fan-out's job is readable over REST, per target, by its user only.
func TestRESTJobs(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	token := restLogin(t, g, "autoconnect")
	ps := sim.Peripherals()
	require.NoError(t, ps[2].Inject(uyunisim.Faults{Down: true}))

	r := rest(t, g, http.MethodPost, "/api/v1/call/system/listSystems?targets=all", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	fan := r.JSON(t)
	id, _ := fan["jobId"].(string)
	require.NotEmpty(t, id, "%s", r.Body)

	r = rest(t, g, http.MethodGet, "/api/v1/jobs/"+id, token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	job := r.JSON(t)
	require.Equal(t, id, job["id"])
	require.Equal(t, "system.listSystems", job["method"])
	targets := job["targets"].([]any)
	require.Len(t, targets, 3)
	var statuses []string
	for _, tg := range targets {
		statuses = append(statuses, tg.(map[string]any)["outcome"].(string))
	}
	require.Equal(t, []string{"ok", "ok", "transport"}, statuses, "%s", r.Body)
	// One vocabulary: a job's target says what the fan-out's result said,
	// in the same words.
	for i, res := range fan["results"].([]any) {
		for _, k := range []string{"serverId", "serverName", "ok", "outcome", "faultCode", "faultString", "attempts"} {
			require.Equal(t, res.(map[string]any)[k], targets[i].(map[string]any)[k], "target %d, %s", i, k)
		}
	}
	require.Contains(t, targets[0], "valueOmitted", "a read's answer is described, not kept")
	require.Equal(t, json.Number(fmt.Sprint(gateway.CodeUnreachable)), targets[2].(map[string]any)["faultCode"])
	require.NotContains(t, string(r.Body), token, "no session key in a job record")

	r = rest(t, g, http.MethodGet, "/api/v1/jobs?limit=10", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	list := r.JSON(t)["jobs"].([]any)
	var listed []any
	for _, j := range list {
		listed = append(listed, j.(map[string]any)["id"])
	}
	require.Contains(t, listed, id, "%s", r.Body) // not necessarily first: reading the hub's API list for the document is a job too

	requireProblem(t, rest(t, g, http.MethodGet, "/api/v1/jobs/no-such-job", token, nil), http.StatusNotFound, gateway.CodeUnknownJob, "no job")
	requireProblem(t, rest(t, g, http.MethodGet, "/api/v1/jobs?limit=zero", token, nil), http.StatusBadRequest, gateway.CodeBadParams, "limit")
	requireProblem(t, rest(t, g, http.MethodGet, "/api/v1/jobs/"+id, "", nil), http.StatusUnauthorized, gateway.CodeNoSession, "bearer")
	requireProblem(t, rest(t, g, http.MethodDelete, "/api/v1/jobs/"+id, token, nil), http.StatusMethodNotAllowed, gateway.CodeInvalidRequest, "")
	requireServing(t, g, token)
}
