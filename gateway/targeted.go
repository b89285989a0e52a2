package gateway

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway/catalog"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// Targeted calls let a stock Uyuni client (spacecmd, a script written for
// one Uyuni server) reach one peripheral, a group, or all of them without
// knowing about the hub: the edge learns the target out of band (the HTTP
// surface reads it from the Basic auth user or from /t/<target>/rpc/api)
// and puts it in the context with WithTargets; the client speaks plain
// Uyuni and the gateway plays the target.
//
// The rules, also in the README's spacecmd section:
//
//   - A target spec is a comma-separated list of references: a peripheral's
//     name, FQDN or id, "hub", "all" (every peripheral the hub lists) or a
//     group from the configuration.
//   - A spec of one reference naming one server (a peripheral, or the hub) is
//     unicast: the gateway is that server; its values and faults reach the
//     client unchanged. "all", a group or a list are multicast, however many
//     servers they name, so a script sees the same shape in a test bed with
//     one peripheral as in production.
//   - auth.login(user, password) logs in to the hub (a relay-mode gateway
//     session), then to each target with the same credentials, or with the
//     service account configured for that peripheral (ServiceCredentials).
//     The key returned is the gateway session's ("gw" + hex: no ':' and no
//     white space, as spacecmd's session cache needs) and stands in for every
//     target's key; a key with surrounding white space is accepted. Targets
//     that a later call names and the session has no key for are logged in to
//     then. Unicast: the login fails when the target's does. Multicast: it
//     succeeds with the hub's, and each call reports the targets it could
//     not reach.
//   - Multicast results: every call goes to all targets concurrently
//     (Gateway.Call). When any target fails the answer is a fault naming each
//     failed target with its fault code and message, the targets where the
//     call succeeded, and the job id; its code is the targets' own when all
//     failed alike, else CodeTargetsFailed. Lists are concatenated in target
//     order, each struct element getting a member PeripheralMember naming its
//     server; scalar elements (role names, labels) appear once. Other values:
//     the common value when every target answered the same; api.getVersion
//     the lowest version (what every target supports; the version methods
//     answer from the targets that answered, so one target down does not
//     keep spacecmd from starting); a write the first
//     target's value (a struct marked with PeripheralMember): the change is
//     done everywhere, so a fault would mislead; any other read a fault
//     (CodeTargetsDisagree).
//   - Server-local ids: system, channel, action, org... ids number different
//     objects on each server, so a multicast call whose arguments carry one
//     (by the parameter names of the API catalog) is refused with
//     CodeServerLocalID, before anything is sent. Methods the catalog does
//     not know are refused when any argument is a number.

// Fault codes of targeted calls (README, spacecmd section).
const (
	CodeServerLocalID   = 4121 // a multicast call with an argument that is a server-local id
	CodeTargetsDisagree = 4122 // the targets answered a read with different values
	CodeTargetsFailed   = 4123 // the call failed on some targets
)

// PeripheralMember is the member added to each struct of a merged list (and
// to a write's struct answer) naming the server it came from.
const PeripheralMember = "peripheral"

type targetsKey struct{}

// WithTargets returns a context in which Handle aims calls at spec (a
// comma-separated list of target references) instead of following
// hub-xmlrpc-api's contract.
func WithTargets(ctx context.Context, spec string) context.Context {
	return context.WithValue(ctx, targetsKey{}, spec)
}

// TargetsOf returns the spec WithTargets put in ctx.
func TargetsOf(ctx context.Context) (string, bool) {
	spec, ok := ctx.Value(targetsKey{}).(string)
	return spec, ok
}

// ServiceCredentials returns the account the gateway logs in to t with in
// targeted sessions instead of relaying the user's own; ok false: relay.
type ServiceCredentials func(t target.Target) (user, password string, ok bool)

