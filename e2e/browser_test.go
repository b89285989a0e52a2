package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// chromium is Debian's browser; nothing here downloads one.
const chromium = "/usr/bin/chromium"

// artifactsDir is where tests leave files for people to look at:
// $ARTIFACTS_DIR, else e2e/artifacts (gitignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = "artifacts"
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// TestSwaggerUIInChromium opens /docs in headless Chromium, authorizes
// with a token from /api/v1/login, runs the fan-out system.listSystems
// from the page and reads the per-target results off it. The page must not
// make a single request to anywhere but the gateway.
func TestSwaggerUIInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped under -short")
	}
	sim := startSim(t, uyunisim.Config{Peripherals: 3})
	g := startGateway(t, sim, nil)
	token := restLogin(t, g, "autoconnect")

	b := startBrowser(t)

	// The fan-out, from the page: the per-target results.
	status, body := tryOperation(t, b.newTab(t), g.Base+"/docs/#/system/fanout_system_listSystems", "fanout_system_listSystems", token, "swagger-ui-fanout.png")
	require.Equal(t, "200", status)
	var fan struct {
		Complete bool `json:"complete"`
		Results  []struct {
			ServerID   int64  `json:"serverId"`
			ServerName string `json:"serverName"`
			OK         bool   `json:"ok"`
			Value      []any  `json:"value"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &fan), "%s", body)
	require.True(t, fan.Complete)
	require.Len(t, fan.Results, 3)
	for i, p := range sim.Peripherals() {
		require.Equal(t, p.ID(), fan.Results[i].ServerID)
		require.Equal(t, pname(p), fan.Results[i].ServerName)
		require.True(t, fan.Results[i].OK)
		require.Len(t, fan.Results[i].Value, 10)
	}

	// An overload's own operation (its path ends in its parameter names),
	// executed with the example body Swagger UI builds from its schema:
	// the hub's fault comes back as problem details.
	status, body = tryOperation(t, b.newTab(t), g.Base+"/docs/#/channel.software/hub_channel_software_getDetails__channelLabel",
		"hub_channel_software_getDetails__channelLabel", token, "swagger-ui-overload.png")
	require.Equal(t, "404", status)
	var problem map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &problem), "%s", body)
	require.Equal(t, float64(-210), problem["faultCode"], "%s", body)
	require.Equal(t, "No such channel: string", strings.TrimPrefix(problem["detail"].(string), "redstone.xmlrpc.XmlRpcFault: "))

	// Everything the pages loaded came from the gateway, and the browser
	// had nothing to complain about.
	requested := b.checkStayedHome(t, g.Base)
	require.Contains(t, requested, g.Base+"/openapi.json")
	require.Contains(t, requested, g.Base+"/api/v1/hub/channel/software/getDetails(channelLabel)")
}

// browser is a headless Debian Chromium for one test, recording what its
// tabs request and what it complains about.
type browser struct {
	ctx context.Context
	// What the pages request, and what the browser complains about (a CSP
	// violation is logged, a script error thrown). The listener runs in
	// chromedp's read loop, so it only appends under the lock.
	mu                    sync.Mutex
	requested, complaints []string
}

// startBrowser starts Chromium; it is closed when the test ends.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("this test drives Debian's Chromium at %s, which is missing (apt-get install chromium; .ci/run installs it): %v", chromium, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	// Start the browser on a context without a deadline (chromedp ties the
	// browser's life to it); tabs and steps get their own.
	require.NoError(t, chromedp.Do(ctx))
	return &browser{ctx: ctx}
}

func (b *browser) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requested = append(b.requested, e.Request.URL)
	case *cdplog.EventEntryAdded:
		// "network" errors are HTTP error statuses, which some calls
		// answer on purpose.
		if e.Entry.Level == cdplog.EntryLevelError && e.Entry.Source != cdplog.EntrySourceNetwork {
			b.complaints = append(b.complaints, string(e.Entry.Source)+": "+e.Entry.Text)
		}
	case *cdpruntime.EventExceptionThrown:
		b.complaints = append(b.complaints, "exception: "+e.ExceptionDetails.Text)
	}
}

// newTab opens a tab that reports to the browser's records.
func (b *browser) newTab(t *testing.T) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
		return err
	})))
	require.NoError(t, chromedp.Listen(tab, b.listen))
	return tab
}

// checkStayedHome checks that every request the pages made went to the
// gateway at base, and the browser had nothing to complain about; it
// returns the requests.
func (b *browser) checkStayedHome(t *testing.T, base string) []string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.NotEmpty(t, b.requested)
	for _, u := range b.requested {
		if strings.HasPrefix(u, "data:") {
			continue
		}
		require.True(t, strings.HasPrefix(u, base+"/"), "the page requested %s", u)
	}
	require.Empty(t, b.complaints, "the browser reported errors (a CSP violation?)")
	return slices.Clone(b.requested)
}

// tryOperation opens Swagger UI at deepLink, authorizes with token through
// the operation's lock, executes the operation (try-it-out is on, so with
// its default parameters and example body) and returns the response's
// status and body as the page shows them. A screenshot of the operation
// (or of the page, when a step failed) is saved as shotName.
func tryOperation(t *testing.T, tab context.Context, deepLink, operationID, token, shotName string) (string, string) {
	t.Helper()
	// Swagger UI renders only the operations in view; the deep link
	// scrolls there once the document is loaded.
	// Swagger UI CSS-escapes the tag in element ids (channel\.software),
	// so the operation is found by the end of its id.
	op := `.opblock[id$="-` + operationID + `"]`
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	steps := []struct {
		name string
		a    chromedp.Action[chromedp.Void]
	}{
		{"open /docs", chromedp.Navigate(deepLink)},
		{"document shown", chromedp.WaitVisible(css(`.swagger-ui .info .title`))},
		{"operation open", chromedp.WaitVisible(css(op + ` .opblock-body`))},
		// Authorize through the operation's own lock, which keeps the
		// page where it is.
		{"authorize", chromedp.Click(css(op + ` .opblock-summary .authorization__btn`))},
		{"token field", chromedp.WaitVisible(css(`.modal-ux input[type=text]`))},
		{"type token", chromedp.SendKeys(css(`.modal-ux input[type=text]`), token)},
		{"submit token", chromedp.Click(css(`.modal-ux .auth-btn-wrapper button.authorize`))},
		{"authorized", chromedp.WaitVisible(css(`.modal-ux .auth-btn-wrapper button.btn-done`))},
		{"close dialog", chromedp.Click(css(`.modal-ux .auth-btn-wrapper button.btn-done`))},
		{"dialog closed", chromedp.WaitNotPresent(css(`.modal-ux`))},
		{"locked", chromedp.WaitVisible(css(op + ` .opblock-summary button.authorization__btn[aria-label="authorization button locked"]`))},
		{"execute", chromedp.Click(css(op + ` button.execute`))},
		{"response", chromedp.WaitVisible(css(op + ` .live-responses-table tbody .response-col_status`))},
		{"scroll", chromedp.ScrollIntoView(css(op + ` .live-responses-table`))},
	}
	ctx, cancelSteps := context.WithTimeout(tab, 2*time.Minute)
	defer cancelSteps()
	var err error
	for _, st := range steps {
		if err = chromedp.Do(ctx, st.a); err != nil {
			err = fmt.Errorf("%s: step %q: %w", operationID, st.name, err)
			break
		}
	}
	var version, status, body string
	if err == nil {
		version, err = chromedp.Run(ctx, chromedp.Text(css(`.swagger-ui .info .title`)))
	}
	if err == nil {
		status, err = chromedp.Run(ctx, chromedp.Text(css(op+` .live-responses-table tbody .response-col_status`)))
	}
	if err == nil {
		body, err = chromedp.Run(ctx, chromedp.Text(css(op+` .live-responses-table tbody .response-col_description pre.microlight`)))
	}
	sctx, cancel := context.WithTimeout(tab, time.Minute)
	defer cancel()
	shot, serr := chromedp.Run(sctx, chromedp.Screenshot(css(op)))
	if err != nil || serr != nil {
		shot, serr = chromedp.Run(sctx, chromedp.CaptureScreenshot())
	}
	if serr == nil {
		path := filepath.Join(artifactsDir(t), shotName)
		require.NoError(t, os.WriteFile(path, shot, 0o644))
		t.Logf("screenshot: %s", path)
	}
	require.NoError(t, err)
	require.Contains(t, version, "hubgw")
	return strings.TrimSpace(status), body
}
