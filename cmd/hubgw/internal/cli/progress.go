package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/jedib0t/go-pretty/v6/progress"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hubgw/hubgw/gateway/rollout"
)

// reporter shows the progress of long work on stderr, so stdout keeps
// only the table or JSON: on a terminal a live go-pretty tracker, else
// one plain line per event (still working after a second, each change
// of the servers' count, finished) for logs of scripts and CI. Work the
// gateway refuses at once shows no progress: its error is one line.
type reporter struct {
	w       io.Writer
	op      string
	start   time.Time
	started *time.Timer // the plain "still working" line

	// On a terminal: the tracker and the renderer's end.
	pw       progress.Writer
	tracker  *progress.Tracker
	rendered chan struct{}

	mu   sync.Mutex
	last string // the last plain line, not repeated
	done bool   // no more events: the work is over
}

// newReporter starts reporting op ("plan", "apply") of what.
func (a *app) newReporter(cmd *cobra.Command, op, what string) *reporter {
	return a.startReporter(cmd, op, what, true)
}

// startReporter starts reporting op of what; without a terminal,
// working says so after a second (work whose events are not its lines).
func (a *app) startReporter(cmd *cobra.Command, op, what string, working bool) *reporter {
	r := &reporter{w: stderr(cmd), op: op, start: time.Now()}
	f, ok := r.w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || a.getenv("TERM") == "dumb" {
		if working {
			r.started = time.AfterFunc(time.Second, func() { r.event(fmt.Sprintf("%s: %s: working", op, what)) })
		}
		return r
	}
	pw := progress.NewWriter()
	pw.SetOutputWriter(r.w)
	pw.SetAutoStop(false)
	pw.SetUpdateFrequency(100 * time.Millisecond)
	pw.SetStyle(progress.StyleDefault) // no colours: NO_COLOR needs no case
	pw.Style().Visibility.ETA = false
	pw.Style().Visibility.Speed = false
	pw.Style().Visibility.Value = false
	pw.Style().Options.TimeInProgressPrecision = 100 * time.Millisecond
	pw.Style().Options.TimeDonePrecision = 100 * time.Millisecond
	if w, _, err := term.GetSize(int(f.Fd())); err == nil {
		pw.SetTerminalWidth(w)
	}
	r.pw = pw
	r.tracker = &progress.Tracker{Message: op + ": " + what, Total: 0} // indeterminate until the servers are counted
	pw.AppendTracker(r.tracker)
	r.rendered = make(chan struct{})
	go func() {
		defer close(r.rendered)
		pw.Render()
	}()
	return r
}

// servers reports how many of the servers are done, and how many of
// those failed.
func (r *reporter) servers(done, total, failed int, job string) {
	msg := fmt.Sprintf("%s: servers %d/%d finished, %d failed (job %s)", r.op, done, total, failed, job)
	if r.tracker == nil {
		r.event(msg)
		return
	}
	r.tracker.UpdateMessage(msg)
	r.tracker.UpdateTotal(int64(total))
	r.tracker.SetValue(int64(done))
}

// rollout reports where a followed rollout stands after event e (nil:
// before the first): on a terminal the tracker's line, else the event as
// a plain line.
func (r *reporter) rollout(p *standing, e *rollout.Event) {
	done, _ := tallyServers(p.v)
	if r.tracker == nil {
		if e != nil {
			if line := p.eventLine(*e); line != "" {
				r.event(fmt.Sprintf("%s: rollout %s: %s", r.op, p.v.ID, line))
			}
		}
		return
	}
	r.tracker.UpdateMessage(fmt.Sprintf("%s: rollout %s: %s", r.op, p.v.ID, p.line()))
	r.tracker.UpdateTotal(int64(len(p.v.Targets)))
	r.tracker.SetValue(int64(done))
}

// finish ends the report with a summary line.
func (r *reporter) finish(summary string) {
	took := time.Since(r.start).Round(100 * time.Millisecond)
	r.stop(r.tracker.MarkAsDone)
	fmt.Fprintf(r.w, "%s: finished in %s: %s\n", r.op, took, summary)
}

// fail ends the report of work that failed as a whole: the error says it.
func (r *reporter) fail() { r.stop(r.tracker.MarkAsErrored) }

func (r *reporter) stop(mark func()) {
	r.mu.Lock()
	r.done = true
	r.mu.Unlock()
	if r.started != nil {
		r.started.Stop()
	}
	if r.tracker != nil {
		mark()
		r.pw.Stop()
		<-r.rendered
	}
}

// event writes a plain line, unless it repeats the last or the work is over.
func (r *reporter) event(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.done && s != r.last {
		fmt.Fprintln(r.w, s)
		r.last = s
	}
}

// watchApply follows an apply's job while its request runs, reporting
// servers done: the job is the newest hub.apply the caller can see that
// was not there before (before: ids listed just before the request).
// The apply answers only when done, so its job is the one view of the
// work in between. Best effort: a gateway that keeps no jobs, or
// another apply of the same user starting at the same moment, only
// makes the count missing or someone else's.
func watchApply(ctx context.Context, c *Client, before map[string]bool, r *reporter) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			list, _, err := c.Jobs(ctx, 20)
			if err != nil {
				continue
			}
			for _, j := range list {
				if j.Method == "hub.apply" && !before[j.ID] {
					r.servers(j.Finished, j.Total, j.Failed, j.ID)
					break
				}
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// jobIDs lists the ids of the caller's newest jobs, for watchApply;
// none when they cannot be listed.
func jobIDs(ctx context.Context, c *Client) map[string]bool {
	ids := map[string]bool{}
	list, _, err := c.Jobs(ctx, 20)
	if err == nil {
		for _, j := range list {
			ids[j.ID] = true
		}
	}
	return ids
}
