package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jedib0t/go-pretty/v6/text"
	"github.com/spf13/cobra"

	"github.com/hubgw/hubgw/gateway/desired"
)

// FormatDiff is plan's field-level output, as terraform shows a plan.
const FormatDiff = "diff"

// desiredFlags are what plan and apply share: the documents, the
// targets, the gateway and the output.
type desiredFlags struct {
	gateway, format string
	files, targets  []string
}

func (a *app) addDesiredFlags(cmd *cobra.Command, f *desiredFlags, formats ...string) {
	gatewayFlag(cmd, &f.gateway)
	addOutputFlag(cmd, &f.format, formats...)
	cmd.Flags().StringArrayVarP(&f.files, "file", "f", nil, "a file of documents, YAML (several, ---) or JSON; repeat for more; - for standard input")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml", "json")
	a.targetsFlag(cmd, &f.targets, &f.gateway, "servers: all, hub, groups, peripheral ids, names or FQDNs (required)")
}

// start reads the documents and checks the targets before anything is
// sent, then finds the gateway.
func (a *app) start(cmd *cobra.Command, f *desiredFlags, formats ...string) (*Output, *bundle, []string, *Client, error) {
	out, err := a.newOutput(cmd, f.format, formats...)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	targets := splitTargets(f.targets)
	if len(targets) == 0 {
		return nil, nil, nil, nil, usageError(errors.New("which servers? give --targets (all, hub, groups, peripheral ids, names or FQDNs)"))
	}
	b, err := readBundle(cmd.InOrStdin(), f.files)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	c, err := a.client(f.gateway)
	return out, b, targets, c, err
}

// what is the work's description for progress: "5 documents from a.yaml on all".
func (b *bundle) what(targets []string) string {
	names := make([]string, len(b.files))
	for i, f := range b.files {
		names[i] = f.name
	}
	return fmt.Sprintf("%d documents from %s on %s", len(b.docs), strings.Join(names, ", "), strings.Join(targets, ","))
}

// refused is the gateway's refusal of a bundle: its 422 as one error
// listing each problem by file, as a local one; anything else as is.
func (b *bundle) refused(err error) error {
	var pe *ProblemError
	if errors.As(err, &pe) && pe.Problem.Status == http.StatusUnprocessableEntity && len(pe.Problem.InvalidParams) > 0 {
		ps := make([]string, len(pe.Problem.InvalidParams))
		for i, p := range pe.Problem.InvalidParams {
			ps[i] = p.Name + ": " + p.Reason
		}
		return documentError(b.located(ps))
	}
	return err
}

const desiredHelp = `
Documents declare software channels, config channels, activation keys and
system groups (README, "Hub operations as desired state"). -f reads YAML (several
documents separated by ---) or JSON; repeat it for more files. A config file's
source: is read from the directory of the file that names it and sent as its
content. The whole bundle is checked before anything is sent: an invalid one is
one error listing every problem by file and document.

On a terminal, progress shows on stderr while the servers work; without one, a
plain line per event. The table or JSON goes to stdout.`

