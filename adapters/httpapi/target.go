package httpapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// A stock Uyuni client names its target in one of two ways; the route
// middlewares below keep it in the echo context, and XMLRPC.Serve hands it
// to the targeted dialect with the call:
//
//   - spacecmd -s peripheral-1@gw:2830: spacecmd builds
//     http://peripheral-1@gw:2830/rpc/api, and Python's xmlrpc.client turns
//     the URL's user part into "Authorization: Basic base64(peripheral-1)".
//     spacecmd also uses the server string as a directory name, so it cannot
//     carry a path. The Basic user is the target (NAME, or HOST:PORT); a
//     password part is ignored.
//   - scripts: http://gw:2830/t/<target>/rpc/api.
//
// A target is a comma-separated list of a peripheral's name, FQDN or id,
// hub, all, or a configured group.

// TargetFromBasicAuth aims the request at the target named by the
// Authorization header's Basic user, if there is one.
func TargetFromBasicAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		spec, ok, f := basicTarget(c.Request().Header.Get(echo.HeaderAuthorization))
		if f != nil {
			return writeFault(c, f)
		}
		if ok {
			withTargets(c, spec)
		}
		return next(c)
	}
}

// TargetFromPath aims the request at /t/:target/rpc/api's target.
func TargetFromPath(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		spec, err := url.PathUnescape(c.Param("target"))
		if err != nil || strings.ContainsAny(spec, "/\x00") {
			return BadTargetPath(c)
		}
		if strings.TrimSpace(spec) == "" {
			return writeFault(c, rpc.Faultf(gateway.CodeUnknownServer, "hubgw: the path /t/<target>/rpc/api names no target"))
		}
		// Two different targets in one request is a mistake the gateway
		// must not guess its way through: it could reach every peripheral
		// where one was meant.
		if other, ok, _ := basicTarget(c.Request().Header.Get(echo.HeaderAuthorization)); ok && !strings.EqualFold(strings.TrimSpace(other), strings.TrimSpace(spec)) {
			return writeFault(c, rpc.Faultf(gateway.CodeBadParams, "hubgw: two targets in one request: %q in the path and %q in the Authorization header; give one", spec, other))
		}
		withTargets(c, spec)
		return next(c)
	}
}

// BadTargetPath answers a POST under /t/ that is not /t/<target>/rpc/api.
func BadTargetPath(c echo.Context) error {
	p := c.Request().URL.EscapedPath()
	if len(p) > 200 {
		p = p[:200] + "…"
	}
	return writeFault(c, rpc.Faultf(gateway.CodeUnknownServer, "hubgw: the path %q is not /t/<target>/rpc/api (one target: a name, FQDN, id, hub, all, a group, or a comma-separated list; no / or ..)", p))
}

// targetKey is where the route keeps the target spec in the echo context.
const targetKey = "hubgw.target"

func withTargets(c echo.Context, spec string) { c.Set(targetKey, spec) }

// basicTarget reads the target from a Basic Authorization header: ok is
// false when there is none (no header, another scheme, an empty user).
func basicTarget(h string) (spec string, ok bool, f *rpc.Fault) {
	scheme, cred, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", false, nil
	}
	cred = strings.TrimSpace(cred)
	b, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(cred); err != nil {
			return "", false, rpc.Faultf(gateway.CodeBadParams, "hubgw: the Authorization header is not valid Basic credentials (the user names the target, as in spacecmd -s peripheral-1@gateway): %v", err)
		}
	}
	user := string(b)
	// Basic credentials are user:password, but the user part here is a
	// target, which may be host:port. A password must not become the
	// target (it would be echoed in "unknown target" faults), so only a
	// port survives, and only after a host name with a dot or an IP
	// address: "all:1234" or "peripheral-1:8443" carry a numeric password.
	if i := strings.LastIndexByte(user, ':'); i >= 0 && !(isPort(user[i+1:]) && isHost(user[:i])) {
		user, _, _ = strings.Cut(user, ":")
	}
	if strings.TrimSpace(user) == "" {
		return "", false, nil
	}
	return user, true, nil
}

// isHost: the last reference of s is an FQDN or IP address (a dot, or an
// IPv6 colon), not a keyword, a group or a bare name.
func isHost(s string) bool {
	last := s[strings.LastIndexByte(s, ',')+1:]
	return strings.ContainsAny(last, ".:") && !strings.ContainsAny(last, " ")
}

func isPort(s string) bool {
	if len(s) == 0 || len(s) > 5 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// writeFault answers as the XML-RPC handler does: a fault with HTTP 200.
func writeFault(c echo.Context, f *rpc.Fault) error {
	// Refused before the XML-RPC handler, which notes the faults it
	// renders: noted here, so the access line says fault, not ok.
	gateway.AccessOf(c.Request().Context()).NoteFault(f.Code)
	return c.Blob(http.StatusOK, "text/xml; charset=UTF-8", xmlrpc.AppendFault(nil, f))
}
