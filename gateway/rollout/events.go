package rollout

import (
	"context"
	"time"
)

// Wave states, derived from its servers.
const (
	WavePending   = "pending"
	WaveRunning   = "running"
	WaveSucceeded = "succeeded"
	WaveFailed    = "failed" // every server finished, some did not succeed
	WaveSkipped   = "skipped"
)

// WaveStatus says where wave w stands.
func (r *Record) WaveStatus(w int) string {
	var pending, open, done, skipped, n int
	for _, s := range r.Servers {
		if s.Wave != w {
			continue
		}
		n++
		switch s.Status {
		case Pending:
			pending++
		case InFlight, InDoubt:
			open++
		case Done:
			done++
		case Skipped:
			skipped++
		}
	}
	switch {
	case open > 0 || (pending > 0 && pending < n):
		return WaveRunning
	case pending == n:
		return WavePending
	case done == n:
		return WaveSucceeded
	case skipped == n:
		return WaveSkipped
	}
	return WaveFailed
}

// Event is one change of a rollout: of a server, a wave, or the rollout.
type Event struct {
	Type    string       `json:"type"` // "server", "wave" or "rollout"
	Rollout string       `json:"rollout"`
	Status  string       `json:"status"`
	Reason  string       `json:"reason,omitempty"` // type rollout
	Wave    int          `json:"wave"`
	Server  *EventServer `json:"server,omitempty"` // type server
}

// EventServer names the server of a server event.
type EventServer struct {
	Target   string `json:"target"`
	ServerID int64  `json:"serverId"`
	Attempt  int    `json:"attempt"`
}

// diff lists the changes from prev (nil: none seen yet, so everything
// is new) to cur, servers first, then waves, then the rollout.
func diff(prev, cur *Record) []Event {
	var out []Event
	for i, s := range cur.Servers {
		if prev != nil && i < len(prev.Servers) && prev.Servers[i].Status == s.Status && prev.Servers[i].Attempt == s.Attempt {
			continue
		}
		if prev == nil && s.Status == Pending {
			continue
		}
		out = append(out, Event{Type: "server", Rollout: cur.ID, Status: string(s.Status), Wave: s.Wave,
			Server: &EventServer{Target: s.Target.String(), ServerID: s.Target.ID, Attempt: s.Attempt}})
	}
	for w := range cur.Waves {
		st := cur.WaveStatus(w)
		if prev != nil && prev.WaveStatus(w) == st {
			continue
		}
		out = append(out, Event{Type: "wave", Rollout: cur.ID, Status: st, Wave: w})
	}
	if prev == nil || prev.Status != cur.Status || prev.Reason != cur.Reason {
		out = append(out, Event{Type: "rollout", Rollout: cur.ID, Status: string(cur.Status), Reason: cur.Reason})
	}
	return out
}

// Watch sends rollout id's changes until ctx ends or the rollout has
// finished (its last event says how), then closes the channel. The first
// events are where it stands now. Changes are read from the record on
// every hint published by whichever replica owns it, and at least every
// second, since hints are lost while the store is unreachable; states a
// server passes through between two reads are not seen.
func (c *Controller) Watch(ctx context.Context, id string) (<-chan Event, error) {
	sub, err := c.o.Store.Subscribe(ctx, changedChannel(id))
	if err != nil {
		return nil, err
	}
	cur, err := c.Get(ctx, id)
	if err != nil {
		_ = sub.Close()
		return nil, err
	}
	out := make(chan Event)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(out)
		defer sub.Close()
		var prev *Record
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			for _, e := range diff(prev, cur) {
				select {
				case out <- e:
				case <-ctx.Done():
					return
				case <-c.base.Done():
					return
				}
			}
			if !cur.Active() {
				return
			}
			prev = cur
			select {
			case <-ctx.Done():
				return
			case <-c.base.Done():
				return
			case <-sub.C():
			case <-t.C:
			}
			r, err := c.Get(ctx, id)
			if err == nil {
				cur = r
			}
		}
	}()
	return out, nil
}

// Wait returns rollout id once it no longer runs (it finished, or waits
// for a user: paused, halted), or when ctx ends. seen, if set, is called
// with the record as it stands, on a server's change at most every
// Lease/30 (a read is of the whole record), and at the end.
func (c *Controller) Wait(ctx context.Context, id string, seen func(*Record)) (*Record, error) {
	sub, err := c.o.Store.Subscribe(ctx, changedChannel(id))
	if err != nil {
		return nil, err
	}
	defer sub.Close()
	t := time.NewTicker(time.Second) // hints are lost while the store is unreachable
	defer t.Stop()
	every := c.o.Lease / 30
	var servers <-chan time.Time // a server changed: read when it fires
	for {
		r, err := c.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if seen != nil {
			seen(r)
		}
		if r.Status != Running {
			return r, nil
		}
		servers = nil
		for read := false; !read; {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-c.base.Done():
				return nil, c.base.Err()
			case m := <-sub.C():
				if string(m) != string(hintServer) {
					read = true
				} else if seen != nil && servers == nil {
					servers = time.After(every)
				}
			case <-servers:
				read = true
			case <-t.C:
				read = true
			}
		}
	}
}