func (a *app) planCmd() *cobra.Command {
	var f desiredFlags
	var detailed bool
	formats := []string{FormatDiff + ": field by field, have and want"}
	cmd := &cobra.Command{
		Use:   "plan -f FILE... --targets T [-o table|json|diff] [--detailed-exitcode]",
		Short: "Show, per server and object, what apply would change",
		Long: long(`
Read every declared object on every target and show what apply would do: per
server and object, the action (create, update, noop; conflict: a field that
cannot change; blocked: a dependency is missing; unknown: the server could not
be read) and the changes, have and want. A plan only reads.
` + desiredHelp + `

-o diff shows the changes field by field, as terraform does; -o json prints the
gateway's answer as it came.

A plan exits 0, or with --detailed-exitcode 2 when some object is not as
declared on some server. A plan that could not read some servers exits 6
whatever the flags: it does not say what apply would do there.`),
		Example: `  hubgw plan -f fleet.yaml --targets all
  hubgw plan -f channels.yaml -f keys.yaml --targets europe -o diff
  hubgw plan -f fleet.yaml --targets all --detailed-exitcode || echo "drift: $?"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, b, targets, c, err := a.start(cmd, &f, FormatDiff)
			if err != nil {
				return err
			}
			rep := a.newReporter(cmd, "plan", b.what(targets))
			p, answer, err := c.Plan(cmd.Context(), b.docs, targets)
			if err != nil {
				rep.fail()
				return b.refused(err)
			}
			s := p.Summary
			rep.finish(fmt.Sprintf("%d to create, %d to update, %d unchanged, %d conflicts, %d blocked, %d unknown, on %d servers",
				s.Create, s.Update, s.Noop, s.Conflict, s.Blocked, s.Unknown, len(p.Targets)))
			switch out.Format {
			case FormatJSON:
				err = out.JSON(answer.Body)
			case FormatDiff:
				err = planDiff(out, p)
			default:
				err = out.Table([]string{"server", "object", "action", "changes"}, planRows(out, p))
			}
			if err != nil {
				return err
			}
			if s.Unknown > 0 {
				return &Exit{Code: ExitIncomplete, Err: fmt.Errorf("plan incomplete: %s could not be read", servers(p.Targets, func(t desired.PlanTarget) (string, bool) {
					return t.Target, hasAction(t.Objects, desired.ActUnknown)
				}))}
			}
			if detailed && s.Create+s.Update+s.Conflict+s.Blocked > 0 {
				return &Exit{Code: ExitChanges}
			}
			return nil
		},
	}
	a.addDesiredFlags(cmd, &f, formats...)
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when changes are planned, 0 when none (as terraform's -detailed-exitcode)")
	return cmd
}

func (a *app) applyCmd() *cobra.Command {
	var f desiredFlags
	var rf rolloutFlags
	cmd := &cobra.Command{
		Use:   "apply -f FILE... --targets T [--canary N] [--wave N|P%|LIST] [--concurrency K] [--max-failures N|P%] [--pause-after-canary] [--detach] [-o table|json]",
		Short: "Make the servers match the documents, at once or as a staged rollout",
		Long: long(`
Make every target match the documents: per server, objects in dependency order,
only the difference written, then read back and checked. The table has a row per
server and object with its outcome (created, updated, unchanged; failed, with
the fault and, when some writes went through, partial; conflict, blocked,
unreachable, skipped). The apply is one job (hubgw jobs show ID).
` + desiredHelp + `

Without rollout flags, apply is one request to all targets at once and waits
for all of them. It exits 0 when every object is in place on every server, and
4 when it finished with some object failed, conflicting, blocked or unreachable
somewhere.

With any of --canary, --wave, --concurrency, --max-failures, --max-wave-failures,
--pause-after-canary, --pause-between, --order, --unreachable or --detach, apply
starts a staged rollout: the canary first (1 server by default, no failure
tolerated), then waves of --wave servers (a count, a percentage of all targets,
or a list whose last entry repeats), at most --concurrency at once. When more
servers fail than --max-failures allows (default 0), no server starts any more
and the rollout halts. Apply follows it until it has finished, halted or paused
and shows a row per server (as hubgw rollout status); --detach prints its id and
returns at once.
` + rolloutHelp),
		Example: `  hubgw apply -f fleet.yaml --targets all
  hubgw apply -f fleet.yaml --targets 1000010000,europe -o json > applied.json
  hubgw apply -f fleet.yaml --targets all --canary 2 --wave 1,10%,25% --max-failures 3
  hubgw apply -f fleet.yaml --targets all --pause-after-canary --detach`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var req map[string]any
			if staged(cmd) {
				var err error
				if req, err = rf.request(cmd); err != nil {
					return err
				}
			}
			out, b, targets, c, err := a.start(cmd, &f)
			if err != nil {
				return err
			}
			if req != nil {
				return a.applyRollout(cmd, out, b, targets, c, req, rf.detach)
			}
			rep := a.newReporter(cmd, "apply", b.what(targets))
			stop := watchApply(cmd.Context(), c, jobIDs(cmd.Context(), c), rep)
			res, answer, err := c.Apply(cmd.Context(), b.docs, targets)
			stop()
			if err != nil {
				rep.fail()
				return b.refused(err)
			}
			s := res.Summary
			rep.finish(fmt.Sprintf("%d created, %d updated, %d unchanged, %d failed, %d conflicts, %d blocked, %d unreachable, %d skipped, on %d servers (job %s)",
				s.Created, s.Updated, s.Unchanged, s.Failed, s.Conflict, s.Blocked, s.Unreachable, s.Skipped, len(res.Targets), res.JobID))
			if out.Format == FormatJSON {
				err = out.JSON(answer.Body)
			} else {
				err = out.Table([]string{"server", "object", "outcome", "changes or fault"}, applyRows(out, res))
			}
			if err != nil {
				return err
			}
			failed := servers(res.Targets, func(t desired.ApplyTarget) (string, bool) {
				for _, o := range t.Objects {
					if !converged(o.Outcome) {
						return t.Target, true
					}
				}
				return t.Target, false
			})
			if failed != "" {
				return &Exit{Code: ExitFailures, Err: fmt.Errorf("apply finished with failures on %s (job %s)", failed, res.JobID)}
			}
			return nil
		},
	}
	a.addDesiredFlags(cmd, &f)
	addRolloutFlags(cmd, &rf)
	return cmd
}

// converged: the object is as declared after the apply.
func converged(outcome string) bool {
	return outcome == desired.Created || outcome == desired.Updated || outcome == desired.Unchanged
}

func hasAction(objs []desired.PlanObject, action string) bool {
	for _, o := range objs {
		if o.Action == action {
			return true
		}
	}
	return false
}

// servers names the targets pick keeps: "3 of 5 servers (a, b, c)", ""
// when none; at most 5 names.
func servers[T any](targets []T, pick func(T) (string, bool)) string {
	var names []string
	for _, t := range targets {
		if n, ok := pick(t); ok {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return ""
	}
	n := len(names)
	if n > 5 {
		names = append(names[:5], "…")
	}
	return fmt.Sprintf("%d of %d servers (%s)", n, len(targets), strings.Join(names, ", "))
}

func planRows(o *Output, p *desired.PlanResult) [][]string {
	var rows [][]string
	for _, t := range p.Targets {
		for _, ob := range t.Objects {
			rows = append(rows, []string{t.Target, ob.Kind + "/" + ob.Name, o.Paint(ob.Action), changesText(ob.Changes, ob.Reason)})
		}
	}
	return rows
}

func applyRows(o *Output, r *desired.ApplyResult) [][]string {
	var rows [][]string
	for _, t := range r.Targets {
		for _, ob := range t.Objects {
			detail := changesText(ob.Changes, ob.Reason)
			if ob.FaultCode != 0 || ob.FaultString != "" {
				detail = faultText(ob.FaultCode, ob.FaultString, ob.Reason)
			}
			if ob.Partial {
				var calls []string
				for _, s := range ob.Steps {
					if s.FaultCode == 0 {
						calls = append(calls, s.Call)
					}
				}
				detail += " (partial: " + strings.Join(calls, ", ") + " went through)"
			}
			rows = append(rows, []string{t.Target, ob.Kind + "/" + ob.Name, o.Paint(ob.Outcome), detail})
		}
	}
	return rows
}

// changesText is an object's changes for a table cell: "field: have →
// want" each, "field: want" when there is nothing yet; then the reason.
func changesText(changes []desired.Change, reason string) string {
	var parts []string
	for _, c := range changes {
		if c.Have == nil {
			parts = append(parts, c.Field+": "+jsonText(c.Want))
		} else {
			parts = append(parts, c.Field+": "+jsonText(c.Have)+" → "+jsonText(c.Want))
		}
	}
	if reason != "" {
		parts = append(parts, reason)
	}
	if len(parts) == 0 {
		return "-"
	}
	return oneLine(strings.Join(parts, "; "))
}

// jsonText is a decoded value on one line, strings without quotes.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return valueText(b)
}

// planDiff writes a plan as terraform does: per server, each object
// that would change with a mark (+ create, ~ update, ! conflict or
// blocked, ? unknown) and its fields, have and want, as JSON; objects
// already as declared are counted, not listed.
func planDiff(o *Output, p *desired.PlanResult) error {
	var b strings.Builder
	paint := func(c text.Color, s string) string {
		if !o.Color {
			return s
		}
		return text.Colors{c}.Sprint(s)
	}
	quote := func(v any) string {
		j, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(j)
	}
	for i, t := range p.Targets {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s:\n", t.Target)
		same := 0
		for _, ob := range t.Objects {
			obj := ob.Kind + "/" + ob.Name
			switch ob.Action {
			case desired.ActNoop:
				same++
				continue
			case desired.ActCreate:
				fmt.Fprintf(&b, "  %s %s will be created\n", paint(text.FgGreen, "+"), obj)
			case desired.ActUpdate:
				fmt.Fprintf(&b, "  %s %s will be updated\n", paint(text.FgYellow, "~"), obj)
			case desired.ActUnknown:
				fmt.Fprintf(&b, "  %s %s cannot be read: %s\n", paint(text.FgRed, "?"), obj, oneLine(ob.Reason))
			default:
				fmt.Fprintf(&b, "  %s %s is %s: %s\n", paint(text.FgRed, "!"), obj, ob.Action, oneLine(ob.Reason))
			}
			for _, c := range ob.Changes {
				switch {
				case c.Have == nil:
					fmt.Fprintf(&b, "      %s %s: %s\n", paint(text.FgGreen, "+"), c.Field, quote(c.Want))
				case c.Want == nil:
					fmt.Fprintf(&b, "      %s %s: %s\n", paint(text.FgRed, "-"), c.Field, quote(c.Have))
				default:
					fmt.Fprintf(&b, "      %s %s: %s → %s\n", paint(text.FgYellow, "~"), c.Field, quote(c.Have), quote(c.Want))
				}
			}
		}
		switch {
		case same == len(t.Objects):
			fmt.Fprintf(&b, "  no changes (%d objects as declared)\n", same)
		case same > 0:
			fmt.Fprintf(&b, "  = %d more as declared\n", same)
		}
	}
	_, err := fmt.Fprint(o.W, b.String())
	return err
}

func (a *app) exportCmd() *cobra.Command {
	var gateway, from, format string
	cmd := &cobra.Command{
		Use:   "export --from TARGET KIND/NAME [-o yaml|json]",
		Short: "Write one server's object as a document that applies back",
		Long: long(`
Read one object of one server (a SoftwareChannel, ConfigChannel, ActivationKey
or SystemGroup, by its label or name; a key without its org prefix) and write
it to stdout as a document: YAML, or JSON with -o json. Config files come with
their content. The document plans as noop on the server it came from and
applies to others as it is: hubgw export --from hub ActivationKey/web > web.yaml,
then hubgw apply -f web.yaml --targets all.`),
		Example: `  hubgw export --from hub ConfigChannel/fleet-cfg > fleet-cfg.yaml
  hubgw export --from p1.example.org SoftwareChannel/sles15-pool -o json`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{desired.KindSoftwareChannel + "/", desired.KindConfigChannel + "/", desired.KindActivationKey + "/", desired.KindSystemGroup + "/"},
				cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "yaml" && format != FormatJSON {
				return usageError(fmt.Errorf("-o %s: want yaml or json", format))
			}
			kind, name, ok := strings.Cut(args[0], "/")
			if !ok || kind == "" || name == "" {
				return usageError(fmt.Errorf("%q: want KIND/NAME, such as ConfigChannel/fleet-cfg", args[0]))
			}
			if from == "" {
				return usageError(errors.New("which server? give --from TARGET (hub, a peripheral's id, name or FQDN)"))
			}
			c, err := a.client(gateway)
			if err != nil {
				return err
			}
			answer, err := c.Export(cmd.Context(), from, kind, name, format == "yaml")
			if err != nil {
				return err
			}
			o := &Output{W: cmd.OutOrStdout()}
			return o.JSON(answer.Body) // as received, ending in a newline: YAML too
		},
	}
	gatewayFlag(cmd, &gateway)
	cmd.Flags().StringVarP(&format, "output", "o", "yaml", "output format: yaml, or json (the gateway's answer as is)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"yaml", FormatJSON}, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().StringVar(&from, "from", "", "the server to read: hub, a peripheral's id, name or FQDN")
	_ = cmd.RegisterFlagCompletionFunc("from", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return a.completeTargets(cmd, gateway, toComplete)
	})
	return cmd
}
