// Package swaggerui serves Swagger UI for hubgw's OpenAPI document, fully
// offline: the swagger-ui-dist files are vendored in dist/ (by `make
// swagger-ui`, from a pinned npm package) and embedded, with hubgw's own
// page and initializer in static/. Nothing served refers to another host,
// and the Content-Security-Policy forbids the page to contact one.
package swaggerui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
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

// CSP lets the page load only from the gateway: scripts, styles, images
// and fetches (data: images: the stylesheet's inline SVG icons; React sets
// styles through the DOM, which style-src does not govern, so no
// 'unsafe-inline'). The browser test fails on any violation.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

type asset struct {
	body  []byte
	ctype string
	etag  string
}

// Handler serves Swagger UI under prefix ("/docs"): prefix redirects to
// prefix+"/", which is the page.
type Handler struct {
	prefix string
	assets map[string]asset
}

// New loads the embedded files.
func New(prefix string) (*Handler, error) {
	h := &Handler{prefix: strings.TrimSuffix(prefix, "/"), assets: map[string]asset{}}
	for name, src := range served {
		b, err := fs.ReadFile(files, src)
		if err != nil {
			return nil, fmt.Errorf("swaggerui: %s missing (run make swagger-ui): %w", src, err)
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		h.assets[name] = asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return h, nil
}

// Names lists the files served (for tests that inspect them).
func (h *Handler) Names() []string {
	out := make([]string, 0, len(h.assets))
	for n := range h.assets {
		out = append(out, n)
	}
	return out
}

// Version is the vendored swagger-ui-dist's VERSION line.
func Version() string {
	b, _ := fs.ReadFile(files, "dist/VERSION")
	return strings.TrimSpace(string(b))
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == h.prefix {
		http.Redirect(w, r, h.prefix+"/", http.StatusMovedPermanently)
		return
	}
	name := strings.TrimPrefix(p, h.prefix+"/")
	if name == "" {
		name = "index.html"
	}
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("ETag", a.etag)
	hd.Set("Cache-Control", "no-cache") // revalidate: the ETag makes that cheap
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
