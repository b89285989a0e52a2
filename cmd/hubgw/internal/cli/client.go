package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hubgw/hubgw/adapters/rest"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/rollout"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Client is a small client of the gateway's REST surface (/api/v1), for
// every client command: login, call, jobs, plan, apply, rollout and export.
type Client struct {
	Base  string // the gateway's base URL, without a trailing slash
	Token string
	HTTP  *http.Client
}

// Answer is one REST answer: its status and body as received, so `-o
// json` can print it as is.
type Answer struct {
	Status int
	Body   []byte
	ETag   string
}

// ProblemError is a problem+json answer from the gateway.
type ProblemError struct {
	Gateway string
	Problem rest.Problem
}

func (e *ProblemError) Error() string {
	p := e.Problem
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	msg = oneLine(msg) // faults may span lines; an error is one
	if p.Status == http.StatusUnauthorized && p.FaultCode != rpc.CodeLogin {
		// No, unknown or expired token: what to do about it, in one line.
		return fmt.Sprintf("%s: not logged in, or the session expired (%s): run hubgw login", e.Gateway, strings.TrimPrefix(msg, "hubgw: "))
	}
	return fmt.Sprintf("%s: %s (HTTP %d, fault %d)", e.Gateway, strings.TrimPrefix(msg, "hubgw: "), p.Status, p.FaultCode)
}

// PerServer reports whether the problem is one server's failed answer
// (a single-target call the server refused or did not answer), rather
// than the gateway refusing the request.
func (e *ProblemError) PerServer() bool { return e.Problem.Outcome != "" }

// Do sends one request: body, when not nil, as JSON. A 2xx answer is
// returned; a problem is a *ProblemError with the answer; anything else
// (no gateway there, not a hubgw gateway) is one plain error.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body any) (*Answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := c.Base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("gateway URL %q: %w", c.Base, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, path)
}

// get is a GET with the given headers, those "" left out (a 304 to
// If-None-Match is returned as an answer).
func (c *Client) get(ctx context.Context, path string, header map[string]string) (*Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("gateway URL %q: %w", c.Base, err)
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	return c.send(req, path)
}

// send sends req: it accepts JSON unless req says what it accepts, and
// takes a 2xx answer of that type.
func (c *Client) send(req *http.Request, path string) (*Answer, error) {
	accept := req.Header.Get("Accept")
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept+", application/problem+json")
	resp, err := c.roundTrip(req)
	if err != nil {
		return nil, err
	}
	return c.answer(resp, path, accept)
}

// roundTrip sends req with the token; an error is the gateway not answering.
func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once, below
		}
		return nil, fmt.Errorf("cannot reach the gateway at %s: %w", c.Base, err)
	}
	return resp, nil
}

// answer reads resp, the answer to path: a 2xx answer of type accept is
// returned; a problem is a *ProblemError with the answer.
func (c *Client) answer(resp *http.Response, path, accept string) (*Answer, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", c.Base, err)
	}
	a := &Answer{Status: resp.StatusCode, Body: b, ETag: resp.Header.Get("ETag")}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case mt == "application/problem+json":
		pe := &ProblemError{Gateway: c.Base}
		if err := json.Unmarshal(b, &pe.Problem); err != nil {
			return a, fmt.Errorf("%s: malformed problem answer (HTTP %d): %w", c.Base, resp.StatusCode, err)
		}
		return a, pe
	case resp.StatusCode == http.StatusNotModified,
		resp.StatusCode >= 200 && resp.StatusCode < 300 && (mt == accept || len(b) == 0):
		return a, nil
	}
	// Something answered, but not a hubgw gateway (a proxy's error
	// page, another service on that port, a wrong path prefix).
	return a, fmt.Errorf("%s is not a hubgw gateway, or not its base URL (%s answered HTTP %d, %s)", c.Base, path, resp.StatusCode, orNone(mt))
}

func orNone(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}

// decode is Do and json.Unmarshal of a 2xx answer into out.
func (c *Client) decode(ctx context.Context, method, path string, query url.Values, body, out any) (*Answer, error) {
	a, err := c.Do(ctx, method, path, query, body)
	if err != nil {
		return a, err
	}
	return a, c.unmarshal(a, path, out)
}

func (c *Client) unmarshal(a *Answer, path string, out any) error {
	if err := json.Unmarshal(a.Body, out); err != nil {
		return fmt.Errorf("%s: malformed answer to %s: %w", c.Base, path, err)
	}
	return nil
}

// LoginAnswer is POST /api/v1/login's answer.
type LoginAnswer struct {
	Token    string  `json:"token"`
	Username string  `json:"username"`
	Mode     string  `json:"mode"`
	Attached *Fanout `json:"attached,omitempty"`
}

