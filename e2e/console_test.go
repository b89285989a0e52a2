package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/webassets"
	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// consoleDoc is groupDoc as an admin pastes it.
const consoleDoc = `apiVersion: hubgw/v1
kind: SystemGroup
metadata:
  name: web
spec:
  description: Web servers
`

// TestConsoleInChromium drives the web console at /ui/ as an admin does:
// signs in with user and password, starts a rollout over four peripherals
// (a slow canary that passes, then waves of 2, one server failing its
// write), watches the cells turn from the events stream, sees the rollout
// halt on the failing server and why, fixes the server, retries, sees the
// cell turn succeeded and the rollout finish; then opens a job's
// per-server table; and signs in again with Uyuni's session cookie.
// Nothing is requested from anywhere but the gateway.
func TestConsoleInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped under -short")
	}
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 4})
	ps := sim.Peripherals()
	// The canary takes a while, so the page sees it running before it
	// succeeds; the third server refuses its write, with markup in its
	// fault string, which the page must show as text.
	require.NoError(t, ps[0].Inject(uyunisim.Faults{Latency: 500 * time.Millisecond}))
	const fault = `<img src=x id=injected>no room`
	require.NoError(t, ps[2].Inject(uyunisim.Faults{FailMethod: map[string]*rpc.Fault{"systemgroup.create": {Code: 2800, String: fault}}}))
	b := startBrowser(t)
	tab := b.newTab(t)
	ctx, cancel := context.WithTimeout(tab, 3*time.Minute)
	defer cancel()

	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	// do runs steps; when one fails, the page is kept as a screenshot.
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for i, st := range steps {
			if err := chromedp.Do(ctx, st); err != nil {
				shoot(t, tab, "console-failed.png", chromedp.FullScreenshot(100))
				t.Fatalf("%s: step %d: %v", what, i+1, err)
			}
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
		require.NoError(t, err, sel)
		return strings.TrimSpace(s)
	}

	// The page, as the browser got it: the same CSP as Swagger UI.
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(g.Base+"/ui/"))
	require.NoError(t, err)
	require.Equal(t, int64(http.StatusOK), resp.Status)
	require.Equal(t, webassets.CSP, resp.Headers["Content-Security-Policy"])

	do("sign in",
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-user`), "admin"),
		chromedp.SendKeys(css(`#login-password`), "admin"),
		chromedp.Click(css(`#login-submit`)),
		chromedp.WaitVisible(css(`#rollouts`)),
		chromedp.WaitVisible(css(`#who`)),
	)
	require.Contains(t, text(`#who-text`), "admin")

	do("start a rollout",
		chromedp.Click(css(`#nav-new`)),
		chromedp.WaitVisible(css(`#new-form`)),
		chromedp.SetValue(css(`#new-documents`), consoleDoc),
		chromedp.SetValue(css(`#new-order`), "id"),
		chromedp.SetValue(css(`#new-canary`), "1"),
		chromedp.SetValue(css(`#new-waves`), "2"),
		chromedp.SetValue(css(`#new-max-failures`), "0"),
		chromedp.Click(css(`#new-submit`)),
		chromedp.WaitVisible(css(`#rollout #grid .cell`)),
	)
	id := text(`#rollout-id`)
	require.NotEmpty(t, id)
	require.Contains(t, text(`#message`), "in memory", "the memory store: said when one starts")
	// The servers as the rollout names them, in wave order.
	view := getRollout(t, g, token, id)
	names := map[int64]string{}
	for _, tv := range view["targets"].([]any) {
		sid, err := tv.(map[string]any)["serverId"].(json.Number).Int64()
		require.NoError(t, err)
		names[sid] = member(tv, "target").(string)
	}
	cell := func(p *uyunisim.Server, status string) string {
		return fmt.Sprintf(`#grid .cell[data-target=%q][data-status=%q]`, names[p.ID()], status)
	}

	// The canary is seen running, then succeeded: the page follows the
	// events stream, it is not reloaded.
	do("watch the canary",
		chromedp.WaitVisible(css(`#rollout-live`)),
		chromedp.WaitVisible(css(cell(ps[0], "running"))),
		chromedp.WaitVisible(css(cell(ps[0], "succeeded"))),
	)
	do("the rollout halts on the failing server",
		chromedp.WaitVisible(css(cell(ps[2], "failed"))),
		chromedp.WaitVisible(css(cell(ps[1], "succeeded"))),
		chromedp.WaitVisible(css(`#rollout-status[data-status="halted"]`)),
		chromedp.WaitVisible(css(cell(ps[3], "pending"))),
		chromedp.WaitEnabled(css(`#act-retry`)),
	)
	require.Contains(t, text(`#rollout-reason`), "failed")
	require.Equal(t, "canary", strings.Fields(text(`#grid .wave[data-wave="0"] .wave-label`))[0])

	do("open the failed server",
		chromedp.Click(css(cell(ps[2], "failed"))),
		chromedp.WaitVisible(css(`#server`)),
		chromedp.WaitVisible(css(`#server-objects tr[data-object="SystemGroup/web"]`)),
	)
	require.Equal(t, names[ps[2].ID()], text(`#server-name`))
	require.Equal(t, "failed", text(`#server-status`))
	row := text(`#server-objects tr[data-object="SystemGroup/web"]`)
	require.Contains(t, row, "2800: "+fault)
	require.Contains(t, row, "systemgroup.create")
	injected, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("injected") !== null`))
	require.NoError(t, err)
	require.False(t, injected, "a server's fault string became markup")
	shoot(t, tab, "console-rollout-halted.png", chromedp.FullScreenshot(100))

	// Fixed; retry only the failed server: its cell turns succeeded, and
	// the rest of the rollout runs.
	require.NoError(t, ps[2].ClearFaults())
	do("retry",
		chromedp.Click(css(`#act-retry`)),
		chromedp.WaitVisible(css(cell(ps[2], "succeeded"))),
		chromedp.WaitVisible(css(cell(ps[3], "succeeded"))),
		chromedp.WaitVisible(css(`#rollout-status[data-status="succeeded"]`)),
		chromedp.WaitVisible(css(`#server-status[data-status="succeeded"]`)),
	)
	require.Contains(t, text(`#server-facts`), "attempt 2")
	shoot(t, tab, "console-rollout-succeeded.png", chromedp.FullScreenshot(100))
	require.Equal(t, "succeeded#2", serverStates(t, getRollout(t, g, token, id))[ps[2].ID()])

	// The list shows it; a job (a fan-out call) shows its servers.
	r := rest(t, g, http.MethodPost, "/api/v1/call/system/listSystems?targets=all", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	job, _ := r.JSON(t)["jobId"].(string)
	require.NotEmpty(t, job, "%s", r.Body)
	do("the rollouts list",
		chromedp.Click(css(`#nav-rollouts`)),
		chromedp.WaitVisible(css(`#rollouts-body tr[data-id="`+id+`"]`)),
	)
	require.Contains(t, text(`#rollouts-body tr[data-id="`+id+`"]`), "succeeded")
	do("a job",
		chromedp.Click(css(`#nav-jobs`)),
		chromedp.WaitVisible(css(`#jobs-body tr[data-id="`+job+`"]`)),
		chromedp.Click(css(`#jobs-body tr[data-id="`+job+`"] a`)),
		chromedp.WaitVisible(css(`#job-body tr`)),
	)
	require.Equal(t, "system.listSystems", text(`#job-facts dd code`))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#job-body tr")].map(r => [...r.cells].map(c => c.textContent).join("|"))`))
	require.NoError(t, err)
	require.Len(t, rows, len(ps))
	for i, p := range ps {
		cols := strings.Split(rows[i], "|")
		require.Equal(t, pname(p), cols[0], rows[i])
		require.Equal(t, fmt.Sprint(p.ID()), cols[1], rows[i])
		require.Equal(t, "ok", cols[2], rows[i])
		require.Contains(t, cols[5], "read-only method, not recorded", rows[i]) // valueOmitted
	}
	shoot(t, tab, "console-job.png", chromedp.FullScreenshot(100))

	// A browser signed in to Uyuni's HTTP API is signed in to the
	// console: its session cookie serves /api/v1 too.
	tab = b.newTab(t)
	ctx, cancel = context.WithTimeout(tab, time.Minute)
	defer cancel()
	do("sign out, sign in to Uyuni's HTTP API",
		chromedp.Navigate(g.Base+"/ui/"),
		chromedp.WaitVisible(css(`#login-form`)), // sessionStorage is per tab
	)
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`fetch("/rhn/manager/api/auth/login", {method: "POST",
		headers: {"Content-Type": "application/json"}, body: JSON.stringify({login: "admin", password: "admin"})})
		.then(r => r.json()).then(j => j.success)`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.True(t, ok)
	do("the console with the cookie",
		chromedp.Reload(),
		chromedp.WaitVisible(css(`#rollouts-body tr[data-id="`+id+`"]`)),
	)
	require.Contains(t, text(`#who-text`), "cookie")
	do("sign out",
		chromedp.Click(css(`#signout`)),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.Reload(),
		chromedp.WaitVisible(css(`#login-form`)),
	)

	b.checkStayedHome(t, g.Base)
}

// shoot saves a screenshot of the tab in the artifacts directory.
func shoot(t *testing.T, tab context.Context, name string, a chromedp.Action[[]byte]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, time.Minute)
	defer cancel()
	png, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(artifactsDir(t), name)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
}