// targeted answers one call aimed at spec.
func (g *Gateway) targeted(ctx context.Context, spec, method string, params []any) (any, error) {
	refs := splitSpec(spec)
	if len(refs) == 0 {
		return nil, rpc.Faultf(CodeUnknownServer, "hubgw: no target given; name a peripheral (name, FQDN or id), hub, all, a group, or a comma-separated list")
	}
	multi := g.isMulti(refs)
	g.o.Logger.DebugContext(ctx, "targeted call", "targets", spec, "method", method, "multicast", multi)
	for _, p := range []string{"hub.", "unicast.", "multicast.", "broadcast."} {
		if strings.HasPrefix(method, p) {
			return nil, rpc.Faultf(CodeNoMethod, "hubgw: %s is hub-xmlrpc-api's; call it at /hub/rpc/api, without a target", method)
		}
	}
	switch method {
	case "auth.login":
		return g.targetedLogin(ctx, refs, multi, params)
	case "auth.logout":
		if len(params) != 1 {
			return nil, badParams("auth.logout takes 1 argument (the session key), got %d", len(params))
		}
		key, ok := params[0].(string)
		if !ok {
			return nil, badParams("the session key must be a string, not %s", rpc.TypeName(params[0]))
		}
		if err := g.Logout(ctx, key); err != nil {
			return nil, err
		}
		return int64(1), nil
	}
	if !takesSession(method, params) {
		return g.targetedNoSession(ctx, refs, multi, method, params)
	}
	if len(params) == 0 {
		return nil, badParams("%s takes a session key first", method)
	}
	s, err := g.session(ctx, params[0])
	if err != nil {
		return nil, err
	}
	snap, err := g.snapshot(ctx, s)
	if err != nil {
		return nil, err
	}
	targets, err := g.resolveRefs(snap, refs)
	if err != nil {
		return nil, err
	}
	if multi {
		if f := serverLocalID(method, params, refs); f != nil {
			return nil, f
		}
	}
	results, jobID := g.callTargets(ctx, s, targets, method, params[1:])
	return g.targetedAnswer(ctx, method, multi, jobID, results)
}

// targetedNoSession answers methods that take no session key
// (api.getVersion first of all: spacecmd calls it before logging in).
func (g *Gateway) targetedNoSession(ctx context.Context, refs []string, multi bool, method string, params []any) (any, error) {
	var targets []target.Target
	switch snap := g.o.Registry.Cached(); {
	case onlyHub(refs):
		targets = []target.Target{g.o.Hub}
	case snap == nil && versionMethod(method):
		// Discovering peripherals needs a hub session, and spacecmd asks for
		// the version before it logs in. In a hub deployment the hub and its
		// peripherals run the same version, so the hub answers for them until
		// someone has logged in.
		return g.call(ctx, g.o.Hub, method, params)
	case snap == nil:
		return nil, rpc.Faultf(CodeNoSession, "hubgw: %s without a session: the gateway does not know the peripherals yet; log in (auth.login) first", method)
	default:
		var err error
		if targets, err = g.resolveRefs(snap, refs); err != nil {
			return nil, err
		}
	}
	if multi {
		if f := serverLocalID(method, params, refs); f != nil {
			return nil, f
		}
	}
	// Call wants a session; nothing of it is used for calls without a key.
	anon := &auth.Session{Keys: map[string]string{}}
	out := g.Call(ctx, anon, targets, Request{Method: method, NoSession: true, Args: func(int, target.Target) []any { return params }})
	return g.targetedAnswer(ctx, method, multi, out.JobID, out.Results)
}

// targetedLogin opens a relay-mode gateway session with the hub, then logs in
// to each target.
func (g *Gateway) targetedLogin(ctx context.Context, refs []string, multi bool, params []any) (any, error) {
	if len(params) != 2 && len(params) != 3 {
		return nil, badParams("auth.login takes a user, a password and optionally a duration, got %d arguments", len(params))
	}
	user, ok1 := params[0].(string)
	password, ok2 := params[1].(string)
	if !ok1 || !ok2 {
		return nil, badParams("auth.login: user and password must be strings, not %s and %s", rpc.TypeName(params[0]), rpc.TypeName(params[1]))
	}
	// A duration (third argument) is not passed on: the gateway session's
	// expiry governs, and the gateway logs in to servers again as needed.
	s, _, err := g.Login(ctx, auth.Relay, strings.TrimSpace(user), strings.TrimSpace(password))
	if err != nil {
		return nil, err
	}
	snap, err := g.snapshot(ctx, s)
	var targets []target.Target
	if err == nil {
		targets, err = g.resolveRefs(snap, refs)
	}
	if err != nil {
		g.discard(ctx, s)
		return nil, err
	}
	failed := g.attachMissing(ctx, s, targets)
	if !multi && len(failed) > 0 {
		g.discard(ctx, s)
		return nil, resultFault(failed[targets[0].Key()])
	}
	for _, r := range failed {
		g.o.Logger.WarnContext(ctx, "targeted login: a target refused or did not answer; calls will try again", "server", r.Target.String(), "fault", resultFault(r).String)
	}
	return s.ID, nil
}