// Login logs in and returns the session; c.Token is not changed.
func (c *Client) Login(ctx context.Context, user, password, mode string) (*LoginAnswer, error) {
	var la LoginAnswer
	_, err := c.decode(ctx, http.MethodPost, "/api/v1/login", nil, map[string]string{"username": user, "password": password, "mode": mode}, &la)
	if err != nil {
		return nil, err
	}
	if la.Token == "" {
		return nil, fmt.Errorf("%s: the login answer has no token", c.Base)
	}
	return &la, nil
}

// Logout ends the session of c.Token.
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.Do(ctx, http.MethodPost, "/api/v1/logout", nil, nil)
	return err
}

// Result is one server's answer in a call (the document's TargetResult).
type Result struct {
	ServerID   int64           `json:"serverId"`
	ServerName string          `json:"serverName"`
	OK         bool            `json:"ok"`
	Outcome    string          `json:"outcome"`
	Value      json.RawMessage `json:"value,omitempty"`
	// ValueOmitted says why a job kept no value (jobs show).
	ValueOmitted string `json:"valueOmitted,omitempty"`
	FaultCode    int    `json:"faultCode,omitempty"`
	FaultString  string `json:"faultString,omitempty"`
	Error        string `json:"error,omitempty"`
	DurationMs   int64  `json:"durationMs"`
	Attempts     int    `json:"attempts"`
}

// Duration is the result's duration.
func (r Result) Duration() time.Duration { return time.Duration(r.DurationMs) * time.Millisecond }

// Fanout is a fan-out's answer (the document's FanoutResult).
type Fanout struct {
	JobID    string   `json:"jobId,omitempty"`
	Results  []Result `json:"results"`
	Complete bool     `json:"complete"`
}

// Failed counts the results that are not ok.
func (f *Fanout) Failed() int {
	n := 0
	for _, r := range f.Results {
		if !r.OK {
			n++
		}
	}
	return n
}

// Call calls method with named parameters: on the hub when targets is
// empty (one result), else fanned out to them. The answer is returned
// as received too, for -o json. A single server's failure is returned as
// a result, with the answer (the problem) and a *ProblemError.
func (c *Client) Call(ctx context.Context, method string, params map[string]any, targets []string) (*Fanout, *Answer, error) {
	path := "/api/v1/hub/"
	var q url.Values
	if len(targets) > 0 {
		path = "/api/v1/call/"
		q = url.Values{"targets": {strings.Join(targets, ",")}}
	}
	path += strings.ReplaceAll(method, ".", "/")
	var body any
	if len(params) > 0 {
		body = params
	}
	a, err := c.Do(ctx, http.MethodPost, path, q, body)
	var pe *ProblemError
	switch {
	case errors.As(err, &pe) && pe.PerServer():
		p := pe.Problem
		r := Result{ServerName: p.ServerName, Outcome: p.Outcome, FaultCode: p.FaultCode, FaultString: p.Detail}
		if p.ServerID != nil {
			r.ServerID = *p.ServerID
		}
		return &Fanout{Results: []Result{r}}, a, pe
	case err != nil:
		return nil, a, err
	}
	if len(targets) > 0 {
		var f Fanout
		if err := c.unmarshal(a, path, &f); err != nil {
			return nil, a, err
		}
		return &f, a, nil
	}
	var r Result
	if err := c.unmarshal(a, path, &r); err != nil {
		return nil, a, err
	}
	return &Fanout{Results: []Result{r}, Complete: r.OK}, a, nil
}

// Jobs lists the caller's jobs, newest first.
func (c *Client) Jobs(ctx context.Context, limit int) ([]jobs.Job, *Answer, error) {
	var out struct {
		Jobs []jobs.Job `json:"jobs"`
	}
	a, err := c.decode(ctx, http.MethodGet, "/api/v1/jobs", url.Values{"limit": {fmt.Sprint(limit)}}, nil, &out)
	return out.Jobs, a, err
}

// Job reads one job with its targets.
func (c *Client) Job(ctx context.Context, id string) (*jobs.Job, *Answer, error) {
	var j jobs.Job
	a, err := c.decode(ctx, http.MethodGet, "/api/v1/jobs/"+url.PathEscape(id), nil, nil, &j)
	return &j, a, err
}

// Peripherals lists the peripherals as the session sees them (GET
// /api/v1/peripherals).
func (c *Client) Peripherals(ctx context.Context) ([]rest.ServerStatus, error) {
	var out struct {
		Peripherals []rest.ServerStatus `json:"peripherals"`
	}
	_, err := c.decode(ctx, http.MethodGet, "/api/v1/peripherals", nil, nil, &out)
	return out.Peripherals, err
}

