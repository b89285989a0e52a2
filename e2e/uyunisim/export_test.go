package uyunisim

import "time"

// SetClock makes the simulator read time from now, so tests can expire
// sessions without waiting.
func SetClock(cfg *Config, now func() time.Time) { cfg.now = now }

// Hanging counts the requests a Hang fault holds on s right now.
func Hanging(s *Server) int64 { return s.hanging.Load() }
