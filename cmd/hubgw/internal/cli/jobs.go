package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hubgw/hubgw/gateway/jobs"
)

func (a *app) jobsCmd() *cobra.Command {
	var gateway, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "jobs [list | show ID]",
		Short: "Your recorded fan-outs: a list, or one job per server",
		Long: long(`
The fan-outs you started (hubgw call --targets, or any client of the gateway),
newest first: "jobs" and "jobs list" list them; "jobs show ID" shows one, a row
per server with its outcome, duration and value or fault, as hubgw call shows them. -o json
prints the gateway's answer as it came.`),
		Example: `  hubgw jobs
  hubgw jobs show 3f9c2a1e -o json`,
		Args:      cobra.RangeArgs(0, 2),
		ValidArgs: []string{"list", "show"},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			switch {
			case len(args) == 0:
				return []string{"list", "show"}, cobra.ShellCompDirectiveNoFileComp
			case len(args) == 1 && args[0] == "show":
				return a.completeJobs(cmd, gateway)
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := a.newOutput(cmd, format)
			if err != nil {
				return err
			}
			if limit < 1 || limit > 1000 {
				return usageError(fmt.Errorf("--limit %d: want 1 to 1000", limit))
			}
			show := ""
			switch {
			case len(args) == 0 || (len(args) == 1 && args[0] == "list"):
			case len(args) == 2 && args[0] == "show":
				show = args[1]
			case len(args) == 1 && args[0] == "show":
				return usageError(errors.New("jobs show: which job? give its ID (hubgw jobs lists them)"))
			default:
				return usageError(fmt.Errorf("jobs %v: want jobs, jobs list or jobs show ID", args))
			}
			c, err := a.client(gateway)
			if err != nil {
				return err
			}
			if show != "" {
				j, answer, err := c.Job(cmd.Context(), show)
				if err != nil {
					return err
				}
				if out.Format == FormatJSON {
					return out.JSON(answer.Body)
				}
				return showJob(out, j)
			}
			list, answer, err := c.Jobs(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if out.Format == FormatJSON {
				return out.JSON(answer.Body)
			}
			rows := make([][]string, len(list))
			for i, j := range list {
				rows[i] = []string{j.ID, j.Method, out.Paint(string(j.Status)), when(j.Started), tally(j)}
			}
			return out.Table([]string{"id", "method", "status", "started", "servers ok/failed/all"}, rows)
		},
	}
	gatewayFlag(cmd, &gateway)
	addOutputFlag(cmd, &format)
	cmd.Flags().IntVar(&limit, "limit", 50, "list at most this many jobs (1 to 1000)")
	return cmd
}

func tally(j jobs.Job) string {
	return strconv.Itoa(j.Succeeded) + "/" + strconv.Itoa(j.Failed) + "/" + strconv.Itoa(j.Total)
}

// showJob writes a job's summary, then a row per server.
func showJob(out *Output, j *jobs.Job) error {
	ended := "-"
	if j.Ended != nil {
		ended = when(*j.Ended)
	}
	fmt.Fprintf(out.W, "Job %s: %s by %s, %s (servers ok/failed/all: %s)\nStarted %s, ended %s, on replica %s\n\n",
		j.ID, j.Method, j.User, out.Paint(string(j.Status)), tally(*j), when(j.Started), ended, j.Replica)
	// A job's targets are results in the call's words: the same table.
	rs := make([]Result, len(j.Targets))
	for i, t := range j.Targets {
		rs[i] = Result{
			ServerID: t.ServerID, ServerName: t.ServerName, OK: t.OK, Outcome: t.Outcome, Value: t.Value,
			ValueOmitted: t.ValueOmitted, FaultCode: t.FaultCode, FaultString: t.FaultString, Error: t.Error,
			DurationMs: t.DurationMs, Attempts: t.Attempts,
		}
	}
	return out.Table(resultHeader, resultRows(out, rs, nil))
}