// discard ends a session that a failed login had opened.
func (g *Gateway) discard(ctx context.Context, s *auth.Session) {
	if err := g.Logout(context.WithoutCancel(ctx), s.ID); err != nil {
		g.o.Logger.WarnContext(ctx, "ending a half-opened session failed", "session", s, "err", err)
	}
}

// callTargets logs in where the session has no key yet, then calls every
// target it could log in to; results are in target order, and a target the
// gateway could not log in to has that failure as its result.
func (g *Gateway) callTargets(ctx context.Context, s *auth.Session, targets []target.Target, method string, args []any) (fanout.Results, string) {
	failed := g.attachMissing(ctx, s, targets)
	callable := make([]target.Target, 0, len(targets))
	for _, t := range targets {
		if _, bad := failed[t.Key()]; !bad {
			callable = append(callable, t)
		}
	}
	req := Request{Method: method, Args: func(int, target.Target) []any { return args }}
	var out Outcome
	if len(callable) > 0 {
		out = g.Call(ctx, s, callable, req)
		g.retryWithService(ctx, s, req, out.Results)
	}
	results := make(fanout.Results, len(targets))
	j := 0
	for i, t := range targets {
		if r, bad := failed[t.Key()]; bad {
			results[i] = r
			continue
		}
		results[i] = out.Results[j]
		j++
	}
	return results, out.JobID
}

// attachMissing logs in to the targets the session has no key for, with
// their service account or the session's relayed credentials, and returns
// the failures by target key. Targets with neither (a manual-mode session)
// are left alone: Call reports them as not attached.
func (g *Gateway) attachMissing(ctx context.Context, s *auth.Session, targets []target.Target) map[string]fanout.Result {
	var need []target.Target
	var users, passwords []string
	for _, t := range targets {
		if t.Hub {
			continue
		}
		if _, ok := s.Keys[t.Key()]; ok {
			continue
		}
		user, password, ok := g.credentialsFor(s, t)
		if !ok {
			continue
		}
		need = append(need, t)
		users = append(users, user)
		passwords = append(passwords, password)
	}
	if len(need) == 0 {
		return nil
	}
	failed := map[string]fanout.Result{}
	results, err := g.Attach(ctx, s, need, users, passwords)
	if err != nil {
		var f *rpc.Fault
		if !errors.As(err, &f) {
			f = rpc.Faultf(CodeInternal, "hubgw: %v", err)
		}
		for _, t := range need {
			failed[t.Key()] = fanout.Result{Target: t, Fault: f}
		}
		return failed
	}
	for _, r := range results {
		if !r.OK() {
			failed[r.Target.Key()] = r
		}
	}
	return failed
}

func (g *Gateway) credentialsFor(s *auth.Session, t target.Target) (string, string, bool) {
	if g.o.ServiceCredentials != nil {
		if user, password, ok := g.o.ServiceCredentials(t); ok {
			return user, password, true
		}
	}
	if len(s.Secret) == 0 {
		return "", "", false
	}
	return s.User, string(s.Secret), true
}

// retryWithService logs in again with the service account where a target
// with one has forgotten the session's key, and repeats those calls once.
// (Call's own re-login relays the user's credentials, which a peripheral
// with a service account may not accept.) A call that met an unknown
// session was not run, so repeating it is safe for writes too.
func (g *Gateway) retryWithService(ctx context.Context, s *auth.Session, req Request, rs fanout.Results) {
	if g.o.ServiceCredentials == nil {
		return
	}
	var idx []int
	var ts []target.Target
	var users, passwords []string
	for i, r := range rs {
		if r.Target.Hub || !sessionExpired(r) {
			continue
		}
		if user, password, ok := g.o.ServiceCredentials(r.Target); ok {
			idx = append(idx, i)
			ts = append(ts, r.Target)
			users = append(users, user)
			passwords = append(passwords, password)
		}
	}
	if len(ts) == 0 {
		return
	}
	logins, err := g.Attach(ctx, s, ts, users, passwords)
	if err != nil {
		return
	}
	var again []target.Target
	var againIdx []int
	for k, r := range logins {
		if r.OK() {
			again = append(again, ts[k])
			againIdx = append(againIdx, idx[k])
		}
	}
	if len(again) == 0 {
		return
	}
	for k, r := range g.Call(ctx, s, again, req).Results {
		r.Attempts += rs[againIdx[k]].Attempts
		rs[againIdx[k]] = r
	}
}

