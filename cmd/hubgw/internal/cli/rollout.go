package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/rollout"
)

// rolloutFlags are apply's staged rollout settings; any of them makes
// apply a rollout.
type rolloutFlags struct {
	canary, concurrency                                     int
	waves, maxFailures, maxWaveFailures, order, unreachable string
	pauseBetween                                            time.Duration
	pauseAfterCanary, detach                                bool
}

// rolloutFlagNames are the flags addRolloutFlags adds.
var rolloutFlagNames = []string{"canary", "wave", "concurrency", "max-failures", "max-wave-failures", "pause-after-canary",
	"pause-between", "order", "unreachable", "detach"}

func addRolloutFlags(cmd *cobra.Command, f *rolloutFlags) {
	fs := cmd.Flags()
	fs.IntVar(&f.canary, "canary", 1, "servers in the first wave, the canary; any failure there halts")
	fs.StringVar(&f.waves, "wave", "", `the sizes of the waves after the canary: a count, a percentage of all targets, or a list ("1,10%,25%": the last repeats); default: the rest at once`)
	fs.IntVar(&f.concurrency, "concurrency", 10, "servers at once within a wave")
	fs.StringVar(&f.maxFailures, "max-failures", "0", `failed servers the whole rollout tolerates, a count or a percentage ("5%"); past it, it halts`)
	fs.StringVar(&f.maxWaveFailures, "max-wave-failures", "", "failed servers one wave tolerates, a count or a percentage of the wave")
	fs.BoolVar(&f.pauseAfterCanary, "pause-after-canary", false, "wait for hubgw rollout resume after the canary")
	fs.DurationVar(&f.pauseBetween, "pause-between", 0, `a pause between waves ("30s", "5m")`)
	fs.StringVar(&f.order, "order", "", "the order servers are taken in: name, id, or rings (from the gateway's configuration); default: as resolved")
	fs.StringVar(&f.unreachable, "unreachable", "", "a server that does not answer: fail (counts against the budget, the default) or defer (set aside for hubgw rollout retry)")
	fs.BoolVar(&f.detach, "detach", false, "start the rollout, print its id and return at once (hubgw rollout status ID -w follows it)")
	_ = cmd.RegisterFlagCompletionFunc("order", cobra.FixedCompletions([]string{"name", "id", "rings"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("unreachable", cobra.FixedCompletions([]string{"fail", "defer"}, cobra.ShellCompDirectiveNoFileComp))
}

// staged reports whether a rollout flag was given.
func staged(cmd *cobra.Command) bool {
	return slices.ContainsFunc(rolloutFlagNames, cmd.Flags().Changed)
}

// amount checks a count or percentage flag.
func amount(flag, s string) (any, error) {
	s = strings.TrimSpace(s)
	if _, err := rollout.Amount(s).Of(100); err != nil || s == "" {
		return nil, usageError(fmt.Errorf("--%s %q: want a count (3) or a percentage (10%%)", flag, s))
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	return s, nil
}

// request is the POST /api/v1/rollouts body of the flags given (the
// gateway's defaults for the others), checked before anything is sent.
func (f *rolloutFlags) request(cmd *cobra.Command) (map[string]any, error) {
	req := map[string]any{}
	changed := cmd.Flags().Changed
	if changed("canary") {
		if f.canary < 1 {
			return nil, usageError(fmt.Errorf("--canary %d: want at least 1", f.canary))
		}
		req["canary"] = f.canary
	}
	if changed("concurrency") {
		if f.concurrency < 1 {
			return nil, usageError(fmt.Errorf("--concurrency %d: want at least 1", f.concurrency))
		}
		req["concurrency"] = f.concurrency
	}
	if changed("wave") {
		var waves []any
		for w := range strings.SplitSeq(f.waves, ",") {
			a, err := amount("wave", w)
			if err != nil {
				return nil, err
			}
			waves = append(waves, a)
		}
		req["waves"] = waves
	}
	for flag, member := range map[string]string{"max-failures": "maxFailures", "max-wave-failures": "maxWaveFailures"} {
		if changed(flag) {
			v, _ := cmd.Flags().GetString(flag)
			a, err := amount(flag, v)
			if err != nil {
				return nil, err
			}
			req[member] = a
		}
	}
	if f.pauseAfterCanary {
		req["pauseAfterCanary"] = true
	}
	if f.pauseBetween < 0 {
		return nil, usageError(fmt.Errorf("--pause-between %s: want a duration, at least 0", f.pauseBetween))
	} else if f.pauseBetween > 0 {
		req["pauseBetween"] = f.pauseBetween.String()
	}
	if f.order != "" {
		if !slices.Contains([]string{"name", "id", "rings"}, f.order) {
			return nil, usageError(fmt.Errorf("--order %s: want name, id or rings", f.order))
		}
		req["order"] = f.order
	}
	if f.unreachable != "" {
		if f.unreachable != "fail" && f.unreachable != "defer" {
			return nil, usageError(fmt.Errorf("--unreachable %s: want fail or defer", f.unreachable))
		}
		req["unreachable"] = f.unreachable
	}
	return req, nil
}

// applyRollout is apply with rollout flags: start the rollout, then
// follow it until it ends, halts or pauses (or, with --detach, not).
func (a *app) applyRollout(cmd *cobra.Command, out *Output, b *bundle, targets []string, c *Client, req map[string]any, detach bool) error {
	req["documents"], req["targets"] = b.docs, targets
	s, answer, err := c.StartRollout(cmd.Context(), req)
	if err != nil {
		return b.refused(err)
	}
	if !s.Durable {
		fmt.Fprintf(stderr(cmd), "Rollout %s lives in the gateway's memory only (no Redis): it ends if that gateway stops.\n", s.ID)
	}
	if detach {
		fmt.Fprintf(stderr(cmd), "Rollout %s started: hubgw rollout status %s -w follows it.\n", s.ID, s.ID)
		if out.Format == FormatJSON {
			return out.JSON(answer.Body)
		}
		_, err := fmt.Fprintln(out.W, s.ID)
		return err
	}
	return a.follow(cmd, out, c, s.ID, "apply")
}

// follow shows a rollout's progress from its events until it has
// finished, or is paused or halted with no server left in flight; then
// the rollout (table or JSON) and the exit code of where it stands.
func (a *app) follow(cmd *cobra.Command, out *Output, c *Client, id, op string) error {
	ctx := cmd.Context()
	v, _, err := c.Rollout(ctx, id)
	if err != nil {
		return err
	}
	rep := a.startReporter(cmd, op, "rollout "+id, false)
	p := newStanding(v)
	rep.rollout(p, nil)
	refreshed := time.Now()
	// Each connection's first events are where the rollout stands, the
	// rollout's own last: only after that may what was read say it is
	// settled (the first read above may be older).
	var broke error // why the last stream ended early, if it said
	for tries := 0; ; tries++ {
		if tries > 0 {
			// The stream broke off (a proxy's timeout, the gateway
			// restarting, another replica taking over): listen again, a
			// few times.
			if tries > 3 {
				rep.fail()
				if broke == nil {
					broke = errors.New("the stream ended")
				}
				return fmt.Errorf("the events of rollout %s broke off (%w): hubgw rollout status %s -w follows it again", id, broke, id)
			}
			t := time.NewTimer(time.Duration(tries) * time.Second)
			select {
			case <-ctx.Done():
				t.Stop()
				rep.fail()
				return ctx.Err()
			case <-t.C:
			}
		}
		seen := false
		err := c.RolloutEvents(ctx, id, func(e rollout.Event) bool {
			p.apply(e)
			seen = seen || e.Type == "rollout"
			// Object counts are not in the events: read them when a wave
			// changes, and now and then, not for every server.
			if (e.Type == "wave" && e.Status != rollout.WavePending) || (e.Type == "server" && time.Since(refreshed) > time.Second) {
				if nv, _, err := c.Rollout(ctx, id); err == nil {
					p.v.Counts, refreshed = nv.Counts, time.Now()
				}
			}
			rep.rollout(p, &e)
			return seen && p.settled()
		})
		var pe *ProblemError
		if errors.As(err, &pe) || ctx.Err() != nil {
			rep.fail()
			return err
		}
		if seen && p.settled() {
			break
		}
		broke = err
	}
	v, answer, err := c.Rollout(ctx, id)
	if err != nil {
		rep.fail()
		return err
	}
	rep.rollout(newStanding(v), nil) // the tracker's last line: the counts as they ended
	rep.finish(rolloutSummary(v))
	if err := showRollout(out, v, answer); err != nil {
		return err
	}
	return rolloutExit(v)
}

// standing is where a followed rollout stands, kept from its events.
type standing struct {
	v  *desired.RolloutView
	at map[string]int // a target's index in v.Targets
}

func newStanding(v *desired.RolloutView) *standing {
	p := &standing{v: v, at: make(map[string]int, len(v.Targets))}
	for i, t := range v.Targets {
		p.at[t.Target] = i
	}
	return p
}

func (p *standing) apply(e rollout.Event) {
	switch e.Type {
	case "server":
		if i, ok := p.at[e.Server.Target]; ok {
			p.v.Targets[i].Status, p.v.Targets[i].Attempt = e.Status, e.Server.Attempt
		}
	case "wave":
		if e.Wave >= 0 && e.Wave < len(p.v.Waves) {
			p.v.Waves[e.Wave].Status = e.Status
		}
	case "rollout":
		p.v.Status, p.v.Reason = e.Status, e.Reason
	}
}

// settled: the rollout has finished, or waits (paused, halted) with no
// server in flight; the servers of a halted wave finish after the halt.
func (p *standing) settled() bool {
	st := rollout.Status(p.v.Status)
	if !st.Active() {
		return true
	}
	return st != rollout.Running && !slices.ContainsFunc(p.v.Targets, func(t desired.RolloutTarget) bool {
		return t.Status == string(rollout.InFlight)
	})
}

// tallyServers counts the servers done (no longer pending or running) and those
// that count against the budget.
func tallyServers(v *desired.RolloutView) (done, failed int) {
	for _, t := range v.Targets {
		switch rollout.ServerStatus(t.Status) {
		case rollout.Pending, rollout.InFlight, rollout.InDoubt:
			continue
		case rollout.Failed, rollout.Unreachable:
			failed++
		}
		done++
	}
	return done, failed
}

// currentWave is the wave under way, counted from 1 (the canary): the last one
// running, else the last one started.
func currentWave(v *desired.RolloutView) int {
	cur := 0
	for i, w := range v.Waves {
		if w.Status == rollout.WaveRunning {
			return i + 1
		}
		if w.Status != rollout.WavePending && w.Status != rollout.WaveSkipped {
			cur = i + 1
		}
	}
	return max(cur, 1)
}

// line is where the rollout stands in one line: "wave 2/3, servers 3/6
// done, 5 created, 0 updated, 1 unchanged, 1 failed (budget 2)".
func (p *standing) line() string {
	v := p.v
	done, failed := tallyServers(v)
	return fmt.Sprintf("wave %d/%d, servers %d/%d done, %d created, %d updated, %d unchanged, %d failed (budget %d)",
		currentWave(v), len(v.Waves), done, len(v.Targets), v.Counts.Created, v.Counts.Updated, v.Counts.Unchanged, failed, v.FailureBudget)
}

// eventLine is one event as a plain line.
func (p *standing) eventLine(e rollout.Event) string {
	switch e.Type {
	case "server":
		done, failed := tallyServers(p.v)
		return fmt.Sprintf("wave %d/%d: %s %s (attempt %d); servers %d/%d done, %d failed (budget %d)",
			e.Wave+1, len(p.v.Waves), e.Server.Target, e.Status, e.Server.Attempt, done, len(p.v.Targets), failed, p.v.FailureBudget)
	case "wave":
		if e.Status == rollout.WavePending {
			return "" // where a rollout stands begins with every wave: those to come say nothing
		}
		return fmt.Sprintf("wave %d/%d %s", e.Wave+1, len(p.v.Waves), e.Status)
	}
	return strings.TrimSuffix(fmt.Sprintf("%s: %s", e.Status, e.Reason), ": ")
}

// rolloutSummary is the last progress line.
func rolloutSummary(v *desired.RolloutView) string {
	s := v.Counts
	done, failed := tallyServers(v)
	return fmt.Sprintf("rollout %s %s: %d created, %d updated, %d unchanged, %d failed, %d conflicts, %d blocked, %d unreachable, %d skipped; servers %d/%d done, %d failed (budget %d)",
		v.ID, statusText(v), s.Created, s.Updated, s.Unchanged, s.Failed, s.Conflict, s.Blocked, s.Unreachable, s.Skipped, done, len(v.Targets), failed, v.FailureBudget)
}

// statusText is "halted (the canary failed)".
func statusText(v *desired.RolloutView) string {
	if v.Reason == "" {
		return v.Status
	}
	return v.Status + " (" + oneLine(v.Reason) + ")"
}

// rolloutExit is the exit code of where a rollout stands: 0 running or
// succeeded, 3 halted or aborted, 4 finished with failures or deferred
// servers, 5 paused.
func rolloutExit(v *desired.RolloutView) error {
	switch rollout.Status(v.Status) {
	case rollout.Halted:
		return &Exit{Code: ExitHalted, Err: fmt.Errorf("rollout %s halted: %s (hubgw rollout resume|retry|abort %s)", v.ID, oneLine(v.Reason), v.ID)}
	case rollout.Aborted:
		return &Exit{Code: ExitHalted, Err: fmt.Errorf("rollout %s was %s", v.ID, statusText(v))}
	case rollout.Paused:
		return &Exit{Code: ExitPaused, Err: fmt.Errorf("rollout %s is paused (%s): hubgw rollout resume %s goes on", v.ID, oneLine(v.Reason), v.ID)}
	case rollout.CompletedWithFailures:
		return &Exit{Code: ExitFailures, Err: fmt.Errorf("rollout %s finished with failures on %s", v.ID, servers(v.Targets, func(t desired.RolloutTarget) (string, bool) {
			return t.Target, t.Status != string(rollout.Done)
		}))}
	}
	return nil
}

// showRollout writes a rollout: the gateway's answer as is with -o json;
// else a summary, then a row per server.
func showRollout(out *Output, v *desired.RolloutView, answer *Answer) error {
	if out.Format == FormatJSON {
		return out.JSON(answer.Body)
	}
	done, failed := tallyServers(v)
	fmt.Fprintf(out.W, "Rollout %s: %s, by %s; started %s, updated %s\nWave %d/%d, servers %d/%d done, %d failed (budget %d)\n\n",
		v.ID, out.Paint(v.Status)+strings.TrimPrefix(statusText(v), v.Status), v.User, when(v.Created), when(v.Updated),
		currentWave(v), len(v.Waves), done, len(v.Targets), failed, v.FailureBudget)
	rows := make([][]string, len(v.Targets))
	for i, t := range v.Targets {
		var objs []desired.ApplyObject
		_ = json.Unmarshal(t.Objects, &objs) // none when it does not parse: the counts say 0
		var created, updated, unchanged, bad int
		fault := ""
		for _, o := range objs {
			switch o.Outcome {
			case desired.Created:
				created++
			case desired.Updated:
				updated++
			case desired.Unchanged:
				unchanged++
			case desired.Skipped:
			default:
				bad++
				if fault == "" {
					fault = o.Kind + "/" + o.Name + ": " + o.Outcome + ": " + oneLine(o.Reason)
					if o.FaultCode != 0 || o.FaultString != "" {
						fault = o.Kind + "/" + o.Name + ": " + faultText(o.FaultCode, o.FaultString, o.Reason)
					}
				}
			}
		}
		switch {
		case fault == "" && t.Error != "":
			fault = oneLine(t.Error)
		case fault == "":
			fault = "-"
		}
		rows[i] = []string{t.Target, strconv.Itoa(t.Wave + 1), out.Paint(t.Status), strconv.Itoa(t.Attempt),
			strconv.Itoa(created), strconv.Itoa(updated), strconv.Itoa(unchanged), strconv.Itoa(bad), strings.TrimSuffix(fault, ": ")}
	}
	return out.Table([]string{"server", "wave", "status", "attempt", "created", "updated", "unchanged", "failed", "fault"}, rows)
}

const rolloutHelp = `
A rollout applies documents to many servers in stages (hubgw apply with
--canary, --wave, --max-failures, ...): the canary first, then waves; it halts
when more servers fail than its budget allows, and waits after the canary when
asked to. Waves are counted from 1: the canary is wave 1.

On a terminal, progress shows on stderr (wave 3/8, servers 31/120, created,
updated, unchanged, failures against the budget) while the rollout is followed;
without one, a plain line per event. The table or JSON goes to stdout.

Where the rollout stands gives the exit code: 0 succeeded (or running, when not
followed), 3 halted or aborted, 4 finished with failures or servers deferred,
5 paused.`

func (a *app) rolloutCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout list | status ID [-w] | resume ID | retry ID | abort ID",
		Short: "Your staged rollouts: list, follow, resume, retry, abort",
		Long: long(`
Your rollouts, started with hubgw apply --canary, --wave, ... (or any client of
the gateway): "rollout list" lists them, newest first; "rollout status ID" shows
one, a row per server; resume, retry and abort decide what a paused, halted or
finished rollout does next.
` + rolloutHelp),
		Example: `  hubgw apply -f fleet.yaml --targets all --canary 2 --wave 10%,25% --max-failures 3
  hubgw rollout list
  hubgw rollout status 3f9c2a1e -w
  hubgw rollout resume 3f9c2a1e --max-failures 5
  hubgw rollout retry 3f9c2a1e --failed`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(a.rolloutListCmd(), a.rolloutStatusCmd(), a.rolloutResumeCmd(), a.rolloutRetryCmd(), a.rolloutAbortCmd())
	return cmd
}

// rolloutCommon adds --gateway and -o to a rollout subcommand; one that
// does not say what arguments it takes takes a rollout ID, completed
// from the user's rollouts.
func (a *app) rolloutCommon(cmd *cobra.Command, gateway, format *string) {
	gatewayFlag(cmd, gateway)
	addOutputFlag(cmd, format)
	if cmd.Args == nil {
		cmd.Args = cobra.ExactArgs(1)
		cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return a.completeRollouts(cmd, *gateway)
		}
	}
}

// rolloutRun is what the subcommands share: the output, then the client.
func (a *app) rolloutRun(cmd *cobra.Command, gateway, format string) (*Output, *Client, error) {
	out, err := a.newOutput(cmd, format)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.client(gateway)
	return out, c, err
}

func (a *app) rolloutListCmd() *cobra.Command {
	var gateway, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Your rollouts, newest first",
		Long: long(`
Your rollouts, newest first: status, when started, the wave under way, servers
ok/failed/all, and why one is paused or halted. -o json prints the gateway's
answer as it came.`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return usageError(fmt.Errorf("--limit %d: want 1 to 1000", limit))
			}
			out, c, err := a.rolloutRun(cmd, gateway, format)
			if err != nil {
				return err
			}
			list, answer, err := c.Rollouts(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if out.Format == FormatJSON {
				return out.JSON(answer.Body)
			}
			rows := make([][]string, len(list))
			for i := range list {
				v := &list[i]
				_, failed := tallyServers(v)
				ok := 0
				for _, t := range v.Targets {
					if t.Status == string(rollout.Done) {
						ok++
					}
				}
				reason := v.Reason
				if reason == "" {
					reason = "-"
				}
				rows[i] = []string{v.ID, out.Paint(v.Status), when(v.Created), fmt.Sprintf("%d/%d", currentWave(v), len(v.Waves)),
					fmt.Sprintf("%d/%d/%d", ok, failed, len(v.Targets)), oneLine(reason)}
			}
			return out.Table([]string{"id", "status", "started", "wave", "servers ok/failed/all", "reason"}, rows)
		},
	}
	a.rolloutCommon(cmd, &gateway, &format)
	cmd.Flags().IntVar(&limit, "limit", 50, "list at most this many rollouts (1 to 1000)")
	return cmd
}

func (a *app) rolloutStatusCmd() *cobra.Command {
	var gateway, format string
	var watch bool
	cmd := &cobra.Command{
		Use:   "status ID [-w]",
		Short: "One rollout, a row per server; -w follows it",
		Long: long(`
One rollout: its status, the wave under way, and a row per server with its
wave, status, attempt, objects created, updated, unchanged and failed, and the
first fault. -w follows its events until it has finished, or is paused or
halted with no server left in flight, then shows it. -o json prints the
gateway's answer (GET /api/v1/rollouts/ID) as it came.
` + rolloutHelp),
		Example: `  hubgw rollout status 3f9c2a1e
  hubgw rollout status 3f9c2a1e -w -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			out, c, err := a.rolloutRun(cmd, gateway, format)
			if err != nil {
				return err
			}
			if watch {
				return a.follow(cmd, out, c, args[0], "rollout")
			}
			v, answer, err := c.Rollout(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := showRollout(out, v, answer); err != nil {
				return err
			}
			return rolloutExit(v)
		},
	}
	a.rolloutCommon(cmd, &gateway, &format)
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "follow the rollout until it has finished, or is paused or halted")
	return cmd
}

// decision runs resume, retry or abort with body; resume and retry then
// follow the rollout, unless detach.
func (a *app) decision(cmd *cobra.Command, gateway, format, id, op string, body any, detach bool) error {
	out, c, err := a.rolloutRun(cmd, gateway, format)
	if err != nil {
		return err
	}
	v, answer, err := c.DecideRollout(cmd.Context(), id, op, body)
	if err != nil {
		return err
	}
	if op == "abort" || detach {
		if err := showRollout(out, v, answer); err != nil {
			return err
		}
		if op == "abort" {
			return nil // what was asked for: not an error
		}
		return rolloutExit(v)
	}
	return a.follow(cmd, out, c, id, op)
}

func (a *app) rolloutResumeCmd() *cobra.Command {
	var gateway, format, maxFailures string
	var detach bool
	cmd := &cobra.Command{
		Use:   "resume ID [--max-failures N|P%]",
		Short: "Go on with a paused or halted rollout, optionally with a larger budget",
		Long: long(`
Go on with a paused rollout (after the canary, or after its session expired:
resume from a new login) or a halted one, whose budget was spent: give a larger
one with --max-failures. Then follow it as hubgw rollout status -w does, unless
--detach.
` + rolloutHelp),
		Example: `  hubgw rollout resume 3f9c2a1e
  hubgw rollout resume 3f9c2a1e --max-failures 10%`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var body any
			if cmd.Flags().Changed("max-failures") {
				n, err := amount("max-failures", maxFailures)
				if err != nil {
					return err
				}
				body = map[string]any{"maxFailures": n}
			}
			return a.decision(cmd, gateway, format, args[0], "resume", body, detach)
		},
	}
	a.rolloutCommon(cmd, &gateway, &format)
	cmd.Flags().StringVar(&maxFailures, "max-failures", "", `the new budget: failed servers the whole rollout tolerates, a count or a percentage ("5%")`)
	cmd.Flags().BoolVar(&detach, "detach", false, "return at once, without following the rollout")
	return cmd
}

func (a *app) rolloutRetryCmd() *cobra.Command {
	var gateway, format string
	var only []string
	var failed, detach bool
	cmd := &cobra.Command{
		Use:   "retry ID [--failed | --servers a,b]",
		Short: "Run a rollout's failed servers again, as their next attempt",
		Long: long(`
Run the failed, unreachable, deferred and in-doubt servers of a rollout again
(--failed, the default), or only those of them named with --servers, as their
next attempt in the same rollout; the servers that succeeded are not touched.
Then follow it as hubgw rollout status -w does, unless --detach.
` + rolloutHelp),
		Example: `  hubgw rollout retry 3f9c2a1e --failed
  hubgw rollout retry 3f9c2a1e --servers p1.example.org,p7.example.org`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var body any
			if names := splitTargets(only); len(names) > 0 {
				if failed {
					return usageError(errors.New("--failed or --servers, not both"))
				}
				body = map[string]any{"servers": names}
			}
			return a.decision(cmd, gateway, format, args[0], "retry", body, detach)
		},
	}
	a.rolloutCommon(cmd, &gateway, &format)
	cmd.Flags().BoolVar(&failed, "failed", false, "every failed, unreachable, deferred and in-doubt server (the default)")
	cmd.Flags().StringSliceVar(&only, "servers", nil, "only these of the failed servers, by name or id (repeated or comma-separated)")
	cmd.Flags().BoolVar(&detach, "detach", false, "return at once, without following the rollout")
	return cmd
}

func (a *app) rolloutAbortCmd() *cobra.Command {
	var gateway, format string
	cmd := &cobra.Command{
		Use:   "abort ID",
		Short: "Stop a rollout: no server starts any more",
		Long: long(`
Stop a running, paused or halted rollout: no server starts any more (those in
flight finish their step; nothing is rolled back, Uyuni has no undo) and the
servers not run are skipped. It exits 0 when the rollout was aborted.`),
		Example: `  hubgw rollout abort 3f9c2a1e`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.decision(cmd, gateway, format, args[0], "abort", nil, true)
		},
	}
	a.rolloutCommon(cmd, &gateway, &format)
	return cmd
}
