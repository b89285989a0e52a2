// Package console is hubgw's web console at /ui/: the signed-in user's
// jobs and rollouts, a rollout as a live grid of waves × servers with
// resume, retry and abort, a job as its per-server table, and a form to
// start a rollout. It is hand-written HTML, CSS and JavaScript in static/
// (no framework, no build step), embedded in the binary and served like
// Swagger UI (package webassets: the same Content-Security-Policy, no
// inline script or style, nothing loaded from another host). The page
// talks only to the gateway's REST API, /api/v1.
package console

import (
	"embed"

	"github.com/hubgw/hubgw/adapters/webassets"
)

//go:embed static
var files embed.FS

// served are the page's files under the prefix.
var served = map[string]string{
	"index.html":  "static/index.html",
	"console.js":  "static/console.js",
	"console.css": "static/console.css",
}

// New serves the console under prefix ("/ui"): prefix redirects to
// prefix+"/", which is the page.
func New(prefix string) (*webassets.Handler, error) {
	return webassets.New(prefix, files, served)
}