// targetedAnswer turns the targets' results into the one answer a plain
// Uyuni client expects.
func (g *Gateway) targetedAnswer(ctx context.Context, method string, multi bool, jobID string, rs fanout.Results) (any, error) {
	if !multi {
		if rs[0].OK() {
			return rs[0].Value, nil
		}
		return nil, resultFault(rs[0])
	}
	if versionMethod(method) {
		// A capability probe, and spacecmd's first call: one target down
		// must not keep the client from starting. The next call says which.
		var ok fanout.Results
		for _, r := range rs {
			if r.OK() {
				ok = append(ok, r)
			}
		}
		if len(ok) > 0 {
			rs = ok
		}
	}
	if !rs.IsComplete() {
		return nil, failedOn(method, jobID, rs)
	}
	vals := make([]any, len(rs))
	lists := 0
	for i, r := range rs {
		v, err := g.o.Decode(r.Value)
		if err != nil {
			return nil, rpc.Faultf(CodeInternal, "hubgw: %s's answer to %s: %v", r.Target, method, err)
		}
		vals[i] = v
		if _, ok := v.([]any); ok {
			lists++
		}
	}
	switch {
	case lists == len(vals):
		return mergeLists(rs, vals), nil
	case allEqual(vals):
		return rs[0].Value, nil
	case method == "api.getVersion":
		if v, ok := lowestVersion(vals); ok {
			return v, nil
		}
	case !g.o.ReadOnly(method):
		g.o.Logger.InfoContext(ctx, "targets answered a write differently; the first target's answer is returned", "method", method, "server", rs[0].Target.String())
		if st, ok := vals[0].(rpc.Struct); ok {
			return withPeripheral(st, rs[0].Target), nil
		}
		return vals[0], nil
	}
	return nil, disagree(method, rs, vals)
}

// failedOn is the fault of a multicast call that failed somewhere.
func failedOn(method, jobID string, rs fanout.Results) *rpc.Fault {
	var failed, done []string
	codes := map[int]bool{}
	for _, r := range rs {
		if r.OK() {
			done = append(done, r.Target.String())
			continue
		}
		f := resultFault(r)
		codes[f.Code] = true
		failed = append(failed, fmt.Sprintf("%s: Fault(%d): %s", r.Target, f.Code, f.String))
	}
	code := CodeTargetsFailed
	if len(done) == 0 && len(codes) == 1 {
		for c := range codes {
			code = c
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "hubgw: %s failed on %d of %d targets", method, len(failed), len(rs))
	if jobID != "" {
		fmt.Fprintf(&b, " (job %s)", jobID)
	}
	b.WriteString(": ")
	b.WriteString(strings.Join(failed, "; "))
	if len(done) > 0 {
		b.WriteString("; it succeeded on ")
		b.WriteString(strings.Join(done, ", "))
	}
	return &rpc.Fault{Code: code, String: b.String()}
}

// disagree is the fault of a multicast read whose targets answered
// different values that cannot be merged.
func disagree(method string, rs fanout.Results, vals []any) *rpc.Fault {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Target.String() + ": " + brief(vals[i])
	}
	return rpc.Faultf(CodeTargetsDisagree, "hubgw: the targets answered %s differently (%s); call it for one peripheral, or call broadcast.%s at /hub/rpc/api for one answer per server",
		method, strings.Join(parts, "; "), method)
}

func brief(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return strconv.Quote(v)
	case int64, bool, float64:
		return fmt.Sprint(v)
	}
	return "a " + rpc.TypeName(v)
}

