package uyunisim

import (
	"encoding/json"
	"io"
	"net/http"
)

// serverInfo is how the control endpoint and cmd/uyunisim describe a server.
type serverInfo struct {
	Name   string `json:"name"`
	Role   string `json:"role"`
	URL    string `json:"url"`
	FQDN   string `json:"fqdn"`
	ID     int64  `json:"id,omitempty"`
	Faults Faults `json:"faults"`
}

func (s *Server) info() serverInfo {
	return serverInfo{Name: s.name, Role: s.role, URL: s.URL(), FQDN: s.FQDN(), ID: s.id, Faults: s.Faults()}
}

// controlRoutes adds the /sim endpoints (see the package documentation).
// Every server controls itself; the hub can also control any server by
// name, which is the only way to bring back a server that is Down.
func (s *Server) controlRoutes(mux *http.ServeMux) {
	self := func(*http.Request) (*Server, bool) { return s, true }
	s.controlFor(mux, "/sim", self)
	if s.role != RoleHub {
		return
	}
	byName := func(r *http.Request) (*Server, bool) { return s.sim.Server(r.PathValue("name")) }
	s.controlFor(mux, "/sim/servers/{name}", byName)
	mux.HandleFunc("GET /sim/servers", func(w http.ResponseWriter, r *http.Request) {
		all := s.sim.Servers()
		out := make([]serverInfo, len(all))
		for i, t := range all {
			out[i] = t.info()
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func (s *Server) controlFor(mux *http.ServeMux, prefix string, target func(*http.Request) (*Server, bool)) {
	handle := func(pattern string, fn func(w http.ResponseWriter, r *http.Request, t *Server)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			t, ok := target(r)
			if !ok {
				writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such server: " + r.PathValue("name")})
				return
			}
			fn(w, r, t)
		})
	}
	handle("GET "+prefix, func(w http.ResponseWriter, _ *http.Request, t *Server) {
		writeJSON(w, http.StatusOK, t.info())
	})
	handle("GET "+prefix+"/faults", func(w http.ResponseWriter, _ *http.Request, t *Server) {
		writeJSON(w, http.StatusOK, t.Faults())
	})
	handle("POST "+prefix+"/faults", func(w http.ResponseWriter, r *http.Request, t *Server) {
		var f Faults
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err == nil {
			err = json.Unmarshal(b, &f)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if f.Down && t == s {
			// Going down closes this very connection: answer first.
			writeJSON(w, http.StatusOK, f)
			http.NewResponseController(w).Flush()
			t.Inject(f) // taking a server down cannot fail
			return
		}
		if err := t.Inject(f); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, t.Faults())
	})
	handle("DELETE "+prefix+"/faults", func(w http.ResponseWriter, _ *http.Request, t *Server) {
		if err := t.ClearFaults(); err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, t.Faults())
	})
	handle("POST "+prefix+"/expire-sessions", func(w http.ResponseWriter, _ *http.Request, t *Server) {
		t.ExpireSessions()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	handle("GET "+prefix+"/objects", func(w http.ResponseWriter, _ *http.Request, t *Server) {
		writeJSON(w, http.StatusOK, t.Objects())
	})
	handle("POST "+prefix+"/objects", func(w http.ResponseWriter, r *http.Request, t *Server) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		var c ObjectChange
		if err == nil {
			c, err = decodeObjectChange(b)
		}
		if err == nil {
			err = t.ChangeObject(c)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, t.Objects())
	})
	handle("GET "+prefix+"/calls", func(w http.ResponseWriter, _ *http.Request, t *Server) {
		writeJSON(w, http.StatusOK, t.Calls())
	})
	handle("DELETE "+prefix+"/calls", func(w http.ResponseWriter, _ *http.Request, t *Server) {
		t.ResetCalls()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
