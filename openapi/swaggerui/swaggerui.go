// Package swaggerui serves Swagger UI for hubgw's OpenAPI document, fully
// offline: the swagger-ui-dist files are vendored in dist/ (by `make
// swagger-ui`, from a pinned npm package) and embedded, with hubgw's own
// page and initializer in static/. Nothing served refers to another host,
// and the Content-Security-Policy forbids the page to contact one.
package swaggerui

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/hubgw/hubgw/adapters/webassets"
)

//go:embed dist static
var files embed.FS

// served are the files the page loads, and where each comes from. The
// rest of dist/ (licences, VERSION) is kept in the tree, not served.
var served = map[string]string{
	"index.html":             "static/index.html",
	"swagger-initializer.js": "static/swagger-initializer.js",
	"docs.css":               "static/docs.css",
	"swagger-ui-bundle.js":   "dist/swagger-ui-bundle.js",
	"swagger-ui.css":         "dist/swagger-ui.css",
	"favicon-16x16.png":      "dist/favicon-16x16.png",
	"favicon-32x32.png":      "dist/favicon-32x32.png",
}

// CSP is the policy the page is served with (webassets.CSP).
const CSP = webassets.CSP

// New loads the embedded files; the handler serves Swagger UI under prefix
// ("/docs"): prefix redirects to prefix+"/", which is the page.
func New(prefix string) (*webassets.Handler, error) {
	h, err := webassets.New(prefix, files, served)
	if err != nil {
		return nil, fmt.Errorf("swaggerui: a file is missing (run make swagger-ui): %w", err)
	}
	return h, nil
}

// Version is the vendored swagger-ui-dist's VERSION line.
func Version() string {
	b, _ := fs.ReadFile(files, "dist/VERSION")
	return strings.TrimSpace(string(b))
}