// mergeLists concatenates the targets' lists in target order.
func mergeLists(rs fanout.Results, vals []any) []any {
	n := 0
	for _, v := range vals {
		n += len(v.([]any))
	}
	out := make([]any, 0, n)
	seen := map[any]bool{}
	for i, v := range vals {
		for _, e := range v.([]any) {
			switch e := e.(type) {
			case rpc.Struct:
				out = append(out, withPeripheral(e, rs[i].Target))
			case string, int64, bool, float64:
				// A scalar cannot say where it came from; the same role
				// name or label from every server is one entry.
				if !seen[e] {
					seen[e] = true
					out = append(out, e)
				}
			default:
				out = append(out, e)
			}
		}
	}
	return out
}

// withPeripheral returns a copy of st that names t.
func withPeripheral(st rpc.Struct, t target.Target) rpc.Struct {
	c := make(rpc.Struct, len(st), len(st)+1)
	copy(c, st)
	return c.Set(PeripheralMember, t.String())
}

func allEqual(vals []any) bool {
	for _, v := range vals[1:] {
		if !reflect.DeepEqual(vals[0], v) {
			return false
		}
	}
	return true
}

// lowestVersion picks the lowest of version strings such as "27" and "25.5".
func lowestVersion(vals []any) (any, bool) {
	var low any
	lowF := 0.0
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, false
		}
		if low == nil || f < lowF {
			low, lowF = s, f
		}
	}
	return low, low != nil
}

func versionMethod(method string) bool {
	switch method {
	case "api.getVersion", "api.systemVersion", "api.productName":
		return true
	}
	return false
}

func splitSpec(spec string) []string {
	var refs []string
	for _, r := range strings.Split(spec, ",") {
		if r = strings.TrimSpace(r); r != "" {
			refs = append(refs, r)
		}
	}
	return refs
}

func onlyHub(refs []string) bool {
	for _, r := range refs {
		if !strings.EqualFold(r, "hub") {
			return false
		}
	}
	return true
}

// isMulti: "all", a group or a list are multicast whatever they resolve to.
func (g *Gateway) isMulti(refs []string) bool {
	if len(refs) > 1 || strings.EqualFold(refs[0], "all") {
		return true
	}
	_, group := g.group(refs[0])
	return group
}

func (g *Gateway) group(ref string) ([]string, bool) {
	if m, ok := g.o.Groups[ref]; ok {
		return m, true
	}
	for name, m := range g.o.Groups {
		if strings.EqualFold(name, ref) {
			return m, true
		}
	}
	return nil, false
}

// resolveRefs is Resolve for targeted calls, with one difference: "all" is
// every peripheral the hub lists, not only those the session is attached to
// (targeted sessions attach on demand, and a peripheral that failed to log
// in must show up as a failure, not vanish from "all").
func (g *Gateway) resolveRefs(snap *registry.Snapshot, refs []string) ([]target.Target, error) {
	out, err := g.resolveIn(snap, refs, func(target.Target) bool { return true })
	if err == nil && len(out) == 0 {
		return nil, rpc.Faultf(CodeUnknownServer, "hubgw: target %q names no servers: the hub lists no peripherals", strings.Join(refs, ","))
	}
	return out, err
}

// The API catalog, indexed for targeted calls. It is embedded and never
// changes, so it is built once per process, on first use, rather than
// threaded through every constructor.
var apiIndex = sync.OnceValue(func() map[string][]apiMethod {
	c, err := catalog.Load()
	if err != nil {
		panic(fmt.Sprintf("gateway: the embedded API catalog does not load: %v", err)) // tested in gateway/catalog
	}
	idx := map[string][]apiMethod{}
	for m := range c.Methods() {
		am := apiMethod{session: len(m.Params) > 0 && m.Params[0].Name == "sessionKey"}
		for _, p := range m.Params {
			am.params = append(am.params, apiParam{name: p.Name, typ: p.Type, localID: localIDParam(p)})
		}
		idx[m.FullName()] = append(idx[m.FullName()], am)
	}
	return idx
})

type apiMethod struct {
	params  []apiParam
	session bool
}

type apiParam struct {
	name, typ string
	localID   bool
}

