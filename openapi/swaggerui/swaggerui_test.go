package swaggerui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return string(b)
}

func TestServes(t *testing.T) {
	h, err := New("/docs")
	require.NoError(t, err)

	r := get(t, h, "/docs")
	require.Equal(t, http.StatusMovedPermanently, r.StatusCode)
	require.Equal(t, "/docs/", r.Header.Get("Location"))

	tests := []struct{ path, ctype, contains string }{
		{"/docs/", "text/html; charset=utf-8", `<div id="swagger-ui">`},
		{"/docs/index.html", "text/html; charset=utf-8", `swagger-initializer.js`},
		{"/docs/swagger-initializer.js", "text/javascript; charset=utf-8", `validatorUrl: null`},
		{"/docs/swagger-ui-bundle.js", "text/javascript; charset=utf-8", `SwaggerUIBundle`},
		{"/docs/swagger-ui.css", "text/css; charset=utf-8", `.swagger-ui`},
		{"/docs/favicon-32x32.png", "image/png", "PNG"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := get(t, h, tt.path)
			require.Equal(t, http.StatusOK, r.StatusCode)
			require.Equal(t, tt.ctype, r.Header.Get("Content-Type"))
			require.Equal(t, CSP, r.Header.Get("Content-Security-Policy"))
			require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
			require.Contains(t, body(t, r), tt.contains)

			// Revalidation by ETag.
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			req.Header.Set("If-None-Match", r.Header.Get("ETag"))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, http.StatusNotModified, rec.Code)
		})
	}
	for _, p := range []string{"/docs/LICENSE", "/docs/VERSION", "/docs/swagger-ui-bundle.js.map", "/docs/../openapi/swaggerui.go", "/docs/static/index.html"} {
		require.Equal(t, http.StatusNotFound, get(t, h, p).StatusCode, p)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/docs/", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Contains(t, Version(), "swagger-ui-dist 5.35.0 sha512-")
}

// The URLs found in the vendored bundle, by host, reviewed: none is
// fetched by the page. A new swagger-ui-dist that adds one fails here, so
// it gets looked at. (And the CSP would block a fetch anyway; the browser
// test checks what the page actually requests.)
var bundleHosts = []string{
	// XML namespaces and JSON Schema / OpenAPI dialect identifiers.
	"www.w3.org", "json-schema.org", "spec.openapis.org",
	// Links in error messages and comments.
	"datatracker.ietf.org", "www.rfc-editor.org", "github.com", "reactjs.org", "redux.js.org", "fb.me",
	"spdx.org", "swagger.io", "vladimirgorej.com",
	// Examples inside a URL library, and the markdown linkifier's templates
	// for @mentions and #hashtags in descriptions (hubgw's have none).
	"example.com", "실례.com", "base$", "twitter.com", "instagram.com", "www.facebook.com", "soundcloud.com", "www.tiktok.com",
}

// Hosts a page must never load from: CDNs, fonts, analytics, the online
// validator, Swagger's demo document.
var forbidden = []string{
	"unpkg.com", "jsdelivr", "cdnjs", "googleapis", "gstatic", "cloudflare", "scarf.sh",
	"validator.swagger.io", "petstore.swagger.io", "fonts.", "google-analytics", "googletagmanager", "cdn.",
}

var urlRE = regexp.MustCompile("(?i)(?:https?:)?//[^][\\s\"'<>()\\\\`{}]+")

// TestNoExternalURLServed scans everything the handler serves.
func TestNoExternalURLServed(t *testing.T) {
	h, err := New("/docs")
	require.NoError(t, err)
	names := h.Names()
	slices.Sort(names)
	require.Equal(t, []string{"docs.css", "favicon-16x16.png", "favicon-32x32.png", "index.html", "swagger-initializer.js", "swagger-ui-bundle.js", "swagger-ui.css"}, names)

	var hosts []string
	for _, name := range names {
		text := body(t, get(t, h, "/docs/"+name))
		lower := strings.ToLower(text)
		for _, f := range forbidden {
			if i := strings.Index(lower, f); i >= 0 {
				t.Errorf("%s mentions %s: …%s…", name, f, text[max(0, i-40):min(len(text), i+40)])
			}
		}
		require.False(t, strings.Contains(text, "sourceMappingURL"), "%s refers to a source map", name)
		switch {
		case strings.HasSuffix(name, ".html"), name == "docs.css", name == "swagger-initializer.js":
			// Ours: no absolute URL at all, only relative references.
			for _, m := range urlRE.FindAllString(text, -1) {
				if strings.HasPrefix(m, "//") && (name == "swagger-initializer.js" || name == "docs.css") {
					continue // comments
				}
				t.Errorf("%s: absolute URL %q", name, m)
			}
		case name == "swagger-ui.css":
			// Every url(...) is a data: URI (whose SVGs carry the xmlns identifier).
			for _, m := range regexp.MustCompile(`url\(\s*["']?([^"')]*)`).FindAllStringSubmatch(text, -1) {
				require.True(t, strings.HasPrefix(m[1], "data:"), "swagger-ui.css loads %q", m[1])
			}
		case strings.HasSuffix(name, ".js"):
			for _, m := range urlRE.FindAllString(text, -1) {
				if !strings.HasPrefix(strings.ToLower(m), "http") {
					continue // comments, regular expressions, protocol-relative templates
				}
				host := strings.SplitN(strings.SplitN(m, "://", 2)[1], "/", 2)[0]
				host = strings.SplitN(strings.SplitN(host, "?", 2)[0], "#", 2)[0]
				if !slices.Contains(hosts, host) {
					hosts = append(hosts, host)
				}
			}
		}
	}
	for _, h := range hosts {
		require.Contains(t, bundleHosts, h, "the bundle has a URL on %s that nobody has reviewed", h)
	}

	// The page loads only files that are served, by relative references.
	page := body(t, get(t, h, "/docs/"))
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		require.Contains(t, names, m[1], "index.html refers to %q", m[1])
	}
	init := body(t, get(t, h, "/docs/swagger-initializer.js"))
	require.Contains(t, init, `url: "../openapi.json"`)
}
