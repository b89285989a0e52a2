package server

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/hubgw/hubgw/buildinfo"
)

// The landing page says what this address serves, for whoever opens it in
// a browser or curls it: at / and at /api/v1 (where a JSON client gets the
// same links as JSON). And the big static answers, the OpenAPI document
// (about 2 MB), Swagger UI's assets (about 2 MB) and the console's, are
// gzipped for the clients that accept it.

// link is one thing the gateway serves.
type link struct {
	Path   string `json:"href"`
	Method string `json:"method"`
	What   string `json:"title"`
}

var landingLinks = []link{
	{"/ui/", "GET", "web console: your rollouts (a live grid of waves and servers) and jobs"},
	{"/docs/", "GET", "Swagger UI: the REST API, tried in the browser"},
	{"/openapi.json", "GET", "the REST API's OpenAPI 3 document (also /openapi.yaml)"},
	{"/api/v1/login", "POST", "REST: log in for a bearer token"},
	{"/hub/rpc/api", "POST", "XML-RPC, hub-xmlrpc-api compatible (hub.*, unicast.*, multicast.*, broadcast.*)"},
	{"/rpc/api", "POST", "XML-RPC as Uyuni serves it: the hub, or a target named by spacecmd -s TARGET@gateway"},
	{"/t/all/rpc/api", "POST", "XML-RPC aimed at a target (a peripheral's FQDN or id, a group, all)"},
	{"/metrics", "GET", "Prometheus metrics"},
	{"/healthz", "GET", "liveness: the process is up"},
	{"/readyz", "GET", "readiness: the hub answers"},
}

var landingPage = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hubgw</title>
<style>body{font-family:sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}td{padding:.2rem .6rem}code{font-size:.95em}</style>
</head><body>
<h1>hubgw</h1>
<p>Gateway for an Uyuni hub and its peripheral servers. Version <code>{{.Version}}</code>.</p>
<table>{{range .Links}}
<tr><td>{{if eq .Method "GET"}}<a href="{{.Path}}"><code>{{.Path}}</code></a>{{else}}<code>{{.Method}} {{.Path}}</code>{{end}}</td><td>{{.What}}</td></tr>{{end}}
</table>
</body></html>
`))

// landing registers / and GET /api/v1 and gzips the large static answers.
// It is added after the REST routes, so its GET /api/v1 replaces REST's
// catch-all there; other methods on /api/v1 stay REST's problem+json 404.
func (s *Server) landing(e *echo.Echo) {
	version := buildinfo.Read().Version
	page := func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-cache")
		return landingPage.Execute(htmlWriter(c), map[string]any{"Version": version, "Links": landingLinks})
	}
	e.GET("/", page)
	e.GET("/api/v1", func(c echo.Context) error {
		if prefersHTML(c.Request()) {
			return page(c)
		}
		return c.JSON(http.StatusOK, map[string]any{"name": "hubgw", "version": version, "links": landingLinks})
	})
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return p != "/openapi.json" && p != "/openapi.yaml" && !strings.HasPrefix(p, "/docs/") && !strings.HasPrefix(p, "/ui/")
		},
		MinLength: 1024,
	}))
}

func htmlWriter(c echo.Context) http.ResponseWriter {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	w.WriteHeader(http.StatusOK)
	return w
}

// prefersHTML: a browser asks for text/html first; API clients ask for JSON or anything.
func prefersHTML(r *http.Request) bool {
	accept := r.Header.Get(echo.HeaderAccept)
	h, j := strings.Index(accept, "text/html"), strings.Index(accept, "application/json")
	return h >= 0 && (j < 0 || h < j)
}