// Plan asks what apply would do: documents (as read from YAML or JSON,
// sources inlined) on targets.
func (c *Client) Plan(ctx context.Context, docs []any, targets []string) (*desired.PlanResult, *Answer, error) {
	var p desired.PlanResult
	a, err := c.decode(ctx, http.MethodPost, "/api/v1/plan", nil, desiredBody{docs, targets}, &p)
	return &p, a, err
}

// Apply makes targets match documents, in one synchronous request.
func (c *Client) Apply(ctx context.Context, docs []any, targets []string) (*desired.ApplyResult, *Answer, error) {
	var r desired.ApplyResult
	a, err := c.decode(ctx, http.MethodPost, "/api/v1/apply", nil, desiredBody{docs, targets}, &r)
	return &r, a, err
}

type desiredBody struct {
	Documents []any    `json:"documents"`
	Targets   []string `json:"targets"`
}

// Export reads one object of one server as a document: YAML when yaml,
// else JSON.
func (c *Client) Export(ctx context.Context, target, kind, name string, yaml bool) (*Answer, error) {
	path := "/api/v1/export/" + url.PathEscape(target) + "/" + url.PathEscape(kind) + "/" + url.PathEscape(name)
	accept := ""
	if yaml {
		accept = "application/yaml"
	}
	return c.get(ctx, path, map[string]string{"Accept": accept})
}

// RolloutStarted is POST /api/v1/rollouts's answer.
type RolloutStarted struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Durable bool   `json:"durable"`
}

// StartRollout starts a rollout: req has the contract's members
// (documents, targets, canary, waves, ...).
func (c *Client) StartRollout(ctx context.Context, req map[string]any) (*RolloutStarted, *Answer, error) {
	var s RolloutStarted
	a, err := c.decode(ctx, http.MethodPost, "/api/v1/rollouts", nil, req, &s)
	return &s, a, err
}

// Rollouts lists the caller's rollouts, newest first.
func (c *Client) Rollouts(ctx context.Context, limit int) ([]desired.RolloutView, *Answer, error) {
	var out struct {
		Rollouts []desired.RolloutView `json:"rollouts"`
	}
	a, err := c.decode(ctx, http.MethodGet, "/api/v1/rollouts", url.Values{"limit": {fmt.Sprint(limit)}}, nil, &out)
	return out.Rollouts, a, err
}

// Rollout reads one rollout with its servers.
func (c *Client) Rollout(ctx context.Context, id string) (*desired.RolloutView, *Answer, error) {
	var v desired.RolloutView
	a, err := c.decode(ctx, http.MethodGet, rolloutPath(id), nil, nil, &v)
	return &v, a, err
}

// DecideRollout is resume, retry or abort (op), with its body (nil: none);
// the answer is the rollout after the decision.
func (c *Client) DecideRollout(ctx context.Context, id, op string, body any) (*desired.RolloutView, *Answer, error) {
	var v desired.RolloutView
	a, err := c.decode(ctx, http.MethodPost, rolloutPath(id)+"/"+op, nil, body, &v)
	return &v, a, err
}

func rolloutPath(id string) string { return "/api/v1/rollouts/" + url.PathEscape(id) }

// RolloutEvents reads rollout id's events stream, calling fn with each
// event until fn says stop, ctx ends, or the stream does (the gateway
// ends it when the rollout has finished: nil then). The stream is
// server-sent events; the few lines of its format that the gateway
// writes (event:, data:, a blank line) are read here, since the Go SSE
// libraries served here read a whole body, not a live stream.
func (c *Client) RolloutEvents(ctx context.Context, id string, fn func(rollout.Event) (stop bool)) error {
	path := rolloutPath(id) + "/events"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return fmt.Errorf("gateway URL %q: %w", c.Base, err)
	}
	const accept = "text/event-stream"
	req.Header.Set("Accept", accept+", application/problem+json")
	resp, err := c.roundTrip(req)
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != accept || resp.StatusCode != http.StatusOK {
		_, err := c.answer(resp, path, accept)
		if err == nil {
			err = fmt.Errorf("%s: %s answered HTTP %d without events", c.Base, path, resp.StatusCode)
		}
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var data []byte
	for sc.Scan() {
		line := sc.Bytes()
		if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			data = append(data, bytes.TrimPrefix(d, []byte(" "))...)
			continue
		}
		if len(line) > 0 || len(data) == 0 { // event:, id:, comments; or a blank line with nothing before
			continue
		}
		var e rollout.Event
		if err := json.Unmarshal(data, &e); err != nil {
			return fmt.Errorf("%s: malformed event of rollout %s: %w", c.Base, id, err)
		}
		data = data[:0]
		if fn(e) {
			return nil
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("%s: the events of rollout %s broke off: %w", c.Base, id, err)
	}
	return ctx.Err()
}
