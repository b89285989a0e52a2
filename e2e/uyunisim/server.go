package uyunisim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// Roles of a server.
const (
	RoleHub        = "hub"
	RolePeripheral = "peripheral"
)

// maxRequestBytes bounds a request body; Uyuni's Tomcat has a similar limit.
const maxRequestBytes = 64 << 20

// Server is one simulated Uyuni server: its own port, state and faults.
type Server struct {
	sim     *Sim
	name    string
	role    string
	apiMode string // API level: a discovery mode (Config.Discovery, ServerVersions)
	id      int64  // system id on the hub; 0 for the hub
	addr    string // host:port, the same for the server's whole life
	st      *state

	faults  atomic.Pointer[Faults]
	hanging atomic.Int64 // requests held by Faults.Hang right now
	calls   callLog
	handler http.Handler

	mu      sync.Mutex // guards srv, which is nil while the server is down, and upTimer
	srv     *http.Server
	upTimer *time.Timer // Faults.DownFor

	ranMu sync.Mutex
	ran   map[string]int // calls per method since the faults were set (Faults.FailAfter)
}

func newServer(sim *Sim, name, role string, id int64, addr string) *Server {
	s := &Server{sim: sim, name: name, role: role, apiMode: sim.cfg.Discovery, id: id, addr: addr, calls: callLog{max: sim.cfg.MaxCalls}}
	if m, ok := sim.cfg.ServerVersions[name]; ok {
		s.apiMode = m
	}
	s.st = newState(sim, s)
	s.handler = s.routes()
	return s
}

// mode is the server's API level, as a discovery mode.
func (s *Server) mode() string { return s.apiMode }

// surface is the API the server serves.
func (s *Server) surface() *surface { return s.sim.surfaces[s.apiMode] }

// OrgID is the org of the admin (Config.User) on this server, the prefix of
// its activation keys: "<org>-<key>".
func (s *Server) OrgID() int64 { return s.st.org.id }

// Name is "hub" or "peripheral-N".
func (s *Server) Name() string { return s.name }

// Role is RoleHub or RolePeripheral.
func (s *Server) Role() string { return s.role }

// ID is the server's system id on the hub (0 for the hub itself).
func (s *Server) ID() int64 { return s.id }

// FQDN is what the hub reports for the server: "127.0.0.1:9001".
func (s *Server) FQDN() string { return s.addr }

// URL is the server's XML-RPC endpoint: "http://127.0.0.1:9001/rpc/api".
func (s *Server) URL() string { return "http://" + s.addr + "/rpc/api" }

// Faults returns the faults in force.
func (s *Server) Faults() Faults { return *s.faults.Load().clone() }

// Inject replaces the server's faults with f. Setting Down closes the port;
// clearing it listens again on the same port, which fails if another process
// took the port meanwhile.
func (s *Server) Inject(f Faults) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored := f.clone()
	s.faults.Store(stored)
	s.ranMu.Lock()
	s.ran = nil
	s.ranMu.Unlock()
	s.sim.log.Info("uyunisim faults", "server", s.name, "faults", f)
	if s.upTimer != nil {
		s.upTimer.Stop()
		s.upTimer = nil
	}
	if f.Down && f.DownFor > 0 {
		s.upTimer = time.AfterFunc(f.DownFor, func() {
			if !s.sim.track() {
				return
			}
			defer s.sim.wg.Done()
			if s.faults.Load() != stored {
				return // replaced meanwhile
			}
			up := *stored
			up.Down, up.DownFor = false, 0
			if err := s.Inject(up); err != nil {
				s.sim.log.Error("uyunisim back up", "server", s.name, "err", err)
			}
		})
	}
	if f.Down {
		if s.srv != nil {
			s.srv.Close() // cuts open connections too, as a dead server would
			s.srv = nil
		}
		return nil
	}
	if s.srv != nil {
		return nil
	}
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("uyunisim: %s back up: %w", s.name, err)
	}
	s.serveLocked(l)
	return nil
}

// ClearFaults removes every fault (and brings the server back up).
func (s *Server) ClearFaults() error { return s.Inject(Faults{}) }

// ExpireSessions ends every session, as if each had timed out.
func (s *Server) ExpireSessions() {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	clear(s.st.sessions)
}

// Calls returns the recorded calls, oldest first.
func (s *Server) Calls() []CallRecord { return s.calls.all() }

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() { s.calls.reset() }

func (s *Server) serve(l net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serveLocked(l)
}

// serveLocked serves l with a fresh http.Server (a closed one cannot be
// reused). s.mu must be held.
func (s *Server) serveLocked(l net.Listener) {
	if !s.sim.track() {
		l.Close()
		return
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.sim.log.Handler(), slog.LevelDebug),
	}
	s.srv = srv
	go func() {
		defer s.sim.wg.Done()
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.sim.log.Error("uyunisim serve", "server", s.name, "err", err)
		}
	}()
}

