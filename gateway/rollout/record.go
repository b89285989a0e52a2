package rollout

import (
	"encoding/json"
	"time"

	"github.com/hubgw/hubgw/gateway/target"
)

// Record is a rollout as the store keeps it: the spec, every decision and
// every server's outcome. Every change carries the owner's epoch.
type Record struct {
	ID      string    `json:"id"`
	Spec    Spec      `json:"spec"`
	Status  Status    `json:"status"`
	Reason  string    `json:"reason,omitempty"`
	Owner   string    `json:"owner"`
	Epoch   int64     `json:"epoch"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// CanaryApproved: resumed after the canary pause.
	CanaryApproved bool     `json:"canaryApproved,omitempty"`
	Waves          [][]int  `json:"waves"`             // server indexes
	Servers        []Server `json:"servers,omitempty"` // one field each in the store
	// Log says what happened to the rollout itself: starts, halts,
	// resumes, takeovers (server outcomes are in Servers).
	Log []Entry `json:"log,omitempty"`

	// version and raw: the record's hash as read or last written (store.go).
	version int64
	raw     map[string][]byte
}

// Server is one target of a rollout.
type Server struct {
	Target  target.Target `json:"target"`
	Wave    int           `json:"wave"`
	Status  ServerStatus  `json:"status"`
	Attempt int           `json:"attempt"`
	// Objects is what the step reported (the apply's per-object outcomes).
	Objects json.RawMessage `json:"objects,omitempty"`
	Counts  map[string]int  `json:"counts,omitempty"`
	Error   string          `json:"error,omitempty"`
	Started *time.Time      `json:"started,omitempty"`
	// Stamp dates the deploys this server's run schedules (Claim.Stamp).
	Stamp    *time.Time `json:"stamp,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
}

// Entry is one event of a rollout's own history.
type Entry struct {
	At    time.Time `json:"at"`
	Event string    `json:"event"`
	By    string    `json:"by"` // replica or user
}

// Counts adds up the servers' object counts (created, updated, ...).
func (r *Record) Counts() map[string]int {
	out := map[string]int{}
	for _, s := range r.Servers {
		for k, v := range s.Counts {
			out[k] += v
		}
	}
	return out
}

// failures counts the servers that count against the budget, in all and
// in wave w.
func (r *Record) failures(w int) (all, wave int) {
	for _, s := range r.Servers {
		if s.Status.failure() {
			all++
			if s.Wave == w {
				wave++
			}
		}
	}
	return all, wave
}

func (r *Record) log(now time.Time, event, by string) {
	r.Log = append(r.Log, Entry{At: now, Event: event, By: by})
	r.Updated = now
}

// Active reports whether the rollout may still run servers.
func (r *Record) Active() bool { return r.Status.Active() }
