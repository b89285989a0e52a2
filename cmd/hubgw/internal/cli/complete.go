package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
)

// Shell completion: cobra's own `hubgw completion bash|zsh|fish|powershell`
// writes the scripts; these complete the values that only the gateway
// knows. Completion must never print errors into the shell, so a gateway
// that cannot be reached completes nothing.

// completeFrom completes with what read finds at the gateway; nothing
// when it cannot be reached or read.
func (a *app) completeFrom(cmd *cobra.Command, gateway string, read func(context.Context, *Client) ([]string, error)) ([]string, cobra.ShellCompDirective) {
	c, err := a.client(gateway)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	out, err := read(cmd.Context(), c)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeMethods completes a call's METHOD from the gateway's document.
func (a *app) completeMethods(cmd *cobra.Command, gateway string) ([]string, cobra.ShellCompDirective) {
	return a.completeFrom(cmd, gateway, func(ctx context.Context, c *Client) ([]string, error) {
		d, err := c.document(ctx)
		if err != nil {
			return nil, err
		}
		return d.methods(), nil
	})
}

// completeJobs completes a job ID from the user's recent jobs.
func (a *app) completeJobs(cmd *cobra.Command, gateway string) ([]string, cobra.ShellCompDirective) {
	return a.completeFrom(cmd, gateway, func(ctx context.Context, c *Client) ([]string, error) {
		list, _, err := c.Jobs(ctx, 50)
		ids := make([]string, len(list))
		for i, j := range list {
			ids[i] = j.ID + "\t" + j.Method
		}
		return ids, err
	})
}

// completeRollouts completes a rollout ID from the user's recent ones.
func (a *app) completeRollouts(cmd *cobra.Command, gateway string) ([]string, cobra.ShellCompDirective) {
	return a.completeFrom(cmd, gateway, func(ctx context.Context, c *Client) ([]string, error) {
		list, _, err := c.Rollouts(ctx, 50)
		ids := make([]string, len(list))
		for i, v := range list {
			ids[i] = v.ID + "\t" + v.Status
		}
		return ids, err
	})
}

// completeTargets completes --targets: all, hub and the peripherals' names,
// after the comma-separated ones already typed.
func (a *app) completeTargets(cmd *cobra.Command, gateway, toComplete string) ([]string, cobra.ShellCompDirective) {
	typed := ""
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		typed = toComplete[:i+1]
	}
	names := []string{"all", "hub"}
	if c, err := a.client(gateway); err == nil {
		if ps, err := c.Peripherals(cmd.Context()); err == nil {
			for _, p := range ps {
				names = append(names, p.Name)
			}
		}
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = typed + n
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}