// takesSession reports whether method's first argument is a session key:
// by the catalog, else (methods newer than it, or with overloads of both
// kinds) by the argument looking like a gateway key.
func takesSession(method string, params []any) bool {
	with, without := 0, 0
	for _, m := range apiIndex()[method] {
		if m.session {
			with++
		} else {
			without++
		}
	}
	switch {
	case with > 0 && without == 0:
		return true
	case without > 0 && with == 0:
		return false
	}
	if len(params) == 0 {
		return false
	}
	key, ok := params[0].(string)
	return ok && strings.HasPrefix(strings.TrimSpace(key), "gw")
}

var (
	// camelWord splits Java parameter names: serverId → server Id,
	// systemIDs → system IDs, channelIdsOrLabels → channel Ids Or Labels.
	camelWord = regexp.MustCompile(`[A-Z]?[a-z]+[0-9]*|[A-Z]+s?[0-9]*`)
	// shortID matches Uyuni's abbreviated ids: sid, cid, pid, sgid, tzid, sid1, sids...
	shortID = regexp.MustCompile(`^[a-z]{1,2}ids?[0-9]?$`)
	// idLists are lists of server-local ids whose names do not say so.
	idLists = map[string]bool{"packages": true, "preScripts": true, "postScriptsBeforeRegistration": true, "postScriptsAfterRegistration": true, "defaultOrg": true}
)

// localIDParam reports whether a parameter holds ids of objects that only
// mean something on one server (systems, channels, actions, orgs, errata,
// packages, groups, ...): an int or a list of them, by its Java name.
func localIDParam(p catalog.Param) bool {
	switch {
	case p.Type == "int":
	case p.Type == "array" && (p.ElementType == "" || p.ElementType == "int"):
	default:
		return false
	}
	if idLists[p.Name] || p.Name == "id" || shortID.MatchString(p.Name) {
		return true
	}
	for _, w := range camelWord.FindAllString(p.Name, -1) {
		switch strings.ToLower(strings.TrimRight(w, "0123456789")) {
		case "id", "ids":
			return true
		}
	}
	return false
}

// serverLocalID refuses a multicast call whose arguments carry a
// server-local id, judged by the overloads Uyuni could pick for them (by
// count, then by type).
func serverLocalID(method string, params []any, refs []string) *rpc.Fault {
	ms := apiIndex()[method]
	hint := fmt.Sprintf("call it for one peripheral (spacecmd -s <peripheral>@<gateway>, or /t/<peripheral>/rpc/api), not for %s", strings.Join(refs, ","))
	if len(ms) == 0 {
		for i, p := range params {
			if carriesNumber(p) {
				return rpc.Faultf(CodeServerLocalID, "hubgw: %s is not in the gateway's API catalog, so it cannot tell whether argument %d (a number) is an id, which would name a different object on each server; %s", method, i+1, hint)
			}
		}
		return nil
	}
	var cands []apiMethod
	for _, m := range ms {
		if len(m.params) == len(params) {
			cands = append(cands, m)
		}
	}
	var typed []apiMethod
	for _, m := range cands {
		if typesMatch(m, params) {
			typed = append(typed, m)
		}
	}
	if len(typed) > 0 {
		cands = typed
	}
	for _, m := range cands {
		for i, p := range m.params {
			if p.localID && carriesNumber(params[i]) {
				return rpc.Faultf(CodeServerLocalID, "hubgw: %s takes %s, an id that names a different object on each server; %s", method, p.name, hint)
			}
		}
	}
	return nil
}

func typesMatch(m apiMethod, params []any) bool {
	for i, p := range m.params {
		var ok bool
		switch v := params[i]; p.typ {
		case "int":
			_, ok = v.(int64)
		case "string":
			_, ok = v.(string)
		case "boolean":
			_, ok = v.(bool)
		case "double":
			_, ok = v.(float64)
		case "struct":
			_, ok = v.(rpc.Struct)
		case "array":
			_, ok = v.([]any)
		case "dateTime.iso8601":
			_, ok = v.(time.Time)
		case "base64":
			_, ok = v.([]byte)
		default:
			ok = true
		}
		if !ok {
			return false
		}
	}
	return true
}

// carriesNumber: an int, a string of digits (Uyuni converts it), or a list
// holding one.
func carriesNumber(v any) bool {
	switch v := v.(type) {
	case int64:
		return true
	case string:
		_, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return err == nil
	case []any:
		for _, e := range v {
			if carriesNumber(e) {
				return true
			}
		}
	}
	return false
}
