package rest

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// The Uyuni-native API authenticates by cookie, so a browser sends that
// cookie with requests another site makes it send (issue 12, M4). Three
// rules keep such requests out, each enough for one way in:
//
//   - A POST must say Content-Type: application/json. HTML forms and
//     simple cross-site fetches can only send text/plain, form and
//     multipart bodies; JSON needs a CORS preflight, which the gateway
//     never grants.
//   - A request a browser marks as coming from another site (Origin not
//     this host, Sec-Fetch-Site cross-site or same-site) is refused.
//     Scripts send neither header, so they are not affected.
//   - The cookie is SameSite=Strict, and logout is POST only.

// nativeCrossSite says why a request must be refused as cross-site, or "".
func nativeCrossSite(r *http.Request) string {
	if r.Method == http.MethodPost {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
			return "POST bodies must be JSON, sent with Content-Type: application/json"
		}
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return "cross-site requests are refused"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return "cross-origin requests are refused"
		}
	}
	return ""
}
