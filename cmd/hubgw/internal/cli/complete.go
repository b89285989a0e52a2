package cli

import (
	"github.com/spf13/cobra"
)

// Shell completion: cobra's own `hubgw completion bash|zsh|fish|powershell`
// writes the scripts; these complete the values that only the gateway
// knows. Completion must never print errors into the shell, so a gateway
// that cannot be reached completes nothing.

// completeMethods completes a call's METHOD from the gateway's document.
func (a *app) completeMethods(cmd *cobra.Command, gateway string) ([]string, cobra.ShellCompDirective) {
	c, err := a.client(gateway)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	d, err := c.document(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return d.methods(), cobra.ShellCompDirectiveNoFileComp
}

// completeJobs completes a job ID from the user's recent jobs.
func (a *app) completeJobs(cmd *cobra.Command, gateway string) ([]string, cobra.ShellCompDirective) {
	c, err := a.client(gateway)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	list, _, err := c.Jobs(cmd.Context(), 50)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ids := make([]string, len(list))
	for i, j := range list {
		ids[i] = j.ID + "\t" + j.Method
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}
