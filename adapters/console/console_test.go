package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/webassets"
)

func get(t *testing.T, h http.Handler, method, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	b, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Result(), string(b)
}

func TestServes(t *testing.T) {
	h, err := New("/ui")
	require.NoError(t, err)
	require.Equal(t, []string{"console.css", "console.js", "index.html"}, h.Names())

	r, _ := get(t, h, http.MethodGet, "/ui")
	require.Equal(t, http.StatusMovedPermanently, r.StatusCode)
	require.Equal(t, "/ui/", r.Header.Get("Location"))
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/ui/", "text/html; charset=utf-8", `<script src="console.js"></script>`},
		{"/ui/console.js", "text/javascript; charset=utf-8", `"../api/v1"`},
		{"/ui/console.css", "text/css; charset=utf-8", `.cell`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r, body := get(t, h, http.MethodGet, tc.path)
			require.Equal(t, http.StatusOK, r.StatusCode)
			require.Equal(t, tc.ctype, r.Header.Get("Content-Type"))
			require.Equal(t, webassets.CSP, r.Header.Get("Content-Security-Policy"))
			require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
			require.Contains(t, body, tc.contains)
		})
	}
	for _, p := range []string{"/ui/static/index.html", "/ui/console.go", "/ui/../docs/"} {
		r, _ := get(t, h, http.MethodGet, p)
		require.Equal(t, http.StatusNotFound, r.StatusCode, p)
	}
	r, _ = get(t, h, http.MethodPost, "/ui/")
	require.Equal(t, http.StatusMethodNotAllowed, r.StatusCode)
}

// TestPageRules: the CSP forbids inline scripts and styles and other
// hosts, so the files must not need them; and the script puts what the
// gateway sends on the page as text only.
func TestPageRules(t *testing.T) {
	h, err := New("/ui")
	require.NoError(t, err)
	_, page := get(t, h, http.MethodGet, "/ui/")
	_, js := get(t, h, http.MethodGet, "/ui/console.js")
	_, css := get(t, h, http.MethodGet, "/ui/console.css")

	// Every script and stylesheet is a served file, by a relative reference.
	refs := regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(page, -1)
	require.NotEmpty(t, refs)
	for _, m := range refs {
		require.Contains(t, h.Names(), m[1], "index.html refers to %q", m[1])
	}
	require.NotRegexp(t, `<script(?:\s[^>]*)?>[^<]`, page, "an inline script")
	require.NotRegexp(t, `(?i)<style|\sstyle=|\son[a-z]+=`, page, "an inline style or event handler")
	for name, text := range map[string]string{"index.html": page, "console.js": js, "console.css": css} {
		require.NotRegexp(t, `(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`, text, "%s: an absolute URL", name)
		require.NotContains(t, text, "@import", name)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "EventSource", "localStorage"} {
		require.False(t, strings.Contains(js, bad), "console.js uses %s", bad)
	}
}