// stop shuts the server down for good, waiting for requests in flight.
func (s *Server) stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.upTimer != nil {
		s.upTimer.Stop()
	}
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	s.srv = nil
	return err
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/rpc/api", s.serveRPC)
	s.controlRoutes(mux)
	return mux
}

// serveRPC is POST /rpc/api.
func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	if !s.sim.track() {
		http.Error(w, "uyunisim is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.sim.wg.Done()
	if r.Method != http.MethodPost {
		// Tomcat's answer to a GET on the XML-RPC servlet.
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "HTTP method "+r.Method+" is not supported by this URL", http.StatusMethodNotAllowed)
		return
	}
	start := s.sim.now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		http.Error(w, "request body: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	rec := CallRecord{Server: s.name, Start: start, TraceParent: r.Header.Get("Traceparent")}
	call, decodeErr := xmlrpc.DecodeCall(body, xmlrpc.Limits{MaxBytes: maxRequestBytes})
	if decodeErr == nil {
		call.Params = trimAll(call.Params)
		rec.Method = call.Method
		rec.Params = redact(call.Method, call.Params, s.surface().paramNames(call.Method, len(call.Params)))
	}
	f := s.faults.Load()
	recorded := false
	record := func() {
		if recorded {
			return
		}
		recorded = true
		rec.Duration = s.sim.now().Sub(start)
		s.calls.add(rec)
		s.sim.log.Debug("uyunisim call", "server", s.name, "method", rec.Method, "outcome", rec.Outcome, "duration", rec.Duration)
	}
	defer record()

	if !s.sleep(r.Context(), f.Latency, f.Jitter) {
		rec.Outcome = OutcomeCanceled
		return
	}
	switch {
	case f.Hang:
		s.hanging.Add(1)
		defer s.hanging.Add(-1)
		select {
		case <-r.Context().Done():
		case <-s.sim.closing:
		}
		rec.Outcome = OutcomeHang
		return
	case f.HTTP500:
		rec.Outcome = OutcomeHTTP500
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "<!doctype html><html lang=\"en\"><head><title>HTTP Status 500 – Internal Server Error</title></head>"+
			"<body><h1>HTTP Status 500 – Internal Server Error</h1></body></html>")
		return
	case f.Garbage:
		rec.Outcome = OutcomeGarbage
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte("\x00\xffuyunisim garbage: this is <not XML-RPC & never was"))
		return
	}

	var resp []byte
	var flt *rpc.Fault
	switch {
	case decodeErr != nil:
		// Redstone cannot parse the request: Uyuni answers with a fault.
		flt = &rpc.Fault{Code: -1, String: "redstone.xmlrpc.XmlRpcException: The message could not be parsed into a call: " + decodeErr.Error()}
		resp = xmlrpc.AppendFault(nil, flt)
		rec.Outcome = OutcomeFault
	case f.FailMethod[call.Method] != nil:
		flt = f.FailMethod[call.Method]
		resp = xmlrpc.AppendFault(nil, flt)
		rec.Outcome = OutcomeInjectedFault
	case s.failsAfter(f, call.Method) != nil:
		flt = s.failsAfter(f, call.Method)
		resp = xmlrpc.AppendFault(nil, flt)
		rec.Outcome = OutcomeInjectedFault
	default:
		resp, flt = s.invoke(call.Method, call.Params)
		rec.Outcome = OutcomeOK
		if flt != nil {
			rec.Outcome = OutcomeFault
		}
	}
	rec.Fault = flt
	if decodeErr == nil && slices.Contains(f.DropAnswer, call.Method) {
		// Applied, never answered: the client cannot tell whether it happened.
		rec.Outcome = OutcomeDropped
		record()
		panic(http.ErrAbortHandler)
	}

	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(resp)))
	if f.Truncated {
		rec.Outcome = OutcomeTruncated
		w.Write(resp[:len(resp)/2])
		http.NewResponseController(w).Flush()
		record()
		panic(http.ErrAbortHandler) // net/http closes the connection without logging
	}
	w.Write(resp)
}

// failsAfter counts a call of method and returns Faults.FailAfter's fault
// once the method has run its allowed number of times.
func (s *Server) failsAfter(f *Faults, method string) *rpc.Fault {
	fa, ok := f.FailAfter[method]
	if !ok {
		return nil
	}
	s.ranMu.Lock()
	defer s.ranMu.Unlock()
	if s.ran == nil {
		s.ran = make(map[string]int)
	}
	if s.ran[method] >= fa.After {
		return fa.Fault
	}
	s.ran[method]++
	return nil
}

// sleep waits d plus up to jitter more. It reports false if the client went
// away first; the simulator closing cuts the wait short.
func (s *Server) sleep(ctx context.Context, d, jitter time.Duration) bool {
	if jitter > 0 {
		d += rand.N(jitter)
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.sim.closing:
		return true
	case <-ctx.Done():
		return false
	}
}
