// Package webassets serves a fixed set of embedded files as browser pages
// under a path prefix, with a strict Content-Security-Policy: Swagger UI at
// /docs and the web console at /ui share it, so both pages are held to the
// same rules (nothing loaded from elsewhere, no inline script or style).
package webassets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
)

// CSP lets a page load only from the gateway: scripts, styles, images and
// fetches (data: images and fonts: Swagger UI's stylesheet has inline SVG
// icons; React sets styles through the DOM, which style-src does not
// govern, so no 'unsafe-inline'). The browser tests fail on any violation.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

type asset struct {
	body  []byte
	ctype string
	etag  string
}

// Handler serves the files under prefix: prefix redirects to prefix+"/",
// which is index.html.
type Handler struct {
	prefix string
	assets map[string]asset
}

// New loads the files: served maps each name under prefix to its path in
// fsys. Files of fsys not in served are not served.
func New(prefix string, fsys fs.FS, served map[string]string) (*Handler, error) {
	h := &Handler{prefix: strings.TrimSuffix(prefix, "/"), assets: map[string]asset{}}
	for name, src := range served {
		b, err := fs.ReadFile(fsys, src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
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

// Names lists the files served, sorted (for tests that inspect them).
func (h *Handler) Names() []string {
	out := make([]string, 0, len(h.assets))
	for n := range h.assets {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
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
